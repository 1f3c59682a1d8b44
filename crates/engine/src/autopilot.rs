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
            Page::End(_) => {
                return Err(unanswerable(
                    "the end page (PropsUIPageEnd) takes no answer; feldspar waits on it forever",
                ));
            }
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
                Prompt::ConsentFormViz(form) => {
                    consent::consent_viz_answer(form, &no_deletions).map_err(table_error)?
                }
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
        let unsupported: Vec<&str> =
            body.body.iter().filter(|prompt| matches!(prompt, Prompt::Unsupported(_))).map(Prompt::wire_type).collect();
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

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};
    use port_protocol::{FileRef, Page};

    use super::Autopilot;

    fn file(name: &str) -> FileRef {
        FileRef { name: name.into(), size: 3, locator: format!("/tmp/{name}") }
    }

    /// Answers each page of `body_items` (one JSON body per line) in turn with one autopilot.
    #[track_caller]
    fn check(files: &[&str], bodies: &[&str], expect: Expect) {
        let mut autopilot = Autopilot::new(files.iter().map(|name| file(name)).collect(), "en");
        let mut answers = String::new();
        for body in bodies {
            let page: Page = serde_json::from_str(&format!(
                r#"{{"__type__":"PropsUIPageDataSubmission","platform":"p","header":{{"__type__":"PropsUIHeader","title":"t"}},"body":{body}}}"#
            ))
            .unwrap();
            let answer = match autopilot.answer(&page) {
                Ok(payload) => serde_json::to_string(&payload).unwrap(),
                Err(error) => format!("error: {error}"),
            };
            answers.push_str(&answer);
            answers.push('\n');
        }
        expect.assert_eq(&answers);
    }

    #[test]
    fn autopilot_file_prompts_take_files_in_order_then_decline() {
        check(
            &["a.zip", "b.zip", "c.zip"],
            &[
                r#"[{"__type__":"PropsUIPromptFileInput","description":"d","extensions":"application/zip"}]"#,
                r#"[{"__type__":"PropsUIPromptFileInputMultiple","description":"d","extensions":""}]"#,
                r#"[{"__type__":"PropsUIPromptFileInput","description":"d","extensions":""}]"#,
            ],
            expect![[r#"
                {"__type__":"PayloadFile","value":{"name":"a.zip","size":3,"locator":"/tmp/a.zip"}}
                {"__type__":"PayloadFileArray","value":[{"name":"b.zip","size":3,"locator":"/tmp/b.zip"},{"name":"c.zip","size":3,"locator":"/tmp/c.zip"}]}
                {"__type__":"PayloadFalse","value":false}
            "#]],
        );
    }

    #[test]
    fn autopilot_agrees_to_confirm_retry_radio_and_questionnaire() {
        check(
            &[],
            &[
                r#"[{"__type__":"PropsUIPromptText","text":"Read me"},{"__type__":"PropsUIPromptConfirm","text":"t","ok":"o","cancel":"c"}]"#,
                r#"[{"__type__":"PropsUIPromptRetry","text":"t","ok":"o"}]"#,
                r#"[{"__type__":"PropsUIPromptRadioInput","title":"t","description":"d","items":[{"id":7,"value":"First"},{"id":8,"value":"Second"}]}]"#,
                r#"[{"__type__":"PropsUIPromptQuestionnaire","description":"d","questions":[{"__type__":"PropsUIQuestionOpen","id":1,"question":"q"}]}]"#,
            ],
            expect![[r#"
                {"__type__":"PayloadTrue","value":true}
                {"__type__":"PayloadTrue","value":true}
                {"__type__":"PayloadString","value":"First"}
                {"__type__":"PayloadJSON","value":"{}"}
            "#]],
        );
    }

    #[test]
    fn autopilot_donates_every_row_in_each_consent_shape() {
        check(
            &[],
            &[
                r#"[{"__type__":"PropsUIPromptConsentFormViz","tables":[
                    {"__type__":"PropsUIPromptConsentFormTableViz","id":"a","title":"A","data_frame":"{\"x\":{\"0\":1,\"1\":null}}"},
                    {"__type__":"PropsUIPromptConsentFormTableViz","id":"b","title":"B","data_frame":{"y":{"0":"v"}}}]}]"#,
                r#"[{"__type__":"PropsUIPromptConsentFormTable","id":"t","number":1,"title":"T","data_frame":"{\"c\":{\"0\":2.5}}","headers":{"c":{"translations":{"nl":"Kolom","en":"Column"}}}},
                    {"__type__":"PropsUIDataSubmissionButtons","waiting":false}]"#,
                r#"[{"__type__":"PropsUIPromptConsentForm","tables":[{"__type__":"PropsUIPromptConsentFormTable","id":"u","number":1,"title":"U","data_frame":"{\"c\":{\"0\":true}}"}]}]"#,
            ],
            expect![[r#"
                {"__type__":"PayloadJSON","value":"[{\"a\":[{\"x\":\"1\"},{\"x\":\"null\"}],\"deleted row count\":\"0\"},{\"b\":[{\"y\":\"v\"}],\"deleted row count\":\"0\"}]"}
                {"__type__":"PayloadJSON","value":"{\"t\":{\"data\":[{\"Column\":\"2.5\"}],\"metadata\":{\"deletedRowCount\":0}}}"}
                {"__type__":"PayloadJSON","value":"{\"u\":{\"data\":[{\"c\":\"true\"}],\"metadata\":{\"deletedRowCount\":0}}}"}
            "#]],
        );
    }

    #[test]
    fn autopilot_cannot_answer_text_only_or_unsupported_pages() {
        check(
            &[],
            &[
                r#"[{"__type__":"PropsUIPromptText","text":"Thanks"}]"#,
                r#"[{"__type__":"PropsUIPromptTeleport"}]"#,
                r#"[{"__type__":"PropsUIPromptRadioInput","title":"t","description":"d","items":[]}]"#,
                r#"[{"__type__":"PropsUIPromptConsentFormViz","tables":[{"__type__":"PropsUIPromptConsentFormTableViz","id":"a","title":"A","data_frame":"[1]"}]}]"#,
            ],
            expect![[r#"
                error: the page has nothing to answer (only texts); the study would wait here forever
                error: the page has nothing to answer; unsupported items: PropsUIPromptTeleport
                error: the radio prompt has no items to choose from
                error: table a: data_frame must map column names to {"0": value, …} objects
            "#]],
        );
    }

    #[test]
    fn autopilot_cannot_answer_end_page() {
        let mut autopilot = Autopilot::new(Vec::new(), "en");
        let page: Page = serde_json::from_str(r#"{"__type__":"PropsUIPageEnd"}"#).unwrap();
        let error = autopilot.answer(&page).unwrap_err();
        assert_eq!(error.to_string(), "the end page (PropsUIPageEnd) takes no answer; feldspar waits on it forever");
    }
}
