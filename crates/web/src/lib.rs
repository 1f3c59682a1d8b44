#![doc = include_str!("../README.md")]

use js_sys::{Array, Function, Object, Promise, Reflect};
use serde::{Serialize, de::DeserializeOwned};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// A failed browser call, as text for the developer log. Never shown to a participant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebError(pub String);

impl std::fmt::Display for WebError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl From<JsValue> for WebError {
    fn from(value: JsValue) -> WebError {
        WebError(describe_js_error(&value))
    }
}

/// The text of a thrown JS value: `error.message` (+ stack) or its string form.
pub fn describe_js_error(value: &JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        let message = String::from(error.message());
        let stack = Reflect::get(error, &"stack".into()).ok().and_then(|stack| stack.as_string());
        return match stack {
            Some(stack) if !stack.contains(&message) => format!("{message}\n{stack}"),
            Some(stack) => stack,
            None => message,
        };
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}

/// Reads `object.path[0].path[1]…`.
pub fn get_path(object: &JsValue, path: &[&str]) -> Result<JsValue, WebError> {
    let mut value = object.clone();
    for name in path {
        value = Reflect::get(&value, &JsValue::from_str(name))?;
        if value.is_undefined() {
            return Err(WebError(format!("{} is undefined", path.join("."))));
        }
    }
    Ok(value)
}

/// Calls `object.path…(args)` with `this` bound to the object that holds the method.
pub fn call_path(object: &JsValue, path: &[&str], args: &[JsValue]) -> Result<JsValue, WebError> {
    let (method_name, holder_path) = path.split_last().expect("a path names a method");
    let holder = get_path(object, holder_path)?;
    let method: Function = get_path(&holder, &[method_name])?.unchecked_into();
    let arguments: Array = args.iter().collect();
    Ok(Reflect::apply(&method, &holder, &arguments)?)
}

/// Calls a promise-returning method and awaits it.
pub async fn call_path_async(object: &JsValue, path: &[&str], args: &[JsValue]) -> Result<JsValue, WebError> {
    let promise: Promise = call_path(object, path, args)?.unchecked_into();
    Ok(JsFuture::from(promise).await?)
}

/// The global `chrome` object.
pub fn chrome() -> Result<JsValue, WebError> {
    get_path(&js_sys::global(), &["chrome"])
}

/// A serde value as a plain JS object, through JSON so that it has exactly the serde_json shape.
pub fn to_js<T: Serialize>(value: &T) -> Result<JsValue, WebError> {
    let text = serde_json::to_string(value).map_err(|error| WebError(error.to_string()))?;
    Ok(js_sys::JSON::parse(&text)?)
}

/// A plain JS object as a serde value, through JSON. `File`s inside become `{}`; take them out first.
pub fn from_js<T: DeserializeOwned>(value: &JsValue) -> Result<T, WebError> {
    let text: String = js_sys::JSON::stringify(value)?.into();
    serde_json::from_str(&text).map_err(|error| WebError(format!("{error} in {}", truncate(&text, 200))))
}

fn truncate(text: &str, n_chars: usize) -> String {
    text.chars().take(n_chars).collect()
}

/// `fetch(url)` parsed as JSON, from any global scope (document, worker, service worker).
pub async fn fetch_json(url: &str) -> Result<serde_json::Value, WebError> {
    let response = call_path_async(&js_sys::global(), &["fetch"], &[url.into()]).await?;
    let ok = Reflect::get(&response, &"ok".into())?.as_bool().unwrap_or(false);
    if !ok {
        return Err(WebError(format!("fetching {url} failed")));
    }
    let text = call_path_async(&response, &["text"], &[]).await?;
    let text = text.as_string().ok_or_else(|| WebError(format!("{url} is not text")))?;
    serde_json::from_str(&text).map_err(|error| WebError(format!("{url}: {error}")))
}

/// Sets `object[name] = value` on a JS object.
pub fn set(object: &JsValue, name: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}

/// Removes `object[name]` and returns it (`undefined` when absent). For bytes that travel beside a
/// message's JSON: decoding the message must not walk them element by element.
pub fn take(object: &JsValue, name: &str) -> JsValue {
    let key = JsValue::from_str(name);
    let value = Reflect::get(object, &key).unwrap_or(JsValue::UNDEFINED);
    if let Some(object) = object.dyn_ref::<Object>() {
        let _ = Reflect::delete_property(object, &key);
    }
    value
}

/// Takes the string `object[name]` off as Rust text, leaving `""` in its place (`None` when it is
/// no string). The browser's `TextEncoder` sizes the UTF-8 exactly: wasm-bindgen's own conversion
/// first reserves three bytes per character in the wasm memory, which never shrinks again, and a
/// donation's JSON may be hundreds of megabytes.
pub fn take_text(object: &JsValue, name: &str) -> Option<String> {
    let value = Reflect::get(object, &JsValue::from_str(name)).ok()?;
    if !value.is_string() {
        return None;
    }
    set(object, name, &JsValue::from_str(""));
    let constructor: Function = get_path(&js_sys::global(), &["TextEncoder"]).ok()?.unchecked_into();
    let encoder = Reflect::construct(&constructor, &Array::new()).ok()?;
    let bytes: js_sys::Uint8Array = call_path(&encoder, &["encode"], &[value]).ok()?.unchecked_into();
    String::from_utf8(bytes.to_vec()).ok()
}

/// The field beside a message's JSON that carries a runtime snapshot's bytes.
pub const SNAPSHOT_BYTES_FIELD: &str = "snapshotBytes";

/// The field beside a message's JSON that lists the buffers it moves rather than copies, so the
/// sandbox page's relay moves them on too (`sandbox.js`).
pub const TRANSFER_FIELD: &str = "transfer";

/// Takes the snapshot bytes (and their transfer list) off a received message, so that decoding it
/// never walks them; returns the bytes (`undefined` when it carries none).
pub fn take_snapshot_bytes(message: &JsValue) -> JsValue {
    let _ = take(message, TRANSFER_FIELD);
    take(message, SNAPSHOT_BYTES_FIELD)
}

/// Puts `bytes` (a typed array) in `message` as `name` and lists its buffer in the message's
/// transfer list; returns that list for `postMessage`.
pub fn attach_transferred(message: &JsValue, name: &str, bytes: &JsValue) -> Array {
    set(message, name, bytes);
    let transfer = Array::of1(&Reflect::get(bytes, &"buffer".into()).unwrap_or(JsValue::UNDEFINED));
    set(message, TRANSFER_FIELD, &transfer);
    transfer
}

/// A new empty JS object.
pub fn new_object() -> JsValue {
    Object::new().into()
}

pub mod donation_bodies;

pub mod service_worker {
    //! Messages from an extension page to the extension's service worker through the Service
    //! Worker API: structured clone, so a `Blob` crosses by reference and nothing caps the size,
    //! unlike `chrome.runtime` messages (JSON, 64 MiB).

    use super::*;

    /// The message field of the `Blob` that travels beside a message's JSON.
    pub const BLOB_FIELD: &str = "blob";

    /// How long a reply may take before the message counts as lost (the worker stopped while it
    /// handled it).
    const REPLY_TIMEOUT_MS: f64 = 120_000.0;

    /// Posts `message` with `blob` beside it ([`BLOB_FIELD`]) to the active service worker and
    /// awaits its reply on a `MessageChannel`.
    pub async fn post_with_blob(message: &JsValue, blob: &JsValue) -> Result<JsValue, WebError> {
        let container = get_path(&js_sys::global(), &["navigator", "serviceWorker"])?;
        let registration = call_path_async(&container, &["getRegistration"], &[]).await?;
        let worker = get_path(&registration, &["active"])
            .ok()
            .filter(|worker| !worker.is_undefined() && !worker.is_null())
            .ok_or_else(|| WebError("the extension's service worker is not active".into()))?;
        set(message, BLOB_FIELD, blob);
        let channel = web_sys::MessageChannel::new()?;
        let reply = Promise::new(&mut |resolve, reject| {
            let on_reply = Closure::once_into_js(move |event: web_sys::MessageEvent| {
                let _ = resolve.call1(&JsValue::UNDEFINED, &event.data());
            });
            channel.port1().set_onmessage(Some(on_reply.unchecked_ref()));
            let on_timeout = Closure::once_into_js(move || {
                let _ = reject.call1(&JsValue::UNDEFINED, &"the extension's service worker did not answer".into());
            });
            let _ = call_path(&js_sys::global(), &["setTimeout"], &[on_timeout, REPLY_TIMEOUT_MS.into()]);
        });
        call_path(&worker, &["postMessage"], &[message.clone(), Array::of1(&channel.port2()).into()])?;
        Ok(JsFuture::from(reply).await?)
    }
}

pub mod runtime {
    //! `chrome.runtime`: messaging between contexts (JSON only) and extension URLs.

    use super::*;

    /// `chrome.runtime.getURL(path)`.
    pub fn get_url(path: &str) -> Result<String, WebError> {
        let url = call_path(&chrome()?, &["runtime", "getURL"], &[path.into()])?;
        url.as_string().ok_or_else(|| WebError("getURL returned no string".into()))
    }

    /// `chrome.runtime.sendMessage(message)`, awaiting the reply.
    pub async fn send_message(message: &JsValue) -> Result<JsValue, WebError> {
        call_path_async(&chrome()?, &["runtime", "sendMessage"], std::slice::from_ref(message)).await
    }

    /// Listens to `chrome.runtime.onMessage`. The handler returns `Some(promise)` to answer the
    /// message asynchronously, or `None` to leave it to other listeners.
    pub fn on_message(handler: impl Fn(JsValue) -> Option<Promise> + 'static) -> Result<(), WebError> {
        let closure = Closure::<dyn Fn(JsValue, JsValue, Function) -> JsValue>::new(
            move |message: JsValue, _sender: JsValue, send_response: Function| match handler(message) {
                Some(promise) => {
                    wasm_bindgen_futures::spawn_local(async move {
                        let reply = match JsFuture::from(promise).await {
                            Ok(value) => value,
                            Err(error) => {
                                let reply = new_object();
                                set(&reply, "error", &describe_js_error(&error).into());
                                reply
                            }
                        };
                        let _ = send_response.call1(&JsValue::NULL, &reply);
                    });
                    // `true` keeps the channel open for the asynchronous reply.
                    JsValue::TRUE
                }
                None => JsValue::FALSE,
            },
        );
        call_path(&chrome()?, &["runtime", "onMessage", "addListener"], &[closure.into_js_value()])?;
        Ok(())
    }

    /// `chrome.runtime.getContexts({contextTypes: [context_type]})`: how many contexts of this type
    /// exist, e.g. `OFFSCREEN_DOCUMENT`.
    pub async fn count_contexts(context_type: &str) -> Result<u32, WebError> {
        let filter = new_object();
        set(&filter, "contextTypes", &Array::of1(&context_type.into()).into());
        let contexts = call_path_async(&chrome()?, &["runtime", "getContexts"], &[filter]).await?;
        Ok(Array::from(&contexts).length())
    }
}

pub mod tabs {
    //! `chrome.tabs`.

    use super::*;

    /// Opens one of the extension's pages (e.g. `ui.html`) in a new tab.
    pub fn open_extension_page(path: &str) -> Result<JsValue, WebError> {
        let options = new_object();
        set(&options, "url", &runtime::get_url(path)?.into());
        call_path(&chrome()?, &["tabs", "create"], &[options])
    }
}

pub mod offscreen {
    //! `chrome.offscreen`: the document that owns the session.

    use super::*;

    /// `chrome.offscreen.createDocument({url, reasons, justification})`.
    pub async fn create_document(url: &str, reasons: &[&str], justification: &str) -> Result<(), WebError> {
        let parameters = new_object();
        set(&parameters, "url", &url.into());
        let reasons: Array = reasons.iter().map(|reason| JsValue::from_str(reason)).collect();
        set(&parameters, "reasons", &reasons.into());
        set(&parameters, "justification", &justification.into());
        call_path_async(&chrome()?, &["offscreen", "createDocument"], &[parameters]).await?;
        Ok(())
    }

    /// `chrome.offscreen.closeDocument()`.
    pub async fn close_document() -> Result<(), WebError> {
        call_path_async(&chrome()?, &["offscreen", "closeDocument"], &[]).await?;
        Ok(())
    }
}

pub mod timer {
    //! `setTimeout` on any global scope, and a promise that sleeps.

    use super::*;

    /// Calls `callback` once after `delay_ms`.
    pub fn set_timeout(delay_ms: f64, callback: impl FnOnce() + 'static) {
        let closure = Closure::once_into_js(callback);
        let _ = call_path(&js_sys::global(), &["setTimeout"], &[closure, JsValue::from_f64(delay_ms.max(0.0))]);
    }

    pub async fn sleep(delay_ms: f64) {
        let promise = Promise::new(&mut |resolve, _reject| {
            let _ = call_path(&js_sys::global(), &["setTimeout"], &[resolve.into(), JsValue::from_f64(delay_ms)]);
        });
        let _ = JsFuture::from(promise).await;
    }
}

pub mod alarms {
    //! `chrome.alarms`: wakes a stopped service worker. Chrome fires them 30 s apart at best, so
    //! callers also use timers while the worker lives.

    use super::*;

    /// `chrome.alarms.create(name, {when})`, replacing an alarm of that name.
    pub fn create_at(name: &str, when_ms: f64) -> Result<(), WebError> {
        let info = new_object();
        set(&info, "when", &JsValue::from_f64(when_ms));
        call_path(&chrome()?, &["alarms", "create"], &[name.into(), info])?;
        Ok(())
    }
}

pub mod storage {
    //! `chrome.storage.session` / `chrome.storage.local`: JSON values by key.

    use super::*;

    /// Which storage area.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Area {
        /// Kept while the browser runs; survives the service worker being stopped.
        Session,
        /// Kept on disk.
        Local,
        /// Set by policy (read only).
        Managed,
    }

    impl Area {
        fn name(self) -> &'static str {
            match self {
                Area::Session => "session",
                Area::Local => "local",
                Area::Managed => "managed",
            }
        }
    }

    pub async fn get<T: DeserializeOwned>(area: Area, key: &str) -> Result<Option<T>, WebError> {
        let items = call_path_async(&chrome()?, &["storage", area.name(), "get"], &[key.into()]).await?;
        let value = Reflect::get(&items, &key.into())?;
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        from_js(&value).map(Some)
    }

    pub async fn remove(area: Area, key: &str) -> Result<(), WebError> {
        call_path_async(&chrome()?, &["storage", area.name(), "remove"], &[key.into()]).await?;
        Ok(())
    }

    /// Every item whose key starts with `prefix`, as JSON values by key. Only the matching items
    /// are turned into JSON; the others (large donations, say) are left alone.
    pub async fn get_prefixed(area: Area, prefix: &str) -> Result<Vec<(String, serde_json::Value)>, WebError> {
        let items = call_path_async(&chrome()?, &["storage", area.name(), "get"], &[JsValue::NULL]).await?;
        let mut matching = Vec::new();
        let object: &Object = items.unchecked_ref();
        for key in Object::keys(object).iter() {
            let Some(key) = key.as_string().filter(|key| key.starts_with(prefix)) else { continue };
            let value = Reflect::get(&items, &JsValue::from_str(&key))?;
            matching.push((key, from_js(&value)?));
        }
        Ok(matching)
    }

    pub async fn set<T: Serialize>(area: Area, key: &str, value: &T) -> Result<(), WebError> {
        let items = new_object();
        super::set(&items, key, &to_js(value)?);
        call_path_async(&chrome()?, &["storage", area.name(), "set"], &[items]).await?;
        Ok(())
    }
}

pub mod channel {
    //! The session `BroadcastChannel` between UI views and the offscreen document.

    use super::*;
    use web_sys::{BroadcastChannel, MessageEvent};

    /// A `BroadcastChannel` whose listener lives as long as the page.
    pub fn open(name: &str, on_message: impl Fn(JsValue) + 'static) -> Result<BroadcastChannel, WebError> {
        let channel = BroadcastChannel::new(name)?;
        let closure = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| on_message(event.data()));
        channel.set_onmessage(Some(closure.as_ref().unchecked_ref()));
        // The channel lives for the whole page, so its listener does too.
        closure.forget();
        Ok(channel)
    }
}

pub mod log {
    //! Developer logging to the console, and capture of uncaught errors.

    use super::*;

    pub fn info(message: &str) {
        web_sys::console::info_1(&message.into());
    }

    pub fn error(message: &str) {
        web_sys::console::error_1(&message.into());
    }

    /// Routes uncaught errors and unhandled rejections of this global scope to `report`, as text.
    /// The text may contain participant data: `report` must keep it local.
    pub fn capture_errors(report: impl Fn(String) + 'static) {
        let report = std::rc::Rc::new(report);
        let global: web_sys::EventTarget = js_sys::global().unchecked_into();
        let report_error = report.clone();
        let on_error = Closure::<dyn Fn(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
            let text = match event.error() {
                error if error.is_undefined() || error.is_null() => event.message(),
                error => describe_js_error(&error),
            };
            report_error(format!("uncaught error: {text}"));
        });
        let on_rejection =
            Closure::<dyn Fn(web_sys::PromiseRejectionEvent)>::new(move |event: web_sys::PromiseRejectionEvent| {
                report(format!("unhandled rejection: {}", describe_js_error(&event.reason())));
            });
        let _ = global.add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref());
        let _ = global.add_event_listener_with_callback("unhandledrejection", on_rejection.as_ref().unchecked_ref());
        on_error.forget();
        on_rejection.forget();
    }
}

pub mod storage_batch {
    //! `chrome.storage` reads and writes of several keys in one call (one call is applied at once).

    use super::storage::Area;
    use super::*;

    fn area_name(area: Area) -> &'static str {
        match area {
            Area::Session => "session",
            Area::Local => "local",
            Area::Managed => "managed",
        }
    }

    /// The items of `keys` that exist, as JSON values by key, in the order of `keys`.
    pub async fn get_many(area: Area, keys: &[String]) -> Result<Vec<(String, serde_json::Value)>, WebError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let names: Array = keys.iter().map(|key| JsValue::from_str(key)).collect();
        let items = call_path_async(&chrome()?, &["storage", area_name(area), "get"], &[names.into()]).await?;
        let mut found = Vec::new();
        for key in keys {
            let value = Reflect::get(&items, &JsValue::from_str(key))?;
            if !value.is_undefined() && !value.is_null() {
                found.push((key.clone(), from_js(&value)?));
            }
        }
        Ok(found)
    }

    /// Sets every `(key, value)` and removes every key of `remove`: the sets in one call, then
    /// the removals in one call.
    pub async fn write(area: Area, set: &[(String, serde_json::Value)], remove: &[String]) -> Result<(), WebError> {
        if !set.is_empty() {
            let items = new_object();
            for (key, value) in set {
                super::set(&items, key, &to_js(value)?);
            }
            call_path_async(&chrome()?, &["storage", area_name(area), "set"], &[items]).await?;
        }
        if !remove.is_empty() {
            let names: Array = remove.iter().map(|key| JsValue::from_str(key)).collect();
            call_path_async(&chrome()?, &["storage", area_name(area), "remove"], &[names.into()]).await?;
        }
        Ok(())
    }
}

pub mod lock {
    //! A first-come, first-served async lock for one JS thread: what one holder read from storage
    //! stays true until it lets go, because every other holder waits.

    use std::cell::RefCell;

    use super::*;

    /// The queue: the promise the last holder resolves when it lets go.
    pub struct Queue {
        tail: RefCell<Option<Promise>>,
    }

    /// Holding the lock; dropping it lets the next waiter in.
    pub struct Guard {
        release: Option<Function>,
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            if let Some(release) = self.release.take() {
                let _ = release.call0(&JsValue::NULL);
            }
        }
    }

    impl Queue {
        pub const fn new() -> Queue {
            Queue { tail: RefCell::new(None) }
        }

        /// Takes a place in the queue now and waits for every earlier holder to let go. The
        /// future does not borrow the queue, so a `thread_local!` queue can be awaited.
        pub fn lock(&self) -> impl std::future::Future<Output = Guard> + use<> {
            let mut release = None;
            let mine = Promise::new(&mut |resolve, _reject| release = Some(resolve));
            let before = self.tail.borrow_mut().replace(mine);
            async move {
                if let Some(before) = before {
                    let _ = JsFuture::from(before).await;
                }
                Guard { release }
            }
        }
    }

    impl Default for Queue {
        fn default() -> Queue {
            Queue::new()
        }
    }
}

pub mod errors {
    //! Uncaught errors reduced to their names, for logs that leave the device.

    use super::*;

    /// The error's `name` (`TypeError`, `RangeError`…), never its message or stack; `Error` when
    /// the thrown value is not an error object.
    pub fn error_name(value: &JsValue) -> String {
        Reflect::get(value, &"name".into())
            .ok()
            .and_then(|name| name.as_string())
            .filter(|_| value.is_object())
            .unwrap_or_else(|| "Error".to_owned())
    }

    /// Calls `report(context, name)` for every uncaught error (`context` `uncaught error`) and
    /// unhandled rejection (`unhandled rejection`) of this global scope, with the error's name only.
    pub fn capture_error_names(report: impl Fn(&'static str, String) + 'static) {
        let report = std::rc::Rc::new(report);
        let global: web_sys::EventTarget = js_sys::global().unchecked_into();
        let report_error = report.clone();
        let on_error = Closure::<dyn Fn(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
            report_error("uncaught error", error_name(&event.error()));
        });
        let on_rejection =
            Closure::<dyn Fn(web_sys::PromiseRejectionEvent)>::new(move |event: web_sys::PromiseRejectionEvent| {
                report("unhandled rejection", error_name(&event.reason()));
            });
        let _ = global.add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref());
        let _ = global.add_event_listener_with_callback("unhandledrejection", on_rejection.as_ref().unchecked_ref());
        on_error.forget();
        on_rejection.forget();
    }
}
