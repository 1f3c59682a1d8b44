//! [`TerminalWorld`]: the participant and the host of a terminal run.
//!
//! Pages, logs and donation reviews are printed to stderr; donations and the exit line to stdout.
//! Donations are kept on disk only under `--out`. Nothing here prints donated data or answers, only
//! keys and sizes.

use std::collections::VecDeque;
use std::path::PathBuf;

use port_engine::autopilot::Autopilot;
use port_engine::{World, WorldError};
use port_protocol::{DonateCommand, DonateResponse, LogCommand, Page, Payload, Prompt};

use crate::transcript::Transcript;

/// Who answers the pages the script shows.
pub enum Answerer {
    Autopilot(Autopilot),
    /// `--answers`: the remaining answers, in order.
    Scripted(VecDeque<Payload>),
}

/// What to do when a donation needs the participant's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewPolicy {
    /// Say so on stderr and answer the review page like any page.
    Answer,
    /// `--fail-on-review`: end the run there.
    Fail,
}

/// A donation that needed a review under [`ReviewPolicy::Fail`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedReview {
    pub key: String,
    pub n_bytes: usize,
}

pub struct TerminalWorld {
    answerer: Answerer,
    locale: String,
    out_dir: Option<PathBuf>,
    n_answers_given: usize,
    review_policy: ReviewPolicy,
    transcript: Option<Transcript>,
    refused_review: Option<RefusedReview>,
}

impl TerminalWorld {
    pub fn new(
        answerer: Answerer,
        locale: String,
        out_dir: Option<PathBuf>,
        review_policy: ReviewPolicy,
        transcript: Option<Transcript>,
    ) -> TerminalWorld {
        TerminalWorld { answerer, locale, out_dir, n_answers_given: 0, review_policy, transcript, refused_review: None }
    }

    /// The review that ended the run under [`ReviewPolicy::Fail`], if one did.
    pub fn refused_review(&self) -> Option<&RefusedReview> {
        self.refused_review.as_ref()
    }

    fn write_donation(&self, donation: &DonateCommand) -> DonateResponse {
        let Some(out_dir) = &self.out_dir else {
            println!("donation {}: {} bytes", donation.key, donation.json_string.len());
            return DonateResponse { success: true, key: donation.key.clone(), status: 200, error: None };
        };
        let path = out_dir.join(format!("{}.json", crate::file_names::file_name_for_key(&donation.key)));
        match std::fs::write(&path, &donation.json_string) {
            Ok(()) => {
                println!(
                    "donation {}: {} bytes written to {}",
                    donation.key,
                    donation.json_string.len(),
                    path.display()
                );
                DonateResponse { success: true, key: donation.key.clone(), status: 200, error: None }
            }
            Err(error) => {
                let message = format!("cannot write {}: {error}", path.display());
                eprintln!("donation {} failed: {message}", donation.key);
                DonateResponse { success: false, key: donation.key.clone(), status: 500, error: Some(message) }
            }
        }
    }
}

impl World for TerminalWorld {
    fn show(&mut self, page: &Page) {
        eprintln!("{}", describe_page(page, &self.locale));
    }

    fn answer(&mut self, page: &Page) -> Result<Payload, WorldError> {
        let answer = match &mut self.answerer {
            Answerer::Autopilot(autopilot) => autopilot.answer(page)?,
            Answerer::Scripted(answers) => answers.pop_front().ok_or_else(|| WorldError {
                message: format!(
                    "the answers ran out: all {} were used, and the page \"{}\" needs another",
                    self.n_answers_given,
                    page_title(page, &self.locale)
                ),
            })?,
        };
        self.n_answers_given += 1;
        eprintln!("  answer: {}", answer.wire_type());
        Ok(answer)
    }

    fn review_donation(&mut self, donation: &DonateCommand, page: &Page) -> Result<Payload, WorldError> {
        let key = &donation.key;
        let n_bytes = donation.json_string.len();
        if self.review_policy == ReviewPolicy::Fail {
            self.refused_review = Some(RefusedReview { key: key.clone(), n_bytes });
            return Err(WorldError { message: format!("the donation {key} ({n_bytes} bytes) needs a review") });
        }
        eprintln!(
            "review: the donation {key} ({n_bytes} bytes) is not verbatim one of the participant's answers, so the \
             participant is asked before it is sent"
        );
        if let Answerer::Scripted(answers) = &self.answerer
            && answers.is_empty()
        {
            return Err(WorldError {
                message: format!(
                    "the answers ran out: all {} were used, and the review of the donation {key} needs another \
                     ({{\"__type__\":\"PayloadTrue\",\"value\":true}} sends it)",
                    self.n_answers_given
                ),
            });
        }
        let answer = self.answer(page)?;
        if let Some(transcript) = &self.transcript {
            transcript.record_review(key, n_bytes, &answer);
        }
        Ok(answer)
    }

    fn donate(&mut self, donation: &DonateCommand) -> Option<DonateResponse> {
        Some(self.write_donation(donation))
    }

    fn send_logs(&mut self, entries: &[LogCommand]) {
        for entry in entries {
            eprintln!("[{}] {}", entry.level, entry.message);
        }
    }

    fn send_event(&mut self, _name: &str) {
        // Events such as `initialized` are for a host page; a terminal has no use for them.
    }

    fn exit(&mut self, code: i64, info: &str) {
        println!("exit {code}: {info}");
    }
}

fn page_title(page: &Page, locale: &str) -> String {
    page.body().map(|body| body.header.title.resolve(locale).to_owned()).unwrap_or_else(|| page.wire_type().to_owned())
}

/// `page "<title>" [Type, Type]`, plus the message of error items, which is for the developer.
fn describe_page(page: &Page, locale: &str) -> String {
    let Some(body) = page.body() else {
        return format!("page {}", page.wire_type());
    };
    let item_types: Vec<&str> = body.body.iter().map(Prompt::wire_type).collect();
    let mut description = format!("page \"{}\" [{}]", page_title(page, locale), item_types.join(", "));
    for prompt in &body.body {
        if let Prompt::PageError(error) = prompt {
            description.push_str(&format!("\n  error: {}", error.message));
        }
    }
    description
}
