"""Generate a corpus of bad or unusual data-download (DDP) files for the runtime's tests.

Participants upload whatever their platform gave them, or whatever they think it gave
them: a tar renamed to .zip, a truncated download, a password-protected archive, the
HTML variant of an export, another platform's export, a split part of a big takeout,
a zip bomb. This script writes such files, each built from the demo study's synthetic
data (`studies/demo/generate_ddp.py`), with a manifest saying what the runtime should
make of each one, so tests can feed them to the demo study (`studies/demo/script.py`)
and compare the outcome.

Usage:
    python3 tests/corpus/generate.py OUT_DIR [--only NAME,NAME,...]

OUT_DIR is created. It receives the files and `manifest.json`: a JSON list, one entry
per file in a fixed order, each
    {"file": ..., "category": ..., "why": ...,
     "expect": {"problem": kind or null, "detail": str or null, "tables": {table: rows} or null},
     "big": bool}
`problem` is the kind of problem the runtime should report (null when the data is
read); `tables` the number of rows per consent table when data is donated (a table
that should be absent is left out). `--only` writes just the named entries (file
names, with or without extension); the manifest then lists only those.

Nothing here is committed as a binary: everything is generated, and the same arguments
give byte-identical output (fixed zip dates, fixed seeds; deflate output is that of
the local zlib). The "big" files (2 GiB and more) are sparse: their holes are made by
seeking, never written, so they take a few kilobytes of disk. Only the standard
library is used.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import io
import json
import lzma
import random
import struct
import sys
import tarfile
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Callable, NamedTuple

sys.dont_write_bytecode = True  # leave no __pycache__ behind in studies/demo
sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "studies" / "demo"))
import generate_ddp  # noqa: E402  (the demo study's DDP generator)

ROWS = 20  # watch history entries; the searches get ROWS // 2 rows
SEED = 0
KiB, MiB, GiB = 2**10, 2**20, 2**30

WATCH = "demo_platform/watch_history.json"
SEARCHES = "demo_platform/searches.csv"
PROFILE = "demo_platform/profile.json"
README = "demo_platform/README.txt"

FULL = {"demo_watch_history": ROWS, "demo_searches": ROWS // 2, "demo_profile": 3}
NO_WATCH = {"demo_searches": ROWS // 2, "demo_profile": 3}


def expect(problem: str | None = None, detail: str | None = None, tables: dict | None = None) -> dict:
    return {"problem": problem, "detail": detail, "tables": tables}


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------


def demo() -> dict[str, bytes]:
    """The demo package's files, name → bytes (names are `demo_platform/...`)."""
    return generate_ddp.build_members(ROWS, SEED)


def control_bytes() -> bytes:
    """The demo package exactly as generate_ddp.py writes it."""
    return generate_ddp.ddp_bytes(ROWS, SEED)


def rng(salt: str) -> random.Random:
    """A seeded generator per use, so entries do not depend on each other's order."""
    return random.Random(f"{SEED}:{salt}")


def watch_entries() -> list[dict]:
    return json.loads(demo()[WATCH])["watch_history"]


def search_rows() -> list[list[str]]:
    """The data rows (no header) of the demo searches.csv."""
    return [line.split(",", 1) for line in demo()[SEARCHES].decode().splitlines()[1:]]


def zinfo(name: str, compress: int = zipfile.ZIP_DEFLATED, mode: int = 0o644) -> zipfile.ZipInfo:
    """A ZipInfo with the fixed date and attributes generate_ddp.py uses."""
    info = zipfile.ZipInfo(name, date_time=generate_ddp.ZIP_DATE)
    info.compress_type = compress
    info.create_system = 3  # Unix, whatever machine runs this
    info.external_attr = mode << 16
    return info


def make_zip(members) -> bytes:
    """A zip of (name or ZipInfo, bytes) pairs, in order; names may repeat."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name" is intended in one entry
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in members:
                archive.writestr(name if isinstance(name, zipfile.ZipInfo) else zinfo(name), data)
    return buffer.getvalue()


def demo_zip(**replace: bytes) -> bytes:
    """The demo zip with some members' contents replaced (keyword = file name without folder)."""
    members = demo()
    for key, data in replace.items():
        name = next(n for n in members if n.rsplit("/", 1)[-1].replace(".", "_") == key)
        members[name] = data
    return make_zip(members.items())


def tar_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1704067200  # 2024-01-01
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def deflate(data: bytes) -> bytes:
    """Raw deflate, as zipfile writes it."""
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


# Header fields by (offset, struct format) in a local file header and a central
# directory header.
LOCAL = {"version": (4, "<H"), "flag": (6, "<H"), "method": (8, "<H"), "crc": (14, "<I"),
         "csize": (18, "<I"), "usize": (22, "<I")}
CENTRAL = {"version": (6, "<H"), "flag": (8, "<H"), "method": (10, "<H"), "crc": (16, "<I"),
           "csize": (20, "<I"), "usize": (24, "<I")}


def zip_records(data: bytes) -> list[tuple[bytes, int, int]]:
    """(name bytes, local header offset, central header offset) of every member, read
    from the end record and the central directory (no ZIP64, no comment expected)."""
    end = data.rfind(b"PK\x05\x06")
    count, _, position = struct.unpack_from("<HII", data, end + 10)
    records = []
    for _ in range(count):
        assert data[position:position + 4] == b"PK\x01\x02"
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, position + 28)
        (local,) = struct.unpack_from("<I", data, position + 42)
        records.append((bytes(data[position + 46:position + 46 + name_len]), local, position))
        position += 46 + name_len + extra_len + comment_len
    return records


def patch(data: bytes, only: set[str] | None = None, **changes) -> bytes:
    """Change header fields of the members named in `only` (all when None), in both the
    local header and the central directory. A change is a value or a function of the
    old value. Lengths never change."""
    buffer = bytearray(data)
    wanted = None if only is None else {name.encode() for name in only}
    for name, local, central in zip_records(buffer):
        if wanted is not None and name not in wanted:
            continue
        for field, change in changes.items():
            for base, table in ((local, LOCAL), (central, CENTRAL)):
                offset, fmt = table[field]
                (old,) = struct.unpack_from(fmt, buffer, base + offset)
                struct.pack_into(fmt, buffer, base + offset, change(old) if callable(change) else change)
    return bytes(buffer)


def rename(data: bytes, old: bytes, new: bytes) -> bytes:
    """Replace a member's name bytes (same length) in both headers."""
    assert len(old) == len(new)
    buffer = bytearray(data)
    for name, local, central in zip_records(buffer):
        if name == old:
            buffer[local + 30:local + 30 + len(new)] = new
            buffer[central + 46:central + 46 + len(new)] = new
    return bytes(buffer)


def member_data_span(data: bytes, member: str) -> tuple[int, int]:
    """(start, length) of a member's compressed data."""
    for name, local, central in zip_records(data):
        if name == member.encode():
            name_len, extra_len = struct.unpack_from("<HH", data, local + 26)
            (size,) = struct.unpack_from("<I", data, central + 20)
            return local + 30 + name_len + extra_len, size
    raise KeyError(member)


class Raw(NamedTuple):
    """A member whose compressed bytes are given as is (a deflate stream, maybe
    encrypted) and whose headers say whatever we tell them; see zip_with_raw."""

    name: str
    payload: bytes
    usize: int
    crc: int
    flag: int = 0


def zip_with_raw(members: list) -> bytes:
    """make_zip, where items may be Raw members: those are written STORED, then their
    headers are patched to say deflate, with the given size, CRC and flags."""
    plain = [(zinfo(m.name, zipfile.ZIP_STORED), m.payload) if isinstance(m, Raw) else m for m in members]
    data = make_zip(plain)
    for m in members:
        if isinstance(m, Raw):
            data = patch(data, only={m.name}, method=8, version=20, usize=m.usize, crc=m.crc,
                         flag=lambda old, flag=m.flag: old | flag)
    return data


# ---------------------------------------------------------------------------
# A 1 GiB deflate stream (zip bomb), made once
# ---------------------------------------------------------------------------

BOMB_SIZE = GiB
BOMB_HEAD = b'{"watch_history": ['
BOMB_TAIL = b"]}"
_bomb: tuple[bytes, int, int] | None = None


def bomb() -> tuple[bytes, int, int]:
    """(raw deflate stream, CRC-32, CRC-32 of the first 1000 bytes) of a 1 GiB
    watch_history.json: valid JSON (an empty list padded with spaces), so only its size
    makes it unreadable. Streamed through zlib in 1 MiB chunks; about 1 MB compressed."""
    global _bomb
    if _bomb is None:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        spaces = b" " * MiB
        first = BOMB_HEAD + spaces[:MiB - len(BOMB_HEAD)]
        last = spaces[:MiB - len(BOMB_TAIL)] + BOMB_TAIL
        chunks = [first] + [spaces] * (BOMB_SIZE // MiB - 2) + [last]
        out, crc = [], 0
        for chunk in chunks:
            out.append(compressor.compress(chunk))
            crc = zlib.crc32(chunk, crc)
        out.append(compressor.flush())
        _bomb = (b"".join(out), crc, zlib.crc32(first[:1000]))
    return _bomb


# ---------------------------------------------------------------------------
# Not a zip
# ---------------------------------------------------------------------------


def empty_file() -> bytes:
    return b""


def empty_archive() -> bytes:
    return make_zip([])


def tgz() -> bytes:
    return gzip.compress(tar_bytes(demo()), mtime=0)


def tar_as_zip() -> bytes:
    return tar_bytes(demo())


def sevenzip() -> bytes:
    # signature, format version 0.4, then junk where the start header would be
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + rng("7z").randbytes(2 * KiB)


def rar5() -> bytes:
    return b"Rar!\x1a\x07\x01\x00" + rng("rar").randbytes(2 * KiB)


def bzip2_as_zip() -> bytes:
    return bz2.compress(tar_bytes(demo()))


def xz() -> bytes:
    return lzma.compress(tar_bytes(demo()), format=lzma.FORMAT_XZ)


def pdf() -> bytes:
    """A small valid one-page PDF with a correct xref table."""
    text = b"BT /F1 12 Tf 20 50 Td (Your Demo platform data) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png() -> bytes:
    """A valid 1×1 RGB PNG."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x80\x00")) \
        + chunk(b"IEND", b"")


def jpeg(salt: str = "jpeg") -> bytes:
    """A JPEG-looking file: SOI, a JFIF APP0 segment, junk, EOI (not decodable)."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + app0 + rng(salt).randbytes(4 * KiB) + b"\xff\xd9"


def single_json() -> bytes:
    return demo()[WATCH]


def single_html() -> bytes:
    return (b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Your data</title></head>\n"
            b"<body><h1>Your Demo platform data</h1><p>Your download is ready.</p></body></html>\n")


def single_csv() -> bytes:
    return demo()[SEARCHES]


def random_as_zip() -> bytes:
    data = rng("random").randbytes(64 * KiB)
    assert not data.startswith((b"PK", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"7z", b"Rar!", b"%PDF", b"\xff\xd8"))
    return data


def office_docx() -> bytes:
    content_types = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                     b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                     b'<Default Extension="rels" ContentType="application/'
                     b'vnd.openxmlformats-package.relationships+xml"/>'
                     b'<Default Extension="xml" ContentType="application/xml"/>'
                     b'<Override PartName="/word/document.xml" ContentType="application/'
                     b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    rels = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    document = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                b'<w:body><w:p><w:r><w:t>My watch history</w:t></w:r></w:p></w:body></w:document>')
    return make_zip([("[Content_Types].xml", content_types), ("_rels/.rels", rels),
                     ("word/document.xml", document)])


# ---------------------------------------------------------------------------
# Damaged
# ---------------------------------------------------------------------------


def truncated_half() -> bytes:
    data = control_bytes()
    return data[:len(data) // 2]


def truncated_tail() -> bytes:
    return control_bytes()[:-30]  # the end record (22 bytes) and the end of the last central header


def garbage_central_dir() -> bytes:
    data = bytearray(control_bytes())
    end = data.rfind(b"PK\x05\x06")
    size, start = struct.unpack_from("<II", data, end + 12)
    data[start:start + size] = rng("central").randbytes(size)
    return bytes(data)


# ---------------------------------------------------------------------------
# Encrypted
# ---------------------------------------------------------------------------


def encrypted_flag() -> bytes:
    return patch(control_bytes(), flag=lambda old: old | 1)


# WinZip AES extra field: id 0x9901, 7 bytes: vendor version 2 (AE-2), vendor "AE",
# strength 3 (AES-256), the real compression method 8 (deflate).
AES_EXTRA = struct.pack("<HHH2sBH", 0x9901, 7, 2, b"AE", 3, 8)


def encrypted_aes() -> bytes:
    members = []
    for name, data in demo().items():
        info = zinfo(name)
        info.extra = AES_EXTRA  # zipfile writes it into both headers
        members.append((info, data))
    return patch(make_zip(members), flag=lambda old: old | 1, method=99, version=51)


def encrypted_one_member() -> bytes:
    return patch(control_bytes(), only={WATCH}, flag=lambda old: old | 1)


def _crc_byte(crc: int, byte: int) -> int:
    """One step of the bare CRC-32 (no pre/post inversion), as ZipCrypto uses it."""
    return zlib.crc32(bytes([byte]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def zipcrypto(plain: bytes, password: bytes, crc: int, random_source: random.Random) -> bytes:
    """Traditional PKWARE encryption: a 12-byte header (11 random bytes and the CRC's
    high byte as check), then the data."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(byte: int) -> None:
        keys[0] = _crc_byte(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = _crc_byte(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    out = bytearray()
    for byte in random_source.randbytes(11) + bytes([crc >> 24]) + plain:
        temp = (keys[2] | 2) & 0xFFFF
        out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(byte)
    return bytes(out)


ZIPCRYPTO_PASSWORD = b"donate"


def encrypted_real() -> bytes:
    source = rng("zipcrypto")
    members = []
    for name, data in demo().items():
        crc = zlib.crc32(data)
        members.append(Raw(name, zipcrypto(deflate(data), ZIPCRYPTO_PASSWORD, crc, source), len(data), crc, flag=1))
    return zip_with_raw(members)


# ---------------------------------------------------------------------------
# HTML export, other platforms, nested
# ---------------------------------------------------------------------------


def html_page(title: str, header: list[str], rows: list[list]) -> bytes:
    def cell(tag: str, value) -> str:
        return f"<{tag}>{str(value).replace('&', '&amp;').replace('<', '&lt;')}</{tag}>"

    body = "".join("<tr>" + "".join(cell("td", v) for v in row) + "</tr>\n" for row in rows)
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\n"
            f"<h1>{title}</h1>\n<table>\n<tr>{''.join(cell('th', h) for h in header)}</tr>\n{body}"
            f"</table>\n</body></html>\n").encode()


def html_export() -> bytes:
    watch = [[e["title"], e["channel"], e["watched_at"], e["duration_seconds"]] for e in watch_entries()]
    profile = json.loads(demo()[PROFILE])
    index = html_page("Your Demo platform data", ["Section"],
                      [['<a href="watch_history.html">Watch history</a>'], ["Searches"], ["Profile"]])
    return make_zip([
        ("demo_platform/index.html", index),
        ("demo_platform/watch_history.html",
         html_page("Watch history", ["Title", "Channel", "Watched at", "Seconds"], watch)),
        ("demo_platform/searches.html", html_page("Searches", ["Timestamp", "Query"], search_rows())),
        ("demo_platform/profile.html", html_page("Profile", ["Field", "Value"], list(profile.items()))),
    ])


def as_json(value) -> bytes:
    return json.dumps(value, indent=2).encode()


def instagram() -> bytes:
    def entry(title, href):
        return {"title": title, "string_list_data": [{"href": href, "value": "", "timestamp": 1704067200}]}

    return make_zip([
        ("personal_information/personal_information/personal_information.json", as_json({"profile_user": [
            {"media_map_data": {}, "string_map_data": {"Username": {"href": "", "value": "demo_user", "timestamp": 0},
                                                       "Name": {"href": "", "value": "Demo", "timestamp": 0}}}]})),
        ("your_instagram_activity/likes/liked_posts.json",
         as_json({"likes_media_likes": [entry("someone", "https://www.instagram.com/p/abc/")]})),
        ("your_instagram_activity/comments/post_comments_1.json",
         as_json([{"string_map_data": {"Comment": {"value": "nice"}, "Time": {"timestamp": 1704067200}}}])),
        ("connections/followers_and_following/followers_1.json",
         as_json([entry("", "https://www.instagram.com/friend")])),
    ])


def google_takeout() -> bytes:
    return make_zip([
        ("Takeout/archive_browser.html", b"<!DOCTYPE html><html><body><h1>Archive</h1>Chrome</body></html>\n"),
        ("Takeout/Chrome/History.json", as_json({"Browser History": [
            {"title": "Example", "url": "https://example.org/", "time_usec": 1704067200000000}]})),
        ("Takeout/Chrome/Bookmarks.html", b"<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<TITLE>Bookmarks</TITLE>\n"),
    ])


def facebook() -> bytes:
    return make_zip([
        ("personal_information/profile_information/profile_information.json",
         as_json({"profile_v2": {"name": {"full_name": "Demo"}, "registration_timestamp": 1500000000}})),
        ("your_facebook_activity/posts/your_posts__check_ins__photos_and_videos_1.json",
         as_json([{"timestamp": 1704067200, "data": [{"post": "Hello"}]}])),
        ("connections/friends/your_friends.json", as_json({"friends_v2": [{"name": "Friend", "timestamp": 0}]})),
    ])


def tiktok() -> bytes:
    return make_zip([
        ("user_data_tiktok.json", as_json({
            "Activity": {"Video Browsing History": {"VideoList": [
                {"Date": "2024-01-01 00:00:00", "Link": "https://www.tiktokv.com/share/video/1/"}]}},
            "Profile": {"Profile Information": {"ProfileMap": {"userName": "demo_user"}}},
        })),
    ])


def twitter() -> bytes:
    return make_zip([
        ("Your archive.html", b"<!DOCTYPE html><html><body>Your archive</body></html>\n"),
        ("data/manifest.js", b'window.__THAR_CONFIG = {"userInfo": {"userName": "demo_user"}}\n'),
        ("data/account.js", b'window.YTD.account.part0 = [{"account": {"username": "demo_user"}}]\n'),
        ("data/tweets.js", b'window.YTD.tweets.part0 = [{"tweet": {"full_text": "Hello", "id": "1"}}]\n'),
    ])


def linkedin() -> bytes:
    return make_zip([
        ("Connections.csv", b"Notes:\n\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
                            b"Ada,Lovelace,https://www.linkedin.com/in/ada,,Engines,Analyst,01 Jan 2024\n"),
        ("Profile.csv", b"First Name,Last Name,Headline,Industry\nDemo,User,Tester,Research\n"),
        ("Positions.csv", b"Company Name,Title,Started On\nEngines,Analyst,Jan 2020\n"),
        ("messages.csv", b"CONVERSATION ID,FROM,TO,DATE,CONTENT\n1,Ada,Demo,2024-01-01 00:00:00 UTC,Hi\n"),
    ])


def photos() -> bytes:
    return make_zip([(zinfo(f"IMG_{n:04d}.jpg", zipfile.ZIP_STORED), jpeg(f"photo{n}")) for n in range(1, 6)])


def nested_zip() -> bytes:
    return make_zip([("demo.zip", control_bytes())])


# ---------------------------------------------------------------------------
# Split / large (sparse)
# ---------------------------------------------------------------------------


def sparse_with_tail(path: Path, total: int, tail: bytes) -> None:
    """A file of exactly `total` bytes: a hole, then `tail` at the very end."""
    with open(path, "wb") as out:
        out.seek(total - len(tail))
        out.write(tail)


def split_exact_2gib(path: Path) -> None:
    sparse_with_tail(path, 2 * GiB, control_bytes())


def large_2gib_plus(path: Path) -> None:
    sparse_with_tail(path, 2 * GiB + MiB, control_bytes())


VIDEO_SIZE = 4 * GiB + GiB // 2  # 4.5 GiB of zero bytes
# zlib.crc32 of VIDEO_SIZE zero bytes, computed once by feeding bytes(16 MiB) to
# zlib.crc32 288 times (running CRC); takes about a second, so it is not redone here.
VIDEO_CRC = 0xE90177C6


def dos_date_time() -> tuple[int, int]:
    year, month, day, hour, minute, second = generate_ddp.ZIP_DATE
    return (year - 1980) << 9 | month << 5 | day, hour << 11 | minute << 5 | second // 2


def zip64_beyond_4gib(path: Path) -> None:
    """A genuine ZIP64 archive: a STORED 4.5 GiB media/video.mp4 (a hole), then the demo
    members (deflated) at offsets past 4 GiB, a central directory, the ZIP64 end record
    and locator, and the classic end record with 0xFFFFFFFF for the directory offset."""
    date, clock = dos_date_time()
    local_fmt = "<IHHHHHIIIHH"
    central_fmt = "<IHHHHHHIIIHHHHHII"
    members = []  # (name, version, method, crc, csize, usize, offset, central extra, sizes in extra)
    with open(path, "wb") as out:
        video = b"media/video.mp4"
        extra = struct.pack("<HHQQ", 0x0001, 16, VIDEO_SIZE, VIDEO_SIZE)  # sizes: uncompressed, compressed
        out.write(struct.pack(local_fmt, 0x04034B50, 45, 0, 0, clock, date, VIDEO_CRC,
                              0xFFFFFFFF, 0xFFFFFFFF, len(video), len(extra)) + video + extra)
        out.seek(VIDEO_SIZE, 1)  # the video's data: a hole
        members.append((video, 45, 0, VIDEO_CRC, 0xFFFFFFFF, 0xFFFFFFFF, 0, extra))
        for name, data in demo().items():
            offset = out.tell()
            packed, crc, encoded = deflate(data), zlib.crc32(data), name.encode()
            out.write(struct.pack(local_fmt, 0x04034B50, 20, 0, 8, clock, date, crc,
                                  len(packed), len(data), len(encoded), 0) + encoded + packed)
            # Past 4 GiB: the central header's offset moves into a ZIP64 extra.
            members.append((encoded, 45, 8, crc, len(packed), len(data), 0xFFFFFFFF,
                            struct.pack("<HHQ", 0x0001, 8, offset)))
        directory = out.tell()
        for name, version, method, crc, csize, usize, offset, extra in members:
            out.write(struct.pack(central_fmt, 0x02014B50, 3 << 8 | 45, version, 0, method, clock, date, crc,
                                  csize, usize, len(name), len(extra), 0, 0, 0, 0o644 << 16, offset) + name + extra)
        end64 = out.tell()
        count, size = len(members), end64 - directory
        out.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 3 << 8 | 45, 45, 0, 0, count, count, size, directory))
        out.write(struct.pack("<IIQI", 0x07064B50, 0, end64, 1))
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, size, 0xFFFFFFFF, 0))


# ---------------------------------------------------------------------------
# No data
# ---------------------------------------------------------------------------


def empty_members() -> bytes:
    return demo_zip(watch_history_json=b'{"watch_history": []}', searches_csv=b"timestamp,query\n",
                    profile_json=b"{}")


def readme_only() -> bytes:
    return make_zip([(README, demo()[README])])


# ---------------------------------------------------------------------------
# Unreadable members, bombs
# ---------------------------------------------------------------------------


def bomb_alone() -> bytes:
    stream, crc, _ = bomb()
    return zip_with_raw([Raw(WATCH, stream, BOMB_SIZE, crc)])


def bomb_lying_size() -> bytes:
    stream, _, crc_head = bomb()
    return zip_with_raw([Raw(WATCH, stream, 1000, crc_head)])


def bomb_under_limit() -> bytes:
    """The 1 GiB stream declaring 200 MiB: under the per-member limit, so only the
    compression-ratio check stops it, while it inflates."""
    stream, crc, _ = bomb()
    return zip_with_raw([Raw(WATCH, stream, 200 * MiB, crc)])


def without_watch() -> list:
    return [(name, data) for name, data in demo().items() if name != WATCH]


def bomb_with_others() -> bytes:
    stream, crc, _ = bomb()
    return zip_with_raw([Raw(WATCH, stream, BOMB_SIZE, crc)] + without_watch())


def bad_crc() -> bytes:
    return patch(control_bytes(), only={WATCH}, crc=lambda old: old ^ 0xFFFFFFFF)


def deflate64_method() -> bytes:
    return patch(control_bytes(), only={WATCH}, method=9, version=21)


def lzma_corrupt() -> bytes:
    members = [(zinfo(WATCH, zipfile.ZIP_LZMA), demo()[WATCH])] + without_watch()
    data = bytearray(make_zip(members))
    start, size = member_data_span(data, WATCH)
    # keep zipfile's 4-byte LZMA header and the 5 property bytes, scramble the stream
    data[start + 9 + 16:start + size] = rng("lzma").randbytes(size - 9 - 16)
    return bytes(data)


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------


def backslash_names() -> bytes:
    return make_zip([(name.replace("/", "\\"), data) for name, data in demo().items()])


def traversal_names() -> bytes:
    members = demo()
    return make_zip([
        ("../../demo_platform/watch_history.json", members[WATCH]),
        ("/abs/demo_platform/searches.csv", members[SEARCHES]),
        ("C:\\Users\\x\\profile.json", members[PROFILE]),
        ("../" + README, members[README]),
    ])


def nul_in_name() -> bytes:
    data = make_zip(list(demo().items()) + [("notes_.exe", b"MZ not really a program\n")])
    return rename(data, b"notes_.exe", b"notes\x00.exe")  # ZipInfo would cut the name at the NUL


def long_name() -> bytes:
    name = "demo_platform/" + "n" * (10_000 - len("demo_platform/") - len(".txt")) + ".txt"
    return make_zip(list(demo().items()) + [(name, b"a long name\n")])


def bad_utf8_name() -> bytes:
    data = make_zip(list(demo().items()) + [("demo_platform/bad__.txt", b"bad name\n")])
    data = patch(data, only={"demo_platform/bad__.txt"}, flag=lambda old: old | 0x800)  # "the name is UTF-8"
    return rename(data, b"demo_platform/bad__.txt", b"demo_platform/bad\xff\xfe.txt")


def duplicate_names() -> bytes:
    first = as_json({"watch_history": watch_entries()[:1]})
    return make_zip([(WATCH, first)] + list(demo().items()))


def symlink_member() -> bytes:
    link = zinfo(WATCH, zipfile.ZIP_STORED, mode=0o120777)
    return make_zip([(link, b"/etc/passwd")] + without_watch())


def directory_with_data() -> bytes:
    folder = zinfo(PROFILE + "/", mode=0o40755)
    folder.external_attr |= 0x10  # MS-DOS directory bit
    return make_zip([(folder, b'{"username": "inside a directory entry"}')] + list(demo().items()))


# ---------------------------------------------------------------------------
# Contents
# ---------------------------------------------------------------------------


def watch_json(entries: list[dict]) -> str:
    return json.dumps({"watch_history": entries}, indent=2)


def utf8_bom() -> bytes:
    return demo_zip(watch_history_json=b"\xef\xbb\xbf" + demo()[WATCH])


def utf16_bom() -> bytes:
    return demo_zip(watch_history_json=b"\xff\xfe" + demo()[WATCH].decode().encode("utf-16-le"))


def deep_nesting() -> bytes:
    return demo_zip(watch_history_json=b"[" * 10_000 + b"]" * 10_000)


def huge_integer() -> bytes:
    source = rng("digits")
    digits = str(source.randrange(1, 10)) + "".join(str(source.randrange(10)) for _ in range(4999))
    entries = [dict(entry, video_id="@VIDEO_ID@") for entry in watch_entries()]
    # Python's json refuses ints over 4300 digits by default; the JSON itself is fine.
    return demo_zip(watch_history_json=watch_json(entries).replace('"@VIDEO_ID@"', digits).encode())


def non_finite_numbers() -> bytes:
    literals = ["NaN", "Infinity", "-Infinity"]
    entries = [dict(entry, duration_seconds=f"@{literals[i % 3]}@") for i, entry in enumerate(watch_entries())]
    text = watch_json(entries)
    for literal in literals:
        text = text.replace(f'"@{literal}@"', literal)  # bare literals, not strings
    return demo_zip(watch_history_json=text.encode())


def lone_surrogates() -> bytes:
    tails = ["\ud800", "\udfff", "\udc00\ud800"]  # high alone, low alone, reversed pair
    entries = [dict(entry, title=entry["title"] + " " + tails[i % 3]) for i, entry in enumerate(watch_entries())]
    return demo_zip(watch_history_json=watch_json(entries).encode())  # ensure_ascii writes "\ud800" escapes


def mixed_encodings_csv() -> bytes:
    lines = [b"timestamp,query\n"]
    for i, (timestamp, query) in enumerate(search_rows()):
        if i % 3 == 0:
            value = f"{query} café".encode("utf-8")
        elif i % 3 == 1:
            value = f"{query} naïve".encode("latin-1")
        else:
            value = f"\u201c{query}\u201d \u20ac prices".encode("cp1252")
        lines.append(timestamp.encode() + b"," + value + b"\n")
    return demo_zip(searches_csv=b"".join(lines))


def nul_in_csv() -> bytes:
    lines = ["timestamp,query\n"]
    for i, (timestamp, query) in enumerate(search_rows()):
        if i % 3 == 0:
            query = query.replace(" ", "\x00", 1)
        elif i % 3 == 1:
            query = f'"{query}\x00"'
        lines.append(f"{timestamp},{query}\n")
    return demo_zip(searches_csv="".join(lines).encode())


def mojibake() -> bytes:
    words = ["café", "naïve", "Zoë’s"]
    entries = [dict(entry, title=entry["title"] + " " + words[i % 3].encode().decode("latin-1"))
               for i, entry in enumerate(watch_entries())]
    return demo_zip(watch_history_json=watch_json(entries).encode())  # e.g. "caf\u00c3\u00a9"


# ---------------------------------------------------------------------------
# The entries, in manifest order
# ---------------------------------------------------------------------------


class Entry(NamedTuple):
    file: str
    category: str
    why: str
    expect: dict
    make: Callable  # () -> bytes, or (path) -> None when big
    big: bool = False


def not_zip(detail: str) -> dict:
    return expect("not_zip", detail)


ENTRIES = [
    Entry("control.zip", "control", "The demo package exactly as generate_ddp.py writes it.",
          expect(tables=FULL), control_bytes),

    Entry("empty.zip", "not_zip", "A 0-byte file.", expect("empty"), empty_file),
    Entry("empty_archive.zip", "not_zip", "A valid zip with no members (just the end record).",
          expect("empty"), empty_archive),
    Entry("tar_gz.tgz", "not_zip", "The demo files as a gzip-compressed tar.", not_zip("gzip"), tgz),
    Entry("tar_as_zip.zip", "not_zip", "A plain ustar tar of the demo files, named .zip.", not_zip("tar"), tar_as_zip),
    Entry("sevenzip_as_zip.zip", "not_zip", "A 7z signature followed by junk, named .zip.", not_zip("7z"), sevenzip),
    Entry("archive.rar", "not_zip", "A RAR5 signature followed by junk.", not_zip("rar"), rar5),
    Entry("bzip2_as_zip.zip", "not_zip", "A bzip2-compressed tar of the demo files, named .zip.",
          not_zip("bzip2"), bzip2_as_zip),
    Entry("tar_xz.tar.xz", "not_zip", "An xz-compressed tar of the demo files.", not_zip("xz"), xz),
    Entry("document.pdf", "not_zip", "A small valid one-page PDF.", not_zip("pdf"), pdf),
    Entry("image.png", "not_zip", "A valid 1x1 PNG.", not_zip("image"), png),
    Entry("jpeg_as_zip.zip", "not_zip", "A JPEG (SOI and JFIF header), named .zip.", not_zip("image"), jpeg),
    Entry("watch_history.json", "not_zip", "The demo watch_history.json on its own, not zipped.",
          not_zip("json"), single_json),
    Entry("page.html", "not_zip", "A single HTML page.", not_zip("html"), single_html),
    Entry("searches.csv", "not_zip", "The demo searches.csv on its own, plain text.", not_zip("text"), single_csv),
    Entry("random_as_zip.zip", "not_zip", "64 KiB of seeded random bytes, named .zip.",
          not_zip("unknown"), random_as_zip),
    Entry("office_as_zip.zip", "not_zip", "A .docx-like zip ([Content_Types].xml, word/document.xml), named .zip.",
          not_zip("office"), office_docx),

    Entry("truncated_half.zip", "damaged", "The control cut at half its length (no central directory).",
          expect("damaged"), truncated_half),
    Entry("truncated_tail.zip", "damaged", "The control without its last 30 bytes (the end record is gone).",
          expect("damaged"), truncated_tail),
    Entry("garbage_central_dir.zip", "damaged", "The control's central directory overwritten with random bytes; "
          "the end record is intact.", expect("damaged"), garbage_central_dir),

    Entry("encrypted_flag.zip", "encrypted", "Every member flagged ZipCrypto-encrypted (flag bit 0) in both headers.",
          expect("encrypted"), encrypted_flag),
    Entry("encrypted_aes.zip", "encrypted", "Every member flagged encrypted with method 99 and a WinZip AES "
          "0x9901 extra field (real method deflate).", expect("encrypted"), encrypted_aes),
    Entry("encrypted_one_member.zip", "encrypted", "Only watch_history.json is flagged encrypted.",
          expect("encrypted"), encrypted_one_member),
    Entry("encrypted_zipcrypto.zip", "encrypted", "Really ZipCrypto-encrypted with the password 'donate'.",
          expect("encrypted"), encrypted_real),

    Entry("html_export.zip", "html_export", "The demo platform's export in its HTML variant: .html files, no .json.",
          expect("html_export"), html_export),

    Entry("instagram.zip", "wrong_platform", "An Instagram-like export.",
          expect("wrong_platform", "Instagram"), instagram),
    Entry("google_takeout.zip", "wrong_platform", "A Google Takeout of Chrome, not of the demo platform.",
          expect("wrong_platform", "Google Takeout"), google_takeout),
    Entry("facebook.zip", "wrong_platform", "A Facebook-like export.", expect("wrong_platform", "Facebook"), facebook),
    Entry("tiktok.zip", "wrong_platform", "A TikTok-like export (user_data_tiktok.json).",
          expect("wrong_platform", "TikTok"), tiktok),
    Entry("twitter.zip", "wrong_platform", "An X (Twitter)-like archive (data/*.js, Your archive.html).",
          expect("wrong_platform", "X (Twitter)"), twitter),
    Entry("linkedin.zip", "wrong_platform", "A LinkedIn-like export (Connections.csv, Profile.csv, ...).",
          expect("wrong_platform", "LinkedIn"), linkedin),
    Entry("photos.zip", "wrong_platform", "A zip of photos (IMG_0001.jpg ...), no platform.",
          expect("wrong_platform"), photos),
    Entry("nested_zip.zip", "wrong_platform", "The demo zip inside another zip; nested zips are not opened.",
          expect("wrong_platform"), nested_zip),

    Entry("split_exact_2gib.zip", "split", "Exactly 2 GiB: a hole then the demo zip, like a part of a split "
          "export; the participant goes on.", expect("split_part", tables=FULL), split_exact_2gib, big=True),
    Entry("large_2gib_plus_1mib.zip", "large", "2 GiB + 1 MiB: a hole then the demo zip; not a split size.",
          expect(tables=FULL), large_2gib_plus, big=True),
    Entry("zip64_beyond_4gib.zip", "large", "A ZIP64 archive: a 4.5 GiB stored video (a hole), then the demo "
          "members at offsets past 4 GiB.", expect(tables=FULL), zip64_beyond_4gib, big=True),

    Entry("empty_members.zip", "no_data", "The demo files present but empty (no entries, header-only CSV, {}).",
          expect("no_data"), empty_members),
    Entry("readme_only.zip", "no_data", "Only the README.", expect("no_data"), readme_only),

    Entry("bomb_alone.zip", "unreadable", "Only watch_history.json, deflated from 1 GiB (valid JSON padded "
          "with spaces) to about 1 MB.", expect("unreadable"), bomb_alone),
    Entry("bomb_lying_size.zip", "unreadable", "Only watch_history.json; the headers say 1000 bytes but the "
          "deflate stream inflates to 1 GiB.", expect("unreadable"), bomb_lying_size),
    Entry("bomb_under_limit.zip", "unreadable", "The 1 GiB bomb stream declaring 200 MiB, under the member "
          "limit: the compression-ratio check stops it mid-read.", expect("unreadable"), bomb_under_limit),
    Entry("bomb_with_others.zip", "unreadable", "The 1 GiB watch_history.json bomb plus valid searches and "
          "profile.", expect(tables=NO_WATCH), bomb_with_others),
    Entry("bad_crc.zip", "unreadable", "watch_history.json's CRC-32 inverted in both headers; the rest valid.",
          expect(tables=NO_WATCH), bad_crc),
    Entry("deflate64_method.zip", "unreadable", "watch_history.json claims method 9 (Deflate64); the rest valid.",
          expect(tables=NO_WATCH), deflate64_method),
    Entry("lzma_corrupt.zip", "unreadable", "watch_history.json as LZMA (method 14) with scrambled data; the "
          "rest valid.", expect(tables=NO_WATCH), lzma_corrupt),

    Entry("backslash_names.zip", "names", "Member names with backslash separators (demo_platform\\...).",
          expect(tables=FULL), backslash_names),
    Entry("traversal_names.zip", "names", "Names with ../, a leading / and a C:\\ drive.",
          expect(tables=FULL), traversal_names),
    Entry("nul_in_name.zip", "names", "An extra member named notes<NUL>.exe besides the demo files.",
          expect(tables=FULL), nul_in_name),
    Entry("long_name.zip", "names", "An extra member with a 10 000-character name.", expect(tables=FULL), long_name),
    Entry("bad_utf8_name.zip", "names", "An extra member flagged UTF-8 (0x800) whose name has invalid UTF-8 "
          "bytes.", expect(tables=FULL), bad_utf8_name),
    Entry("duplicate_names.zip", "names", "watch_history.json twice: first with 1 entry, last with all; the last "
          "wins.", expect(tables=FULL), duplicate_names),
    Entry("symlink_member.zip", "names", "watch_history.json is a symlink entry pointing at /etc/passwd.",
          expect(tables=NO_WATCH), symlink_member),
    Entry("directory_with_data.zip", "names", "A directory entry profile.json/ that holds data, plus the real files.",
          expect(tables=FULL), directory_with_data),

    Entry("utf8_bom.zip", "contents", "watch_history.json starts with a UTF-8 BOM.", expect(tables=FULL), utf8_bom),
    Entry("utf16_bom.zip", "contents", "watch_history.json in UTF-16-LE with a BOM.", expect(tables=FULL), utf16_bom),
    Entry("deep_nesting.zip", "contents", "watch_history.json is 10 000 nested arrays.",
          expect(tables=NO_WATCH), deep_nesting),
    Entry("huge_integer.zip", "contents", "Every watch entry has a 5000-digit integer video_id.",
          expect(tables=FULL), huge_integer),
    Entry("non_finite_numbers.zip", "contents", "duration_seconds is NaN, Infinity or -Infinity (bare literals).",
          expect(tables=FULL), non_finite_numbers),
    Entry("lone_surrogates.zip", "contents", "Titles end with lone surrogate escapes such as \\ud800.",
          expect(tables=FULL), lone_surrogates),
    Entry("mixed_encodings_csv.zip", "contents", "searches.csv rows alternate UTF-8, latin-1 and cp1252.",
          expect(tables=FULL), mixed_encodings_csv),
    Entry("nul_in_csv.zip", "contents", "searches.csv has NUL bytes inside some values.",
          expect(tables=FULL), nul_in_csv),
    Entry("mojibake.zip", "contents", "Titles with Meta-style mojibake: UTF-8 bytes written as \\u00XX escapes.",
          expect(tables=FULL), mojibake),
]
assert len({e.file for e in ENTRIES} | {e.file.split(".", 1)[0] for e in ENTRIES}) == 2 * len(ENTRIES)


def write_entry(entry: Entry, out_dir: Path) -> None:
    path = out_dir / entry.file
    if entry.big:
        entry.make(path)
    else:
        path.write_bytes(entry.make())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="folder to write the corpus into (created)")
    parser.add_argument("--only", help="comma-separated entry names (file names, extension optional)")
    args = parser.parse_args(argv)

    entries = ENTRIES
    if args.only:
        wanted = [name.strip() for name in args.only.split(",") if name.strip()]
        known = {e.file: e for e in ENTRIES} | {e.file.split(".", 1)[0]: e for e in ENTRIES}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            parser.error(f"unknown entries: {', '.join(unknown)}")
        chosen = {known[name].file for name in wanted}
        entries = [e for e in ENTRIES if e.file in chosen]

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = []
    for entry in entries:
        write_entry(entry, out_dir)
        manifest.append({"file": entry.file, "category": entry.category, "why": entry.why,
                         "expect": entry.expect, "big": entry.big})
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
