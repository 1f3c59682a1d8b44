#![doc = include_str!("../README.md")]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect};
use port_protocol::Payload;
use port_protocol::worker_message::{
    COMMAND_JSON_FIELD, DONATION_BODY_FIELD, FromWorker, N_BOOT_STEPS, STUDY_BOOT_STEP, ToWorker,
};
use port_web::{WebError, call_path, call_path_async, from_js, new_object, set, to_js};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, File, FileReaderSync};

// Pyodide's classic build (`pyodide.js`), loaded by `worker.js` before this glue, defines the
// global `loadPyodide`.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = loadPyodide)]
    fn load_pyodide(options: &JsValue) -> Promise;
}

/// Python glue: runs inside Pyodide once the runtime wheel is installed.
const GLUE_PY: &str = include_str!("glue.py");

/// Imported before a snapshot is made, so a boot from it finds them in memory: every module of the
/// runtime wheel (a snapshot holds memory, not files) and the standard modules studies use.
/// Pyodide's own record of loaded packages is emptied before, as a snapshot cannot hold it.
const WARM_UP_PY: &str = include_str!("warm_up.py");

/// Seeds `random` afresh from the OS after a boot from a snapshot, if the snapshot holds it.
const RESEED_PY: &str = "import sys\nif 'random' in sys.modules: sys.modules['random'].seed()\n";

/// The booted runtime.
struct Runtime {
    pyodide: JsValue,
}

thread_local! {
    static RUNTIME: RefCell<Option<Rc<Runtime>>> = const { RefCell::new(None) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(message: &FromWorker) {
    post_moving(message, None);
}

/// Posts the script's next command: the JS string Python's `command_to_json` returned, and a
/// donation's body beside it as bytes that move to the sandbox page rather than being copied. A
/// donation may be hundreds of megabytes, so neither goes through this module's memory.
fn post_command(runtime: &Runtime, command_json: JsValue) -> Result<(), WebError> {
    let body = call_python(runtime, "_port_take_donation_body", &[])?;
    let object = to_js(&FromWorker::RunCycleDone { command_json: String::new(), donation_body: None })?;
    set(&object, COMMAND_JSON_FIELD, &command_json);
    post_object(&object, body.is_instance_of::<js_sys::Uint8Array>().then_some((DONATION_BODY_FIELD, &body)))
}

/// Posts `message` with `value` as its field `name` (bytes that JSON cannot carry), transferred.
fn post_with(message: &FromWorker, name: &str, value: &JsValue) {
    post_moving(message, Some((name, value)));
}

fn post_moving(message: &FromWorker, attached: Option<(&str, &JsValue)>) {
    let posted = to_js(message)
        .map_err(|error| WebError(format!("cannot encode a message: {error}")))
        .and_then(|object| post_object(&object, attached));
    if let Err(error) = posted {
        port_web::log::error(&format!("worker: {error}"));
    }
}

/// Posts `object` with `attached` as its field `name`, its buffer transferred.
fn post_object(object: &JsValue, attached: Option<(&str, &JsValue)>) -> Result<(), WebError> {
    let transfer = match attached {
        Some((name, value)) => port_web::attach_transferred(object, name, value),
        None => Array::new(),
    };
    scope()
        .post_message_with_transfer(object, &transfer)
        .map_err(|error| WebError(format!("post failed: {}", port_web::describe_js_error(&error))))
}

#[wasm_bindgen(start)]
pub fn start() {
    port_web::log::capture_errors(|text| post(&FromWorker::Error { message: text }));
}

/// Handles one message from the offscreen document, relayed by the sandbox page. `worker.js`
/// registers the `message` listener before the wasm is instantiated (messages that arrive earlier
/// would be lost) and calls this.
#[wasm_bindgen]
pub fn on_message(data: JsValue) {
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(error) = handle(data).await {
            post(&FromWorker::Error { message: error.0 });
        }
    });
}

async fn handle(data: JsValue) -> Result<(), WebError> {
    let snapshot_bytes = port_web::take_snapshot_bytes(&data);
    let message: ToWorker = from_js(&data)?;
    match message {
        ToWorker::Initialise { index_url, wheel_url, script_url, script_source, snapshot, bundled_snapshot } => {
            let pyodide = boot_runtime(&index_url, &wheel_url, snapshot, snapshot_bytes, bundled_snapshot).await?;
            load_study(pyodide, &script_url, script_source).await?;
            post(&FromWorker::InitialiseDone);
        }
        ToWorker::MakeSnapshot { index_url, wheel_url, key } => {
            let pyodide = boot_afresh(&index_url, &wheel_url, true).await?;
            post_with(&FromWorker::SnapshotMade { key }, port_web::SNAPSHOT_BYTES_FIELD, &make_snapshot(&pyodide)?);
        }
        ToWorker::FirstRunCycle { session_id, platform } => {
            let runtime = runtime()?;
            let platform = platform.map(JsValue::from).unwrap_or(JsValue::UNDEFINED);
            let command_json =
                call_python_text(&runtime, "_port_start", &[session_id_for_python(&session_id), platform])?;
            post_command(&runtime, command_json)?;
        }
        ToWorker::NextRunCycle { response } => {
            let runtime = runtime()?;
            let files = Reflect::get(&data, &"files".into()).unwrap_or(JsValue::UNDEFINED);
            let payload = payload_for_python(&response, &files)?;
            let command_json = call_python_text(&runtime, "_port_send", &[payload])?;
            post_command(&runtime, command_json)?;
        }
    }
    Ok(())
}

/// The session id as the script receives it: a number when the id is one, as feldspar passes
/// `Date.now()` and as the native runner does (`port_native::SessionId`), else the text. An integer
/// beyond what a JS number holds exactly stays text.
fn session_id_for_python(session_id: &str) -> JsValue {
    const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;
    match session_id.parse::<i64>() {
        Ok(number) if number.abs() <= MAX_SAFE_INTEGER => JsValue::from_f64(number as f64),
        _ => JsValue::from_str(session_id),
    }
}

fn runtime() -> Result<Rc<Runtime>, WebError> {
    RUNTIME.with(|cell| cell.borrow().clone()).ok_or_else(|| WebError("the runtime is not booted".into()))
}

fn progress(step: &str, step_idx: u32) {
    post(&FromWorker::BootProgress { step: step.into(), step_idx, n_steps: N_BOOT_STEPS });
}

/// Pyodide with the runtime wheel and the glue, ready for the study: from the snapshot when one
/// was sent and it loads, else booted afresh.
///
/// micropip is not loaded: neither the runtime nor feldspar's studies import it (feldspar's worker
/// used it to install the wheel, which `loadPackage` does), an imported micropip leaves JavaScript
/// objects that a snapshot cannot hold, and putting its files back after a snapshot boot costs a
/// quarter of a second.
async fn boot_runtime(
    index_url: &str,
    wheel_url: &str,
    snapshot: Option<String>,
    snapshot_bytes: JsValue,
    bundled_snapshot: Option<String>,
) -> Result<JsValue, WebError> {
    if let Some(key) = snapshot {
        progress("snapshot", 1);
        let booted = match bundled_snapshot {
            Some(url) if snapshot_bytes.is_undefined() => match read_bundled_snapshot(&url).await {
                Ok(bytes) => boot_from_snapshot(index_url, bytes).await,
                Err(error) => Err(error),
            },
            _ => boot_from_snapshot(index_url, snapshot_bytes).await,
        };
        match booted {
            Ok(pyodide) => return Ok(pyodide),
            Err(error) => post(&FromWorker::SnapshotRefused { key, reason: error.0 }),
        }
    }
    boot_afresh(index_url, wheel_url, false).await
}

/// The snapshot the build ships, read from the extension's files here rather than carried over
/// from the offscreen document. Like Pyodide's own files and the runtime wheel, it is part of the
/// extension, whose files the browser verifies; a damaged one is refused by Pyodide.
async fn read_bundled_snapshot(url: &str) -> Result<JsValue, WebError> {
    let response = JsFuture::from(scope().fetch_with_str(url)).await?;
    if !Reflect::get(&response, &"ok".into())?.is_truthy() {
        return Err(WebError(format!("the bundled snapshot {url} cannot be read")));
    }
    let buffer = call_path_async(&response, &["arrayBuffer"], &[]).await?;
    Ok(js_sys::Uint8Array::new(&buffer).into())
}

async fn boot_afresh(index_url: &str, wheel_url: &str, for_snapshot: bool) -> Result<JsValue, WebError> {
    progress("pyodide", 1);
    let options = new_object();
    set(&options, "indexURL", &index_url.into());
    if for_snapshot {
        set(&options, "_makeSnapshot", &true.into());
    }
    let pyodide = JsFuture::from(load_pyodide(&options)).await?;

    progress("runtime", 2);
    load_package(&pyodide, wheel_url).await?;
    install_glue(&pyodide)?;
    Ok(pyodide)
}

async fn boot_from_snapshot(index_url: &str, bytes: JsValue) -> Result<JsValue, WebError> {
    if !bytes.is_instance_of::<js_sys::Uint8Array>() {
        return Err(WebError("no snapshot came with initialise".into()));
    }
    let options = new_object();
    set(&options, "indexURL", &index_url.into());
    set(&options, "_loadSnapshot", &bytes);
    let pyodide = JsFuture::from(load_pyodide(&options)).await?;
    // The snapshot holds memory, not files: every module of the runtime wheel is in it (see
    // WARM_UP_PY), and so is the glue.
    let glue = call_path(&pyodide, &["globals", "get"], &["_port_load_script".into()])?;
    if !glue.is_instance_of::<Function>() {
        return Err(WebError("the snapshot holds no runtime glue".into()));
    }
    // Every boot from one snapshot would otherwise draw the same "random" numbers: a study that
    // assigns conditions at random would assign everyone alike.
    call_path(&pyodide, &["runPython"], &[RESEED_PY.into()])?;
    Ok(pyodide)
}

/// The glue the run cycle calls: the shared wire writer, then the functions around `port.main`.
fn install_glue(pyodide: &JsValue) -> Result<(), WebError> {
    call_path(pyodide, &["runPython"], &[port_protocol::COMMAND_JSON_PY.into()])?;
    call_path(pyodide, &["runPython"], &[GLUE_PY.into()])?;
    Ok(())
}

fn make_snapshot(pyodide: &JsValue) -> Result<JsValue, WebError> {
    call_path(pyodide, &["runPython"], &[WARM_UP_PY.into()])?;
    let loaded: js_sys::Object = Reflect::get(pyodide, &"loadedPackages".into())?.unchecked_into();
    for name in js_sys::Object::keys(&loaded).iter() {
        Reflect::delete_property(&loaded, &name)?;
    }
    call_path(pyodide, &["makeMemorySnapshot"], &[])
}

async fn load_study(pyodide: JsValue, script_url: &str, script_source: Option<String>) -> Result<(), WebError> {
    progress("study", STUDY_BOOT_STEP);
    let source = match script_source {
        Some(source) => source,
        None => fetch_text(script_url).await?,
    };
    let file_name = script_url.rsplit('/').next().filter(|name| !name.is_empty()).unwrap_or("script.py").to_owned();
    let runtime = Runtime { pyodide };
    call_python(&runtime, "_port_load_script", &[source.into(), file_name.clone().into()])
        .map_err(|error| WebError(format!("the study script {file_name} cannot be loaded:\n{error}")))?;
    RUNTIME.with(|cell| *cell.borrow_mut() = Some(Rc::new(runtime)));
    Ok(())
}

/// `pyodide.loadPackage(name)`. It resolves even when a fetch failed and reports that only to
/// `errorCallback`, so the errors are collected and turned into a failure here.
async fn load_package(pyodide: &JsValue, name: &str) -> Result<(), WebError> {
    let errors = Rc::new(RefCell::new(Vec::<String>::new()));
    let errors_in_callback = errors.clone();
    let on_error = Closure::<dyn Fn(JsValue)>::new(move |message: JsValue| {
        errors_in_callback.borrow_mut().push(message.as_string().unwrap_or_default());
    });
    let on_message = Closure::<dyn Fn(JsValue)>::new(|_message: JsValue| {});
    let options = new_object();
    set(&options, "errorCallback", on_error.as_ref());
    set(&options, "messageCallback", on_message.as_ref());
    call_path_async(pyodide, &["loadPackage"], &[name.into(), options]).await?;
    let errors = errors.borrow();
    if !errors.is_empty() {
        return Err(WebError(format!("loading {name} failed: {}", errors.join("; "))));
    }
    Ok(())
}

async fn fetch_text(url: &str) -> Result<String, WebError> {
    let response: web_sys::Response = JsFuture::from(scope().fetch_with_str(url)).await?.unchecked_into();
    if !response.ok() {
        return Err(WebError(format!("fetching {url} failed with status {}", response.status())));
    }
    let text = JsFuture::from(response.text()?).await?;
    text.as_string().ok_or_else(|| WebError(format!("{url} is not text")))
}

/// Calls a glue function in Python's globals. A Python exception becomes its traceback alone:
/// the JS and wasm frames Pyodide's `PythonError` carries in its stack say nothing to a researcher.
fn call_python(runtime: &Runtime, name: &str, args: &[JsValue]) -> Result<JsValue, WebError> {
    let function: Function = call_path(&runtime.pyodide, &["globals", "get"], &[name.into()])?.unchecked_into();
    let arguments: Array = args.iter().collect();
    Reflect::apply(&function, &JsValue::UNDEFINED, &arguments).map_err(|error| python_error(&error))
}

/// The text of an error thrown by a Python call: the traceback of a `PythonError`, else the usual
/// description with the JS stack.
fn python_error(error: &JsValue) -> WebError {
    if let Some(error) = error.dyn_ref::<js_sys::Error>()
        && error.name() == "PythonError"
    {
        return WebError(String::from(error.message()).trim_end().to_owned());
    }
    WebError::from(error.clone())
}

/// Calls a run-cycle glue function; it returns the next command as JSON text.
/// What Python returned, checked to be text and kept as the JS string it is.
fn call_python_text(runtime: &Runtime, name: &str, args: &[JsValue]) -> Result<JsValue, WebError> {
    let result = call_python(runtime, name, args)?;
    if result.is_string() { Ok(result) } else { Err(WebError(format!("{name} returned no text"))) }
}

/// The payload as the JS object Python reads by attribute; a file becomes a slice reader.
fn payload_for_python(payload: &Payload, files: &JsValue) -> Result<JsValue, WebError> {
    let value = to_js(payload)?;
    match payload {
        Payload::File(file_ref) => {
            let file = find_file(files, &file_ref.locator)?;
            set(&value, "value", &file_reader(file));
        }
        Payload::FileArray(file_refs) => {
            let readers = Array::new();
            for file_ref in file_refs {
                readers.push(&file_reader(find_file(files, &file_ref.locator)?));
            }
            set(&value, "value", &readers);
        }
        _ => {}
    }
    Ok(value)
}

fn find_file(files: &JsValue, locator: &str) -> Result<File, WebError> {
    let index: u32 = locator.parse().map_err(|_| WebError(format!("bad file locator {locator:?}")))?;
    let file = Reflect::get(files, &index.into())?;
    file.dyn_into::<File>().map_err(|_| WebError(format!("no file at locator {locator:?}")))
}

/// `{readSlice(start, end) -> ArrayBuffer, size, name}` over a `File`.
fn file_reader(file: File) -> JsValue {
    let reader = new_object();
    set(&reader, "size", &file.size().into());
    set(&reader, "name", &file.name().into());
    let read_slice = Closure::<dyn Fn(f64, f64) -> Result<JsValue, JsValue>>::new(move |start: f64, end: f64| {
        let slice = file.slice_with_f64_and_f64(start, end)?;
        let buffer = FileReaderSync::new()?.read_as_array_buffer(&slice)?;
        Ok(buffer.into())
    });
    // The reader lives as long as Python may hold it: the closure is handed over to JS for good.
    set(&reader, "readSlice", &read_slice.into_js_value());
    reader
}
