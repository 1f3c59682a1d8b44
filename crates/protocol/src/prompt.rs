//! Body items of a page: prompts the participant answers and texts they read (fact sheet §2.3).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::decode::{null_as_default, tagged_union};
use crate::translatable::Text;

tagged_union! {
    /// One item of a page's body. Unknown `__type__`s are kept as [`Prompt::Unsupported`], so that
    /// the UI can say which item it cannot show instead of failing the whole page.
    pub enum Prompt {
        /// Choose one file → `PayloadFile`. Unlike feldspar, our UI also offers a skip (`PayloadFalse`).
        FileInput(FileInput) = "PropsUIPromptFileInput",
        /// D3I: choose several files → `PayloadFileArray`.
        FileInputMultiple(FileInput) = "PropsUIPromptFileInputMultiple",
        /// OK → `PayloadTrue`, cancel → `PayloadFalse`. D3I renders only OK; we render both.
        Confirm(Confirm) = "PropsUIPromptConfirm",
        /// D3I: OK → `PayloadTrue`.
        Retry(Retry) = "PropsUIPromptRetry",
        /// Select + continue → `PayloadString` with the item's `value` text.
        RadioInput(RadioInput) = "PropsUIPromptRadioInput",
        /// Resolves `PayloadTrue` as soon as it is shown.
        Progress(Progress) = "PropsUIPromptProgress",
        /// Display only.
        Text(TextPrompt) = "PropsUIPromptText",
        /// Upstream read-only consent table, answered by [`Prompt::DataSubmissionButtons`] on the same page.
        ConsentFormTable(ConsentFormTable) = "PropsUIPromptConsentFormTable",
        /// Upstream donate buttons: donate → `PayloadJSON` of the page's tables, no → `PayloadFalse`.
        DataSubmissionButtons(DataSubmissionButtons) = "PropsUIDataSubmissionButtons",
        /// Upstream consent form with its tables. Feldspar has no renderer for it; we render it like
        /// tables plus donate buttons.
        ConsentForm(ConsentForm) = "PropsUIPromptConsentForm",
        /// D3I consent form: donate → `PayloadJSON` (see `consent_viz_json`), no → `PayloadFalse`.
        ConsentFormViz(ConsentFormViz) = "PropsUIPromptConsentFormViz",
        /// D3I: continue → `PayloadJSON` of `{question id: answer}`.
        Questionnaire(Questionnaire) = "PropsUIPromptQuestionnaire",
        /// D3I: an error message shown as a body item, despite the name.
        PageError(PageError) = "PropsUIPageError",
        /// Upstream demo prompt: display only.
        HelloWorld(HelloWorld) = "PropsUIPromptHelloWorld",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileInput {
    pub description: Text,
    /// The file input's `accept` string, e.g. `"application/zip"`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub extensions: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirm {
    pub text: Text,
    pub ok: Text,
    pub cancel: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Retry {
    pub text: Text,
    pub ok: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RadioInput {
    pub title: Text,
    pub description: Text,
    pub items: Vec<RadioItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RadioItem {
    pub id: i64,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub description: Text,
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
    /// An int in feldspar; kept as the number the script sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<serde_json::Number>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextPrompt {
    pub text: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentFormTable {
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub number: i64,
    pub title: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// pandas `to_json()` in "columns" orient, as a JSON string: `{"col": {"0": v, …}}`.
    pub data_frame: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<IndexMap<String, Text>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSubmissionButtons {
    #[serde(rename = "donateQuestion", default, skip_serializing_if = "Option::is_none")]
    pub donate_question: Option<Text>,
    #[serde(rename = "donateButton", default, skip_serializing_if = "Option::is_none")]
    pub donate_button: Option<Text>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub waiting: bool,
}

tagged_union! {
    /// A table of an upstream [`ConsentForm`].
    pub enum ConsentTable {
        Table(ConsentFormTable) = "PropsUIPromptConsentFormTable",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentForm {
    pub tables: Vec<ConsentTable>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    #[serde(rename = "donateQuestion", default, skip_serializing_if = "Option::is_none")]
    pub donate_question: Option<Text>,
    #[serde(rename = "donateButton", default, skip_serializing_if = "Option::is_none")]
    pub donate_button: Option<Text>,
}

tagged_union! {
    /// A table of a D3I [`ConsentFormViz`].
    pub enum ConsentVizTable {
        Table(ConsentFormTableViz) = "PropsUIPromptConsentFormTableViz",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentFormViz {
    pub tables: Vec<ConsentVizTable>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    #[serde(rename = "donateQuestion", default, skip_serializing_if = "Option::is_none")]
    pub donate_question: Option<Text>,
    #[serde(rename = "donateButton", default, skip_serializing_if = "Option::is_none")]
    pub donate_button: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentFormTableViz {
    pub id: String,
    pub title: Text,
    pub data_frame: DataFrameField,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// Visualisation specs (a zod schema in D3I). Passed to the UI as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visualizations: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<IndexMap<String, Text>>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub folded: bool,
    #[serde(default = "default_true", deserialize_with = "null_as_true")]
    pub delete_option: bool,
}

fn default_true() -> bool {
    true
}

fn null_as_true<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(true))
}

/// A table's data: a JSON string when the script passed a DataFrame, the object itself when it
/// passed a dict. Both hold the same columnar shape `{"col": {"0": v, …}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DataFrameField {
    Json(String),
    Object(Value),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Questionnaire {
    pub description: Text,
    pub questions: Vec<Question>,
}

tagged_union! {
    /// One question of a [`Questionnaire`].
    pub enum Question {
        /// Answer: a string.
        Open(OpenQuestion) = "PropsUIQuestionOpen",
        /// Answer: the chosen choice's translated label.
        MultipleChoice(ChoiceQuestion) = "PropsUIQuestionMultipleChoice",
        /// Answer: a list of the chosen translated labels.
        MultipleChoiceCheckbox(ChoiceQuestion) = "PropsUIQuestionMultipleChoiceCheckbox",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenQuestion {
    pub id: i64,
    pub question: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceQuestion {
    pub id: i64,
    pub question: Text,
    pub choices: Vec<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageError {
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelloWorld {
    pub text: Text,
}
