"""The mapped, preallocated tail of an AOF file: growth, padding, closing."""

import errno
import os

import pytest

from stores.kv.persistence import mapped_tail
from stores.kv.persistence.mapped_tail import MappedTail


def test_reserve_preallocates_a_window_and_close_cuts_the_padding(tmp_path, monkeypatch):
    monkeypatch.setattr(mapped_tail, "WINDOW", 8192)
    path = tmp_path / "a.aof"
    path.write_bytes(b"head")
    tail = MappedTail(str(path))
    tail.reserve(4, 10)
    assert tail.base == 0 and tail.limit >= 8192
    assert os.path.getsize(path) == tail.limit  # preallocated, zero-filled
    tail.map[4:10] = b"abcdef"
    assert path.read_bytes()[:10] == b"headabcdef"  # in the page cache already
    tail.reserve(10, 20000)  # past the window: a bigger one from the end
    assert tail.base == 8192 * 0 and tail.limit >= 20000
    tail.map[10:12] = b"gh"
    tail.close(12)
    assert path.read_bytes() == b"headabcdefgh"
    assert tail.end == 12


def test_a_window_starts_at_the_page_holding_the_end(tmp_path, monkeypatch):
    monkeypatch.setattr(mapped_tail, "WINDOW", 8192)
    path = tmp_path / "a.aof"
    path.write_bytes(b"x" * 10000)
    tail = MappedTail(str(path))
    tail.reserve(10000, 10001)
    assert tail.base % mapped_tail._GRANULARITY == 0 and tail.base <= 10000 < tail.limit
    tail.map[10000 - tail.base] = ord("y")
    tail.close(10001)
    assert path.read_bytes() == b"x" * 10000 + b"y"


def test_a_full_disk_is_an_oserror_not_a_crash(tmp_path, monkeypatch):
    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", full)
    path = tmp_path / "a.aof"
    path.write_bytes(b"")
    tail = MappedTail(str(path))
    with pytest.raises(OSError, match="No space"):
        tail.reserve(0, 10)
    assert tail.map is None
    tail.close(0)
    assert path.read_bytes() == b""


def test_without_fallocate_the_zeros_are_written(tmp_path, monkeypatch):
    def unsupported(fd, offset, length):
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", unsupported)
    monkeypatch.setattr(mapped_tail, "WINDOW", 3 << 20)
    path = tmp_path / "a.aof"
    path.write_bytes(b"")
    tail = MappedTail(str(path))
    tail.reserve(0, 1)
    assert os.path.getsize(path) == 3 << 20
    tail.close(0)
