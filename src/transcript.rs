//! `--transcript`: every response and command of a run, one JSON line each.
//!
//! [`TranscriptScript`] wraps the script, so the transcript holds exactly what crossed the
//! script boundary, including replies the engine gives by itself (progress pages, log acks).

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use port_engine::{Script, ScriptError};
use port_protocol::Payload;
use serde_json::{Value, json};

pub struct Transcript {
    writer: BufWriter<std::fs::File>,
    /// The first write failure; reported once the run is over, since `Script::send` cannot.
    write_error: Option<std::io::Error>,
}

impl Transcript {
    pub fn create(path: &Path) -> anyhow::Result<Transcript> {
        let file =
            std::fs::File::create(path).with_context(|| format!("cannot create the transcript {}", path.display()))?;
        Ok(Transcript { writer: BufWriter::new(file), write_error: None })
    }

    fn record(&mut self, direction: &str, value: Value) {
        if self.write_error.is_some() {
            return;
        }
        let line = json!({"dir": direction, "value": value});
        if let Err(error) = writeln!(self.writer, "{line}").and_then(|()| self.writer.flush()) {
            self.write_error = Some(error);
        }
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
        match self.transcript.and_then(|transcript| transcript.write_error) {
            Some(error) => Err(error).context("cannot write the transcript"),
            None => Ok(()),
        }
    }
}

impl<S: Script> Script for TranscriptScript<S> {
    fn send(&mut self, reply: Option<&Payload>) -> Result<String, ScriptError> {
        if let (Some(transcript), Some(payload)) = (&mut self.transcript, reply) {
            transcript.record("response", serde_json::to_value(payload).expect("a payload always serialises"));
        }
        let output = self.script.send(reply);
        if let (Some(transcript), Ok(command_text)) = (&mut self.transcript, &output) {
            // A command that is not JSON is kept as its text, so the transcript shows what was sent.
            let command = serde_json::from_str(command_text).unwrap_or_else(|_| Value::String(command_text.clone()));
            transcript.record("command", command);
        }
        output
    }
}
