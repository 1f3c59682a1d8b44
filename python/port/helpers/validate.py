"""Recognise which kind of data download (DDP) an uploaded zip is, from its content.

Validation happens before extraction so a wrong file leads to a page that names the problem
rather than a traceback (AD0002). It reads the file's first bytes and the zip's central directory,
never a member, so it costs the same for a 50 GB export as for a small one. Member names can
identify a participant, so they are kept out of reprs.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from enum import Enum
from pathlib import PurePosixPath
from typing import Any, Iterable, Optional

from port.helpers import problems
from port.helpers.problems import UploadProblem
from port.helpers.zip_access import is_encrypted, is_path, is_regular_file, normalise_name, open_zip


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
    #: What is wrong with the file, when it is not a recognised download; None when it is.
    problem: Optional[UploadProblem] = None

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


def _read_head(source: Any) -> tuple:
    """The first bytes of `source` (a path or a file object) and its size, read without the rest."""
    if is_path(source):
        with open(source, "rb") as file:
            file.seek(0, 2)
            size = file.tell()
            file.seek(0)
            return file.read(problems.HEAD_SIZE), size
    source.seek(0, 2)
    size = source.tell()
    source.seek(0)
    head = source.read(problems.HEAD_SIZE)
    source.seek(0)
    return head, size


def _looks_like_html_export(categories: list, names: list) -> bool:
    """The study's JSON files are there as web pages, or the download is mostly pages and no JSON."""
    basenames = {PurePosixPath(name).name.lower() for name in names}
    stems = {PurePosixPath(name).stem for name in basenames if name.endswith((".html", ".htm"))}
    for category in categories:
        wanted = {PurePosixPath(known).stem.lower() for known in category.known_files if known.lower().endswith(".json")}
        if wanted & stems:
            return True
    n_pages = sum(1 for name in basenames if name.endswith((".html", ".htm")))
    has_json = any(name.endswith(".json") for name in basenames)
    return not has_json and n_pages > 0 and 2 * n_pages >= len(basenames)


def find_problem(source: Any) -> tuple:
    """`(problem, members)`: what is wrong with the upload (None if it is a zip with members to
    match against the categories) and the zip's member names."""
    head, size = _read_head(source)
    if size == 0:
        return UploadProblem(problems.EMPTY), []
    kind = problems.sniff_head(head)
    # Text could still be a zip with something in front of it; the other formats cannot.
    if kind is not None and kind != "text":
        return UploadProblem(problems.NOT_ZIP, kind), []
    try:
        with open_zip(source) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        if head.startswith(b"PK"):
            return UploadProblem(problems.DAMAGED), []
        return UploadProblem(problems.NOT_ZIP, kind or "unknown"), []
    members = [info.filename for info in infos]
    files = [info for info in infos if is_regular_file(info)]
    if not files:
        return UploadProblem(problems.EMPTY), members
    names = [normalise_name(info.filename) for info in files]
    if "[Content_Types].xml" in names or names[0] == "mimetype":
        return UploadProblem(problems.NOT_ZIP, "office"), members
    if any(is_encrypted(info) for info in files):
        return UploadProblem(problems.ENCRYPTED), members
    return None, members


def validate_zip(ddp_categories: list, path_or_filelike: Any) -> ValidateInput:
    """Validate an upload against `ddp_categories`; every problem is a status and a `problem`, never an error.

    Status 0 is a recognised download, 1 anything else (as in feldspar); `problem` says what.
    """
    validation = ValidateInput(list(STATUS_CODES), list(ddp_categories))
    problem, members = find_problem(path_or_filelike)
    validation.archive_members = members
    if problem is None:
        names = [normalise_name(member) for member in members]
        if validation.infer_ddp_category(PurePosixPath(name).name for name in names):
            return validation
        if _looks_like_html_export(ddp_categories, names):
            problem = UploadProblem(problems.HTML_EXPORT)
        else:
            problem = UploadProblem(problems.WRONG_PLATFORM, problems.recognise_platform(names))
    validation.problem = problem
    validation.current_ddp_category = UNKNOWN_CATEGORY
    validation.set_status_code(1)
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
    "find_problem",
    "validate_zip",
]
