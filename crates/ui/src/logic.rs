//! The UI's pure helpers: search, pagination, deletion bookkeeping, questionnaire answers, file
//! payloads, locale choice and message catalogs.
//!
//! Nothing here touches the DOM, so it compiles and is unit-tested natively. These are candidates
//! to move into `engine` (style §8: a wasm crate should only translate); until then they live here,
//! next to their only caller.

use std::collections::{BTreeSet, HashMap};

use port_engine::consent::{Deletions, TableData};
use port_protocol::message::QuestionDraft;
use port_protocol::{FileRef, Payload, Question, Questionnaire};
use serde_json::{Map, Value};

/// Page sizes the participant can choose for a consent table.
pub const PAGE_SIZES: [usize; 3] = [10, 25, 50];

/// The locales the UI offers in its locale switch.
pub const UI_LOCALES: [&str; 2] = ["en", "nl"];

/// The `_locales` catalog of each of [`UI_LOCALES`], compiled in: a view that opens has its strings,
/// in the session's locale, for its first paint, instead of fetching them (`chrome.i18n` knows only
/// the browser's locale) and drawing the page again when they arrive.
pub const UI_CATALOGS: [(&str, &str); 2] = [
    ("en", include_str!("../../../extension/_locales/en/messages.json")),
    ("nl", include_str!("../../../extension/_locales/nl/messages.json")),
];

/// Whether any cell of `row` contains `query`, ignoring case. An empty query matches every row.
pub fn row_matches(row: &[String], query: &str) -> bool {
    let query = query.trim().to_lowercase();
    query.is_empty() || row.iter().any(|cell| cell.to_lowercase().contains(&query))
}

/// Indices of the rows the participant still sees: not deleted and matching the search.
pub fn visible_rows(data: &TableData, deleted: &BTreeSet<usize>, query: &str) -> Vec<usize> {
    (0..data.rows.len())
        .filter(|row_idx| !deleted.contains(row_idx) && row_matches(&data.rows[*row_idx], query))
        .collect()
}

/// One page of a list of `n_items`: the items `start..end` are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageWindow {
    /// 0-based; clamped into `0..n_pages`.
    pub page_idx: usize,
    /// At least 1, so an empty table still has "page 1 of 1".
    pub n_pages: usize,
    pub start: usize,
    pub end: usize,
}

/// The window of page `page_idx` for `n_items` shown `page_size` at a time. A page index beyond the
/// end (after a search or a deletion shrank the list) is clamped to the last page.
pub fn paginate(n_items: usize, page_size: usize, page_idx: usize) -> PageWindow {
    let page_size = page_size.max(1);
    let n_pages = n_items.div_ceil(page_size).max(1);
    let page_idx = page_idx.min(n_pages - 1);
    let start = (page_idx * page_size).min(n_items);
    let end = (start + page_size).min(n_items);
    PageWindow { page_idx, n_pages, start, end }
}

/// The rows a participant deleted from one table, with an undo history of delete actions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletionLog {
    // Invariant: `deleted` is exactly the union of the batches in `history`.
    deleted: BTreeSet<usize>,
    history: Vec<Vec<usize>>,
}

impl DeletionLog {
    /// Deletes `rows` as one undoable action. Rows already deleted are ignored; an action that
    /// deletes nothing is not recorded. Returns how many rows it deleted.
    pub fn delete(&mut self, rows: impl IntoIterator<Item = usize>) -> usize {
        let batch: Vec<usize> = rows.into_iter().filter(|row_idx| self.deleted.insert(*row_idx)).collect();
        let n_deleted = batch.len();
        if n_deleted > 0 {
            self.history.push(batch);
        }
        n_deleted
    }

    /// Restores the rows of the last delete action. Returns how many rows came back.
    pub fn undo(&mut self) -> usize {
        let Some(batch) = self.history.pop() else { return 0 };
        for row_idx in &batch {
            self.deleted.remove(row_idx);
        }
        batch.len()
    }

    /// A log from a draft's delete actions, oldest first (see [`DeletionLog::batches`]). Rows
    /// deleted twice count once.
    pub fn from_batches(batches: &[Vec<usize>]) -> DeletionLog {
        let mut log = DeletionLog::default();
        for batch in batches {
            log.delete(batch.iter().copied());
        }
        log
    }

    /// The delete actions, oldest first: what a draft keeps so that undo survives a closed view.
    pub fn batches(&self) -> &[Vec<usize>] {
        &self.history
    }

    pub fn can_undo(&self) -> bool {
        !self.history.is_empty()
    }

    pub fn deleted(&self) -> &BTreeSet<usize> {
        &self.deleted
    }

    pub fn n_deleted(&self) -> usize {
        self.deleted.len()
    }
}

/// The engine's [`Deletions`] from each table's id and log. Tables without deletions are left out.
pub fn deletions_by_table<'a>(tables: impl IntoIterator<Item = (&'a str, &'a DeletionLog)>) -> Deletions {
    let mut deletions = Deletions::new();
    for (table_id, log) in tables {
        if log.n_deleted() > 0 {
            deletions.entry(table_id.to_owned()).or_default().extend(log.deleted().iter().copied());
        }
    }
    deletions
}

/// What the participant has entered for one question of a questionnaire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionAnswer {
    /// An open question's text.
    Open(String),
    /// The index of the chosen choice, if any.
    Choice(Option<usize>),
    /// The indices of the ticked choices.
    Checkbox(BTreeSet<usize>),
}

impl QuestionAnswer {
    /// The empty answer for `question`; `None` for a question type this version does not know.
    pub fn empty_for(question: &Question) -> Option<QuestionAnswer> {
        match question {
            Question::Open(_) => Some(QuestionAnswer::Open(String::new())),
            Question::MultipleChoice(_) => Some(QuestionAnswer::Choice(None)),
            Question::MultipleChoiceCheckbox(_) => Some(QuestionAnswer::Checkbox(BTreeSet::new())),
            Question::Unsupported(_) => None,
        }
    }
}

impl QuestionAnswer {
    /// The answer as a draft keeps it.
    pub fn to_draft(&self) -> QuestionDraft {
        match self {
            QuestionAnswer::Open(text) => QuestionDraft::Open { text: text.clone() },
            QuestionAnswer::Choice(choice_idx) => QuestionDraft::Choice { choice_idx: *choice_idx },
            QuestionAnswer::Checkbox(ticked) => QuestionDraft::Checkbox { ticked: ticked.iter().copied().collect() },
        }
    }

    /// The answer a draft kept.
    pub fn from_draft(draft: &QuestionDraft) -> QuestionAnswer {
        match draft {
            QuestionDraft::Open { text } => QuestionAnswer::Open(text.clone()),
            QuestionDraft::Choice { choice_idx } => QuestionAnswer::Choice(*choice_idx),
            QuestionDraft::Checkbox { ticked } => QuestionAnswer::Checkbox(ticked.iter().copied().collect()),
        }
    }
}

/// D3I's questionnaire answer: `PayloadJSON` of `{"<question id>": answer}`. An open question
/// answers its text, a multiple choice the chosen choice's label in `locale`, a checkbox question
/// the list of ticked labels.
///
/// D3I builds the object from change events, so a question the participant never touched is
/// absent; we leave out empty answers (blank text, no choice, no ticks) to match. `answers[i]`
/// belongs to `questions[i]`; a missing or mismatched answer leaves the question out.
pub fn questionnaire_answer(
    questionnaire: &Questionnaire,
    answers: &[Option<QuestionAnswer>],
    locale: &str,
) -> Payload {
    let mut object = Map::new();
    for (question, answer) in questionnaire.questions.iter().zip(answers) {
        let value = match (question, answer) {
            (Question::Open(open), Some(QuestionAnswer::Open(text))) if !text.is_empty() => {
                Some((open.id, Value::String(text.clone())))
            }
            (Question::MultipleChoice(choice), Some(QuestionAnswer::Choice(Some(choice_idx)))) => choice
                .choices
                .get(*choice_idx)
                .map(|label| (choice.id, Value::String(label.resolve(locale).to_owned()))),
            (Question::MultipleChoiceCheckbox(choice), Some(QuestionAnswer::Checkbox(ticked)))
                if !ticked.is_empty() =>
            {
                let labels = ticked
                    .iter()
                    .filter_map(|choice_idx| choice.choices.get(*choice_idx))
                    .map(|label| Value::String(label.resolve(locale).to_owned()))
                    .collect();
                Some((choice.id, Value::Array(labels)))
            }
            _ => None,
        };
        if let Some((question_id, value)) = value {
            object.insert(question_id.to_string(), value);
        }
    }
    Payload::Json(Value::Object(object).to_string())
}

/// `PayloadFile` for one chosen file. Its `locator` `"0"` names the first entry of the message's
/// `files` array, which carries the `File` object itself.
pub fn file_payload(name: &str, size: u64) -> Payload {
    Payload::File(FileRef { name: name.to_owned(), size, locator: "0".into() })
}

/// `PayloadFileArray` for several chosen files, with locators `"0"`, `"1"`, … in the given order.
pub fn file_array_payload<'a>(files: impl IntoIterator<Item = (&'a str, u64)>) -> Payload {
    Payload::FileArray(
        files
            .into_iter()
            .enumerate()
            .map(|(file_idx, (name, size))| FileRef { name: name.to_owned(), size, locator: file_idx.to_string() })
            .collect(),
    )
}

/// The UI locale for a browser language (`navigator.language`): Dutch for any `nl` variant,
/// English otherwise.
pub fn initial_locale(browser_language: Option<&str>) -> &'static str {
    let language = browser_language.unwrap_or("").split(['-', '_']).next().unwrap_or("").to_lowercase();
    if language == "nl" { "nl" } else { "en" }
}

/// Which of the offered UI locales `locale` (the session's, possibly regional) maps to.
pub fn ui_locale(locale: &str) -> &'static str {
    initial_locale(Some(locale))
}

/// A `_locales/<locale>/messages.json` file as a key → message map. Keys are compared
/// case-insensitively by `chrome.i18n`, so they are lowercased here. Invalid JSON gives an empty
/// catalog: the caller falls back to `chrome.i18n.getMessage`.
pub fn parse_catalog(json: &str) -> HashMap<String, String> {
    let Ok(Value::Object(entries)) = serde_json::from_str::<Value>(json) else { return HashMap::new() };
    entries
        .into_iter()
        .filter_map(|(key, entry)| {
            let message = entry.get("message")?.as_str()?.to_owned();
            Some((key.to_lowercase(), message))
        })
        .collect()
}

/// Fills `$1`…`$9` in a catalog message, as `chrome.i18n.getMessage(key, substitutions)` does for
/// messages without named placeholders. `$$` is a literal dollar sign.
pub fn substitute(template: &str, substitutions: &[&str]) -> String {
    let mut output = String::with_capacity(template.len());
    let mut chars = template.chars().peekable();
    while let Some(character) = chars.next() {
        if character != '$' {
            output.push(character);
            continue;
        }
        match chars.peek().copied() {
            Some('$') => {
                chars.next();
                output.push('$');
            }
            Some(digit @ '1'..='9') => {
                chars.next();
                let substitution_idx = digit as usize - '1' as usize;
                output.push_str(substitutions.get(substitution_idx).copied().unwrap_or(""));
            }
            _ => output.push('$'),
        }
    }
    output
}

/// A progress percentage for a `<progress>` element: clamped to 0–100; `None` (indeterminate) when
/// the script sent none or something that is not a number.
pub fn progress_percentage(percentage: Option<&serde_json::Number>) -> Option<f64> {
    let value = percentage?.as_f64()?;
    value.is_finite().then(|| value.clamp(0.0, 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(rows: &[&[&str]]) -> TableData {
        TableData {
            columns: (0..rows.first().map_or(0, |row| row.len())).map(|column_idx| format!("c{column_idx}")).collect(),
            rows: rows.iter().map(|row| row.iter().map(|cell| cell.to_string()).collect()).collect(),
            n_cut: 0,
        }
    }

    #[test]
    fn search_is_case_insensitive_substring_over_all_cells() {
        let data = table(&[&["Alpha", "1"], &["beta", "22"], &["GAMMA", "3"]]);
        assert_eq!(visible_rows(&data, &BTreeSet::new(), "ALP"), [0]);
        assert_eq!(visible_rows(&data, &BTreeSet::new(), "2"), [1]);
        assert_eq!(visible_rows(&data, &BTreeSet::new(), "a"), [0, 1, 2]);
        assert_eq!(visible_rows(&data, &BTreeSet::new(), "  "), [0, 1, 2]);
        assert_eq!(visible_rows(&data, &BTreeSet::new(), "zeta"), Vec::<usize>::new());
    }

    #[test]
    fn search_skips_deleted_rows() {
        let data = table(&[&["a"], &["ab"], &["abc"]]);
        assert_eq!(visible_rows(&data, &BTreeSet::from([1]), "a"), [0, 2]);
    }

    #[test]
    fn paginate_splits_and_clamps() {
        assert_eq!(paginate(23, 10, 0), PageWindow { page_idx: 0, n_pages: 3, start: 0, end: 10 });
        assert_eq!(paginate(23, 10, 2), PageWindow { page_idx: 2, n_pages: 3, start: 20, end: 23 });
        // A search shrank the list while the participant was on page 3.
        assert_eq!(paginate(5, 10, 2), PageWindow { page_idx: 0, n_pages: 1, start: 0, end: 5 });
        assert_eq!(paginate(0, 10, 0), PageWindow { page_idx: 0, n_pages: 1, start: 0, end: 0 });
        assert_eq!(paginate(20, 10, 1), PageWindow { page_idx: 1, n_pages: 2, start: 10, end: 20 });
        assert_eq!(paginate(3, 0, 0).n_pages, 3, "page size 0 is treated as 1");
    }

    #[test]
    fn deletion_log_deletes_and_undoes_in_batches() {
        let mut log = DeletionLog::default();
        assert!(!log.can_undo());
        assert_eq!(log.delete([3, 1]), 2);
        assert_eq!(log.delete([1, 5]), 1, "row 1 was already deleted");
        assert_eq!(log.delete([]), 0);
        assert_eq!(log.deleted(), &BTreeSet::from([1, 3, 5]));
        assert_eq!(log.undo(), 1);
        assert_eq!(log.deleted(), &BTreeSet::from([1, 3]));
        assert_eq!(log.undo(), 2);
        assert_eq!(log.n_deleted(), 0);
        assert!(!log.can_undo());
        assert_eq!(log.undo(), 0);
    }

    #[test]
    fn deletion_log_survives_a_draft_with_its_undo_history() {
        let mut log = DeletionLog::default();
        log.delete([4]);
        log.delete([1, 2]);
        let mut restored = DeletionLog::from_batches(log.batches());
        assert_eq!(restored, log);
        assert_eq!(restored.n_deleted(), 3);
        assert_eq!(restored.undo(), 2, "undo takes back the last action after a reopen");
        assert_eq!(restored.deleted(), &BTreeSet::from([4]));
    }

    #[test]
    fn question_answers_roundtrip_through_drafts() {
        for answer in [
            QuestionAnswer::Open("Because".into()),
            QuestionAnswer::Choice(Some(1)),
            QuestionAnswer::Choice(None),
            QuestionAnswer::Checkbox(BTreeSet::from([0, 2])),
        ] {
            assert_eq!(QuestionAnswer::from_draft(&answer.to_draft()), answer);
        }
    }

    #[test]
    fn deletions_by_table_feeds_the_engine_answer() {
        let mut watched = DeletionLog::default();
        watched.delete([1]);
        let untouched = DeletionLog::default();
        let deletions = deletions_by_table([("watch", &watched), ("search", &untouched)]);
        assert_eq!(deletions, Deletions::from([("watch".to_owned(), BTreeSet::from([1]))]));

        let form: port_protocol::ConsentFormViz = serde_json::from_value(json!({
            "tables": [{
                "__type__": "PropsUIPromptConsentFormTableViz", "id": "watch", "title": "Watched",
                "data_frame": {"title": {"0": "A", "1": "B"}}
            }]
        }))
        .unwrap();
        let payload = port_engine::consent::consent_viz_answer(&form, &deletions).unwrap();
        assert_eq!(payload, Payload::Json(r#"[{"watch":[{"title":"A"}],"deleted row count":"1"}]"#.into()));
    }

    fn questionnaire() -> Questionnaire {
        serde_json::from_value(json!({
            "description": "Q",
            "questions": [
                {"__type__": "PropsUIQuestionOpen", "id": 1, "question": "Why?"},
                {"__type__": "PropsUIQuestionMultipleChoice", "id": 2, "question": "Pick",
                 "choices": [{"translations": {"en": "Yes", "nl": "Ja"}}, {"translations": {"en": "No", "nl": "Nee"}}]},
                {"__type__": "PropsUIQuestionMultipleChoiceCheckbox", "id": 3, "question": "Tick",
                 "choices": ["red", "green", "blue"]},
                {"__type__": "PropsUIQuestionSlider", "id": 4, "question": "?"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn questionnaire_answer_has_d3i_shape() {
        let questionnaire = questionnaire();
        let answers = [
            Some(QuestionAnswer::Open("Because".into())),
            Some(QuestionAnswer::Choice(Some(1))),
            Some(QuestionAnswer::Checkbox(BTreeSet::from([2, 0]))),
            None,
        ];
        assert_eq!(
            questionnaire_answer(&questionnaire, &answers, "nl"),
            Payload::Json(r#"{"1":"Because","2":"Nee","3":["red","blue"]}"#.into())
        );
    }

    #[test]
    fn questionnaire_answer_leaves_out_untouched_questions() {
        let questionnaire = questionnaire();
        let answers: Vec<Option<QuestionAnswer>> =
            questionnaire.questions.iter().map(QuestionAnswer::empty_for).collect();
        assert_eq!(answers[3], None, "an unknown question type has no answer");
        assert_eq!(questionnaire_answer(&questionnaire, &answers, "en"), Payload::Json("{}".into()));
    }

    #[test]
    fn file_payloads_locate_files_by_index() {
        assert_eq!(
            serde_json::to_value(file_payload("ddp.zip", 12)).unwrap(),
            json!({"__type__": "PayloadFile", "value": {"name": "ddp.zip", "size": 12, "locator": "0"}})
        );
        assert_eq!(
            serde_json::to_value(file_array_payload([("a.zip", 1), ("b.json", 2)])).unwrap(),
            json!({"__type__": "PayloadFileArray", "value": [
                {"name": "a.zip", "size": 1, "locator": "0"},
                {"name": "b.json", "size": 2, "locator": "1"}
            ]})
        );
    }

    #[test]
    fn initial_locale_follows_browser_language() {
        assert_eq!(initial_locale(Some("nl-NL")), "nl");
        assert_eq!(initial_locale(Some("NL")), "nl");
        assert_eq!(initial_locale(Some("nl_BE")), "nl");
        assert_eq!(initial_locale(Some("en-US")), "en");
        assert_eq!(initial_locale(Some("de")), "en");
        assert_eq!(initial_locale(None), "en");
        assert_eq!(ui_locale("nl"), "nl");
    }

    #[test]
    fn catalog_parses_messages_json() {
        let catalog = parse_catalog(r#"{"appTitle": {"message": "Port", "description": "d"}, "bad": {}}"#);
        assert_eq!(catalog.get("apptitle").map(String::as_str), Some("Port"));
        assert_eq!(catalog.len(), 1);
        assert!(parse_catalog("not json").is_empty());
    }

    #[test]
    fn every_ui_locale_has_a_compiled_catalog_with_the_same_ui_keys() {
        let ui_keys = |source: &str| {
            let mut keys: Vec<String> =
                parse_catalog(source).into_keys().filter(|key| key.starts_with("ui_")).collect();
            keys.sort();
            keys
        };
        assert_eq!(UI_CATALOGS.map(|(locale, _)| locale), UI_LOCALES);
        let english = ui_keys(UI_CATALOGS[0].1);
        assert!(english.len() > 50, "the English catalog has {} UI strings", english.len());
        for (locale, source) in UI_CATALOGS {
            assert_eq!(ui_keys(source), english, "{locale} has other UI strings than en");
        }
    }

    #[test]
    fn substitute_fills_positional_placeholders() {
        assert_eq!(substitute("Step $1 of $2: $3", &["2", "4", "pyodide"]), "Step 2 of 4: pyodide");
        assert_eq!(substitute("$$5 and $9 and $x", &["a"]), "$5 and  and $x");
    }

    #[test]
    fn progress_percentage_is_clamped() {
        let number = |value: Value| value.as_number().cloned();
        assert_eq!(progress_percentage(number(json!(42)).as_ref()), Some(42.0));
        assert_eq!(progress_percentage(number(json!(150.5)).as_ref()), Some(100.0));
        assert_eq!(progress_percentage(number(json!(-3)).as_ref()), Some(0.0));
        assert_eq!(progress_percentage(None), None);
    }
}
