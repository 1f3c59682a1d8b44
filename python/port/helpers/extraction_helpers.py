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


class ZipArchiveReader:
    """Member reads over one zip; `archive_members` is the namelist cached by validation."""

    def __init__(self, zip_path_or_filelike: Any, archive_members: Optional[list], errors: Counter) -> None:
        self.zip_source = zip_path_or_filelike
        self.errors = errors
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
                return io.BytesIO(archive.read(member))
        except Exception as error:  # noqa: BLE001
            self.errors[type(error).__name__] += 1
            content_logger.debug("failed to read %s", member)
            return io.BytesIO()

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
