"""Checksummed blocks: every damaged byte is caught and located."""

import pytest

from stores.wide.storage.blocks import frame_block, read_block, unframe
from stores.wide.storage.errors import CorruptionError
from stores.wide.storage.fs import MemoryFileSystem


def test_round_trip_and_every_flipped_byte_detected():
    block = frame_block(b"some payload bytes")
    assert unframe(block, "f") == b"some payload bytes"
    for offset in range(len(block)):
        damaged = bytearray(block)
        damaged[offset] ^= 0x40
        with pytest.raises(CorruptionError) as info:
            unframe(bytes(damaged), "f", 100)
        assert (info.value.path, info.value.offset) == ("f", 100)


def test_read_block_reports_file_and_offset():
    fs = MemoryFileSystem()
    fs.makedirs("/d")
    handle = fs.create("/d/f")
    first = frame_block(b"a" * 10)
    second = frame_block(b"b" * 10)
    handle.write(first + second)
    assert read_block(fs.open_read("/d/f"), "/d/f", len(first), len(second)) == b"b" * 10
    fs.corrupt("/d/f", len(first) + 12)
    with pytest.raises(CorruptionError) as info:
        read_block(fs.open_read("/d/f"), "/d/f", len(first), len(second))
    assert (info.value.path, info.value.offset) == ("/d/f", len(first))
    with pytest.raises(CorruptionError):
        read_block(fs.open_read("/d/f"), "/d/f", len(first), len(second) + 5)
