#![doc = include_str!("../README.md")]

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use js_sys::Promise;
use port_engine::extension::{
    self, DEFAULT_STUDY_ID, DonationRoute, HostRoute, LOCAL_DONATION_PREFIX, LocalDonation, OutboxChannel, SessionPlan,
    SessionRequest,
};
use port_engine::outbox::{DeliveryResult, Jitter, Outbox, OutboxChange, RetryableFailure, classify_http_status};
use port_protocol::donation_body::{DonatePart, DonationBody, StoredDonation, host_page_parts};
use port_protocol::message::{BackgroundMessage, FromHostPage, SESSION_CHANNEL, ToHostPage, ViewMessage};
use port_protocol::study::{DonateTarget, OutboxRecord, StudyConfig, StudyOrigin};
use port_protocol::worker_message::{
    BACKGROUND_TARGET, DonateOutcome, DonateQueued, LocalDonationList, SESSION_STORAGE_KEY, SessionInfo,
    StudyActionReply, StudyListView, StudyRecord, ToBackground,
};
use port_protocol::{DonateCommand, DonateResponse, EventCommand, LogCommand};
use port_web::donation_bodies;
use port_web::storage::Area;
use port_web::{WebError, from_js, log, runtime, storage, storage_batch, to_js};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

/// The `chrome.storage.local` key of the [`BridgeConfig`].
pub const BRIDGE_STORAGE_KEY: &str = "port.bridge";

/// The file `port run` writes into its unpacked build to point the bridge at its dev host.
pub const DEV_BRIDGE_FILE: &str = "dev-bridge.json";

/// Where donations, logs and the exit go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum BridgeConfig {
    /// Keep everything on this device.
    #[default]
    Local,
    /// The `port host` development server, e.g. `http://127.0.0.1:8787`.
    DevHost { url: String },
}

/// The `chrome.storage.local` key of the study store (`Vec<StudyRecord>`).
pub const STUDIES_STORAGE_KEY: &str = "port.studies";
/// The prefix of outbox records in `chrome.storage.local`, followed by the idempotency key.
pub const OUTBOX_PREFIX: &str = "port.outbox.";
/// The `chrome.storage.local` key of the outbox's index: the idempotency keys of its records, in
/// the order they were enqueued. Not under [`OUTBOX_PREFIX`], which holds records only.
pub const OUTBOX_INDEX_KEY: &str = "port.outbox-index";
/// How many errors one worker run reports to the log route; more only go to the console.
const MAX_ERROR_REPORTS: u32 = 20;
/// The alarm that wakes a stopped worker for the outbox.
pub const OUTBOX_ALARM: &str = "port.outbox";
/// The embedded studies, each at `studies/<id>/study.json` in the extension.
const EMBEDDED_STUDIES: &[&str] = &[DEFAULT_STUDY_ID];

/// The connected host page: its port and the study it pushed. Lost when the worker stops
/// (the page sees its port disconnect).
struct HostPort {
    port: JsValue,
    study_id: String,
}

thread_local! {
    static HOST_PORT: RefCell<Option<HostPort>> = const { RefCell::new(None) };
    static CHANNEL: RefCell<Option<web_sys::BroadcastChannel>> = const { RefCell::new(None) };
    static SESSION_LOCK: port_web::lock::Queue = const { port_web::lock::Queue::new() };
    /// The unpacked build's `dev-bridge.json`, once read (`Some(None)`: it names no dev host).
    static DEV_BRIDGE: RefCell<Option<Option<BridgeConfig>>> = const { RefCell::new(None) };
    static OUTBOX_LOCK: port_web::lock::Queue = const { port_web::lock::Queue::new() };
    static ERROR_REPORTS: Cell<u32> = const { Cell::new(0) };
    /// Bodies being written into Cache Storage, by their entry URL: attempts read them from here
    /// meanwhile, so a donation does not wait for the disk.
    static FRESH_BODIES: RefCell<HashMap<String, web_sys::Blob>> = RefCell::new(HashMap::new());
    /// Writes and removals of bodies, one at a time in the order they were asked for: a body is
    /// never removed before its write ends, which would leave it behind.
    static BODY_QUEUE: port_web::lock::Queue = const { port_web::lock::Queue::new() };
}

/// A donation as the local bridge stores it; its body is in Cache Storage. Records from before
/// `session_id` and `stored_at_ms` were kept have only `key` and `json_string`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredLocalDonation {
    key: String,
    #[serde(flatten)]
    body: DonationBody,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    #[serde(default)]
    stored_at_ms: u64,
}

#[wasm_bindgen(start)]
pub fn start() {
    port_web::log::capture_errors(|text| log::error(&format!("background: {text}")));
    port_web::errors::capture_error_names(|context, name| report_error(&format!("background: {context}"), &name));
    std::panic::set_hook(Box::new(|info| {
        log::error(&format!("background: panic: {info}"));
        report_error("background: panic", "panic");
    }));
    // A view that opens sends `attach`; if no session runs yet, that starts one.
    let opened = port_web::channel::open(SESSION_CHANNEL, |data| {
        if let Ok(ViewMessage::Attach) = from_js::<ViewMessage>(&data) {
            wasm_bindgen_futures::spawn_local(async {
                if let Err(error) = ensure_session(SessionRequest::Attach).await {
                    log::error(&format!("background: ensure session failed: {error}"));
                }
            });
        }
    });
    match opened {
        Ok(channel) => CHANNEL.with(|cell| *cell.borrow_mut() = Some(channel)),
        Err(error) => log::error(&format!("background: no session channel: {error}")),
    }
    // Donations a stopped worker left in the outbox go on now.
    wasm_bindgen_futures::spawn_local(process_outbox());
}

/// `chrome.runtime.onStartup`: the browser started with this profile. Listening for it makes
/// Chrome start the service worker at browser start, so donations a closed browser left in the
/// outbox go on without waiting for the participant or an alarm that a restart may have cleared.
#[wasm_bindgen]
pub fn handle_startup() -> Promise {
    future_to_promise(async {
        // No offscreen document runs yet, so no body is between being kept and being enqueued.
        if let Err(error) = remove_unreferenced_bodies().await {
            log::error(&format!("background: cleaning up donation bodies: {error}"));
        }
        process_outbox().await;
        Ok(JsValue::NULL)
    })
}

/// `chrome.alarms.onAlarm`: the outbox's backstop alarm.
#[wasm_bindgen]
pub fn handle_alarm(_alarm: JsValue) -> Promise {
    future_to_promise(async {
        process_outbox().await;
        Ok(JsValue::NULL)
    })
}

/// A message on a host page's port (`chrome.runtime.onConnectExternal`). `background.js` adds the
/// port's listeners synchronously and calls this, in order, once the wasm is ready.
#[wasm_bindgen]
pub fn handle_port_message(port: JsValue, message: JsValue) -> Promise {
    future_to_promise(async move {
        let origin = port_origin(&port);
        if let Err(error) = on_host_message(port, origin, message).await {
            log::error(&format!("background: host page message failed: {error}"));
        }
        Ok(JsValue::NULL)
    })
}

/// A host page's port closed: it no longer receives donations (they wait in the outbox).
#[wasm_bindgen]
pub fn handle_port_disconnect(port: JsValue) {
    HOST_PORT.with(|cell| {
        let mut host = cell.borrow_mut();
        if host.as_ref().is_some_and(|host| host.port == port) {
            *host = None;
        }
    });
}

/// The origin of the page behind a port: `sender.origin`, else the origin of `sender.url`.
fn port_origin(port: &JsValue) -> String {
    let sender = port_web::get_path(port, &["sender"]).unwrap_or(JsValue::UNDEFINED);
    if let Some(origin) = js_sys::Reflect::get(&sender, &"origin".into()).ok().and_then(|origin| origin.as_string()) {
        return origin;
    }
    let url = js_sys::Reflect::get(&sender, &"url".into()).ok().and_then(|url| url.as_string()).unwrap_or_default();
    web_sys::Url::new(&url).map(|url| url.origin()).unwrap_or(url)
}

fn post_to_port(port: &JsValue, message: &ToHostPage) {
    let posted = to_js(message).and_then(|value| port_web::call_path(port, &["postMessage"], &[value]));
    if let Err(error) = posted {
        log::error(&format!("background: posting to the host page failed: {error}"));
    }
}

/// Posts to the connected host page, if it pushed `study_id`; whether it did.
fn post_to_host(study_id: &str, message: &ToHostPage) -> bool {
    match host_port(study_id) {
        Some(port) => {
            post_to_port(&port, message);
            true
        }
        None => false,
    }
}

/// The port of the connected host page, if it pushed `study_id`.
fn host_port(study_id: &str) -> Option<JsValue> {
    HOST_PORT.with(|cell| cell.borrow().as_ref().filter(|host| host.study_id == study_id).map(|host| host.port.clone()))
}

/// The manifest's `externally_connectable.matches`: who may connect is a build setting, and a
/// `live-init` is checked against it again here.
fn allowed_origins() -> Vec<String> {
    let manifest = port_web::chrome()
        .and_then(|chrome| port_web::call_path(&chrome, &["runtime", "getManifest"], &[]))
        .and_then(|manifest| from_js::<serde_json::Value>(&manifest));
    manifest
        .ok()
        .and_then(|manifest| manifest["externally_connectable"]["matches"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|pattern| pattern.as_str().map(str::to_owned))
        .collect()
}

async fn on_host_message(port: JsValue, origin: String, message: JsValue) -> Result<(), WebError> {
    let value: serde_json::Value = from_js(&message)?;
    let message = match FromHostPage::from_value(&value) {
        Ok(message) => message,
        Err(error) => {
            log::error(&format!("background: host page {origin}: {error}"));
            return Ok(());
        }
    };
    let FromHostPage::LiveInit { locale, study } = message else {
        // Only the current host page answers: a reply on a port that was replaced is ignored.
        let study_id = HOST_PORT
            .with(|cell| cell.borrow().as_ref().filter(|host| host.port == port).map(|host| host.study_id.clone()));
        let Some(study_id) = study_id else {
            log::info(&format!("background: a reply from {origin} on a port that is not the current host page's"));
            return Ok(());
        };
        if let Some((key, result)) = extension::host_page_result(&message) {
            let running: Option<SessionInfo> = storage::get(Area::Session, SESSION_STORAGE_KEY).await?;
            let running_session = running.filter(|info| info.study_id == study_id).map(|info| info.session_id);
            let idempotency_key = {
                let _guard = outbox_lock().await;
                extension::host_reply_record(&load_outbox().await?, &key, &study_id, running_session.as_deref())
            };
            match idempotency_key {
                Some(idempotency_key) => apply_result(&idempotency_key, result).await?,
                None => log::info(&format!("background: a reply for donation {key} that is not pending")),
            }
        }
        return Ok(());
    };
    if !extension::origin_allowed(&origin, &allowed_origins()) {
        let refusal = format!("the origin {origin} is not allowed to push studies to this extension");
        log::error(&format!("background: {refusal}"));
        post_to_port(&port, &ToHostPage::StudyRefused { message: refusal, errors: Vec::new() });
        return Ok(());
    }
    let config = match StudyConfig::from_value(study, StudyOrigin::External) {
        Ok(config) => config,
        Err(errors) => {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            post_to_port(
                &port,
                &ToHostPage::StudyRefused { message: "the study config is not valid; nothing runs".into(), errors },
            );
            return Ok(());
        }
    };
    let study_id = config.id.clone();
    let config_changed = stored_studies()
        .await
        .into_iter()
        .find(|record| record.config.id == study_id)
        .is_none_or(|record| record.config != config);
    // The new port is the host page's from now on, whether the session goes on or starts afresh.
    HOST_PORT.with(|cell| *cell.borrow_mut() = Some(HostPort { port: port.clone(), study_id: study_id.clone() }));
    store_study(StudyRecord { config, origin: "host-page".into(), source: Some(origin.clone()) }).await?;
    let request = SessionRequest::HostInit { study_id: &study_id, host_origin: &origin, config_changed };
    let (info, kept) = ensure_session_planned(request, locale.as_deref()).await?;
    post_to_port(&port, &ToHostPage::StudyAccepted { study_id, session_id: info.session_id.clone() });
    if kept {
        // The host page reloaded or reconnected: the session goes on over the new port, and what
        // the old port left unanswered is sent again.
        resend_host_page_donations(&info.study_id).await?;
    } else {
        open_ui_tab();
    }
    Ok(())
}

fn open_ui_tab() {
    if let Err(error) = port_web::tabs::open_extension_page("ui.html") {
        log::error(&format!("background: cannot open the UI: {error}"));
    }
}

/// A message an extension page posted to this worker through the Service Worker API
/// (`port_web::service_worker`): the offscreen document's `ToBackground::Donate` with its body as a
/// `Blob` beside it. The reply, as `handle_message` gives it, goes to `reply_port`.
#[wasm_bindgen]
pub fn handle_posted_message(message: JsValue, reply_port: JsValue) -> Promise {
    future_to_promise(async move {
        let blob = port_web::take(&message, port_web::service_worker::BLOB_FIELD);
        let reply = match (from_js::<ToBackground>(&message), blob.dyn_into::<web_sys::Blob>()) {
            (Ok(ToBackground::Donate { session_id, donation }), Ok(blob)) => {
                take_fresh_body(&session_id, &donation, blob);
                handle(ToBackground::Donate { session_id, donation }).await
            }
            _ => Err(WebError("only a donation with its body as a Blob is posted to the service worker".into())),
        };
        let reply = reply.unwrap_or_else(|error| {
            let failed = port_web::new_object();
            port_web::set(&failed, "error", &JsValue::from_str(&error.0));
            failed
        });
        if let Err(error) = port_web::call_path(&reply_port, &["postMessage"], &[reply]) {
            log::error(&format!("background: the reply to a posted donation failed: {error}"));
        }
        Ok(JsValue::NULL)
    })
}

/// Keeps a body the offscreen document handed over as a `Blob`: attempts send that `Blob` while
/// it is written into Cache Storage, for retries after a restart.
fn take_fresh_body(session_id: &str, donation: &StoredDonation, blob: web_sys::Blob) {
    let entry_url = donation.body.entry_url(session_id, &donation.key);
    FRESH_BODIES.with(|fresh| fresh.borrow_mut().insert(entry_url.clone(), blob.clone()));
    let turn = BODY_QUEUE.with(port_web::lock::Queue::lock);
    let (session_id, key, body) = (session_id.to_owned(), donation.key.clone(), donation.body.clone());
    wasm_bindgen_futures::spawn_local(async move {
        let _turn = turn.await;
        if let Err(error) = donation_bodies::keep(&session_id, &key, &body, &blob).await {
            log::error(&format!("background: donation {key} could not be kept on this device for retries: {error}"));
        }
        FRESH_BODIES.with(|fresh| fresh.borrow_mut().remove(&entry_url));
    });
}

/// Whether a `chrome.runtime` message is for the background (`target: "background"`).
#[wasm_bindgen]
pub fn is_for_background(message: JsValue) -> bool {
    js_sys::Reflect::get(&message, &"target".into()).ok().and_then(|target| target.as_string()).as_deref()
        == Some(BACKGROUND_TARGET)
}

/// Handles one `chrome.runtime` message; the promise resolves to the reply.
#[wasm_bindgen]
pub fn handle_message(message: JsValue) -> Promise {
    future_to_promise(async move {
        let request: ToBackground = from_js(&message).map_err(|error| JsValue::from_str(&error.0))?;
        handle(request).await.map_err(|error| JsValue::from_str(&error.0))
    })
}

async fn handle(request: ToBackground) -> Result<JsValue, WebError> {
    match request {
        ToBackground::EnsureSession => to_js(&ensure_session(SessionRequest::Attach).await?),
        ToBackground::StartStudy { study_id } => {
            if find_study(&study_id).await.is_none() {
                return Err(WebError(format!("no study {study_id:?}")));
            }
            to_js(&ensure_session(SessionRequest::Start { study_id: &study_id, host_origin: None }).await?)
        }
        ToBackground::SessionCrashed { session_id } => {
            mark_ended(&session_id).await?;
            Ok(JsValue::NULL)
        }
        ToBackground::GetStudy { study_id } => match find_study(&study_id).await {
            Some(config) => to_js(&config),
            None => Ok(JsValue::NULL),
        },
        ToBackground::ListStudies => to_js(&list_studies().await),
        ToBackground::AddStudyLink { url } => to_js(&add_study_link(&url).await),
        ToBackground::UpdateStudy { study_id } => to_js(&update_study(&study_id).await),
        ToBackground::RemoveStudy { study_id } => to_js(&remove_study(&study_id).await),
        ToBackground::Donate { session_id, donation } => {
            // Every failure is an answer the offscreen document can decode.
            let outcome = match donate_outcome(&session_id, &donation).await {
                Ok(outcome) => outcome,
                Err(error) => {
                    log::error(&format!("background: donation {} failed: {error}", donation.key));
                    remove_body(&session_id, &donation.key, &DonationBody::Stored { body: donation.body.clone() })
                        .await;
                    DonateOutcome::Failed { error: error.0 }
                }
            };
            to_js(&outcome)
        }
        ToBackground::ListLocalDonations => to_js(&list_local_donations().await?),
        ToBackground::Logs { session_id, entries } => {
            forward_logs(&session_id, &entries).await;
            Ok(JsValue::NULL)
        }
        ToBackground::Event { session_id, name } => {
            let (config, info) = session_study(&session_id).await;
            let host_origin = info.as_ref().and_then(|info| info.host_origin.as_deref());
            match extension::event_route(config.as_ref(), host_origin) {
                HostRoute::HostPage | HostRoute::LogsUrl { .. } => {
                    let study_id = config.map(|config| config.id).unwrap_or_default();
                    post_to_host(&study_id, &ToHostPage::Event(EventCommand { name }));
                }
                HostRoute::Bridge => {
                    if let BridgeConfig::DevHost { url } = bridge().await {
                        let body = serde_json::json!({"session_id": session_id, "name": name});
                        post_quietly(&url, "/event", &body).await;
                    }
                }
            }
            Ok(JsValue::NULL)
        }
        ToBackground::Exit { session_id, exit } => {
            mark_ended(&session_id).await?;
            let (config, info) = session_study(&session_id).await;
            let host_origin = info.as_ref().and_then(|info| info.host_origin.as_deref());
            if let (HostRoute::HostPage, Some(config)) = (extension::event_route(config.as_ref(), host_origin), &config)
            {
                post_to_host(&config.id, &ToHostPage::Exit(exit));
                return Ok(JsValue::NULL);
            }
            match bridge().await {
                BridgeConfig::Local => log::info(&format!("background: study exited with code {}", exit.code)),
                BridgeConfig::DevHost { url } => {
                    let body = serde_json::json!({"session_id": session_id, "code": exit.code, "info": exit.info});
                    post_quietly(&url, "/exit", &body).await;
                }
            }
            Ok(JsValue::NULL)
        }
    }
}

/// Makes sure the right session runs ([`extension::plan_session`]): keeps a live one, or closes
/// the old offscreen document and creates one for a fresh session; mirrors the session to
/// `chrome.storage.session`. Calls are serialised, so two views attaching at once start one
/// session.
async fn ensure_session(request: SessionRequest<'_>) -> Result<SessionInfo, WebError> {
    Ok(ensure_session_planned(request, None).await?.0)
}

/// As [`ensure_session`]; also whether the running session was kept.
/// `locale` is a host page's `live-init` locale, which a fresh session starts in.
async fn ensure_session_planned(
    request: SessionRequest<'_>,
    locale: Option<&str>,
) -> Result<(SessionInfo, bool), WebError> {
    // Session starts wait for each other, so two views opening at once start one session.
    let _held = SESSION_LOCK.with(port_web::lock::Queue::lock).await;
    ensure_session_now(request, locale).await
}

async fn ensure_session_now(
    request: SessionRequest<'_>,
    locale: Option<&str>,
) -> Result<(SessionInfo, bool), WebError> {
    let stored: Option<SessionInfo> = storage::get(Area::Session, SESSION_STORAGE_KEY).await?;
    let offscreen_exists = runtime::count_contexts("OFFSCREEN_DOCUMENT").await? > 0;
    let (study_id, host_origin, close_old) = match extension::plan_session(stored.as_ref(), offscreen_exists, request) {
        SessionPlan::Keep(info) => return Ok((info, true)),
        SessionPlan::StartFresh { study_id, host_origin, close_old } => (study_id, host_origin, close_old),
    };
    if close_old && let Err(error) = port_web::offscreen::close_document().await {
        log::error(&format!("background: closing the old session failed: {error}"));
    }
    let info =
        SessionInfo { session_id: format!("{}", js_sys::Date::now() as u64), study_id, ended: false, host_origin };
    storage::set(Area::Session, SESSION_STORAGE_KEY, &info).await?;
    // `requested_at` starts the boot trace's clock.
    let mut url = format!(
        "offscreen.html?session_id={}&study_id={}&requested_at={}",
        info.session_id,
        String::from(js_sys::encode_uri_component(&info.study_id)),
        js_sys::Date::now() as u64
    );
    if let Some(locale) = locale {
        url.push_str(&format!("&locale={}", String::from(js_sys::encode_uri_component(locale))));
    }
    let created = port_web::offscreen::create_document(
        &url,
        &["WORKERS"],
        "Runs the study script (Python in a Web Worker) while the extension's views come and go",
    )
    .await;
    if let Err(error) = created {
        if runtime::count_contexts("OFFSCREEN_DOCUMENT").await? > 0 {
            return Ok((info, false));
        }
        return Err(error);
    }
    Ok((info, false))
}

async fn mark_ended(session_id: &str) -> Result<(), WebError> {
    let stored: Option<SessionInfo> = storage::get(Area::Session, SESSION_STORAGE_KEY).await?;
    if let Some(mut info) = stored.filter(|info| info.session_id == session_id) {
        info.ended = true;
        storage::set(Area::Session, SESSION_STORAGE_KEY, &info).await?;
    }
    Ok(())
}

/// The running session's study config and info, when `session_id` is the running session.
async fn session_study(session_id: &str) -> (Option<StudyConfig>, Option<SessionInfo>) {
    let stored: Option<SessionInfo> = storage::get(Area::Session, SESSION_STORAGE_KEY).await.ok().flatten();
    let Some(info) = stored.filter(|info| info.session_id == session_id) else { return (None, None) };
    (find_study(&info.study_id).await, Some(info))
}

/// Sends log entries of a session where [`extension::log_route`] says.
async fn forward_logs(session_id: &str, entries: &[LogCommand]) {
    let (config, info) = session_study(session_id).await;
    let host_origin = info.as_ref().and_then(|info| info.host_origin.as_deref());
    match extension::log_route(config.as_ref(), host_origin) {
        HostRoute::LogsUrl { url } => {
            let body = serde_json::json!({"session_id": session_id, "entries": entries});
            if let Err(error) = post(&url, "", &JsValue::from_str(&body.to_string()), &[]).await {
                log::error(&format!("background: POST logs failed: {error}"));
            }
        }
        HostRoute::HostPage => {
            let study_id = config.map(|config| config.id).unwrap_or_default();
            for entry in entries {
                post_to_host(&study_id, &ToHostPage::Log(extension::host_page_log(entry)));
            }
        }
        HostRoute::Bridge => match bridge().await {
            BridgeConfig::Local => {
                for entry in entries {
                    log::info(&format!("background: log [{}] {}", entry.level.as_str(), entry.message));
                }
            }
            BridgeConfig::DevHost { url } => {
                let body = serde_json::json!({"session_id": session_id, "entries": entries});
                post_quietly(&url, "/log", &body).await;
            }
        },
    }
}

/// Sends a JS or wasm error to the running session's log route, by name only
/// ([`extension::error_log`]); a few per worker run, so an error in the reporting cannot loop.
fn report_error(context: &str, name: &str) {
    let reported = ERROR_REPORTS.with(|count| {
        count.set(count.get().saturating_add(1));
        count.get()
    });
    if reported > MAX_ERROR_REPORTS {
        return;
    }
    let entry = extension::error_log(context, name);
    wasm_bindgen_futures::spawn_local(async move {
        let running: Option<SessionInfo> = storage::get(Area::Session, SESSION_STORAGE_KEY).await.ok().flatten();
        let session_id = running.map(|info| info.session_id).unwrap_or_default();
        forward_logs(&session_id, std::slice::from_ref(&entry)).await;
    });
}

// --- Studies -------------------------------------------------------------------------------------

async fn embedded_studies() -> Vec<StudyConfig> {
    let mut configs = Vec::new();
    for study_id in EMBEDDED_STUDIES {
        let Ok(url) = runtime::get_url(&format!("studies/{study_id}/study.json")) else { continue };
        match port_web::fetch_json(&url).await.map(|value| StudyConfig::from_value(value, StudyOrigin::Embedded)) {
            Ok(Ok(config)) => configs.push(config),
            Ok(Err(errors)) => log::error(&format!("background: the embedded study {study_id} is invalid: {errors:?}")),
            Err(error) => log::error(&format!("background: cannot read the embedded study {study_id}: {error}")),
        }
    }
    configs
}

/// Managed presets (`chrome.storage.managed`, key `studies`), checked as external configs; the
/// problems of those that fail, as `StudyError` texts prefixed with their place.
async fn managed_studies() -> (Vec<StudyConfig>, Vec<String>) {
    let values: Vec<serde_json::Value> =
        storage::get(Area::Managed, "studies").await.ok().flatten().unwrap_or_default();
    let mut configs = Vec::new();
    let mut problems = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        match StudyConfig::from_value(value, StudyOrigin::External) {
            Ok(config) => configs.push(config),
            Err(errors) => problems.extend(errors.iter().map(|error| format!("managed studies[{index}]: {error}"))),
        }
    }
    (configs, problems)
}

async fn stored_studies() -> Vec<StudyRecord> {
    storage::get(Area::Local, STUDIES_STORAGE_KEY).await.ok().flatten().unwrap_or_default()
}

async fn store_study(record: StudyRecord) -> Result<(), WebError> {
    let mut records = stored_studies().await;
    records.retain(|stored| stored.config.id != record.config.id);
    records.push(record);
    storage::set(Area::Local, STUDIES_STORAGE_KEY, &records).await
}

async fn find_study(study_id: &str) -> Option<StudyConfig> {
    if let Some(config) = embedded_studies().await.into_iter().find(|config| config.id == study_id) {
        return Some(config);
    }
    if let Some(config) = managed_studies().await.0.into_iter().find(|config| config.id == study_id) {
        return Some(config);
    }
    stored_studies().await.into_iter().map(|record| record.config).find(|config| config.id == study_id)
}

async fn list_studies() -> StudyListView {
    let embedded = embedded_studies().await;
    let (managed, problems) = managed_studies().await;
    let stored = stored_studies().await;
    let running: Option<SessionInfo> = storage::get(Area::Session, SESSION_STORAGE_KEY).await.ok().flatten();
    StudyListView {
        studies: extension::study_list(&embedded, &managed, &stored),
        running: running.filter(|info| !info.ended).map(|info| info.study_id),
        problems,
    }
}

/// Whether this is an unpacked (development) install: only then may study links be http on
/// localhost.
async fn is_development_build() -> bool {
    let Ok(chrome) = port_web::chrome() else { return false };
    match port_web::call_path_async(&chrome, &["management", "getSelf"], &[]).await {
        Ok(info) => {
            js_sys::Reflect::get(&info, &"installType".into()).ok().and_then(|kind| kind.as_string()).as_deref()
                == Some("development")
        }
        Err(_) => false,
    }
}

async fn fetch_config(url: &str) -> Result<StudyConfig, Vec<String>> {
    extension::check_study_link(url, is_development_build().await).map_err(|error| vec![format!("link: {error}")])?;
    let text = fetch_text(url).await.map_err(|error| vec![format!("link: cannot fetch {url}: {error}")])?;
    StudyConfig::parse(&text, StudyOrigin::External).map_err(|errors| errors.iter().map(ToString::to_string).collect())
}

async fn add_study_link(url: &str) -> StudyActionReply {
    match fetch_config(url).await {
        Ok(config) => {
            let study_id = config.id.clone();
            if !extension::may_remove(&study_id, &embedded_studies().await, &managed_studies().await.0) {
                return StudyActionReply {
                    study_id: None,
                    errors: vec![format!(
                        "id: the study {study_id:?} is built in or preset; give the linked study another id"
                    )],
                };
            }
            match store_study(StudyRecord { config, origin: "link".into(), source: Some(url.to_owned()) }).await {
                Ok(()) => StudyActionReply { study_id: Some(study_id), errors: Vec::new() },
                Err(error) => {
                    StudyActionReply { study_id: None, errors: vec![format!("cannot store the study: {error}")] }
                }
            }
        }
        Err(errors) => StudyActionReply { study_id: None, errors },
    }
}

async fn update_study(study_id: &str) -> StudyActionReply {
    let link =
        stored_studies().await.into_iter().find(|record| record.config.id == study_id && record.origin == "link");
    match link.and_then(|record| record.source) {
        Some(url) => {
            let mut reply = add_study_link(&url).await;
            if reply.errors.is_empty() && reply.study_id.as_deref() != Some(study_id) {
                reply.errors.push(format!("id: the link now gives the study {:?}, not {study_id:?}", reply.study_id));
            }
            reply
        }
        None => StudyActionReply {
            study_id: None,
            errors: vec![format!("the study {study_id:?} has no study link to update from")],
        },
    }
}

async fn remove_study(study_id: &str) -> StudyActionReply {
    if !extension::may_remove(study_id, &embedded_studies().await, &managed_studies().await.0) {
        return StudyActionReply { study_id: None, errors: vec![format!("the study {study_id:?} cannot be removed")] };
    }
    let mut records = stored_studies().await;
    records.retain(|record| record.config.id != study_id);
    match storage::set(Area::Local, STUDIES_STORAGE_KEY, &records).await {
        Ok(()) => StudyActionReply { study_id: Some(study_id.to_owned()), errors: Vec::new() },
        Err(error) => StudyActionReply { study_id: None, errors: vec![error.0] },
    }
}

async fn fetch_text(url: &str) -> Result<String, WebError> {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let response: web_sys::Response = JsFuture::from(scope.fetch_with_str(url)).await?.unchecked_into();
    if !response.ok() {
        return Err(WebError(format!("HTTP {}", response.status())));
    }
    JsFuture::from(response.text()?).await?.as_string().ok_or_else(|| WebError("not text".into()))
}

// --- The outbox ----------------------------------------------------------------------------------

/// The outbox as stored: the records its index names, in order. Call with `OUTBOX_LOCK` held when
/// the result is written back. Without an index (an outbox from before it was kept), the records
/// under [`OUTBOX_PREFIX`] are read once and indexed.
async fn load_outbox() -> Result<Vec<OutboxRecord>, WebError> {
    let index: Option<Vec<String>> = storage::get(Area::Local, OUTBOX_INDEX_KEY).await?;
    let items = match index {
        Some(index) => {
            let keys: Vec<String> = index.iter().map(|id| format!("{OUTBOX_PREFIX}{id}")).collect();
            storage_batch::get_many(Area::Local, &keys).await?
        }
        None => {
            let items = storage::get_prefixed(Area::Local, OUTBOX_PREFIX).await?;
            let index: Vec<String> =
                items.iter().map(|(key, _)| key.trim_start_matches(OUTBOX_PREFIX).to_owned()).collect();
            storage::set(Area::Local, OUTBOX_INDEX_KEY, &index).await?;
            items
        }
    };
    Ok(items.into_iter().filter_map(|(_, value)| serde_json::from_value(value).ok()).collect())
}

/// Waits for the outbox lock: every read-modify-write of the outbox holds it.
async fn outbox_lock() -> port_web::lock::Guard {
    OUTBOX_LOCK.with(port_web::lock::Queue::lock).await
}

/// Writes the record and its place in the index. Call with `OUTBOX_LOCK` held.
async fn store_record(record: &OutboxRecord) -> Result<(), WebError> {
    let mut index: Vec<String> = storage::get(Area::Local, OUTBOX_INDEX_KEY).await?.unwrap_or_default();
    if !index.contains(&record.idempotency_key) {
        index.push(record.idempotency_key.clone());
    }
    let to_value = |value: serde_json::Result<serde_json::Value>| value.map_err(|error| WebError(error.to_string()));
    let items = [
        (format!("{OUTBOX_PREFIX}{}", record.idempotency_key), to_value(serde_json::to_value(record))?),
        (OUTBOX_INDEX_KEY.to_owned(), to_value(serde_json::to_value(&index))?),
    ];
    storage_batch::write(Area::Local, &items, &[]).await
}

/// Removes the record and its place in the index. Call with `OUTBOX_LOCK` held.
async fn remove_record(idempotency_key: &str) -> Result<(), WebError> {
    let mut index: Vec<String> = storage::get(Area::Local, OUTBOX_INDEX_KEY).await?.unwrap_or_default();
    index.retain(|id| id != idempotency_key);
    let index = serde_json::to_value(&index).map_err(|error| WebError(error.to_string()))?;
    storage_batch::write(
        Area::Local,
        &[(OUTBOX_INDEX_KEY.to_owned(), index)],
        &[format!("{OUTBOX_PREFIX}{idempotency_key}")],
    )
    .await
}

/// Persists the donation before anything is sent, then starts delivering it.
async fn enqueue(config: &StudyConfig, session_id: &str, donation: &StoredDonation) -> Result<DonateQueued, WebError> {
    let record = {
        let _guard = outbox_lock().await;
        let mut outbox = Outbox::from_records(load_outbox().await?);
        let record = outbox.enqueue(&config.id, session_id, donation, js_sys::Date::now() as u64);
        store_record(&record).await?;
        record
    };
    wasm_bindgen_futures::spawn_local(process_outbox());
    Ok(DonateQueued { idempotency_key: record.idempotency_key, ack_timeout_s: config.ack_timeout_s })
}

/// Attempts every due record, then schedules the next run. Calls wait for each other on the
/// outbox lock; a record one of them began is `Sending` and so not due for the next.
async fn process_outbox() {
    if let Err(error) = attempt_due().await {
        log::error(&format!("background: outbox: {error}"));
    }
    schedule_outbox().await;
}

async fn attempt_due() -> Result<(), WebError> {
    let started = begin_attempts(|outbox, now_ms| outbox.due(now_ms)).await?;
    for record in started {
        send_attempt(record).await;
    }
    Ok(())
}

/// Begins an attempt of each record `pick` names in the outbox as stored now, and persists them,
/// holding the outbox lock; returns the records to send (after the lock is let go: a send may
/// apply a result at once).
async fn begin_attempts(pick: impl FnOnce(&Outbox, u64) -> Vec<String>) -> Result<Vec<OutboxRecord>, WebError> {
    let _guard = outbox_lock().await;
    let mut outbox = Outbox::from_records(load_outbox().await?);
    let now_ms = js_sys::Date::now() as u64;
    let mut started = Vec::new();
    for idempotency_key in pick(&outbox, now_ms) {
        let Ok(record) = outbox.begin_attempt(&idempotency_key, now_ms) else { continue };
        store_record(&record).await?;
        started.push(record);
    }
    Ok(started)
}

/// Sends one attempt over the record's channel; an HTTP result is applied when it comes, a host
/// page's when its reply comes.
async fn send_attempt(record: OutboxRecord) {
    let config = find_study(&record.study_id).await;
    let channel = config.as_ref().map(|config| &config.donate).and_then(|target| match target {
        DonateTarget::Http { url } => Some(OutboxChannel::Http { url: url.clone() }),
        DonateTarget::HostPage => Some(OutboxChannel::HostPage),
        DonateTarget::Local => None,
    });
    let Some(channel) = channel else {
        let failure = RetryableFailure::Network { error: "the study no longer sends donations anywhere".into() };
        return apply_logged(&record.idempotency_key, DeliveryResult::RetryableFailure(failure)).await;
    };
    let body = match body_of(&record.session_id, &record.key, &record.body).await {
        Ok(body) => body,
        // Gone from the disk: no retry can bring it back, so the script and the view are told.
        Err(error) => {
            return apply_logged(&record.idempotency_key, DeliveryResult::Rejected { status: 0, error: error.0 }).await;
        }
    };
    match channel {
        OutboxChannel::Http { url } => wasm_bindgen_futures::spawn_local(async move {
            let headers = record.http_headers();
            let result = match post(&url, "", &body.into_js(), &headers).await {
                Ok(status) => classify_http_status(status),
                Err(error) => DeliveryResult::RetryableFailure(RetryableFailure::Network { error: error.0 }),
            };
            apply_logged(&record.idempotency_key, result).await;
        }),
        OutboxChannel::HostPage => {
            if let Err(error) = post_donation_to_host(&record.study_id, &record.key, body).await {
                let failure = RetryableFailure::Network { error: error.0 };
                apply_logged(&record.idempotency_key, DeliveryResult::RetryableFailure(failure)).await;
            }
        }
    }
}

async fn apply_logged(idempotency_key: &str, result: DeliveryResult) {
    if let Err(error) = apply_result(idempotency_key, result).await {
        log::error(&format!("background: outbox: {error}"));
    }
}

/// A donation's body, ready to send.
enum BodyToSend {
    /// In Cache Storage: the browser's `Blob`, never copied into this worker's memory.
    Blob(web_sys::Blob),
    /// Inline in a record an earlier version wrote.
    Text(String),
}

impl BodyToSend {
    fn into_js(self) -> JsValue {
        match self {
            BodyToSend::Blob(blob) => blob.into(),
            BodyToSend::Text(text) => JsValue::from_str(&text),
        }
    }
}

async fn body_of(session_id: &str, key: &str, body: &DonationBody) -> Result<BodyToSend, WebError> {
    match body {
        DonationBody::Stored { body } => {
            match FRESH_BODIES.with(|fresh| fresh.borrow().get(&body.entry_url(session_id, key)).cloned()) {
                Some(blob) => Ok(BodyToSend::Blob(blob)),
                None => Ok(BodyToSend::Blob(donation_bodies::blob(session_id, key, body).await?)),
            }
        }
        DonationBody::Inline { json_string } => Ok(BodyToSend::Text(json_string.clone())),
    }
}

/// Removes a body the outbox or the bridge is done with; a failure only leaves it for the sweep at
/// the next browser start.
async fn remove_body(session_id: &str, key: &str, body: &DonationBody) {
    let _turn = BODY_QUEUE.with(port_web::lock::Queue::lock).await;
    if let DonationBody::Stored { body } = body
        && let Err(error) = donation_bodies::remove(session_id, key, body).await
    {
        log::error(&format!("background: removing the body of donation {key}: {error}"));
    }
}

/// Removes the kept bodies that no outbox record and no local donation refers to: what a browser
/// that closed between keeping a body and enqueueing it left behind.
async fn remove_unreferenced_bodies() -> Result<(), WebError> {
    let outbox = load_outbox().await?;
    let local = load_local_donations().await?;
    let referenced: Vec<String> = outbox
        .iter()
        .filter_map(|record| record.body.entry_url(&record.session_id, &record.key))
        .chain(local.iter().filter_map(|donation| donation.body.entry_url(&donation.session_id, &donation.key)))
        .collect();
    for url in donation_bodies::entry_urls().await? {
        if !referenced.contains(&url) {
            donation_bodies::remove_url(&url).await?;
        }
    }
    Ok(())
}

/// Sends a donation to the connected host page of `study_id`: as one `CommandSystemDonate` when it
/// fits one port message, else as `CommandSystemDonatePart`s ([`host_page_parts`]), each decoded
/// from its slice of the body as it is sent. An error when no host page of the study is connected.
async fn post_donation_to_host(study_id: &str, key: &str, body: BodyToSend) -> Result<(), WebError> {
    let not_connected = || WebError("no host page is connected".into());
    let blob = match body {
        BodyToSend::Text(json_string) => {
            let donation = DonateCommand { key: key.to_owned(), json_string };
            return if post_to_host(study_id, &ToHostPage::Donate(donation)) { Ok(()) } else { Err(not_connected()) };
        }
        BodyToSend::Blob(blob) => blob,
    };
    let port = host_port(study_id).ok_or_else(not_connected)?;
    let n_bytes = blob.size() as u64;
    let parts = host_page_parts(n_bytes);
    let decoder = donation_bodies::utf8_decoder()?;
    let n_parts = parts.len() as u32;
    for (index, range) in parts.into_iter().enumerate() {
        let last = index as u32 + 1 == n_parts;
        let text = donation_bodies::decode_piece(&decoder, &blob, range.start, range.end, last).await?;
        // The text is the decoder's JS string: it goes into the message without a copy in wasm.
        let message = if n_parts == 1 {
            to_js(&ToHostPage::Donate(DonateCommand { key: key.to_owned(), json_string: String::new() }))?
        } else {
            let part = DonatePart { key: key.to_owned(), part: index as u32, parts: n_parts, text: String::new() };
            to_js(&ToHostPage::DonatePart(part))?
        };
        port_web::set(&message, if n_parts == 1 { "json_string" } else { "text" }, &text);
        if host_port(study_id).as_ref() != Some(&port) {
            // A new port replaced this one mid-way; its live-init sends every pending donation again.
            return Ok(());
        }
        port_web::call_path(&port, &["postMessage"], &[message])?;
    }
    Ok(())
}

/// A new host page port: every record of its study is sent again now.
async fn resend_host_page_donations(study_id: &str) -> Result<(), WebError> {
    let started = begin_attempts(|outbox, _| {
        outbox
            .records()
            .filter(|record| record.study_id == study_id)
            .map(|record| record.idempotency_key.clone())
            .collect()
    })
    .await?;
    for record in started {
        send_attempt(record).await;
    }
    Ok(())
}

/// Applies an attempt's result to the stored record (read afresh, under the outbox lock) and
/// tells the session.
async fn apply_result(idempotency_key: &str, result: DeliveryResult) -> Result<(), WebError> {
    let report = extension::delivery_report(&result);
    let record = {
        let _guard = outbox_lock().await;
        let mut outbox = Outbox::from_records(load_outbox().await?);
        let now_ms = js_sys::Date::now() as u64;
        let change = match outbox.on_result(idempotency_key, result, now_ms, Jitter(js_sys::Math::random())) {
            Ok(change) => change,
            // A late answer to a record a retry already delivered.
            Err(error) => {
                log::info(&format!("background: outbox: {error}"));
                return Ok(());
            }
        };
        match change {
            OutboxChange::Store(record) => {
                store_record(&record).await?;
                record
            }
            OutboxChange::Delivered { record, .. } | OutboxChange::Rejected { record, .. } => {
                remove_record(idempotency_key).await?;
                remove_body(&record.session_id, &record.key, &record.body).await;
                record
            }
        }
    };
    let message = BackgroundMessage::Delivery {
        session_id: record.session_id,
        idempotency_key: record.idempotency_key,
        key: record.key,
        report,
    };
    CHANNEL.with(|cell| {
        if let (Some(channel), Ok(value)) = (cell.borrow().as_ref(), to_js(&message)) {
            let _ = channel.post_message(&value);
        }
    });
    schedule_outbox().await;
    Ok(())
}

/// A timer for the next due record while the worker lives, and an alarm as the backstop after it
/// was stopped.
async fn schedule_outbox() {
    let Ok(records) = load_outbox().await else { return };
    let Some(next_ms) = Outbox::from_records(records).next_due_at_ms() else { return };
    let delay_ms = (next_ms as f64 - js_sys::Date::now()).max(0.0);
    port_web::timer::set_timeout(delay_ms + 50.0, || wasm_bindgen_futures::spawn_local(process_outbox()));
    if let Err(error) = port_web::alarms::create_at(OUTBOX_ALARM, next_ms as f64 + 1000.0) {
        log::error(&format!("background: no outbox alarm: {error}"));
    }
}

// --- The local bridge ----------------------------------------------------------------------------

/// Where a donation goes ([`extension::donation_route`]) and what the script is told.
async fn donate_outcome(session_id: &str, donation: &StoredDonation) -> Result<DonateOutcome, WebError> {
    let (config, info) = session_study(session_id).await;
    let host_origin = info.as_ref().and_then(|info| info.host_origin.as_deref());
    match (extension::donation_route(config.as_ref().map(|config| &config.donate), host_origin), config) {
        (DonationRoute::Outbox(_), Some(config)) => {
            Ok(DonateOutcome::Queued { queued: enqueue(&config, session_id, donation).await? })
        }
        _ => Ok(DonateOutcome::Answered(donate(session_id, donation).await)),
    }
}

/// The local bridge's donations, newest first ([`extension::local_donation_list`]).
async fn list_local_donations() -> Result<LocalDonationList, WebError> {
    Ok(extension::local_donation_list(load_local_donations().await?))
}

/// The local bridge's donations as stored, each with its session (from the storage key for
/// records that do not name it).
async fn load_local_donations() -> Result<Vec<LocalDonation>, WebError> {
    let items = storage::get_prefixed(Area::Local, LOCAL_DONATION_PREFIX).await?;
    Ok(items
        .into_iter()
        .filter_map(|(storage_key, value)| {
            let stored: StoredLocalDonation = serde_json::from_value(value).ok()?;
            let session_id = match stored.session_id {
                Some(session_id) => session_id,
                None => extension::parse_local_donation_storage_key(&storage_key)?.0,
            };
            Some(LocalDonation { session_id, key: stored.key, body: stored.body, stored_at_ms: stored.stored_at_ms })
        })
        .collect())
}

/// The bridge in use: the stored record, else the `dev-bridge.json` that `port run` writes into
/// its unpacked build, else local.
async fn bridge() -> BridgeConfig {
    if let Some(stored) = storage::get(Area::Local, BRIDGE_STORAGE_KEY).await.ok().flatten() {
        return stored;
    }
    dev_bridge_file().await.unwrap_or_default()
}

/// `dev-bridge.json` is part of the unpacked package, which cannot change while this worker runs,
/// so it is fetched once per worker rather than for every donation and log batch.
async fn dev_bridge_file() -> Option<BridgeConfig> {
    if let Some(known) = DEV_BRIDGE.with(|cell| cell.borrow().clone()) {
        return known;
    }
    let fetched = match runtime::get_url(DEV_BRIDGE_FILE) {
        Ok(url) => port_web::fetch_json(&url).await.ok().and_then(|value| serde_json::from_value(value).ok()),
        Err(_) => None,
    };
    DEV_BRIDGE.with(|cell| *cell.borrow_mut() = Some(fetched.clone()));
    fetched
}

/// What the bridge answers to a donation; failures are answers too (`success: false`). The dev
/// host's status means what it means for the outbox ([`classify_http_status`]): a 409 is a
/// duplicate the host already has.
async fn donate(session_id: &str, donation: &StoredDonation) -> DonateResponse {
    let body = DonationBody::Stored { body: donation.body.clone() };
    match bridge().await {
        BridgeConfig::Local => {
            let storage_key = extension::local_donation_storage_key(session_id, &donation.key);
            let stored = StoredLocalDonation {
                key: donation.key.clone(),
                body,
                session_id: Some(session_id.to_owned()),
                stored_at_ms: js_sys::Date::now() as u64,
            };
            let result = match storage::set(Area::Local, &storage_key, &stored).await {
                Ok(()) => DeliveryResult::Delivered { status: 200 },
                Err(error) => DeliveryResult::RetryableFailure(RetryableFailure::Network { error: error.0 }),
            };
            extension::bridge_donate_response(&donation.key, &result)
        }
        BridgeConfig::DevHost { url } => {
            let headers = [("X-Port-Key", donation.key.as_str()), ("X-Port-Session", session_id)];
            let result = match body_of(session_id, &donation.key, &body).await {
                Ok(sent) => match post(&url, "/donate", &sent.into_js(), &headers).await {
                    Ok(status) => classify_http_status(status),
                    Err(error) => DeliveryResult::RetryableFailure(RetryableFailure::Network { error: error.0 }),
                },
                Err(error) => DeliveryResult::Rejected { status: 0, error: error.0 },
            };
            // The dev host's answer is the script's; nothing retries it.
            remove_body(session_id, &donation.key, &body).await;
            extension::bridge_donate_response(&donation.key, &result)
        }
    }
}

/// POSTs JSON and logs a failure; logs and events are fire and forget.
async fn post_quietly(base_url: &str, path: &str, body: &serde_json::Value) {
    if let Err(error) = post(base_url, path, &JsValue::from_str(&body.to_string()), &[]).await {
        log::error(&format!("background: POST {path} failed: {error}"));
    }
}

/// POSTs a JSON body (a string or a `Blob`); returns the HTTP status, or an error for a network
/// failure.
async fn post(base_url: &str, path: &str, body: &JsValue, headers: &[(&str, &str)]) -> Result<u16, WebError> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let request_headers = web_sys::Headers::new()?;
    request_headers.set("Content-Type", "application/json")?;
    for (name, value) in headers {
        request_headers.set(name, value)?;
    }
    init.set_headers(&request_headers);
    init.set_body(body);
    let url = format!("{}{path}", base_url.trim_end_matches('/'));
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let response: web_sys::Response =
        JsFuture::from(scope.fetch_with_str_and_init(&url, &init)).await?.unchecked_into();
    Ok(response.status())
}
