//! [`PythonScript`]: a study running in the embedded interpreter, behind `port_engine::Script`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use port_engine::{Script, ScriptError};
use port_protocol::Payload;
use pyo3::prelude::*;

use crate::runtime_wheel::installed_runtime_wheel;
use crate::shim::{python_error_text, shim_module};

/// Which kind of script to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptSource {
    /// A `.py` file defining `process(session_id, platform)`, run on our embedded runtime: it is
    /// registered with `port.main.register_script` and started with `port.main.start`.
    StudyFile(PathBuf),
    /// A folder holding a feldspar-style `port/` package (e.g. D3I's `packages/python`). It runs
    /// unchanged with its own API, `port.start`; our runtime is not loaded.
    FeldsparPackage(PathBuf),
}

impl ScriptSource {
    /// A folder is a feldspar-style package, anything else a study file. Does no I/O beyond `is_dir`.
    pub fn from_path(path: &Path) -> ScriptSource {
        if path.is_dir() {
            ScriptSource::FeldsparPackage(path.to_owned())
        } else {
            ScriptSource::StudyFile(path.to_owned())
        }
    }
}

/// The session id as the script receives it. Feldspar passes the iframe's `Date.now()`, an int.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionId {
    Number(i64),
    Text(String),
}

impl SessionId {
    /// A number when the text is one, as feldspar's ids are; otherwise the text itself.
    pub fn parse(text: &str) -> SessionId {
        text.parse().map_or_else(|_| SessionId::Text(text.to_owned()), SessionId::Number)
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionId::Number(number) => write!(formatter, "{number}"),
            SessionId::Text(text) => formatter.write_str(text),
        }
    }
}

/// Why a script could not be started. There is no session yet, so none survives it.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The study file or package folder does not exist.
    #[error("script not found: {}", .0.display())]
    NotFound(PathBuf),
    /// A folder was given, but it holds no `port/__init__.py`.
    #[error("{} holds no feldspar-style package: expected {}", .directory.display(), .directory.join("port/__init__.py").display())]
    NotAPackage { directory: PathBuf },
    /// The embedded runtime wheel could not be written to its cache file.
    #[error("cannot install the runtime wheel: {0}")]
    RuntimeWheel(#[source] std::io::Error),
    /// Python raised while loading the study or calling `start` (an import or syntax error).
    #[error("python failed to start the script:\n{traceback}")]
    Python { traceback: String },
}

/// A running study: the `ScriptWrapper` that `start` returned, driven through its `send`.
pub struct PythonScript {
    // Invariant: a started wrapper, whose first `send` is `send(None)` as the engine guarantees.
    wrapper: Py<PyAny>,
}

/// Serialises starts in this process. Starting edits interpreter-wide state (`sys.path`, the `port`
/// modules, `port.main`'s registered study), and the GIL can pass to another thread between two
/// Python statements. Taken before the GIL, never while holding it, so it cannot deadlock.
static START_LOCK: Mutex<()> = Mutex::new(());

impl PythonScript {
    /// Loads the script and calls its `start(session_id, platform)`; nothing of the study runs yet
    /// beyond its module's top level.
    pub fn start(
        source: &ScriptSource,
        session_id: &SessionId,
        platform: Option<&str>,
    ) -> Result<PythonScript, StartError> {
        let _start_guard = START_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match source {
            ScriptSource::StudyFile(path) => {
                if !path.is_file() {
                    return Err(StartError::NotFound(path.clone()));
                }
                let wheel_path = installed_runtime_wheel().map_err(StartError::RuntimeWheel)?;
                let study_path = std::path::absolute(path).map_err(|_| StartError::NotFound(path.clone()))?;
                start_in_python(|py, shim| {
                    let session_id = session_id_object(py, session_id)?;
                    shim.call_method1(
                        "start_study_file",
                        (wheel_path.display().to_string(), study_path.display().to_string(), session_id, platform),
                    )
                })
            }
            ScriptSource::FeldsparPackage(directory) => {
                if !directory.is_dir() {
                    return Err(StartError::NotFound(directory.clone()));
                }
                if !directory.join("port").join("__init__.py").is_file() {
                    return Err(StartError::NotAPackage { directory: directory.clone() });
                }
                let directory = std::path::absolute(directory).map_err(|_| StartError::NotFound(directory.clone()))?;
                start_in_python(|py, shim| {
                    let session_id = session_id_object(py, session_id)?;
                    shim.call_method1("start_feldspar_package", (directory.display().to_string(), session_id, platform))
                })
            }
        }
    }
}

fn start_in_python(
    start: impl for<'py> FnOnce(Python<'py>, &Bound<'py, PyModule>) -> PyResult<Bound<'py, PyAny>>,
) -> Result<PythonScript, StartError> {
    Python::attach(|py| {
        let started = shim_module(py).and_then(|shim| start(py, &shim));
        match started {
            Ok(wrapper) => Ok(PythonScript { wrapper: wrapper.unbind() }),
            Err(error) => Err(StartError::Python { traceback: python_error_text(py, &error) }),
        }
    })
}

fn session_id_object<'py>(py: Python<'py>, session_id: &SessionId) -> PyResult<Bound<'py, PyAny>> {
    Ok(match session_id {
        SessionId::Number(number) => number.into_pyobject(py)?.into_any(),
        SessionId::Text(text) => text.into_pyobject(py)?.into_any(),
    })
}

impl Script for PythonScript {
    /// Passes the reply to the wrapper's `send` and returns the command as JSON text.
    ///
    /// A command `json.dumps` refuses comes back as `{"__type__": …, "__unserializable__": …}`,
    /// which the engine reports as malformed (see `command_to_json` in the shim). `Err` only when
    /// an exception escapes the wrapper, which a feldspar wrapper should never let happen; its
    /// message is the traceback.
    fn send(&mut self, reply: Option<&Payload>) -> Result<String, ScriptError> {
        Python::attach(|py| {
            let result = (|| -> PyResult<String> {
                let shim = shim_module(py)?;
                let argument = match reply {
                    None => py.None().into_bound(py),
                    Some(payload) => {
                        let payload_json = serde_json::to_string(payload).expect("a payload always serialises");
                        shim.call_method1("payload_from_json", (payload_json,))?
                    }
                };
                let command = self.wrapper.bind(py).call_method1("send", (argument,))?;
                shim.call_method1("command_to_json", (command,))?.extract()
            })();
            result.map_err(|error| ScriptError { message: python_error_text(py, &error) })
        })
    }
}

/// Which Python this process embeds; the pyo3 trap is loading another libpython than the one built
/// against, which shows here as another version or prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedPython {
    /// `sys.version`.
    pub version: String,
    /// `sys.prefix`.
    pub prefix: String,
    /// `sys.base_prefix`.
    pub base_prefix: String,
}

pub fn embedded_python() -> EmbeddedPython {
    Python::attach(|py| {
        let (version, prefix, base_prefix): (String, String, String) = shim_module(py)
            .and_then(|shim| shim.call_method0("embedded_python")?.extract())
            .unwrap_or_else(|error| panic!("the interpreter cannot report itself: {}", python_error_text(py, &error)));
        EmbeddedPython { version, prefix, base_prefix }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use port_protocol::Command;

    fn python_interpreter() -> String {
        std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_owned())
    }

    fn ask_interpreter(code: &str) -> String {
        let output = std::process::Command::new(python_interpreter()).args(["-c", code]).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().trim_end_matches('\n').to_owned()
    }

    #[test]
    fn embedded_python_is_the_build_interpreter() {
        let embedded = embedded_python();
        assert_eq!(embedded.version, ask_interpreter("import sys; print(sys.version)"));
        // The base prefix: PYO3_PYTHON may be a virtualenv's python, whose own prefix is the venv.
        let interpreter_base_prefix = ask_interpreter("import sys; print(sys.base_prefix)");
        assert_eq!(embedded.prefix, interpreter_base_prefix);
        assert_eq!(embedded.base_prefix, interpreter_base_prefix);
    }

    #[test]
    fn session_id_parse_keeps_numbers_as_numbers() {
        assert_eq!(SessionId::parse("1700000000000"), SessionId::Number(1_700_000_000_000));
        assert_eq!(SessionId::parse("abc-1"), SessionId::Text("abc-1".into()));
    }

    #[test]
    fn start_of_missing_study_file_is_not_found() {
        let error =
            PythonScript::start(&ScriptSource::StudyFile("/no/such/study.py".into()), &SessionId::Number(1), None)
                .err()
                .unwrap();
        assert_eq!(error.to_string(), "script not found: /no/such/study.py");
    }

    #[test]
    fn start_of_folder_without_port_package_says_so() {
        let directory = tempfile::tempdir().unwrap();
        let error =
            PythonScript::start(&ScriptSource::from_path(directory.path()), &SessionId::Number(1), None).err().unwrap();
        assert!(matches!(error, StartError::NotAPackage { .. }), "{error}");
    }

    #[test]
    fn study_file_runs_on_the_embedded_runtime_and_reads_payloads_by_attribute() {
        let directory = tempfile::tempdir().unwrap();
        let study_path = directory.path().join("study.py");
        std::fs::write(
            &study_path,
            r#"
import js
from port.api.commands import CommandSystemDonate
import port.main

def process(session_id, platform):
    reply = yield CommandSystemDonate(f"{session_id}-{platform}", "{}")
    yield CommandSystemDonate("reply", f"{reply.__type__} {reply.value.success} {type(session_id).__name__} {port.main.__file__.split('.whl')[0][-4:]}")
"#,
        )
        .unwrap();
        let mut script =
            PythonScript::start(&ScriptSource::StudyFile(study_path), &SessionId::Number(7), Some("demo")).unwrap();
        let first = Command::from_json(&script.send(None).unwrap()).unwrap();
        let Command::SystemDonate(donation) = first else { panic!("{first:?}") };
        assert_eq!(donation.key, "7-demo");

        let response = port_protocol::DonateResponse { success: true, key: "7-demo".into(), status: 200, error: None };
        let second = Command::from_json(&script.send(Some(&Payload::Response(response))).unwrap()).unwrap();
        let Command::SystemDonate(donation) = second else { panic!("{second:?}") };
        assert_eq!(donation.json_string, "PayloadResponse True int -any");

        let third = Command::from_json(&script.send(Some(&Payload::Void)).unwrap()).unwrap();
        assert_eq!(third.wire_type(), "CommandSystemExit");
    }
}
