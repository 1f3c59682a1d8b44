//! Wire types of the data donation protocol, compatible with Eyra's feldspar and the D3I fork.
//!
//! The facts these types mirror are in `shared/docs/feldspar-reference.md` (§1 commands and payloads,
//! §2 pages and prompts). Python study scripts yield [`Command`]s; the extension answers with
//! [`Payload`]s.
//!
//! **Architecture Invariant:** this crate holds data types and their JSON mapping only. It does no I/O
//! and knows nothing of browsers or the run cycle. Its one piece of Python, [`COMMAND_JSON_PY`], is
//! the writer of the same wire format on the script's side, kept here so both runners share it.
//!
//! **API Boundary:** everything here is the contract with study scripts and host pages. Wire names
//! are spelled once, on the variant or field that carries them, so searching a wire name finds its type.
//!
//! Decoding never panics. An unknown `__type__` decodes to an `Unsupported` variant that keeps the raw
//! JSON, so newer scripts still parse; a known `__type__` with wrong fields is a [`DecodeError`].

mod command;
mod consent;
mod decode;
pub mod donation_body;
pub mod message;
mod page;
mod payload;
mod prompt;
pub mod study;
mod translatable;
pub mod worker_message;

/// Python source defining `command_to_json(command) -> str`: a script's command as the JSON text
/// [`Command::from_json`] decodes (NaN as `null`, lone surrogates as U+FFFD). The native runner's
/// shim and the extension's worker both run it.
pub const COMMAND_JSON_PY: &str = include_str!("command_json.py");

pub use command::{Command, DonateCommand, EventCommand, ExitCommand, LogCommand, LogLevel, UiRenderCommand};
pub use consent::{ConsentVizTableDonation, DataSubmissionTableDonation, consent_viz_json, data_submission_json};
pub use decode::{DecodeError, strip_nulls};
pub use page::{EndPage, Footer, Header, Page, PageBody};
pub use payload::{DonateResponse, FileRef, Payload};
pub use prompt::{
    ChoiceQuestion, Confirm, ConsentForm, ConsentFormTable, ConsentFormTableViz, ConsentFormViz, ConsentTable,
    ConsentVizTable, DataFrameField, DataSubmissionButtons, FileInput, HelloWorld, OpenQuestion, PageError, Progress,
    Prompt, Question, Questionnaire, RadioInput, RadioItem, Retry, TextPrompt,
};
pub use study::{
    DonateTarget, LogTarget, OutboxRecord, OutboxState, ScriptHashMismatch, ScriptSource, StudyConfig, StudyError,
    StudyOrigin,
};
pub use translatable::{Text, Translatable};
