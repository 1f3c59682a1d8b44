//! The command line as typed: clap definitions with their help, each followed by its parse test.
//!
//! Nothing here touches the file system; `script_run::RunPlan::resolve` checks and reads what the
//! arguments name.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Data donation studies: run, build and host them.
#[derive(Debug, Parser)]
#[command(name = "port", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: TopCommand,
}

#[derive(Debug, Subcommand)]
pub enum TopCommand {
    /// Work with study scripts.
    ///
    /// Study scripts are the Python programs that walk a participant through a data donation:
    /// feldspar-compatible scripts, run here in an embedded CPython instead of the browser.
    #[command(subcommand)]
    Script(ScriptCommand),
    /// Run the development host: receives donations and logs from the extension on 127.0.0.1.
    ///
    /// It stands in for a host platform while you develop or pilot a study. Each donation is
    /// written to `DIR/<session>/<key>.json` holding the donated JSON verbatim, and listed in
    /// `DIR/index.jsonl`; logs and exits are printed. Point the extension's dev-host bridge at the
    /// printed URL.
    Host(HostArgs),
    /// Build the extension into `dist/extension`, loadable unpacked in Chrome.
    ///
    /// Compiles the wasm crates, bundles Pyodide, micropip, the runtime wheel and the demo study,
    /// and stamps the version from Cargo into the manifest. Unchanged inputs are not rebuilt.
    Build(BuildArgs),
    /// Build, start the dev host, and open Chromium with the extension running the demo study.
    ///
    /// Chromium runs headed when a display exists, headless otherwise. Donations land in the
    /// printed folder. Stop with Ctrl-C.
    Run(ExtensionRunArgs),
    /// Work with study configs: the `study.json` (`"schema": "port-study/1"`) that names a study's
    /// script, locales and where its donations go.
    #[command(subcommand)]
    Study(StudyCommand),
}

#[derive(Debug, Subcommand)]
pub enum StudyCommand {
    /// Check a study config, printing every problem with its JSON path.
    ///
    /// Prints `ok: <id> <version> (<title>)` and exits 0 when the config is valid. Otherwise prints
    /// each problem as `FILE: <path>: <message>`, e.g. `study.json: donate.url: must be https …`,
    /// and exits 1. A file that cannot be read exits 2. The checks are the extension's own.
    Check(StudyCheckArgs),
}

/// `port study check`, as typed.
#[derive(Debug, Args)]
pub struct StudyCheckArgs {
    /// The study config to check, e.g. `studies/demo/study.json`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Check it as the extension checks a config from managed storage or a URL.
    ///
    /// Such a config may not use `"script": {"bundled": …}`, which only studies built into the
    /// extension can: it names a file shipped inside the extension.
    #[arg(long)]
    pub external: bool,
}

/// `port build`, as typed.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Optimise the wasm with wasm-opt and also write a Web Store zip, into `dist/release/`.
    ///
    /// Release builds admit no local dev host: only the origins `manifest.json` and
    /// `--host-page-origin` list may push studies.
    #[arg(long, conflicts_with = "optimised")]
    pub release: bool,
    /// Optimise the wasm as a release build does, but keep admitting the local dev host, into
    /// `dist/optimised/`.
    ///
    /// For benchmarks: a host page's boot and a donation to a loopback host are then timed in the
    /// code participants run. Never publish it.
    #[arg(long)]
    pub optimised: bool,
    /// A host platform whose pages may push studies, as `https://host/*`; repeatable.
    ///
    /// Added to `externally_connectable` in `manifest.json`. Development builds also admit
    /// 127.0.0.1 and localhost.
    #[arg(long = "host-page-origin", value_name = "ORIGIN")]
    pub host_page_origins: Vec<String>,
}

impl BuildArgs {
    pub fn kind(&self) -> port_builder::BuildKind {
        match (self.release, self.optimised) {
            (true, _) => port_builder::BuildKind::Release,
            (false, true) => port_builder::BuildKind::Optimised,
            (false, false) => port_builder::BuildKind::Development,
        }
    }
}

/// `port run`, as typed.
#[derive(Debug, Args)]
pub struct ExtensionRunArgs {
    /// The dev host's port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Where the dev host writes donations; default `.cache/dev-host/donations`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The Chromium (or Chrome) to start; default: `chromium` on the PATH.
    #[arg(long, value_name = "PATH")]
    pub browser: Option<PathBuf>,
}

/// `port host`, as typed.
#[derive(Debug, Args)]
pub struct HostArgs {
    /// The port to listen on, on 127.0.0.1 only.
    ///
    /// 0 picks a free port; the chosen URL is printed either way.
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Where donations are written.
    ///
    /// Created if missing. Each session gets a folder, each donation key a file.
    #[arg(long, value_name = "DIR", default_value = "port-donations")]
    pub dir: PathBuf,
    /// Answer the first N donations with STATUS, e.g. `503:3`, to watch retries work.
    ///
    /// Later donations are stored as usual. A repeat of a stored donation (same `Idempotency-Key`)
    /// is answered 409 and not stored again.
    #[arg(long, value_name = "STATUS:N", value_parser = parse_failures)]
    pub fail_donations: Option<(u16, u32)>,
    /// Wait this many seconds before answering each donation, to exceed the extension's ack timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub silent_for: u64,
    /// Answer 413 Payload Too Large to a donation of more bytes than this, as a host with an upload
    /// limit does (Eyra's accepts 200 MB).
    #[arg(long, value_name = "BYTES")]
    pub max_donation_bytes: Option<u64>,
    /// A study config that `GET /study` pushes to the extension, as a host platform's page would.
    ///
    /// Open the printed study URL in the Chromium that has the extension.
    #[arg(long, value_name = "FILE")]
    pub study: Option<PathBuf>,
}

/// `STATUS:N` for `--fail-donations`.
fn parse_failures(text: &str) -> Result<(u16, u32), String> {
    let (status, count) = text.split_once(':').ok_or("expected STATUS:N, e.g. 503:3")?;
    let status: u16 = status.parse().map_err(|_| format!("{status:?} is not an HTTP status"))?;
    if !(400..600).contains(&status) {
        return Err(format!("{status} is not a failure status (400-599)"));
    }
    let count: u32 = count.parse().map_err(|_| format!("{count:?} is not a count"))?;
    Ok((status, count))
}

#[derive(Debug, Subcommand)]
pub enum ScriptCommand {
    /// Run a study script in the terminal, answering its pages automatically or from a file.
    ///
    /// Pages are printed briefly to stderr, logs as `[level] message`, and `review: …` for each
    /// donation the participant has to review. Donations are written to `--out DIR` or summarised.
    /// The exit status is 0 only when the script ends with exit code 0; it is 1 when the script
    /// exits otherwise, its runtime fails or a page cannot be answered, 2 when the arguments are
    /// wrong, and 3 when --fail-on-review stopped the run.
    Run(RunArgs),
}

/// `port script run`, as typed.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("answers_source").multiple(false))]
pub struct RunArgs {
    /// The study: a `.py` file defining `process(session_id, platform)`, or a feldspar-style folder.
    ///
    /// A `.py` file runs on the embedded `port` runtime. A folder must hold a feldspar-style
    /// `port/` package exposing `port.start` (e.g. D3I's packages/python); it runs unchanged with
    /// its own API, and the embedded runtime is not loaded.
    #[arg(value_name = "SCRIPT")]
    pub script: PathBuf,

    /// A file to offer at file prompts (repeatable, used in order by --auto).
    ///
    /// The script reads it lazily through `readSlice(start, end)`, as in the browser, so files of
    /// any size work. Each path must exist.
    #[arg(long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,

    /// Answer every page like a participant who agrees to everything.
    ///
    /// File prompts get the --file paths in order (then "no file"), confirms OK, radios the first
    /// item, consent forms every row, questionnaires no answers. A donation that needs the
    /// participant's review (it is not verbatim one of their answers) is sent.
    #[arg(long, group = "answers_source")]
    pub auto: bool,

    /// Answer pages from a JSON list of payloads, in order.
    ///
    /// Each entry is a payload as the protocol spells it, e.g. `{"__type__":"PayloadTrue","value":true}`.
    /// A file may be given by path: `{"__type__":"PayloadFile","value":"path/to.zip"}`; a relative
    /// path is taken from the answers file's folder, or else from the current folder. Progress
    /// pages are answered by the engine and take no entry. A donation that is not verbatim one of
    /// the answers shows the participant a review page first, which takes the next entry like any
    /// page: `{"__type__":"PayloadTrue","value":true}` sends the donation, anything else does not.
    /// A donation of an answer as it is takes no entry. Running out of answers is an error.
    #[arg(long, value_name = "FILE.json", group = "answers_source")]
    pub answers: Option<PathBuf>,

    /// The platform passed to `start(session_id, platform)`; None when absent.
    ///
    /// D3I scripts use it to run one platform's flow; upstream feldspar's `start` takes no
    /// platform, and for a feldspar-style folder it is then not passed at all.
    #[arg(long, value_name = "NAME")]
    pub platform: Option<String>,

    /// The session id passed to the script; default: the current Unix time in milliseconds.
    ///
    /// A numeric id reaches Python as an int, as feldspar's `Date.now()` does; anything else as a str.
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,

    /// The locale used to print pages and to answer consent forms.
    ///
    /// Texts fall back to English, then Dutch, then the first translation.
    #[arg(long, value_name = "CODE", default_value = "en")]
    pub locale: String,

    /// Write each donation to DIR/<key>.json, holding its json_string verbatim.
    ///
    /// The folder is created. A key holds only ASCII letters, digits, `.`, `-` and `_` (the engine
    /// refuses other donations with status 400); one that starts with `.` gets a `_` in front, so
    /// no file is hidden. Without --out donations are accepted and summarised.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Record every command and response as JSON lines.
    ///
    /// Each line is `{"dir":"command","value":<command>}` or `{"dir":"response","value":<payload>}`;
    /// a command that is not JSON is recorded as a string. A donation review adds
    /// `{"dir":"review","value":{"key":…,"size":<bytes>,"answer":<payload type>}}` between the
    /// donation and its response.
    #[arg(long, value_name = "FILE.jsonl")]
    pub transcript: Option<PathBuf>,

    /// Answer donations with PayloadVoid, as upstream feldspar does.
    ///
    /// By default a donation is answered with D3I's PayloadResponse{success, key, status}.
    #[arg(long)]
    pub legacy_donate: bool,

    /// Fail with exit status 3 when a donation would need the participant's review.
    ///
    /// A donation that is not verbatim one of the participant's answers (what a consent form,
    /// questionnaire or radio answered) is shown to the participant before it is sent. With this
    /// flag the run stops at the first such donation instead, so you can check that a study's flow
    /// donates its answers as they are and never shows that review.
    #[arg(long)]
    pub fail_on_review: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn parse_run(arguments: &[&str]) -> RunArgs {
        let cli = Cli::try_parse_from(["port", "script", "run"].iter().chain(arguments)).unwrap();
        let TopCommand::Script(ScriptCommand::Run(run)) = cli.command else { panic!("not script run") };
        run
    }

    #[track_caller]
    fn parse_run_error(arguments: &[&str]) -> String {
        Cli::try_parse_from(["port", "script", "run"].iter().chain(arguments)).unwrap_err().to_string()
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn script_is_required() {
        assert!(parse_run_error(&[]).contains("<SCRIPT>"));
    }

    #[test]
    fn script_is_taken_as_typed() {
        assert_eq!(parse_run(&["studies/demo/script.py"]).script, PathBuf::from("studies/demo/script.py"));
    }

    #[test]
    fn file_repeats_in_order() {
        let run = parse_run(&["s.py", "--file", "b.zip", "--file", "a.zip"]);
        assert_eq!(run.files, [PathBuf::from("b.zip"), PathBuf::from("a.zip")]);
    }

    #[test]
    fn auto_defaults_to_off() {
        assert!(!parse_run(&["s.py"]).auto);
        assert!(parse_run(&["s.py", "--auto"]).auto);
    }

    #[test]
    fn answers_takes_a_path() {
        assert_eq!(parse_run(&["s.py", "--answers", "a.json"]).answers, Some(PathBuf::from("a.json")));
    }

    #[test]
    fn auto_and_answers_conflict() {
        assert!(parse_run_error(&["s.py", "--auto", "--answers", "a.json"]).contains("cannot be used with"));
    }

    #[test]
    fn platform_is_optional() {
        assert_eq!(parse_run(&["s.py"]).platform, None);
        assert_eq!(parse_run(&["s.py", "--platform", "YouTube"]).platform.as_deref(), Some("YouTube"));
    }

    #[test]
    fn session_is_kept_as_text() {
        assert_eq!(parse_run(&["s.py"]).session, None);
        assert_eq!(parse_run(&["s.py", "--session", "42"]).session.as_deref(), Some("42"));
    }

    #[test]
    fn locale_defaults_to_en() {
        assert_eq!(parse_run(&["s.py"]).locale, "en");
        assert_eq!(parse_run(&["s.py", "--locale", "nl"]).locale, "nl");
    }

    #[test]
    fn out_takes_a_folder() {
        assert_eq!(parse_run(&["s.py", "--out", "donations"]).out, Some(PathBuf::from("donations")));
    }

    #[test]
    fn transcript_takes_a_file() {
        assert_eq!(parse_run(&["s.py", "--transcript", "t.jsonl"]).transcript, Some(PathBuf::from("t.jsonl")));
    }

    #[test]
    fn legacy_donate_defaults_to_off() {
        assert!(!parse_run(&["s.py"]).legacy_donate);
        assert!(parse_run(&["s.py", "--legacy-donate"]).legacy_donate);
    }

    #[test]
    fn fail_on_review_defaults_to_off() {
        assert!(!parse_run(&["s.py", "--auto"]).fail_on_review);
        assert!(parse_run(&["s.py", "--auto", "--fail-on-review"]).fail_on_review);
        assert!(parse_run(&["s.py", "--answers", "a.json", "--fail-on-review"]).fail_on_review);
    }

    #[track_caller]
    fn parse_host(arguments: &[&str]) -> HostArgs {
        let cli = Cli::try_parse_from(["port", "host"].iter().chain(arguments)).unwrap();
        let TopCommand::Host(host) = cli.command else { panic!("not host") };
        host
    }

    #[test]
    fn host_defaults_to_port_8787_and_port_donations() {
        let host = parse_host(&[]);
        assert_eq!(host.port, 8787);
        assert_eq!(host.dir, PathBuf::from("port-donations"));
    }

    #[test]
    fn host_takes_port_and_dir() {
        let host = parse_host(&["--port", "0", "--dir", "/tmp/d"]);
        assert_eq!(host.port, 0);
        assert_eq!(host.dir, PathBuf::from("/tmp/d"));
    }

    #[test]
    fn host_fail_donations_is_status_and_count() {
        assert_eq!(parse_host(&["--fail-donations", "503:3"]).fail_donations, Some((503, 3)));
        let error = Cli::try_parse_from(["port", "host", "--fail-donations", "200:1"]).unwrap_err().to_string();
        assert!(error.contains("200 is not a failure status"), "{error}");
        assert!(Cli::try_parse_from(["port", "host", "--fail-donations", "503"]).is_err());
    }

    #[test]
    fn host_silent_for_and_study_are_taken_as_typed() {
        let host = parse_host(&["--silent-for", "40", "--study", "s.json"]);
        assert_eq!(host.silent_for, 40);
        assert_eq!(host.study, Some(PathBuf::from("s.json")));
    }

    #[test]
    fn host_port_must_be_a_number() {
        assert!(Cli::try_parse_from(["port", "host", "--port", "http"]).is_err());
    }

    #[test]
    fn build_release_is_a_flag() {
        let cli = Cli::try_parse_from(["port", "build", "--release"]).unwrap();
        let TopCommand::Build(build) = cli.command else { panic!("not build") };
        assert!(build.release);
    }

    #[test]
    fn build_is_release_or_optimised_not_both() {
        let cli = Cli::try_parse_from(["port", "build", "--optimised"]).unwrap();
        let TopCommand::Build(build) = cli.command else { panic!("not build") };
        assert!(build.optimised && !build.release);
        assert!(Cli::try_parse_from(["port", "build", "--optimised", "--release"]).is_err());
    }

    #[test]
    fn build_host_page_origins_repeat() {
        let cli = Cli::try_parse_from([
            "port",
            "build",
            "--host-page-origin",
            "https://a.example/*",
            "--host-page-origin",
            "https://b.example/*",
        ])
        .unwrap();
        let TopCommand::Build(build) = cli.command else { panic!("not build") };
        assert_eq!(build.host_page_origins, ["https://a.example/*", "https://b.example/*"]);
    }

    #[test]
    fn run_defaults_to_port_8787_and_path_chromium() {
        let cli = Cli::try_parse_from(["port", "run"]).unwrap();
        let TopCommand::Run(run) = cli.command else { panic!("not run") };
        assert_eq!(run.port, 8787);
        assert_eq!(run.dir, None);
        assert_eq!(run.browser, None);
    }

    #[track_caller]
    fn parse_study_check(arguments: &[&str]) -> StudyCheckArgs {
        let cli = Cli::try_parse_from(["port", "study", "check"].iter().chain(arguments)).unwrap();
        let TopCommand::Study(StudyCommand::Check(check)) = cli.command else { panic!("not study check") };
        check
    }

    #[test]
    fn study_check_file_is_required() {
        let error = Cli::try_parse_from(["port", "study", "check"]).unwrap_err().to_string();
        assert!(error.contains("<FILE>"), "{error}");
    }

    #[test]
    fn study_check_file_is_taken_as_typed() {
        let check = parse_study_check(&["studies/demo/study.json"]);
        assert_eq!(check.file, PathBuf::from("studies/demo/study.json"));
    }

    #[test]
    fn study_check_external_defaults_to_off() {
        assert!(!parse_study_check(&["study.json"]).external);
        assert!(parse_study_check(&["study.json", "--external"]).external);
    }
}
