// Service worker bootstrap: loads the wasm (crates/background). Listeners are registered here,
// synchronously, because Chrome only delivers events to listeners added on the script's first run.
import init, {
  handle_alarm, handle_message, handle_port_disconnect, handle_port_message, handle_posted_message, handle_startup,
  is_for_background,
} from './wasm/port_background.js';

const ready = init();

chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
  if (message?.target !== 'background') return false;
  ready.then(() => (is_for_background(message) ? handle_message(message) : null))
    .then(sendResponse, (error) => sendResponse({ error: String(error) }));
  return true;
});

// A host page (manifest `externally_connectable`) pushes a study and relays donations over a port.
// Each message waits for the wasm; `then` callbacks run in order, so messages keep their order.
chrome.runtime.onConnectExternal.addListener((port) => {
  port.onMessage.addListener((message) => { ready.then(() => handle_port_message(port, message)); });
  port.onDisconnect.addListener(() => { ready.then(() => handle_port_disconnect(port)); });
});

// The offscreen document hands a donation over with its body as a Blob (structured clone, by
// reference: chrome.runtime messages are JSON and capped at 64 MiB); the reply goes to its port.
self.addEventListener('message', (event) => { ready.then(() => handle_posted_message(event.data, event.ports[0])); });

// The outbox's backstop: wakes a stopped worker when a donation is due again.
chrome.alarms.onAlarm.addListener((alarm) => { ready.then(() => handle_alarm(alarm)); });

// A browser restart: donations the closed browser left in the outbox go on.
chrome.runtime.onStartup.addListener(() => { ready.then(() => handle_startup()); });
