//! Donation bodies in the extension origin's Cache Storage ([`DONATION_BODY_CACHE`]), shared by
//! the offscreen document (which keeps them), the background (which sends and removes them) and
//! the UI (which offers the local bridge's as downloads). Works in a window and in a worker.
//!
//! The body goes from the offscreen document's wasm memory into a `Blob` once; from then on it is
//! the browser's (backed by disk when large): the background hands that `Blob` to `fetch` and never
//! copies it into its own memory.

use js_sys::{Array, Promise, Reflect, Uint8Array};
use port_protocol::donation_body::{DONATION_BODY_CACHE, StoredBody};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, Cache, CacheStorage, Response, ResponseInit, SubtleCrypto};

use crate::WebError;

async fn await_promise(promise: Promise) -> Result<JsValue, WebError> {
    Ok(JsFuture::from(promise).await?)
}

fn global_field(path: &[&str]) -> Result<JsValue, WebError> {
    crate::get_path(&js_sys::global(), path)
}

async fn open() -> Result<Cache, WebError> {
    let caches: CacheStorage = global_field(&["caches"])?.unchecked_into();
    Ok(await_promise(caches.open(DONATION_BODY_CACHE)).await?.unchecked_into())
}

fn hex(digest: &JsValue) -> String {
    Uint8Array::new(digest).to_vec().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A donation's body in a `Blob` of the browser's, with its size and digest.
pub struct NewBody {
    pub blob: Blob,
    pub body: StoredBody,
}

/// Copies `json_string` out of the wasm memory into a `Blob` and computes its digest; the caller
/// may let go of the text as soon as this returns.
pub async fn new_body(json_string: &str) -> Result<NewBody, WebError> {
    let subtle: SubtleCrypto = global_field(&["crypto", "subtle"])?.unchecked_into();
    let options = BlobPropertyBag::new();
    options.set_type("application/json");
    let parts = Array::new();
    // SAFETY: the view points into the wasm memory, which a Rust allocation may move. Nothing
    // allocates between taking it and its last use, and both `digest` and `new Blob` copy the
    // bytes before they return.
    let view = unsafe { Uint8Array::view(json_string.as_bytes()) };
    let digest = subtle.digest_with_str_and_buffer_source("SHA-256", &view);
    parts.push(&view);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options);
    parts.set_length(0);
    drop(view);
    let n_bytes = json_string.len() as u64;
    Ok(NewBody { blob: blob?, body: StoredBody { n_bytes, sha256: hex(&await_promise(digest?).await?) } })
}

/// Keeps `blob` in Cache Storage as the body `body` of donation `key` of session `session_id`.
pub async fn keep(session_id: &str, key: &str, body: &StoredBody, blob: &Blob) -> Result<(), WebError> {
    let response = Response::new_with_opt_blob_and_init(Some(blob), &ResponseInit::new())?;
    await_promise(open().await?.put_with_str(&body.entry_url(session_id, key), &response)).await?;
    Ok(())
}

/// The body of donation `key` of session `session_id`, as a `Blob`; an error names what is missing.
pub async fn blob(session_id: &str, key: &str, body: &StoredBody) -> Result<Blob, WebError> {
    let found = await_promise(open().await?.match_with_str(&body.entry_url(session_id, key))).await?;
    let response: Response = found.dyn_into().map_err(|_| {
        WebError(format!("the data of donation {key} ({} bytes) is no longer on this device", body.n_bytes))
    })?;
    let blob: Blob = await_promise(response.blob()?).await?.unchecked_into();
    if blob.size() as u64 != body.n_bytes {
        return Err(WebError(format!(
            "the data of donation {key} on this device is damaged: {} bytes, not {}",
            blob.size(),
            body.n_bytes
        )));
    }
    Ok(blob)
}

/// The text of `blob`'s bytes `start..end`, decoded by `decoder` (a `TextDecoder`). `last` is false
/// for all but the last piece, so a character cut by a piece's end is decoded with the next one.
pub async fn decode_piece(
    decoder: &JsValue,
    blob: &Blob,
    start: u64,
    end: u64,
    last: bool,
) -> Result<JsValue, WebError> {
    let piece = blob.slice_with_f64_and_f64(start as f64, end as f64)?;
    let buffer = await_promise(piece.array_buffer()).await?;
    let options = js_sys::Object::new();
    Reflect::set(&options, &"stream".into(), &JsValue::from_bool(!last))?;
    crate::call_path(decoder, &["decode"], &[buffer, options.into()])
}

/// A new `TextDecoder` for UTF-8.
pub fn utf8_decoder() -> Result<JsValue, WebError> {
    let constructor: js_sys::Function = global_field(&["TextDecoder"])?.unchecked_into();
    Ok(Reflect::construct(&constructor, &Array::of1(&"utf-8".into()))?)
}

/// Removes the body of donation `key` of session `session_id`; removing a missing one is no error.
pub async fn remove(session_id: &str, key: &str, body: &StoredBody) -> Result<(), WebError> {
    await_promise(open().await?.delete_with_str(&body.entry_url(session_id, key))).await?;
    Ok(())
}

/// The Cache Storage URLs of every kept body, to find those nothing refers to any more.
pub async fn entry_urls() -> Result<Vec<String>, WebError> {
    let requests: Array = await_promise(open().await?.keys()).await?.unchecked_into();
    Ok(requests.iter().map(|request| request.unchecked_into::<web_sys::Request>().url()).collect())
}

/// Removes the entry at `url` (one of [`entry_urls`]).
pub async fn remove_url(url: &str) -> Result<(), WebError> {
    await_promise(open().await?.delete_with_str(url)).await?;
    Ok(())
}
