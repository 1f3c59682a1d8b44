"""Pages and prompts a study script can render (feldspar's `props.py` plus D3I's `d3i_props.py`).

Every class is a dataclass whose constructor takes the wire fields in the order of the
feldspar fact sheet, so positional calls from existing scripts keep working, and whose
`toDict()` is the exact wire dict with `__type__`. Python `None` is emitted as JSON
null; the engine treats null as absent.

Tables (`data_frame`) may be a `Table`, a list of row dicts, a columnar dict, or a
pandas DataFrame; pandas itself is never imported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from port.api.table import Table, _is_dataframe


@dataclass
class Translatable:
    """Text in several locales, `{"translations": {"en": ..., "nl": ...}}` on the wire.

    feldspar requires `en` and `nl`; we accept any non-empty locale mapping because the
    renderer falls back between locales.
    """

    translations: Mapping[str, str]

    def __post_init__(self) -> None:
        if isinstance(self.translations, Translatable):
            self.translations = dict(self.translations.translations)
        if not isinstance(self.translations, Mapping):
            raise TypeError("Translatable needs a mapping of locale to text")
        if "translations" in self.translations and isinstance(self.translations["translations"], Mapping):
            # Accept an already wire-shaped dict so round-tripping is harmless.
            self.translations = self.translations["translations"]
        if not self.translations:
            raise ValueError("Translatable needs at least one locale")
        self.translations = {str(locale): str(text) for locale, text in self.translations.items()}

    def toDict(self) -> dict:
        return {"translations": dict(self.translations)}


def _text(value: Any) -> Any:
    """Wire form of a Text field: a Translatable, a locale dict, a plain string, or None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Translatable):
        return value.toDict()
    if isinstance(value, Mapping):
        return Translatable(value).toDict()
    raise TypeError(f"expected Translatable, locale dict or str, got {type(value).__name__}")


def _item(value: Any) -> Any:
    """Wire form of a nested prop, list or plain value."""
    if hasattr(value, "toDict"):
        return value.toDict()
    if isinstance(value, (list, tuple)):
        return [_item(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _item(v) for k, v in value.items()}
    return value


def _body_list(body: Any) -> list:
    # feldspar wraps a single body item into a list; so do we.
    if body is None:
        return []
    if isinstance(body, (list, tuple)):
        return list(body)
    return [body]


def _headers(headers: Optional[Mapping]) -> Optional[dict]:
    if headers is None:
        return None
    return {str(column): _text(text) for column, text in headers.items()}


# Pages and their parts.


@dataclass
class PropsUIHeader:
    title: Any

    def toDict(self) -> dict:
        return {"__type__": "PropsUIHeader", "title": _text(self.title)}


@dataclass
class PropsUIFooter:
    """Python-only: the page has no slot for it, so it is never rendered."""

    progress_percentage: float

    def toDict(self) -> dict:
        return {"__type__": "PropsUIFooter", "progressPercentage": self.progress_percentage}


@dataclass
class PropsUIPageDataSubmission:
    """The page every flow renders: a platform name, a header and a list of body items."""

    platform: Any
    header: Any
    body: Any

    def __post_init__(self) -> None:
        self.body = _body_list(self.body)

    def toDict(self) -> dict:
        return {
            "__type__": type(self).__name__,
            "platform": self.platform,
            "header": _item(self.header),
            "body": [_item(b) for b in self.body],
        }


@dataclass
class PropsUIPageDonation(PropsUIPageDataSubmission):
    """The pre-October-2025 name of `PropsUIPageDataSubmission`, kept for older scripts."""


@dataclass
class PropsUIPageEnd:
    """feldspar upstream's end page. It never resolves, so a flow should not wait on it."""

    def toDict(self) -> dict:
        return {"__type__": "PropsUIPageEnd"}


@dataclass
class PropsUIPageError:
    """A body item, despite its name: static error copy plus `message`."""

    message: str

    def toDict(self) -> dict:
        return {"__type__": "PropsUIPageError", "message": self.message}


# Prompts.


@dataclass
class PropsUIPromptFileInput:
    """File picker; resolves PayloadFile. `extensions` is the input's accept string."""

    description: Any
    extensions: str

    def toDict(self) -> dict:
        return {"__type__": type(self).__name__, "description": _text(self.description), "extensions": self.extensions}


@dataclass
class PropsUIPromptFileInputMultiple(PropsUIPromptFileInput):
    """D3I multi-file picker; resolves PayloadFileArray."""


@dataclass
class PropsUIPromptConfirm:
    """OK resolves PayloadTrue, cancel resolves PayloadFalse (both buttons are rendered)."""

    text: Any
    ok: Any
    cancel: Any

    def toDict(self) -> dict:
        return {
            "__type__": "PropsUIPromptConfirm",
            "text": _text(self.text),
            "ok": _text(self.ok),
            "cancel": _text(self.cancel),
        }


@dataclass
class PropsUIPromptRetry:
    """D3I single-button retry; OK resolves PayloadTrue."""

    text: Any
    ok: Any

    def toDict(self) -> dict:
        return {"__type__": "PropsUIPromptRetry", "text": _text(self.text), "ok": _text(self.ok)}


@dataclass
class PropsUIPromptRadioInput:
    """Resolves PayloadString with the chosen item's `value` text (not its id)."""

    title: Any
    description: Any
    items: list

    def toDict(self) -> dict:
        items = []
        for idx, entry in enumerate(self.items):
            if isinstance(entry, Mapping):
                items.append({"id": int(entry["id"]), "value": str(entry["value"])})
            else:
                items.append({"id": idx, "value": str(entry)})
        return {
            "__type__": "PropsUIPromptRadioInput",
            "title": _text(self.title),
            "description": _text(self.description),
            "items": items,
        }


@dataclass
class PropsUIPromptProgress:
    """Resolves PayloadTrue as soon as it is rendered."""

    description: Any
    message: str
    percentage: Optional[int] = None

    def toDict(self) -> dict:
        return {
            "__type__": "PropsUIPromptProgress",
            "description": _text(self.description),
            "message": self.message,
            "percentage": self.percentage,
        }


@dataclass
class PropsUIPromptText:
    """Display only; never resolves on its own."""

    text: Any
    title: Any = None

    def toDict(self) -> dict:
        return {"__type__": "PropsUIPromptText", "text": _text(self.text), "title": _text(self.title)}


@dataclass
class PropsUIPromptHelloWorld:
    text: Any

    def toDict(self) -> dict:
        return {"__type__": "PropsUIPromptHelloWorld", "text": _text(self.text)}


DEFAULT_DATA_FRAME_MAX_SIZE = 10000


@dataclass
class PropsUIPromptConsentFormTable:
    """A read-only table; `data_frame` goes on the wire as a columnar JSON string.

    The table is truncated to `data_frame_max_size` rows (at least 1) so a huge
    extraction cannot produce an unrenderable page.
    """

    id: str
    number: int
    title: Any
    description: Any
    data_frame: Any
    headers: Optional[Mapping] = None
    data_frame_max_size: int = DEFAULT_DATA_FRAME_MAX_SIZE

    def __post_init__(self) -> None:
        self.data_frame_max_size = max(1, int(self.data_frame_max_size))
        self.data_frame = Table(self.data_frame).head(self.data_frame_max_size)

    def toDict(self) -> dict:
        return {
            "__type__": "PropsUIPromptConsentFormTable",
            "id": self.id,
            "number": self.number,
            "title": _text(self.title),
            "description": _text(self.description),
            "data_frame": self.data_frame.to_json(),
            "headers": _headers(self.headers),
        }


@dataclass
class PropsUIDataSubmissionButtons:
    """Donate/No buttons for ConsentFormTables on the same page.

    Leave neither text as None: feldspar's renderer throws on missing fields.
    """

    donate_question: Any = None
    donate_button: Any = None
    waiting: bool = False

    def toDict(self) -> dict:
        return {
            "__type__": "PropsUIDataSubmissionButtons",
            "donateQuestion": _text(self.donate_question),
            "donateButton": _text(self.donate_button),
            "waiting": bool(self.waiting),
        }


@dataclass
class PropsUIPromptConsentForm:
    """feldspar's consent form. No renderer exists for it in feldspar; kept for completeness."""

    tables: list
    description: Any = None
    donate_question: Any = None
    donate_button: Any = None

    def toDict(self) -> dict:
        return {
            "__type__": "PropsUIPromptConsentForm",
            "tables": [_item(t) for t in self.tables],
            "description": _text(self.description),
            "donateQuestion": _text(self.donate_question),
            "donateButton": _text(self.donate_button),
        }


@dataclass
class PropsUIPromptConsentFormTableViz:
    """One table of a ConsentFormViz, with optional visualizations.

    A DataFrame, `Table` or list of rows goes on the wire as a columnar JSON string;
    a plain dict goes as a columnar object, as in D3I.
    """

    id: str
    title: Any
    data_frame: Any
    description: Any = None
    visualizations: Optional[list] = None
    headers: Optional[Mapping] = None
    folded: bool = False
    delete_option: bool = True

    def __len__(self) -> int:
        return len(Table(self.data_frame)) if self.data_frame is not None else 0

    def _data_frame_wire(self) -> Any:
        if self.data_frame is None:
            return None
        if isinstance(self.data_frame, Mapping):
            return Table(self.data_frame).to_dict()
        if isinstance(self.data_frame, str):
            # Already serialized by the caller.
            return self.data_frame
        return Table(self.data_frame).to_json()

    def toDict(self) -> dict:
        return {
            "__type__": "PropsUIPromptConsentFormTableViz",
            "id": self.id,
            "title": _text(self.title),
            "data_frame": self._data_frame_wire(),
            "description": _text(self.description),
            "visualizations": _item(self.visualizations) if self.visualizations is not None else None,
            "headers": _headers(self.headers),
            "folded": bool(self.folded),
            "delete_option": bool(self.delete_option),
        }


@dataclass
class PropsUIPromptConsentFormViz:
    """Review-and-consent form; Donate resolves PayloadJSON, No resolves PayloadFalse."""

    tables: list
    description: Any = None
    donate_question: Any = None
    donate_button: Any = None

    def toDict(self) -> dict:
        return {
            "__type__": "PropsUIPromptConsentFormViz",
            "tables": [_item(t) for t in self.tables],
            "description": _text(self.description),
            "donateQuestion": _text(self.donate_question),
            "donateButton": _text(self.donate_button),
        }


@dataclass
class PropsUIQuestionOpen:
    id: int
    question: Any

    def toDict(self) -> dict:
        return {"__type__": "PropsUIQuestionOpen", "id": self.id, "question": _text(self.question)}


@dataclass
class PropsUIQuestionMultipleChoice:
    id: int
    question: Any
    choices: list = field(default_factory=list)

    def toDict(self) -> dict:
        return {
            "__type__": type(self).__name__,
            "id": self.id,
            "question": _text(self.question),
            "choices": [_text(c) for c in self.choices],
        }


@dataclass
class PropsUIQuestionMultipleChoiceCheckbox(PropsUIQuestionMultipleChoice):
    pass


@dataclass
class PropsUIPromptQuestionnaire:
    """Continue resolves PayloadJSON `{question_id: answer}`; there is no cancel."""

    description: Any
    questions: list

    def toDict(self) -> dict:
        return {
            "__type__": "PropsUIPromptQuestionnaire",
            "description": _text(self.description),
            "questions": [_item(q) for q in self.questions],
        }


__all__ = [
    "Translatable",
    "PropsUIHeader",
    "PropsUIFooter",
    "PropsUIPageDataSubmission",
    "PropsUIPageDonation",
    "PropsUIPageEnd",
    "PropsUIPageError",
    "PropsUIPromptFileInput",
    "PropsUIPromptFileInputMultiple",
    "PropsUIPromptConfirm",
    "PropsUIPromptRetry",
    "PropsUIPromptRadioInput",
    "PropsUIPromptProgress",
    "PropsUIPromptText",
    "PropsUIPromptHelloWorld",
    "PropsUIPromptConsentFormTable",
    "PropsUIDataSubmissionButtons",
    "PropsUIPromptConsentForm",
    "PropsUIPromptConsentFormTableViz",
    "PropsUIPromptConsentFormViz",
    "PropsUIQuestionOpen",
    "PropsUIQuestionMultipleChoice",
    "PropsUIQuestionMultipleChoiceCheckbox",
    "PropsUIPromptQuestionnaire",
    "DEFAULT_DATA_FRAME_MAX_SIZE",
    "Table",
]
