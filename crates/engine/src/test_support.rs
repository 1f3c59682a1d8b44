//! Fakes for driving the run cycle from a text transcript, for tests here and in dependent crates.
//!
//! A transcript has one step per line:
//! - `script> <command JSON>`: the next command the script yields;
//! - `script! <message>`: the script's runtime fails;
//! - `ui> <payload JSON>`: the participant's next answer, to a page or to a donation review;
//! - `host> <DonateResponse JSON>` or `host> none`: the host's next answer to a donation.
//!
//! Both fakes write what happens to a shared [`Trace`], one line per event, which tests compare
//! against an expected text.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use port_protocol::{DonateCommand, DonateResponse, LogCommand, Page, Payload, Prompt};

use crate::{Script, ScriptError, World, WorldError};

/// The events of a run, one line each.
#[derive(Debug, Clone, Default)]
pub struct Trace(Rc<RefCell<Vec<String>>>);

impl Trace {
    pub fn push(&self, line: impl Into<String>) {
        self.0.borrow_mut().push(line.into());
    }

    pub fn text(&self) -> String {
        self.0.borrow().iter().map(|line| format!("{line}\n")).collect()
    }
}

/// A script that yields the transcript's `script>` lines in order.
pub struct FakeScript {
    outputs: VecDeque<Result<String, ScriptError>>,
    trace: Trace,
}

/// A UI and host that answer from the transcript's `ui>` and `host>` lines.
pub struct FakeWorld {
    answers: VecDeque<Payload>,
    host_replies: VecDeque<Option<DonateResponse>>,
    trace: Trace,
}

/// Splits a transcript into the two fakes, sharing one trace.
pub fn fakes_from_transcript(transcript: &str) -> (FakeScript, FakeWorld, Trace) {
    let trace = Trace::default();
    let mut outputs = VecDeque::new();
    let mut answers = VecDeque::new();
    let mut host_replies = VecDeque::new();
    for line in transcript.lines().map(str::trim).filter(|line| !line.is_empty()) {
        if let Some(command) = line.strip_prefix("script>") {
            outputs.push_back(Ok(command.trim().to_owned()));
        } else if let Some(message) = line.strip_prefix("script!") {
            outputs.push_back(Err(ScriptError { message: message.trim().to_owned() }));
        } else if let Some(payload) = line.strip_prefix("ui>") {
            answers.push_back(Payload::from_json(payload.trim()).expect("transcript ui> line is a payload"));
        } else if let Some(reply) = line.strip_prefix("host>") {
            let reply = reply.trim();
            host_replies.push_back(if reply == "none" {
                None
            } else {
                Some(serde_json::from_str(reply).expect("transcript host> line is a DonateResponse"))
            });
        } else {
            panic!("transcript line must start with script>, script!, ui> or host>: {line}");
        }
    }
    (FakeScript { outputs, trace: trace.clone() }, FakeWorld { answers, host_replies, trace: trace.clone() }, trace)
}

impl Script for FakeScript {
    fn send(&mut self, reply: Option<&Payload>) -> Result<String, ScriptError> {
        self.trace.push(format!("script <- {}", reply.map_or("start".to_owned(), describe_payload)));
        let output = self
            .outputs
            .pop_front()
            .unwrap_or_else(|| Err(ScriptError { message: "the fake script has no more commands".into() }));
        match &output {
            Ok(command) => self.trace.push(format!("script -> {command}")),
            Err(error) => self.trace.push(format!("script fails: {error}")),
        }
        output
    }
}

impl World for FakeWorld {
    fn show(&mut self, page: &Page) {
        self.trace.push(format!("ui <- {}", describe_page(page)));
    }

    fn answer(&mut self, _page: &Page) -> Result<Payload, WorldError> {
        let answer = self.answers.pop_front().ok_or_else(|| WorldError { message: "no ui> answer left".into() })?;
        self.trace.push(format!("ui -> {}", describe_payload(&answer)));
        Ok(answer)
    }

    fn review_donation(&mut self, donation: &DonateCommand, page: &Page) -> Result<Payload, WorldError> {
        self.trace.push(format!("ui reviews donation {} ({} bytes)", donation.key, donation.json_string.len()));
        self.answer(page)
    }

    fn donate(&mut self, donation: &DonateCommand) -> Option<DonateResponse> {
        self.trace.push(format!("host <- donate {} {}", donation.key, donation.json_string));
        let reply = self.host_replies.pop_front().expect("transcript has a host> line for each donation");
        self.trace.push(format!("host -> {}", reply.as_ref().map_or("none".to_owned(), |reply| format!("{reply:?}"))));
        reply
    }

    fn send_logs(&mut self, entries: &[LogCommand]) {
        let entries: Vec<String> = entries.iter().map(|entry| format!("{}: {}", entry.level, entry.message)).collect();
        self.trace.push(format!("host <- logs [{}]", entries.join("; ")));
    }

    fn send_event(&mut self, name: &str) {
        self.trace.push(format!("host <- event {name}"));
    }

    fn exit(&mut self, code: i64, info: &str) {
        self.trace.push(format!("host <- exit {code} {info:?}"));
    }
}

/// A one-line summary of a page: its type, title and body item types (and error messages).
pub fn describe_page(page: &Page) -> String {
    match page.body() {
        None => page.wire_type().to_owned(),
        Some(body) => {
            let items: Vec<String> = body
                .body
                .iter()
                .map(|prompt| match prompt {
                    Prompt::PageError(error) => format!("PropsUIPageError({:?})", error.message),
                    other => other.wire_type().to_owned(),
                })
                .collect();
            format!("{} {:?} [{}]", page.wire_type(), body.header.title.resolve("en"), items.join(", "))
        }
    }
}

fn describe_payload(payload: &Payload) -> String {
    serde_json::to_string(payload).expect("payloads serialise")
}
