"""What is wrong with an uploaded file, found from its content, and the page that says so.

A participant who chose the wrong file can only act on words that name the problem: "this is a
7z archive", "this download is cut off", "this is the HTML format". Validation recognises the file
by its bytes, never by its name, and `problem_page` turns the finding into a page in the
participant's language. Studies that use `FlowBuilder` get these pages; a study can change the
words of any of them (`FlowBuilder.PROBLEM_TEXT`, or `overrides` here).

Problems carry only a kind and a coarse detail (a format or a platform's name), never a member
name or content, so they may go to the host in logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from port.api.props import (
    PropsUIHeader,
    PropsUIPageDataSubmission,
    PropsUIPromptConfirm,
    Translatable,
)
from port.api.commands import CommandUIRender

EMPTY = "empty"
NOT_ZIP = "not_zip"
DAMAGED = "damaged"
ENCRYPTED = "encrypted"
HTML_EXPORT = "html_export"
WRONG_PLATFORM = "wrong_platform"
SPLIT_PART = "split_part"
NO_DATA = "no_data"
UNREADABLE = "unreadable"

KINDS = (EMPTY, NOT_ZIP, DAMAGED, ENCRYPTED, HTML_EXPORT, WRONG_PLATFORM, SPLIT_PART, NO_DATA, UNREADABLE)

#: Platforms split large downloads into parts of exactly this size.
SPLIT_PART_SIZE = 2 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class UploadProblem:
    """`kind` is one of `KINDS`; `detail` names the format (for `not_zip`) or the other platform."""

    kind: str
    detail: Optional[str] = None

    def log_text(self) -> str:
        return f"{self.kind} ({self.detail})" if self.detail else self.kind


# --- recognising a file by its first bytes --------------------------------------------------------

_MAGIC = [
    (b"\x1f\x8b", "gzip"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"%PDF", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF87a", "image"),
    (b"GIF89a", "image"),
]
_ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
HEAD_SIZE = 1024


def sniff_head(head: bytes) -> Optional[str]:
    """The format of a file that is certainly not a zip, from its first bytes; None otherwise."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[257:262] == b"ustar":
        return "tar"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "image" if brand in (b"heic", b"heix", b"mif1", b"avif") else "video"
    if head.startswith(_ZIP_STARTS):
        return None
    return _sniff_text(head)


def _sniff_text(head: bytes) -> Optional[str]:
    if not head:
        return None
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            text = head[len(bom) :].decode(encoding, "ignore")
            break
    else:
        if b"\x00" in head:
            return None
        text = head.decode("utf-8", "ignore")
    stripped = text.lstrip().lower()
    if stripped.startswith(("<!doctype html", "<html", "<head", "<body")):
        return "html"
    if stripped.startswith(("{", "[")):
        return "json"
    printable = sum(1 for char in text if char.isprintable() or char in "\r\n\t")
    if text and printable / len(text) > 0.95:
        return "text"
    return None


# --- telling platforms apart by their files ---------------------------------------------------------

#: Paths (lowercase, `/`-separated) that only one platform's download has; checked when none of the
#: study's own categories matched, to tell the participant which download they chose instead.
PLATFORM_SIGNS = [
    ("Instagram", ("your_instagram_activity/", "instagram_profile_information")),
    ("Facebook", ("your_facebook_activity/", "your_activity_across_facebook/")),
    ("TikTok", ("user_data_tiktok.json",)),
    ("X (Twitter)", ("data/tweets.js", "data/account.js")),
    ("LinkedIn", ("connections.csv",)),
    ("Netflix", ("viewingactivity.csv",)),
    ("Google Takeout", ("takeout/",)),
]


def recognise_platform(normalised_names: list) -> Optional[str]:
    """The name of the platform whose download these member paths look like, if any."""
    lowered = ["/" + name.lower() for name in normalised_names]
    for platform, signs in PLATFORM_SIGNS:
        for sign in signs:
            needle = "/" + sign
            if any(needle in name or name.endswith(needle.rstrip("/")) for name in lowered):
                return platform
    return None


# --- the pages ----------------------------------------------------------------------------------

_ANOTHER_FILE = {"en": "Choose another file", "nl": "Kies een ander bestand"}
_GO_ON_WITHOUT = {"en": "Continue without sharing", "nl": "Verder zonder te delen"}

#: What each `not_zip` detail is called, to fill "{what}".
FORMAT_NAMES = {
    "gzip": {"en": "a .tar.gz (or .tgz) archive", "nl": "een .tar.gz-archief (of .tgz)"},
    "tar": {"en": "a .tar archive", "nl": "een .tar-archief"},
    "7z": {"en": "a 7z archive", "nl": "een 7z-archief"},
    "rar": {"en": "a RAR archive", "nl": "een RAR-archief"},
    "bzip2": {"en": "a bzip2 archive", "nl": "een bzip2-archief"},
    "xz": {"en": "an xz archive", "nl": "een xz-archief"},
    "pdf": {"en": "a PDF document", "nl": "een PDF-document"},
    "image": {"en": "an image", "nl": "een afbeelding"},
    "video": {"en": "a video", "nl": "een video"},
    "json": {"en": "a single JSON file", "nl": "één los JSON-bestand"},
    "html": {"en": "a single web page (HTML)", "nl": "één losse webpagina (HTML)"},
    "text": {"en": "a text file", "nl": "een tekstbestand"},
    "office": {"en": "an office document", "nl": "een kantoordocument"},
    "unknown": {"en": "a file we do not recognise", "nl": "een bestand dat we niet herkennen"},
}

#: What to do about each `not_zip` detail, to fill "{advice}".
_REPACKED = {
    "en": "If you packed or converted the download yourself, choose the original .zip file from {platform} instead.",
    "nl": "Heeft u de download zelf ingepakt of omgezet? Kies dan het originele .zip-bestand van {platform}.",
}
_UNPACKED = {
    "en": "This looks like one file from inside your download. Some computers unpack a download by "
    "themselves: choose the .zip file you downloaded from {platform}, not a file from its folder.",
    "nl": "Dit lijkt één bestand uit uw download. Sommige computers pakken een download zelf uit: "
    "kies het .zip-bestand dat u van {platform} downloadde, niet een bestand uit de map.",
}
_WRONG_FILE = {
    "en": "Choose the .zip file you downloaded from {platform}. It is usually in your Downloads folder.",
    "nl": "Kies het .zip-bestand dat u van {platform} downloadde. Meestal staat het in uw map Downloads.",
}
FORMAT_ADVICE = {
    "gzip": {
        "en": "{platform} can send your data as a .zip file: request it in that format, or choose the .zip file "
        "if you received one.",
        "nl": "{platform} kan uw gegevens als .zip-bestand sturen: vraag ze in dat formaat aan, of kies het "
        ".zip-bestand als u dat heeft gekregen.",
    },
    "tar": _REPACKED,
    "7z": _REPACKED,
    "rar": _REPACKED,
    "bzip2": _REPACKED,
    "xz": _REPACKED,
    "json": _UNPACKED,
    "html": _UNPACKED,
    "text": _UNPACKED,
}

#: The words of every page: a header, a text, and the two buttons (OK answers True).
#: `{platform}`, `{what}`, `{advice}` and `{other}` are filled in.
PROBLEM_TEXT: dict = {
    EMPTY: {
        "header": {"en": "This file is empty", "nl": "Dit bestand is leeg"},
        "text": {
            "en": "The file you chose holds nothing. This often happens when a download did not finish. "
            "Download your {platform} data again and choose the new file.",
            "nl": "Het bestand dat u koos bevat niets. Dat gebeurt vaak als een download niet af is. "
            "Download uw {platform} gegevens opnieuw en kies het nieuwe bestand.",
        },
    },
    NOT_ZIP: {
        "header": {"en": "This is not a zip file", "nl": "Dit is geen zip-bestand"},
        "text": {
            "en": "The file you chose is {what}. Your {platform} data comes as a .zip file. {advice}",
            "nl": "Het bestand dat u koos is {what}. Uw {platform} gegevens komen als .zip-bestand. {advice}",
        },
    },
    DAMAGED: {
        "header": {"en": "This download is incomplete or damaged", "nl": "Deze download is onvolledig of beschadigd"},
        "text": {
            "en": "The file looks like a zip file, but it is cut off or damaged, for example because the "
            "download stopped early. Download your {platform} data again and choose the new file.",
            "nl": "Het bestand lijkt een zip-bestand, maar het is afgebroken of beschadigd, bijvoorbeeld "
            "omdat de download te vroeg stopte. Download uw {platform} gegevens opnieuw en kies het nieuwe bestand.",
        },
    },
    ENCRYPTED: {
        "header": {"en": "This file is protected with a password", "nl": "Dit bestand is beveiligd met een wachtwoord"},
        "text": {
            "en": "Your file is encrypted, so it cannot be read here. Request your data from {platform} again "
            "without a password, and choose that file.",
            "nl": "Uw bestand is versleuteld en kan hier niet worden gelezen. Vraag uw gegevens opnieuw aan bij "
            "{platform}, zonder wachtwoord, en kies dat bestand.",
        },
    },
    HTML_EXPORT: {
        "header": {"en": "This download is in HTML format", "nl": "Deze download is in HTML-formaat"},
        "text": {
            "en": "Your {platform} data was downloaded as web pages (HTML). This study needs the JSON format. "
            "Request your data from {platform} again, choose JSON as the format, and choose the new file.",
            "nl": "Uw {platform} gegevens zijn gedownload als webpagina's (HTML). Dit onderzoek heeft het "
            "JSON-formaat nodig. Vraag uw gegevens opnieuw aan bij {platform}, kies JSON als formaat, en "
            "kies het nieuwe bestand.",
        },
    },
    WRONG_PLATFORM: {
        "header": {"en": "This is not a {platform} download", "nl": "Dit is geen {platform} download"},
        "text": {
            "en": "We could not find the files of a {platform} download in it. Check that you chose the file "
            "you downloaded from {platform}.",
            "nl": "We vonden er niet de bestanden van een {platform} download in. Controleer of u het bestand "
            "koos dat u van {platform} downloadde.",
        },
        # With a recognised other platform, this text replaces the one above.
        "text_other": {
            "en": "This looks like a download from {other}. This study needs your {platform} data: choose the "
            "file you downloaded from {platform}.",
            "nl": "Dit lijkt een download van {other}. Dit onderzoek heeft uw {platform} gegevens nodig: kies "
            "het bestand dat u van {platform} downloadde.",
        },
    },
    SPLIT_PART: {
        "header": {"en": "This looks like one part of your download", "nl": "Dit lijkt één deel van uw download"},
        "text": {
            "en": "Your file is exactly 2 GB, the size of one part when {platform} splits a large download into "
            "several files. You can go on with this part, or choose another part.",
            "nl": "Uw bestand is precies 2 GB, de grootte van één deel als {platform} een grote download in "
            "meerdere bestanden splitst. U kunt verder met dit deel, of een ander deel kiezen.",
        },
        "ok": {"en": "Go on with this part", "nl": "Verder met dit deel"},
        "cancel": _ANOTHER_FILE,
    },
    NO_DATA: {
        "header": {"en": "No {platform} data found", "nl": "Geen {platform} gegevens gevonden"},
        "text": {
            "en": "We could not find any data to share in your {platform} file. You can choose another file, "
            "or continue without sharing.",
            "nl": "We hebben in uw {platform} bestand geen gegevens gevonden om te delen. U kunt een ander "
            "bestand kiezen, of verdergaan zonder te delen.",
        },
    },
    UNREADABLE: {
        "header": {"en": "Your files could not be read", "nl": "Uw bestanden konden niet worden gelezen"},
        "text": {
            "en": "We found your {platform} files, but could not read them: they are damaged, packed in a way "
            "we cannot read, or far larger than expected. Download your data again and choose the new file.",
            "nl": "We vonden uw {platform} bestanden, maar konden ze niet lezen: ze zijn beschadigd, verpakt op "
            "een manier die we niet kunnen lezen, of veel groter dan verwacht. Download uw gegevens opnieuw "
            "en kies het nieuwe bestand.",
        },
    },
}


def _fill(texts: Mapping[str, str], **values: Any) -> dict:
    def in_locale(value: Any, locale: str) -> Any:
        if isinstance(value, Mapping):
            return value.get(locale) or value.get("en")
        return value

    return {
        locale: text.format(**{key: in_locale(value, locale) for key, value in values.items()})
        for locale, text in texts.items()
    }


def problem_texts(problem: UploadProblem, platform_name: str, overrides: Optional[Mapping] = None) -> dict:
    """Header, text, ok and cancel of `problem`'s page as `{locale: text}` dicts."""
    words = dict(PROBLEM_TEXT[problem.kind])
    words.update((overrides or {}).get(problem.kind, {}))
    text = words["text"]
    if problem.kind == WRONG_PLATFORM and problem.detail and "text_other" in words:
        text = words["text_other"]
    detail = problem.detail or "unknown"
    advice = FORMAT_ADVICE.get(detail, _WRONG_FILE)
    values = {
        "platform": platform_name,
        "other": problem.detail or "",
        "what": FORMAT_NAMES.get(detail, FORMAT_NAMES["unknown"]),
        "advice": _fill(advice, platform=platform_name),
    }
    return {
        "header": _fill(words["header"], **values),
        "text": _fill(text, **values),
        "ok": dict(words.get("ok", _ANOTHER_FILE)),
        "cancel": dict(words.get("cancel", _GO_ON_WITHOUT)),
    }


def problem_page(problem: UploadProblem, platform_name: str, overrides: Optional[Mapping] = None) -> CommandUIRender:
    """The page for `problem`. OK (`PayloadTrue`) means "choose another file", except for a split
    part, where it means "go on with this part"."""
    words = problem_texts(problem, platform_name, overrides)
    confirm = PropsUIPromptConfirm(
        Translatable(words["text"]), Translatable(words["ok"]), Translatable(words["cancel"])
    )
    page = PropsUIPageDataSubmission(platform_name, PropsUIHeader(Translatable(words["header"])), [confirm])
    return CommandUIRender(page)


__all__ = [
    "UploadProblem",
    "KINDS",
    "EMPTY",
    "NOT_ZIP",
    "DAMAGED",
    "ENCRYPTED",
    "HTML_EXPORT",
    "WRONG_PLATFORM",
    "SPLIT_PART",
    "NO_DATA",
    "UNREADABLE",
    "SPLIT_PART_SIZE",
    "HEAD_SIZE",
    "PLATFORM_SIGNS",
    "PROBLEM_TEXT",
    "FORMAT_NAMES",
    "FORMAT_ADVICE",
    "sniff_head",
    "recognise_platform",
    "problem_texts",
    "problem_page",
]
