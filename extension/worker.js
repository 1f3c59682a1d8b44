// Pyodide worker bootstrap: loads the wasm (crates/worker), which boots Pyodide and runs the study.
// The listener is added before the wasm is ready, because a message with no listener is lost.
import init, { on_message } from './wasm/port_worker.js';

const ready = init();
self.onmessage = (event) => ready.then(() => on_message(event.data));
