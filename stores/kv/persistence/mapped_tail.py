"""The memory-mapped, preallocated end of a file open for appending.

Owns one shared mapping (``MAP_SHARED``) over a window at the end of a real
file, the preallocation that backs it, and the file's logical length (the
bytes really appended; the rest of the file up to its physical size is zero
padding). Bytes copied into a shared mapping are in the kernel's page cache
the moment the copy finishes, so they survive a crash of the process without
a ``write()`` call, as Cassandra's memory-mapped commit log segments do;
``sync`` (fdatasync, which on Linux also writes pages dirtied through a
mapping) makes them durable. Space is reserved with ``posix_fallocate`` so
that a full disk is an ``OSError`` here rather than a SIGBUS on a later
copy. ``close`` cuts the padding off. Never encodes or interprets the bytes,
and never decides when to sync: the append-only writer does.
"""

from __future__ import annotations

import errno
import mmap
import os

_fsync = getattr(os, "fdatasync", os.fsync)

WINDOW = 8 << 20  # bytes mapped (and preallocated) ahead at a time
_GRANULARITY = mmap.ALLOCATIONGRANULARITY
_ZEROS = bytes(1 << 20)


class MappedTail:
    """A file's preallocated tail, mapped for copying appended bytes into.

    ``map`` covers file offsets ``[base, limit)``; the caller keeps the
    logical length (the offset of the next byte to append) and copies bytes
    for offset ``o`` into ``map[o - base]``. ``reserve(end, new_end)``
    moves or grows the window when a copy would pass ``limit``.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR)
        self.map: mmap.mmap | None = None
        self.base = 0
        self.limit = 0
        self.end: int | None = None  # the logical length, once closed
        self._allocated = os.fstat(self._fd).st_size

    def reserve(self, end: int, new_end: int) -> None:
        """Map a window from logical length ``end`` past ``new_end``; OSError if the disk is full."""
        base = end - end % _GRANULARITY
        size = max(WINDOW, new_end - base)
        size += -size % _GRANULARITY
        if base + size > self._allocated:
            self._allocate(self._allocated, base + size - self._allocated)
            self._allocated = base + size
        old, self.map = self.map, None
        if old is not None:
            old.close()  # its dirty pages stay in the page cache
        self.map = mmap.mmap(
            self._fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=base
        )
        self.base = base
        self.limit = base + size

    def _allocate(self, offset: int, length: int) -> None:
        fallocate = getattr(os, "posix_fallocate", None)  # not on macOS
        if fallocate is not None:
            try:
                fallocate(self._fd, offset, length)
                return
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                    raise
        # No fallocate on this filesystem: write the zeros, so the blocks exist.
        while length > 0:
            chunk = _ZEROS[: min(length, len(_ZEROS))]
            written = os.pwrite(self._fd, chunk, offset)
            offset += written
            length -= written

    def sync(self) -> None:
        """Make every byte copied so far durable (fdatasync)."""
        _fsync(self._fd)

    def close(self, end: int) -> None:
        """Unmap, cut the file to its logical length ``end``, fsync it and close it."""
        if self._fd < 0:
            return
        try:
            if self.map is not None:
                self.map.flush()
                self.map.close()
                self.map = None
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
            self.end = end
        finally:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        # Dropped without close() (its engine was garbage-collected): release
        # the descriptor; the padding stays and the loader skips it.
        fd = getattr(self, "_fd", -1)
        if fd >= 0:
            os.close(fd)
            self._fd = -1
