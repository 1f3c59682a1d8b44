//! Helpers shared by the integration tests: a temporary folder per test, the `port` command
//! builder, and writers for fixtures the tests generate.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root, where `studies/` and `tests/fixtures/` live.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The interpreter the build embedded: `PYO3_PYTHON`, as the build script reads it, else `python3`.
pub fn python_interpreter() -> String {
    std::env::var("PYO3_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// A temporary folder for one test, removed when the test ends.
pub struct TestDir {
    directory: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> TestDir {
        TestDir { directory: tempfile::Builder::new().prefix("port-test-").tempdir().expect("create a temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.directory.path()
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// Writes `contents` to `name` (creating parent folders) and returns its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.join(name);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("create parent folders");
        std::fs::write(&path, contents).expect("write a fixture");
        path
    }

    /// The demo platform's synthetic data download, made by `studies/demo/generate_ddp.py`.
    pub fn demo_zip(&self) -> PathBuf {
        let zip_path = self.join("ddp.zip");
        let status = Command::new(python_interpreter())
            .arg(repo_root().join("studies/demo/generate_ddp.py"))
            .arg(&zip_path)
            .status()
            .expect("run generate_ddp.py");
        assert!(status.success(), "generate_ddp.py failed");
        zip_path
    }

    /// `port` with this folder as its working folder. Bytecode is not written, so that running the
    /// fixtures under tests/ leaves no `__pycache__` in the repository; the caller's virtualenv and
    /// PYTHONPATH are dropped so that tests do not depend on them.
    pub fn port(&self, arguments: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_port"));
        command
            .args(arguments)
            .current_dir(self.path())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("VIRTUAL_ENV")
            .env_remove("PYTHONPATH");
        command
    }
}

/// What a finished `port` process printed, with its exit code.
pub struct PortOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl PortOutput {
    #[track_caller]
    pub fn assert_code(self, expected: i32) -> PortOutput {
        assert_eq!(self.code, Some(expected), "unexpected exit code\n{self}");
        self
    }

    #[track_caller]
    pub fn assert_stderr_contains(self, expected: &str) -> PortOutput {
        assert!(self.stderr.contains(expected), "expected stderr to contain:\n{expected}\n{self}");
        self
    }

    #[track_caller]
    pub fn assert_stdout_contains(self, expected: &str) -> PortOutput {
        assert!(self.stdout.contains(expected), "expected stdout to contain:\n{expected}\n{self}");
        self
    }
}

impl std::fmt::Display for PortOutput {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "--- exit code: {:?}\n--- stdout:\n{}\n--- stderr:\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs `port` to completion; takes the command by value, as each test runs it once.
pub fn run(mut command: Command) -> PortOutput {
    let output = command.output().expect("run port");
    PortOutput {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Reads a donation written by `--out`, as JSON.
#[track_caller]
pub fn read_donation(out_dir: &Path, key: &str) -> serde_json::Value {
    let path = out_dir.join(format!("{key}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{} is not JSON: {error}\n{text}", path.display()))
}

/// The study header every small study fixture starts with: our runtime's commands and props.
pub const STUDY_PRELUDE: &str = r#"
import json
from port.api.commands import CommandSystemDonate, CommandUIRender
from port.api.props import (
    PropsUIHeader, PropsUIPageDataSubmission, PropsUIPromptConfirm, PropsUIPromptFileInput,
    PropsUIPromptRadioInput, Translatable,
)

def t(text):
    return Translatable({"en": text, "nl": text})

def page(title, *body):
    return CommandUIRender(PropsUIPageDataSubmission("test", PropsUIHeader(t(title)), list(body)))

def donate(key, value):
    return CommandSystemDonate(key, json.dumps(value))
"#;
