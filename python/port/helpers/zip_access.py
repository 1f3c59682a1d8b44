"""Opening an uploaded zip whatever its member names hold, and telling members apart.

Member names are data written by whoever made the zip: a Windows tool writes `\\`, a hostile one
writes `../`, NUL bytes, 10 000 characters or bytes that claim to be UTF-8 and are not. Nothing
here writes to disk, so no name can escape; these helpers make sure no name can crash a read
either, and that names are matched and shown in one normal form.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from typing import Any, Optional

# Flag bits and methods from the zip specification (APPNOTE 4.4.4 and 4.4.5).
FLAG_ENCRYPTED = 0x0001
FLAG_UTF8_NAME = 0x0800
METHOD_AES = 99

_CENTRAL_HEADER = b"PK\x01\x02"
_CENTRAL_HEADER_SIZE = 46

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_path(source: Any) -> bool:
    """Whether `source` names a file (a path) rather than being an open file object."""
    return isinstance(source, (str, bytes)) or hasattr(source, "__fspath__")


def open_zip(source: Any) -> zipfile.ZipFile:
    """`zipfile.ZipFile(source)`, which also opens a zip with a name that is not the UTF-8 it claims.

    zipfile refuses the whole archive when one central-directory name has the UTF-8 flag but
    invalid bytes. Then the central directory is read through a view in which each invalid byte
    of such a name is a `?` (same length, so every offset holds): the other members open as
    usual, and the damaged one fails alone when it is read.
    """
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        return zipfile.ZipFile(source)
    except UnicodeDecodeError:
        pass
    file = open(source, "rb") if is_path(source) else source
    file.seek(0)
    end = zipfile._EndRecData(file)  # noqa: SLF001 - the stdlib's own end-record reader
    if end is None:
        raise zipfile.BadZipFile("File is not a zip file")
    size_cd, offset_cd = end[zipfile._ECD_SIZE], end[zipfile._ECD_OFFSET]  # noqa: SLF001
    # The same arithmetic zipfile uses for data in front of the archive.
    concat = end[zipfile._ECD_LOCATION] - size_cd - offset_cd  # noqa: SLF001
    if end[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # noqa: SLF001
        concat -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator
    start = offset_cd + concat
    file.seek(start)
    directory = file.read(size_cd)
    return zipfile.ZipFile(_PatchedView(file, start, _with_readable_names(directory)))


def _with_readable_names(directory: bytes) -> bytes:
    patched = bytearray(directory)
    position = 0
    while patched[position : position + 4] == _CENTRAL_HEADER:
        header = patched[position : position + _CENTRAL_HEADER_SIZE]
        flags = int.from_bytes(header[8:10], "little")
        name_length = int.from_bytes(header[28:30], "little")
        extra_length = int.from_bytes(header[30:32], "little")
        comment_length = int.from_bytes(header[32:34], "little")
        name_start = position + _CENTRAL_HEADER_SIZE
        if flags & FLAG_UTF8_NAME:
            name = bytes(patched[name_start : name_start + name_length])
            readable = "".join(
                "?" if "\udc80" <= char <= "\udcff" else char for char in name.decode("utf-8", "surrogateescape")
            ).encode("utf-8")
            if len(readable) == name_length:
                patched[name_start : name_start + name_length] = readable
        position = name_start + name_length + extra_length + comment_length
    return bytes(patched)


class _PatchedView(io.RawIOBase):
    """A read-only file that shows `replacement` instead of the bytes at `start`."""

    def __init__(self, file: Any, start: int, replacement: bytes) -> None:
        super().__init__()
        self._file = file
        self._start = start
        self._replacement = replacement
        self._position = 0
        file.seek(0, io.SEEK_END)
        self._size = file.tell()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def read(self, size: Optional[int] = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._position + size)
        if end <= self._position:
            return b""
        self._file.seek(self._position)
        data = bytearray(self._file.read(end - self._position))
        patch_end = self._start + len(self._replacement)
        low, high = max(self._position, self._start), min(self._position + len(data), patch_end)
        if low < high:
            data[low - self._position : high - self._position] = self._replacement[low - self._start : high - self._start]
        self._position += len(data)
        return bytes(data)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


def normalise_name(name: str) -> str:
    """The member's path as one compares it: `/` separators, no drive, root, `.` or `..` parts."""
    parts = _DRIVE.sub("", name.replace("\\", "/")).split("/")
    return "/".join(part for part in parts if part not in ("", ".", ".."))


def display_name(name: str, limit: int = 80) -> str:
    """A member name fit to show: control characters as `?`, at most `limit` characters."""
    shown = _CONTROL.sub("?", name)
    if len(shown) <= limit:
        return shown
    keep = (limit - 1) // 2
    return f"{shown[:keep]}…{shown[len(shown) - keep:]}"


def is_encrypted(info: zipfile.ZipInfo) -> bool:
    return bool(info.flag_bits & FLAG_ENCRYPTED) or info.compress_type == METHOD_AES


def is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def is_directory(info: zipfile.ZipInfo) -> bool:
    return info.filename.endswith("/") or info.filename.endswith("\\")


def is_regular_file(info: zipfile.ZipInfo) -> bool:
    """A member that holds a file's bytes: not a directory (even one with data), not a link."""
    return not is_directory(info) and not is_symlink(info)


__all__ = [
    "is_path",
    "open_zip",
    "normalise_name",
    "display_name",
    "is_encrypted",
    "is_symlink",
    "is_directory",
    "is_regular_file",
]
