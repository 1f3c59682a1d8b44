//! Decisions of the browser extension that are more than wiring: which session runs, which study
//! is listed and may be removed, where a donation goes, which host page may push a study, and
//! what a host page's reply means for the outbox.
//!
//! **Architecture Invariant:** no I/O; the wasm crates call these and perform the result.

use port_protocol::message::FromHostPage;
use port_protocol::study::{DonateTarget, StudyConfig};
use port_protocol::worker_message::{SessionInfo, StudyListEntry, StudyRecord};

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
pub fn plan_session(current: Option<&SessionInfo>, offscreen_exists: bool, request: SessionRequest<'_>) -> SessionPlan {
    match request {
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
