// Offscreen document bootstrap: loads the wasm (crates/offscreen), which owns the session.
import init from './wasm/port_offscreen.js';

init();
