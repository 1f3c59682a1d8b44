//! The MV3 service worker: offscreen lifecycle and host bridges.
//!
//! **Architecture Invariant:** this crate only translates: `chrome.*` events in, bridge calls out.
//! It holds no session state in memory, because Chrome stops an idle service worker and its module
//! state with it; the running session is mirrored to `chrome.storage.session`.
//!
//! Listeners must exist when the worker's script first runs, before the wasm is instantiated, so
//! `background.js` registers one `chrome.runtime.onMessage` listener that awaits `init()` and calls
//! [`handle_message`]. It also starts a session when a view attaches on the session channel.
//!
//! Bridges, chosen by the `port.bridge` record in `chrome.storage.local` ([`BridgeConfig`]):
//! - `local` (default): donations are stored in `chrome.storage.local` under
//!   `port.donation.<session_id>.<key>`; logs go to the console.
//! - `dev-host`: HTTP to the `port host` server on 127.0.0.1: `POST /donate` (body = `json_string`
//!   verbatim, headers `X-Port-Key` and `X-Port-Session`), `POST /log`, `POST /event`, `POST /exit`
//!   (JSON bodies).

use js_sys::Promise;
use port_protocol::worker_message::{
    BACKGROUND_TARGET, SESSION_STORAGE_KEY, SessionInfo, ToBackground,
};
use port_protocol::message::{SESSION_CHANNEL, ViewMessage};
use port_protocol::{DonateCommand, DonateResponse};
use port_web::storage::Area;
use port_web::{WebError, from_js, log, runtime, storage, to_js};
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

#[wasm_bindgen(start)]
pub fn start() {
    port_web::log::capture_errors(|text| log::error(&format!("background: {text}")));
    // A view that opens sends `attach`; if no session runs yet, that starts one.
    let opened = port_web::channel::open(SESSION_CHANNEL, |data| {
        if let Ok(ViewMessage::Attach) = from_js::<ViewMessage>(&data) {
            wasm_bindgen_futures::spawn_local(async {
                if let Err(error) = ensure_session().await {
                    log::error(&format!("background: ensure session failed: {error}"));
                }
            });
        }
    });
    if let Err(error) = opened {
        log::error(&format!("background: no session channel: {error}"));
    }
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
        ToBackground::EnsureSession => to_js(&ensure_session().await?),
        ToBackground::Donate { session_id, donation } => to_js(&donate(&session_id, &donation).await),
        ToBackground::Logs { session_id, entries } => {
            match bridge().await {
                BridgeConfig::Local => {
                    for entry in &entries {
                        log::info(&format!("background: log [{}] {}", entry.level.as_str(), entry.message));
                    }
                }
                BridgeConfig::DevHost { url } => {
                    let body = serde_json::json!({"session_id": session_id, "entries": entries});
                    post_quietly(&url, "/log", &body).await;
                }
            }
            Ok(JsValue::NULL)
        }
        ToBackground::Event { session_id, name } => {
            if let BridgeConfig::DevHost { url } = bridge().await {
                post_quietly(&url, "/event", &serde_json::json!({"session_id": session_id, "name": name})).await;
            }
            Ok(JsValue::NULL)
        }
        ToBackground::Exit { session_id, exit } => {
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

/// Creates the offscreen document that holds the session, unless it exists; mirrors the session
/// to `chrome.storage.session`.
async fn ensure_session() -> Result<SessionInfo, WebError> {
    let stored: Option<SessionInfo> = storage::get(Area::Session, SESSION_STORAGE_KEY).await?;
    if let Some(info) = stored
        && runtime::count_contexts("OFFSCREEN_DOCUMENT").await? > 0
    {
        return Ok(info);
    }
    let info = SessionInfo { session_id: format!("{}", js_sys::Date::now() as u64), study_id: "demo".into() };
    let url = format!("offscreen.html?session_id={}&study_id={}", info.session_id, info.study_id);
    let created = port_web::offscreen::create_document(
        &url,
        &["WORKERS"],
        "Runs the study script (Python in a Web Worker) while the extension's views come and go",
    )
    .await;
    if let Err(error) = created {
        // Two views attaching at once race to create it: the loser finds the winner's session.
        if runtime::count_contexts("OFFSCREEN_DOCUMENT").await? > 0
            && let Some(info) = storage::get::<SessionInfo>(Area::Session, SESSION_STORAGE_KEY).await?
        {
            return Ok(info);
        }
        return Err(error);
    }
    storage::set(Area::Session, SESSION_STORAGE_KEY, &info).await?;
    Ok(info)
}

/// The bridge in use: the stored record, else the `dev-bridge.json` that `port run` writes into
/// its unpacked build, else local.
async fn bridge() -> BridgeConfig {
    if let Some(stored) = storage::get(Area::Local, BRIDGE_STORAGE_KEY).await.ok().flatten() {
        return stored;
    }
    dev_bridge_file().await.unwrap_or_default()
}

async fn dev_bridge_file() -> Option<BridgeConfig> {
    let url = runtime::get_url(DEV_BRIDGE_FILE).ok()?;
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let response: web_sys::Response = JsFuture::from(scope.fetch_with_str(&url)).await.ok()?.unchecked_into();
    if !response.ok() {
        return None;
    }
    let text = JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
    serde_json::from_str(&text).ok()
}

/// What the bridge answers to a donation; failures are answers too (`success: false`).
async fn donate(session_id: &str, donation: &DonateCommand) -> DonateResponse {
    let failure = |status: u16, error: String| DonateResponse {
        success: false,
        key: donation.key.clone(),
        status,
        error: Some(error),
    };
    match bridge().await {
        BridgeConfig::Local => {
            let storage_key = format!("port.donation.{session_id}.{}", donation.key);
            match storage::set(Area::Local, &storage_key, donation).await {
                Ok(()) => DonateResponse { success: true, key: donation.key.clone(), status: 200, error: None },
                Err(error) => failure(0, error.0),
            }
        }
        BridgeConfig::DevHost { url } => {
            let headers = [("X-Port-Key", donation.key.as_str()), ("X-Port-Session", session_id)];
            match post(&url, "/donate", &donation.json_string, &headers).await {
                Ok(status) if (200..300).contains(&status) => {
                    DonateResponse { success: true, key: donation.key.clone(), status, error: None }
                }
                Ok(status) => failure(status, format!("the host answered {status}")),
                Err(error) => failure(0, error.0),
            }
        }
    }
}

/// POSTs JSON and logs a failure; logs and events are fire and forget.
async fn post_quietly(base_url: &str, path: &str, body: &serde_json::Value) {
    if let Err(error) = post(base_url, path, &body.to_string(), &[]).await {
        log::error(&format!("background: POST {path} failed: {error}"));
    }
}

/// POSTs a JSON body; returns the HTTP status, or an error for a network failure.
async fn post(base_url: &str, path: &str, body: &str, headers: &[(&str, &str)]) -> Result<u16, WebError> {
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let request_headers = web_sys::Headers::new()?;
    request_headers.set("Content-Type", "application/json")?;
    for (name, value) in headers {
        request_headers.set(name, value)?;
    }
    init.set_headers(&request_headers);
    init.set_body(&JsValue::from_str(body));
    let url = format!("{}{path}", base_url.trim_end_matches('/'));
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let response: web_sys::Response = JsFuture::from(scope.fetch_with_str_and_init(&url, &init)).await?.unchecked_into();
    Ok(response.status())
}
