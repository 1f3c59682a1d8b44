"""The embedded demo study, driven end to end through ScriptWrapper by fake participants."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

from conftest import REPO_ROOT, FakeReader, Payload, Value, payload_false, payload_true, payload_void
from port.main import ScriptWrapper, register_script, start
from studies.demo import script as demo


def body_types(command):
    return [item["__type__"] for item in command["page"]["body"]]


def run(answer, session_id=1700000000000):
    wrapper = ScriptWrapper(demo.process(session_id, None))
    command = wrapper.send(None)
    transcript = []
    for _ in range(200):
        transcript.append(command)
        if command["__type__"] == "CommandSystemExit":
            return transcript
        command = wrapper.send(answer(command))
    raise AssertionError("demo did not end")


def agreeing_participant(zip_bytes, radio_choice="Everything"):
    def answer(command):
        if command["__type__"] == "CommandSystemDonate":
            return Payload("PayloadResponse", Value(success=True, key=command["key"], status=200))
        if command["__type__"] != "CommandUIRender":
            return payload_void()
        types = body_types(command)
        if "PropsUIPromptFileInput" in types:
            return Payload("PayloadFile", FakeReader(zip_bytes, name="demo.zip"))
        if "PropsUIPromptRadioInput" in types:
            return Payload("PayloadString", radio_choice)
        if "PropsUIPromptConsentFormViz" in types:
            # What the consent form sends: one object per table, in order.
            tables = command["page"]["body"][0]["tables"]
            return Payload("PayloadJSON", json.dumps([{t["id"]: [], "deleted row count": "0"} for t in tables]))
        if "PropsUIPromptQuestionnaire" in types:
            return Payload("PayloadJSON", json.dumps({"1": "Very surprising", "2": ["Searches"], "3": "fine"}))
        return payload_true()

    return answer


def test_demo_generator_is_deterministic(tmp_path):
    outputs = []
    for name in ("a.zip", "b.zip"):
        out = tmp_path / name
        subprocess.run(
            [sys.executable, str(REPO_ROOT / "studies/demo/generate_ddp.py"), str(out), "--rows", "30", "--seed", "3"],
            check=True,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert {"demo_platform/watch_history.json", "demo_platform/searches.csv", "demo_platform/profile.json"} <= set(archive.namelist())
        assert len(json.loads(archive.read("demo_platform/watch_history.json"))["watch_history"]) == 30


def test_agreeing_participant_donates_and_exits_zero(demo_zip_bytes):
    transcript = run(agreeing_participant(demo_zip_bytes))
    donations = [c for c in transcript if c["__type__"] == "CommandSystemDonate"]
    assert [d["key"] for d in donations] == ["1700000000000-demo", "1700000000000-demo-questionnaire"]
    assert transcript[-1] == {"__type__": "CommandSystemExit", "code": 0, "info": "End of script"}

    renders = [c for c in transcript if c["__type__"] == "CommandUIRender"]
    seen = {t for c in renders for t in body_types(c)}
    assert {
        "PropsUIPromptFileInput",
        "PropsUIPromptRadioInput",
        "PropsUIPromptConsentFormViz",
        "PropsUIPromptQuestionnaire",
        "PropsUIPromptProgress",
        "PropsUIPromptText",
        "PropsUIPromptConfirm",
    } <= seen
    viz = next(c for c in renders if "PropsUIPromptConsentFormViz" in body_types(c))["page"]["body"][0]
    assert [t["id"] for t in viz["tables"]] == ["demo_watch_history", "demo_searches", "demo_profile"]
    watch = json.loads(viz["tables"][0]["data_frame"])
    assert len(watch["Title"]) == 20 and list(watch["Title"])[:2] == ["0", "1"]
    questionnaire = next(c for c in renders if "PropsUIPromptQuestionnaire" in body_types(c))["page"]["body"][0]
    assert {q["__type__"] for q in questionnaire["questions"]} == {
        "PropsUIQuestionOpen",
        "PropsUIQuestionMultipleChoice",
        "PropsUIQuestionMultipleChoiceCheckbox",
    }
    # No error page anywhere in the run.
    assert all(c["page"]["header"]["title"]["translations"]["en"] != "Something went wrong" for c in renders)


def test_radio_choice_limits_tables(demo_zip_bytes):
    transcript = run(agreeing_participant(demo_zip_bytes, radio_choice="Only my searches"))
    viz = next(c for c in transcript if c["__type__"] == "CommandUIRender" and "PropsUIPromptConsentFormViz" in body_types(c))
    assert [t["id"] for t in viz["page"]["body"][0]["tables"]] == ["demo_searches"]


def test_declining_participant_is_handled_gracefully(demo_zip_bytes):
    def answer(command):
        if command["__type__"] == "CommandUIRender" and "PropsUIPromptConsentFormViz" in body_types(command):
            return payload_false()
        if command["__type__"] == "CommandUIRender" and "PropsUIPromptRadioInput" in body_types(command):
            return payload_false()  # No radio answer: review everything.
        return agreeing_participant(demo_zip_bytes)(command)

    transcript = run(answer)
    donations = [c for c in transcript if c["__type__"] == "CommandSystemDonate"]
    assert [json.loads(d["json_string"]) for d in donations] == [{"status": "data_submission declined"}]
    assert not any(c["__type__"] == "CommandUIRender" and "PropsUIPromptQuestionnaire" in body_types(c) for c in transcript)
    assert transcript[-1]["code"] == 0


def test_no_file_ends_politely(demo_zip_bytes):
    def answer(command):
        if command["__type__"] == "CommandUIRender" and "PropsUIPromptFileInput" in body_types(command):
            return payload_false()
        return agreeing_participant(demo_zip_bytes)(command)

    transcript = run(answer)
    assert not any(c["__type__"] == "CommandSystemDonate" for c in transcript)
    last_page = [c for c in transcript if c["__type__"] == "CommandUIRender"][-1]
    assert last_page["page"]["header"]["title"]["translations"]["en"] == "No problem"
    assert transcript[-1]["code"] == 0


def test_invalid_file_retries_then_accepts_valid_one(demo_zip_bytes):
    files = [b"definitely not a zip", demo_zip_bytes]

    def answer(command):
        if command["__type__"] == "CommandUIRender" and "PropsUIPromptFileInput" in body_types(command):
            return Payload("PayloadFile", FakeReader(files.pop(0)))
        return agreeing_participant(demo_zip_bytes)(command)

    transcript = run(answer)
    assert any(c["__type__"] == "CommandSystemLog" and c["message"] == "[Demo platform] Validation: invalid" for c in transcript)
    assert any(c["__type__"] == "CommandSystemDonate" and c["key"] == "1700000000000-demo" for c in transcript)
    assert transcript[-1]["code"] == 0


def test_demo_registers_through_port_main(demo_zip_bytes):
    import port.main as main_module

    register_script(demo)
    try:
        first = start(5, "Demo platform").send(None)
        assert first == {
            "__type__": "CommandSystemLog",
            "level": "info",
            "message": "Demo study started",
            "json_string": '{"level": "info", "message": "Demo study started"}',
        }
    finally:
        main_module._registered_process = None
