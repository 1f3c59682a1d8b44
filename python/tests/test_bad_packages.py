"""Broken, hostile and unusual uploads: each is recognised, named, and read within bounds.

The whole corpus runs through the native runner in `tests/corpus.rs`; these are the unit-level
facts underneath it.
"""

from __future__ import annotations

import gzip
import io
import json
import struct
import zipfile
from collections import Counter

import pytest

from port.helpers import problems
from port.helpers.extraction_helpers import ZipArchiveReader, fix_latin1
from port.helpers.problems import UploadProblem, problem_page, problem_texts
from port.helpers.validate import DDPCategory, DDPFiletype, Language, validate_zip
from port.helpers.zip_access import display_name, normalise_name, open_zip

CATEGORIES = [DDPCategory("demo", DDPFiletype.JSON, Language.EN, ["watch_history.json", "searches.csv"])]


def make_zip(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


GOOD = make_zip({"x/watch_history.json": "[1, 2]", "x/searches.csv": "q\na\n"})


def problem_of(data: bytes) -> UploadProblem | None:
    return validate_zip(CATEGORIES, io.BytesIO(data)).problem


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", UploadProblem("empty")),
        (make_zip({}), UploadProblem("empty")),
        (gzip.compress(b"x" * 600), UploadProblem("not_zip", "gzip")),
        (b"7z\xbc\xaf\x27\x1c" + bytes(40), UploadProblem("not_zip", "7z")),
        (b"Rar!\x1a\x07\x01\x00" + bytes(40), UploadProblem("not_zip", "rar")),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", UploadProblem("not_zip", "pdf")),
        (b"\x89PNG\r\n\x1a\n" + bytes(30), UploadProblem("not_zip", "image")),
        (bytes(257) + b"ustar\x0000" + bytes(300), UploadProblem("not_zip", "tar")),
        (b'\xef\xbb\xbf  {"watch_history": []}', UploadProblem("not_zip", "json")),
        (b"<!DOCTYPE html><html><body>hi</body></html>", UploadProblem("not_zip", "html")),
        (b"date,query\n2024-01-01,pasta\n", UploadProblem("not_zip", "text")),
        (bytes(range(256)) * 4, UploadProblem("not_zip", "unknown")),
        (GOOD[: len(GOOD) // 2], UploadProblem("damaged")),
        (make_zip({"[Content_Types].xml": "<x/>", "word/document.xml": "<x/>"}), UploadProblem("not_zip", "office")),
        (make_zip({"x/watch_history.html": "<p>", "x/index.html": "<p>"}), UploadProblem("html_export")),
        (make_zip({"your_instagram_activity/likes/liked_posts.json": "[]"}), UploadProblem("wrong_platform", "Instagram")),
        (make_zip({"Takeout/Chrome/History.json": "{}"}), UploadProblem("wrong_platform", "Google Takeout")),
        (make_zip({"IMG_0001.jpg": b"\xff\xd8\xff"}), UploadProblem("wrong_platform")),
        (make_zip({"demo.zip": GOOD}), UploadProblem("wrong_platform")),
    ],
)
def test_validation_names_what_the_file_is(data, expected):
    assert problem_of(data) == expected


def test_validation_accepts_a_good_zip_and_one_made_on_windows():
    assert problem_of(GOOD) is None
    windows = make_zip({"x\\watch_history.json": "[1]", "x\\searches.csv": "q\n"})
    validation = validate_zip(CATEGORIES, io.BytesIO(windows))
    assert validation.problem is None and validation.get_status_code_id() == 0


def _set_flag(data: bytes, member_index: int, flag: int) -> bytes:
    patched = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = -1
        for _ in range(member_index + 1):
            position = patched.index(signature, position + 1)
        flags = struct.unpack_from("<H", patched, position + offset)[0]
        struct.pack_into("<H", patched, position + offset, flags | flag)
    return bytes(patched)


def test_an_encrypted_member_makes_the_whole_upload_encrypted():
    assert problem_of(_set_flag(GOOD, 1, 0x1)) == UploadProblem("encrypted")


def _name_bytes_replaced(data: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new)
    return data.replace(old, new)


def test_a_name_that_is_not_the_utf8_it_claims_spoils_only_itself():
    data = make_zip({"x/watch_history.json": "[1]", "x/searches.csv": "q\na\n", "bad__.txt": "?"})
    data = _set_flag(data, 2, 0x800)
    data = _name_bytes_replaced(data, b"bad__.txt", b"bad\xff\xfe.txt")
    with pytest.raises(UnicodeDecodeError):
        zipfile.ZipFile(io.BytesIO(data))
    validation = validate_zip(CATEGORIES, io.BytesIO(data))
    assert validation.problem is None
    errors = Counter()
    reader = ZipArchiveReader(io.BytesIO(data), validation.archive_members, errors)
    assert reader.json("watch_history.json").data == [1]
    assert reader.raw("bad??.txt").data.getvalue() == b""
    assert errors["DamagedMemberName"] == 1


def test_names_are_matched_in_normal_form_and_shown_short():
    assert normalise_name("C:\\Users\\me\\..\\demo\\a.json") == "Users/me/demo/a.json"
    assert normalise_name("/../../etc/./passwd") == "etc/passwd"
    assert display_name("a\x00b") == "a?b"
    shown = display_name("n" * 10_000)
    assert len(shown) <= 80 and shown.startswith("nnn") and "…" in shown


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_links_directories_and_duplicates_are_never_read_as_data():
    link = zipfile.ZipInfo("x/watch_history.json")
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    folder = zipfile.ZipInfo("x/searches.csv/")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(link, "/etc/passwd")
        archive.writestr(folder, "hidden")
        archive.writestr("y/profile.json", '{"n": 1}')
        archive.writestr("y/profile.json", '{"n": 2}')
    errors = Counter()
    reader = ZipArchiveReader(io.BytesIO(buffer.getvalue()), None, errors)
    assert reader.json("watch_history.json").data == {}
    assert not reader.csv("searches.csv").found
    assert reader.json("profile.json").data == {"n": 2}
    assert errors == Counter({"SymlinkMember": 1, "DirectoryWithData": 1, "DuplicateMemberName": 1})


def test_nested_zips_open_only_when_asked_and_to_a_bounded_depth():
    inner = make_zip({"watch_history.json": "[7]"})
    middle = make_zip({"inner.zip": inner})
    outer = make_zip({"middle.zip": middle})
    errors = Counter()
    reader = ZipArchiveReader(io.BytesIO(outer), None, errors, max_depth=2)
    assert not reader.json("watch_history.json").found
    assert reader.nested("middle.zip").nested("inner.zip").json("watch_history.json").data == [7]
    too_deep = reader.nested("middle.zip").nested("inner.zip").nested("anything.zip")
    assert too_deep.archive_members == [] and errors["NestingTooDeep"] == 1


def test_unsupported_compression_and_bad_crc_skip_one_member_and_keep_the_rest():
    data = bytearray(make_zip({"a.json": "[1]", "b.json": "[2]", "c.json": "[3]"}))
    # Deflate64 (method 9) on a.json; a wrong CRC on b.json; both in the local and central headers.
    for signature, method_at, crc_at in ((b"PK\x03\x04", 8, 14), (b"PK\x01\x02", 10, 16)):
        first = data.index(signature)
        second = data.index(signature, first + 1)
        struct.pack_into("<H", data, first + method_at, 9)
        struct.pack_into("<I", data, second + crc_at, 0xDEADBEEF)
    errors = Counter()
    reader = ZipArchiveReader(io.BytesIO(bytes(data)), None, errors)
    assert reader.json("a.json").data == {}
    assert reader.json("b.json").data == {}
    assert reader.json("c.json").data == [3]
    assert errors == Counter({"UnsupportedCompression": 1, "BadCRC": 1})


def test_fix_latin1_undoes_meta_mojibake_and_leaves_good_text():
    fixed = fix_latin1({"title": "caf\u00c3\u00a9", "caf\u00c3\u00a9": ["na\u00c3\u00afve", "plain", "€ ok"]})
    assert fixed == {"title": "café", "café": ["naïve", "plain", "€ ok"]}


@pytest.mark.parametrize("kind", problems.KINDS)
@pytest.mark.parametrize("locale", ["en", "nl"])
def test_every_problem_has_its_own_page_in_english_and_dutch(kind, locale):
    detail = {"not_zip": "7z", "wrong_platform": "Instagram"}.get(kind)
    texts = problem_texts(UploadProblem(kind, detail), "Demo")
    others = [problem_texts(UploadProblem(k), "Demo") for k in problems.KINDS if k != kind]
    assert all(texts[part][locale] for part in ("header", "text", "ok", "cancel"))
    assert texts["ok"][locale] != texts["cancel"][locale]
    assert all(texts["header"][locale] != other["header"][locale] for other in others)
    assert "{" not in texts["text"][locale]


def test_not_zip_pages_say_what_the_file_is_and_what_to_do():
    seven = problem_texts(UploadProblem("not_zip", "7z"), "Demo")["text"]
    assert "a 7z archive" in seven["en"] and "original .zip" in seven["en"]
    assert "een 7z-archief" in seven["nl"]
    unpacked = problem_texts(UploadProblem("not_zip", "json"), "Demo")["text"]["en"]
    assert "a single JSON file" in unpacked and "unpack" in unpacked
    other = problem_texts(UploadProblem("wrong_platform", "Instagram"), "Demo")["text"]["en"]
    assert "download from Instagram" in other


def test_a_study_can_change_the_words_of_a_page():
    page = problem_page(
        UploadProblem("html_export"), "Demo", {"html_export": {"text": {"en": "Pick JSON in Settings.", "nl": "Kies JSON."}}}
    ).toDict()
    confirm = page["page"]["body"][0]
    assert confirm["text"]["translations"] == {"en": "Pick JSON in Settings.", "nl": "Kies JSON."}
    assert page["page"]["header"]["title"]["translations"]["en"] == "This download is in HTML format"
    json.dumps(page, allow_nan=False)


def test_open_zip_opens_a_path_too(tmp_path):
    path = tmp_path / "good.zip"
    path.write_bytes(GOOD)
    with open_zip(str(path)) as archive:
        assert len(archive.namelist()) == 2
    assert problem_of(GOOD) is None
