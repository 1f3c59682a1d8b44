//! [`TerminalWorld`]: the participant and the host of a terminal run.
//!
//! Pages and logs are printed to stderr; donations and the exit line to stdout. Donations are kept
//! on disk only under `--out`. Nothing here prints donated data or answers, only keys and sizes.

use std::collections::VecDeque;
use std::path::PathBuf;

use port_engine::autopilot::Autopilot;
use port_engine::{World, WorldError};
use port_protocol::{DonateCommand, DonateResponse, LogCommand, Page, Payload, Prompt};

/// Who answers the pages the script shows.
pub enum Answerer {
    Autopilot(Autopilot),
    /// `--answers`: the remaining answers, in order.
    Scripted(VecDeque<Payload>),
}

pub struct TerminalWorld {
    answerer: Answerer,
    locale: String,
    out_dir: Option<PathBuf>,
    n_answers_given: usize,
}

impl TerminalWorld {
    pub fn new(answerer: Answerer, locale: String, out_dir: Option<PathBuf>) -> TerminalWorld {
        TerminalWorld { answerer, locale, out_dir, n_answers_given: 0 }
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

    fn review_donation(&mut self, _donation: &DonateCommand, page: &Page) -> Result<Payload, WorldError> {
        self.answer(page)
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
