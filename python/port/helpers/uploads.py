"""Upload checks made from file metadata alone, before anything is read (AD0003, AD0007).

There is no upper limit on size: uploads are read by slices and never held whole, and platforms
let people choose export parts of 4, 10 or 50 GB. A file of exactly 2 GiB is still singled out,
because it is likely one part of a split export; the flow asks whether to go on with it.
"""

from __future__ import annotations

from typing import Any

# Platforms that split large exports produce parts of exactly this size.
TWO_GIB = 2 * 1024 * 1024 * 1024


class UnsafeUploadError(Exception):
    """An upload the flow must refuse; the message holds sizes only, never names."""

    def __init__(self, size: int, message: str) -> None:
        super().__init__(message)
        self.size = size


class FileTooLargeError(UnsafeUploadError):
    """Kept so that scripts importing it still load; `check_payload_size` no longer raises it."""

    def __init__(self, size: int) -> None:
        super().__init__(size, f"file is {size} bytes, more than the {TWO_GIB}-byte limit")


class ChunkedExportError(UnsafeUploadError):
    """Exactly 2 GiB: the sentinel size of one part of a split export."""

    def __init__(self, size: int) -> None:
        super().__init__(size, f"file is exactly {TWO_GIB} bytes, which looks like one part of a split export")


def check_payload_size(file_result: Any) -> int:
    """Return a PayloadFile's size; raise `ChunkedExportError` for exactly 2 GiB. Reads only `value.size`."""
    if getattr(file_result, "__type__", None) != "PayloadFile":
        raise TypeError("check_payload_size needs a PayloadFile")
    size = int(getattr(getattr(file_result, "value", None), "size", 0) or 0)
    if size == TWO_GIB:
        raise ChunkedExportError(size)
    return size


__all__ = ["TWO_GIB", "UnsafeUploadError", "FileTooLargeError", "ChunkedExportError", "check_payload_size"]
