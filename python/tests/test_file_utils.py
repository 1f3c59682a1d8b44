"""`AsyncFileAdapter` semantics and the metadata-only upload size checks."""

from __future__ import annotations

import io
import zipfile

import pytest

from conftest import FakeReader, Payload
from port.api.file_utils import AsyncFileAdapter
from port.helpers.uploads import TWO_GIB, ChunkedExportError, check_payload_size

DATA = bytes(range(256)) * 4


def test_read_is_clamped_to_eof_and_advances():
    adapter = AsyncFileAdapter(FakeReader(DATA, name="f.bin"))
    assert (adapter.size, adapter.name) == (1024, "f.bin")
    assert adapter.read(10) == DATA[:10]
    assert adapter.tell() == 10
    adapter.seek(1020)
    assert adapter.read(100) == DATA[1020:]
    assert adapter.read(5) == b""
    assert adapter.tell() == 1024


class _OnlyToPy:
    def __init__(self, data):
        self._data = data

    def to_py(self):
        return memoryview(self._data)


class _Reader:
    def __init__(self, make_slice):
        self.size, self.name, self._make_slice = len(DATA), "f.bin", make_slice

    def readSlice(self, start, end):  # noqa: N802 - the engine's name
        return self._make_slice(DATA[start:end])


@pytest.mark.parametrize("make_slice", [bytes, memoryview, bytearray, _OnlyToPy], ids=lambda kind: kind.__name__)
def test_slices_of_every_kind_read_as_bytes(make_slice):
    # Pyodide's ArrayBuffer proxy has to_bytes (FakeReader's does too); these are the other kinds.
    data = AsyncFileAdapter(_Reader(make_slice)).read(100)
    assert (type(data), data) == (bytes, DATA[:100])


def test_read_all_from_position():
    adapter = AsyncFileAdapter(FakeReader(DATA))
    adapter.seek(1000)
    assert adapter.read() == DATA[1000:]
    adapter.seek(0)
    assert adapter.read(None) == DATA


def test_seek_whence_and_clamping():
    adapter = AsyncFileAdapter(FakeReader(DATA))
    assert adapter.seek(-10, io.SEEK_END) == 1014
    assert adapter.seek(5, io.SEEK_CUR) == 1019
    assert adapter.seek(100, io.SEEK_END) == 1024
    assert adapter.seek(-5000, io.SEEK_CUR) == 0
    assert adapter.seek(-1) == 0
    with pytest.raises(ValueError):
        adapter.seek(0, 7)


def test_flags_and_close():
    with AsyncFileAdapter(FakeReader(DATA)) as adapter:
        assert adapter.readable() and adapter.seekable() and not adapter.writable()
    assert adapter.closed
    assert not adapter.readable() and not adapter.seekable()
    with pytest.raises(ValueError):
        adapter.read(1)


def test_readinto():
    adapter = AsyncFileAdapter(FakeReader(DATA))
    buffer = bytearray(4)
    assert adapter.readinto(buffer) == 4
    assert bytes(buffer) == DATA[:4]


def test_reader_returning_plain_bytes_is_accepted():
    class BytesReader:
        size = 3
        name = "b"

        def readSlice(self, start, end):  # noqa: N802
            return b"abc"[start:end]

    assert AsyncFileAdapter(BytesReader()).read() == b"abc"


def test_zipfile_reads_through_adapter_without_reading_everything():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("small.txt", b"hello")
        archive.writestr("big.bin", b"\0" * 200_000)
    reader = FakeReader(buffer.getvalue())
    with zipfile.ZipFile(AsyncFileAdapter(reader)) as archive:
        assert archive.namelist() == ["small.txt", "big.bin"]
        assert archive.read("small.txt") == b"hello"
    # Listing and reading the small member never pulls in the 200 kB one.
    assert reader.bytes_read < 50_000


def test_sparse_file_over_two_gib_passes_the_size_check_without_reading(tmp_path):
    path = tmp_path / "huge.zip"
    with open(path, "wb") as handle:
        handle.truncate(TWO_GIB + 1)  # Sparse: no disk space used.
    reader = FakeReader(path=path)
    payload = Payload("PayloadFile", AsyncFileAdapter(reader))
    assert check_payload_size(payload) == TWO_GIB + 1
    assert reader.slices == []


def test_exactly_two_gib_is_a_chunked_export():
    payload = Payload("PayloadFile", FakeReader(size=TWO_GIB))
    with pytest.raises(ChunkedExportError):
        check_payload_size(payload)


def test_small_file_passes_and_wrong_type_is_type_error():
    assert check_payload_size(Payload("PayloadFile", FakeReader(DATA))) == 1024
    with pytest.raises(TypeError):
        check_payload_size(Payload("PayloadString", "x"))
    with pytest.raises(TypeError):
        check_payload_size(None)
