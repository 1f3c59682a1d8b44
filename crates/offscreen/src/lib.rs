#![doc = include_str!("../README.md")]

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Array, Reflect};
use port_engine::outbox::{AckDecision, AckWait, DeliveryResult, RetryableFailure};
use port_engine::{Action, DonateAnswer, Session, SessionConfig, SessionLocale, State, donate_answer};
use port_protocol::message::{
    BackgroundMessage, DeliveryReport, DeliveryState, DeliveryView, SESSION_CHANNEL, SessionMessage, SessionStatus,
    SessionView, StudyLabel, ViewMessage,
};
use port_protocol::study::{ScriptSource, StudyConfig};
use port_protocol::worker_message::{
    BACKGROUND_TARGET, DonateOutcome, DonateQueued, FromWorker, N_BOOT_STEPS, ToBackground, ToWorker,
};
use port_protocol::{DonateResponse, Payload, Text};
use port_web::{WebError, from_js, log, runtime, set, to_js};
use wasm_bindgen::prelude::*;
use web_sys::{BroadcastChannel, HtmlIFrameElement, MessageEvent};

/// Everything the offscreen document holds.
struct Offscreen {
    session_id: String,
    session: Session,
    channel: BroadcastChannel,
    sandbox: Sandbox,
    /// What views show; `page_seq` increases with every rendered page.
    view: SessionView,
    /// The `files` array of the answer being processed: the worker gets it with the payload.
    answer_files: JsValue,
    /// The `files` array of the current page's draft (`view.draft`): the `File`s a view chose
    /// before it was closed. Sent with every state, and used by an answer that brings none.
    draft_files: JsValue,
    /// The session's locale, mirrored into `view.locale`.
    locale: SessionLocale,
    /// The study's title and version once its config is known; the title is resolved again when
    /// the locale changes.
    study: Option<(Text, String)>,
    /// The study's `platform`, passed to the script's start.
    platform: Option<String>,
    /// The script's wait for the host's acknowledgement of a donation in the outbox, by
    /// idempotency key.
    ack_waits: HashMap<String, AckWait>,
    /// Delivery results that came before the background's reply to the donation.
    early_results: HashMap<String, DeliveryResult>,
}

impl Offscreen {
    /// Mirrors the session's locale into the view, and resolves the study's title in it.
    fn update_locale(&mut self) {
        self.view.locale = self.locale.get().map(str::to_owned);
        let locale = self.locale.resolved();
        self.view.study = self
            .study
            .as_ref()
            .map(|(title, version)| StudyLabel { title: title.resolve(locale).to_owned(), version: version.clone() });
    }
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
        let window = self.frame.content_window().ok_or_else(|| WebError("the sandbox frame has no window".into()))?;
        // The sandbox's origin is opaque, so no target origin can name it; the frame's window is
        // ours alone.
        window.post_message(message, "*")?;
        Ok(())
    }

    /// Whether `event` comes from this frame's window (its worker's messages are relayed by it).
    fn is_source_of(&self, event: &MessageEvent) -> bool {
        match (event.source(), self.frame.content_window()) {
            (Some(source), Some(window)) => js_sys::Object::is(&source, &window),
            _ => false,
        }
    }
}

thread_local! {
    static OFFSCREEN: RefCell<Option<Offscreen>> = const { RefCell::new(None) };
}

fn with_offscreen<R>(f: impl FnOnce(&mut Offscreen) -> R) -> Option<R> {
    OFFSCREEN.with(|cell| cell.borrow_mut().as_mut().map(f))
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
    let session_id = parameters.get("session_id").unwrap_or_else(|| format!("{}", js_sys::Date::now() as u64));
    let study_id = parameters.get("study_id").unwrap_or_else(|| "demo".into());
    // A host page's `live-init` locale, which the background passes as `&locale=` when it starts
    // the session; without it the first view's browser language decides.
    let locale = SessionLocale::from_host_page(parameters.get("locale").as_deref());

    let channel = port_web::channel::open(SESSION_CHANNEL, on_view_message)?;
    let sandbox = Sandbox::embed(&window.document().ok_or_else(|| WebError("no document".into()))?)?;
    let on_sandbox_message = Closure::<dyn Fn(MessageEvent)>::new(|event: MessageEvent| {
        // Any page could post to this window; only the sandbox frame speaks for the worker.
        if with_offscreen(|offscreen| offscreen.sandbox.is_source_of(&event)) == Some(true) {
            on_worker_message(event.data());
        }
    });
    window.add_event_listener_with_callback("message", on_sandbox_message.as_ref().unchecked_ref())?;
    on_sandbox_message.forget();

    let view = SessionView {
        page_seq: 0,
        status: SessionStatus::Booting { step: "start".into(), step_idx: 0, n_steps: N_BOOT_STEPS },
        page: None,
        locale: locale.get().map(str::to_owned),
        // No label until the study's config says which study and version this is.
        study: None,
        deliveries: Vec::new(),
        draft: None,
    };
    OFFSCREEN.with(|cell| {
        *cell.borrow_mut() = Some(Offscreen {
            session_id,
            session: Session::new(SessionConfig::default()),
            channel,
            sandbox,
            view,
            answer_files: JsValue::UNDEFINED,
            draft_files: JsValue::UNDEFINED,
            locale,
            study: None,
            platform: None,
            ack_waits: HashMap::new(),
            early_results: HashMap::new(),
        })
    });
    port_web::log::capture_errors(|text| log::error(&format!("offscreen: {text}")));
    broadcast();
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(error) = initialise_worker(&study_id).await {
            on_script_failure(format!("cannot start the runtime: {error}"));
        }
    });
    Ok(())
}

/// Reads `build.json` (written by the builder: the runtime wheel's path), the study's config from
/// the background, resolves its script (bundled, inline, or fetched and checked against its
/// sha256) and sends `initialise`.
async fn initialise_worker(study_id: &str) -> Result<(), WebError> {
    let build_info = port_web::fetch_json(&runtime::get_url("build.json")?).await?;
    let wheel_path = build_info["runtime_wheel"]
        .as_str()
        .ok_or_else(|| WebError("build.json names no runtime_wheel".into()))?
        .to_owned();
    let config = send_to_background(&ToBackground::GetStudy { study_id: study_id.to_owned() }).await?;
    let config: Option<StudyConfig> =
        if config.is_null() || config.is_undefined() { None } else { Some(from_js(&config)?) };
    let (script_url, script_source) = match config.as_ref().map(|config| &config.script) {
        None => (runtime::get_url(&format!("studies/{study_id}/script.py"))?, None),
        Some(ScriptSource::Bundled { bundled }) => (runtime::get_url(bundled)?, None),
        Some(ScriptSource::Source { source }) => (format!("{study_id}.py"), Some(source.clone())),
        Some(ScriptSource::Url { url, .. }) => {
            let source = fetch_text(url)
                .await
                .map_err(|error| WebError(format!("cannot fetch the study script {url}: {error}")))?;
            let config = config.as_ref().expect("a url script has a config");
            config.verify_script(source.as_bytes()).map_err(|error| WebError(error.to_string()))?;
            (url.clone(), Some(source))
        }
    };
    if let Some(config) = &config {
        with_offscreen(|offscreen| {
            offscreen.platform = config.platform.clone();
            offscreen.study = Some((config.title.clone(), config.version.clone()));
            offscreen.update_locale();
        });
        broadcast();
    }
    let initialise = ToWorker::Initialise {
        index_url: runtime::get_url("pyodide/")?,
        wheel_url: runtime::get_url(&wheel_path)?,
        script_url,
        script_source,
    };
    let message = to_js(&initialise)?;
    let loaded = with_offscreen(|offscreen| offscreen.sandbox.loaded.clone())
        .ok_or_else(|| WebError("the session is gone".into()))?;
    wasm_bindgen_futures::JsFuture::from(loaded).await?;
    with_offscreen(|offscreen| offscreen.sandbox.post(&message)).transpose()?;
    Ok(())
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

/// The background reports what happened to a donation in the outbox.
fn on_delivery(message: BackgroundMessage) {
    let BackgroundMessage::Delivery { session_id, idempotency_key, key, report } = message;
    let (result, state, status) = match report {
        DeliveryReport::Delivered { status: 409 } => {
            (DeliveryResult::Duplicate409, DeliveryState::Delivered, Some(409))
        }
        DeliveryReport::Delivered { status } => {
            (DeliveryResult::Delivered { status }, DeliveryState::Delivered, Some(status))
        }
        DeliveryReport::Rejected { status, error } => {
            (DeliveryResult::Rejected { status, error }, DeliveryState::Rejected, Some(status))
        }
        DeliveryReport::Retrying { last_status } => (
            DeliveryResult::RetryableFailure(RetryableFailure::Status(last_status.unwrap_or(0))),
            DeliveryState::Pending,
            None,
        ),
    };
    let answer = with_offscreen(|offscreen| {
        if offscreen.session_id != session_id {
            return None;
        }
        set_delivery(&mut offscreen.view.deliveries, &key, state, status);
        match offscreen.ack_waits.remove(&idempotency_key) {
            Some(wait) => match wait.on_result(&result, js_sys::Date::now() as u64) {
                AckDecision::Answer(response) => Some(response),
                AckDecision::Wait(wait) => {
                    offscreen.ack_waits.insert(idempotency_key, wait);
                    None
                }
            },
            None => {
                offscreen.early_results.insert(idempotency_key, result);
                None
            }
        }
    })
    .flatten();
    broadcast();
    if let Some(response) = answer {
        answer_script(response);
    }
}

fn set_delivery(deliveries: &mut Vec<DeliveryView>, key: &str, state: DeliveryState, status: Option<u16>) {
    match deliveries.iter_mut().find(|delivery| delivery.key == key) {
        // A delivered donation stays delivered, whatever a late message says.
        Some(delivery) if delivery.state != DeliveryState::Pending => {}
        Some(delivery) => {
            delivery.state = state;
            delivery.status = status.or(delivery.status);
        }
        None => deliveries.push(DeliveryView { key: key.to_owned(), state, status }),
    }
}

/// The donation went into the outbox: wait for its result at most `ack_timeout_s`.
fn on_queued(key: String, queued: DonateQueued) {
    let now_ms = js_sys::Date::now() as u64;
    let wait = AckWait::for_donation(&key, &queued.idempotency_key, queued.ack_timeout_s, now_ms);
    let deadline_ms = wait.deadline_ms();
    let answer = with_offscreen(|offscreen| {
        if !offscreen.view.deliveries.iter().any(|delivery| delivery.key == key) {
            offscreen.view.deliveries.push(DeliveryView {
                key: key.clone(),
                state: DeliveryState::Pending,
                status: None,
            });
        }
        let decision = match offscreen.early_results.remove(&queued.idempotency_key) {
            Some(result) => wait.on_result(&result, now_ms),
            None => AckDecision::Wait(wait),
        };
        match decision {
            AckDecision::Answer(response) => Some(response),
            AckDecision::Wait(wait) => {
                offscreen.ack_waits.insert(queued.idempotency_key.clone(), wait);
                None
            }
        }
    })
    .flatten();
    broadcast();
    match answer {
        Some(response) => answer_script(response),
        None => {
            let idempotency_key = queued.idempotency_key;
            port_web::timer::set_timeout((deadline_ms as f64 - js_sys::Date::now()).max(0.0) + 10.0, move || {
                let answer = with_offscreen(|offscreen| {
                    let wait = offscreen.ack_waits.remove(&idempotency_key)?;
                    match wait.on_timer(js_sys::Date::now() as u64) {
                        AckDecision::Answer(response) => Some(response),
                        AckDecision::Wait(wait) => {
                            offscreen.ack_waits.insert(idempotency_key.clone(), wait);
                            None
                        }
                    }
                })
                .flatten();
                if let Some(response) = answer {
                    answer_script(response);
                }
            });
        }
    }
}

fn answer_script(response: DonateResponse) {
    let actions = with_offscreen(|offscreen| offscreen.session.on_host_reply(Some(response)));
    match actions {
        Some(Ok(actions)) => perform(actions),
        Some(Err(error)) => log::error(&format!("offscreen: {error}")),
        None => {}
    }
}

fn broadcast() {
    with_offscreen(|offscreen| {
        let message = SessionMessage::State(offscreen.view.clone());
        match to_js(&message) {
            Ok(value) => {
                if offscreen.view.draft.is_some() && !offscreen.draft_files.is_undefined() {
                    // The draft's `File`s, as the view that chose them sent them (structured clone).
                    set(&value, "files", &offscreen.draft_files);
                }
                let _ = offscreen.channel.post_message(&value);
            }
            Err(error) => log::error(&format!("offscreen: cannot encode the state: {error}")),
        }
    });
}

fn on_view_message(data: JsValue) {
    let message: ViewMessage = match from_js(&data) {
        Ok(message) => message,
        // Our own state messages and other traffic on the channel are not view messages.
        Err(_) => {
            if let Ok(message) = from_js::<BackgroundMessage>(&data) {
                on_delivery(message);
            }
            return;
        }
    };
    match message {
        ViewMessage::Attach => broadcast(),
        ViewMessage::SetLocale { locale } => {
            with_offscreen(|offscreen| {
                offscreen.locale.on_switch(locale);
                offscreen.update_locale();
            });
            broadcast();
        }
        ViewMessage::BrowserLocale { browser_locale } => {
            let changed = with_offscreen(|offscreen| {
                let changed = offscreen.locale.on_browser_language(&browser_locale);
                offscreen.update_locale();
                changed
            });
            if changed == Some(true) {
                broadcast();
            }
        }
        ViewMessage::Draft { page_seq, draft } => {
            // Kept, not broadcast: the view that sent it has it, and a view that opens later gets
            // it with the state that answers its `Attach`.
            with_offscreen(|offscreen| {
                if page_seq == offscreen.view.page_seq && matches!(offscreen.session.state(), State::AwaitingUi { .. })
                {
                    offscreen.view.draft = Some(draft);
                    offscreen.draft_files = Reflect::get(&data, &"files".into()).unwrap_or(JsValue::UNDEFINED);
                }
            });
        }
        ViewMessage::Answer { page_seq, payload } => {
            let actions = with_offscreen(|offscreen| {
                if page_seq != offscreen.view.page_seq || !matches!(offscreen.session.state(), State::AwaitingUi { .. })
                {
                    // An answer to a page that is gone, e.g. from a second view.
                    return Vec::new();
                }
                let files = Reflect::get(&data, &"files".into()).unwrap_or(JsValue::UNDEFINED);
                // An answer without files may name the files the session kept with the draft.
                offscreen.answer_files =
                    if files.is_undefined() || files.is_null() { offscreen.draft_files.clone() } else { files };
                match offscreen.session.on_ui_answer(payload) {
                    Ok(actions) => {
                        offscreen.view.status = SessionStatus::Working;
                        actions
                    }
                    Err(error) => {
                        log::error(&format!("offscreen: {error}"));
                        Vec::new()
                    }
                }
            });
            broadcast();
            perform(actions.unwrap_or_default());
        }
    }
}

fn on_worker_message(data: JsValue) {
    let message: FromWorker = match from_js(&data) {
        Ok(message) => message,
        Err(error) => return log::error(&format!("offscreen: bad worker message: {error}")),
    };
    match message {
        FromWorker::BootProgress { step, step_idx, n_steps } => {
            with_offscreen(|offscreen| offscreen.view.status = SessionStatus::Booting { step, step_idx, n_steps });
            broadcast();
        }
        FromWorker::InitialiseDone => {
            let actions = with_offscreen(|offscreen| {
                offscreen.view.status = SessionStatus::Working;
                offscreen.session.start()
            });
            broadcast();
            match actions {
                Some(Ok(actions)) => perform(actions),
                Some(Err(error)) => log::error(&format!("offscreen: {error}")),
                None => {}
            }
        }
        FromWorker::RunCycleDone { command_json } => {
            let actions = with_offscreen(|offscreen| offscreen.session.on_script_output(Ok(command_json)));
            match actions {
                Some(Ok(actions)) => perform(actions),
                Some(Err(error)) => log::error(&format!("offscreen: {error}")),
                None => {}
            }
        }
        FromWorker::Error { message } => on_script_failure(message),
    }
}

/// The runtime failed. The message may hold participant data: it goes to the local console and
/// the error page only.
fn on_script_failure(message: String) {
    log::error(&format!("offscreen: the script runtime failed: {message}"));
    // Whatever the session waits for (the script, a page, a donation) or before it started.
    let actions = with_offscreen(|offscreen| offscreen.session.on_runtime_failure(message).unwrap_or_default());
    perform(actions.unwrap_or_default());
}

fn perform(actions: Vec<Action>) {
    for action in actions {
        if let Err(error) = perform_one(action) {
            log::error(&format!("offscreen: {error}"));
        }
    }
}

fn perform_one(action: Action) -> Result<(), WebError> {
    match action {
        Action::SendToScript(reply) => {
            let message = match reply {
                None => {
                    let (session_id, platform) =
                        with_offscreen(|offscreen| (offscreen.session_id.clone(), offscreen.platform.clone()))
                            .unwrap_or_default();
                    to_js(&ToWorker::FirstRunCycle { session_id, platform })?
                }
                Some(payload) => {
                    let has_files = matches!(payload, Payload::File(_) | Payload::FileArray(_));
                    let message = to_js(&ToWorker::NextRunCycle { response: payload })?;
                    if has_files {
                        let files = with_offscreen(|offscreen| {
                            std::mem::replace(&mut offscreen.answer_files, JsValue::UNDEFINED)
                        });
                        set(&message, "files", &files.unwrap_or(Array::new().into()));
                    }
                    message
                }
            };
            with_offscreen(|offscreen| offscreen.sandbox.post(&message)).transpose()?;
        }
        Action::Render(page) => {
            with_offscreen(|offscreen| {
                offscreen.view.page_seq += 1;
                offscreen.view.page = Some(page);
                offscreen.view.draft = None;
                offscreen.draft_files = JsValue::UNDEFINED;
                offscreen.view.status = match offscreen.session.state() {
                    State::AwaitingUi { .. } => SessionStatus::AwaitingParticipant,
                    State::Crashed { .. } => SessionStatus::Crashed,
                    _ => SessionStatus::Working,
                };
            });
            broadcast();
            let crashed = with_offscreen(|offscreen| offscreen.view.status == SessionStatus::Crashed).unwrap_or(false);
            if crashed {
                // The next view that opens starts a fresh session.
                fire_and_forget(ToBackground::SessionCrashed { session_id: session_id() });
            }
        }
        Action::Donate(donation) => {
            let session_id = session_id();
            wasm_bindgen_futures::spawn_local(async move {
                let key = donation.key.clone();
                let reply = send_to_background(&ToBackground::Donate { session_id, donation }).await;
                let outcome: Result<DonateOutcome, String> = match reply {
                    Ok(value) if value.is_null() || value.is_undefined() => {
                        Err("the extension's background gave no answer to the donation".into())
                    }
                    Ok(value) => from_js(&value).map_err(|error| {
                        log::error(&format!("offscreen: bad donate reply: {error}"));
                        "the extension's background gave an answer to the donation that cannot be read".to_owned()
                    }),
                    Err(error) => {
                        log::error(&format!("offscreen: donate failed: {error}"));
                        Err(format!("the donation did not reach the extension's background: {error}"))
                    }
                };
                match donate_answer(&key, outcome) {
                    DonateAnswer::Wait(queued) => on_queued(key, queued),
                    DonateAnswer::Reply(response) => answer_script(response),
                }
            });
        }
        Action::SendLogs(entries) => fire_and_forget(ToBackground::Logs { session_id: session_id(), entries }),
        Action::SendEvent(name) => fire_and_forget(ToBackground::Event { session_id: session_id(), name }),
        Action::Exit(exit) => {
            with_offscreen(|offscreen| offscreen.view.status = SessionStatus::Finished { code: exit.code });
            broadcast();
            fire_and_forget(ToBackground::Exit { session_id: session_id(), exit });
        }
    }
    Ok(())
}

fn session_id() -> String {
    with_offscreen(|offscreen| offscreen.session_id.clone()).unwrap_or_default()
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
