//! Access to the Python shim (`pyodide_shim.py`), loaded once per interpreter as `_port_native_shim`.
//!
//! The shim holds the Pyodide stand-ins in Python, where they are short and read like the code
//! they imitate; this module only loads it and turns Python errors into text.

use std::ffi::CString;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

const SHIM_SOURCE: &str = include_str!("pyodide_shim.py");

/// Loaded once per process. A `PyOnceLock` rather than a look-up in `sys.modules`, because
/// `from_code` puts the module there before running it, and the GIL can pass to another thread
/// while it runs: that thread would see a half-initialised module.
static SHIM_MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The shim module.
pub(crate) fn shim_module(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    let module = SHIM_MODULE.get_or_try_init(py, || {
        // The wire writer joins the shim, so its `command_to_json` is the one the worker runs too.
        let source = CString::new(format!("{SHIM_SOURCE}\n{}", port_protocol::COMMAND_JSON_PY))
            .expect("the shim source has no NUL byte");
        PyModule::from_code(py, &source, c"pyodide_shim.py", c"_port_native_shim").map(Bound::unbind)
    })?;
    Ok(module.bind(py).clone())
}

/// The error as Python prints it: traceback plus exception, or its `str` when formatting fails.
pub(crate) fn python_error_text(py: Python<'_>, error: &PyErr) -> String {
    let formatted = (|| -> PyResult<String> {
        let lines = py.import("traceback")?.call_method1("format_exception", (error.value(py),))?;
        let text: String = "".into_pyobject(py)?.call_method1("join", (lines,))?.extract()?;
        Ok(text)
    })();
    formatted.unwrap_or_else(|_| error.to_string()).trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn eval_in_shim(code: &str) -> String {
        Python::attach(|py| {
            let shim = shim_module(py).unwrap();
            let globals = shim.dict();
            let code = CString::new(code).unwrap();
            match py.eval(&code, Some(&globals), None) {
                Ok(value) => value.str().unwrap().to_string(),
                Err(error) => panic!("{}", python_error_text(py, &error)),
            }
        })
    }

    fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, bytes).unwrap();
        file
    }

    #[test]
    fn reader_read_slice_returns_exactly_those_bytes() {
        let file = file_with(b"0123456789");
        let path = file.path().display();
        let code = format!("bytes(FileSliceReader({path:?}, 'f.zip', 10).readSlice(2, 5).to_py())");
        assert_eq!(eval_in_shim(&code), "b'234'");
    }

    #[test]
    fn reader_read_slice_follows_blob_slice_bounds() {
        let file = file_with(b"0123456789");
        let path = file.path().display();
        let reader = format!("FileSliceReader({path:?}, 'f.zip', 10)");
        assert_eq!(eval_in_shim(&format!("bytes({reader}.readSlice(-3, None).to_py())")), "b'789'");
        assert_eq!(eval_in_shim(&format!("bytes({reader}.readSlice(8, 100).to_py())")), "b'89'");
        assert_eq!(eval_in_shim(&format!("bytes({reader}.readSlice(6, 2).to_py())")), "b''");
        assert_eq!(eval_in_shim(&format!("type({reader}.readSlice(0, 1).to_py()).__name__")), "memoryview");
    }

    #[test]
    fn reader_reads_lazily_from_disk() {
        // The file changes after the reader was made: a reader that had read it whole up front
        // would still see the old bytes.
        let file = file_with(b"aaaa");
        let path = file.path().display();
        let code = format!(
            "(lambda reader: (open({path:?}, 'wb').write(b'bbbb'), bytes(reader.readSlice(0, 4).to_py()))[1])\
             (FileSliceReader({path:?}, 'f', 4))"
        );
        assert_eq!(eval_in_shim(&code), "b'bbbb'");
    }

    #[test]
    fn payload_file_arrives_as_reader_with_name_and_size() {
        let file = file_with(b"zipdata");
        let payload = format!(
            r#"{{"__type__":"PayloadFile","value":{{"name":"ddp.zip","size":7,"locator":{:?}}}}}"#,
            file.path().display().to_string()
        );
        let code = format!(
            "(lambda p: (p.__type__, p.value.name, p.value.size, bytes(p.value.readSlice(0, 3).to_py())))\
             (payload_from_json({payload:?}))"
        );
        assert_eq!(eval_in_shim(&code), "('PayloadFile', 'ddp.zip', 7, b'zip')");
    }

    #[test]
    fn payload_file_array_value_is_a_list_of_readers() {
        let payload = r#"{"__type__":"PayloadFileArray","value":[{"name":"a","size":1,"locator":"/a"},{"name":"b","size":2,"locator":"/b"}]}"#;
        let code = format!("[(type(r).__name__, r.name, r.size) for r in payload_from_json({payload:?}).value]");
        assert_eq!(eval_in_shim(&code), "[('FileSliceReader', 'a', 1), ('FileSliceReader', 'b', 2)]");
    }

    #[test]
    fn payload_response_reads_by_attribute_item_and_to_py() {
        let payload = r#"{"__type__":"PayloadResponse","value":{"success":true,"key":"1-demo","status":200}}"#;
        let code = format!("(lambda p: (p.value.success, p['value'].key, p.to_py()))(payload_from_json({payload:?}))");
        assert_eq!(
            eval_in_shim(&code),
            "(True, '1-demo', {'__type__': 'PayloadResponse', 'value': {'success': True, 'key': '1-demo', 'status': 200}})"
        );
    }

    #[test]
    fn payload_void_has_value_none_like_undefined_in_pyodide() {
        assert_eq!(
            eval_in_shim(r#"(lambda p: (p.__type__, p.value))(payload_from_json('{"__type__":"PayloadVoid"}'))"#),
            "('PayloadVoid', None)"
        );
    }

    #[test]
    fn js_stand_in_is_installed_when_js_is_missing() {
        let code = "(install_js_stand_in(), __import__('sys').modules['js'].console.log.__name__, \
                    __import__('importlib').import_module('js').__doc__.startswith('Stand-in'))";
        // A second call finds the stand-in and leaves it; either way `js` imports.
        let result = eval_in_shim(code);
        assert!(result.ends_with(", 'log', True)"), "{result}");
    }

    #[test]
    fn command_to_json_serialises_a_dict() {
        assert_eq!(
            eval_in_shim(r#"command_to_json({"__type__": "CommandSystemExit", "code": 0, "info": "End of script"})"#),
            r#"{"__type__": "CommandSystemExit", "code": 0, "info": "End of script"}"#
        );
    }

    #[test]
    fn command_to_json_marks_an_unserialisable_value_with_its_type_and_field() {
        assert_eq!(
            eval_in_shim(r#"command_to_json({"__type__": "CommandUIRender", "page": {"body": [object()]}})"#),
            r#"{"__type__": "CommandUIRender", "__unserializable__": "object at page.body[0]"}"#
        );
        assert_eq!(
            eval_in_shim(r#"command_to_json({"__type__": "CommandUIRender", "page": [{"sys": __import__("sys")}]})"#),
            r#"{"__type__": "CommandUIRender", "__unserializable__": "module at page[0].sys"}"#
        );
    }

    #[test]
    fn command_to_json_writes_nan_and_infinities_as_null() {
        let json = eval_in_shim(
            r#"command_to_json({"__type__": "CommandUIRender", "rows": [float("nan"), float("inf"), -float("inf"), 1.5]})"#,
        );
        assert_eq!(json, r#"{"__type__": "CommandUIRender", "rows": [null, null, null, 1.5]}"#);
        serde_json::from_str::<serde_json::Value>(&json).expect("strict JSON");
    }

    #[test]
    fn command_to_json_replaces_lone_surrogates_and_keeps_astral_characters() {
        let json = eval_in_shim(
            r#"command_to_json({"__type__": "CommandUIRender", "title": "a\ud800b", "emoji": "\U0001F600", "\udcff": 1})"#,
        );
        let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON for serde");
        assert_eq!(value["title"], "a\u{fffd}b");
        assert_eq!(value["emoji"], "\u{1F600}");
        assert_eq!(value["\u{fffd}"], 1);
    }

    /// The worker's way (the body beside the JSON) and the native runner's (the body inside it)
    /// decode to the same command, lone surrogates and all; other commands are left as they are.
    #[test]
    fn a_split_donation_decodes_as_the_whole_command_does() {
        for command in [
            r#"{"__type__": "CommandSystemDonate", "key": "k", "json_string": "[{\"a\": \"donn\u00e9 \U0001F600\"}]"}"#,
            r#"{"__type__": "CommandSystemDonate", "key": "k", "json_string": "a\ud800b"}"#,
            r#"{"__type__": "CommandSystemDonate", "key": "k", "json_string": ""}"#,
        ] {
            let whole = eval_in_shim(&format!("command_to_json({command})"));
            let head = eval_in_shim(&format!("command_to_json(split_donation_body({command})[0])"));
            let body = eval_in_shim(&format!("split_donation_body({command})[1].hex()"));
            let body =
                (0..body.len()).step_by(2).map(|at| u8::from_str_radix(&body[at..at + 2], 16).unwrap()).collect();
            assert_eq!(
                port_protocol::Command::from_json_and_donation_body(&head, body).unwrap(),
                port_protocol::Command::from_json(&whole).unwrap(),
                "{command}"
            );
        }
        let log = r#"{"__type__": "CommandSystemLog", "level": "info", "message": "m"}"#;
        assert_eq!(eval_in_shim(&format!("split_donation_body({log}) == ({log}, None)")), "True");
        let not_text = r#"{"__type__": "CommandSystemDonate", "key": "k", "json_string": [1]}"#;
        assert_eq!(eval_in_shim(&format!("split_donation_body({not_text})[1]")), "None");
    }
}
