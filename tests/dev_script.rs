//! `./dev test`'s suite runner, `run_suite`, on commands that pass, fail, crash and print nothing.
//!
//! See: issue 7. The runner used to read `PIPESTATUS` after `|| true` had reset it, so every
//! failing runner but pytest left `./dev test` green.

use std::process::Command;

use crate::util::{TestDir, repo_root};

/// What `run_suite` did: its exit status and what it printed (stdout and stderr together).
struct SuiteRun {
    status: i32,
    output: String,
}

/// Sources `./dev` and calls `run_suite demo SUMMARY FAILURE sh -c RUNNER`, with the logs in a
/// temporary folder.
#[track_caller]
fn run_suite(summary: &str, failure: &str, runner: &str) -> SuiteRun {
    let dir = TestDir::new();
    let script = r#". ./dev && CACHE="$1" && run_suite demo "$2" "$3" sh -c "$4""#;
    let output = Command::new("bash")
        .current_dir(repo_root())
        .args(["-c", script, "bash"])
        .arg(dir.path())
        .args([summary, failure, runner])
        .output()
        .expect("run bash");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let log = std::fs::read_to_string(dir.join("demo.log")).unwrap_or_default();
    assert!(log.contains("runner output"), "the whole output goes to the log; log: {log:?}");
    SuiteRun { status: output.status.code().unwrap_or(-1), output: text }
}

const SUMMARY: &str = "^result:";
const FAILURE: &str = "^result: [1-9][0-9]* failed";

#[test]
fn run_suite_passing_runner_exits_zero_and_prints_its_summary() {
    let run = run_suite(SUMMARY, FAILURE, "echo runner output; echo 'result: 0 failed, 3 passed'");
    assert_eq!(run.status, 0, "{}", run.output);
    assert!(run.output.contains("result: 0 failed, 3 passed"), "{}", run.output);
    assert!(!run.output.contains("FAILED"), "{}", run.output);
}

#[test]
fn run_suite_failing_runner_exits_non_zero_and_still_prints_its_summary() {
    let run = run_suite(SUMMARY, FAILURE, "echo runner output; echo 'result: 2 failed, 1 passed'; exit 3");
    assert_eq!(run.status, 1, "{}", run.output);
    assert!(run.output.contains("result: 2 failed, 1 passed"), "{}", run.output);
    assert!(run.output.contains("demo: FAILED: the runner exited with status 3"), "{}", run.output);
}

#[test]
fn run_suite_crashing_runner_fails() {
    let run = run_suite(SUMMARY, FAILURE, "echo runner output; kill -SEGV $$");
    assert_eq!(run.status, 1, "{}", run.output);
    assert!(run.output.contains("demo: FAILED: the runner exited with status 139"), "{}", run.output);
}

#[test]
fn run_suite_runner_without_a_summary_fails() {
    let run = run_suite(SUMMARY, FAILURE, "echo runner output");
    assert_eq!(run.status, 1, "{}", run.output);
    assert!(run.output.contains("demo: FAILED: the runner printed no summary line"), "{}", run.output);
}

#[test]
fn run_suite_runner_that_reports_failures_but_exits_zero_fails() {
    let run = run_suite(SUMMARY, FAILURE, "echo runner output; echo 'result: 1 failed'");
    assert_eq!(run.status, 1, "{}", run.output);
    assert!(run.output.contains("result: 1 failed"), "{}", run.output);
    assert!(run.output.contains("demo: FAILED: the runner reported failures"), "{}", run.output);
}
