// Service worker bootstrap: loads the wasm (crates/background). The listener is registered here,
// synchronously, because Chrome only delivers events to listeners added on the script's first run.
import init, { handle_message, is_for_background } from './wasm/port_background.js';

const ready = init();

chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
  if (message?.target !== 'background') return false;
  ready.then(() => (is_for_background(message) ? handle_message(message) : null))
    .then(sendResponse, (error) => sendResponse({ error: String(error) }));
  return true;
});
