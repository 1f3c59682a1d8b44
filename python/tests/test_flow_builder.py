"""FlowBuilder paths, donate-result handling, validation and the zip reader."""

from __future__ import annotations

import io
import json
import zipfile
from collections import Counter

import pytest

from conftest import FakeReader, Payload, Value, payload_false, payload_true, payload_void
from port.api.props import PropsUIPromptConsentFormTableViz
from port.helpers import flow_builder as fb
from port.helpers.extraction_helpers import ZipArchiveReader, dict_denester, epoch_to_iso
from port.helpers.port_helpers import handle_donate_result
from port.helpers.uploads import TWO_GIB
from port.helpers.validate import DDPCategory, DDPFiletype, Language, ValidateInput, STATUS_CODES, validate_zip
from port.main import ScriptWrapper

CATEGORIES = [DDPCategory("cat_a", DDPFiletype.JSON, Language.EN, ["a.json", "b.csv"])]


def make_zip(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


GOOD_ZIP = make_zip({"x/a.json": json.dumps([{"k": 1}, {"k": 2}]), "x/b.csv": "h1,h2\n1,2\n"})
OTHER_ZIP = make_zip({"other.txt": "nothing"})


class Flow(fb.FlowBuilder):
    def __init__(self, tables_fn=None):
        super().__init__(42, "Test")
        self.tables_fn = tables_fn

    def validate_file(self, file):
        return validate_zip(CATEGORIES, file)

    def extract_data(self, file, validation):
        reader = ZipArchiveReader(file, validation.archive_members, Counter())
        if self.tables_fn:
            return self.tables_fn(reader)
        rows = reader.json("a.json").data
        return fb.ExtractionResult([PropsUIPromptConsentFormTableViz("a", {"en": "A"}, rows)], Counter({"X": 2}))


def drive(flow_or_gen, answers):
    """Run a flow through ScriptWrapper; `answers` maps a command kind to the reply (callable or value)."""

    def study():
        outcome = yield from flow_or_gen.start_flow()
        log.append(("outcome", outcome))

    log = []
    wrapper = ScriptWrapper(study())
    command = wrapper.send(None)
    for _ in range(100):
        log.append(command)
        if command["__type__"] == "CommandSystemExit":
            return log
        answer = answers(command)
        command = wrapper.send(answer)
    raise AssertionError("flow did not end")


def kind(command):
    if command["__type__"] == "CommandUIRender":
        return command["page"]["body"][0]["__type__"]
    return command["__type__"]


def messages(log):
    return [c["message"] for c in log if isinstance(c, dict) and c.get("__type__") == "CommandSystemLog"]


def outcome(log):
    return next(entry[1] for entry in log if isinstance(entry, tuple))


def participant(zip_bytes=GOOD_ZIP, consent=None, donate=None, retry=payload_false, file_answers=None):
    file_answers = list(file_answers) if file_answers else None

    def answer(command):
        k = kind(command)
        if k == "PropsUIPromptFileInput":
            if file_answers:
                return file_answers.pop(0)
            return Payload("PayloadFile", FakeReader(zip_bytes))
        if k == "PropsUIPromptConsentFormViz":
            return consent() if consent else Payload("PayloadJSON", '[{"a": []}]')
        if k == "CommandSystemDonate":
            return donate() if donate else Payload("PayloadResponse", Value(success=True, key="k", status=200))
        if k == "PropsUIPromptConfirm":
            return retry()
        return payload_void()

    return answer


def test_happy_path_donates_with_platform_key_and_contract_logs():
    log = drive(Flow(), participant())
    donate = next(c for c in log if isinstance(c, dict) and c["__type__"] == "CommandSystemDonate")
    assert donate["key"] == "42-test"
    assert donate["json_string"] == '[{"a": []}]'
    assert messages(log) == [
        "[Test] Upload prompt sent",
        f"[Test] Upload received: size={len(GOOD_ZIP)}",
        "[Test] Validation: valid (cat_a)",
        "[Test] Extraction complete: 1 tables, 2 rows; errors: X×2",
        "[Test] Consent form shown",
        "[Test] Consent: accepted",
        '[Test] Donation started: payload size=11 bytes',
        "[Test] Donation result: success",
    ]
    assert outcome(log) == fb.OUTCOME_DONATED
    assert log[-1]["code"] == 0
    headers = [c["page"]["header"]["title"]["translations"]["en"] for c in log if isinstance(c, dict) and c["__type__"] == "CommandUIRender"]
    assert headers == ["Select your Test file", "Your Test data"]


def test_invalid_file_shows_retry_and_retry_true_loops():
    files = [Payload("PayloadFile", FakeReader(OTHER_ZIP)), Payload("PayloadFile", FakeReader(GOOD_ZIP))]
    log = drive(Flow(), participant(file_answers=files, retry=payload_true))
    kinds = [kind(c) for c in log if isinstance(c, dict) and c["__type__"] == "CommandUIRender"]
    assert kinds == ["PropsUIPromptFileInput", "PropsUIPromptConfirm", "PropsUIPromptFileInput", "PropsUIPromptConsentFormViz"]
    assert "[Test] Validation: invalid" in messages(log)
    assert outcome(log) == fb.OUTCOME_DONATED


def test_invalid_file_and_continue_ends_flow():
    log = drive(Flow(), participant(zip_bytes=b"not a zip at all", retry=payload_false))
    assert outcome(log) == fb.OUTCOME_INVALID
    assert not any(isinstance(c, dict) and c["__type__"] == "CommandSystemDonate" for c in log)


def test_skipped_upload_logs_type():
    log = drive(Flow(), participant(file_answers=[payload_false()]))
    assert "[Test] Upload skipped: type=PayloadFalse" in messages(log)
    assert outcome(log) == fb.OUTCOME_SKIPPED


def test_an_upload_over_two_gib_is_validated_by_its_tail_not_refused(tmp_path):
    path = tmp_path / "large.zip"
    with open(path, "wb") as handle:
        handle.seek(TWO_GIB + 10)  # Sparse: a hole, then the zip.
        handle.write(GOOD_ZIP)
    reader = FakeReader(path=path)
    log = drive(Flow(), participant(file_answers=[Payload("PayloadFile", reader)]))
    assert "[Test] Validation: valid (cat_a)" in messages(log)
    assert outcome(log) == fb.OUTCOME_DONATED
    assert sum(end - start for start, end in reader.slices) < 100_000


def test_exactly_two_gib_asks_whether_to_go_on_with_the_part(tmp_path):
    path = tmp_path / "part1.zip"
    with open(path, "wb") as handle:
        handle.seek(TWO_GIB - len(GOOD_ZIP))
        handle.write(GOOD_ZIP)
    go_on = drive(Flow(), participant(file_answers=[Payload("PayloadFile", FakeReader(path=path))], retry=payload_true))
    assert "[Test] Validation problem: split_part" in messages(go_on)
    part_page = next(c for c in go_on if kind(c) == "PropsUIPromptConfirm")
    assert part_page["page"]["body"][0]["ok"]["translations"]["en"] == "Go on with this part"
    assert outcome(go_on) == fb.OUTCOME_DONATED

    another = drive(
        Flow(), participant(file_answers=[Payload("PayloadFile", FakeReader(path=path)), payload_false()])
    )
    assert outcome(another) == fb.OUTCOME_SKIPPED


def test_no_data_shows_no_data_page_and_skips_donation():
    log = drive(Flow(lambda reader: fb.ExtractionResult([])), participant())
    assert "[Test] Extraction complete: 0 tables, 0 rows; errors: none" in messages(log)
    pages = [c for c in log if isinstance(c, dict) and c["__type__"] == "CommandUIRender"]
    assert pages[-1]["page"]["platform"] == "Test"
    assert outcome(log) == fb.OUTCOME_NO_DATA
    assert not any(isinstance(c, dict) and c["__type__"] == "CommandSystemDonate" for c in log)


def test_declined_consent_donates_decline_record():
    log = drive(Flow(), participant(consent=payload_false))
    donate = next(c for c in log if isinstance(c, dict) and c["__type__"] == "CommandSystemDonate")
    assert json.loads(donate["json_string"]) == {"status": "data_submission declined"}
    assert "[Test] Consent: declined" in messages(log)
    assert outcome(log) == fb.OUTCOME_DECLINED


def test_declined_and_record_failed_is_silent():
    failed = lambda: Payload("PayloadResponse", Value(success=False, key="k", status=500))  # noqa: E731
    log = drive(Flow(), participant(consent=payload_false, donate=failed))
    assert "[Test] Donation result: decline record failed (silent)" in messages(log)
    pages = [c for c in log if isinstance(c, dict) and c["__type__"] == "CommandUIRender"]
    assert pages[-1]["page"]["header"]["title"]["translations"]["en"] == "Your Test data"
    assert outcome(log) == fb.OUTCOME_DECLINED


def test_donate_failure_shows_failure_page():
    failed = lambda: Payload("PayloadResponse", Value(success=False, key="k", status=0, error="network"))  # noqa: E731
    log = drive(Flow(), participant(donate=failed))
    assert "[Test] Donation result: failed" in messages(log)
    pages = [c for c in log if isinstance(c, dict) and c["__type__"] == "CommandUIRender"]
    assert pages[-1]["page"]["header"]["title"]["translations"]["en"] == "Sharing failed"
    assert outcome(log) == fb.OUTCOME_DONATE_FAILED


def test_generator_extract_data_is_driven_with_yield_from():
    from port.helpers import port_helpers as ph

    class RadioFlow(Flow):
        def extract_data(self, file, validation):
            choice = yield ph.render_page({"en": "pick"}, ph.generate_radio_prompt({"en": "t"}, {"en": "d"}, ["one", "two"]))
            return fb.ExtractionResult([PropsUIPromptConsentFormTableViz("a", {"en": "A"}, [{"choice": choice.value}])])

    def answer(command):
        if kind(command) == "PropsUIPromptRadioInput":
            return Payload("PayloadString", "two")
        return participant()(command)

    log = drive(RadioFlow(), answer)
    assert outcome(log) == fb.OUTCOME_DONATED


@pytest.mark.parametrize(
    "result, expected",
    [
        (None, True),
        (Payload("PayloadVoid"), True),
        (Payload("PayloadResponse", Value(success=True)), True),
        (Payload("PayloadResponse", Value(success=False)), False),
        (Payload("PayloadResponse", None), False),
        (Payload("PayloadResponse", Value()), False),
        (Payload("PayloadTrue", True), False),
        ("garbage", False),
    ],
)
def test_handle_donate_result(result, expected):
    assert handle_donate_result(result) is expected


def test_validate_guards_empty_known_files_and_prefers_first_on_ties():
    categories = [
        DDPCategory("empty", DDPFiletype.JSON, Language.EN, []),
        DDPCategory("first", DDPFiletype.JSON, Language.EN, ["a.json"]),
        DDPCategory("second", DDPFiletype.JSON, Language.EN, ["a.json"]),
    ]
    validation = ValidateInput(list(STATUS_CODES), categories)
    assert validation.infer_ddp_category(["a.json"])
    assert validation.current_ddp_category.id == "first"
    assert validation.get_status_code_id() == 0
    assert not validation.infer_ddp_category(["zzz"])
    assert validation.current_ddp_category.id == "unknown"
    assert validation.get_status_code_id() == 1
    assert ValidateInput([], []).get_status_code_id() == 1
    assert "archive_members" not in repr(validation)


def test_validate_zip_bad_zip_is_status_1():
    assert validate_zip(CATEGORIES, io.BytesIO(b"nope")).get_status_code_id() == 1
    good = validate_zip(CATEGORIES, io.BytesIO(GOOD_ZIP))
    assert good.get_status_code_id() == 0 and good.archive_members == ["x/a.json", "x/b.csv"]


def test_zip_reader_resolution_and_errors():
    data = make_zip({"a/x.json": "{}", "b/x.json": "[]", "c/y.json": "\ufeff{\"k\": 1}".encode("utf-8"), "d/n.json": "3", "e/z.csv": "h\n1\n", "f/bad.json": "{"})
    errors = Counter()
    reader = ZipArchiveReader(io.BytesIO(data), None, errors)
    assert reader.resolve_member("a/x.json") == "a/x.json"
    assert reader.resolve_member("x.json") is None and errors["AmbiguousMemberMatch"] == 1
    assert reader.resolve_member("missing.json") is None
    assert reader.resolve_member("y.json") == "c/y.json"
    assert reader.json("y.json").data == {"k": 1}
    assert errors["JSONDecodeError"] == 0  # A BOM is read, not an error.
    assert reader.json("n.json").data == {} and errors["TypeError"] == 1
    assert reader.json("bad.json").data == {} and errors["JSONDecodeError"] == 1
    assert not reader.json("missing.json").found
    csv_result = reader.csv("z.csv")
    assert csv_result.found and csv_result.df.rows() == [{"h": "1"}]
    assert reader.raw("a/x.json").data.getvalue() == b"{}"
    assert [r.member_path for r in reader.json_all(r"\.json$")][:2] == ["a/x.json", "b/x.json"]


def test_small_extraction_utilities():
    assert dict_denester({"a": {"b": 1}, "c": [2]}) == {"a-b": 1, "c-0": 2}
    assert epoch_to_iso(0) == "1970-01-01T00:00:00+00:00"
    assert epoch_to_iso("") == ""
    errors = Counter()
    assert epoch_to_iso("nope", errors) == "" and errors["TimestampParseError"] == 1
