"""`ScriptWrapper`: None skipping, termination, file wrapping and the consent-gated error flow."""

from __future__ import annotations

import json

import port
from conftest import FakeReader, Payload, payload_false, payload_true, payload_void
from port.api.commands import CommandSystemLog, CommandUIRender
from port.api.file_utils import AsyncFileAdapter
from port.api.props import PropsUIPageDataSubmission, PropsUIHeader, PropsUIPromptText
from port.main import ScriptWrapper, register_script, start

EXIT_OK = {"__type__": "CommandSystemExit", "code": 0, "info": "End of script"}


def page(text="x"):
    return CommandUIRender(PropsUIPageDataSubmission("p", PropsUIHeader({"en": "h"}), PropsUIPromptText({"en": text})))


def test_none_yields_are_skipped_and_return_becomes_exit():
    received = []

    def script():
        yield
        yield None
        answer = yield CommandSystemLog("info", "a")
        received.append(answer)
        yield

    wrapper = ScriptWrapper(script())
    first = wrapper.send(None)
    assert isinstance(first, dict) and first["__type__"] == "CommandSystemLog"
    assert wrapper.send(payload_void()) == EXIT_OK
    assert received[0].__type__ == "PayloadVoid"
    # Further sends keep answering Exit rather than raising.
    assert wrapper.send(None) == EXIT_OK


def test_first_send_tolerates_a_non_none_payload():
    def script():
        yield CommandSystemLog("info", "a")

    assert ScriptWrapper(script()).send(payload_true())["__type__"] == "CommandSystemLog"


def test_payload_file_value_is_wrapped_in_adapter_without_mutating_payload():
    seen = []

    def script():
        answer = yield page()
        seen.append(answer)

    class FrozenPayload:
        """Refuses attribute writes, like a JsProxy might."""

        __slots__ = ()
        __type__ = "PayloadFile"
        value = FakeReader(b"abcdef", name="f.zip")

    wrapper = ScriptWrapper(script())
    wrapper.send(None)
    assert wrapper.send(FrozenPayload()) == EXIT_OK
    wrapped = seen[0]
    assert wrapped.__type__ == "PayloadFile"
    assert isinstance(wrapped.value, AsyncFileAdapter)
    assert wrapped.value.read(3) == b"abc"
    assert wrapped.value.size == 6


def failing_script():
    yield page()
    raise ValueError("secret participant value")


def test_exception_shows_error_page_with_traceback_and_two_buttons():
    wrapper = ScriptWrapper(failing_script(), "Demo")
    wrapper.send(None)
    command = wrapper.send(payload_true())
    assert command["__type__"] == "CommandUIRender"
    error_page = command["page"]
    assert error_page["platform"] == "Demo"
    assert error_page["header"]["title"]["translations"] == {"en": "Something went wrong", "nl": "Er is iets misgegaan"}
    text, confirm = error_page["body"]
    assert "ValueError: secret participant value" in text["text"]["translations"]["en"]
    assert text["text"]["translations"]["nl"] == text["text"]["translations"]["en"]
    assert confirm["__type__"] == "PropsUIPromptConfirm"
    assert confirm["ok"]["translations"]["en"] == "Report error"
    assert confirm["cancel"]["translations"]["en"] == "Skip"
    assert confirm["text"]["translations"]["en"].startswith("Would you like to report this error to the researchers?")


def test_error_flow_report_donates_then_exits():
    wrapper = ScriptWrapper(failing_script(), None)
    wrapper.send(None)
    assert wrapper.send(payload_true())["page"]["platform"] == "error"
    donate = wrapper.send(payload_true())
    assert donate["__type__"] == "CommandSystemDonate"
    assert donate["key"] == "error-report"
    report = json.loads(donate["json_string"])
    assert set(report) == {"platform", "traceback", "timestamp"}
    assert "secret participant value" in report["traceback"]
    assert report["timestamp"].endswith("+00:00")
    assert wrapper.send(payload_void()) == EXIT_OK


def test_error_flow_skip_exits_without_donating():
    for answer in (payload_false(), None, Payload("PayloadVoid")):
        wrapper = ScriptWrapper(failing_script())
        wrapper.send(None)
        wrapper.send(payload_true())
        assert wrapper.send(answer) == EXIT_OK


def test_study_generator_is_abandoned_after_exception():
    events = []

    def script():
        try:
            yield page()
            raise RuntimeError("boom")
        finally:
            events.append("closed")

    wrapper = ScriptWrapper(script())
    wrapper.send(None)
    wrapper.send(payload_true())
    assert events == ["closed"]


def test_exception_before_first_yield_and_bad_yield_go_to_error_flow():
    def raises_immediately():
        raise KeyError("k")
        yield  # pragma: no cover

    def yields_garbage():
        yield 42

    for script in (raises_immediately(), yields_garbage()):
        command = ScriptWrapper(script).send(None)
        assert command["__type__"] == "CommandUIRender"
        assert command["page"]["header"]["title"]["translations"]["en"] == "Something went wrong"


def test_exception_inside_error_flow_exits_with_code_1_and_does_not_loop(monkeypatch):
    import port.main as main_module

    def broken_error_flow(platform, tb):
        yield page()
        raise RuntimeError("error flow broke with secret")

    monkeypatch.setattr(main_module, "error_flow", broken_error_flow)
    wrapper = ScriptWrapper(failing_script())
    wrapper.send(None)
    assert wrapper.send(payload_true())["__type__"] == "CommandUIRender"
    result = wrapper.send(payload_true())
    assert result["__type__"] == "CommandSystemExit" and result["code"] == 1
    assert "RuntimeError" in result["info"] and "secret" not in result["info"]
    assert wrapper.send(None) == result


def test_throw_raises_stop_iteration():
    wrapper = ScriptWrapper(failing_script())
    try:
        wrapper.throw()
    except StopIteration:
        pass
    else:
        raise AssertionError("throw() must raise StopIteration")


def test_register_script_and_start_with_module_or_callable():
    calls = []

    def process(session_id, platform):
        calls.append((session_id, platform))
        yield CommandSystemLog("info", f"session {session_id}")

    register_script(process)
    try:
        wrapper = start(123, "Demo")
        assert isinstance(wrapper, ScriptWrapper)
        assert wrapper.send(None)["message"] == "session 123"
        assert calls == [(123, "Demo")]
        assert port.start is start

        class Module:
            pass

        Module.process = staticmethod(process)
        register_script(Module)
        assert port.start(7).send(None)["message"] == "session 7"
    finally:
        import port.main as main_module

        main_module._registered_process = None


def test_start_without_registered_study_names_the_problem():
    import pytest

    with pytest.raises(RuntimeError, match="no study registered"):
        start(1)
