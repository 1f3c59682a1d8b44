//! The runtime snapshots' store: the extension origin's Cache Storage, one entry per build key.
//! (When it holds nothing, the worker reads the snapshot the build ships itself.)
//!
//! The sandbox that boots Python has an opaque origin and no storage, so the offscreen document
//! keeps what its worker made and hands it back at the next boot. Each entry carries the SHA-256
//! of its bytes; a read checks it, so a damaged entry is reported and never loaded. Which entry
//! is trusted, and when one may be stored, is `port_engine::snapshot`'s decision.
//!
//! Operations run one at a time, in the order they were asked for: a drop asked before a store
//! never removes what the store wrote.

use js_sys::{ArrayBuffer, Promise, Uint8Array};
use port_engine::snapshot::StoredSnapshot;
use port_web::WebError;
use port_web::lock::Queue;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Response, ResponseInit};

const CACHE_NAME: &str = "port-runtime-snapshots";
const DIGEST_HEADER: &str = "x-port-sha256";

/// Cache Storage keys are http(s) URLs; this one is never fetched, it only names the entry.
fn entry_url(key: &str) -> String {
    format!("https://runtime-snapshot.invalid/{key}")
}

thread_local! {
    static QUEUE: Queue = const { Queue::new() };
}

/// A place in the queue, taken now; the returned future waits for the operations asked before.
fn take_turn() -> impl std::future::Future<Output = port_web::lock::Guard> + use<> {
    QUEUE.with(Queue::lock)
}

async fn await_promise(promise: Promise) -> Result<JsValue, WebError> {
    Ok(JsFuture::from(promise).await?)
}

async fn open() -> Result<Cache, WebError> {
    let window = web_sys::window().ok_or_else(|| WebError("no window".into()))?;
    Ok(await_promise(window.caches()?.open(CACHE_NAME)).await?.unchecked_into())
}

async fn sha256_hex(bytes: &Uint8Array) -> Result<String, WebError> {
    let window = web_sys::window().ok_or_else(|| WebError("no window".into()))?;
    let digest = await_promise(window.crypto()?.subtle().digest_with_str_and_buffer_source("SHA-256", bytes)?).await?;
    Ok(Uint8Array::new(&digest).to_vec().iter().map(|byte| format!("{byte:02x}")).collect())
}

/// What is stored under `key`: the bytes when their digest holds.
pub fn load(key: String) -> impl std::future::Future<Output = Result<(StoredSnapshot, Option<Uint8Array>), WebError>> {
    let turn = take_turn();
    async move {
        let _turn = turn.await;
        load_now(&key).await
    }
}

/// Stores `bytes` (a `Uint8Array`) under `key`, and removes every other build's snapshot.
pub fn store(key: String, bytes: JsValue) -> impl std::future::Future<Output = Result<(), WebError>> {
    let turn = take_turn();
    async move {
        let _turn = turn.await;
        store_now(&key, bytes).await
    }
}

/// Removes what is stored under `key`.
pub fn drop_entry(key: String) -> impl std::future::Future<Output = Result<(), WebError>> {
    let turn = take_turn();
    async move {
        let _turn = turn.await;
        await_promise(open().await?.delete_with_str(&entry_url(&key))).await?;
        Ok(())
    }
}

async fn load_now(key: &str) -> Result<(StoredSnapshot, Option<Uint8Array>), WebError> {
    let found = await_promise(open().await?.match_with_str(&entry_url(key))).await?;
    let Ok(response) = found.dyn_into::<Response>() else { return Ok((StoredSnapshot::Missing, None)) };
    let stored_digest = response.headers().get(DIGEST_HEADER)?.unwrap_or_default();
    let buffer: ArrayBuffer = await_promise(response.array_buffer()?).await?.unchecked_into();
    let bytes = Uint8Array::new(&buffer);
    if sha256_hex(&bytes).await? != stored_digest {
        return Ok((StoredSnapshot::Corrupt, None));
    }
    Ok((StoredSnapshot::Found, Some(bytes)))
}

async fn store_now(key: &str, bytes: JsValue) -> Result<(), WebError> {
    let bytes: Uint8Array = bytes.dyn_into().map_err(|_| WebError("the snapshot message carries no bytes".into()))?;
    let digest = sha256_hex(&bytes).await?;
    let cache = open().await?;
    let kept = entry_url(key);
    let requests: js_sys::Array = await_promise(cache.keys()).await?.unchecked_into();
    for request in requests.iter() {
        let request: web_sys::Request = request.unchecked_into();
        if request.url() != kept {
            await_promise(cache.delete_with_request(&request)).await?;
        }
    }
    let headers = web_sys::Headers::new()?;
    headers.set(DIGEST_HEADER, &digest)?;
    headers.set("content-type", "application/octet-stream")?;
    let init = ResponseInit::new();
    init.set_headers(&headers);
    let response = Response::new_with_opt_js_u8_array_and_init(Some(&bytes), &init)?;
    await_promise(cache.put_with_str(&kept, &response)).await?;
    Ok(())
}
