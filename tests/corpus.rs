//! The corpus of bad and unusual data packages (`tests/corpus/generate.py`) through the native
//! runner with the demo study, which is built on the runtime's helpers.
//!
//! Each file must get its own problem page or its data: the page the manifest names (by kind, and
//! by its English header from the runtime itself), the donated rows per table, never the error
//! page or a traceback. Each run must stay within 256 MiB of the control run's peak memory (read
//! from the child's rusage) and take less than 10 s.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::util::{TestDir, python_interpreter, repo_root};

const MEMORY_ABOVE_BASELINE_KIB: i64 = 256 * 1024;
const TIME_LIMIT: Duration = Duration::from_secs(10);
const SESSION: &str = "1";

#[derive(Debug, Deserialize)]
struct Entry {
    file: String,
    why: String,
    expect: Expectation,
}

#[derive(Debug, Deserialize)]
struct Expectation {
    problem: Option<String>,
    detail: Option<String>,
    tables: Option<BTreeMap<String, usize>>,
}

/// What one run of `port script run` left behind.
struct Measured {
    code: Option<i32>,
    peak_kib: i64,
    elapsed: Duration,
    output: String,
    transcript: Vec<serde_json::Value>,
    out_dir: PathBuf,
}

/// Runs `command` to its end and reads its peak resident memory from `wait4`, which reports the
/// rusage of that one child (the tests' other children do not count).
fn run_measured(mut command: Command, log_path: &Path) -> (Option<i32>, i64, Duration) {
    let log = File::create(log_path).expect("create the run's log");
    command.stdin(Stdio::null()).stdout(log.try_clone().expect("clone the log")).stderr(log);
    let started = Instant::now();
    // Reaped by `wait4` below, which `Child::wait` cannot replace: it drops the rusage.
    #[allow(clippy::zombie_processes)]
    let child = command.spawn().expect("start port");
    let pid = libc::pid_t::try_from(child.id()).expect("a pid fits pid_t");
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data, for which all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for (the `Child` is never waited on), and the
    // pointers are to live locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(waited, pid, "wait4 failed: {}", std::io::Error::last_os_error());
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    // On Linux ru_maxrss is in KiB.
    (code, usage.ru_maxrss, elapsed)
}

fn run_demo(test_dir: &TestDir, file: &Path, name: &str) -> Measured {
    let out_dir = test_dir.join(&format!("out/{name}"));
    let transcript_path = test_dir.join(&format!("transcripts/{name}.jsonl"));
    std::fs::create_dir_all(transcript_path.parent().unwrap()).unwrap();
    let log_path = test_dir.join(&format!("transcripts/{name}.log"));
    let study = repo_root().join("studies/demo/script.py");
    let mut command = test_dir.port(&[]);
    command.args(["script", "run", "--auto", "--session", SESSION]);
    command.arg(&study).arg("--file").arg(file).arg("--out").arg(&out_dir).arg("--transcript").arg(&transcript_path);
    let (code, peak_kib, elapsed) = run_measured(command, &log_path);
    let transcript = std::fs::read_to_string(&transcript_path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a transcript line is JSON"))
        .collect();
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    Measured { code, peak_kib, elapsed, output, transcript, out_dir }
}

/// Each problem kind's English page header, from the runtime's own words.
fn problem_headers() -> BTreeMap<String, String> {
    let code = "import json\n\
                from port.helpers.problems import KINDS, UploadProblem, problem_texts\n\
                print(json.dumps({k: problem_texts(UploadProblem(k), 'Demo platform')['header']['en'] for k in KINDS}))";
    let output = Command::new(python_interpreter())
        .args(["-c", code])
        .env("PYTHONPATH", repo_root().join("python"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run python");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("headers as JSON")
}

fn commands(measured: &Measured) -> impl Iterator<Item = &serde_json::Value> {
    measured.transcript.iter().filter(|line| line["dir"] == "command").map(|line| &line["value"])
}

fn page_headers(measured: &Measured) -> Vec<String> {
    commands(measured)
        .filter(|command| command["__type__"] == "CommandUIRender")
        .filter_map(|command| command["page"]["header"]["title"]["translations"]["en"].as_str())
        .map(str::to_owned)
        .collect()
}

fn log_messages(measured: &Measured) -> Vec<String> {
    commands(measured)
        .filter(|command| command["__type__"] == "CommandSystemLog")
        .filter_map(|command| command["message"].as_str())
        .map(str::to_owned)
        .collect()
}

/// Everything wrong with one run, as lines; empty when it did what the manifest says.
fn check(entry: &Entry, measured: &Measured, headers: &BTreeMap<String, String>, baseline_kib: i64) -> Vec<String> {
    let mut problems = Vec::new();
    if measured.code != Some(0) {
        problems.push(format!("exit code {:?}", measured.code));
    }
    if measured.output.contains("Traceback")
        || measured.transcript.iter().any(|line| line.to_string().contains("Traceback"))
    {
        problems.push("a traceback was printed or shown".into());
    }
    let shown = page_headers(measured);
    if shown.iter().any(|header| header == "Something went wrong") {
        problems.push("the error page was shown".into());
    }
    let logs = log_messages(measured);
    let problem_logs: Vec<&String> = logs.iter().filter(|message| message.contains("Validation problem: ")).collect();
    match &entry.expect.problem {
        Some(kind) => {
            let expected_log = match &entry.expect.detail {
                Some(detail) => format!("[Demo platform] Validation problem: {kind} ({detail})"),
                None => format!("[Demo platform] Validation problem: {kind}"),
            };
            if !logs.contains(&expected_log) {
                problems.push(format!("expected the log {expected_log:?}, got {problem_logs:?}"));
            }
            let header = headers.get(kind).unwrap_or_else(|| panic!("no page for the kind {kind}"));
            if !shown.contains(header) {
                problems.push(format!("expected the page {header:?}, saw {shown:?}"));
            }
        }
        None if !problem_logs.is_empty() => problems.push(format!("expected no problem, got {problem_logs:?}")),
        None => {}
    }
    let donation_path = measured.out_dir.join(format!("{SESSION}-demo.json"));
    match (&entry.expect.tables, std::fs::read_to_string(&donation_path)) {
        (Some(expected), Ok(text)) => match serde_json::from_str::<Vec<BTreeMap<String, serde_json::Value>>>(&text) {
            Ok(tables) => {
                let rows: BTreeMap<String, usize> = tables
                    .iter()
                    .flat_map(|table| table.iter())
                    .filter_map(|(key, value)| value.as_array().map(|rows| (key.clone(), rows.len())))
                    .collect();
                if &rows != expected {
                    problems.push(format!("donated rows {rows:?}, expected {expected:?}"));
                }
            }
            Err(error) => problems.push(format!("the donation is not strict JSON of tables: {error}")),
        },
        (Some(_), Err(_)) => problems.push("expected a donation, none was written".into()),
        (None, Ok(_)) => problems.push("expected no donation, one was written".into()),
        (None, Err(_)) => {}
    }
    let above_baseline = measured.peak_kib - baseline_kib;
    if above_baseline > MEMORY_ABOVE_BASELINE_KIB {
        problems.push(format!("peak memory {} MiB above the control run", above_baseline / 1024));
    }
    if measured.elapsed >= TIME_LIMIT {
        problems.push(format!("took {:.1} s", measured.elapsed.as_secs_f64()));
    }
    problems
}

#[test]
fn every_file_of_the_corpus_gets_its_page_or_its_data_within_bounds() {
    let test_dir = TestDir::new();
    let corpus_dir = test_dir.join("corpus");
    let status = Command::new(python_interpreter())
        .arg(repo_root().join("tests/corpus/generate.py"))
        .arg(&corpus_dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .status()
        .expect("run the corpus generator");
    assert!(status.success(), "tests/corpus/generate.py failed");
    let manifest = std::fs::read_to_string(corpus_dir.join("manifest.json")).expect("read the manifest");
    let entries: Vec<Entry> = serde_json::from_str(&manifest).expect("parse the manifest");
    assert!(entries.len() >= 40, "the corpus has only {} files", entries.len());
    let headers = problem_headers();

    let control = entries.iter().find(|entry| entry.file == "control.zip").expect("the corpus has control.zip");
    let baseline = run_demo(&test_dir, &corpus_dir.join(&control.file), "baseline");
    let baseline_failures = check(control, &baseline, &headers, baseline.peak_kib);
    assert!(baseline_failures.is_empty(), "the control run failed: {baseline_failures:?}\n{}", baseline.output);

    // Two at a time, as the machine has two cores; each child's rusage is its own.
    let next = Mutex::new(entries.iter().enumerate());
    let failures = Mutex::new(Vec::new());
    let peaks = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let Some((index, entry)) = next.lock().unwrap().next() else { break };
                    let measured = run_demo(&test_dir, &corpus_dir.join(&entry.file), &format!("{index:02}"));
                    let found = check(entry, &measured, &headers, baseline.peak_kib);
                    peaks.lock().unwrap().push((measured.peak_kib - baseline.peak_kib, entry.file.clone()));
                    if !found.is_empty() {
                        failures.lock().unwrap().push(format!(
                            "{} ({}):\n  - {}\n  output:\n{}",
                            entry.file,
                            entry.why,
                            found.join("\n  - "),
                            measured.output.lines().map(|line| format!("    {line}")).collect::<Vec<_>>().join("\n")
                        ));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    let mut peaks = peaks.into_inner().unwrap();
    peaks.sort();
    let (most, heaviest) = peaks.last().cloned().unwrap_or_default();
    println!(
        "corpus: {} files, control peak {} MiB, largest excess {} MiB ({heaviest})",
        entries.len(),
        baseline.peak_kib / 1024,
        most / 1024
    );
    assert!(
        failures.is_empty(),
        "{} of {} corpus files failed:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
}
