"""`FlowBuilder`: the upload → validate → extract → consent → donate flow for one platform.

Platforms subclass it and implement `validate_file` and `extract_data` (AD0001); the
log strings emitted here are part of the host contract and must not change. The flow
returns one of the `OUTCOME_*` strings so a study can decide what to show next.
"""

from __future__ import annotations

import inspect
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Generator, Mapping, Optional

from port.api.props import Translatable
from port.api.table import Table
from port.helpers import port_helpers as ph
from port.helpers import problems
from port.helpers.problems import UploadProblem
from port.helpers.uploads import ChunkedExportError, check_payload_size

OUTCOME_SKIPPED = "skipped"
OUTCOME_UNSAFE = "unsafe"  # No longer returned: a split part is asked about, not refused.
OUTCOME_INVALID = "invalid"
OUTCOME_NO_DATA = "no_data"
OUTCOME_NO_CONSENT_ANSWER = "no_consent_answer"
OUTCOME_DONATED = "donated"
OUTCOME_DECLINED = "declined"
OUTCOME_DONATE_FAILED = "donate_failed"


@dataclass
class ExtractionResult:
    tables: list
    errors: Counter = field(default_factory=Counter)


def _row_count(table: Any) -> int:
    # Counts rows even for a columnar dict, where len() would count columns.
    data_frame = getattr(table, "data_frame", table)
    try:
        if data_frame is None:
            return 0
        if isinstance(data_frame, str):
            return len(Table(json.loads(data_frame)))
        if isinstance(data_frame, Mapping):
            return len(Table(data_frame))
        return len(data_frame)
    except (TypeError, ValueError):
        return 0


def _error_summary(errors: Counter) -> str:
    if not errors:
        return "none"
    return ", ".join(f"{name}×{count}" for name, count in errors.items())


class FlowBuilder:
    """Template for one platform's donation flow; drive it with `yield from start_flow()`."""

    file_extensions = "application/zip"

    def __init__(self, session_id: Any, platform_name: str) -> None:
        self.session_id = session_id
        self.platform_name = platform_name
        self.UI_TEXT = {
            "submit_file_header": Translatable(
                {"en": f"Select your {platform_name} file", "nl": f"Selecteer uw {platform_name} bestand"}
            ),
            "review_data_header": Translatable(
                {"en": f"Your {platform_name} data", "nl": f"Uw {platform_name} gegevens"}
            ),
            "retry_header": Translatable({"en": "Try again", "nl": "Probeer opnieuw"}),
            "review_data_description": Translatable(
                {
                    "en": f"Below you will find a selection of your {platform_name} data. "
                    "You can remove rows you do not want to share before deciding.",
                    "nl": f"Hieronder ziet u een selectie van uw {platform_name} gegevens. "
                    "U kunt rijen verwijderen die u niet wilt delen voordat u beslist.",
                }
            ),
        }

        #: Words for the problem pages, by kind (see `port.helpers.problems.PROBLEM_TEXT`): a study
        #: sets e.g. `self.PROBLEM_TEXT["html_export"] = {"text": {...}}` to change a page's copy.
        self.PROBLEM_TEXT: dict = {}

    # Hooks for subclasses.

    def validate_file(self, file: Any):
        raise NotImplementedError

    def extract_data(self, file: Any, validation: Any):
        raise NotImplementedError

    def generate_file_prompt(self):
        return ph.generate_file_prompt(self.file_extensions)

    def generate_retry_prompt(self):
        return ph.generate_retry_prompt(self.platform_name)

    def generate_problem_page(self, problem: UploadProblem):
        """The page that tells the participant what is wrong with their file."""
        return problems.problem_page(problem, self.platform_name, self.PROBLEM_TEXT)

    def _problem_of(self, validation: Any) -> Optional[UploadProblem]:
        problem = getattr(validation, "problem", None)
        return problem if isinstance(problem, UploadProblem) else None

    def generate_review_data_prompt(self, tables: list):
        return ph.generate_review_data_prompt(self.UI_TEXT["review_data_description"], tables)

    def donation_key(self) -> str:
        # Per-platform keys keep multi-platform studies from overwriting each other (AD0005).
        return f"{self.session_id}-{self.platform_name.lower()}"

    # The flow.

    def _log(self, message: str) -> Generator:
        yield from ph.emit_log("info", f"[{self.platform_name}] {message}")

    def start_flow(self) -> Generator:
        while True:
            yield from self._log("Upload prompt sent")
            file_result = yield ph.render_page(self.UI_TEXT["submit_file_header"], self.generate_file_prompt())
            payload_type = getattr(file_result, "__type__", None)
            if payload_type != "PayloadFile":
                yield from self._log(f"Upload skipped: type={payload_type}")
                return OUTCOME_SKIPPED
            file = file_result.value
            yield from self._log(f"Upload received: size={getattr(file, 'size', None)}")
            try:
                check_payload_size(file_result)
            except ChunkedExportError:
                yield from self._log(f"Validation problem: {problems.SPLIT_PART}")
                go_on = yield self.generate_problem_page(UploadProblem(problems.SPLIT_PART))
                if getattr(go_on, "__type__", None) != "PayloadTrue":
                    continue

            validation = self.validate_file(file)
            status = validation.get_status_code_id()
            category = getattr(getattr(validation, "current_ddp_category", None), "id", None) or "unknown"
            if status == 0:
                yield from self._log(f"Validation: valid ({category})")
            else:
                problem = self._problem_of(validation)
                # A study's own validation may say only "invalid": then the general retry page.
                yield from self._log("Validation: invalid")
                yield from self._log(f"Validation problem: {problem.log_text() if problem else 'unknown'}")
                page = self.generate_problem_page(problem) if problem else ph.render_page(
                    self.UI_TEXT["retry_header"], self.generate_retry_prompt()
                )
                retry = yield page
                if getattr(retry, "__type__", None) == "PayloadTrue":
                    continue
                return OUTCOME_INVALID

            result = self.extract_data(file, validation)
            if inspect.isgenerator(result):
                result = yield from result
            if result is None:
                result = ExtractionResult([])
            n_rows = sum(_row_count(table) for table in result.tables)
            yield from self._log(
                f"Extraction complete: {len(result.tables)} tables, {n_rows} rows; "
                f"errors: {_error_summary(result.errors)}"
            )
            if not result.tables:
                # Counted failures mean the files were there but could not be read.
                kind = problems.UNREADABLE if result.errors else problems.NO_DATA
                yield from self._log(f"Validation problem: {kind}")
                again = yield self.generate_problem_page(UploadProblem(kind))
                if getattr(again, "__type__", None) == "PayloadTrue":
                    continue
                return OUTCOME_NO_DATA
            break

        yield from self._log("Consent form shown")
        consent = yield ph.render_page(
            self.UI_TEXT["review_data_header"], self.generate_review_data_prompt(result.tables)
        )
        consent_type = getattr(consent, "__type__", None)
        if consent_type == "PayloadJSON":
            data = consent.value
            declined = False
            yield from self._log("Consent: accepted")
        elif consent_type == "PayloadFalse":
            data = json.dumps({"status": "data_submission declined"})
            declined = True
            yield from self._log("Consent: declined")
        else:
            return OUTCOME_NO_CONSENT_ANSWER

        yield from self._log(f"Donation started: payload size={len(data)} bytes")
        donate_result = yield ph.donate(self.donation_key(), data)
        if not ph.handle_donate_result(donate_result):
            if declined:
                # The participant already said no; a lost decline record needs no page.
                yield from self._log("Donation result: decline record failed (silent)")
                return OUTCOME_DECLINED
            yield from self._log("Donation result: failed")
            yield ph.render_donate_failure_page(self.platform_name)
            return OUTCOME_DONATE_FAILED
        yield from self._log("Donation result: success")
        return OUTCOME_DECLINED if declined else OUTCOME_DONATED


__all__ = [
    "FlowBuilder",
    "ExtractionResult",
    "OUTCOME_SKIPPED",
    "OUTCOME_UNSAFE",
    "OUTCOME_INVALID",
    "OUTCOME_NO_DATA",
    "OUTCOME_NO_CONSENT_ANSWER",
    "OUTCOME_DONATED",
    "OUTCOME_DECLINED",
    "OUTCOME_DONATE_FAILED",
]
