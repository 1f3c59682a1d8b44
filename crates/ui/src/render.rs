//! Pages and prompts as DOM. Each prompt reads its answer from the controls or from `PageState`,
//! and answers through `app::answer`; the JSON of a consent form comes from `port_engine::consent`.
//!
//! Visualizations of D3I's `ConsentFormTableViz` are not drawn; the table itself is.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use js_sys::Array;
use port_engine::consent::{self, TableData};
use port_protocol::{
    ChoiceQuestion, ConsentFormTable, ConsentFormTableViz, ConsentTable, ConsentVizTable, DataFrameField, FileInput,
    Page, PageBody, Prompt, Question, Text,
};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

use crate::app::{self, App, TableState};
use crate::dom::{self, El, button};
use crate::logic::{self, DeletionLog, PAGE_SIZES, QuestionAnswer};

/// Everything a prompt's listeners need: the app, the page they answer, and where they sit.
#[derive(Clone)]
struct Ctx {
    app: Rc<RefCell<App>>,
    page_seq: u64,
    page: Rc<Page>,
    locale: String,
    enabled: bool,
}

impl Ctx {
    fn body(&self) -> &PageBody {
        self.page.body().expect("prompts only render on pages with a body")
    }

    fn prompt(&self, prompt_idx: usize) -> &Prompt {
        &self.body().body[prompt_idx]
    }

    fn text(&self, text: &Text) -> String {
        text.resolve(&self.locale).to_owned()
    }

    fn answer(&self, payload: port_protocol::Payload, files: Option<Array>) {
        app::answer(&self.app, self.page_seq, payload, files);
    }
}

/// A page, and its heading to focus when the page is new. With `enabled` false every control is
/// disabled (the page was answered, or the session is working).
pub fn page(
    app: &Rc<RefCell<App>>,
    state: &App,
    page_seq: u64,
    page: Rc<Page>,
    enabled: bool,
) -> (Element, Option<HtmlElement>) {
    let ctx = Ctx { app: Rc::clone(app), page_seq, page: Rc::clone(&page), locale: state.locale.clone(), enabled };
    let container = El::new("article").class("page").attr("id", "page");
    let (container, focus) = match page.as_ref() {
        Page::DataSubmission(body) | Page::Donation(body) => {
            let heading = El::new("h1").attr("tabindex", "-1").text(&ctx.text(&body.header.title));
            let focus = heading.html();
            let mut container = container.child(heading);
            for prompt_idx in 0..body.body.len() {
                container = container.child(prompt(&ctx, state, prompt_idx));
            }
            (container, Some(focus))
        }
        Page::End(_) => {
            let heading = El::new("h1").attr("tabindex", "-1").text(&state.t("finishedTitle"));
            let focus = heading.html();
            (container.child(heading).child(El::new("p").text(&state.t("finishedBody"))), Some(focus))
        }
        Page::Unsupported(_) => {
            let notice = unsupported(state, page.wire_type());
            (container.child(notice), None)
        }
    };
    let element = container.build();
    if !enabled {
        dom::disable_controls(&element);
    }
    (element, focus)
}

fn unsupported(state: &App, wire_type: &str) -> El {
    El::new("div").class("notice").attr("role", "note").text(&state.tf("unsupported", &[wire_type]))
}

fn prompt(ctx: &Ctx, state: &App, prompt_idx: usize) -> El {
    let section = El::new("section").class("prompt");
    match ctx.prompt(prompt_idx) {
        Prompt::FileInput(input) => file_input(ctx, state, prompt_idx, input, false),
        Prompt::FileInputMultiple(input) => file_input(ctx, state, prompt_idx, input, true),
        Prompt::Confirm(confirm) => {
            let ctx_ok = ctx.clone();
            let ctx_cancel = ctx.clone();
            section.child(El::new("p").class("prompt-text").text(&ctx.text(&confirm.text))).child(
                El::new("div")
                    .class("buttons")
                    .child(
                        button(&ctx.text(&confirm.ok))
                            .class("primary")
                            .on("click", move |_| ctx_ok.answer(port_protocol::Payload::True, None)),
                    )
                    .child(
                        button(&ctx.text(&confirm.cancel))
                            .class("secondary")
                            .on("click", move |_| ctx_cancel.answer(port_protocol::Payload::False, None)),
                    ),
            )
        }
        Prompt::Retry(retry) => {
            let ctx_ok = ctx.clone();
            section.child(El::new("p").class("prompt-text").text(&ctx.text(&retry.text))).child(
                El::new("div").class("buttons").child(
                    button(&ctx.text(&retry.ok))
                        .class("primary")
                        .on("click", move |_| ctx_ok.answer(port_protocol::Payload::True, None)),
                ),
            )
        }
        Prompt::RadioInput(radio) => radio_input(ctx, state, prompt_idx, radio),
        Prompt::Progress(progress) => {
            let label_id = dom::fresh_id("progress");
            let mut bar = El::new("progress").attr("max", "100").attr("aria-labelledby", &label_id);
            if let Some(percentage) = logic::progress_percentage(progress.percentage.as_ref()) {
                bar = bar.attr("value", &percentage.to_string());
            }
            let mut section =
                section.child(El::new("p").attr("id", &label_id).text(&ctx.text(&progress.description))).child(bar);
            if !progress.message.is_empty() {
                section = section.child(El::new("p").class("muted").text(&progress.message));
            }
            section
        }
        Prompt::Text(text) => {
            let mut section = section;
            if let Some(title) = &text.title {
                section = section.child(El::new("h2").text(&ctx.text(title)));
            }
            section.child(El::new("p").class("prompt-text").text(&ctx.text(&text.text)))
        }
        Prompt::HelloWorld(hello) => section.child(El::new("p").class("prompt-text").text(&ctx.text(&hello.text))),
        Prompt::PageError(error) => section.child(
            El::new("div")
                .class("alert")
                .attr("role", "alert")
                .child(El::new("strong").text(&state.t("pageErrorTitle")))
                .child(El::new("p").class("prompt-text").text(&error.message)),
        ),
        Prompt::Questionnaire(questionnaire) => questionnaire_prompt(ctx, state, prompt_idx, questionnaire),
        Prompt::ConsentFormViz(form) => {
            let mut section = section.class("consent");
            if let Some(description) = &form.description {
                section = section.child(El::new("p").class("prompt-text").text(&ctx.text(description)));
            }
            for (table_idx, table) in form.tables.iter().enumerate() {
                let ConsentVizTable::Table(table) = table else {
                    section = section.child(unsupported(state, table.wire_type()));
                    continue;
                };
                let key = format!("{prompt_idx}/{table_idx}");
                section = section.child(consent_table(ctx, state, &key, TableSpec::viz(table)));
            }
            let form_for_donate = prompt_idx;
            section.child(donate_buttons(
                ctx,
                state,
                form.donate_question.as_ref(),
                form.donate_button.as_ref(),
                move |ctx| {
                    let Prompt::ConsentFormViz(form) = ctx.prompt(form_for_donate) else { return };
                    let table_ids = form.tables.iter().map(|table| match table {
                        ConsentVizTable::Table(table) => Some(table.id.as_str()),
                        ConsentVizTable::Unsupported(_) => None,
                    });
                    let deletions = deletions(ctx, &form_table_keys(form_for_donate, table_ids));
                    answer_consent(ctx, consent::consent_viz_answer(form, &deletions));
                },
            ))
        }
        Prompt::ConsentFormTable(table) => {
            let key = format!("{prompt_idx}/0");
            section.class("consent").child(upstream_table(ctx, state, &key, table))
        }
        Prompt::DataSubmissionButtons(buttons) => section.child(donate_buttons(
            ctx,
            state,
            buttons.donate_question.as_ref(),
            buttons.donate_button.as_ref(),
            |ctx| {
                let body = ctx.body();
                let keys: Vec<(String, String)> = body
                    .body
                    .iter()
                    .enumerate()
                    .filter_map(|(prompt_idx, prompt)| match prompt {
                        Prompt::ConsentFormTable(table) => Some((format!("{prompt_idx}/0"), table.id.clone())),
                        _ => None,
                    })
                    .collect();
                let deletions = deletions(ctx, &keys);
                let tables = consent::page_consent_tables(body);
                answer_consent(ctx, consent::data_submission_answer(&tables, &ctx.locale, &deletions));
            },
        )),
        Prompt::ConsentForm(form) => {
            let mut section = section.class("consent");
            if let Some(description) = &form.description {
                section = section.child(El::new("p").class("prompt-text").text(&ctx.text(description)));
            }
            for (table_idx, table) in form.tables.iter().enumerate() {
                let ConsentTable::Table(table) = table else {
                    section = section.child(unsupported(state, table.wire_type()));
                    continue;
                };
                section = section.child(upstream_table(ctx, state, &format!("{prompt_idx}/{table_idx}"), table));
            }
            let form_idx = prompt_idx;
            section.child(donate_buttons(
                ctx,
                state,
                form.donate_question.as_ref(),
                form.donate_button.as_ref(),
                move |ctx| {
                    let Prompt::ConsentForm(form) = ctx.prompt(form_idx) else { return };
                    let table_ids = form.tables.iter().map(|table| match table {
                        ConsentTable::Table(table) => Some(table.id.as_str()),
                        ConsentTable::Unsupported(_) => None,
                    });
                    let deletions = deletions(ctx, &form_table_keys(form_idx, table_ids));
                    let tables = consent::consent_form_tables(&form.tables);
                    answer_consent(ctx, consent::data_submission_answer(&tables, &ctx.locale, &deletions));
                },
            ))
        }
        Prompt::Unsupported(raw) => {
            let wire_type = raw.get("__type__").and_then(|value| value.as_str()).unwrap_or("?");
            section.child(unsupported(state, wire_type))
        }
    }
}

/// The engine's deletions for the tables `(state key, table id)`.
/// The UI-state keys (`"<prompt>/<table>"`) of a form's tables with their table ids; an unsupported
/// table (`None`) keeps its index but has no state.
fn form_table_keys<'a>(prompt_idx: usize, table_ids: impl Iterator<Item = Option<&'a str>>) -> Vec<(String, String)> {
    table_ids
        .enumerate()
        .filter_map(|(table_idx, table_id)| Some((format!("{prompt_idx}/{table_idx}"), table_id?.to_owned())))
        .collect()
}

/// Sends a consent form's donation, or says that a table could not be read (the page stays up).
fn answer_consent(ctx: &Ctx, answer: Result<port_protocol::Payload, consent::TableError>) {
    match answer {
        Ok(payload) => ctx.answer(payload, None),
        Err(_) => app::announce(&ctx.app, &ctx.app.borrow().t("tableUnreadable")),
    }
}

fn deletions(ctx: &Ctx, keys: &[(String, String)]) -> consent::Deletions {
    let app = ctx.app.borrow();
    let logs: Vec<(&str, &DeletionLog)> = keys
        .iter()
        .filter_map(|(key, table_id)| app.page_state.tables.get(key).map(|table| (table_id.as_str(), &table.log)))
        .collect();
    logic::deletions_by_table(logs)
}

fn file_input(ctx: &Ctx, state: &App, prompt_idx: usize, input: &FileInput, multiple: bool) -> El {
    let description_id = dom::fresh_id("file-desc");
    let input_id = dom::fresh_id("file");
    let chosen = state.page_state.files.get(&prompt_idx).cloned().unwrap_or_default();
    let chosen_names: Vec<String> = chosen.iter().map(|file| file.name()).collect();
    let chosen_text = El::new("p").class("chosen").attr("aria-live", "polite");
    let chosen_text = if chosen_names.is_empty() {
        chosen_text
    } else {
        chosen_text.text(&state.tf("fileChosen", &[&chosen_names.join(", ")]))
    };
    let chosen_element = chosen_text.0.clone();
    let continue_button = button(&state.t("continue")).class("primary").flag("disabled", chosen.is_empty());
    let continue_element = continue_button.0.clone();

    let ctx_change = ctx.clone();
    let file_input = El::new("input")
        .attr("type", "file")
        .attr("id", &input_id)
        .attr("aria-describedby", &description_id)
        .flag("multiple", multiple);
    let file_input =
        if input.extensions.is_empty() { file_input } else { file_input.attr("accept", &input.extensions) };
    // A redrawn page shows the files chosen before, in the input itself too.
    if !chosen.is_empty() {
        dom::set_files(file_input.0.unchecked_ref(), &chosen);
    }
    let file_input = file_input.on("change", move |event| {
        let Some(input) = event.target().and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
            return;
        };
        let files: Vec<web_sys::File> = input
            .files()
            .map(|list| (0..list.length()).filter_map(|file_idx| list.item(file_idx)).collect())
            .unwrap_or_default();
        let names: Vec<String> = files.iter().map(|file| file.name()).collect();
        let text = if names.is_empty() {
            String::new()
        } else {
            ctx_change.app.borrow().tf("fileChosen", &[&names.join(", ")])
        };
        chosen_element.set_text_content(Some(&text));
        if files.is_empty() {
            let _ = continue_element.set_attribute("disabled", "");
        } else {
            let _ = continue_element.remove_attribute("disabled");
        }
        ctx_change.app.borrow_mut().page_state.files.insert(prompt_idx, files);
        app::answer_changed(&ctx_change.app, &input);
    });

    let ctx_continue = ctx.clone();
    let continue_button = continue_button.on("click", move |_| {
        let files = ctx_continue.app.borrow().page_state.files.get(&prompt_idx).cloned().unwrap_or_default();
        if files.is_empty() {
            return;
        }
        let payload = if multiple {
            let names: Vec<(String, u64)> = files.iter().map(|file| (file.name(), file.size() as u64)).collect();
            logic::file_array_payload(names.iter().map(|(name, size)| (name.as_str(), *size)))
        } else {
            logic::file_payload(&files[0].name(), files[0].size() as u64)
        };
        let sent: Array = if multiple { files.iter().collect() } else { std::iter::once(&files[0]).collect() };
        ctx_continue.answer(payload, Some(sent));
    });
    let ctx_skip = ctx.clone();
    let skip_button = button(&state.t("skip"))
        .class("secondary")
        .on("click", move |_| ctx_skip.answer(port_protocol::Payload::False, None));

    let label_key = if multiple { "chooseFiles" } else { "chooseFile" };
    El::new("section")
        .class("prompt")
        .class("file-input")
        .child(El::new("p").class("prompt-text").attr("id", &description_id).text(&ctx.text(&input.description)))
        .child(El::new("label").attr("for", &input_id).class("file-label").text(&state.t(label_key)))
        .child(file_input)
        .child(chosen_text)
        .child(El::new("div").class("buttons").child(continue_button).child(skip_button))
}

fn radio_input(ctx: &Ctx, state: &App, prompt_idx: usize, radio: &port_protocol::RadioInput) -> El {
    let group_name = dom::fresh_id("radio");
    let description_id = dom::fresh_id("radio-desc");
    let chosen = state.page_state.radios.get(&prompt_idx).copied();
    let continue_button = button(&state.t("continue")).class("primary").flag("disabled", chosen.is_none());
    let continue_element = continue_button.0.clone();
    let mut fieldset = El::new("fieldset")
        .attr("aria-describedby", &description_id)
        .child(El::new("legend").text(&ctx.text(&radio.title)))
        .child(El::new("p").class("prompt-text").attr("id", &description_id).text(&ctx.text(&radio.description)));
    for (item_idx, item) in radio.items.iter().enumerate() {
        let (label, input) = dom::labelled_input("radio", &item.value);
        input.set_name(&group_name);
        input.set_value(&item_idx.to_string());
        input.set_checked(chosen == Some(item_idx));
        let ctx_change = ctx.clone();
        let continue_element = continue_element.clone();
        dom::listen(&input, "change", move |event| {
            if dom::event_checked(&event) {
                ctx_change.app.borrow_mut().page_state.radios.insert(prompt_idx, item_idx);
                let _ = continue_element.remove_attribute("disabled");
                if let Some(control) = dom::event_element(&event) {
                    app::answer_changed(&ctx_change.app, &control);
                }
            }
        });
        fieldset = fieldset.child(label);
    }
    let ctx_continue = ctx.clone();
    let continue_button = continue_button.on("click", move |_| {
        let chosen = ctx_continue.app.borrow().page_state.radios.get(&prompt_idx).copied();
        let Prompt::RadioInput(radio) = ctx_continue.prompt(prompt_idx) else { return };
        if let Some(item) = chosen.and_then(|item_idx| radio.items.get(item_idx)) {
            ctx_continue.answer(port_protocol::Payload::String(item.value.clone()), None);
        }
    });
    El::new("section").class("prompt").child(fieldset).child(El::new("div").class("buttons").child(continue_button))
}

fn questionnaire_prompt(ctx: &Ctx, state: &App, prompt_idx: usize, questionnaire: &port_protocol::Questionnaire) -> El {
    let answers: Vec<Option<QuestionAnswer>> = state
        .page_state
        .questionnaires
        .get(&prompt_idx)
        .cloned()
        .unwrap_or_else(|| questionnaire.questions.iter().map(QuestionAnswer::empty_for).collect());
    let mut section = El::new("section")
        .class("prompt")
        .class("questionnaire")
        .child(El::new("p").class("prompt-text").text(&ctx.text(&questionnaire.description)));
    for (question_idx, question) in questionnaire.questions.iter().enumerate() {
        let answer = answers.get(question_idx).cloned().flatten();
        section = section.child(match question {
            Question::Open(open) => {
                let area_id = dom::fresh_id("open");
                let area = El::new("textarea").attr("id", &area_id).attr("rows", "3");
                let text = match &answer {
                    Some(QuestionAnswer::Open(text)) => text.clone(),
                    _ => String::new(),
                };
                area.0.unchecked_ref::<web_sys::HtmlTextAreaElement>().set_value(&text);
                let ctx_input = ctx.clone();
                let area = area.on("input", move |event| {
                    let text = dom::event_value(&event);
                    set_question_answer(&ctx_input, &event, prompt_idx, question_idx, QuestionAnswer::Open(text));
                });
                El::new("div")
                    .class("question")
                    .child(El::new("label").attr("for", &area_id).text(&ctx.text(&open.question)))
                    .child(area)
            }
            Question::MultipleChoice(choice) => choice_question(ctx, prompt_idx, question_idx, choice, &answer, false),
            Question::MultipleChoiceCheckbox(choice) => {
                choice_question(ctx, prompt_idx, question_idx, choice, &answer, true)
            }
            Question::Unsupported(_) => unsupported(state, question.wire_type()),
        });
    }
    let ctx_continue = ctx.clone();
    let continue_button = button(&state.t("continue")).class("primary").on("click", move |_| {
        let Prompt::Questionnaire(questionnaire) = ctx_continue.prompt(prompt_idx) else { return };
        let answers = ctx_continue.app.borrow().page_state.questionnaires.get(&prompt_idx).cloned().unwrap_or_default();
        let payload = logic::questionnaire_answer(questionnaire, &answers, &ctx_continue.locale);
        ctx_continue.answer(payload, None);
    });
    section.child(El::new("div").class("buttons").child(continue_button))
}

/// Records the answer to one question; `event` is the change that gave it.
fn set_question_answer(
    ctx: &Ctx,
    event: &web_sys::Event,
    prompt_idx: usize,
    question_idx: usize,
    answer: QuestionAnswer,
) {
    let Prompt::Questionnaire(questionnaire) = ctx.prompt(prompt_idx) else { return };
    {
        let mut app = ctx.app.borrow_mut();
        let answers = app
            .page_state
            .questionnaires
            .entry(prompt_idx)
            .or_insert_with(|| questionnaire.questions.iter().map(QuestionAnswer::empty_for).collect());
        if let Some(slot) = answers.get_mut(question_idx) {
            *slot = Some(answer);
        }
    }
    match dom::event_element(event) {
        Some(control) => app::answer_changed(&ctx.app, &control),
        None => app::save_draft(&ctx.app),
    }
}

fn choice_question(
    ctx: &Ctx,
    prompt_idx: usize,
    question_idx: usize,
    choice: &ChoiceQuestion,
    answer: &Option<QuestionAnswer>,
    checkbox: bool,
) -> El {
    let group_name = dom::fresh_id("choice");
    let mut fieldset = El::new("fieldset").class("question").child(El::new("legend").text(&ctx.text(&choice.question)));
    for (choice_idx, label) in choice.choices.iter().enumerate() {
        let kind = if checkbox { "checkbox" } else { "radio" };
        let (wrapper, input) = dom::labelled_input(kind, &ctx.text(label));
        input.set_name(&group_name);
        let checked = match answer {
            Some(QuestionAnswer::Choice(Some(chosen))) => *chosen == choice_idx,
            Some(QuestionAnswer::Checkbox(ticked)) => ticked.contains(&choice_idx),
            _ => false,
        };
        input.set_checked(checked);
        let ctx_change = ctx.clone();
        dom::listen(&input, "change", move |event| {
            let is_checked = dom::event_checked(&event);
            if checkbox {
                let current = ctx_change
                    .app
                    .borrow()
                    .page_state
                    .questionnaires
                    .get(&prompt_idx)
                    .and_then(|answers| answers.get(question_idx).cloned().flatten());
                let mut ticked = match current {
                    Some(QuestionAnswer::Checkbox(ticked)) => ticked,
                    _ => BTreeSet::new(),
                };
                if is_checked {
                    ticked.insert(choice_idx);
                } else {
                    ticked.remove(&choice_idx);
                }
                set_question_answer(&ctx_change, &event, prompt_idx, question_idx, QuestionAnswer::Checkbox(ticked));
            } else if is_checked {
                let answer = QuestionAnswer::Choice(Some(choice_idx));
                set_question_answer(&ctx_change, &event, prompt_idx, question_idx, answer);
            }
        });
        fieldset = fieldset.child(wrapper);
    }
    fieldset
}

/// Donate and decline buttons, with the donate question above them.
fn donate_buttons(
    ctx: &Ctx,
    state: &App,
    question: Option<&Text>,
    donate_label: Option<&Text>,
    on_donate: impl Fn(&Ctx) + 'static,
) -> El {
    let question_text = question.map_or_else(|| state.t("donateQuestion"), |text| ctx.text(text));
    let donate_text = donate_label.map_or_else(|| state.t("donate"), |text| ctx.text(text));
    // On the extension's own review page the choice is about one donation: Send or Don't send.
    let extension_page = state.view.as_ref().is_some_and(|view| view.extension_page);
    let decline_text = state.t(if extension_page { "dontSend" } else { "decline" });
    let ctx_donate = ctx.clone();
    let ctx_decline = ctx.clone();
    El::new("div").class("donate").child(El::new("p").class("donate-question").text(&question_text)).child(
        El::new("div")
            .class("buttons")
            .child(button(&donate_text).class("primary").on("click", move |_| on_donate(&ctx_donate)))
            .child(
                button(&decline_text)
                    .class("secondary")
                    .on("click", move |_| ctx_decline.answer(port_protocol::Payload::False, None)),
            ),
    )
}

struct TableSpec<'a> {
    table_id: &'a str,
    title: &'a Text,
    description: Option<&'a Text>,
    data_frame: &'a DataFrameField,
    headers: Option<indexmap::IndexMap<String, Text>>,
    folded: bool,
    deletable: bool,
}

impl<'a> TableSpec<'a> {
    fn viz(table: &'a ConsentFormTableViz) -> TableSpec<'a> {
        TableSpec {
            table_id: &table.id,
            title: &table.title,
            description: table.description.as_ref(),
            data_frame: &table.data_frame,
            headers: table.headers.clone(),
            folded: table.folded,
            deletable: table.delete_option,
        }
    }

    fn upstream(table: &'a ConsentFormTable, data_frame: &'a DataFrameField) -> TableSpec<'a> {
        TableSpec {
            table_id: &table.id,
            title: &table.title,
            description: table.description.as_ref(),
            data_frame,
            headers: table.headers.clone(),
            folded: false,
            // The engine's `data_submission_answer` counts deletions, so upstream tables get the
            // same delete controls as D3I's.
            deletable: true,
        }
    }
}

fn upstream_table(ctx: &Ctx, state: &App, key: &str, table: &ConsentFormTable) -> El {
    let data_frame = DataFrameField::Json(table.data_frame.clone());
    consent_table(ctx, state, key, TableSpec::upstream(table, &data_frame))
}

/// A consent table: title, description, fold toggle, search, page size, rows with delete and undo.
/// Its state lives in `PageState.tables[key]`; the result area is redrawn on each change, the search
/// field is not, so it keeps focus while typing.
fn consent_table(ctx: &Ctx, state: &App, key: &str, spec: TableSpec<'_>) -> El {
    let title_id = dom::fresh_id("table-title");
    let body_id = dom::fresh_id("table-body");
    let search_id = dom::fresh_id("search");
    let size_id = dom::fresh_id("size");

    let column_labels: Vec<String> = {
        let app = ctx.app.borrow();
        let columns =
            app.page_state.tables.get(key).and_then(|table| table.data.as_ref().ok()).map(|data| data.columns.clone());
        columns
            .unwrap_or_default()
            .iter()
            .map(|column| {
                spec.headers
                    .as_ref()
                    .and_then(|headers| headers.get(column))
                    .map_or_else(|| column.clone(), |text| ctx.text(text))
            })
            .collect()
    };
    let (query, page_size, folded) = {
        let app = ctx.app.borrow();
        let table = app.page_state.tables.get(key);
        (
            table.map(|table| table.query.clone()).unwrap_or_default(),
            table.map_or(PAGE_SIZES[0], |table| table.page_size),
            table.is_some_and(|table| table.folded),
        )
    };

    let results = El::new("div").class("results");
    let results_element = results.0.clone();
    let title = ctx.text(spec.title);

    let body_element_holder = El::new("div").class("table-body").attr("id", &body_id).flag("hidden", folded);
    let body_element = body_element_holder.0.clone();
    let ctx_fold = ctx.clone();
    let fold_key = key.to_owned();
    let fold_button = button(&state.t(if folded { "unfold" } else { "fold" }))
        .class("secondary")
        .attr("aria-expanded", if folded { "false" } else { "true" })
        .attr("aria-controls", &body_id)
        .on("click", move |event| {
            {
                let mut app = ctx_fold.app.borrow_mut();
                let Some(table) = app.page_state.tables.get_mut(&fold_key) else { return };
                table.folded = !table.folded;
                let folded = table.folded;
                if folded {
                    let _ = body_element.set_attribute("hidden", "");
                } else {
                    let _ = body_element.remove_attribute("hidden");
                }
                let label = app.t(if folded { "unfold" } else { "fold" });
                if let Some(button) = event.current_target().and_then(|target| target.dyn_into::<Element>().ok()) {
                    button.set_text_content(Some(&label));
                    let _ = button.set_attribute("aria-expanded", if folded { "false" } else { "true" });
                }
            }
            app::answer_changed(&ctx_fold.app, &body_element);
        });

    let ctx_search = ctx.clone();
    let search_key = key.to_owned();
    let results_for_search = results_element.clone();
    let labels_for_search = column_labels.clone();
    let title_for_search = title.clone();
    let search = El::new("input").attr("type", "search").attr("id", &search_id).attr("value", &query).on(
        "input",
        move |event| {
            let query = dom::event_value(&event);
            if let Some(table) = ctx_search.app.borrow_mut().page_state.tables.get_mut(&search_key) {
                table.query = query;
                table.page_idx = 0;
                table.selected.clear();
            }
            table_results(&ctx_search, &search_key, &results_for_search, &labels_for_search, &title_for_search);
            app::answer_changed(&ctx_search.app, &results_for_search);
        },
    );

    let mut size_select = El::new("select").attr("id", &size_id);
    for size in PAGE_SIZES {
        size_select = size_select.child(
            El::new("option")
                .attr("value", &size.to_string())
                .flag("selected", size == page_size)
                .text(&size.to_string()),
        );
    }
    let ctx_size = ctx.clone();
    let size_key = key.to_owned();
    let results_for_size = results_element.clone();
    let labels_for_size = column_labels.clone();
    let title_for_size = title.clone();
    let size_select = size_select.on("change", move |event| {
        let size = dom::event_value(&event).parse().unwrap_or(PAGE_SIZES[0]);
        if let Some(table) = ctx_size.app.borrow_mut().page_state.tables.get_mut(&size_key) {
            table.page_size = size;
            table.page_idx = 0;
        }
        table_results(&ctx_size, &size_key, &results_for_size, &labels_for_size, &title_for_size);
        app::answer_changed(&ctx_size.app, &results_for_size);
    });

    let mut section = El::new("section").class("consent-table").attr("aria-labelledby", &title_id).child(
        El::new("div").class("table-head").child(El::new("h2").attr("id", &title_id).text(&title)).child(fold_button),
    );
    if let Some(description) = spec.description {
        section = section.child(El::new("p").class("prompt-text").text(&ctx.text(description)));
    }
    let body = body_element_holder
        .child(
            El::new("div")
                .class("table-tools")
                .child(El::new("label").attr("for", &search_id).text(&state.t("search")))
                .child(search)
                .child(El::new("label").attr("for", &size_id).text(&state.t("rowsPerPage")))
                .child(size_select),
        )
        .child(results);
    let section = section.child(body);
    draw_results(ctx, state, key, &results_element, &column_labels, &title);
    section
}

/// Creates the state of every consent table on `page` that has none yet. `app::render_all` calls
/// it before drawing, so drawing only reads the state.
pub fn prepare_tables(page_state: &mut crate::app::PageState, page: &Page) {
    let Some(body) = page.body() else { return };
    let mut specs: Vec<(String, TableSpec<'_>)> = Vec::new();
    let upstream_frames: Vec<(usize, usize, DataFrameField)> = body
        .body
        .iter()
        .enumerate()
        .flat_map(|(prompt_idx, prompt)| match prompt {
            Prompt::ConsentFormTable(table) => vec![(prompt_idx, 0, DataFrameField::Json(table.data_frame.clone()))],
            Prompt::ConsentForm(form) => form
                .tables
                .iter()
                .enumerate()
                .filter_map(|(table_idx, table)| match table {
                    ConsentTable::Table(table) => {
                        Some((prompt_idx, table_idx, DataFrameField::Json(table.data_frame.clone())))
                    }
                    ConsentTable::Unsupported(_) => None,
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let frame_of = |prompt_idx: usize, table_idx: usize| {
        upstream_frames.iter().find(|(p, t, _)| *p == prompt_idx && *t == table_idx).map(|(_, _, frame)| frame)
    };
    for (prompt_idx, prompt) in body.body.iter().enumerate() {
        match prompt {
            Prompt::ConsentFormViz(form) => {
                for (table_idx, table) in form.tables.iter().enumerate() {
                    if let ConsentVizTable::Table(table) = table {
                        specs.push((format!("{prompt_idx}/{table_idx}"), TableSpec::viz(table)));
                    }
                }
            }
            Prompt::ConsentFormTable(table) => {
                if let Some(frame) = frame_of(prompt_idx, 0) {
                    specs.push((format!("{prompt_idx}/0"), TableSpec::upstream(table, frame)));
                }
            }
            Prompt::ConsentForm(form) => {
                for (table_idx, table) in form.tables.iter().enumerate() {
                    if let (ConsentTable::Table(table), Some(frame)) = (table, frame_of(prompt_idx, table_idx)) {
                        specs.push((format!("{prompt_idx}/{table_idx}"), TableSpec::upstream(table, frame)));
                    }
                }
            }
            _ => {}
        }
    }
    for (key, spec) in specs {
        page_state.tables.entry(key).or_insert_with(|| TableState {
            data: TableData::parse(spec.table_id, spec.data_frame),
            log: DeletionLog::default(),
            selected: BTreeSet::new(),
            query: String::new(),
            page_size: PAGE_SIZES[0],
            page_idx: 0,
            folded: spec.folded,
            deletable: spec.deletable,
        });
    }
}

/// Redraws a table's result area from its state.
/// Redraws a table's rows and controls. Redrawing replaces the control that has keyboard focus, so
/// the focus moves to its replacement (or, when that is now disabled, to its counterpart: undo after
/// a delete, the other page button at the first or last page; else to the table); otherwise it would
/// fall to `<body>`
/// and a keyboard or screen reader user would lose their place.
fn table_results(ctx: &Ctx, key: &str, results: &Element, labels: &[String], title: &str) {
    let focused = focused_control(results);
    {
        let app = ctx.app.borrow();
        draw_results(ctx, &app, key, results, labels, title);
    }
    if let Some(focused) = focused {
        restore_focus(results, &focused);
    }
}

/// The `data-focus` name of the control inside `results` that has focus.
fn focused_control(results: &Element) -> Option<String> {
    let active = web_sys::window()?.document()?.active_element()?;
    if !results.contains(Some(&active)) {
        return None;
    }
    active.get_attribute("data-focus")
}

fn restore_focus(results: &Element, focused: &str) {
    let counterpart = match focused {
        "delete" | "delete-matching" => "undo",
        "undo" => "delete",
        "previous" => "next",
        "next" => "previous",
        other => other,
    };
    // Last resort: the table itself (it is focusable, for scrolling), so focus stays in the table.
    let selectors = [
        format!("[data-focus=\"{focused}\"]:not([disabled])"),
        format!("[data-focus=\"{counterpart}\"]:not([disabled])"),
        ".table-scroll".to_owned(),
    ];
    for selector in selectors {
        let Ok(Some(control)) = results.query_selector(&selector) else {
            continue;
        };
        if let Some(control) = control.dyn_ref::<web_sys::HtmlElement>() {
            let _ = control.focus();
            return;
        }
    }
}

fn draw_results(ctx: &Ctx, state: &App, key: &str, results: &Element, labels: &[String], title: &str) {
    dom::clear(results);
    let Some(table) = state.page_state.tables.get(key) else { return };
    let data = match &table.data {
        Ok(data) => data,
        Err(_) => {
            let alert = El::new("div").class("alert").attr("role", "alert").text(&state.t("tableUnreadable"));
            let _ = results.append_child(&alert.0);
            return;
        }
    };
    let visible = logic::visible_rows(data, table.log.deleted(), &table.query);
    let window = logic::paginate(visible.len(), table.page_size, table.page_idx);
    let shown = &visible[window.start..window.end];

    let counts = if visible.is_empty() {
        state.t("noRows")
    } else {
        state.tf("rowsShown", &[&(window.start + 1).to_string(), &window.end.to_string(), &visible.len().to_string()])
    };
    let mut counts_line = El::new("p").class("counts").child(El::new("span").text(&counts));
    // A table whose rows cannot be deleted (the extension's review) has no deleted count to show.
    if table.deletable {
        let deleted_text = state.tf("rowsDeleted", &[&table.log.n_deleted().to_string()]);
        counts_line = counts_line.text(" · ").child(El::new("span").class("deleted-count").text(&deleted_text));
    }
    let _ = results.append_child(&counts_line.0);
    if data.n_cut > 0 {
        let total = (data.rows.len() + data.n_cut).to_string();
        let note = El::new("p")
            .class("cut-note")
            .attr("role", "note")
            .text(&state.tf("rowsCut", &[&total, &consent::MAX_TABLE_ROWS.to_string()]));
        let _ = results.append_child(&note.0);
    }

    let mut head_row = El::new("tr");
    if table.deletable {
        let all_selected = !shown.is_empty() && shown.iter().all(|row_idx| table.selected.contains(row_idx));
        let ctx_all = ctx.clone();
        let key_all = key.to_owned();
        let results_all = results.clone();
        let labels_all = labels.to_vec();
        let title_all = title.to_owned();
        let shown_rows = shown.to_vec();
        let select_all = El::new("input")
            .attr("type", "checkbox")
            .attr("data-focus", "select-all")
            .attr("aria-label", &state.t("selectPage"))
            .flag("checked", all_selected)
            .on("change", move |event| {
                let checked = dom::event_checked(&event);
                if let Some(table) = ctx_all.app.borrow_mut().page_state.tables.get_mut(&key_all) {
                    for row_idx in &shown_rows {
                        if checked {
                            table.selected.insert(*row_idx);
                        } else {
                            table.selected.remove(row_idx);
                        }
                    }
                }
                table_results(&ctx_all, &key_all, &results_all, &labels_all, &title_all);
            });
        head_row = head_row.child(El::new("th").attr("scope", "col").class("select").child(select_all));
    }
    for label in labels {
        head_row = head_row.child(El::new("th").attr("scope", "col").text(label));
    }
    let mut tbody = El::new("tbody");
    for row_idx in shown {
        let mut row = El::new("tr");
        if table.deletable {
            let ctx_row = ctx.clone();
            let key_row = key.to_owned();
            let row_idx = *row_idx;
            let results_row = results.clone();
            let checkbox = El::new("input")
                .attr("type", "checkbox")
                .attr("aria-label", &state.tf("selectRow", &[&(row_idx + 1).to_string()]))
                .flag("checked", table.selected.contains(&row_idx))
                .on("change", move |event| {
                    let checked = dom::event_checked(&event);
                    if let Some(table) = ctx_row.app.borrow_mut().page_state.tables.get_mut(&key_row) {
                        if checked {
                            table.selected.insert(row_idx);
                        } else {
                            table.selected.remove(&row_idx);
                        }
                    }
                    update_delete_button(&ctx_row, &key_row, &results_row);
                });
            row = row.child(El::new("td").class("select").child(checkbox));
        }
        for cell in &data.rows[*row_idx] {
            row = row.child(El::new("td").text(cell));
        }
        tbody = tbody.child(row);
    }
    let table_element = El::new("table")
        .child(El::new("caption").class("visually-hidden").text(title))
        .child(El::new("thead").child(head_row))
        .child(tbody);
    let _ = results.append_child(
        &El::new("div").class("table-scroll").attr("tabindex", "0").attr("aria-label", title).child(table_element).0,
    );

    // Pager.
    let pager_text = state.tf("pageOf", &[&(window.page_idx + 1).to_string(), &window.n_pages.to_string()]);
    let pager = El::new("div")
        .class("pager")
        .child(page_button(ctx, state, key, results, labels, title, "previous", window.page_idx.checked_sub(1)))
        .child(El::new("span").text(&pager_text))
        .child(page_button(
            ctx,
            state,
            key,
            results,
            labels,
            title,
            "next",
            (window.page_idx + 1 < window.n_pages).then_some(window.page_idx + 1),
        ));
    let _ = results.append_child(&pager.0);

    if table.deletable {
        let n_selected = table.selected.len();
        let delete = button(&state.tf("deleteSelected", &[&n_selected.to_string()]))
            .class("danger")
            .class("delete-selected")
            .attr("data-focus", "delete")
            .flag("disabled", n_selected == 0)
            .on(
                "click",
                table_action(ctx, key, results, labels, title, "announceDeleted", |table| {
                    let selected = std::mem::take(&mut table.selected);
                    table.log.delete(selected)
                }),
            );
        let undo = button(&state.t("undo"))
            .class("secondary")
            .attr("data-focus", "undo")
            .flag("disabled", !table.log.can_undo())
            .on("click", table_action(ctx, key, results, labels, title, "announceRestored", |table| table.log.undo()));
        let mut actions = El::new("div").class("buttons").class("table-actions").child(delete);
        // With a search, every row it found can go at once: one action, undone at once.
        if !table.query.is_empty() && !visible.is_empty() {
            let matching = visible.clone();
            let delete_matching = button(&state.tf("deleteMatching", &[&visible.len().to_string()]))
                .class("danger")
                .attr("data-focus", "delete-matching")
                .on(
                    "click",
                    table_action(ctx, key, results, labels, title, "announceDeleted", move |table| {
                        table.selected.clear();
                        table.log.delete(matching.iter().copied())
                    }),
                );
            actions = actions.child(delete_matching);
        }
        let _ = results.append_child(&actions.child(undo).0);
    }
    if !ctx.enabled || state.is_answered(ctx.page_seq) {
        dom::disable_controls(results);
    }
}

/// The click handler of a table action: `act` changes the table and returns how many rows it
/// deleted or restored; then the rows are redrawn, the draft posted, and `announce_key` read out.
fn table_action(
    ctx: &Ctx,
    key: &str,
    results: &Element,
    labels: &[String],
    title: &str,
    announce_key: &'static str,
    act: impl Fn(&mut TableState) -> usize + 'static,
) -> impl FnMut(web_sys::Event) + 'static {
    let (ctx, key, results, labels, title) =
        (ctx.clone(), key.to_owned(), results.clone(), labels.to_vec(), title.to_owned());
    move |_| {
        let n_rows = {
            let mut app = ctx.app.borrow_mut();
            let Some(table) = app.page_state.tables.get_mut(&key) else { return };
            act(table)
        };
        table_results(&ctx, &key, &results, &labels, &title);
        app::answer_changed(&ctx.app, &results);
        let text = ctx.app.borrow().tf(announce_key, &[&n_rows.to_string()]);
        app::announce(&ctx.app, &text);
    }
}

#[allow(clippy::too_many_arguments)]
fn page_button(
    ctx: &Ctx,
    state: &App,
    key: &str,
    results: &Element,
    labels: &[String],
    title: &str,
    label_key: &str,
    target: Option<usize>,
) -> El {
    let ctx_page = ctx.clone();
    let key_page = key.to_owned();
    let results_page = results.clone();
    let labels_page = labels.to_vec();
    let title_page = title.to_owned();
    button(&state.t(label_key)).class("secondary").attr("data-focus", label_key).flag("disabled", target.is_none()).on(
        "click",
        move |_| {
            let Some(target) = target else { return };
            if let Some(table) = ctx_page.app.borrow_mut().page_state.tables.get_mut(&key_page) {
                table.page_idx = target;
            }
            table_results(&ctx_page, &key_page, &results_page, &labels_page, &title_page);
            app::answer_changed(&ctx_page.app, &results_page);
        },
    )
}

/// Updates the "delete selected (n)" button without redrawing the rows, so focus stays on the
/// checkbox the participant just ticked.
fn update_delete_button(ctx: &Ctx, key: &str, results: &Element) {
    let app = ctx.app.borrow();
    let Some(table) = app.page_state.tables.get(key) else { return };
    let n_selected = table.selected.len();
    if let Ok(Some(button)) = results.query_selector(".delete-selected") {
        button.set_text_content(Some(&app.tf("deleteSelected", &[&n_selected.to_string()])));
        if n_selected == 0 {
            let _ = button.set_attribute("disabled", "");
        } else {
            let _ = button.remove_attribute("disabled");
        }
    }
}
