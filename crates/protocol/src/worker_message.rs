//! Messages inside the extension that are not views ↔ session: offscreen ↔ Pyodide worker
//! (feldspar's worker protocol, fact sheet §3.2) and offscreen/views ↔ background service worker.
//!
//! The worker hop is `postMessage` (structured clone): a message is one of these types as JSON
//! parsed into a JS object, plus, for a `PayloadFile`, a `files` array next to the serde data whose
//! entry `locator` names (as in [`crate::message`]). The background hop is `chrome.runtime`
//! messaging, which serialises to JSON, so no `File` may travel on it.
//!
//! Feldspar's names are kept (`initialise`, `firstRunCycle`, …); its `runCycleDone` carries the
//! command as an object, ours carries it as JSON text, because decoding is the engine's job.

use serde::{Deserialize, Serialize};

use crate::command::{ExitCommand, LogCommand};
use crate::payload::{DonateResponse, Payload};

/// The offscreen document → the Pyodide worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "eventType", rename_all = "camelCase")]
pub enum ToWorker {
    /// Boot Pyodide, install the runtime wheel and load the study script. Answered by
    /// `bootProgress`… then `initialiseDone`, or `error`.
    #[serde(rename_all = "camelCase")]
    Initialise {
        /// The extension folder that holds `pyodide.asm.wasm` and friends, ending in `/`.
        index_url: String,
        /// The runtime wheel (`port-*.whl`), an extension URL.
        wheel_url: String,
        /// Where the study script comes from: an extension URL or the URL it was fetched from. Its
        /// last path segment names the script in tracebacks.
        script_url: String,
        /// The script's text when the offscreen document already has it (inline `source`, or
        /// fetched and checked against `sha256`); `None`: fetch `script_url`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        script_source: Option<String>,
        /// Boot from the memory snapshot made under this key, whose bytes come with the message
        /// (`snapshotBytes`), or else are the `bundled_snapshot`'s; if Pyodide refuses it, or the
        /// bundled one is damaged, boot without it (`snapshotRefused`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        snapshot: Option<String>,
        /// The extension URL of the snapshot the build ships (`build.json`'s `bundled_snapshot`),
        /// which the worker reads itself when no bytes come with the message: tens of megabytes
        /// then never cross from the offscreen document.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bundled_snapshot: Option<String>,
    },
    /// To a worker of its own, which never loads a study: boot afresh, make a memory snapshot of
    /// the booted runtime and send it back (`snapshotMade`, bytes in `snapshotBytes`).
    #[serde(rename_all = "camelCase")]
    MakeSnapshot { index_url: String, wheel_url: String, key: String },
    /// `port.main.start(session_id, platform)` then `send(None)`. Answered by `runCycleDone`.
    #[serde(rename_all = "camelCase")]
    FirstRunCycle {
        session_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        platform: Option<String>,
    },
    /// `send(response)`. Answered by `runCycleDone`.
    NextRunCycle { response: Payload },
}

/// The Pyodide worker → the offscreen document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "eventType", rename_all = "camelCase")]
pub enum FromWorker {
    /// A named boot step started: `step_idx` (1-based) of `n_steps`. For the UI's progress bar.
    #[serde(rename_all = "camelCase")]
    BootProgress { step: String, step_idx: u32, n_steps: u32 },
    /// Pyodide, the runtime and the script are ready.
    InitialiseDone,
    /// The snapshot `makeSnapshot` asked for (Pyodide with the runtime wheel imported and the
    /// glue, no study); its bytes are the message's `snapshotBytes`.
    SnapshotMade { key: String },
    /// The snapshot sent with `initialise` could not be used (`reason`); the worker boots without it.
    SnapshotRefused { key: String, reason: String },
    /// The script's next command, as the JSON text of the dict `ScriptWrapper.send` returned
    /// (field [`COMMAND_JSON_FIELD`]). A donation's `json_string` is `""` there: its UTF-8 bytes
    /// travel beside the message, moved, as [`DONATION_BODY_FIELD`], and the offscreen document
    /// puts them in `donation_body` ([`crate::Command::from_json_and_donation_body`]).
    #[serde(rename_all = "camelCase")]
    RunCycleDone {
        command_json: String,
        #[serde(skip)]
        donation_body: Option<Vec<u8>>,
    },
    /// The runtime failed (boot, or the wrapper itself). `message` may hold a traceback with
    /// participant data: show it locally, never send it to a host.
    Error { message: String },
}

/// The wire name of [`FromWorker::RunCycleDone`]'s `command_json`, for the worker, which puts the
/// JS string there itself rather than copy a large donation through its wasm memory.
pub const COMMAND_JSON_FIELD: &str = "commandJson";

/// The field beside [`FromWorker::RunCycleDone`]'s JSON that carries a donation's `json_string` as
/// UTF-8 bytes (a `Uint8Array` whose buffer is moved, not copied).
pub const DONATION_BODY_FIELD: &str = "donationBody";

/// The number of boot steps the worker reports.
pub const N_BOOT_STEPS: u32 = 3;

/// The boot step in which the study script loads: from its start, what the worker posts may come
/// from the study's code, so nothing it says about snapshots is believed.
pub const STUDY_BOOT_STEP: u32 = 3;

/// A view or the offscreen document → the background service worker, over `chrome.runtime`
/// messaging. Every message has `"target": "background"`, so other contexts that receive the
/// broadcast ignore it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ToBackground {
    /// Make sure a session runs (create the offscreen document if there is none). Reply:
    /// [`SessionInfo`].
    EnsureSession,
    /// Deliver a donation to the host bridge; its body is in Cache Storage
    /// ([`crate::donation_body`]). Reply: a [`DonateOutcome`], or `null` when the bridge gives no
    /// result.
    Donate { session_id: String, donation: crate::donation_body::StoredDonation },
    /// Forward log entries to the host bridge. Reply: `null`.
    Logs { session_id: String, entries: Vec<LogCommand> },
    /// An event for the host, e.g. `initialized`. Reply: `null`.
    Event { session_id: String, name: String },
    /// The study ended. Reply: `null`.
    Exit { session_id: String, exit: ExitCommand },
    /// The session's runtime crashed: the next view that opens starts a fresh session. Reply: `null`.
    SessionCrashed { session_id: String },
    /// Start a fresh session of this study, ending the one that runs. Reply: [`SessionInfo`].
    StartStudy { study_id: String },
    /// The studies the participant can start. Reply: [`StudyListView`].
    ListStudies,
    /// The config of a study in the store, for the offscreen document that runs it. Reply: a
    /// `StudyConfig`, or `null` when there is no such study.
    GetStudy { study_id: String },
    /// Fetch a study config from a study link (https; http on localhost in development), check it
    /// and store it. Reply: [`StudyActionReply`].
    AddStudyLink { url: String },
    /// Fetch a linked study's config again. Reply: [`StudyActionReply`].
    UpdateStudy { study_id: String },
    /// Remove a study from the store (not the embedded demo). Reply: [`StudyActionReply`].
    RemoveStudy { study_id: String },
    /// The donations the local bridge keeps on this device, newest first, for the UI to list and
    /// offer as JSON downloads. Reply: [`LocalDonationList`].
    ListLocalDonations,
}

/// A donation kept by the local bridge (`chrome.storage.local`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalDonationView {
    pub session_id: String,
    pub key: String,
    /// The donated JSON, verbatim, or where it is kept: the UI offers it as `<key>.json`.
    #[serde(flatten)]
    pub body: crate::donation_body::DonationBody,
}

/// The reply to [`ToBackground::ListLocalDonations`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LocalDonationList {
    pub donations: Vec<LocalDonationView>,
}

/// A study as the UI lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyListEntry {
    pub id: String,
    pub title: crate::Text,
    pub version: String,
    /// Where the config came from: `embedded`, `managed`, `link` or `host-page`.
    pub origin: String,
    /// The study link, for a config fetched from one; "update" fetches it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Whether the participant may remove it (not the embedded demo, not managed presets).
    pub removable: bool,
}

/// A study config in the store (`chrome.storage.local`, key `port.studies`), checked before it was
/// stored, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudyRecord {
    pub config: crate::study::StudyConfig,
    /// `link` or `host-page`.
    pub origin: String,
    /// The study link (for `link`) or the host page's origin (for `host-page`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// The reply to [`ToBackground::ListStudies`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StudyListView {
    pub studies: Vec<StudyListEntry>,
    /// The study of the running session, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<String>,
    /// Problems with configs that could not be listed (managed presets), as `StudyError` texts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// The reply to a study-store change: the errors, each a `StudyError` text (`path: message`);
/// empty when it worked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StudyActionReply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub study_id: Option<String>,
    #[serde(default)]
    pub errors: Vec<String>,
}

/// The background's reply to a donation that went into the durable outbox (`donate.mode`
/// `http`, or `host-page` with a host page connected): the result comes later as a
/// [`crate::message::BackgroundMessage::Delivery`], and the script waits at most `ack_timeout_s`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DonateQueued {
    pub idempotency_key: String,
    pub ack_timeout_s: u32,
}

/// What the background answers to [`ToBackground::Donate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DonateOutcome {
    /// In the outbox; see [`DonateQueued`].
    Queued { queued: DonateQueued },
    /// The bridge answered at once (local, dev host).
    Answered(DonateResponse),
    /// The background could not take the donation at all (e.g. storage failed, or the wasm threw:
    /// `background.js` answers a rejected handler with exactly this shape). The offscreen document
    /// answers the script `PayloadResponse { success: false, status: 0, error }`. Listed after
    /// `Answered`, which needs `success`, `key` and `status`, so a bridge answer with an `error`
    /// still decodes as `Answered`.
    Failed { error: String },
}

/// The envelope's `target` field value for [`ToBackground`] messages.
pub const BACKGROUND_TARGET: &str = "background";

/// The reply to [`ToBackground::EnsureSession`]; also what `chrome.storage.session` keeps under
/// [`SESSION_STORAGE_KEY`], so that a restarted service worker finds the running session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub session_id: String,
    /// The study's id; `demo` is the embedded default study.
    pub study_id: String,
    /// The session finished or crashed: the next view that opens starts a fresh one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ended: bool,
    /// The origin of the host page that pushed the study (`live-init`); donations, logs and the
    /// exit go over its port. `None`: the participant started the study.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_origin: Option<String>,
}

/// The `chrome.storage.session` key of the running [`SessionInfo`].
pub const SESSION_STORAGE_KEY: &str = "port.session";

/// The reply the background gives to a donation: the host's answer, if the bridge has one.
pub type DonateReply = Option<DonateResponse>;

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_roundtrip<T>(value: T, json: &str)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        assert_eq!(serde_json::to_string(&value).unwrap(), json);
        assert_eq!(serde_json::from_str::<T>(json).unwrap(), value);
    }

    #[test]
    fn to_worker_initialise_roundtrip() {
        let initialise = |bundled_snapshot: Option<&str>| ToWorker::Initialise {
            index_url: "x/".into(),
            wheel_url: "w.whl".into(),
            script_url: "s.py".into(),
            script_source: None,
            snapshot: Some("k1".into()),
            bundled_snapshot: bundled_snapshot.map(str::to_owned),
        };
        check_roundtrip(
            initialise(None),
            r#"{"eventType":"initialise","indexUrl":"x/","wheelUrl":"w.whl","scriptUrl":"s.py","snapshot":"k1"}"#,
        );
        check_roundtrip(
            initialise(Some("x/runtime.snapshot")),
            r#"{"eventType":"initialise","indexUrl":"x/","wheelUrl":"w.whl","scriptUrl":"s.py","snapshot":"k1","bundledSnapshot":"x/runtime.snapshot"}"#,
        );
        check_roundtrip(
            ToWorker::MakeSnapshot { index_url: "x/".into(), wheel_url: "w.whl".into(), key: "k1".into() },
            r#"{"eventType":"makeSnapshot","indexUrl":"x/","wheelUrl":"w.whl","key":"k1"}"#,
        );
    }

    #[test]
    fn snapshot_messages_roundtrip() {
        check_roundtrip(FromWorker::SnapshotMade { key: "k1".into() }, r#"{"eventType":"snapshotMade","key":"k1"}"#);
        check_roundtrip(
            FromWorker::SnapshotRefused { key: "k1".into(), reason: "bad magic".into() },
            r#"{"eventType":"snapshotRefused","key":"k1","reason":"bad magic"}"#,
        );
    }

    #[test]
    fn to_worker_first_run_cycle_roundtrip() {
        check_roundtrip(
            ToWorker::FirstRunCycle { session_id: "17".into(), platform: None },
            r#"{"eventType":"firstRunCycle","sessionId":"17"}"#,
        );
    }

    #[test]
    fn to_worker_next_run_cycle_roundtrip() {
        check_roundtrip(
            ToWorker::NextRunCycle { response: Payload::True },
            r#"{"eventType":"nextRunCycle","response":{"__type__":"PayloadTrue","value":true}}"#,
        );
    }

    #[test]
    fn from_worker_roundtrip() {
        check_roundtrip(
            FromWorker::BootProgress { step: "pyodide".into(), step_idx: 1, n_steps: 4 },
            r#"{"eventType":"bootProgress","step":"pyodide","stepIdx":1,"nSteps":4}"#,
        );
        check_roundtrip(FromWorker::InitialiseDone, r#"{"eventType":"initialiseDone"}"#);
        check_roundtrip(
            FromWorker::RunCycleDone { command_json: "{}".into(), donation_body: None },
            r#"{"eventType":"runCycleDone","commandJson":"{}"}"#,
        );
        // The body travels beside the JSON, never in it.
        assert_eq!(
            serde_json::to_string(&FromWorker::RunCycleDone {
                command_json: "{}".into(),
                donation_body: Some(b"[1]".to_vec())
            })
            .unwrap(),
            r#"{"eventType":"runCycleDone","commandJson":"{}"}"#
        );
        assert!(
            serde_json::to_string(&FromWorker::RunCycleDone { command_json: String::new(), donation_body: None })
                .unwrap()
                .contains(&format!("\"{COMMAND_JSON_FIELD}\"")),
        );
        check_roundtrip(FromWorker::Error { message: "boom".into() }, r#"{"eventType":"error","message":"boom"}"#);
    }

    #[test]
    fn to_background_roundtrip() {
        check_roundtrip(ToBackground::EnsureSession, r#"{"type":"ensure-session"}"#);
        check_roundtrip(
            ToBackground::Donate {
                session_id: "1".into(),
                donation: crate::donation_body::StoredDonation {
                    key: "1-demo".into(),
                    body: crate::donation_body::StoredBody { n_bytes: 2, sha256: "4f53".into() },
                },
            },
            r#"{"type":"donate","session_id":"1","donation":{"key":"1-demo","body":{"n_bytes":2,"sha256":"4f53"}}}"#,
        );
        check_roundtrip(
            ToBackground::StartStudy { study_id: "demo".into() },
            r#"{"type":"start-study","study_id":"demo"}"#,
        );
        check_roundtrip(
            ToBackground::AddStudyLink { url: "https://x.org/s.json".into() },
            r#"{"type":"add-study-link","url":"https://x.org/s.json"}"#,
        );
    }

    #[test]
    fn donate_outcome_roundtrip() {
        check_roundtrip(
            DonateOutcome::Queued { queued: DonateQueued { idempotency_key: "ab".into(), ack_timeout_s: 2 } },
            r#"{"queued":{"idempotency_key":"ab","ack_timeout_s":2}}"#,
        );
        check_roundtrip(
            DonateOutcome::Answered(DonateResponse { success: true, key: "k".into(), status: 200, error: None }),
            r#"{"success":true,"key":"k","status":200}"#,
        );
        check_roundtrip(
            DonateOutcome::Answered(DonateResponse {
                success: false,
                key: "k".into(),
                status: 503,
                error: Some("busy".into()),
            }),
            r#"{"success":false,"key":"k","status":503,"error":"busy"}"#,
        );
        check_roundtrip(DonateOutcome::Failed { error: "Error: quota".into() }, r#"{"error":"Error: quota"}"#);
    }

    #[test]
    fn list_local_donations_roundtrip() {
        check_roundtrip(ToBackground::ListLocalDonations, r#"{"type":"list-local-donations"}"#);
        check_roundtrip(
            LocalDonationList {
                donations: vec![LocalDonationView {
                    session_id: "1".into(),
                    key: "1-demo".into(),
                    body: crate::donation_body::DonationBody::Inline { json_string: "[]".into() },
                }],
            },
            r#"{"donations":[{"session_id":"1","key":"1-demo","json_string":"[]"}]}"#,
        );
    }

    #[test]
    fn session_info_roundtrip() {
        check_roundtrip(
            SessionInfo { session_id: "1".into(), study_id: "demo".into(), ended: false, host_origin: None },
            r#"{"session_id":"1","study_id":"demo"}"#,
        );
    }
}
