"""Recognise which kind of data download (DDP) an uploaded zip is, from its member names.

Validation happens before extraction so a wrong file leads to a retry prompt rather
than a traceback (AD0002). Member names can identify a participant, so they are kept
out of reprs.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from enum import Enum
from pathlib import PurePosixPath
from typing import Any, Iterable, Optional


class DDPFiletype(Enum):
    JSON = 1
    HTML = 2
    CSV = 3
    TXT = 4
    UNKOWN = 5  # Spelled as in feldspar so existing scripts keep working.


class Language(Enum):
    EN = 1
    NL = 2
    UNKNOWN = 3


@dataclass
class DDPCategory:
    id: str
    ddp_filetype: DDPFiletype
    language: Language
    known_files: list


@dataclass
class StatusCode:
    id: int
    description: str
    message: str = ""


@dataclass
class BaseValidation:
    status_code: Optional[StatusCode] = None

    def get_status_code_id(self) -> int:
        return 1 if self.status_code is None else self.status_code.id


# Score threshold (percent of known files present) for accepting a category.
MIN_CATEGORY_SCORE = 5

UNKNOWN_CATEGORY = DDPCategory("unknown", DDPFiletype.UNKOWN, Language.UNKNOWN, [])


@dataclass
class ValidateInput:
    all_status_codes: list
    all_ddp_categories: list
    current_status_code: Optional[StatusCode] = None
    current_ddp_category: Optional[DDPCategory] = None
    archive_members: list = field(default_factory=list, repr=False)

    def set_status_code(self, status_id: int) -> None:
        for status in self.all_status_codes:
            if status.id == status_id:
                self.current_status_code = status
                return
        raise ValueError(f"unknown status code {status_id}")

    def get_status_code_id(self) -> int:
        return 1 if self.current_status_code is None else self.current_status_code.id

    def infer_ddp_category(self, basenames: Iterable[str]) -> bool:
        """Pick the category whose known files are best represented; True if one qualifies."""
        names = list(basenames)
        best_score, best_category = 0.0, None
        for category in self.all_ddp_categories:
            if not category.known_files:
                # An empty list would divide by zero; such a category cannot match.
                continue
            known = set(category.known_files)
            score = 100 * sum(1 for name in names if name in known) / len(category.known_files)
            if score > best_score:  # Strictly greater, so ties go to the first category.
                best_score, best_category = score, category
        if best_category is not None and best_score >= MIN_CATEGORY_SCORE:
            self.current_ddp_category = best_category
            self.set_status_code(0)
            return True
        self.current_ddp_category = UNKNOWN_CATEGORY
        self.set_status_code(1)
        return False


STATUS_CODES = [
    StatusCode(0, "Detected a zip from the DDPCategory list"),
    StatusCode(1, "Undetected zip or bad zipfile"),
]


def validate_zip(ddp_categories: list, path_or_filelike: Any) -> ValidateInput:
    """Validate a zip against `ddp_categories`; a corrupt zip is status 1, not an error."""
    validation = ValidateInput(list(STATUS_CODES), list(ddp_categories))
    try:
        with zipfile.ZipFile(path_or_filelike) as archive:
            members = archive.namelist()
    except zipfile.BadZipFile:
        validation.current_ddp_category = UNKNOWN_CATEGORY
        validation.set_status_code(1)
        return validation
    validation.archive_members = members
    validation.infer_ddp_category(PurePosixPath(member).name for member in members)
    return validation


__all__ = [
    "DDPFiletype",
    "Language",
    "DDPCategory",
    "StatusCode",
    "BaseValidation",
    "ValidateInput",
    "STATUS_CODES",
    "UNKNOWN_CATEGORY",
    "validate_zip",
]
