"""Entry point the engine calls: `start(session_id, platform)` returns a `ScriptWrapper`.

`ScriptWrapper` drives the study's generator one payload at a time and always answers
with a plain wire dict. It owns three guarantees the engine relies on:

- the run ends only with `CommandSystemExit` (0 when the script returns);
- bare `yield`s (None) never reach the engine;
- an exception never leaves Python: the traceback is shown to the participant and
  leaves the device only if they choose to report it (the consent-gated error flow),
  because exception text can contain participant data.

Payloads are read only by attribute (`payload.__type__`, `payload.value`), since
Pyodide delivers JsProxy objects, and may be None.
"""

from __future__ import annotations

import importlib
import json
import traceback
from datetime import datetime, timezone
from typing import Any, Callable, Generator, Optional

from port.api.commands import CommandSystemDonate, CommandSystemExit, CommandUIRender
from port.api.file_utils import AsyncFileAdapter
from port.api.props import (
    PropsUIHeader,
    PropsUIPageDataSubmission,
    PropsUIPromptConfirm,
    PropsUIPromptText,
    Translatable,
)

ERROR_REPORT_KEY = "error-report"

_registered_process: Optional[Callable[..., Generator]] = None


def register_script(module_or_process: Any) -> Any:
    """Register the study: a module with `process(session_id, platform)`, or that callable.

    Returns its argument, so it also works as a decorator on `process`.
    """
    global _registered_process
    process = getattr(module_or_process, "process", module_or_process)
    if not callable(process):
        raise TypeError("register_script needs a module with process() or a callable")
    _registered_process = process
    return module_or_process


def _resolve_process() -> Callable[..., Generator]:
    if _registered_process is not None:
        return _registered_process
    # feldspar's layout: the study lives in port/script.py next to this module.
    try:
        module = importlib.import_module("port.script")
    except ModuleNotFoundError as error:
        if error.name != "port.script":
            raise
        raise RuntimeError("no study registered: call port.main.register_script or provide port/script.py") from None
    return module.process


def start(session_id: Any, platform: Optional[str] = None) -> "ScriptWrapper":
    """Start the registered study for one session; the engine then calls `send(None)`."""
    return ScriptWrapper(_resolve_process()(session_id, platform), platform)


class FilePayload:
    """A PayloadFile whose `value` is an `AsyncFileAdapter`.

    Built fresh instead of assigning into the incoming payload, because a JsProxy may
    refuse attribute writes.
    """

    def __init__(self, value: Any, original: Any = None) -> None:
        self.__type__ = "PayloadFile"
        self.value = value
        self.original = original

    def __repr__(self) -> str:
        return f"FilePayload({self.value!r})"


def _wrap_file_payload(data: Any) -> Any:
    if getattr(data, "__type__", None) != "PayloadFile":
        return data
    reader = getattr(data, "value", None)
    if reader is None or isinstance(reader, AsyncFileAdapter) or not hasattr(reader, "readSlice"):
        # Already a file object (or nothing to wrap): pass it on untouched.
        return data
    return FilePayload(AsyncFileAdapter(reader), original=data)


def _to_wire(command: Any) -> dict:
    if hasattr(command, "toDict"):
        wire = command.toDict()
    else:
        wire = command
    if not isinstance(wire, dict) or not isinstance(wire.get("__type__"), str):
        raise TypeError(f"script yielded {type(command).__name__}, which is not a command")
    return wire


def error_flow(platform: Optional[str], tb: str) -> Generator:
    """Show the traceback and donate it as "error-report" only if the participant agrees.

    Both buttons work: "Report error" (PayloadTrue) donates, anything else ends quietly.
    """
    header = PropsUIHeader(Translatable({"en": "Something went wrong", "nl": "Er is iets misgegaan"}))
    body = [
        PropsUIPromptText(Translatable({"en": tb, "nl": tb})),
        PropsUIPromptConfirm(
            Translatable(
                {
                    "en": "Would you like to report this error to the researchers? "
                    "The report contains the technical details shown above.",
                    "nl": "Wilt u deze fout melden aan de onderzoekers? "
                    "Het rapport bevat de technische details hierboven.",
                }
            ),
            Translatable({"en": "Report error", "nl": "Fout melden"}),
            Translatable({"en": "Skip", "nl": "Overslaan"}),
        ),
    ]
    answer = yield CommandUIRender(PropsUIPageDataSubmission(platform or "error", header, body))
    if getattr(answer, "__type__", None) == "PayloadTrue":
        report = json.dumps(
            {"platform": platform, "traceback": tb, "timestamp": datetime.now(timezone.utc).isoformat()}
        )
        _ = yield CommandSystemDonate(ERROR_REPORT_KEY, report)


class ScriptWrapper:
    """Adapts a study generator to the engine: `send(payload) -> wire dict`."""

    def __init__(self, script: Generator, platform: Optional[str] = None) -> None:
        self.script = script
        self.platform = platform
        self.error_handler: Optional[Generator] = None
        # Set once the run is over; every later send repeats it.
        self._final: Optional[dict] = None
        self._script_started = False
        self._error_handler_started = False

    def send(self, data: Any = None) -> dict:
        if self._final is not None:
            return self._final
        if self.error_handler is not None:
            return self._send_error_flow(data)
        try:
            data = _wrap_file_payload(data)
            # A just-started generator only accepts None.
            command = self.script.send(data if self._script_started else None)
            self._script_started = True
            while command is None:
                command = self.script.send(None)
            return _to_wire(command)
        except StopIteration:
            self._final = CommandSystemExit(0, "End of script").toDict()
            return self._final
        except Exception:
            tb = traceback.format_exc()
            self._abandon_script()
            self.error_handler = error_flow(self.platform, tb)
            return self._send_error_flow(None)

    def _abandon_script(self) -> None:
        # Closing runs the study's finally blocks; if one of those misbehaves the study
        # is abandoned anyway.
        try:
            self.script.close()
        except Exception:  # noqa: BLE001
            pass

    def _send_error_flow(self, data: Any) -> dict:
        try:
            command = self.error_handler.send(data if self._error_handler_started else None)
            self._error_handler_started = True
            while command is None:
                command = self.error_handler.send(None)
            return _to_wire(command)
        except StopIteration:
            self._final = CommandSystemExit(0, "End of script").toDict()
            return self._final
        except Exception as error:  # noqa: BLE001
            # Never loop back into another error flow. The reason names only the
            # exception type, since its message may contain participant data.
            self._final = CommandSystemExit(1, f"error flow failed: {type(error).__name__}").toDict()
            return self._final

    def throw(self, *args: Any) -> None:
        raise StopIteration

    def close(self) -> None:
        self._abandon_script()


__all__ = ["ScriptWrapper", "FilePayload", "error_flow", "register_script", "start", "ERROR_REPORT_KEY"]
