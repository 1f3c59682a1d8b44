"""Reading members of an uploaded zip into dicts, lists and `Table`s (a lean feldspar subset).

`ZipArchiveReader` resolves member names with path-boundary matching and turns every
failure into a count in the caller's `errors` Counter, so one bad file never stops an
extraction (AD0006). It returns `Table`s rather than DataFrames, so pandas is not needed.
Member paths can contain participant data and go only to the `.content` logger, which
never propagates.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import math
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

from port.api.table import Table
from port.helpers.zip_access import display_name, is_directory, is_encrypted, is_symlink, normalise_name, open_zip

logger = logging.getLogger(__name__)
content_logger = logging.getLogger(__name__ + ".content")
content_logger.propagate = False
content_logger.addHandler(logging.NullHandler())


class _SkippedMember(Exception):
    """A member read stopped at a bound; `reason` is the count's name in `errors`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class JsonExtractionResult:
    found: bool
    data: Any = field(default_factory=dict)
    member_path: Optional[str] = None


@dataclass
class CsvExtractionResult:
    found: bool
    df: Table = field(default_factory=Table)
    member_path: Optional[str] = None

    @property
    def table(self) -> Table:
        return self.df


@dataclass
class RawExtractionResult:
    found: bool
    data: io.BytesIO = field(default_factory=io.BytesIO)
    member_path: Optional[str] = None


#: At most this many bytes are inflated from one member (a study may pass another `member_limit`).
DEFAULT_MEMBER_LIMIT = 256 * 1024 * 1024
#: At most this many bytes are inflated from all members of one upload, through one reader.
DEFAULT_TOTAL_LIMIT = 1024 * 1024 * 1024
#: A member that inflates to more than this many times its compressed size is a bomb, not data;
#: checked once it has inflated past `RATIO_CHECK_FLOOR`, so small, very regular files still read.
DEFAULT_MAX_RATIO = 100
RATIO_CHECK_FLOOR = 8 * 1024 * 1024
#: `nested` opens zips inside zips this many levels deep, no deeper.
DEFAULT_MAX_DEPTH = 2
_READ_CHUNK = 1024 * 1024


#: Names of the counts a read leaves in `errors` when a member could not be read.
_READ_FAILURES = {
    "NotImplementedError": "UnsupportedCompression",
    "LZMAError": "DamagedMember",
    "error": "DamagedMember",  # zlib.error
    "EOFError": "DamagedMember",
    "UnicodeDecodeError": "DamagedMemberName",
}


def _failure_name(error: Exception) -> str:
    if isinstance(error, zipfile.BadZipFile) and "CRC" in str(error):
        return "BadCRC"
    if isinstance(error, RuntimeError) and "encrypted" in str(error):
        return "EncryptedMember"
    if isinstance(error, RuntimeError) and "requires" in str(error):
        return "UnsupportedCompression"  # the lzma or bz2 module is missing
    return _READ_FAILURES.get(type(error).__name__, type(error).__name__)


class ZipArchiveReader:
    """Member reads over one zip; `archive_members` is the namelist cached by validation.

    Reads are bounded: a member is inflated chunk by chunk, never trusting the size its header
    declares, and is skipped (with a count in `errors`) once it passes `member_limit`, the
    upload's `total_limit`, or `max_ratio` times its compressed size. A bomb costs a count, not
    the participant's memory.

    Names are matched in one normal form (`/` separators, no drive, root or `..` parts), so a zip
    made on Windows reads like any other. Links, directories and encrypted members are never read;
    of two members with one name the last counts, as in `zipfile`. A zip inside the zip is opened
    only through `nested`, to `max_depth` levels.
    """

    def __init__(
        self,
        zip_path_or_filelike: Any,
        archive_members: Optional[list],
        errors: Counter,
        *,
        member_limit: int = DEFAULT_MEMBER_LIMIT,
        total_limit: int = DEFAULT_TOTAL_LIMIT,
        max_ratio: float = DEFAULT_MAX_RATIO,
        max_depth: int = DEFAULT_MAX_DEPTH,
        _depth: int = 0,
    ) -> None:
        self.zip_source = zip_path_or_filelike
        self.errors = errors
        self.member_limit = member_limit
        self.total_limit = total_limit
        self.max_ratio = max_ratio
        self.max_depth = max_depth
        self.depth = _depth
        self.n_inflated = 0
        self._archive: Optional[zipfile.ZipFile] = None
        # Normal name → the ZipInfo a read of that name gets (the last of duplicates).
        self._files: dict = {}
        infos = []
        if zip_path_or_filelike is not None:
            try:
                self._archive = open_zip(zip_path_or_filelike)
                infos = self._archive.infolist()
            except Exception as error:  # noqa: BLE001
                self.errors[type(error).__name__] += 1
        for info in infos:
            if is_directory(info):
                if info.file_size:
                    self.errors["DirectoryWithData"] += 1
                continue
            key = normalise_name(info.filename)
            if key in self._files:
                self.errors["DuplicateMemberName"] += 1
            self._files[key] = info
        self.archive_members = list(archive_members) if archive_members is not None else [i.filename for i in infos]

    def resolve_member(self, name: str) -> Optional[str]:
        """An exact match, else the unique member ending in "/name"; ambiguity gives None.

        Both sides are compared in normal form; the result is the member's normal name.
        """
        key = normalise_name(name)
        if key in self._files:
            return key
        matches = [member for member in self._files if member.endswith("/" + key)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            self.errors["AmbiguousMemberMatch"] += 1
        return None

    def _read_member(self, member: str) -> io.BytesIO:
        info = self._files.get(normalise_name(member))
        if info is None or self._archive is None:
            self.errors["MemberNotFound"] += 1
            return io.BytesIO()
        if is_symlink(info):
            # A link's content is a path on someone's machine, not data.
            self.errors["SymlinkMember"] += 1
            return io.BytesIO()
        if is_encrypted(info):
            self.errors["EncryptedMember"] += 1
            return io.BytesIO()
        if info.file_size > self.member_limit:
            # The declared size is only a hint, but a member that says it is too big is.
            self.errors["MemberTooLarge"] += 1
            return io.BytesIO()
        try:
            with self._archive.open(info) as stream:
                return io.BytesIO(self._read_bounded(stream, max(info.compress_size, 1)))
        except _SkippedMember as skipped:
            self.errors[skipped.reason] += 1
            content_logger.debug("skipped %s: %s", display_name(member), skipped.reason)
        except Exception as error:  # noqa: BLE001
            self.errors[_failure_name(error)] += 1
            content_logger.debug("failed to read %s", display_name(member))
        return io.BytesIO()

    def _read_bounded(self, stream: Any, compress_size: int) -> bytes:
        budget = min(self.member_limit, self.total_limit - self.n_inflated)
        chunks = []
        n_read = 0
        while True:
            chunk = stream.read(_READ_CHUNK)
            if not chunk:
                break
            n_read += len(chunk)
            if n_read > self.member_limit:
                raise _SkippedMember("MemberTooLarge")
            if n_read > budget:
                raise _SkippedMember("UploadInflationLimit")
            if n_read > RATIO_CHECK_FLOOR and n_read > self.max_ratio * compress_size:
                raise _SkippedMember("CompressionRatioTooHigh")
            chunks.append(chunk)
        self.n_inflated += n_read
        return b"".join(chunks)

    def nested(self, name: str) -> "ZipArchiveReader":
        """A reader over the zip stored as member `name`, sharing this reader's counts and budget.

        Beyond `max_depth` levels, or when the member is missing or no zip, the reader is empty
        (with a count): a zip that holds itself ends there.
        """
        member = self.resolve_member(name)
        if self.depth >= self.max_depth:
            self.errors["NestingTooDeep"] += 1
            member = None
        data = self._read_member(member) if member is not None else None
        inner = ZipArchiveReader(
            data if data is not None and data.getbuffer().nbytes else None,
            None,
            self.errors,
            member_limit=self.member_limit,
            total_limit=max(0, self.total_limit - self.n_inflated),
            max_ratio=self.max_ratio,
            max_depth=self.max_depth,
            _depth=self.depth + 1,
        )
        return inner

    def raw(self, name: str) -> RawExtractionResult:
        member = self.resolve_member(name)
        if member is None:
            return RawExtractionResult(False)
        return RawExtractionResult(True, self._read_member(member), member)

    def json(self, name: str) -> JsonExtractionResult:
        member = self.resolve_member(name)
        if member is None:
            return JsonExtractionResult(False)
        raw_bytes = self._read_member(member).getvalue()
        if not raw_bytes:
            return JsonExtractionResult(True, {}, member)
        data = parse_json_bytes(raw_bytes, self.errors)
        if data is None:
            return JsonExtractionResult(True, {}, member)
        if not isinstance(data, (dict, list)):
            self.errors["TypeError"] += 1
            return JsonExtractionResult(True, {}, member)
        return JsonExtractionResult(True, data, member)

    def json_all(self, pattern: str) -> list:
        regex = re.compile(pattern)
        members = sorted(m for m in self._files if regex.search(m))
        return [self.json(m) for m in members]

    def csv(self, name: str) -> CsvExtractionResult:
        member = self.resolve_member(name)
        if member is None:
            return CsvExtractionResult(False)
        raw_bytes = self._read_member(member).getvalue()
        try:
            reader = csv.DictReader(io.StringIO(decode_text_lines(raw_bytes, self.errors)))
            rows = [dict(row) for row in reader]
            table = Table(rows, columns=reader.fieldnames) if reader.fieldnames else Table()
        except (csv.Error, ValueError):
            self.errors["CSVDecodeError"] += 1
            table = Table()
        return CsvExtractionResult(True, table, member)


# --- contents -------------------------------------------------------------------------------------

#: Integers with more digits than this stay strings: Python refuses to convert very long ones, and
#: no count or id has that many.
MAX_INT_DIGITS = 4000
_LONE_SURROGATE_ESCAPE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _decode_json_text(raw: bytes) -> str:
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if raw.startswith(bom):
            return raw.decode(encoding)
    # JSON starts with an ASCII character, so UTF-16 without a BOM shows a zero byte next to it.
    if len(raw) >= 2 and raw[0] == 0 and raw[1] != 0:
        return raw.decode("utf-16-be")
    if len(raw) >= 2 and raw[0] != 0 and raw[1] == 0:
        return raw.decode("utf-16-le")
    return raw.decode("utf-8")


def parse_json_bytes(raw: bytes, errors: Counter) -> Any:
    """A platform's JSON file as Python data, or None (with a count) when it cannot be read.

    UTF-8 with or without a BOM, UTF-16 and UTF-32 are read. NaN and infinities become None, as
    they would fail the host's `JSON.parse`; an integer longer than `MAX_INT_DIGITS` digits stays
    a string; a lone surrogate escape becomes U+FFFD; nesting too deep for Python is a count.
    """
    try:
        text = _decode_json_text(raw)
    except UnicodeDecodeError:
        errors["JSONDecodeError"] += 1
        return None
    if "\\u" in text and _LONE_SURROGATE_ESCAPE.search(text):
        errors["LoneSurrogate"] += 1
        text = _LONE_SURROGATE_ESCAPE.sub(r"\\ufffd", text)

    def non_finite(_name: str) -> None:
        errors["NonFiniteNumber"] += 1
        return None

    def finite_float(literal: str) -> Optional[float]:
        value = float(literal)
        return value if math.isfinite(value) else non_finite(literal)

    def bounded_int(literal: str) -> Any:
        if len(literal) > MAX_INT_DIGITS:
            errors["HugeInteger"] += 1
            return literal
        return int(literal)

    try:
        return json.loads(text, parse_constant=non_finite, parse_float=finite_float, parse_int=bounded_int)
    except RecursionError:
        errors["JSONTooDeep"] += 1
    except ValueError:
        errors["JSONDecodeError"] += 1
    return None


def decode_text_lines(raw: bytes, errors: Optional[Counter] = None) -> str:
    """Text of a file whose lines may each be in another encoding, as exports stitched together are.

    UTF-16 with a BOM is decoded whole; otherwise each line is UTF-8, else cp1252, else latin-1
    (which never fails). NUL bytes are dropped.
    """
    errors = errors if errors is not None else Counter()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = raw.decode("utf-16", "replace")
    else:
        if raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            lines = []
            for line in raw.splitlines(keepends=True):
                try:
                    lines.append(line.decode("utf-8"))
                    continue
                except UnicodeDecodeError:
                    errors["LineDecodeFallback"] += 1
                try:
                    lines.append(line.decode("cp1252"))
                except UnicodeDecodeError:
                    lines.append(line.decode("latin-1"))
            text = "".join(lines)
    if "\x00" in text:
        errors["NULBytes"] += 1
        text = text.replace("\x00", "")
    return text


def fix_latin1_string(text: str) -> str:
    """Undo Meta-style mojibake: UTF-8 bytes that were written as latin-1 characters ("cafÃ©" → "café").

    A string that is not such mojibake is returned unchanged.
    """
    if not isinstance(text, str) or text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def fix_latin1(value: Any) -> Any:
    """`fix_latin1_string` on every string in nested dicts and lists, keys included."""
    if isinstance(value, str):
        return fix_latin1_string(value)
    if isinstance(value, dict):
        return {fix_latin1(key): fix_latin1(item) for key, item in value.items()}
    if isinstance(value, list):
        return [fix_latin1(item) for item in value]
    return value


def dict_denester(value: Any, parent_key: str = "", out: Optional[dict] = None) -> dict:
    """Flatten nested dicts and lists into one dict with keys joined by "-"."""
    out = {} if out is None else out
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(idx), item) for idx, item in enumerate(value))
    else:
        out[parent_key] = value
        return out
    for key, item in items:
        dict_denester(item, f"{parent_key}-{key}" if parent_key else str(key), out)
    return out


def epoch_to_iso(epoch: Any, errors: Optional[Counter] = None) -> str:
    """UTC ISO time for a Unix timestamp in seconds; "" for empty input other than 0."""
    if epoch is None or (not epoch and epoch != 0):
        return ""
    try:
        return datetime.fromtimestamp(float(epoch), tz=timezone.utc).isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        if errors is not None:
            errors["TimestampParseError"] += 1
        return ""


__all__ = [
    "ZipArchiveReader",
    "JsonExtractionResult",
    "CsvExtractionResult",
    "RawExtractionResult",
    "parse_json_bytes",
    "decode_text_lines",
    "fix_latin1_string",
    "fix_latin1",
    "dict_denester",
    "epoch_to_iso",
]
