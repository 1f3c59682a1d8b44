//! The run cycle of a study as a state machine.
//!
//! A study script yields a command and pauses; the engine routes it (pages to the UI; donations, logs
//! and exit to the host), and the answer goes back into the script as the value of its `yield`.
//! [`Session`] is that cycle as a sans-I/O state machine: callers feed it what happened
//! (`on_script_output`, `on_ui_answer`, `on_host_reply`) and perform the [`Action`]s it returns.
//! The browser drives it from events; [`run`] drives it synchronously over a [`Script`] and a
//! [`World`], as the native runner does.
//!
//! **Architecture Invariant:** this crate does no I/O and depends on no pyo3, wasm-bindgen, web-sys or
//! async runtime. Everything here is unit-tested natively.
//!
//! **Architecture Invariant:** nothing reaches a host without passing the consent ledger: a donation
//! leaves at once only when it is verbatim one of the participant's answers (or the runtime's
//! content-free decline record); anything else is shown to the participant on the engine's review
//! page first. Logs, donation keys and the exit info are bounded in size instead.
//!
//! **API Boundary:** [`Session`], [`Action`], [`Script`], [`World`] and [`run`]; the policies the
//! extension's wasm crates follow: [`outbox`] (delivery, backoff, idempotency, the ack deadline),
//! [`extension`] (which session runs, where donations and logs go, which origins may push studies),
//! [`extension_session`] (the session as the offscreen document runs it: views, drafts, files, ack waits),
//! [`consent`] (the JSON a consent form donates) and [`autopilot`].

pub mod autopilot;
mod bounds;
pub mod consent;
mod driver;
mod error_page;
pub mod extension;
pub mod extension_session;
mod ledger;
pub mod outbox;
mod review_page;
mod session;
pub mod snapshot;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use driver::{RunError, RunOutcome, Script, ScriptError, World, WorldError, run};
pub use session::{
    Action, DEFAULT_LOCALE, DonateAnswer, DonateReplyMode, PendingAnswer, SESSION_LOCALES, Session, SessionConfig,
    SessionError, SessionLocale, State, donate_answer, locale_for_browser_language,
};
