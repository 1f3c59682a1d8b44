//! Messages between the extension's contexts: UI views ↔ the session in the offscreen document.
//!
//! Views and the offscreen document talk over one `BroadcastChannel` named [`SESSION_CHANNEL`],
//! because it is structured clone: a chosen `File` arrives intact (`chrome.runtime` messaging would
//! turn it into `{}`). Messages are these types converted with serde-wasm-bindgen; a
//! `PayloadFile`'s `locator` names an entry of the message's `files` array, which carries the `File`
//! objects themselves next to the serde data.

use serde::{Deserialize, Serialize};

use crate::page::Page;
use crate::payload::Payload;

/// The name of the `BroadcastChannel` shared by UI views and the offscreen document.
pub const SESSION_CHANNEL: &str = "port-session";

/// A UI view (popup, side panel or tab) → the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ViewMessage {
    /// A view opened: the session answers with its current [`SessionView`].
    Attach,
    /// The participant answered the page with sequence number `page_seq`. Answers to a page that is
    /// no longer current are ignored, so two open views cannot answer twice.
    Answer { page_seq: u64, payload: Payload },
    /// The participant chose another locale; every view re-renders in it.
    SetLocale { locale: String },
}

/// The session → every UI view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum SessionMessage {
    /// What every view should show now. Sent after each change and in answer to `Attach`.
    State(SessionView),
}

/// Everything a view needs to render the session. A view keeps no state of its own that matters:
/// closing it loses nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    /// Increases with every page; an answer names the page it answers.
    pub page_seq: u64,
    pub status: SessionStatus,
    /// The page on screen, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<Page>,
    pub locale: String,
    /// Study title and version, shown so the participant knows which study they are in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<StudyLabel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyLabel {
    pub title: String,
    pub version: String,
}

/// Where the session is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum SessionStatus {
    /// No study is running.
    Idle,
    /// The runtime is starting; `step` names the step, `step_idx` of `n_steps`.
    Booting { step: String, step_idx: u32, n_steps: u32 },
    /// A page waits for the participant.
    AwaitingParticipant,
    /// The script or the host is working; the last page stays up.
    Working,
    /// The study ended with this exit code.
    Finished { code: i64 },
    /// The runtime failed; `page` shows the error.
    Crashed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_answer_roundtrip() {
        let message = ViewMessage::Answer { page_seq: 3, payload: Payload::True };
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(json, r#"{"type":"answer","page_seq":3,"payload":{"__type__":"PayloadTrue","value":true}}"#);
        assert_eq!(serde_json::from_str::<ViewMessage>(&json).unwrap(), message);
    }

    #[test]
    fn session_state_roundtrip() {
        let message = SessionMessage::State(SessionView {
            page_seq: 1,
            status: SessionStatus::Booting { step: "pyodide".into(), step_idx: 1, n_steps: 4 },
            page: None,
            locale: "en".into(),
            study: None,
        });
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(
            json,
            r#"{"type":"state","page_seq":1,"status":{"state":"booting","step":"pyodide","step_idx":1,"n_steps":4},"locale":"en"}"#
        );
        assert_eq!(serde_json::from_str::<SessionMessage>(&json).unwrap(), message);
    }
}
