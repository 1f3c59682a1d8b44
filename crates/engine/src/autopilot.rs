//! The autopilot: answers every page like a participant who agrees to everything.
//!
//! The native runner's `--auto` uses it to run a study end to end without a person. Its answers
//! have the exact shapes the real UI produces, so a study that works on autopilot donates the same
//! JSON in the browser.

use std::collections::VecDeque;

use port_protocol::{FileRef, Page, Payload, Prompt};

use crate::WorldError;
use crate::consent::{self, Deletions};

/// Answers pages from a queue of files and a policy of saying yes.
#[derive(Debug, Clone)]
pub struct Autopilot {
    /// Files for file prompts, handed out in order.
    files: VecDeque<FileRef>,
    locale: String,
}

impl Autopilot {
    pub fn new(files: Vec<FileRef>, locale: impl Into<String>) -> Autopilot {
        Autopilot { files: files.into(), locale: locale.into() }
    }

    /// The answer to `page`, from its first prompt that takes an answer:
    /// - file prompt → the next file, or `PayloadFalse` when none are left;
    /// - multi-file prompt → all remaining files;
    /// - confirm, retry and progress → `PayloadTrue`;
    /// - radio → the first item;
    /// - questionnaire → `PayloadJSON` of no answers;
    /// - consent forms → `PayloadJSON` of every row, in the shape of that prompt's UI.
    ///
    /// A page with nothing to answer is an error, because the real UI would wait forever.
    pub fn answer(&mut self, page: &Page) -> Result<Payload, WorldError> {
        let body = match page {
            Page::DataSubmission(body) | Page::Donation(body) => body,
            Page::End(_) => return Err(unanswerable("the end page (PropsUIPageEnd) takes no answer; feldspar waits on it forever")),
            Page::Unsupported(_) => {
                return Err(unanswerable(&format!("the page type {} is not supported", page.wire_type())));
            }
        };
        let no_deletions = Deletions::new();
        for prompt in &body.body {
            let answer = match prompt {
                Prompt::FileInput(_) => self.files.pop_front().map_or(Payload::False, Payload::File),
                Prompt::FileInputMultiple(_) if self.files.is_empty() => Payload::False,
                Prompt::FileInputMultiple(_) => Payload::FileArray(self.files.drain(..).collect()),
                Prompt::Confirm(_) | Prompt::Retry(_) | Prompt::Progress(_) => Payload::True,
                Prompt::RadioInput(radio) => match radio.items.first() {
                    Some(item) => Payload::String(item.value.clone()),
                    None => return Err(unanswerable("the radio prompt has no items to choose from")),
                },
                Prompt::Questionnaire(_) => Payload::Json("{}".into()),
                Prompt::ConsentFormViz(form) => consent::consent_viz_answer(form, &no_deletions).map_err(table_error)?,
                Prompt::DataSubmissionButtons(_) => {
                    consent::data_submission_answer(&consent::page_consent_tables(body), &self.locale, &no_deletions)
                        .map_err(table_error)?
                }
                Prompt::ConsentForm(form) => consent::data_submission_answer(
                    &consent::consent_form_tables(&form.tables),
                    &self.locale,
                    &no_deletions,
                )
                .map_err(table_error)?,
                Prompt::Text(_)
                | Prompt::ConsentFormTable(_)
                | Prompt::PageError(_)
                | Prompt::HelloWorld(_)
                | Prompt::Unsupported(_) => continue,
            };
            return Ok(answer);
        }
        let unsupported: Vec<&str> = body
            .body
            .iter()
            .filter(|prompt| matches!(prompt, Prompt::Unsupported(_)))
            .map(Prompt::wire_type)
            .collect();
        Err(unanswerable(&if unsupported.is_empty() {
            "the page has nothing to answer (only texts); the study would wait here forever".to_owned()
        } else {
            format!("the page has nothing to answer; unsupported items: {}", unsupported.join(", "))
        }))
    }
}

fn unanswerable(message: &str) -> WorldError {
    WorldError { message: message.to_owned() }
}

fn table_error(error: consent::TableError) -> WorldError {
    WorldError { message: error.to_string() }
}
