//! Messages between the extension's contexts: UI views ↔ the session in the offscreen document.
//!
//! Views and the offscreen document talk over one `BroadcastChannel` named [`SESSION_CHANNEL`],
//! because it is structured clone: a chosen `File` arrives intact (`chrome.runtime` messaging would
//! turn it into `{}`). Messages are these types converted with serde-wasm-bindgen; a
//! `PayloadFile`'s `locator` names an entry of the message's `files` array, which carries the `File`
//! objects themselves next to the serde data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::page::Page;
use crate::payload::{FileRef, Payload};

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
    /// The view's browser language (`navigator.language`, e.g. `nl-NL`). The first one sets the
    /// session's locale when neither a host page nor the participant did; later ones change
    /// nothing. Sent after `Attach` while the session's locale is unset.
    BrowserLocale { browser_locale: String },
    /// What the participant did so far on page `page_seq` without answering it. The session keeps
    /// the latest draft of the current page, so a view that opens later shows the page as it was
    /// left. The `File`s the draft names travel in the message's `files` array (each
    /// [`FileRef::locator`] indexes it); the session keeps them too.
    Draft { page_seq: u64, draft: PageDraft },
}

/// The participant's unanswered work on one page, as data. Prompts are named by their index in
/// the page's body, as text (`"2"`), and consent tables by `"<prompt idx>/<table idx>"`, because
/// JSON object keys are text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageDraft {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tables: BTreeMap<String, TableDraft>,
    /// The chosen item of each radio prompt, by item index.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub radios: BTreeMap<String, usize>,
    /// The answers of each questionnaire prompt so far; `answers[i]` belongs to question `i`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub questionnaires: BTreeMap<String, Vec<Option<QuestionDraft>>>,
    /// The files chosen in each file-input prompt. `locator` indexes the `files` array that
    /// travels with the message carrying the draft.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, Vec<FileRef>>,
}

/// One consent table as the participant left it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDraft {
    /// The deleted row indices, one list per delete action, oldest first (so undo still works);
    /// their union is what is deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<Vec<usize>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub search: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folded: Option<bool>,
    /// 0-based.
    #[serde(default)]
    pub page_idx: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<usize>,
}

/// An unanswered questionnaire question's input so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum QuestionDraft {
    Open { text: String },
    Choice { choice_idx: Option<usize> },
    Checkbox { ticked: Vec<usize> },
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
    /// The session's locale; `None` until a host page, the first view's browser language or the
    /// participant's switch set it (views then use their browser's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Study title and version, shown so the participant knows which study they are in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study: Option<StudyLabel>,
    /// The session's donations that went into the outbox, oldest first, with where each is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deliveries: Vec<DeliveryView>,
    /// The latest [`ViewMessage::Draft`] of page `page_seq`. Its files travel in the state
    /// message's `files` array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<PageDraft>,
    /// The page is the extension's own (a donation review, a command it could not handle), not
    /// the study's: views mark it so, in a way a study's page cannot copy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub extension_page: bool,
    /// Everything the session handed to the host bridge, once it finished: the participant can
    /// see all that left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<SentView>,
    /// Where the boot's time went, until the study's first command: for developers and benchmarks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boot_trace: Vec<BootMark>,
}

/// One step of the boot, reached `at_ms` milliseconds after the session was asked for (the
/// background's `ensure-session`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootMark {
    pub step: String,
    pub at_ms: u64,
}

/// What a finished session handed to the host bridge, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentView {
    pub donations: Vec<SentDonation>,
    /// As sent: the engine's bounds already cut them.
    pub logs: Vec<crate::LogCommand>,
}

/// A donation handed to the host bridge: its key and the size of its `json_string`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentDonation {
    pub key: String,
    pub n_bytes: u64,
}

/// One donation of the session on its way to the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub key: String,
    pub state: DeliveryState,
    /// The host's HTTP status, once it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// Where a donation is. Pending ones are kept (and retried) until the host has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Rejected,
}

/// The background service worker → the session (offscreen document), on [`SESSION_CHANNEL`]:
/// what happened to a donation in the outbox. Views ignore it.
///
/// On the wire the report's fields sit next to the others, tagged by `state`:
///
/// ```json
/// {"type":"delivery","session_id":"1","idempotency_key":"ab","key":"k","state":"delivered","status":200}
/// {"type":"delivery","session_id":"1","idempotency_key":"ab","key":"k","state":"rejected","status":422,"error":"…"}
/// {"type":"delivery","session_id":"1","idempotency_key":"ab","key":"k","state":"retrying","last_status":503}
/// {"type":"delivery","session_id":"1","idempotency_key":"ab","key":"k","state":"retrying"}
/// ```
///
/// An unknown `type` or `state` is rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum BackgroundMessage {
    /// The outbox record `idempotency_key` of donation `key`, of session `session_id`, had an
    /// attempt with this result.
    Delivery {
        session_id: String,
        idempotency_key: String,
        key: String,
        #[serde(flatten)]
        report: DeliveryReport,
    },
}

/// The result of one attempt to deliver an outbox record, as the session learns it. Each case
/// carries its own data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum DeliveryReport {
    /// The host has the donation: `status` is its 2xx, or 409 for a duplicate an earlier attempt
    /// delivered. Final: the record is gone.
    Delivered { status: u16 },
    /// The host refused the donation for good (a 4xx other than 408, 409 and 429). Final: the
    /// record is gone and not retried. `error` is for people and holds no donated data.
    Rejected { status: u16, error: String },
    /// The attempt failed and the outbox tries again later. `last_status` is the host's HTTP
    /// status (5xx, 408, 429, …); `None` when no HTTP answer came (offline, DNS, TLS, CORS).
    Retrying {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_status: Option<u16>,
    },
}

/// A host page → the extension, over the port of `chrome.runtime.connect(EXTENSION_ID)` (feldspar's
/// host ↔ iframe traffic, fact sheet §3.1, plus the study config).
#[derive(Debug, Clone, PartialEq)]
pub enum FromHostPage {
    /// `{"action": "live-init", "locale": "en", "study": {…port-study/1…}}`: run this study. A
    /// second one replaces the port.
    LiveInit { locale: Option<String>, study: serde_json::Value },
    /// `{"__type__": "DonateSuccess", "key", "status"}`.
    DonateSuccess { key: String, status: u16 },
    /// `{"__type__": "DonateError", "key", "status", "error"}`; `status` 0 is a network error.
    DonateError { key: String, status: u16, error: String },
}

impl FromHostPage {
    /// Reads one port message; an unknown message is an error naming its `action` or `__type__`.
    pub fn from_value(value: &serde_json::Value) -> Result<FromHostPage, String> {
        let text = |name: &str| value.get(name).and_then(serde_json::Value::as_str).map(str::to_owned);
        let status =
            value.get("status").and_then(serde_json::Value::as_u64).unwrap_or(0).min(u64::from(u16::MAX)) as u16;
        if let Some(action) = text("action") {
            return match action.as_str() {
                "live-init" => Ok(FromHostPage::LiveInit {
                    locale: text("locale"),
                    study: value.get("study").cloned().unwrap_or(serde_json::Value::Null),
                }),
                other => Err(format!("unknown action {other:?}")),
            };
        }
        match text("__type__").as_deref() {
            Some("DonateSuccess") => Ok(FromHostPage::DonateSuccess { key: text("key").unwrap_or_default(), status }),
            Some("DonateError") => Ok(FromHostPage::DonateError {
                key: text("key").unwrap_or_default(),
                status,
                error: text("error").unwrap_or_default(),
            }),
            Some(other) => Err(format!("unknown __type__ {other:?}")),
            None => Err("a message without \"action\" or \"__type__\"".into()),
        }
    }
}

/// The extension → a host page, over its port: the script's commands for the host, as feldspar's
/// iframe posts them, and our refusal of a config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "__type__")]
pub enum ToHostPage {
    #[serde(rename = "CommandSystemEvent")]
    Event(crate::EventCommand),
    #[serde(rename = "CommandSystemLog")]
    Log(crate::LogCommand),
    #[serde(rename = "CommandSystemDonate")]
    Donate(crate::DonateCommand),
    /// port's own: a piece of a donation too big for one port message
    /// ([`crate::donation_body::DonatePart`]).
    #[serde(rename = "CommandSystemDonatePart")]
    DonatePart(crate::donation_body::DonatePart),
    #[serde(rename = "CommandSystemExit")]
    Exit(crate::ExitCommand),
    /// port's own: the `live-init` was refused and nothing runs. `message` says why (e.g. names
    /// the origin that is not allowed); `errors` are the config's `StudyError`s (`path: message`).
    #[serde(rename = "PortStudyRefused")]
    StudyRefused { message: String, errors: Vec<String> },
    /// port's own: the study was accepted and runs in the extension.
    #[serde(rename = "PortStudyAccepted")]
    StudyAccepted { study_id: String, session_id: String },
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
            locale: Some("en".into()),
            study: None,
            deliveries: Vec::new(),
            draft: None,
            extension_page: false,
            sent: None,
            boot_trace: Vec::new(),
        });
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(
            json,
            r#"{"type":"state","page_seq":1,"status":{"state":"booting","step":"pyodide","step_idx":1,"n_steps":4},"locale":"en"}"#
        );
        assert_eq!(serde_json::from_str::<SessionMessage>(&json).unwrap(), message);
    }

    #[test]
    fn session_state_finished_with_what_was_sent_roundtrip() {
        let message = SessionMessage::State(SessionView {
            page_seq: 3,
            status: SessionStatus::Finished { code: 0 },
            page: None,
            locale: None,
            study: None,
            deliveries: Vec::new(),
            draft: None,
            extension_page: true,
            sent: Some(SentView {
                donations: vec![SentDonation { key: "1-demo".into(), n_bytes: 12 }],
                logs: vec![crate::LogCommand {
                    level: crate::LogLevel::Info,
                    message: "started".into(),
                    json_string: Some(r#"{"level": "info", "message": "started"}"#.into()),
                }],
            }),
            boot_trace: vec![BootMark { step: "offscreen".into(), at_ms: 120 }],
        });
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(
            json,
            r#"{"type":"state","page_seq":3,"status":{"state":"finished","code":0},"extension_page":true,"sent":{"donations":[{"key":"1-demo","n_bytes":12}],"logs":[{"level":"info","message":"started","json_string":"{\"level\": \"info\", \"message\": \"started\"}"}]},"boot_trace":[{"step":"offscreen","at_ms":120}]}"#
        );
        assert_eq!(serde_json::from_str::<SessionMessage>(&json).unwrap(), message);
    }

    #[test]
    fn view_draft_roundtrip() {
        let draft = PageDraft {
            tables: BTreeMap::from([(
                "2/0".to_owned(),
                TableDraft { deleted: vec![vec![3]], search: "cat".into(), folded: None, page_idx: 1, page_size: None },
            )]),
            radios: BTreeMap::from([("0".to_owned(), 1)]),
            questionnaires: BTreeMap::from([(
                "1".to_owned(),
                vec![Some(QuestionDraft::Open { text: "hi".into() }), None],
            )]),
            files: BTreeMap::from([(
                "0".to_owned(),
                vec![FileRef { name: "ddp.zip".into(), size: 5, locator: "0".into() }],
            )]),
        };
        let message = ViewMessage::Draft { page_seq: 4, draft };
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(
            json,
            r#"{"type":"draft","page_seq":4,"draft":{"tables":{"2/0":{"deleted":[[3]],"search":"cat","page_idx":1}},"radios":{"0":1},"questionnaires":{"1":[{"kind":"open","text":"hi"},null]},"files":{"0":[{"name":"ddp.zip","size":5,"locator":"0"}]}}}"#
        );
        assert_eq!(serde_json::from_str::<ViewMessage>(&json).unwrap(), message);
    }

    #[test]
    fn view_browser_locale_roundtrip() {
        let message = ViewMessage::BrowserLocale { browser_locale: "nl-NL".into() };
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(json, r#"{"type":"browser-locale","browser_locale":"nl-NL"}"#);
        assert_eq!(serde_json::from_str::<ViewMessage>(&json).unwrap(), message);
    }

    #[test]
    fn to_host_page_roundtrip() {
        let message = ToHostPage::Donate(crate::DonateCommand { key: "k".into(), json_string: "[]".into() });
        let json = serde_json::to_string(&message).unwrap();
        assert_eq!(json, r#"{"__type__":"CommandSystemDonate","key":"k","json_string":"[]"}"#);
        assert_eq!(serde_json::from_str::<ToHostPage>(&json).unwrap(), message);
        let event = ToHostPage::Event(crate::EventCommand { name: "initialized".into() });
        assert_eq!(serde_json::to_string(&event).unwrap(), r#"{"__type__":"CommandSystemEvent","name":"initialized"}"#);
    }

    #[test]
    fn from_host_page_reads_live_init_and_replies() {
        let live_init = serde_json::json!({"action": "live-init", "locale": "nl", "study": {"id": "x"}});
        assert_eq!(
            FromHostPage::from_value(&live_init),
            Ok(FromHostPage::LiveInit { locale: Some("nl".into()), study: serde_json::json!({"id": "x"}) })
        );
        let success = serde_json::json!({"__type__": "DonateSuccess", "key": "k", "status": 200});
        assert_eq!(
            FromHostPage::from_value(&success),
            Ok(FromHostPage::DonateSuccess { key: "k".into(), status: 200 })
        );
        let error = serde_json::json!({"__type__": "DonateError", "key": "k", "status": 0, "error": "offline"});
        assert_eq!(
            FromHostPage::from_value(&error),
            Ok(FromHostPage::DonateError { key: "k".into(), status: 0, error: "offline".into() })
        );
        assert!(FromHostPage::from_value(&serde_json::json!({"__type__": "Nope"})).is_err());
    }

    #[track_caller]
    fn check_roundtrip<T>(value: T, json: &str)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        assert_eq!(serde_json::to_string(&value).unwrap(), json);
        assert_eq!(serde_json::from_str::<T>(json).unwrap(), value);
    }

    fn delivery(report: DeliveryReport) -> BackgroundMessage {
        BackgroundMessage::Delivery { session_id: "1".into(), idempotency_key: "ab".into(), key: "k".into(), report }
    }

    #[test]
    fn background_delivery_roundtrip() {
        check_roundtrip(
            delivery(DeliveryReport::Delivered { status: 200 }),
            r#"{"type":"delivery","session_id":"1","idempotency_key":"ab","key":"k","state":"delivered","status":200}"#,
        );
        check_roundtrip(
            delivery(DeliveryReport::Rejected { status: 422, error: "the host refused the donation: HTTP 422".into() }),
            r#"{"type":"delivery","session_id":"1","idempotency_key":"ab","key":"k","state":"rejected","status":422,"error":"the host refused the donation: HTTP 422"}"#,
        );
        check_roundtrip(
            delivery(DeliveryReport::Retrying { last_status: Some(503) }),
            r#"{"type":"delivery","session_id":"1","idempotency_key":"ab","key":"k","state":"retrying","last_status":503}"#,
        );
        check_roundtrip(
            delivery(DeliveryReport::Retrying { last_status: None }),
            r#"{"type":"delivery","session_id":"1","idempotency_key":"ab","key":"k","state":"retrying"}"#,
        );
    }

    #[test]
    fn background_delivery_without_its_case_data_is_rejected() {
        let decode = |json: &str| serde_json::from_str::<BackgroundMessage>(json).map_err(|error| error.to_string());
        // A rejection without its error, a delivery without its status, the old `pending` state.
        let base = r#""type":"delivery","session_id":"1","idempotency_key":"ab","key":"k""#;
        assert!(decode(&format!(r#"{{{base},"state":"rejected","status":422}}"#)).is_err());
        assert!(decode(&format!(r#"{{{base},"state":"delivered"}}"#)).is_err());
        assert!(decode(&format!(r#"{{{base},"state":"pending"}}"#)).is_err());
    }
}
