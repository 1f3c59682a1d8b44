//! A D3I-style study package run unchanged: `tests/fixtures/d3i_style` mirrors D3I's
//! packages/python (ScriptWrapper with its error flow, FlowBuilder, validate, ZipArchiveReader over
//! the AsyncFileAdapter, ConsentFormViz tables from pandas, a lazily imported platform registry).
//!
//! The fixture imports pandas at module level, as D3I's props do, so these tests need pandas in
//! the embedded interpreter; without it they fail and say how to install it.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::util::{PortOutput, TestDir, python_interpreter, read_donation, repo_root, run};

/// Writes a synthetic data download: `instagram`, `instagram-broken` (a followed account without
/// `string_list_data`, which the extraction does not expect), `youtube`, or `unknown` (no known file).
const MAKE_ZIP: &str = r#"
import json, sys, zipfile

path, kind = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
    if kind in ("instagram", "instagram-broken"):
        base = "instagram_synthetic_20240401/"
        following = [
            {"title": "", "media_list_data": [],
             "string_list_data": [{"href": f"https://www.instagram.com/{name}", "value": name, "timestamp": ts}]}
            for name, ts in [("alice_example", 1704067200), ("bob_example", 1706745600), ("carol_example", 1709251200)]
        ]
        if kind == "instagram-broken":
            following.append({"title": "dave_example", "media_list_data": []})
        archive.writestr(base + "connections/followers_and_following/following.json",
                         json.dumps({"relationships_following": following}))
        likes = [
            {"title": name,
             "string_list_data": [{"href": f"https://www.instagram.com/p/{post}/", "value": "\U0001F44D", "timestamp": ts}]}
            for name, post, ts in [("erin_example", "AAA111", 1710000000), ("frank_example", "BBB222", 1711000000)]
        ]
        archive.writestr(base + "your_instagram_activity/likes/liked_posts.json", json.dumps({"likes_media_likes": likes}))
        archive.writestr(base + "personal_information/personal_information/personal_information.json",
                         json.dumps({"profile_user": []}))
    elif kind == "youtube":
        base = "Takeout/YouTube and YouTube Music/"
        history = [
            {"header": "YouTube", "title": "Watched Synthetic video one", "titleUrl": "https://www.youtube.com/watch?v=aaa",
             "subtitles": [{"name": "Channel A", "url": "https://www.youtube.com/channel/UC1"}],
             "time": "2024-01-02T10:00:00.000Z"},
            {"header": "YouTube", "title": "Watched a video that has been removed", "time": "2024-01-03T11:00:00.000Z"},
        ]
        archive.writestr(base + "history/watch-history.json", json.dumps(history))
        archive.writestr(base + "subscriptions/subscriptions.csv",
                         "Channel Id,Channel Url,Channel Title\n"
                         "UC1,http://www.youtube.com/channel/UC1,Channel A\n"
                         "UC2,http://www.youtube.com/channel/UC2,Channel B\n")
    elif kind == "unknown":
        archive.writestr("notes/readme.txt", "not a data download")
    else:
        sys.exit(f"unknown kind {kind}")
"#;

/// Fails (does not skip) when the interpreter the build embedded cannot import pandas.
fn require_pandas() {
    let interpreter = python_interpreter();
    let output = std::process::Command::new(&interpreter)
        .args(["-c", "import pandas"])
        .output()
        .unwrap_or_else(|error| panic!("run {interpreter}: {error}"));
    assert!(
        output.status.success(),
        "the D3I-style fixture imports pandas at module level, but {interpreter} cannot import it; \
         install it into that interpreter: `{interpreter} -m pip install pandas`\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn make_zip(test_dir: &TestDir, kind: &str) -> PathBuf {
    let script = test_dir.write("make_zip.py", MAKE_ZIP);
    let path = test_dir.join(&format!("{kind}.zip"));
    let output = std::process::Command::new(python_interpreter()).arg(&script).arg(&path).arg(kind).output().unwrap();
    assert!(output.status.success(), "make_zip.py {kind} failed: {}", String::from_utf8_lossy(&output.stderr));
    path
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// `port script run tests/fixtures/d3i_style --auto --session 42 --out out --transcript run.jsonl`.
fn run_d3i(test_dir: &TestDir, files: &[&Path], platform: Option<&str>) -> PortOutput {
    run_d3i_with(test_dir, files, platform, &[])
}

/// [`run_d3i`] with more arguments.
fn run_d3i_with(test_dir: &TestDir, files: &[&Path], platform: Option<&str>, extra_arguments: &[&str]) -> PortOutput {
    let package_folder = repo_root().join("tests/fixtures/d3i_style").display().to_string();
    let mut arguments = vec!["script", "run", &package_folder, "--auto", "--session", "42"];
    let files: Vec<String> = files.iter().map(|path| path.display().to_string()).collect();
    for file in &files {
        arguments.extend(["--file", file]);
    }
    if let Some(platform) = platform {
        arguments.extend(["--platform", platform]);
    }
    arguments.extend(["--out", "out", "--transcript", "run.jsonl"]);
    arguments.extend(extra_arguments);
    run(test_dir.port(&arguments))
}

/// The transcript as one line per command and response, compact enough to compare whole:
/// `log: <message>`, `page: <en header> [<body types>]`, `donate: <key>`, `exit: <code> <info>`,
/// `review: <key>` for a donation the participant had to review, and `-> <payload type>` for each
/// response.
fn transcript_events(test_dir: &TestDir) -> Vec<String> {
    let text = std::fs::read_to_string(test_dir.join("run.jsonl")).expect("read the transcript");
    text.lines()
        .map(|line| {
            let entry: Value = serde_json::from_str(line).unwrap();
            let value = &entry["value"];
            let wire_type = value["__type__"].as_str().unwrap_or_default();
            match (entry["dir"].as_str().unwrap(), wire_type) {
                ("response", _) => format!("-> {wire_type}"),
                ("review", _) => format!("review: {}", value["key"].as_str().unwrap()),
                (_, "CommandSystemLog") => format!("log: {}", value["message"].as_str().unwrap()),
                (_, "CommandSystemDonate") => format!("donate: {}", value["key"].as_str().unwrap()),
                (_, "CommandSystemExit") => format!("exit: {} {}", value["code"], value["info"].as_str().unwrap()),
                (_, "CommandUIRender") => {
                    let page = &value["page"];
                    let body: Vec<&str> = page["body"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|item| item["__type__"].as_str().unwrap())
                        .collect();
                    format!(
                        "page: {} [{}]",
                        page["header"]["title"]["translations"]["en"].as_str().unwrap(),
                        body.join(", ")
                    )
                }
                _ => format!("unexpected: {line}"),
            }
        })
        .collect()
}

/// The JSON text of a donation, whose character count the flow logs as its size.
fn donation_text(test_dir: &TestDir, key: &str) -> String {
    std::fs::read_to_string(test_dir.join("out").join(format!("{key}.json"))).unwrap()
}

fn donation_files(test_dir: &TestDir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(test_dir.join("out"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn instagram_donation() -> Value {
    json!([
        {
            "instagram_following": [
                {"Account": "alice_example", "Followed since": "2024-01-01T00:00:00+00:00"},
                {"Account": "bob_example", "Followed since": "2024-02-01T00:00:00+00:00"},
                {"Account": "carol_example", "Followed since": "2024-03-01T00:00:00+00:00"},
            ],
            "deleted row count": "0",
        },
        {
            "instagram_liked_posts": [
                {"Account": "frank_example", "Link": "https://www.instagram.com/p/BBB222/", "Liked at": "2024-03-21T05:46:40+00:00"},
                {"Account": "erin_example", "Link": "https://www.instagram.com/p/AAA111/", "Liked at": "2024-03-09T16:00:00+00:00"},
            ],
            "deleted row count": "0",
        },
    ])
}

/// The events of one platform's flow from upload to a successful donation, given the file's size
/// and the donation's length; `Starting platform` comes before it. There is no review: FlowBuilder
/// donates the consent form's answer as it is.
fn successful_flow(
    platform: &str,
    category: &str,
    extraction: &str,
    file_size: u64,
    donation_len: usize,
) -> Vec<String> {
    let p = platform;
    vec![
        format!("log: [{p}] Upload prompt sent"),
        "-> PayloadVoid".into(),
        format!("page: Select your {p} file [PropsUIPromptFileInput]"),
        "-> PayloadFile".into(),
        format!("log: [{p}] Upload received: size={file_size}"),
        "-> PayloadVoid".into(),
        format!("log: [{p}] Validation: valid ({category})"),
        "-> PayloadVoid".into(),
        format!("log: [{p}] Extraction complete: {extraction}; errors: none"),
        "-> PayloadVoid".into(),
        format!("log: [{p}] Consent form shown"),
        "-> PayloadVoid".into(),
        format!("page: Your {p} data [PropsUIPromptConsentFormViz]"),
        "-> PayloadJSON".into(),
        format!("log: [{p}] Consent: accepted"),
        "-> PayloadVoid".into(),
        format!("log: [{p}] Donation started: payload size={donation_len} bytes"),
        "-> PayloadVoid".into(),
        format!("donate: 42-{}", p.to_lowercase()),
        "-> PayloadResponse".into(),
        format!("log: [{p}] Donation result: success"),
        "-> PayloadVoid".into(),
    ]
}

fn with_start_and_end(platform_flows: Vec<(&str, Vec<String>)>) -> Vec<String> {
    let mut events = Vec::new();
    for (platform, flow) in platform_flows {
        events.extend([format!("log: Starting platform: {platform}"), "-> PayloadVoid".into()]);
        events.extend(flow);
    }
    events.extend(["log: Study complete".into(), "-> PayloadVoid".into(), "exit: 0 End of script".into()]);
    events
}

#[test]
fn d3i_style_platform_flow_donates_its_consent_form_tables() {
    require_pandas();
    let test_dir = TestDir::new();
    let zip = make_zip(&test_dir, "instagram");
    run_d3i(&test_dir, &[&zip], Some("Instagram")).assert_code(0).assert_stdout_contains("exit 0: End of script");

    assert_eq!(donation_files(&test_dir), ["42-instagram.json"]);
    assert_eq!(read_donation(&test_dir.join("out"), "42-instagram"), instagram_donation());
    let donation_len = donation_text(&test_dir, "42-instagram").chars().count();
    let expected = with_start_and_end(vec![(
        "Instagram",
        successful_flow("Instagram", "json_en", "2 tables, 5 rows", file_size(&zip), donation_len),
    )]);
    assert_eq!(transcript_events(&test_dir), expected);
}

#[test]
fn d3i_style_without_platform_runs_every_platform_in_registry_order() {
    require_pandas();
    let test_dir = TestDir::new();
    let instagram = make_zip(&test_dir, "instagram");
    let youtube = make_zip(&test_dir, "youtube");
    run_d3i(&test_dir, &[&instagram, &youtube], None).assert_code(0);

    assert_eq!(donation_files(&test_dir), ["42-instagram.json", "42-youtube.json"]);
    assert_eq!(read_donation(&test_dir.join("out"), "42-instagram"), instagram_donation());
    // pandas' columnar to_json, read back by the consent form: None becomes "null", newest first.
    assert_eq!(
        read_donation(&test_dir.join("out"), "42-youtube"),
        json!([
            {
                "youtube_watch_history": [
                    {"Title": "a video that has been removed", "Channel": "null", "Watched at": "2024-01-03T11:00:00.000Z"},
                    {"Title": "Synthetic video one", "Channel": "Channel A", "Watched at": "2024-01-02T10:00:00.000Z"},
                ],
                "deleted row count": "0",
            },
            {
                "youtube_subscriptions": [
                    {"Channel": "Channel A", "Url": "http://www.youtube.com/channel/UC1"},
                    {"Channel": "Channel B", "Url": "http://www.youtube.com/channel/UC2"},
                ],
                "deleted row count": "0",
            },
        ])
    );
    let expected = with_start_and_end(vec![
        (
            "Instagram",
            successful_flow(
                "Instagram",
                "json_en",
                "2 tables, 5 rows",
                file_size(&instagram),
                donation_text(&test_dir, "42-instagram").chars().count(),
            ),
        ),
        (
            "YouTube",
            successful_flow(
                "YouTube",
                "json_en",
                "2 tables, 4 rows",
                file_size(&youtube),
                donation_text(&test_dir, "42-youtube").chars().count(),
            ),
        ),
    ]);
    assert_eq!(transcript_events(&test_dir), expected);
}

#[test]
fn d3i_style_flows_donate_their_consent_answers_verbatim_and_need_no_review() {
    require_pandas();
    let test_dir = TestDir::new();
    let instagram = make_zip(&test_dir, "instagram");
    let youtube = make_zip(&test_dir, "youtube");
    let output = run_d3i_with(&test_dir, &[&instagram, &youtube], None, &["--fail-on-review"]).assert_code(0);
    assert!(!output.stderr.contains("review:"), "{output}");
    assert_eq!(donation_files(&test_dir), ["42-instagram.json", "42-youtube.json"]);
}

#[test]
fn d3i_style_invalid_file_gets_the_retry_prompt_then_the_next_file_donates() {
    require_pandas();
    let test_dir = TestDir::new();
    let unknown = make_zip(&test_dir, "unknown");
    let instagram = make_zip(&test_dir, "instagram");
    // The platform filter is case-insensitive; the logs use the registry's name.
    run_d3i(&test_dir, &[&unknown, &instagram], Some("instagram")).assert_code(0);

    assert_eq!(donation_files(&test_dir), ["42-instagram.json"]);
    assert_eq!(read_donation(&test_dir.join("out"), "42-instagram"), instagram_donation());
    let mut flow = vec![
        "log: [Instagram] Upload prompt sent".to_owned(),
        "-> PayloadVoid".into(),
        "page: Select your Instagram file [PropsUIPromptFileInput]".into(),
        "-> PayloadFile".into(),
        format!("log: [Instagram] Upload received: size={}", file_size(&unknown)),
        "-> PayloadVoid".into(),
        "log: [Instagram] Validation: invalid".into(),
        "-> PayloadVoid".into(),
        "page: Try again [PropsUIPromptConfirm]".into(),
        "-> PayloadTrue".into(),
    ];
    flow.extend(successful_flow(
        "Instagram",
        "json_en",
        "2 tables, 5 rows",
        file_size(&instagram),
        donation_text(&test_dir, "42-instagram").chars().count(),
    ));
    assert_eq!(transcript_events(&test_dir), with_start_and_end(vec![("Instagram", flow)]));
}

#[test]
fn d3i_style_exception_in_extraction_goes_through_the_consent_gated_error_flow() {
    require_pandas();
    let test_dir = TestDir::new();
    let broken = make_zip(&test_dir, "instagram-broken");
    let youtube = make_zip(&test_dir, "youtube");
    run_d3i(&test_dir, &[&broken, &youtube], None).assert_code(0).assert_stdout_contains("exit 0: End of script");

    // The study generator is abandoned: YouTube never starts, only the error report is donated.
    assert_eq!(donation_files(&test_dir), ["error-report.json"]);
    let report = read_donation(&test_dir.join("out"), "error-report");
    assert_eq!(report["platform"], "error", "{report}");
    let traceback = report["traceback"].as_str().unwrap();
    assert!(traceback.starts_with("Traceback (most recent call last):"), "{traceback}");
    assert!(traceback.contains("platforms/instagram.py"), "{traceback}");
    assert!(traceback.contains("in following_to_df"), "{traceback}");
    assert!(traceback.trim_end().ends_with("KeyError: 'string_list_data'"), "{traceback}");
    let timestamp = report["timestamp"].as_str().unwrap();
    assert!(timestamp.len() > 20 && timestamp.as_bytes()[10] == b'T' && timestamp.ends_with("+00:00"), "{timestamp}");

    let expected = vec![
        "log: Starting platform: Instagram".to_owned(),
        "-> PayloadVoid".into(),
        "log: [Instagram] Upload prompt sent".into(),
        "-> PayloadVoid".into(),
        "page: Select your Instagram file [PropsUIPromptFileInput]".into(),
        "-> PayloadFile".into(),
        format!("log: [Instagram] Upload received: size={}", file_size(&broken)),
        "-> PayloadVoid".into(),
        "log: [Instagram] Validation: valid (json_en)".into(),
        "-> PayloadVoid".into(),
        "page: Something went wrong [PropsUIPromptText, PropsUIPromptConfirm]".into(),
        "-> PayloadTrue".into(),
        "donate: error-report".into(),
        // The report adds a timestamp to what the page showed, so the participant reviews it.
        "review: error-report".into(),
        "-> PayloadResponse".into(),
        "exit: 0 End of script".into(),
    ];
    assert_eq!(transcript_events(&test_dir), expected);

    // The error page shows the same traceback, under the fallback platform name.
    let transcript = std::fs::read_to_string(test_dir.join("run.jsonl")).unwrap();
    let error_page = transcript
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|entry| entry["value"]["page"]["header"]["title"]["translations"]["en"] == "Something went wrong")
        .unwrap();
    let page = &error_page["value"]["page"];
    assert_eq!(page["platform"], "error");
    assert_eq!(page["body"][0]["text"]["translations"]["en"], traceback);
    assert_eq!(page["body"][1]["ok"]["translations"]["en"], "Report error");
}
