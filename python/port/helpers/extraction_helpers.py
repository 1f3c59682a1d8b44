"""Reading members of an uploaded zip into dicts, lists and `Table`s (a lean feldspar subset).

`ZipArchiveReader` resolves member names with path-boundary matching and turns every
failure into a count in the caller's `errors` Counter, so one bad file never stops an
extraction (AD0006). It returns `Table`s rather than DataFrames, so pandas is not needed.
Member paths can contain participant data and go only to the `.content` logger, which
never propagates.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

from port.api.table import Table

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
_READ_CHUNK = 1024 * 1024


class ZipArchiveReader:
    """Member reads over one zip; `archive_members` is the namelist cached by validation.

    Reads are bounded: a member is inflated chunk by chunk, never trusting the size its header
    declares, and is skipped (with a count in `errors`) once it passes `member_limit`, the
    upload's `total_limit`, or `max_ratio` times its compressed size. A bomb costs a count, not
    the participant's memory.
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
    ) -> None:
        self.zip_source = zip_path_or_filelike
        self.errors = errors
        self.member_limit = member_limit
        self.total_limit = total_limit
        self.max_ratio = max_ratio
        self.n_inflated = 0
        if archive_members is None:
            try:
                with zipfile.ZipFile(zip_path_or_filelike) as archive:
                    archive_members = archive.namelist()
            except Exception as error:  # noqa: BLE001
                self.errors[type(error).__name__] += 1
                archive_members = []
        self.archive_members = list(archive_members)

    def resolve_member(self, name: str) -> Optional[str]:
        """An exact match, else the unique member ending in "/name"; ambiguity gives None."""
        if name in self.archive_members:
            return name
        matches = [m for m in self.archive_members if m.endswith("/" + name)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            self.errors["AmbiguousMemberMatch"] += 1
        return None

    def _read_member(self, member: str) -> io.BytesIO:
        # A fresh ZipFile per read keeps reads independent; the adapter beneath only
        # fetches the slices zipfile asks for.
        try:
            with zipfile.ZipFile(self.zip_source) as archive:
                info = archive.getinfo(member)
                if info.file_size > self.member_limit:
                    # The declared size is only a hint, but a member that says it is too big is.
                    self.errors["MemberTooLarge"] += 1
                    return io.BytesIO()
                with archive.open(info) as stream:
                    return io.BytesIO(self._read_bounded(stream, max(info.compress_size, 1)))
        except _SkippedMember as skipped:
            self.errors[skipped.reason] += 1
            content_logger.debug("skipped %s: %s", member, skipped.reason)
            return io.BytesIO()
        except Exception as error:  # noqa: BLE001
            self.errors[type(error).__name__] += 1
            content_logger.debug("failed to read %s", member)
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
        for encoding in ("utf8", "utf-8-sig"):
            try:
                data = json.loads(raw_bytes.decode(encoding))
            except (UnicodeDecodeError, json.JSONDecodeError):
                self.errors["JSONDecodeError"] += 1
                continue
            if not isinstance(data, (dict, list)):
                self.errors["TypeError"] += 1
                return JsonExtractionResult(True, {}, member)
            return JsonExtractionResult(True, data, member)
        return JsonExtractionResult(True, {}, member)

    def json_all(self, pattern: str) -> list:
        regex = re.compile(pattern)
        members = sorted(m for m in self.archive_members if regex.search(m))
        return [self.json(m) for m in members]

    def csv(self, name: str) -> CsvExtractionResult:
        member = self.resolve_member(name)
        if member is None:
            return CsvExtractionResult(False)
        raw_bytes = self._read_member(member).getvalue()
        try:
            reader = csv.DictReader(io.StringIO(raw_bytes.decode("utf-8-sig")))
            rows = [dict(row) for row in reader]
            table = Table(rows, columns=reader.fieldnames) if reader.fieldnames else Table()
        except (UnicodeDecodeError, csv.Error, ValueError):
            self.errors["CSVDecodeError"] += 1
            table = Table()
        return CsvExtractionResult(True, table, member)


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
    "dict_denester",
    "epoch_to_iso",
]
