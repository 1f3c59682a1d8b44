//! Runs study scripts in an embedded CPython, as the extension's Pyodide worker does.
//!
//! [`PythonScript`] implements `port_engine::Script` over a real interpreter (pyo3). It accepts the
//! two kinds of script the `port` CLI runs ([`ScriptSource`]): a `.py` study on our runtime, which
//! this crate embeds as a wheel ([`RUNTIME_WHEEL`]), or a folder holding a feldspar-style `port/`
//! package that runs unchanged with its own API. A Python shim (`pyodide_shim.py`) gives the
//! interpreter what Pyodide gives a script: an importable `js`, payloads read by attribute, and
//! files read lazily by slices.
//!
//! This crate is not the run cycle: routing commands, pages and donations is `port_engine`'s job.
//!
//! **Architecture Invariant:** Python appears only here (and in the wasm `worker`); the engine sees
//! commands as JSON text and replies as protocol payloads.

mod runtime_wheel;
mod script;
mod shim;

pub use runtime_wheel::{RUNTIME_WHEEL, RUNTIME_WHEEL_NAME, RUNTIME_WHEEL_SHA256, installed_runtime_wheel};
pub use script::{EmbeddedPython, PythonScript, ScriptSource, SessionId, StartError, embedded_python};
