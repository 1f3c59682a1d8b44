//! `port host` as the extension's dev-host bridge meets it, spoken to over plain HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

use crate::util::TestDir;

/// A running `port host`, killed when dropped.
struct RunningHost {
    child: Child,
    address: String,
    /// Kept open: the host prints to stderr, and would fail writing to a closed pipe.
    _stderr: BufReader<std::process::ChildStderr>,
}

impl Drop for RunningHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_host(test_dir: &TestDir) -> RunningHost {
    start_host_with(test_dir, &[])
}

fn start_host_with(test_dir: &TestDir, flags: &[&str]) -> RunningHost {
    let donation_dir = test_dir.join("donations");
    let mut arguments = vec!["host", "--port", "0", "--dir", donation_dir.to_str().unwrap()];
    arguments.extend_from_slice(flags);
    let mut child =
        test_dir.port(&arguments).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("start port host");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let address =
        line.trim().strip_prefix("port host: listening on http://").expect("the URL is printed first").to_owned();
    RunningHost { child, address, _stderr: stderr }
}

/// Sends one HTTP/1.1 request and returns the status code and body.
fn request(address: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    stream.write_all(format!("{head}\r\n{body}").as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn donation_is_written_verbatim_and_listed() {
    let test_dir = TestDir::new();
    let host = start_host(&test_dir);
    let donated = r#"[{"watch":[{"title":"A"}],"deleted row count":"1"}]"#;
    let (status, _) = request(
        &host.address,
        "POST",
        "/donate",
        &[("X-Port-Key", "17-demo"), ("X-Port-Session", "17"), ("Content-Type", "application/json")],
        donated,
    );
    assert_eq!(status, 200);
    let stored = std::fs::read_to_string(test_dir.join("donations/17/17-demo.json")).unwrap();
    assert_eq!(stored, donated);
    let (status, listing) = request(&host.address, "GET", "/donations", &[], "");
    assert_eq!(status, 200);
    let listing: serde_json::Value = serde_json::from_str(&listing).unwrap();
    assert_eq!(listing[0]["key"], "17-demo");
    assert_eq!(listing[0]["bytes"], donated.len());
}

#[test]
fn donation_without_key_is_refused_with_a_reason() {
    let test_dir = TestDir::new();
    let host = start_host(&test_dir);
    let (status, body) = request(&host.address, "POST", "/donate", &[], "{}");
    assert_eq!(status, 400);
    assert!(body.contains("missing X-Port-Key header"), "{body}");
}

#[test]
fn donation_key_cannot_escape_the_folder() {
    let test_dir = TestDir::new();
    let host = start_host(&test_dir);
    let (status, _) =
        request(&host.address, "POST", "/donate", &[("X-Port-Key", "../../evil"), ("X-Port-Session", "..")], "1");
    assert_eq!(status, 200);
    assert!(test_dir.join("donations/_../_.._.._evil.json").exists());
}

#[test]
fn logs_and_exit_are_accepted_and_bad_json_is_refused() {
    let test_dir = TestDir::new();
    let host = start_host(&test_dir);
    let log = r#"{"session_id":"1","entries":[{"level":"info","message":"hello","json_string":"{}"}]}"#;
    assert_eq!(request(&host.address, "POST", "/log", &[], log).0, 200);
    assert_eq!(request(&host.address, "POST", "/exit", &[], r#"{"code":0,"info":"End of script"}"#).0, 200);
    assert_eq!(request(&host.address, "POST", "/log", &[], "not json").0, 400);
    assert_eq!(request(&host.address, "OPTIONS", "/donate", &[], "").0, 204);
}

#[test]
fn repeated_idempotency_key_is_a_duplicate_and_stored_once() {
    let test_dir = TestDir::new();
    let host = start_host(&test_dir);
    let headers = [("X-Port-Key", "1-demo"), ("X-Port-Session", "1"), ("Idempotency-Key", "abc123")];
    assert_eq!(request(&host.address, "POST", "/donate", &headers, "[1]").0, 200);
    assert_eq!(request(&host.address, "POST", "/donate", &headers, "[1]").0, 409);
    let (_, listing) = request(&host.address, "GET", "/donations", &[], "");
    let listing: serde_json::Value = serde_json::from_str(&listing).unwrap();
    assert_eq!(listing.as_array().unwrap().len(), 1, "{listing}");
}

#[test]
fn fail_donations_answers_the_status_n_times_then_stores() {
    let test_dir = TestDir::new();
    let host = start_host_with(&test_dir, &["--fail-donations", "503:2"]);
    let headers = [("X-Port-Key", "1-demo"), ("X-Port-Session", "1")];
    let statuses: Vec<u16> = (0..3).map(|_| request(&host.address, "POST", "/donate", &headers, "[1]").0).collect();
    assert_eq!(statuses, [503, 503, 200]);
    assert!(test_dir.join("donations/1/1-demo.json").exists());
}

#[test]
fn study_page_pushes_the_config_with_live_init() {
    let test_dir = TestDir::new();
    let study = test_dir.write("study.json", r#"{"schema":"port-study/1","id":"pilot"}"#);
    let host = start_host_with(&test_dir, &["--study", study.to_str().unwrap()]);
    let (status, page) = request(&host.address, "GET", "/study", &[], "");
    assert_eq!(status, 200);
    assert!(page.contains(r#"const STUDY = {"schema":"port-study/1","id":"pilot"};"#), "{page}");
    assert!(page.contains("action: 'live-init'"));
    assert!(page.contains(r#"const EXTENSION_ID = "majacjgmojmpgjbcioomhloafcikglkl";"#));
}

#[test]
fn study_page_without_study_says_how_to_give_one() {
    let test_dir = TestDir::new();
    let host = start_host(&test_dir);
    let (status, body) = request(&host.address, "GET", "/study", &[], "");
    assert_eq!(status, 404);
    assert!(body.contains("start port host with --study FILE"), "{body}");
}
