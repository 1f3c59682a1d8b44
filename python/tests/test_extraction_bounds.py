"""ZipArchiveReader never inflates past its bounds: zip bombs are skipped with a count (issue 9).

The archives are written here, small on disk; the limits are lowered so the bombs stay small too.
"""

import io
import struct
import zipfile
from collections import Counter

from port.helpers.extraction_helpers import ZipArchiveReader

MIB = 1024 * 1024


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _reader(zip_bytes, **limits):
    errors = Counter()
    return ZipArchiveReader(io.BytesIO(zip_bytes), None, errors, **limits), errors


def test_a_member_over_the_member_limit_is_skipped_and_counted():
    reader, errors = _reader(_zip({"big.json": b"[" + b"1," * MIB + b"1]", "small.json": b'{"ok": true}'}), member_limit=MIB)
    assert reader.json("big.json").data == {}
    assert errors["MemberTooLarge"] == 1
    assert reader.json("small.json").data == {"ok": True}, "the rest of the archive still reads"


def test_a_bomb_that_inflates_far_beyond_its_size_is_skipped_by_its_ratio():
    # 64 MiB of zeros compress to about 64 KiB: a ratio of about 1000.
    bomb = _zip({"bomb.json": b"0" * (64 * MIB), "data.json": b"[1, 2, 3]"})
    assert len(bomb) < MIB
    reader, errors = _reader(bomb)
    assert reader.raw("bomb.json").data.getvalue() == b""
    assert errors["CompressionRatioTooHigh"] == 1
    assert reader.json("data.json").data == [1, 2, 3]


def test_the_upload_total_is_bounded_across_members():
    members = {f"part{idx}.txt": bytes(range(256)) * (4 * 1024) for idx in range(4)}  # 1 MiB each
    reader, errors = _reader(_zip(members), total_limit=int(2.5 * MIB))
    sizes = [len(reader.raw(f"part{idx}.txt").data.getvalue()) for idx in range(4)]
    assert sizes == [MIB, MIB, 0, 0]
    assert errors["UploadInflationLimit"] == 2


def test_a_header_that_understates_the_size_is_not_trusted():
    # The member inflates to 4 MiB, but its headers say 1000 bytes: the read stops, and the
    # member is counted as damaged instead of being read or crashing the study.
    zip_bytes = bytearray(_zip({"liar.json": b"[" + b"0," * (2 * MIB) + b"0]"}))
    local_header = zip_bytes.index(b"PK\x03\x04")
    struct.pack_into("<I", zip_bytes, local_header + 22, 1000)
    central_header = zip_bytes.index(b"PK\x01\x02")
    struct.pack_into("<I", zip_bytes, central_header + 24, 1000)
    reader, errors = _reader(bytes(zip_bytes))
    assert reader.json("liar.json").data == {}
    assert errors["BadCRC"] == 1


def test_members_within_the_bounds_read_as_before():
    reader, errors = _reader(_zip({"a/b.json": b'{"x": 1}', "c.csv": b"h1,h2\n1,2\n"}))
    assert reader.json("b.json").data == {"x": 1}
    assert len(reader.csv("c.csv").table) == 1
    assert not errors
