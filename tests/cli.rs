//! `port script run` as a user meets it: studies end to end, answers, transcripts, donations,
//! and the messages and exit status of things that go wrong.

use crate::util::{PortOutput, STUDY_PRELUDE, TestDir, read_donation, run};

/// A study that asks for a file and a choice, and donates what it got.
const FILE_AND_CHOICE_STUDY: &str = r#"
def process(session_id, platform):
    file_result = yield page("Your file", PropsUIPromptFileInput(t("Choose a file"), "application/zip"))
    reader = file_result.value
    head = bytes(reader.read(4)) if hasattr(reader, "read") else b""
    choice = yield page("Choose", PropsUIPromptRadioInput(t("Choose"), t("One"), ["A", "B"]))
    reply = yield donate(f"{session_id}-answers", {"file": reader.name, "size": reader.size, "head": head.decode(), "choice": choice.value})
    _ = yield donate(f"{session_id}-reply", {"reply": reply.__type__, "success": getattr(reply.value, "success", None)})
"#;

/// A study that donates data it built itself, which the participant never saw, then what the
/// donation was answered.
const BUILT_DONATION_STUDY: &str = r#"
def process(session_id, platform):
    reply = yield donate(f"{session_id}-built", {"n": "secret"})
    _ = yield donate(f"{session_id}-reply", {"success": reply.value.success, "status": reply.value.status})
"#;

fn write_study(test_dir: &TestDir, body: &str) -> String {
    test_dir.write("study.py", &format!("{STUDY_PRELUDE}\n{body}")).display().to_string()
}

/// `port script run` of the demo study on the demo package, with `--auto`, session 1700000000000,
/// donations in `out/`, and `extra_args`.
fn run_demo_on_autopilot(test_dir: &TestDir, extra_args: &[&str]) -> PortOutput {
    let zip_path = test_dir.demo_zip();
    let study = crate::util::repo_root().join("studies/demo/script.py");
    let (study, zip_path) = (study.display().to_string(), zip_path.display().to_string());
    let mut args = vec!["script", "run", &study, "--file", &zip_path, "--auto"];
    args.extend_from_slice(extra_args);
    args.extend_from_slice(&["--session", "1700000000000", "--out", "out"]);
    run(test_dir.port(&args))
}

#[test]
fn demo_study_on_autopilot_completes_and_writes_the_donation() {
    let test_dir = TestDir::new();
    let output = run_demo_on_autopilot(&test_dir, &[]);
    let output = output.assert_code(0).assert_stdout_contains("exit 0: End of script");
    let donation = read_donation(&test_dir.join("out"), "1700000000000-demo");
    // The consent form's donation (ConsentFormViz): one object per table, in the D3I shape.
    let tables = donation.as_array().unwrap_or_else(|| panic!("not a list: {donation}\n{output}"));
    assert!(tables.iter().any(|table| table.get("demo_watch_history").is_some()), "{donation}");
}

#[test]
fn demo_study_donates_its_answers_verbatim_and_needs_no_review() {
    let test_dir = TestDir::new();
    let output = run_demo_on_autopilot(&test_dir, &["--fail-on-review"]).assert_code(0);
    assert!(!output.stderr.contains("review:"), "{output}");
    // Both the consent form and the questionnaire went out.
    read_donation(&test_dir.join("out"), "1700000000000-demo");
    read_donation(&test_dir.join("out"), "1700000000000-demo-questionnaire");
}

#[test]
fn demo_study_declined_consent_sends_the_decline_record_without_review() {
    let test_dir = TestDir::new();
    let zip_path = test_dir.demo_zip();
    let study = crate::util::repo_root().join("studies/demo/script.py");
    // The file, "Everything" to review, "No" on the consent form, "Finish" on the thank-you page.
    test_dir.write(
        "answers.json",
        &serde_json::json!([
            {"__type__": "PayloadFile", "value": zip_path.display().to_string()},
            {"__type__": "PayloadString", "value": "Everything"},
            {"__type__": "PayloadFalse", "value": false},
            {"__type__": "PayloadTrue", "value": true},
        ])
        .to_string(),
    );
    let output = run(test_dir.port(&[
        "script",
        "run",
        &study.display().to_string(),
        "--answers",
        "answers.json",
        "--fail-on-review",
        "--session",
        "3",
        "--out",
        "out",
    ]))
    .assert_code(0);
    assert!(!output.stderr.contains("review:"), "{output}");
    assert_eq!(
        read_donation(&test_dir.join("out"), "3-demo"),
        serde_json::json!({"status": "data_submission declined"})
    );
}

#[test]
fn auto_sends_a_donation_that_needs_review_and_says_so() {
    let test_dir = TestDir::new();
    let study = write_study(&test_dir, BUILT_DONATION_STUDY);
    let output = run(test_dir.port(&[
        "script",
        "run",
        &study,
        "--auto",
        "--session",
        "7",
        "--out",
        "out",
        "--transcript",
        "run.jsonl",
    ]))
    .assert_code(0)
    .assert_stderr_contains(
        "review: the donation 7-built (15 bytes) is not verbatim one of the participant's answers, so the \
         participant is asked before it is sent",
    );
    assert!(!output.stderr.contains("secret"), "the content is not printed: {output}");
    assert_eq!(read_donation(&test_dir.join("out"), "7-built"), serde_json::json!({"n": "secret"}));
    assert_eq!(read_donation(&test_dir.join("out"), "7-reply"), serde_json::json!({"success": true, "status": 200}));
    let text = std::fs::read_to_string(test_dir.join("run.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let review_idx = lines.iter().position(|line| line["dir"] == "review").expect("a review line");
    assert_eq!(lines[review_idx]["value"], serde_json::json!({"key": "7-built", "size": 15, "answer": "PayloadJSON"}));
    assert_eq!(lines[review_idx - 1]["value"]["key"], "7-built", "after the donation");
    assert_eq!(lines[review_idx + 1]["value"]["__type__"], "PayloadResponse", "before its reply");
}

#[test]
fn fail_on_review_stops_the_run_with_exit_code_3() {
    let test_dir = TestDir::new();
    let study = write_study(&test_dir, BUILT_DONATION_STUDY);
    let output =
        run(test_dir.port(&["script", "run", &study, "--auto", "--fail-on-review", "--session", "7", "--out", "out"]))
            .assert_code(3)
            .assert_stderr_contains(
                "error: the donation 7-built (15 bytes) is not verbatim one of the participant's answers, so the \
         participant would have to review it before it is sent (--fail-on-review)",
            );
    assert!(!output.stderr.contains("secret"), "{output}");
    assert_eq!(std::fs::read_dir(test_dir.join("out")).unwrap().count(), 0, "nothing was donated");
}

#[test]
fn answers_file_review_takes_an_entry_and_false_declines_with_403() {
    let test_dir = TestDir::new();
    let study = write_study(&test_dir, BUILT_DONATION_STUDY);
    // One entry for the review of `7-built`, one for the review of `7-reply` (built as well).
    test_dir.write(
        "answers.json",
        r#"[{"__type__":"PayloadFalse","value":false},{"__type__":"PayloadTrue","value":true}]"#,
    );
    run(test_dir.port(&["script", "run", &study, "--answers", "answers.json", "--session", "7", "--out", "out"]))
        .assert_code(0)
        .assert_stderr_contains("[info] a donation was declined by the participant at review (15 bytes)");
    assert!(!test_dir.join("out/7-built.json").exists());
    assert_eq!(read_donation(&test_dir.join("out"), "7-reply"), serde_json::json!({"success": false, "status": 403}));
}

#[test]
fn answers_running_out_at_a_review_says_how_to_send() {
    let test_dir = TestDir::new();
    let study = write_study(&test_dir, BUILT_DONATION_STUDY);
    test_dir.write("answers.json", "[]");
    run(test_dir.port(&["script", "run", &study, "--answers", "answers.json", "--session", "7"]))
        .assert_code(1)
        .assert_stderr_contains(
            r#"the answers ran out: all 0 were used, and the review of the donation 7-built needs another ({"__type__":"PayloadTrue","value":true} sends it)"#,
        );
}

#[test]
fn answers_file_answers_pages_in_order_and_resolves_file_paths() {
    let test_dir = TestDir::new();
    let study = write_study(&test_dir, FILE_AND_CHOICE_STUDY);
    test_dir.write("data/upload.zip", "PK\u{3}\u{4}rest");
    test_dir.write(
        "answers.json",
        // Both donations are built by the script, not answers: each needs a review, which takes an entry.
        r#"[{"__type__":"PayloadFile","value":"data/upload.zip"},{"__type__":"PayloadString","value":"B"},
            {"__type__":"PayloadTrue","value":true},{"__type__":"PayloadTrue","value":true}]"#,
    );
    run(test_dir.port(&["script", "run", &study, "--answers", "answers.json", "--session", "5", "--out", "out"]))
        .assert_code(0);
    assert_eq!(
        read_donation(&test_dir.join("out"), "5-answers"),
        serde_json::json!({"file": "upload.zip", "size": 8, "head": "PK\u{3}\u{4}", "choice": "B"})
    );
    assert_eq!(
        read_donation(&test_dir.join("out"), "5-reply"),
        serde_json::json!({"reply": "PayloadResponse", "success": true})
    );
}

#[test]
fn answers_running_out_is_a_clear_error() {
    let test_dir = TestDir::new();
    let study = write_study(&test_dir, FILE_AND_CHOICE_STUDY);
    test_dir.write("upload.zip", "PK");
    test_dir.write("answers.json", r#"[{"__type__":"PayloadFile","value":"upload.zip"}]"#);
    run(test_dir.port(&["script", "run", &study, "--answers", "answers.json"]))
        .assert_code(1)
        .assert_stderr_contains("the answers ran out: all 1 were used, and the page \"Choose\" needs another");
}

#[test]
fn legacy_donate_makes_the_script_see_payload_void() {
    let test_dir = TestDir::new();
    let study = write_study(&test_dir, FILE_AND_CHOICE_STUDY);
    test_dir.write("upload.zip", "PK");
    test_dir.write(
        "answers.json",
        r#"[{"__type__":"PayloadFile","value":"upload.zip"},{"__type__":"PayloadString","value":"A"},
            {"__type__":"PayloadTrue","value":true},{"__type__":"PayloadTrue","value":true}]"#,
    );
    run(test_dir.port(&[
        "script",
        "run",
        &study,
        "--answers",
        "answers.json",
        "--session",
        "5",
        "--out",
        "out",
        "--legacy-donate",
    ]))
    .assert_code(0);
    assert_eq!(
        read_donation(&test_dir.join("out"), "5-reply"),
        serde_json::json!({"reply": "PayloadVoid", "success": null})
    );
}

#[test]
fn transcript_has_one_line_per_command_and_response() {
    let test_dir = TestDir::new();
    let study = write_study(&test_dir, FILE_AND_CHOICE_STUDY);
    test_dir.write("upload.zip", "PK");
    run(test_dir.port(&["script", "run", &study, "--auto", "--file", "upload.zip", "--transcript", "run.jsonl"]))
        .assert_code(0);
    let text = std::fs::read_to_string(test_dir.join("run.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let summary: Vec<String> = lines
        .iter()
        .map(|line| match line["dir"].as_str().unwrap() {
            "review" => format!("review {}", line["value"]["answer"].as_str().unwrap()),
            direction => format!("{direction} {}", line["value"]["__type__"].as_str().unwrap()),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "command CommandUIRender",
            "response PayloadFile",
            "command CommandUIRender",
            "response PayloadString",
            // Both donations are built by the script: each is reviewed (and sent) in between.
            "command CommandSystemDonate",
            "review PayloadJSON",
            "response PayloadResponse",
            "command CommandSystemDonate",
            "review PayloadJSON",
            "response PayloadResponse",
            "command CommandSystemExit",
        ]
    );
    assert_eq!(lines[1]["value"]["value"]["name"], "upload.zip");
}

#[test]
fn donations_without_out_are_accepted_and_summarised() {
    let test_dir = TestDir::new();
    let study =
        write_study(&test_dir, "def process(session_id, platform):\n    _ = yield donate('summary-key', [1, 2])\n");
    run(test_dir.port(&["script", "run", &study, "--auto"]))
        .assert_code(0)
        .assert_stdout_contains("donation summary-key: 6 bytes");
}

#[test]
fn donation_with_an_unsafe_key_is_refused_and_the_script_gets_400() {
    let test_dir = TestDir::new();
    let study = write_study(
        &test_dir,
        "def process(session_id, platform):\n    reply = yield donate('../escape me', {})\n    _ = yield donate('reply', {'success': reply.value.success, 'status': reply.value.status})\n",
    );
    run(test_dir.port(&["script", "run", &study, "--auto", "--out", "out"]))
        .assert_code(0)
        .assert_stderr_contains("[error] a donation was refused: the donation key may only hold ASCII letters");
    assert_eq!(read_donation(&test_dir.join("out"), "reply"), serde_json::json!({"success": false, "status": 400}));
    let written: Vec<String> = std::fs::read_dir(test_dir.join("out"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, ["reply.json"]);
}

#[test]
fn script_exception_goes_through_the_error_flow_and_reports_with_consent() {
    let test_dir = TestDir::new();
    let study = write_study(
        &test_dir,
        "def process(session_id, platform):\n    _ = yield page('Before', PropsUIPromptConfirm(t('Go?'), t('OK'), t('No')))\n    raise ValueError('study bug')\n",
    );
    let output = run(test_dir.port(&["script", "run", &study, "--auto", "--out", "out", "--platform", "Demo"]));
    output.assert_code(0).assert_stderr_contains("page \"Something went wrong\"");
    let report = read_donation(&test_dir.join("out"), "error-report");
    assert_eq!(report["platform"], "Demo");
    let traceback = report["traceback"].as_str().unwrap();
    assert!(traceback.contains("ValueError: study bug"), "{traceback}");
}

#[test]
fn unknown_command_from_python_shows_a_clear_page_and_the_run_goes_on() {
    let test_dir = TestDir::new();
    let study = write_study(
        &test_dir,
        "def process(session_id, platform):\n    _ = yield {'__type__': 'CommandTeleport'}\n    _ = yield donate('after', 'went on')\n",
    );
    run(test_dir.port(&["script", "run", &study, "--auto", "--out", "out"]))
        .assert_code(0)
        // The wording is the engine's; the CLI must show the error page with the command's name.
        .assert_stderr_contains("[PropsUIPageError, PropsUIPromptConfirm]")
        .assert_stderr_contains("unknown command CommandTeleport");
    assert_eq!(read_donation(&test_dir.join("out"), "after"), "went on");
}

#[test]
fn unserialisable_command_from_python_is_reported_as_malformed_without_a_crash() {
    let test_dir = TestDir::new();
    let study = write_study(
        &test_dir,
        "def process(session_id, platform):\n    _ = yield {'__type__': 'CommandSystemDonate', 'key': 'k', 'json_string': object()}\n    _ = yield donate('after', 'went on')\n",
    );
    run(test_dir.port(&["script", "run", &study, "--auto", "--out", "out"]))
        .assert_code(0)
        .assert_stderr_contains("the command CommandSystemDonate is not JSON-serialisable: object at json_string")
        .assert_stderr_contains("[PropsUIPageError, PropsUIPromptConfirm]");
    assert_eq!(read_donation(&test_dir.join("out"), "after"), "went on");
    assert!(!test_dir.join("out/k.json").exists());
}

#[test]
fn script_exit_code_other_than_zero_fails_the_run() {
    let test_dir = TestDir::new();
    let study = write_study(
        &test_dir,
        "from port.api.commands import CommandSystemExit\ndef process(session_id, platform):\n    _ = yield CommandSystemExit(3, 'gave up')\n",
    );
    run(test_dir.port(&["script", "run", &study, "--auto"])).assert_code(1).assert_stdout_contains("exit 3: gave up");
}

#[test]
fn script_that_does_not_exist_is_a_clear_error() {
    let test_dir = TestDir::new();
    run(test_dir.port(&["script", "run", "no/such/study.py", "--auto"]))
        .assert_code(2)
        .assert_stderr_contains("error: script not found: no/such/study.py");
}

#[test]
fn file_that_does_not_exist_is_a_clear_error() {
    let test_dir = TestDir::new();
    let study = write_study(&test_dir, FILE_AND_CHOICE_STUDY);
    run(test_dir.port(&["script", "run", &study, "--auto", "--file", "missing.zip"]))
        .assert_code(2)
        .assert_stderr_contains("error: file not found: missing.zip");
}

#[test]
fn neither_auto_nor_answers_says_to_pass_one() {
    let test_dir = TestDir::new();
    let study = write_study(&test_dir, FILE_AND_CHOICE_STUDY);
    run(test_dir.port(&["script", "run", &study]))
        .assert_code(2)
        .assert_stderr_contains("pass --auto, or --answers FILE.json");
}

#[test]
fn study_with_syntax_error_fails_to_start_with_its_traceback() {
    let test_dir = TestDir::new();
    let study = test_dir.write("study.py", "def process(:\n").display().to_string();
    run(test_dir.port(&["script", "run", &study, "--auto"]))
        .assert_code(2)
        .assert_stderr_contains("python failed to start the script")
        .assert_stderr_contains("SyntaxError");
}
