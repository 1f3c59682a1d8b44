//! `port study check` as a researcher meets it: valid configs, every problem with its path, and
//! the exit status for invalid and unreadable files.

use crate::util::{TestDir, repo_root, run};

const VALID_CONFIG: &str = r#"{
  "schema": "port-study/1",
  "id": "my-study",
  "version": "2.1",
  "title": {"translations": {"en": "My study", "nl": "Mijn studie"}},
  "description": "What it is about",
  "script": {"url": "https://example.org/study.py", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
  "locales": ["en", "nl"],
  "donate": {"mode": "http", "url": "https://example.org/donate"}
}"#;

#[test]
fn study_check_demo_study_passes() {
    let test_dir = TestDir::new();
    let demo_config = repo_root().join("studies/demo/study.json");
    let output = run(test_dir.port(&["study", "check", &demo_config.display().to_string()]));
    let output = output.assert_code(0);
    assert_eq!(output.stdout, "ok: demo 1.0.0 (Demo study)\n", "{output}");
}

#[test]
fn study_check_valid_config_prints_ok() {
    let test_dir = TestDir::new();
    test_dir.write("study.json", VALID_CONFIG);
    let output = run(test_dir.port(&["study", "check", "study.json", "--external"]));
    let output = output.assert_code(0);
    assert_eq!(output.stdout, "ok: my-study 2.1 (My study)\n", "{output}");
}

#[test]
fn study_check_invalid_config_prints_every_problem_with_file_and_path() {
    let test_dir = TestDir::new();
    let config = VALID_CONFIG
        .replace(r#""script""#, r#""scirpt""#)
        .replace("https://example.org/donate", "http://example.org/donate")
        .replace(r#"["en", "nl"]"#, "[]");
    test_dir.write("study.json", &config);
    let output = run(test_dir.port(&["study", "check", "study.json"])).assert_code(1);
    assert_eq!(
        output.stdout,
        "study.json: scirpt: unknown field; did you mean \"script\"?\n\
         study.json: locales: must list at least one locale, e.g. [\"en\"]\n\
         study.json: script: missing; give {\"source\": \"<python>\"}, {\"url\": \"https://…\", \"sha256\": \"<hex>\"} or {\"bundled\": \"<path>\"}\n\
         study.json: donate.url: must be https (http only for localhost or 127.0.0.1), got \"http://example.org/donate\"\n",
        "{output}"
    );
}

#[test]
fn study_check_external_refuses_a_bundled_script() {
    let test_dir = TestDir::new();
    let demo_config = repo_root().join("studies/demo/study.json").display().to_string();
    let output = run(test_dir.port(&["study", "check", "--external", &demo_config])).assert_code(1);
    assert_eq!(
        output.stdout,
        format!(
            "{demo_config}: script.bundled: only studies built into the extension may use \"bundled\"; give \
             \"source\", or \"url\" with \"sha256\"\n"
        ),
        "{output}"
    );
}

#[test]
fn study_check_not_json_is_one_problem() {
    let test_dir = TestDir::new();
    test_dir.write("study.json", "schema: port-study/1\n");
    let output = run(test_dir.port(&["study", "check", "study.json"])).assert_code(1);
    assert_eq!(
        output.stdout, "study.json: (top level): not valid JSON: expected value at line 1 column 1\n",
        "{output}"
    );
}

#[test]
fn study_check_missing_file_exits_2() {
    let test_dir = TestDir::new();
    run(test_dir.port(&["study", "check", "nowhere.json"]))
        .assert_code(2)
        .assert_stderr_contains("error: cannot read the study config nowhere.json: No such file or directory");
}
