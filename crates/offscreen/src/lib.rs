#![doc = include_str!("../README.md")]

use std::cell::RefCell;

mod snapshot_store;

use js_sys::Reflect;
use port_engine::SessionLocale;
use port_engine::extension_session::{DonateReply, Effect, ExtensionSession, Files, StudyScript, study_script};
use port_engine::snapshot::{SnapshotEffect, StoredSnapshot};
use port_protocol::DonateCommand;
use port_protocol::donation_body::StoredDonation;
use port_protocol::message::{BackgroundMessage, SESSION_CHANNEL, SessionMessage, ViewMessage};
use port_protocol::study::StudyConfig;
use port_protocol::worker_message::{
    BACKGROUND_TARGET, COMMAND_JSON_FIELD, DONATION_BODY_FIELD, DonateOutcome, FromWorker, ToBackground, ToWorker,
};
use port_web::{WebError, from_js, log, runtime, set, to_js};
use wasm_bindgen::prelude::*;
use web_sys::{BroadcastChannel, HtmlIFrameElement, MessageEvent};

/// Everything the offscreen document holds.
struct Offscreen {
    session: ExtensionSession,
    channel: BroadcastChannel,
    sandbox: Sandbox,
    /// A second sandbox whose worker only makes a runtime snapshot, while one is made.
    maker: Option<Sandbox>,
    /// Pyodide's folder and the runtime wheel, as extension URLs, once `build.json` was read.
    runtime_urls: Option<(String, String)>,
    /// The `files` array of the draft message whose files the draft keeps
    /// ([`Effect::KeepDraftFiles`]), as the view that chose them sent it (structured clone);
    /// `undefined` when it keeps none.
    draft_files: JsValue,
}

/// The sandbox page (`sandbox.html`, a manifest sandbox page) in an iframe; the worker it starts
/// runs Pyodide and the study script. It is the trust boundary: what it posts is accepted only from
/// this frame's window and decoded as untrusted input (`FromWorker`), and it gets only `ToWorker`
/// messages.
struct Sandbox {
    frame: HtmlIFrameElement,
    /// Resolves when the frame's page has loaded, and so listens: a message posted earlier is lost.
    loaded: js_sys::Promise,
}

impl Sandbox {
    fn embed(document: &web_sys::Document) -> Result<Sandbox, WebError> {
        let frame: HtmlIFrameElement = document.create_element("iframe")?.unchecked_into();
        let loaded = js_sys::Promise::new(&mut |resolve, _reject| frame.set_onload(Some(&resolve)));
        frame.set_src(&runtime::get_url("sandbox.html")?);
        document.body().ok_or_else(|| WebError("offscreen.html has no body".into()))?.append_child(&frame)?;
        Ok(Sandbox { frame, loaded })
    }

    fn post(&self, message: &JsValue) -> Result<(), WebError> {
        self.post_moving(message, &js_sys::Array::new())
    }

    /// Posts `message`, moving the buffers in `transfer` instead of copying them.
    fn post_moving(&self, message: &JsValue, transfer: &js_sys::Array) -> Result<(), WebError> {
        let window = self.frame.content_window().ok_or_else(|| WebError("the sandbox frame has no window".into()))?;
        // The sandbox's origin is opaque, so no target origin can name it; the frame's window is
        // ours alone.
        window.post_message_with_transfer(message, "*", transfer)?;
        Ok(())
    }

    /// Whether `event` comes from this frame's window (its worker's messages are relayed by it).
    fn is_source_of(&self, event: &MessageEvent) -> bool {
        match (event.source(), self.frame.content_window()) {
            (Some(source), Some(window)) => js_sys::Object::is(&source, &window),
            _ => false,
        }
    }

    /// Takes the frame out of the document, which ends its worker.
    fn remove(&self) {
        self.frame.remove();
    }
}

thread_local! {
    static OFFSCREEN: RefCell<Option<Offscreen>> = const { RefCell::new(None) };
}

fn with_offscreen<R>(f: impl FnOnce(&mut Offscreen) -> R) -> Option<R> {
    OFFSCREEN.with(|cell| cell.borrow_mut().as_mut().map(f))
}

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

#[wasm_bindgen(start)]
pub fn start() {
    if let Err(error) = try_start() {
        log::error(&format!("offscreen: start failed: {error}"));
    }
}

fn try_start() -> Result<(), WebError> {
    let window = web_sys::window().ok_or_else(|| WebError("no window".into()))?;
    let parameters = web_sys::UrlSearchParams::new_with_str(&window.location().search()?)?;
    let session_id = parameters.get("session_id").unwrap_or_else(|| now_ms().to_string());
    let study_id = parameters.get("study_id").unwrap_or_else(|| "demo".into());
    // A host page's `live-init` locale, which the background passes as `&locale=` when it starts
    // the session.
    let locale = SessionLocale::from_host_page(parameters.get("locale").as_deref());
    let requested_at = parameters.get("requested_at").and_then(|text| text.parse::<u64>().ok());

    let channel = port_web::channel::open(SESSION_CHANNEL, on_channel_message)?;
    let sandbox = Sandbox::embed(&window.document().ok_or_else(|| WebError("no document".into()))?)?;
    let on_sandbox_message = Closure::<dyn Fn(MessageEvent)>::new(|event: MessageEvent| {
        // Any page could post to this window; only the sandbox frames speak for their workers.
        let from = with_offscreen(|offscreen| {
            (
                offscreen.sandbox.is_source_of(&event),
                offscreen.maker.as_ref().is_some_and(|maker| maker.is_source_of(&event)),
            )
        });
        match from {
            Some((true, _)) => on_worker_message(event.data()),
            Some((_, true)) => on_maker_message(event.data()),
            _ => {}
        }
    });
    window.add_event_listener_with_callback("message", on_sandbox_message.as_ref().unchecked_ref())?;
    on_sandbox_message.forget();

    let mut session = ExtensionSession::new(session_id, locale);
    if let Some(requested_at) = requested_at {
        session.start_boot_trace(requested_at);
    }
    // The document's own start, then its wasm's: the gap is loading offscreen.html and the glue.
    let _ = session.mark_boot("offscreen document", (window.performance().map_or(0.0, |p| p.time_origin())) as u64);
    let _ = session.mark_boot("offscreen wasm", now_ms());
    OFFSCREEN.with(|cell| {
        *cell.borrow_mut() = Some(Offscreen {
            session,
            channel,
            sandbox,
            maker: None,
            runtime_urls: None,
            draft_files: JsValue::UNDEFINED,
        })
    });
    port_web::log::capture_errors(|text| log::error(&format!("offscreen: {text}")));
    dispatch(&JsValue::UNDEFINED, ExtensionSession::on_open);
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(error) = initialise_worker(&study_id).await {
            let message = format!("cannot start the runtime: {error}");
            dispatch(&JsValue::UNDEFINED, |session| session.on_runtime_failure(message));
        }
    });
    Ok(())
}

/// Reads `build.json` (written by the builder: the wheels' paths and the snapshot key) and the
/// study's config from the background, gets the script where [`study_script`] says, looks up the
/// runtime snapshot of this build, and sends `initialise`.
async fn initialise_worker(study_id: &str) -> Result<(), WebError> {
    let build_info = port_web::fetch_json(&runtime::get_url("build.json")?).await?;
    let build_path = |name: &str| {
        build_info[name].as_str().map(str::to_owned).ok_or_else(|| WebError(format!("build.json names no {name}")))
    };
    let wheel_path = build_path("runtime_wheel")?;
    let snapshot_key = build_info["snapshot_key"].as_str().map(str::to_owned);
    let bundled_snapshot = match build_info["bundled_snapshot"].as_str() {
        Some(path) => Some(runtime::get_url(path)?),
        None => None,
    };
    // Read the stored snapshot (made in this browser; tens of megabytes, and its digest) while the
    // study's config and script come.
    let snapshot_lookup = snapshot_key.clone().map(|key| {
        wasm_bindgen_futures::future_to_promise(async move {
            Ok(match snapshot_store::load(key).await {
                Ok((StoredSnapshot::Found, Some(bytes))) => bytes.into(),
                Ok((StoredSnapshot::Corrupt, _)) => "corrupt".into(),
                Ok(_) => JsValue::NULL,
                Err(error) => {
                    log::error(&format!("offscreen: the snapshot store cannot be read: {error}"));
                    JsValue::NULL
                }
            })
        })
    });
    let config = send_to_background(&ToBackground::GetStudy { study_id: study_id.to_owned() }).await?;
    let config: Option<StudyConfig> =
        if config.is_null() || config.is_undefined() { None } else { Some(from_js(&config)?) };
    let (script_url, script_source) = match study_script(study_id, config.as_ref()) {
        StudyScript::Bundled { path } => (runtime::get_url(&path)?, None),
        StudyScript::Inline { name, source } => (name, Some(source)),
        StudyScript::Fetch { url } => {
            let source = fetch_text(&url)
                .await
                .map_err(|error| WebError(format!("cannot fetch the study script {url}: {error}")))?;
            if let Some(config) = &config {
                config.verify_script(source.as_bytes()).map_err(|error| WebError(error.to_string()))?;
            }
            (url, Some(source))
        }
    };
    if let Some(config) = &config {
        dispatch(&JsValue::UNDEFINED, |session| session.on_study_config(config));
    }
    mark_boot("study script ready");
    let found = match snapshot_lookup {
        Some(lookup) => wasm_bindgen_futures::JsFuture::from(lookup).await.unwrap_or(JsValue::NULL),
        None => JsValue::NULL,
    };
    let (stored, snapshot_bytes) = match found.dyn_into::<js_sys::Uint8Array>() {
        Ok(bytes) => (StoredSnapshot::Found, Some(bytes)),
        Err(other) if other.as_string().as_deref() == Some("corrupt") => (StoredSnapshot::Corrupt, None),
        // Nothing stored: the build's own, which the worker reads itself.
        Err(_) if bundled_snapshot.is_some() => (StoredSnapshot::Found, None),
        Err(_) => (StoredSnapshot::Missing, None),
    };
    mark_boot("snapshot looked up");
    let mut snapshot = None;
    dispatch(&JsValue::UNDEFINED, |session| {
        let (request, effects) = session.plan_snapshot(snapshot_key.as_deref(), stored);
        snapshot = request;
        effects
    });
    // The bytes go along only when the session asked the worker to load them; without bytes, the
    // worker reads the bundled snapshot.
    let snapshot_bytes = snapshot.as_ref().and(snapshot_bytes);
    let bundled_snapshot = snapshot.as_ref().and(bundled_snapshot).filter(|_| snapshot_bytes.is_none());
    let (index_url, wheel_url) = (runtime::get_url("pyodide/")?, runtime::get_url(&wheel_path)?);
    with_offscreen(|offscreen| offscreen.runtime_urls = Some((index_url.clone(), wheel_url.clone())));
    let initialise =
        ToWorker::Initialise { index_url, wheel_url, script_url, script_source, snapshot, bundled_snapshot };
    let message = to_js(&initialise)?;
    let transfer = match snapshot_bytes {
        Some(bytes) => port_web::attach_transferred(&message, port_web::SNAPSHOT_BYTES_FIELD, &bytes),
        None => js_sys::Array::new(),
    };
    let loaded = with_offscreen(|offscreen| offscreen.sandbox.loaded.clone())
        .ok_or_else(|| WebError("the session is gone".into()))?;
    wasm_bindgen_futures::JsFuture::from(loaded).await?;
    mark_boot("sandbox loaded");
    with_offscreen(|offscreen| offscreen.sandbox.post_moving(&message, &transfer)).transpose()?;
    Ok(())
}

/// Notes a step of the boot; the whole trace goes to the console once the study's first command came.
fn mark_boot(step: &str) {
    if let Some(Some(trace)) = with_offscreen(|offscreen| offscreen.session.mark_boot(step, now_ms())) {
        log::info(&format!("offscreen: {trace}"));
    }
}

async fn fetch_text(url: &str) -> Result<String, WebError> {
    let window = web_sys::window().ok_or_else(|| WebError("no window".into()))?;
    let response: web_sys::Response =
        wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(url)).await?.unchecked_into();
    if !response.ok() {
        return Err(WebError(format!("HTTP {}", response.status())));
    }
    wasm_bindgen_futures::JsFuture::from(response.text()?).await?.as_string().ok_or_else(|| WebError("not text".into()))
}

fn on_maker_message(data: JsValue) {
    let snapshot = port_web::take_snapshot_bytes(&data);
    match from_js::<FromWorker>(&data) {
        Ok(message) => dispatch(&snapshot, |session| session.on_maker_message(message)),
        Err(_) => log::error("offscreen: a message from the snapshot maker that is not a FromWorker was ignored"),
    }
}

/// Embeds the maker's sandbox and asks its worker for a snapshot under `key`.
fn start_maker(offscreen: &mut Offscreen, key: String) -> Result<(), WebError> {
    let (index_url, wheel_url) =
        offscreen.runtime_urls.clone().ok_or_else(|| WebError("no runtime to snapshot yet".into()))?;
    let document =
        web_sys::window().and_then(|window| window.document()).ok_or_else(|| WebError("no document".into()))?;
    let maker = Sandbox::embed(&document)?;
    let loaded = maker.loaded.clone();
    offscreen.maker = Some(maker);
    let message = to_js(&ToWorker::MakeSnapshot { index_url, wheel_url, key })?;
    wasm_bindgen_futures::spawn_local(async move {
        let posted = match wasm_bindgen_futures::JsFuture::from(loaded).await {
            Ok(_) => with_offscreen(|offscreen| offscreen.maker.as_ref().map(|maker| maker.post(&message))),
            Err(error) => Some(Some(Err(WebError::from(error)))),
        };
        if let Some(Some(Err(error))) = posted {
            log::error(&format!("offscreen: the snapshot maker did not start: {error}"));
        }
    });
    Ok(())
}

impl Offscreen {
    /// Takes the maker's sandbox out, which ends its worker.
    fn stop_maker(&mut self) {
        if let Some(maker) = self.maker.take() {
            maker.remove();
        }
    }
}

/// A message on the session channel: a view's, or the background's delivery report. Our own state
/// messages and other traffic are neither.
fn on_channel_message(data: JsValue) {
    if let Ok(message) = from_js::<ViewMessage>(&data) {
        let files = Reflect::get(&data, &"files".into()).unwrap_or(JsValue::UNDEFINED);
        let carries_files = !files.is_undefined() && !files.is_null();
        dispatch(&files, |session| session.on_view_message(message, carries_files));
    } else if let Ok(message) = from_js::<BackgroundMessage>(&data) {
        dispatch(&JsValue::UNDEFINED, |session| session.on_background_message(message, now_ms()));
    }
}

fn on_worker_message(data: JsValue) {
    // A snapshot's bytes travel next to the message, as files do next to a view's.
    let snapshot = port_web::take_snapshot_bytes(&data);
    let command_json = port_web::take_text(&data, COMMAND_JSON_FIELD);
    // Copied into this module's memory once; the moved buffer is let go at once.
    let donation_body =
        port_web::take(&data, DONATION_BODY_FIELD).dyn_into::<js_sys::Uint8Array>().ok().map(|bytes| bytes.to_vec());
    match from_js::<FromWorker>(&data) {
        Ok(mut message) => {
            if let FromWorker::RunCycleDone { command_json: text, donation_body: body } = &mut message {
                if let Some(taken) = command_json {
                    *text = taken;
                }
                *body = donation_body;
            }
            match &message {
                FromWorker::BootProgress { step, .. } => mark_boot(&format!("worker: {step}")),
                FromWorker::SnapshotRefused { .. } => mark_boot("worker: snapshot refused"),
                FromWorker::InitialiseDone => mark_boot("worker: study loaded"),
                FromWorker::RunCycleDone { .. } => mark_boot(port_engine::extension_session::BOOT_TRACE_END),
                FromWorker::SnapshotMade { .. } | FromWorker::Error { .. } => {}
            }
            dispatch(&snapshot, |session| session.on_worker_message(message))
        }
        // The decode error would quote the message, which may hold the script's data.
        Err(_) => log::error("offscreen: a message from the worker that is not a FromWorker was ignored"),
    }
}

/// Hands one event to the session and performs the effects it returns. `attached` is what the
/// message being handled carries beside its JSON: a view message's `files` array
/// ([`Files::Answer`], [`Effect::KeepDraftFiles`]), a worker message's snapshot bytes.
fn dispatch(attached: &JsValue, event: impl FnOnce(&mut ExtensionSession) -> Vec<Effect>) {
    with_offscreen(|offscreen| {
        for effect in event(&mut offscreen.session) {
            if let Err(error) = perform(offscreen, effect, attached) {
                log::error(&format!("offscreen: {error}"));
            }
        }
    });
}

fn perform(offscreen: &mut Offscreen, effect: Effect, attached: &JsValue) -> Result<(), WebError> {
    match effect {
        Effect::Broadcast { view, files } => {
            let message = to_js(&SessionMessage::State(*view))?;
            attach_files(&message, files, attached, &offscreen.draft_files);
            offscreen.channel.post_message(&message)?;
        }
        Effect::PostToWorker { message, files } => {
            let message = to_js(&message)?;
            attach_files(&message, files, attached, &offscreen.draft_files);
            offscreen.sandbox.post(&message)?;
        }
        Effect::KeepDraftFiles => offscreen.draft_files = attached.clone(),
        Effect::DropDraftFiles => offscreen.draft_files = JsValue::UNDEFINED,
        Effect::SendToBackground(message) => fire_and_forget(message),
        Effect::Donate { session_id, donation } => wasm_bindgen_futures::spawn_local(async move {
            let reply = donate(session_id, donation).await;
            dispatch(&JsValue::UNDEFINED, |session| session.on_donate_reply(reply, now_ms()));
        }),
        Effect::StartAckTimer { idempotency_key, at_ms } => {
            port_web::timer::set_timeout(at_ms as f64 - js_sys::Date::now(), move || {
                dispatch(&JsValue::UNDEFINED, |session| session.on_ack_timer(&idempotency_key, now_ms()));
            });
        }
        Effect::Snapshot(SnapshotEffect::StartMaker { key }) => start_maker(offscreen, key)?,
        Effect::Snapshot(SnapshotEffect::Store { key }) => {
            let stored = snapshot_store::store(key, attached.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(error) = stored.await {
                    log::error(&format!("offscreen: the runtime snapshot was not stored: {error}"));
                }
                with_offscreen(Offscreen::stop_maker);
            });
        }
        Effect::Snapshot(SnapshotEffect::StopMaker) => offscreen.stop_maker(),
        Effect::Snapshot(SnapshotEffect::Drop { key }) => {
            let dropped = snapshot_store::drop_entry(key);
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(error) = dropped.await {
                    log::error(&format!("offscreen: the runtime snapshot was not removed: {error}"));
                }
            });
        }
        Effect::LogError(text) => log::error(&format!("offscreen: {text}")),
    }
    Ok(())
}

/// Sets the message's `files` array to the files the effect names.
fn attach_files(message: &JsValue, files: Files, message_files: &JsValue, draft_files: &JsValue) {
    match files {
        Files::None => {}
        Files::Answer => set(message, "files", message_files),
        Files::Draft => set(message, "files", draft_files),
    }
}

/// Copies the donation's body out of the wasm memory into a `Blob`, lets go of the text, and
/// hands the `Blob` to the background by the Service Worker API (by reference, never in a
/// `chrome.runtime` message, which is capped at 64 MiB). The background sends it at once and
/// writes it into Cache Storage meanwhile, for retries.
async fn donate(session_id: String, donation: DonateCommand) -> DonateReply {
    let DonateCommand { key, json_string } = donation;
    let new_body = port_web::donation_bodies::new_body(&json_string).await;
    drop(json_string);
    let port_web::donation_bodies::NewBody { blob, body } = match new_body {
        Ok(new_body) => new_body,
        Err(error) => return DonateReply::NotKept { error: error.0 },
    };
    let message = ToBackground::Donate { session_id, donation: StoredDonation { key, body } };
    let sent = match to_js(&message) {
        Ok(value) => port_web::service_worker::post_with_blob(&value, &blob).await,
        Err(error) => Err(error),
    };
    match sent {
        Ok(value) if value.is_null() || value.is_undefined() => DonateReply::Nothing,
        Ok(value) => match from_js::<DonateOutcome>(&value) {
            Ok(outcome) => DonateReply::Outcome(outcome),
            Err(error) => DonateReply::Unreadable { error: error.0 },
        },
        Err(error) => DonateReply::NotSent { error: error.0 },
    }
}

async fn send_to_background(message: &ToBackground) -> Result<JsValue, WebError> {
    let value = to_js(message)?;
    set(&value, "target", &BACKGROUND_TARGET.into());
    runtime::send_message(&value).await
}

fn fire_and_forget(message: ToBackground) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(error) = send_to_background(&message).await {
            log::error(&format!("offscreen: sending to the background failed: {error}"));
        }
    });
}
