//! `port script run`: resolve the arguments (the only step doing I/O on them), then run the study.
//!
//! The run itself is `port_engine::run` over a `port_native::PythonScript` and a [`TerminalWorld`];
//! this module decides nothing about the run cycle.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use port_engine::autopilot::Autopilot;
use port_engine::{DonateReplyMode, RunOutcome, SessionConfig};
use port_native::{PythonScript, ScriptSource, SessionId};
use port_protocol::{FileRef, LogLevel, Payload};
use serde_json::Value;

use crate::args::RunArgs;
use crate::terminal_world::{Answerer, ReviewPolicy, TerminalWorld};
use crate::transcript::{Transcript, TranscriptScript};

/// Who answers the pages.
#[derive(Debug)]
pub enum AnswerSource {
    Autopilot { files: Vec<FileRef> },
    Scripted { answers: Vec<Payload> },
}

/// `RunArgs` resolved: files checked and measured, answers read, defaults filled in.
#[derive(Debug)]
pub struct RunPlan {
    pub source: ScriptSource,
    pub answer_source: AnswerSource,
    pub session_id: SessionId,
    pub platform: Option<String>,
    pub locale: String,
    pub out_dir: Option<PathBuf>,
    pub transcript_path: Option<PathBuf>,
    pub donate_reply: DonateReplyMode,
    pub review_policy: ReviewPolicy,
}

impl RunPlan {
    pub fn resolve(args: RunArgs) -> anyhow::Result<RunPlan> {
        if !args.script.exists() {
            bail!("script not found: {}", args.script.display());
        }
        let source = ScriptSource::from_path(&args.script);
        let files = args.files.iter().map(|path| file_ref(path)).collect::<anyhow::Result<Vec<_>>>()?;
        let answer_source = match (args.auto, &args.answers) {
            (true, _) => AnswerSource::Autopilot { files },
            (false, Some(answers_path)) => AnswerSource::Scripted { answers: read_answers(answers_path)? },
            (false, None) => bail!("say who answers the pages: pass --auto, or --answers FILE.json"),
        };
        let session_id = match &args.session {
            Some(text) => SessionId::parse(text),
            None => SessionId::Number(unix_time_millis()),
        };
        Ok(RunPlan {
            source,
            answer_source,
            session_id,
            platform: args.platform,
            locale: args.locale,
            out_dir: args.out,
            transcript_path: args.transcript,
            donate_reply: if args.legacy_donate { DonateReplyMode::Legacy } else { DonateReplyMode::Response },
            review_policy: if args.fail_on_review { ReviewPolicy::Fail } else { ReviewPolicy::Answer },
        })
    }
}

/// How a run ended, for `main`'s exit status.
#[derive(Debug, PartialEq, Eq)]
pub enum RunResult {
    /// The script exited with code 0.
    Completed,
    /// The script exited with another code; already printed.
    ExitedWithFailure,
}

pub fn run(plan: RunPlan) -> anyhow::Result<RunResult> {
    if let Some(out_dir) = &plan.out_dir {
        std::fs::create_dir_all(out_dir)
            .with_context(|| format!("cannot create the output folder {}", out_dir.display()))?;
    }
    let transcript = match &plan.transcript_path {
        Some(path) => Some(Transcript::create(path)?),
        None => None,
    };
    let answerer = match plan.answer_source {
        AnswerSource::Autopilot { files } => Answerer::Autopilot(Autopilot::new(files, plan.locale.clone())),
        AnswerSource::Scripted { answers } => Answerer::Scripted(answers.into()),
    };
    let mut world =
        TerminalWorld::new(answerer, plan.locale.clone(), plan.out_dir.clone(), plan.review_policy, transcript.clone());
    let script = PythonScript::start(&plan.source, &plan.session_id, plan.platform.as_deref())?;
    let mut script = TranscriptScript::new(script, transcript);
    let config =
        SessionConfig { donate_reply: plan.donate_reply, min_log_level: LogLevel::Debug, max_donation_bytes: None };

    let outcome = port_engine::run(&mut script, &mut world, config);
    script.finish()?;
    if let Some(review) = world.refused_review() {
        return Err(ReviewNeeded { key: review.key.clone(), n_bytes: review.n_bytes }.into());
    }
    match outcome? {
        RunOutcome::Exited { code: 0, .. } => Ok(RunResult::Completed),
        RunOutcome::Exited { .. } => Ok(RunResult::ExitedWithFailure),
        RunOutcome::Crashed { message } => Err(RuntimeFailed { message }.into()),
    }
}

/// The script's runtime failed mid-run (an exception escaped its wrapper); the message is the
/// traceback, printed for the developer running the study.
#[derive(Debug)]
pub struct RuntimeFailed {
    pub message: String,
}

impl std::fmt::Display for RuntimeFailed {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "the script's runtime failed:\n{}", self.message)
    }
}

impl std::error::Error for RuntimeFailed {}

/// `--fail-on-review`: a donation was not verbatim one of the participant's answers, so the
/// participant would have had to review it. The run stopped there.
#[derive(Debug)]
pub struct ReviewNeeded {
    pub key: String,
    pub n_bytes: usize,
}

impl std::fmt::Display for ReviewNeeded {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "the donation {} ({} bytes) is not verbatim one of the participant's answers, so the participant \
             would have to review it before it is sent (--fail-on-review)",
            self.key, self.n_bytes
        )
    }
}

impl std::error::Error for ReviewNeeded {}

/// A `--file` as the protocol's file reference: its path is the locator the runtime reads from.
fn file_ref(path: &Path) -> anyhow::Result<FileRef> {
    let metadata = std::fs::metadata(path).with_context(|| format!("file not found: {}", path.display()))?;
    if !metadata.is_file() {
        bail!("not a file: {}", path.display());
    }
    let absolute = std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(FileRef { name, size: metadata.len(), locator: absolute.display().to_string() })
}

/// Reads `--answers`: a JSON list of payloads, where file payloads may name a path instead of a
/// file reference.
fn read_answers(answers_path: &Path) -> anyhow::Result<Vec<Payload>> {
    let text = std::fs::read_to_string(answers_path)
        .with_context(|| format!("cannot read the answers file {}", answers_path.display()))?;
    let entries: Vec<Value> = serde_json::from_str(&text)
        .with_context(|| format!("the answers file {} is not a JSON list", answers_path.display()))?;
    let base_dir = answers_path.parent().unwrap_or(Path::new("."));
    entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            answer_payload(entry, base_dir).with_context(|| format!("answer {index} in {}", answers_path.display()))
        })
        .collect()
}

fn answer_payload(mut entry: Value, base_dir: &Path) -> anyhow::Result<Payload> {
    let wire_type = entry.get("__type__").and_then(Value::as_str).unwrap_or_default().to_owned();
    let value = entry.get_mut("value");
    match (wire_type.as_str(), value) {
        ("PayloadFile", Some(value)) if value.is_string() => {
            *value = serde_json::to_value(answer_file(value.as_str().unwrap_or_default(), base_dir)?)?;
        }
        ("PayloadFileArray", Some(Value::Array(items))) => {
            for item in items.iter_mut().filter(|item| item.is_string()) {
                *item = serde_json::to_value(answer_file(item.as_str().unwrap_or_default(), base_dir)?)?;
            }
        }
        _ => {}
    }
    Ok(Payload::from_value(entry)?)
}

fn answer_file(path_text: &str, base_dir: &Path) -> anyhow::Result<FileRef> {
    let path = Path::new(path_text);
    let beside_answers = base_dir.join(path);
    if path.is_relative() && beside_answers.exists() { file_ref(&beside_answers) } else { file_ref(path) }
}

fn unix_time_millis() -> i64 {
    let elapsed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_with_file_path_becomes_file_ref_with_name_and_size() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(directory.path().join("ddp.zip"), b"12345").unwrap();
        let payload =
            answer_payload(serde_json::json!({"__type__":"PayloadFile","value":"ddp.zip"}), directory.path()).unwrap();
        let Payload::File(file) = payload else { panic!("{payload:?}") };
        assert_eq!((file.name.as_str(), file.size), ("ddp.zip", 5));
        assert!(Path::new(&file.locator).is_absolute(), "{}", file.locator);
    }

    #[test]
    fn answer_with_missing_file_path_is_an_error() {
        let error =
            answer_payload(serde_json::json!({"__type__":"PayloadFile","value":"/no/such.zip"}), Path::new("."))
                .unwrap_err();
        assert_eq!(format!("{error:#}").split(':').next(), Some("file not found"));
    }

    #[test]
    fn answer_in_protocol_shape_is_taken_as_is() {
        let payload =
            answer_payload(serde_json::json!({"__type__":"PayloadString","value":"Everything"}), Path::new("."))
                .unwrap();
        assert_eq!(payload, Payload::String("Everything".into()));
    }
}
