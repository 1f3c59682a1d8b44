"""The checked-in golden wire fixtures match what `tools/write_golden.py` produces today."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import PYTHON_ROOT, REPO_ROOT

GOLDEN_DIR = REPO_ROOT / "crates/protocol/tests/golden"

EXPECTED_FILES = {
    "command_ui_render.json",
    "command_system_donate.json",
    "command_system_log.json",
    "command_system_exit.json",
    "props_ui_page_data_submission.json",
    "props_ui_page_donation.json",
    "props_ui_page_end.json",
    "props_ui_page_error.json",
    "props_ui_prompt_file_input.json",
    "props_ui_prompt_file_input_multiple.json",
    "props_ui_prompt_confirm.json",
    "props_ui_prompt_retry.json",
    "props_ui_prompt_radio_input.json",
    "props_ui_prompt_progress.json",
    "props_ui_prompt_text.json",
    "props_ui_prompt_consent_form.json",
    "props_ui_prompt_consent_form_table.json",
    "props_ui_data_submission_buttons.json",
    "props_ui_prompt_consent_form_viz.json",
    "props_ui_prompt_consent_form_table_viz.json",
    "props_ui_prompt_questionnaire.json",
    "props_ui_question_open.json",
    "props_ui_question_multiple_choice.json",
    "props_ui_question_multiple_choice_checkbox.json",
}


def test_write_golden_is_deterministic_and_complete(tmp_path):
    for out in (tmp_path / "a", tmp_path / "b"):
        subprocess.run([sys.executable, str(PYTHON_ROOT / "tools/write_golden.py"), str(out)], check=True, capture_output=True)
    names = {p.name for p in (tmp_path / "a").iterdir()}
    assert names == EXPECTED_FILES
    for name in names:
        text = (tmp_path / "a" / name).read_text()
        assert text == (tmp_path / "b" / name).read_text()
        assert text.endswith("}\n")
        command = json.loads(text)
        assert command["__type__"].startswith("Command")
        if command["__type__"] == "CommandUIRender":
            assert command["page"]["__type__"] in {"PropsUIPageDataSubmission", "PropsUIPageDonation", "PropsUIPageEnd"}


def test_checked_in_golden_files_are_up_to_date(tmp_path):
    subprocess.run([sys.executable, str(PYTHON_ROOT / "tools/write_golden.py"), str(tmp_path)], check=True, capture_output=True)
    for path in tmp_path.iterdir():
        checked_in = GOLDEN_DIR / path.name
        assert checked_in.exists(), f"missing {checked_in}; run python3 python/tools/write_golden.py {GOLDEN_DIR}"
        assert checked_in.read_text() == path.read_text(), f"{path.name} is stale; regenerate the golden files"


def test_snake_case_names():
    sys.path.insert(0, str(PYTHON_ROOT / "tools"))
    from write_golden import snake_case

    assert snake_case("CommandUIRender") == "command_ui_render"
    assert snake_case("PropsUIPromptConsentFormViz") == "props_ui_prompt_consent_form_viz"
    assert snake_case("PropsUIQuestionMultipleChoiceCheckbox") == "props_ui_question_multiple_choice_checkbox"
