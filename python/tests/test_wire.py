"""Exact wire shapes of every command and prop `toDict()`."""

from __future__ import annotations

import json

import pytest

from port.api import commands as c
from port.api import d3i_props
from port.api import props as p
from port.api.table import Table

EN_NL = {"en": "Hello", "nl": "Hallo"}
T = {"translations": EN_NL}


def tr(en="Hello", nl="Hallo"):
    return p.Translatable({"en": en, "nl": nl})


def test_command_ui_render_wraps_page_dict():
    page = p.PropsUIPageDataSubmission("P", p.PropsUIHeader(tr()), p.PropsUIPromptText(tr()))
    assert c.CommandUIRender(page).toDict() == {
        "__type__": "CommandUIRender",
        "page": {
            "__type__": "PropsUIPageDataSubmission",
            "platform": "P",
            "header": {"__type__": "PropsUIHeader", "title": T},
            "body": [{"__type__": "PropsUIPromptText", "text": T, "title": None}],
        },
    }


def test_command_system_donate():
    assert c.CommandSystemDonate("k", "{}").toDict() == {"__type__": "CommandSystemDonate", "key": "k", "json_string": "{}"}
    with pytest.raises(TypeError):
        c.CommandSystemDonate("k", {"not": "a string"})


def test_command_system_log_has_json_string_and_validates_level():
    wire = c.CommandSystemLog("warn", "hi").toDict()
    assert wire == {
        "__type__": "CommandSystemLog",
        "level": "warn",
        "message": "hi",
        "json_string": json.dumps({"level": "warn", "message": "hi"}),
    }
    assert list(wire) == ["__type__", "level", "message", "json_string"]
    for level in ("debug", "info", "warn", "error"):
        c.CommandSystemLog(level, "m")
    with pytest.raises(ValueError):
        c.CommandSystemLog("warning", "m")


def test_command_system_exit():
    assert c.CommandSystemExit(0, "End of script").toDict() == {"__type__": "CommandSystemExit", "code": 0, "info": "End of script"}


def test_translatable_accepts_mappings_and_rejects_empty():
    assert p.Translatable({"en": "a"}).toDict() == {"translations": {"en": "a"}}
    assert p.Translatable({"translations": EN_NL}).toDict() == T
    with pytest.raises(ValueError):
        p.Translatable({})
    with pytest.raises(TypeError):
        p.Translatable("plain")


def test_page_body_single_item_is_wrapped_and_none_is_null():
    page = p.PropsUIPageDataSubmission("P", p.PropsUIHeader(tr()), p.PropsUIPageError("boom"))
    assert page.toDict()["body"] == [{"__type__": "PropsUIPageError", "message": "boom"}]


def test_legacy_donation_page_keeps_its_name():
    wire = p.PropsUIPageDonation("P", p.PropsUIHeader(tr()), []).toDict()
    assert wire == {"__type__": "PropsUIPageDonation", "platform": "P", "header": {"__type__": "PropsUIHeader", "title": T}, "body": []}


@pytest.mark.parametrize(
    "prop, expected",
    [
        (p.PropsUIFooter(50.0), {"__type__": "PropsUIFooter", "progressPercentage": 50.0}),
        (p.PropsUIPageEnd(), {"__type__": "PropsUIPageEnd"}),
        (p.PropsUIPromptFileInput(tr(), "application/zip"), {"__type__": "PropsUIPromptFileInput", "description": T, "extensions": "application/zip"}),
        (p.PropsUIPromptFileInputMultiple(tr(), ".zip"), {"__type__": "PropsUIPromptFileInputMultiple", "description": T, "extensions": ".zip"}),
        (p.PropsUIPromptConfirm(tr(), tr(), tr()), {"__type__": "PropsUIPromptConfirm", "text": T, "ok": T, "cancel": T}),
        (p.PropsUIPromptRetry(tr(), tr()), {"__type__": "PropsUIPromptRetry", "text": T, "ok": T}),
        (
            p.PropsUIPromptRadioInput(tr(), tr(), [{"id": 0, "value": "a"}, {"id": 1, "value": "b"}]),
            {"__type__": "PropsUIPromptRadioInput", "title": T, "description": T, "items": [{"id": 0, "value": "a"}, {"id": 1, "value": "b"}]},
        ),
        (p.PropsUIPromptProgress(tr(), "msg"), {"__type__": "PropsUIPromptProgress", "description": T, "message": "msg", "percentage": None}),
        (p.PropsUIPromptProgress(tr(), "msg", 40), {"__type__": "PropsUIPromptProgress", "description": T, "message": "msg", "percentage": 40}),
        (p.PropsUIPromptText(tr(), tr()), {"__type__": "PropsUIPromptText", "text": T, "title": T}),
        (p.PropsUIDataSubmissionButtons(tr(), tr(), True), {"__type__": "PropsUIDataSubmissionButtons", "donateQuestion": T, "donateButton": T, "waiting": True}),
        (p.PropsUIDataSubmissionButtons(), {"__type__": "PropsUIDataSubmissionButtons", "donateQuestion": None, "donateButton": None, "waiting": False}),
        (p.PropsUIPageError("m"), {"__type__": "PropsUIPageError", "message": "m"}),
        (p.PropsUIQuestionOpen(1, tr()), {"__type__": "PropsUIQuestionOpen", "id": 1, "question": T}),
        (p.PropsUIQuestionMultipleChoice(2, tr(), [tr()]), {"__type__": "PropsUIQuestionMultipleChoice", "id": 2, "question": T, "choices": [T]}),
        (
            p.PropsUIQuestionMultipleChoiceCheckbox(3, tr(), [tr(), tr()]),
            {"__type__": "PropsUIQuestionMultipleChoiceCheckbox", "id": 3, "question": T, "choices": [T, T]},
        ),
        (
            p.PropsUIPromptQuestionnaire(tr(), [p.PropsUIQuestionOpen(1, tr())]),
            {"__type__": "PropsUIPromptQuestionnaire", "description": T, "questions": [{"__type__": "PropsUIQuestionOpen", "id": 1, "question": T}]},
        ),
    ],
)
def test_prop_wire_shapes(prop, expected):
    assert prop.toDict() == expected
    assert list(prop.toDict())[0] == "__type__"


def test_text_fields_accept_plain_locale_dicts():
    assert p.PropsUIPromptText(EN_NL).toDict()["text"] == T


def test_consent_form_table_emits_columnar_json_string_and_truncates():
    rows = [{"a": i, "b": f"x{i}"} for i in range(5)]
    wire = p.PropsUIPromptConsentFormTable("t", 1, tr(), tr(), rows, None, 3).toDict()
    assert set(wire) == {"__type__", "id", "number", "title", "description", "data_frame", "headers"}
    assert isinstance(wire["data_frame"], str)
    assert json.loads(wire["data_frame"]) == {"a": {"0": 0, "1": 1, "2": 2}, "b": {"0": "x0", "1": "x1", "2": "x2"}}


def test_consent_form_table_max_size_is_at_least_one_and_defaults_to_10000():
    rows = [{"a": i} for i in range(3)]
    assert json.loads(p.PropsUIPromptConsentFormTable("t", 1, tr(), tr(), rows, data_frame_max_size=0).toDict()["data_frame"]) == {"a": {"0": 0}}
    big = Table({"a": list(range(10005))})
    prompt = p.PropsUIPromptConsentFormTable("t", 1, tr(), tr(), big)
    assert len(json.loads(prompt.toDict()["data_frame"])["a"]) == 10000


def test_consent_form_and_viz_wire():
    table = p.PropsUIPromptConsentFormTable("t", 1, tr(), tr(), [{"a": 1}])
    assert p.PropsUIPromptConsentForm([table], tr(), tr(), tr()).toDict() == {
        "__type__": "PropsUIPromptConsentForm",
        "tables": [table.toDict()],
        "description": T,
        "donateQuestion": T,
        "donateButton": T,
    }
    viz_table = p.PropsUIPromptConsentFormTableViz("v", tr(), [{"a": 1, "b": None}])
    assert p.PropsUIPromptConsentFormViz([viz_table], tr(), tr(), tr()).toDict() == {
        "__type__": "PropsUIPromptConsentFormViz",
        "tables": [
            {
                "__type__": "PropsUIPromptConsentFormTableViz",
                "id": "v",
                "title": T,
                "data_frame": '{"a":{"0":1},"b":{"0":null}}',
                "description": None,
                "visualizations": None,
                "headers": None,
                "folded": False,
                "delete_option": True,
            }
        ],
        "description": T,
        "donateQuestion": T,
        "donateButton": T,
    }


def test_table_viz_passes_plain_dict_through_as_object_and_keeps_positional_order():
    columnar = {"a": {"0": 1, "1": 2}}
    viz = p.PropsUIPromptConsentFormTableViz("v", tr(), columnar, tr(), [{"type": "bar"}], {"a": tr()}, True, False)
    wire = viz.toDict()
    assert wire["data_frame"] == columnar
    assert wire["visualizations"] == [{"type": "bar"}]
    assert wire["headers"] == {"a": T}
    assert (wire["folded"], wire["delete_option"]) == (True, False)
    assert len(viz) == 2  # Rows, not columns.
    listy = p.PropsUIPromptConsentFormTableViz("v", tr(), {"a": [1, 2, 3]}).toDict()
    assert listy["data_frame"] == {"a": {"0": 1, "1": 2, "2": 3}}
    assert isinstance(p.PropsUIPromptConsentFormTableViz("v", tr(), Table({"a": [1]})).toDict()["data_frame"], str)


def test_d3i_props_reexports_the_same_classes():
    assert d3i_props.PropsUIPromptConsentFormViz is p.PropsUIPromptConsentFormViz
    assert d3i_props.PropsUIPromptQuestionnaire is p.PropsUIPromptQuestionnaire
    assert d3i_props.PropsUIPromptRetry is p.PropsUIPromptRetry
