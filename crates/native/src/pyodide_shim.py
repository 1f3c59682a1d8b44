"""Pyodide stand-ins for the native runner, loaded by `port_native` as the module `_port_native_shim`.

A study script is written for feldspar's Pyodide worker. There it can `import js`, payloads arrive
as JsProxy objects read by attribute (`p.__type__`, `p.value.success`), and a chosen file is a
reader with `readSlice(start, end)`, `size` and `name`. This module gives a CPython interpreter the
same surface, so scripts run unchanged; it also sets up `sys.path` and starts the study.

It is not a runtime for studies: the `port` package (ours, or a feldspar-style one) is that.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import site
import sys
import types
from typing import Any, Optional

STUDY_MODULE_NAME = "port_study_script"


# --- js -------------------------------------------------------------------------------------------


class _ConsoleStandIn:
    """`js.console`: the browser console is the developer's terminal here, so print to stderr."""

    def _print(self, level: str, *arguments: Any) -> None:
        print(f"[js.console.{level}]", *arguments, file=sys.stderr, flush=True)

    def log(self, *arguments: Any) -> None:
        self._print("log", *arguments)

    def info(self, *arguments: Any) -> None:
        self._print("info", *arguments)

    def debug(self, *arguments: Any) -> None:
        self._print("debug", *arguments)

    def warn(self, *arguments: Any) -> None:
        self._print("warn", *arguments)

    def error(self, *arguments: Any) -> None:
        self._print("error", *arguments)


def install_js_stand_in() -> bool:
    """Put a stand-in `js` module in `sys.modules` unless a real one imports; True if installed.

    feldspar scripts `import js` at the top, which only Pyodide provides.
    """
    try:
        import js  # noqa: F401

        return False
    except ImportError:
        pass
    module = types.ModuleType("js", "Stand-in for Pyodide's js module, installed by the port native runner.")
    module.console = _ConsoleStandIn()
    sys.modules["js"] = module
    return True


# --- payloads -------------------------------------------------------------------------------------


class JsProxyStandIn:
    """A JS object as Pyodide hands it to Python: fields by attribute, `["key"]` and `to_py()`.

    Attributes are writable, as on a JsProxy: feldspar's wrapper replaces `data.value` in place.
    """

    def __init__(self, fields: dict) -> None:
        self.__dict__.update(fields)

    def __getitem__(self, key: str) -> Any:
        try:
            return self.__dict__[key]
        except KeyError:
            raise KeyError(key) from None

    def __contains__(self, key: object) -> bool:
        return key in self.__dict__

    def to_py(self) -> dict:
        return {key: _to_py(value) for key, value in self.__dict__.items()}

    def __repr__(self) -> str:
        # The type only: payload values are participant answers.
        return f"JsProxyStandIn(__type__={self.__dict__.get('__type__')!r})"


def _to_py(value: Any) -> Any:
    if isinstance(value, JsProxyStandIn):
        return value.to_py()
    if isinstance(value, list):
        return [_to_py(item) for item in value]
    return value


class SliceBuffer:
    """What `readSlice` returns: like the worker's ArrayBuffer, `to_py()` gives a memoryview and
    `to_bytes()` the bytes."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.byteLength = len(data)

    def to_py(self) -> memoryview:
        return memoryview(self._data)

    def to_bytes(self) -> bytes:
        return self._data


class FileSliceReader:
    """A chosen file as feldspar's worker exposes it: `readSlice(start, end)`, `size` and `name`.

    Each slice opens, seeks and reads only its own bytes: uploads can be larger than memory
    (more than 2 GiB), so the file is never read whole unless the script asks for every slice.
    """

    def __init__(self, path: str, name: str, size: int) -> None:
        self._path = path
        self.name = name
        self.size = size

    def readSlice(self, start: Optional[int] = None, end: Optional[int] = None) -> SliceBuffer:  # noqa: N802 - the JS name
        # Blob.slice semantics: missing bounds mean the whole file, negative ones count from the end.
        start = _clamp_slice_bound(0 if start is None else int(start), self.size)
        end = _clamp_slice_bound(self.size if end is None else int(end), self.size)
        if end <= start:
            return SliceBuffer(b"")
        with open(self._path, "rb") as file:
            file.seek(start)
            return SliceBuffer(file.read(end - start))

    def __repr__(self) -> str:
        # Size only: file names can identify the participant.
        return f"FileSliceReader(size={self.size})"


def _clamp_slice_bound(bound: int, size: int) -> int:
    if bound < 0:
        bound += size
    return max(0, min(bound, size))


def _reader(file_ref: dict) -> FileSliceReader:
    return FileSliceReader(file_ref["locator"], file_ref["name"], int(file_ref["size"]))


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return JsProxyStandIn({key: _wrap(item) for key, item in value.items()})
    if isinstance(value, list):
        return [_wrap(item) for item in value]
    return value


def payload_from_json(text: str) -> JsProxyStandIn:
    """A payload (protocol JSON) as the object a Pyodide script receives from `yield`."""
    payload = json.loads(text)
    wire_type = payload.get("__type__")
    if wire_type == "PayloadFile":
        return JsProxyStandIn({"__type__": wire_type, "value": _reader(payload["value"])})
    if wire_type == "PayloadFileArray":
        return JsProxyStandIn({"__type__": wire_type, "value": [_reader(item) for item in payload["value"]]})
    # PayloadVoid carries `value: undefined` in feldspar, which Pyodide reads as None.
    payload.setdefault("value", None)
    return _wrap(payload)


# --- commands -------------------------------------------------------------------------------------


# `command_to_json` comes from `port_protocol::COMMAND_JSON_PY`, which `shim.rs` appends to this file.


# --- sys.path and start ---------------------------------------------------------------------------


def _put_first(path: str, index: int = 0) -> None:
    while path in sys.path:
        sys.path.remove(path)
    sys.path.insert(index, path)


def add_environment_paths() -> None:
    """Honour `VIRTUAL_ENV` and `PYTHONPATH`, so a researcher's own packages (pandas) import.

    An embedded interpreter does not find a virtualenv by itself: its executable is our binary,
    not the venv's python. The venv's site-packages go before the base interpreter's, as in the venv.
    """
    for entry in reversed([entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    virtual_env = os.environ.get("VIRTUAL_ENV")
    if not virtual_env:
        return
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for site_packages in (
        os.path.join(virtual_env, "lib", version, "site-packages"),
        os.path.join(virtual_env, "Lib", "site-packages"),
    ):
        if not os.path.isdir(site_packages) or site_packages in sys.path:
            continue
        before = list(sys.path)
        site.addsitedir(site_packages)
        added = [entry for entry in sys.path if entry not in before]
        for entry in added:
            sys.path.remove(entry)
        first_base = next((index for index, entry in enumerate(sys.path) if "site-packages" in entry), len(sys.path))
        sys.path[first_base:first_base] = added


def _forget_port_package() -> None:
    # Only one `port` can be imported at a time; a study brings its own or uses ours.
    for name in [name for name in sys.modules if name == "port" or name.startswith("port.")]:
        del sys.modules[name]


def start_study_file(wheel_path: str, study_path: str, session_id: Any, platform: Optional[str]) -> Any:
    """Start a `.py` study on our runtime: register its module with `port.main`, then `start`."""
    install_js_stand_in()
    add_environment_paths()
    port = sys.modules.get("port")
    if port is None or not str(getattr(port, "__file__", "")).startswith(wheel_path):
        _forget_port_package()
    _put_first(wheel_path)
    # The study's folder comes after the runtime, so sibling modules import but cannot shadow `port`.
    _put_first(os.path.dirname(os.path.abspath(study_path)), 1)
    port_main = importlib.import_module("port.main")

    spec = importlib.util.spec_from_file_location(STUDY_MODULE_NAME, study_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {study_path} as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[STUDY_MODULE_NAME] = module
    spec.loader.exec_module(module)
    port_main.register_script(module)
    return port_main.start(session_id, platform)


def start_feldspar_package(directory: str, session_id: Any, platform: Optional[str]) -> Any:
    """Start a feldspar-style `port/` package from `directory` with its own API: `port.start`."""
    install_js_stand_in()
    add_environment_paths()
    _forget_port_package()
    _put_first(directory)
    port = importlib.import_module("port")
    # Upstream feldspar's start takes the session id only; D3I's also takes the platform.
    if platform is None:
        return port.start(session_id)
    return port.start(session_id, platform)


def embedded_python() -> tuple:
    return (sys.version, sys.prefix, sys.base_prefix)
