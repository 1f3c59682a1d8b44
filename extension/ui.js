// UI view bootstrap (popup, side panel, tab): loads the wasm (crates/ui), which renders the session.
import init from './wasm/port_ui.js';

init();
