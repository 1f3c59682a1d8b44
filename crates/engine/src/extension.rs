//! Decisions of the browser extension that are more than wiring: which session runs, which study
//! is listed and may be removed, where a donation, a log or an event goes, which host page may
//! push a study, what a host page's reply means for the outbox (and which record it answers), what
//! a bridge's HTTP status means, what the session is told about a delivery, and how locally kept
//! donations are listed.
//!
//! **Architecture Invariant:** no I/O; the wasm crates call these and perform the result.

use port_protocol::donation_body::DonationBody;
use port_protocol::message::{DeliveryReport, FromHostPage};
use port_protocol::study::{DonateTarget, OutboxRecord, OutboxState, StudyConfig};
use port_protocol::worker_message::{LocalDonationList, LocalDonationView, SessionInfo, StudyListEntry, StudyRecord};
use port_protocol::{DonateResponse, LogCommand, LogLevel};

use crate::outbox::{DeliveryResult, RetryableFailure, classify_http_status};

/// The embedded study that is always available and cannot be removed.
pub const DEFAULT_STUDY_ID: &str = "demo";

/// Why a session is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRequest<'a> {
    /// A view opened (or asked for "the" session).
    Attach,
    /// The participant or a host page starts this study.
    Start { study_id: &'a str, host_origin: Option<&'a str> },
    /// A host page pushed this study (`live-init`), perhaps again: after a reload, a reconnect, or
    /// a restart of the service worker that lost its port. `config_changed`: the pushed config
    /// differs from the one the store holds for this study id.
    HostInit { study_id: &'a str, host_origin: &'a str, config_changed: bool },
}

/// What the background must do about the offscreen document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionPlan {
    /// The running session stays.
    Keep(SessionInfo),
    /// Start a new session of this study; close the old offscreen document first when
    /// `close_old`.
    StartFresh { study_id: String, host_origin: Option<String>, close_old: bool },
}

/// A view keeps a live session; a finished or crashed one (or none) gives way to a fresh session
/// of the same study. Starting a study always starts afresh.
///
/// A host page's `live-init` for the study that runs live from its origin, with the same config,
/// keeps the session: the caller adopts the new port and sends the unanswered donations again. A
/// reloaded host page must not restart the participant's session. Anything else starts afresh.
pub fn plan_session(current: Option<&SessionInfo>, offscreen_exists: bool, request: SessionRequest<'_>) -> SessionPlan {
    match request {
        SessionRequest::HostInit { study_id, host_origin, config_changed } => match current {
            Some(info)
                if offscreen_exists
                    && !info.ended
                    && !config_changed
                    && info.study_id == study_id
                    && info.host_origin.as_deref() == Some(host_origin) =>
            {
                SessionPlan::Keep(info.clone())
            }
            _ => SessionPlan::StartFresh {
                study_id: study_id.to_owned(),
                host_origin: Some(host_origin.to_owned()),
                close_old: offscreen_exists,
            },
        },
        SessionRequest::Start { study_id, host_origin } => SessionPlan::StartFresh {
            study_id: study_id.to_owned(),
            host_origin: host_origin.map(str::to_owned),
            close_old: offscreen_exists,
        },
        SessionRequest::Attach => match current {
            Some(info) if offscreen_exists && !info.ended => SessionPlan::Keep(info.clone()),
            Some(info) => SessionPlan::StartFresh {
                study_id: info.study_id.clone(),
                // The host page's port belonged to the old session; a fresh one the participant
                // opens runs without it.
                host_origin: None,
                close_old: offscreen_exists,
            },
            None => SessionPlan::StartFresh {
                study_id: DEFAULT_STUDY_ID.to_owned(),
                host_origin: None,
                close_old: offscreen_exists,
            },
        },
    }
}

/// How a donation leaves the extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DonationRoute {
    /// Through the durable outbox, by this channel.
    Outbox(OutboxChannel),
    /// The configured bridge (local storage or the dev host), answered at once.
    Bridge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxChannel {
    /// POST to this URL.
    Http { url: String },
    /// Over the port of the host page that pushed the study.
    HostPage,
}

/// `donate.mode` `http` goes to the outbox; `host-page` too when a host page started the session;
/// a host-page study the participant started, and `local`, use the bridge.
pub fn donation_route(target: Option<&DonateTarget>, host_origin: Option<&str>) -> DonationRoute {
    match (target, host_origin) {
        (Some(DonateTarget::Http { url }), _) => DonationRoute::Outbox(OutboxChannel::Http { url: url.clone() }),
        (Some(DonateTarget::HostPage), Some(_)) => DonationRoute::Outbox(OutboxChannel::HostPage),
        _ => DonationRoute::Bridge,
    }
}

/// Whether `origin` (`scheme://host[:port]`) matches one of the manifest's
/// `externally_connectable.matches` patterns (`scheme://host/*`, `*.` host wildcards; a pattern
/// without a port matches every port, as Chrome's do).
pub fn origin_allowed(origin: &str, patterns: &[String]) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else { return false };
    let host = rest.split('/').next().unwrap_or("");
    let (host_name, port) = split_port(host);
    patterns.iter().any(|pattern| {
        let Some((pattern_scheme, pattern_rest)) = pattern.split_once("://") else { return false };
        let scheme_matches = pattern_scheme == scheme || (pattern_scheme == "*" && matches!(scheme, "http" | "https"));
        let pattern_host = pattern_rest.split('/').next().unwrap_or("");
        let (pattern_host_name, pattern_port) = split_port(pattern_host);
        let host_matches = match pattern_host_name.strip_prefix("*.") {
            Some(suffix) => host_name == suffix || host_name.ends_with(&format!(".{suffix}")),
            None => pattern_host_name == "*" || pattern_host_name == host_name,
        };
        let port_matches = pattern_port.is_none() || pattern_port == Some("*") || pattern_port == port;
        scheme_matches && host_matches && port_matches
    })
}

fn split_port(host: &str) -> (&str, Option<&str>) {
    match host.rsplit_once(':') {
        Some((name, port))
            if !name.is_empty() && !name.ends_with(']') || host.starts_with('[') && name.ends_with(']') =>
        {
            (name, Some(port))
        }
        _ => (host, None),
    }
}

/// A study link must be https; http only on localhost or 127.0.0.1, and only in a development
/// build. The error says what to do.
pub fn check_study_link(url: &str, development_build: bool) -> Result<(), String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("{url:?} is not a URL; paste an https link"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host_name, _) = split_port(host);
    match scheme {
        "https" if !host_name.is_empty() => Ok(()),
        "http" if matches!(host_name, "localhost" | "127.0.0.1") && development_build => Ok(()),
        "http" if matches!(host_name, "localhost" | "127.0.0.1") => {
            Err("http study links work only in development builds; use https".into())
        }
        _ => Err(format!("a study link must be https (http only for localhost or 127.0.0.1), got {url:?}")),
    }
}

/// What a host page's reply means for the outbox, keyed by the donation's key.
pub fn host_page_result(reply: &FromHostPage) -> Option<(String, DeliveryResult)> {
    match reply {
        FromHostPage::LiveInit { .. } => None,
        FromHostPage::DonateSuccess { key, status } => {
            // A success without a usable status is still a success.
            let status = if (200..300).contains(status) { *status } else { 200 };
            Some((key.clone(), DeliveryResult::Delivered { status }))
        }
        FromHostPage::DonateError { key, status: 0, error } => {
            Some((key.clone(), DeliveryResult::RetryableFailure(RetryableFailure::Network { error: error.clone() })))
        }
        FromHostPage::DonateError { key, status, error } => {
            let result = match classify_http_status(*status) {
                // A host page that reports an error with a 2xx status still failed.
                DeliveryResult::Delivered { .. } => {
                    DeliveryResult::RetryableFailure(RetryableFailure::Network { error: error.clone() })
                }
                DeliveryResult::Rejected { status, .. } => {
                    DeliveryResult::Rejected { status, error: format!("the host refused the donation: {error}") }
                }
                other => other,
            };
            Some((key.clone(), result))
        }
    }
}

/// The outbox record a host page's reply about donation `key` answers: among the records of
/// `study_id`, those of the running session first (the `error-report` key has no session prefix,
/// so a key alone may name records of several sessions), then those of older sessions; an attempt
/// under way (`Sending`) before a waiting one; the oldest first. `None`: nothing is pending.
pub fn host_reply_record<'a>(
    records: impl IntoIterator<Item = &'a OutboxRecord>,
    key: &str,
    study_id: &str,
    running_session_id: Option<&str>,
) -> Option<String> {
    records
        .into_iter()
        .enumerate()
        .filter(|(_, record)| record.key == key && record.study_id == study_id)
        .min_by_key(|(index, record)| {
            (Some(record.session_id.as_str()) != running_session_id, record.state != OutboxState::Sending, *index)
        })
        .map(|(_, record)| record.idempotency_key.clone())
}

/// What the background tells the session about an attempt's `result`: delivered (409 for a
/// duplicate), rejected with its error, or retrying with the host's last status (none for a
/// network failure). It matches what [`crate::outbox::Outbox::on_result`] does with the record.
pub fn delivery_report(result: &DeliveryResult) -> DeliveryReport {
    match result {
        DeliveryResult::Delivered { status } => DeliveryReport::Delivered { status: *status },
        DeliveryResult::Duplicate409 => DeliveryReport::Delivered { status: 409 },
        DeliveryResult::Rejected { status, error } => {
            DeliveryReport::Rejected { status: *status, error: error.clone() }
        }
        DeliveryResult::RetryableFailure(RetryableFailure::Status(status)) => {
            DeliveryReport::Retrying { last_status: Some(*status) }
        }
        DeliveryResult::RetryableFailure(RetryableFailure::Network { .. }) => {
            DeliveryReport::Retrying { last_status: None }
        }
    }
}

/// What the script is told when a bridge (the dev host) answered a donation with `result`
/// ([`classify_http_status`], or a network failure): delivered and duplicate (409) are a success.
pub fn bridge_donate_response(key: &str, result: &DeliveryResult) -> DonateResponse {
    let failure =
        |status: u16, error: String| DonateResponse { success: false, key: key.to_owned(), status, error: Some(error) };
    match result {
        DeliveryResult::Delivered { status } => {
            DonateResponse { success: true, key: key.to_owned(), status: *status, error: None }
        }
        DeliveryResult::Duplicate409 => DonateResponse { success: true, key: key.to_owned(), status: 409, error: None },
        DeliveryResult::Rejected { status, error } => failure(*status, error.clone()),
        DeliveryResult::RetryableFailure(RetryableFailure::Status(status)) => {
            failure(*status, format!("the host answered {status}"))
        }
        DeliveryResult::RetryableFailure(RetryableFailure::Network { error }) => failure(0, error.clone()),
    }
}

/// Where logs, events and the exit of a session go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRoute {
    /// POST to the study's `logs.url` (logs only).
    LogsUrl { url: String },
    /// Over the port of the host page that started the session.
    HostPage,
    /// The configured bridge: the console (local) or the dev host.
    Bridge,
}

/// Logs go to the study's `logs.url` if it has one, else to the host page that started the
/// session, else to the bridge. `config` and `host_origin` are the running session's.
pub fn log_route(config: Option<&StudyConfig>, host_origin: Option<&str>) -> HostRoute {
    match config.and_then(|config| config.logs.as_ref()) {
        Some(logs) => HostRoute::LogsUrl { url: logs.url.clone() },
        None => event_route(config, host_origin),
    }
}

/// Events and the exit go to the host page that started the session, else to the bridge.
pub fn event_route(config: Option<&StudyConfig>, host_origin: Option<&str>) -> HostRoute {
    match (config, host_origin) {
        (Some(_), Some(_)) => HostRoute::HostPage,
        _ => HostRoute::Bridge,
    }
}

/// A log entry as feldspar's iframe posts it to the host: its `json_string` rebuilt from the
/// normalised level and the message, so that mono always parses one of debug|info|warn|error
/// (the script's own `json_string` may say `WARNING`).
pub fn host_page_log(entry: &LogCommand) -> LogCommand {
    LogCommand::new(entry.level, entry.message.clone())
}

/// The PII-free log entry for a JS or wasm error: where it happened and the error's name only
/// (`TypeError`), never its message or stack, which may hold participant data. A name that is not
/// a plain identifier becomes `Error`.
pub fn error_log(context: &str, error_name: &str) -> LogCommand {
    let plain = !error_name.is_empty()
        && error_name.len() <= 64
        && error_name.chars().all(|char| char.is_ascii_alphanumeric() || char == '_');
    let name = if plain { error_name } else { "Error" };
    LogCommand::new(LogLevel::Error, format!("{context}: {name}"))
}

/// A donation the local bridge keeps (`port.donation.<session_id>.<key>` in
/// `chrome.storage.local`); `stored_at_ms` is 0 for records written before it was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalDonation {
    pub session_id: String,
    pub key: String,
    pub body: DonationBody,
    pub stored_at_ms: u64,
}

/// The prefix of the local bridge's donation records.
pub const LOCAL_DONATION_PREFIX: &str = "port.donation.";

/// The storage key of a local donation.
pub fn local_donation_storage_key(session_id: &str, key: &str) -> String {
    format!("{LOCAL_DONATION_PREFIX}{session_id}.{key}")
}

/// The session id and key of a local donation's storage key (session ids have no dot; keys may).
pub fn parse_local_donation_storage_key(storage_key: &str) -> Option<(String, String)> {
    let rest = storage_key.strip_prefix(LOCAL_DONATION_PREFIX)?;
    let (session_id, key) = rest.split_once('.')?;
    (!session_id.is_empty() && !key.is_empty()).then(|| (session_id.to_owned(), key.to_owned()))
}

/// The local donations as the UI lists them: newest first; records of the same time by session
/// (the newer session id first), then by key.
pub fn local_donation_list(mut donations: Vec<LocalDonation>) -> LocalDonationList {
    donations.sort_by(|a, b| {
        b.stored_at_ms
            .cmp(&a.stored_at_ms)
            .then_with(|| (b.session_id.len(), &b.session_id).cmp(&(a.session_id.len(), &a.session_id)))
            .then_with(|| a.key.cmp(&b.key))
    });
    LocalDonationList {
        donations: donations
            .into_iter()
            .map(|donation| LocalDonationView {
                session_id: donation.session_id,
                key: donation.key,
                body: donation.body,
            })
            .collect(),
    }
}

/// The studies the participant sees, in order: the embedded ones, managed presets, then the
/// store's. A stored study whose id an embedded or managed one has is hidden by it.
pub fn study_list(embedded: &[StudyConfig], managed: &[StudyConfig], stored: &[StudyRecord]) -> Vec<StudyListEntry> {
    let mut entries: Vec<StudyListEntry> = Vec::new();
    let entry = |config: &StudyConfig, origin: &str, link: Option<String>, removable: bool| StudyListEntry {
        id: config.id.clone(),
        title: config.title.clone(),
        version: config.version.clone(),
        origin: origin.to_owned(),
        link,
        removable,
    };
    for config in embedded {
        entries.push(entry(config, "embedded", None, false));
    }
    for config in managed {
        if !entries.iter().any(|listed| listed.id == config.id) {
            entries.push(entry(config, "managed", None, false));
        }
    }
    for record in stored {
        if !entries.iter().any(|listed| listed.id == record.config.id) {
            let link = (record.origin == "link").then(|| record.source.clone()).flatten();
            entries.push(entry(&record.config, &record.origin, link, record.config.id != DEFAULT_STUDY_ID));
        }
    }
    entries
}

/// Whether the participant may remove the study `study_id` from the store.
pub fn may_remove(study_id: &str, embedded: &[StudyConfig], managed: &[StudyConfig]) -> bool {
    study_id != DEFAULT_STUDY_ID && !embedded.iter().chain(managed).any(|config| config.id == study_id)
}

#[cfg(test)]
mod tests {
    use port_protocol::study::StudyOrigin;

    use super::*;

    fn info(ended: bool) -> SessionInfo {
        SessionInfo { session_id: "1".into(), study_id: "s".into(), ended, host_origin: Some("http://h".into()) }
    }

    fn config(id: &str) -> StudyConfig {
        let text = format!(
            r#"{{"schema":"port-study/1","id":"{id}","version":"1","title":"T","description":"D",
                "script":{{"source":"x"}},"locales":["en"],"donate":{{"mode":"local"}}}}"#
        );
        StudyConfig::parse(&text, StudyOrigin::External).unwrap()
    }

    #[test]
    fn session_attach_keeps_a_live_session() {
        assert_eq!(plan_session(Some(&info(false)), true, SessionRequest::Attach), SessionPlan::Keep(info(false)));
    }

    #[test]
    fn session_attach_after_the_end_starts_the_same_study_fresh_without_the_host() {
        let fresh = SessionPlan::StartFresh { study_id: "s".into(), host_origin: None, close_old: true };
        assert_eq!(plan_session(Some(&info(true)), true, SessionRequest::Attach), fresh);
        let no_document = SessionPlan::StartFresh { study_id: "s".into(), host_origin: None, close_old: false };
        assert_eq!(plan_session(Some(&info(false)), false, SessionRequest::Attach), no_document);
    }

    #[test]
    fn session_attach_without_any_starts_the_demo() {
        let fresh = SessionPlan::StartFresh { study_id: "demo".into(), host_origin: None, close_old: false };
        assert_eq!(plan_session(None, false, SessionRequest::Attach), fresh);
    }

    #[test]
    fn session_start_always_starts_fresh() {
        let request = SessionRequest::Start { study_id: "x", host_origin: Some("http://127.0.0.1:5") };
        let fresh = SessionPlan::StartFresh {
            study_id: "x".into(),
            host_origin: Some("http://127.0.0.1:5".into()),
            close_old: true,
        };
        assert_eq!(plan_session(Some(&info(false)), true, request), fresh);
    }

    #[test]
    fn donation_route_follows_mode_and_host_page() {
        let http = DonateTarget::Http { url: "https://h/d".into() };
        assert_eq!(
            donation_route(Some(&http), None),
            DonationRoute::Outbox(OutboxChannel::Http { url: "https://h/d".into() })
        );
        assert_eq!(
            donation_route(Some(&DonateTarget::HostPage), Some("http://h")),
            DonationRoute::Outbox(OutboxChannel::HostPage)
        );
        assert_eq!(donation_route(Some(&DonateTarget::HostPage), None), DonationRoute::Bridge);
        assert_eq!(donation_route(Some(&DonateTarget::Local), Some("http://h")), DonationRoute::Bridge);
        assert_eq!(donation_route(None, None), DonationRoute::Bridge);
    }

    #[test]
    fn origin_allowed_matches_chrome_patterns() {
        let patterns =
            vec!["http://127.0.0.1/*".to_owned(), "http://localhost/*".to_owned(), "https://*.eyra.co/*".to_owned()];
        assert!(origin_allowed("http://127.0.0.1:8787", &patterns));
        assert!(origin_allowed("http://localhost", &patterns));
        assert!(origin_allowed("https://next.eyra.co", &patterns));
        assert!(origin_allowed("https://eyra.co", &patterns));
        assert!(!origin_allowed("http://127.0.0.2:8787", &patterns));
        assert!(!origin_allowed("https://127.0.0.1", &patterns));
        assert!(!origin_allowed("https://evil-eyra.co", &patterns));
        assert!(!origin_allowed("null", &patterns));
    }

    #[test]
    fn study_link_is_https_or_local_http_in_development() {
        assert_eq!(check_study_link("https://example.org/s.json", false), Ok(()));
        assert_eq!(check_study_link("http://127.0.0.1:9/s.json", true), Ok(()));
        assert!(check_study_link("http://127.0.0.1:9/s.json", false).unwrap_err().contains("development"));
        assert!(check_study_link("http://example.org/s.json", true).unwrap_err().contains("https"));
        assert!(check_study_link("example.org", true).is_err());
    }

    #[test]
    fn host_page_replies_become_delivery_results() {
        let success = FromHostPage::DonateSuccess { key: "k".into(), status: 200 };
        assert_eq!(host_page_result(&success), Some(("k".into(), DeliveryResult::Delivered { status: 200 })));
        let offline = FromHostPage::DonateError { key: "k".into(), status: 0, error: "offline".into() };
        assert!(matches!(host_page_result(&offline), Some((_, DeliveryResult::RetryableFailure(_)))));
        let unavailable = FromHostPage::DonateError { key: "k".into(), status: 503, error: "busy".into() };
        assert!(matches!(host_page_result(&unavailable), Some((_, DeliveryResult::RetryableFailure(_)))));
        let refused = FromHostPage::DonateError { key: "k".into(), status: 400, error: "bad".into() };
        assert!(matches!(host_page_result(&refused), Some((_, DeliveryResult::Rejected { status: 400, .. }))));
    }

    fn host_init(study_id: &str, host_origin: &str, config_changed: bool) -> SessionRequest<'static> {
        let study_id: &'static str = Box::leak(study_id.to_owned().into_boxed_str());
        let host_origin: &'static str = Box::leak(host_origin.to_owned().into_boxed_str());
        SessionRequest::HostInit { study_id, host_origin, config_changed }
    }

    #[test]
    fn session_host_init_of_the_running_study_keeps_it_for_a_new_port() {
        // The host page reloaded (or the worker restarted and lost its port): same study, same
        // origin, same config, the session runs. It goes on; it is not restarted.
        assert_eq!(
            plan_session(Some(&info(false)), true, host_init("s", "http://h", false)),
            SessionPlan::Keep(info(false))
        );
    }

    #[test]
    fn session_host_init_starts_fresh_otherwise() {
        let fresh = |close_old| SessionPlan::StartFresh {
            study_id: "s".into(),
            host_origin: Some("http://h".into()),
            close_old,
        };
        assert_eq!(plan_session(None, false, host_init("s", "http://h", false)), fresh(false));
        assert_eq!(plan_session(Some(&info(true)), true, host_init("s", "http://h", false)), fresh(true));
        assert_eq!(plan_session(Some(&info(false)), false, host_init("s", "http://h", false)), fresh(false));
        assert_eq!(plan_session(Some(&info(false)), true, host_init("s", "http://h", true)), fresh(true));
        assert_eq!(
            plan_session(Some(&info(false)), true, host_init("s", "http://other", false)),
            SessionPlan::StartFresh { study_id: "s".into(), host_origin: Some("http://other".into()), close_old: true }
        );
        let other_study =
            SessionPlan::StartFresh { study_id: "t".into(), host_origin: Some("http://h".into()), close_old: true };
        assert_eq!(plan_session(Some(&info(false)), true, host_init("t", "http://h", false)), other_study);
        let participant_started = SessionInfo { host_origin: None, ..info(false) };
        assert_eq!(plan_session(Some(&participant_started), true, host_init("s", "http://h", false)), fresh(true));
    }

    fn record(study_id: &str, session_id: &str, key: &str, state: OutboxState) -> OutboxRecord {
        OutboxRecord {
            study_id: study_id.into(),
            session_id: session_id.into(),
            key: key.into(),
            body: DonationBody::Inline { json_string: "{}".into() },
            idempotency_key: format!("{study_id}/{session_id}/{key}/{state:?}"),
            attempts: 1,
            next_attempt_at_ms: 0,
            state,
            last_error: None,
        }
    }

    #[test]
    fn host_reply_matches_the_running_session_first() {
        let records = vec![
            record("s", "1", "error-report", OutboxState::Sending),
            record("s", "2", "error-report", OutboxState::Pending),
            record("t", "2", "error-report", OutboxState::Sending),
        ];
        assert_eq!(
            host_reply_record(&records, "error-report", "s", Some("2")).as_deref(),
            Some("s/2/error-report/Pending")
        );
        // Nothing of the running session: an older session's record of the study.
        assert_eq!(
            host_reply_record(&records, "error-report", "s", Some("3")).as_deref(),
            Some("s/1/error-report/Sending")
        );
        assert_eq!(host_reply_record(&records, "error-report", "u", Some("2")), None);
        assert_eq!(host_reply_record(&records, "other", "s", Some("2")), None);
        // Within a session, the attempt under way first.
        let records = vec![record("s", "2", "k", OutboxState::Pending), record("s", "2", "k", OutboxState::Sending)];
        assert_eq!(host_reply_record(&records, "k", "s", Some("2")).as_deref(), Some("s/2/k/Sending"));
    }

    #[test]
    fn bridge_donate_response_uses_the_outbox_classification() {
        let answer = |status| bridge_donate_response("k", &classify_http_status(status));
        assert_eq!(answer(201), DonateResponse { success: true, key: "k".into(), status: 201, error: None });
        // A duplicate: the host has it.
        assert_eq!(answer(409), DonateResponse { success: true, key: "k".into(), status: 409, error: None });
        let refused = answer(422);
        assert_eq!((refused.success, refused.status), (false, 422));
        assert_eq!(refused.error.as_deref(), Some("the host refused the donation: HTTP 422"));
        assert_eq!(answer(503).error.as_deref(), Some("the host answered 503"));
        let offline = bridge_donate_response(
            "k",
            &DeliveryResult::RetryableFailure(RetryableFailure::Network { error: "Failed to fetch".into() }),
        );
        assert_eq!((offline.success, offline.status, offline.error.as_deref()), (false, 0, Some("Failed to fetch")));
    }

    #[test]
    fn delivery_report_carries_each_results_own_data() {
        let reports: Vec<String> = [
            classify_http_status(201),
            classify_http_status(409),
            classify_http_status(422),
            classify_http_status(503),
            DeliveryResult::RetryableFailure(RetryableFailure::Network { error: "Failed to fetch".into() }),
        ]
        .iter()
        .map(|result| format!("{:?}", delivery_report(result)))
        .collect();
        assert_eq!(
            reports,
            [
                "Delivered { status: 201 }",
                "Delivered { status: 409 }",
                "Rejected { status: 422, error: \"the host refused the donation: HTTP 422\" }",
                "Retrying { last_status: Some(503) }",
                "Retrying { last_status: None }",
            ]
        );
    }

    #[test]
    fn logs_go_to_the_logs_url_then_the_host_page_then_the_bridge() {
        let mut with_logs = config("s");
        with_logs.logs = Some(port_protocol::study::LogTarget { url: "https://l/log".into() });
        assert_eq!(log_route(Some(&with_logs), Some("http://h")), HostRoute::LogsUrl { url: "https://l/log".into() });
        assert_eq!(log_route(Some(&with_logs), None), HostRoute::LogsUrl { url: "https://l/log".into() });
        assert_eq!(log_route(Some(&config("s")), Some("http://h")), HostRoute::HostPage);
        assert_eq!(log_route(Some(&config("s")), None), HostRoute::Bridge);
        assert_eq!(log_route(None, Some("http://h")), HostRoute::Bridge);
        // Events and the exit never go to the logs url.
        assert_eq!(event_route(Some(&with_logs), Some("http://h")), HostRoute::HostPage);
        assert_eq!(event_route(Some(&with_logs), None), HostRoute::Bridge);
        assert_eq!(event_route(None, None), HostRoute::Bridge);
    }

    #[test]
    fn host_page_log_json_string_has_the_normalised_level() {
        let entry: LogCommand = serde_json::from_str(
            r#"{"level":"WARNING","message":"m","json_string":"{\"level\": \"WARNING\", \"message\": \"m\"}"}"#,
        )
        .unwrap();
        let sent = host_page_log(&entry);
        assert_eq!(sent.level, LogLevel::Warn);
        let parsed: serde_json::Value = serde_json::from_str(sent.json_string.as_deref().unwrap()).unwrap();
        assert_eq!(parsed, serde_json::json!({"level": "warn", "message": "m"}));
        let plain = host_page_log(&LogCommand { level: LogLevel::Info, message: "x".into(), json_string: None });
        assert_eq!(plain, LogCommand::new(LogLevel::Info, "x"));
    }

    #[test]
    fn error_log_names_the_error_only() {
        assert_eq!(
            error_log("background: uncaught error", "TypeError"),
            LogCommand::new(LogLevel::Error, "background: uncaught error: TypeError")
        );
        // Anything that is not a plain name may carry data: it is replaced.
        assert_eq!(error_log("ctx", "name with jan@example.org").message, "ctx: Error");
        assert_eq!(error_log("ctx", "").message, "ctx: Error");
        assert_eq!(error_log("ctx", &"A".repeat(65)).message, "ctx: Error");
    }

    #[test]
    fn local_donations_are_listed_newest_first() {
        let donation = |session_id: &str, key: &str, stored_at_ms| LocalDonation {
            session_id: session_id.into(),
            key: key.into(),
            body: DonationBody::Inline { json_string: format!("[\"{key}\"]") },
            stored_at_ms,
        };
        let list = local_donation_list(vec![
            donation("9", "9-old", 0),
            donation("100", "100-demo", 5_000),
            donation("100", "100-demo-questionnaire", 6_000),
            donation("99", "99-demo", 5_000),
        ]);
        let keys: Vec<&str> = list.donations.iter().map(|donation| donation.key.as_str()).collect();
        assert_eq!(keys, ["100-demo-questionnaire", "100-demo", "99-demo", "9-old"]);
        assert_eq!(list.donations[1].body, DonationBody::Inline { json_string: "[\"100-demo\"]".into() });
        assert_eq!(list.donations[1].session_id, "100");
        assert_eq!(local_donation_storage_key("100", "a.b"), "port.donation.100.a.b");
        assert_eq!(parse_local_donation_storage_key("port.donation.100.a.b"), Some(("100".into(), "a.b".into())));
        assert_eq!(parse_local_donation_storage_key("port.donation.100"), None);
        assert_eq!(parse_local_donation_storage_key("port.outbox.x.y"), None);
    }

    #[test]
    fn study_list_puts_embedded_first_and_protects_the_demo() {
        let stored = vec![
            StudyRecord { config: config("demo"), origin: "link".into(), source: Some("https://x/demo.json".into()) },
            StudyRecord { config: config("mine"), origin: "link".into(), source: Some("https://x/mine.json".into()) },
        ];
        let list = study_list(&[config("demo")], &[config("lab")], &stored);
        let summary: Vec<(String, String, bool)> =
            list.iter().map(|entry| (entry.id.clone(), entry.origin.clone(), entry.removable)).collect();
        assert_eq!(
            summary,
            vec![
                ("demo".into(), "embedded".into(), false),
                ("lab".into(), "managed".into(), false),
                ("mine".into(), "link".into(), true)
            ]
        );
        assert_eq!(list[2].link.as_deref(), Some("https://x/mine.json"));
        assert!(!may_remove("demo", &[], &[]));
        assert!(!may_remove("lab", &[], &[config("lab")]));
        assert!(may_remove("mine", &[config("demo")], &[]));
    }
}
