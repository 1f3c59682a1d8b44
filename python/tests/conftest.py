"""Shared fakes for the runtime tests: attribute-only payloads and a slice-reading file reader.

The fakes mimic what the engine hands Python: payloads readable only by attribute (as
JsProxy objects are) and a reader with `readSlice(start, end).to_py()`, `size`, `name`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PYTHON_ROOT = Path(__file__).resolve().parent.parent
REPO_ROOT = PYTHON_ROOT.parent
for path in (PYTHON_ROOT, REPO_ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


class Payload:
    """An attribute-only payload; indexing it fails, as it would on a JsProxy."""

    def __init__(self, payload_type, value=None):
        self.__type__ = payload_type
        self.value = value

    def __getitem__(self, key):
        raise TypeError("payloads must be read by attribute")


class Value:
    """An attribute-only value object, e.g. the PayloadResponse body."""

    def __init__(self, **fields):
        for name, field_value in fields.items():
            setattr(self, name, field_value)


class _Slice:
    """Like Pyodide's proxy of the worker's ArrayBuffer."""

    def __init__(self, data: bytes):
        self._data = data

    def to_py(self):
        return memoryview(self._data)

    def to_bytes(self):
        return bytes(self._data)


class FakeReader:
    """The worker's file reader over in-memory bytes or a real file; records each slice read."""

    def __init__(self, data: bytes = b"", name: str = "upload.zip", path: Path | None = None, size: int | None = None):
        self._data = data
        self._path = path
        self.name = name
        self.size = size if size is not None else (path.stat().st_size if path else len(data))
        self.slices: list[tuple[int, int]] = []

    @property
    def bytes_read(self) -> int:
        return sum(end - start for start, end in self.slices)

    def readSlice(self, start, end):  # noqa: N802 - the engine's name
        self.slices.append((start, end))
        if self._path is not None:
            with open(self._path, "rb") as handle:
                handle.seek(start)
                return _Slice(handle.read(end - start))
        return _Slice(self._data[start:end])


def payload_true():
    return Payload("PayloadTrue", True)


def payload_false():
    return Payload("PayloadFalse", False)


def payload_void():
    return Payload("PayloadVoid", None)


@pytest.fixture
def demo_zip_bytes() -> bytes:
    from studies.demo.generate_ddp import ddp_bytes

    return ddp_bytes(rows=20, seed=1)
