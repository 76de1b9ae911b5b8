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


def test_read_block_detects_every_flipped_byte_and_a_wrong_size():
    fs = MemoryFileSystem()
    fs.makedirs("/d")
    handle = fs.create("/d/f")
    before = frame_block(b"x" * 7)
    block = frame_block(bytes(range(40)))
    handle.write(before + block + frame_block(b"after"))
    handle.close()
    at = len(before)
    assert read_block(fs.open_read("/d/f"), "/d/f", at, len(block)) == bytes(range(40))
    for size in (0, 3, len(block) - 1, len(block) + 1, 10_000):
        with pytest.raises(CorruptionError) as info:
            read_block(fs.open_read("/d/f"), "/d/f", at, size)
        assert (info.value.path, info.value.offset) == ("/d/f", at)
    for offset in range(at, at + len(block)):
        fs.corrupt("/d/f", offset)
        with pytest.raises(CorruptionError) as info:
            read_block(fs.open_read("/d/f"), "/d/f", at, len(block))
        assert (info.value.path, info.value.offset) == ("/d/f", at)
        fs.corrupt("/d/f", offset)  # flipped back
        assert read_block(fs.open_read("/d/f"), "/d/f", at, len(block)) == bytes(range(40))
