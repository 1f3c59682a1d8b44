//! Round trips of the JSON our Python runtime emits, one golden file per wire type.
//!
//! The files in `tests/golden/` are written by `python3 python/tools/write_golden.py
//! crates/protocol/tests/golden`, never by hand; the Python suite checks that they are current.

use std::path::Path;

use port_protocol::{Command, Page, Prompt, Question, strip_nulls};
use serde_json::Value;

fn golden_files() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            (name, value)
        })
        .collect()
}

/// Every typed value inside a command, so that a golden file whose item silently became
/// `Unsupported` fails.
fn unsupported_types(command: &Command) -> Vec<String> {
    let mut found = Vec::new();
    let page = match command {
        Command::Unsupported(raw) => return vec![format!("command {raw}")],
        Command::UiRender(render) => &render.page,
        _ => return found,
    };
    let Some(body) = page.body() else {
        if let Page::Unsupported(_) = page {
            found.push(page.wire_type().to_owned());
        }
        return found;
    };
    for prompt in &body.body {
        match prompt {
            Prompt::Unsupported(_) => found.push(prompt.wire_type().to_owned()),
            Prompt::Questionnaire(questionnaire) => found.extend(
                questionnaire
                    .questions
                    .iter()
                    .filter(|question| matches!(question, Question::Unsupported(_)))
                    .map(|question| question.wire_type().to_owned()),
            ),
            Prompt::ConsentFormViz(form) => {
                found.extend(form.tables.iter().filter(|table| table.wire_type() == "?").map(|_| "table".to_owned()))
            }
            _ => {}
        }
    }
    found
}

#[test]
fn golden_files_cover_every_wire_type() {
    let names: Vec<String> = golden_files().into_iter().map(|(name, _)| name).collect();
    let expected = [
        "command_ui_render",
        "command_system_donate",
        "command_system_log",
        "command_system_exit",
        "props_ui_page_data_submission",
        "props_ui_page_donation",
        "props_ui_page_end",
        "props_ui_page_error",
        "props_ui_prompt_file_input",
        "props_ui_prompt_file_input_multiple",
        "props_ui_prompt_confirm",
        "props_ui_prompt_retry",
        "props_ui_prompt_radio_input",
        "props_ui_prompt_progress",
        "props_ui_prompt_text",
        "props_ui_prompt_consent_form",
        "props_ui_prompt_consent_form_table",
        "props_ui_data_submission_buttons",
        "props_ui_prompt_consent_form_viz",
        "props_ui_prompt_consent_form_table_viz",
        "props_ui_prompt_questionnaire",
        "props_ui_question_open",
        "props_ui_question_multiple_choice",
        "props_ui_question_multiple_choice_checkbox",
    ];
    let missing: Vec<&str> = expected.iter().copied().filter(|name| !names.iter().any(|found| found == name)).collect();
    assert!(missing.is_empty(), "golden files missing: {missing:?}; run python/tools/write_golden.py");
}

#[test]
fn golden_files_roundtrip_exactly() {
    for (name, golden) in golden_files() {
        let command = Command::from_value(golden.clone()).unwrap_or_else(|error| panic!("{name}: {error}"));
        let unsupported = unsupported_types(&command);
        assert!(unsupported.is_empty(), "{name}: decoded as unsupported: {unsupported:?}");
        let mut expected = golden;
        let mut reencoded = serde_json::to_value(&command).unwrap();
        // Python's None arrives as null here and as undefined in the browser; both mean absent.
        strip_nulls(&mut expected);
        strip_nulls(&mut reencoded);
        assert_eq!(reencoded, expected, "{name}: re-encoded JSON differs from the golden file");
    }
}
