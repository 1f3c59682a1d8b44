//! What a study script sees of the embedded runtime: feldspar-style packages running unchanged,
//! the `js` stand-in, lazy file readers, VIRTUAL_ENV and PYTHONPATH, and the embedded Python.

use crate::util::{STUDY_PRELUDE, TestDir, python_interpreter, read_donation, repo_root, run};

fn ask_interpreter(code: &str) -> String {
    let output = std::process::Command::new(python_interpreter()).args(["-c", code]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim_end_matches('\n').to_owned()
}

#[test]
fn feldspar_style_package_runs_unchanged_with_its_own_api() {
    let test_dir = TestDir::new();
    let zip_path = test_dir.demo_zip();
    let package_folder = repo_root().join("tests/fixtures/feldspar_style");
    run(test_dir.port(&[
        "script",
        "run",
        &package_folder.display().to_string(),
        "--file",
        &zip_path.display().to_string(),
        "--auto",
        "--session",
        "99",
        "--platform",
        "Demo",
        "--out",
        "out",
    ]))
    .assert_code(0)
    .assert_stderr_contains("[js.console.log] feldspar-style study started")
    .assert_stderr_contains("[info] read 4 names");

    let donation = read_donation(&test_dir.join("out"), "99-Demo");
    assert_eq!(donation["file_name"], "ddp.zip");
    let names = donation["names"].as_array().unwrap();
    assert!(names.iter().any(|name| name.as_str().unwrap().ends_with("watch_history.json")), "{donation}");
    assert_eq!(
        read_donation(&test_dir.join("out"), "99-status"),
        serde_json::json!({
            "donation_success": true,
            "session_id_type": "int",
            "package_folder": "feldspar_style",
            "our_runtime_loaded": false,
        })
    );
}

/// Checks the size without reading, opens the zip through the reader, and reports how many bytes
/// the whole process read meanwhile.
const LARGE_FILE_STUDY: &str = r#"
import zipfile
from port.helpers.uploads import check_payload_size

def bytes_read_by_this_process():
    # rchar counts every byte this process read through read(2), whoever read it.
    with open("/proc/self/io") as io_file:
        return int(next(line for line in io_file if line.startswith("rchar:")).split()[1])

def process(session_id, platform):
    file_result = yield page("File", PropsUIPromptFileInput(t("Choose"), "application/zip"))
    before = bytes_read_by_this_process()
    checked_size = check_payload_size(file_result)
    with zipfile.ZipFile(file_result.value) as archive:
        content = archive.read("hello.txt").decode()
    read = bytes_read_by_this_process() - before
    _ = yield donate("large", {"size": file_result.value.size, "checked_size": checked_size, "content": content, "bytes_read": read})
"#;

#[test]
fn file_over_two_gibibytes_is_read_by_slices_only() {
    let test_dir = TestDir::new();
    // A sparse file of 2 GiB + 1 MiB of nothing, then a small zip: zipfile finds the zip at the end
    // (it allows data before an archive), so reading it needs only the last few kilobytes.
    let large_path = test_dir.join("large.zip");
    let make_large = format!(
        "import io, zipfile\n\
         buffer = io.BytesIO()\n\
         with zipfile.ZipFile(buffer, 'w') as archive: archive.writestr('hello.txt', 'hello from the end')\n\
         with open({path:?}, 'wb') as file:\n    file.seek(2**31 + 2**20)\n    file.write(buffer.getvalue())\n",
        path = large_path.display().to_string()
    );
    ask_interpreter(&make_large);
    assert!(std::fs::metadata(&large_path).unwrap().len() > 2 * 1024 * 1024 * 1024);

    let study = test_dir.write("study.py", &format!("{STUDY_PRELUDE}\n{LARGE_FILE_STUDY}"));
    run(test_dir.port(&[
        "script",
        "run",
        &study.display().to_string(),
        "--file",
        &large_path.display().to_string(),
        "--auto",
        "--out",
        "out",
    ]))
    .assert_code(0);
    let donation = read_donation(&test_dir.join("out"), "large");
    assert_eq!(donation["size"], std::fs::metadata(&large_path).unwrap().len());
    // No size is refused: the check passes a file over 2 GiB.
    assert_eq!(donation["checked_size"], donation["size"]);
    assert_eq!(donation["content"], "hello from the end");
    let bytes_read = donation["bytes_read"].as_u64().unwrap();
    assert!(bytes_read < 1024 * 1024, "the study read {bytes_read} bytes of a 2 GiB file");
}

#[test]
fn module_on_pythonpath_is_importable_by_the_study() {
    let test_dir = TestDir::new();
    test_dir.write("extra/researcher_helper.py", "GREETING = 'from PYTHONPATH'\n");
    let study = test_dir.write(
        "study.py",
        &format!(
            "{STUDY_PRELUDE}\nimport researcher_helper\ndef process(session_id, platform):\n    _ = yield donate('path', researcher_helper.GREETING)\n"
        ),
    );
    let mut command = test_dir.port(&["script", "run", &study.display().to_string(), "--auto", "--out", "out"]);
    command.env("PYTHONPATH", test_dir.join("extra"));
    run(command).assert_code(0);
    assert_eq!(read_donation(&test_dir.join("out"), "path"), "from PYTHONPATH");
}

#[test]
fn site_packages_of_virtual_env_are_importable_by_the_study() {
    let test_dir = TestDir::new();
    let version = ask_interpreter("import sys; print(f'python{sys.version_info[0]}.{sys.version_info[1]}')");
    test_dir.write(&format!("venv/lib/{version}/site-packages/venv_only_module.py"), "WHERE = 'from the venv'\n");
    let study = test_dir.write(
        "study.py",
        &format!(
            "{STUDY_PRELUDE}\nimport venv_only_module\ndef process(session_id, platform):\n    _ = yield donate('venv', venv_only_module.WHERE)\n"
        ),
    );
    let mut command = test_dir.port(&["script", "run", &study.display().to_string(), "--auto", "--out", "out"]);
    command.env("VIRTUAL_ENV", test_dir.join("venv"));
    run(command).assert_code(0);
    assert_eq!(read_donation(&test_dir.join("out"), "venv"), "from the venv");
}

#[test]
fn embedded_python_is_the_interpreter_the_build_used() {
    let test_dir = TestDir::new();
    let study = test_dir.write(
        "study.py",
        &format!(
            "{STUDY_PRELUDE}\nimport sys\ndef process(session_id, platform):\n    _ = yield donate('python', {{'version': sys.version, 'prefix': sys.prefix}})\n"
        ),
    );
    run(test_dir.port(&["script", "run", &study.display().to_string(), "--auto", "--out", "out"])).assert_code(0);
    let embedded = read_donation(&test_dir.join("out"), "python");
    assert_eq!(embedded["version"], ask_interpreter("import sys; print(sys.version)"));
    // The base prefix: PYO3_PYTHON may be a virtualenv's python, whose own prefix is the venv.
    assert_eq!(embedded["prefix"], ask_interpreter("import sys; print(sys.base_prefix)"));
}

#[test]
fn js_is_importable_and_its_console_prints_to_stderr() {
    let test_dir = TestDir::new();
    let study = test_dir.write(
        "study.py",
        &format!(
            "{STUDY_PRELUDE}\nimport js\njs.console.warn('loaded', 1)\ndef process(session_id, platform):\n    _ = yield donate('js', js.__name__)\n"
        ),
    );
    run(test_dir.port(&["script", "run", &study.display().to_string(), "--auto", "--out", "out"]))
        .assert_code(0)
        .assert_stderr_contains("[js.console.warn] loaded 1");
    assert_eq!(read_donation(&test_dir.join("out"), "js"), "js");
}

#[test]
fn numeric_session_id_reaches_the_study_as_int_and_other_ids_as_str() {
    let test_dir = TestDir::new();
    let study = test_dir.write(
        "study.py",
        &format!(
            "{STUDY_PRELUDE}\ndef process(session_id, platform):\n    _ = yield donate('id', [type(session_id).__name__, session_id, platform])\n"
        ),
    );
    let study = study.display().to_string();
    run(test_dir.port(&["script", "run", &study, "--auto", "--out", "out", "--session", "123"])).assert_code(0);
    assert_eq!(read_donation(&test_dir.join("out"), "id"), serde_json::json!(["int", 123, null]));
    run(test_dir.port(&["script", "run", &study, "--auto", "--out", "out", "--session", "s-1", "--platform", "X"]))
        .assert_code(0);
    assert_eq!(read_donation(&test_dir.join("out"), "id"), serde_json::json!(["str", "s-1", "X"]));
}
