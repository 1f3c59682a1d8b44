// Study worker bootstrap: a classic worker of the sandbox page (sandbox.js), so Pyodide's classic
// build and the wasm glue (crates/worker, built --target no-modules) load with importScripts.
// `self.name` is the extension's base URL. The listener is added before the wasm is ready,
// because a message with no listener is lost.
importScripts(`${self.name}pyodide/pyodide.js`, `${self.name}wasm/port_worker.js`);
const ready = wasm_bindgen({ module_or_path: `${self.name}wasm/port_worker_bg.wasm` });
self.onmessage = (event) => ready.then(() => wasm_bindgen.on_message(event.data));
