//! `--transcript`: every response and command of a run, one JSON line each, and every donation
//! review.
//!
//! [`TranscriptScript`] wraps the script, so the transcript holds exactly what crossed the
//! script boundary, including replies the engine gives by itself (progress pages, log acks). The
//! terminal world adds a line for each review, which happens between a donation and its reply.

use std::cell::RefCell;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::rc::Rc;

use anyhow::Context;
use port_engine::{Script, ScriptError};
use port_protocol::Payload;
use serde_json::{Value, json};

/// The transcript file. Clones write to the same file, so the script's commands and responses and
/// the world's reviews come out in the order they happened.
#[derive(Clone)]
pub struct Transcript {
    file: Rc<RefCell<TranscriptFile>>,
}

struct TranscriptFile {
    writer: BufWriter<std::fs::File>,
    /// The first write failure; reported once the run is over, since `Script::send` cannot.
    write_error: Option<std::io::Error>,
}

impl Transcript {
    pub fn create(path: &Path) -> anyhow::Result<Transcript> {
        let file =
            std::fs::File::create(path).with_context(|| format!("cannot create the transcript {}", path.display()))?;
        let file = TranscriptFile { writer: BufWriter::new(file), write_error: None };
        Ok(Transcript { file: Rc::new(RefCell::new(file)) })
    }

    /// A donation the participant had to review: `{"dir":"review","value":{"key","size","answer"}}`,
    /// with the size in bytes and the answer's payload type, never the content.
    pub fn record_review(&self, key: &str, n_bytes: usize, answer: &Payload) {
        self.record("review", json!({"key": key, "size": n_bytes, "answer": answer.wire_type()}));
    }

    fn record(&self, direction: &str, value: Value) {
        let mut file = self.file.borrow_mut();
        if file.write_error.is_some() {
            return;
        }
        let line = json!({"dir": direction, "value": value});
        if let Err(error) = writeln!(file.writer, "{line}").and_then(|()| file.writer.flush()) {
            file.write_error = Some(error);
        }
    }

    fn take_write_error(&self) -> Option<std::io::Error> {
        self.file.borrow_mut().write_error.take()
    }
}

pub struct TranscriptScript<S> {
    script: S,
    transcript: Option<Transcript>,
}

impl<S: Script> TranscriptScript<S> {
    pub fn new(script: S, transcript: Option<Transcript>) -> TranscriptScript<S> {
        TranscriptScript { script, transcript }
    }

    /// Reports a transcript that could not be written completely.
    pub fn finish(self) -> anyhow::Result<()> {
        match self.transcript.and_then(|transcript| transcript.take_write_error()) {
            Some(error) => Err(error).context("cannot write the transcript"),
            None => Ok(()),
        }
    }
}

impl<S: Script> Script for TranscriptScript<S> {
    fn send(&mut self, reply: Option<&Payload>) -> Result<String, ScriptError> {
        if let (Some(transcript), Some(payload)) = (&self.transcript, reply) {
            transcript.record("response", serde_json::to_value(payload).expect("a payload always serialises"));
        }
        let output = self.script.send(reply);
        if let (Some(transcript), Ok(command_text)) = (&self.transcript, &output) {
            // A command that is not JSON is kept as its text, so the transcript shows what was sent.
            let command = serde_json::from_str(command_text).unwrap_or_else(|_| Value::String(command_text.clone()));
            transcript.record("command", command);
        }
        output
    }
}
