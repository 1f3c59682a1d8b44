"""A synchronous, seekable, read-only file object over the engine's file reader.

The engine hands a chosen file to Python as a reader with `readSlice(start, end)`,
`size` and `name`. `AsyncFileAdapter` turns that into a file object `zipfile` can use,
reading only the slices asked for: uploads can exceed the ~2 GiB a browser can hold in
one buffer, so the whole file is never read unless the caller asks for it.
"""

from __future__ import annotations

import io
from typing import Any

SEEK_SET, SEEK_CUR, SEEK_END = io.SEEK_SET, io.SEEK_CUR, io.SEEK_END


def _to_bytes(chunk: Any) -> bytes:
    # In Pyodide readSlice returns a JS ArrayBuffer proxy: `to_bytes()` copies it out once
    # (`bytes(chunk.to_py())` copied a big slice twice). The native runner may hand bytes or a
    # memoryview directly.
    if hasattr(chunk, "to_bytes"):
        return chunk.to_bytes()
    if hasattr(chunk, "to_py"):
        chunk = chunk.to_py()
    if chunk is None:
        return b""
    return bytes(chunk)


class AsyncFileAdapter(io.RawIOBase):
    """Read-only file over `reader.readSlice`; positions are clamped to [0, size]."""

    def __init__(self, reader: Any) -> None:
        super().__init__()
        self._reader = reader
        self.size = int(getattr(reader, "size", 0) or 0)
        self.name = str(getattr(reader, "name", "") or "")
        # Invariant: 0 <= _position <= size.
        self._position = 0

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")

    def readable(self) -> bool:
        return not self.closed

    def seekable(self) -> bool:
        return not self.closed

    def writable(self) -> bool:
        return False

    def tell(self) -> int:
        self._check_open()
        return self._position

    def seek(self, offset: int, whence: int = SEEK_SET) -> int:
        self._check_open()
        if whence == SEEK_SET:
            target = offset
        elif whence == SEEK_CUR:
            target = self._position + offset
        elif whence == SEEK_END:
            target = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence!r}")
        self._position = max(0, min(int(target), self.size))
        return self._position

    def read(self, size: int | None = -1) -> bytes:
        self._check_open()
        if size is None or size < 0:
            end = self.size
        else:
            end = min(self._position + int(size), self.size)
        if end <= self._position:
            return b""
        data = _to_bytes(self._reader.readSlice(self._position, end))
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def __repr__(self) -> str:
        # Size only: file names can identify the participant.
        return f"AsyncFileAdapter(size={self.size})"


__all__ = ["AsyncFileAdapter"]
