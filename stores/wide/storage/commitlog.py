"""The commit log: checksummed, length-prefixed records in numbered segments.

Owns appending records, making them durable per the sync mode, replaying
segments after a crash and discarding segments once everything in them has
been flushed. A segment is preallocated (zeros, its size synced once) and
records are copied into it through a shared memory mapping, as Cassandra
does: a copy is in the OS page cache at once, with no system call per
record, and a sync is an fdatasync of a file that never grows. Sync modes
(Cassandra's):

- ``periodic``: a record is in the page cache before ``append`` returns and
  a background thread syncs every ``sync_period_ms``. A process crash loses
  nothing; a power cut loses up to one period of acknowledged writes.
- ``batch`` (group commit): ``wait_synced`` returns only after a sync that
  covers the record; writers waiting at the same time share one sync.

Never applies mutations itself: replay hands payloads to the caller.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator

from .checksum import crc32
from .errors import CorruptionError, EngineClosed, InvalidRequest, StorageError
from .format import (
    COMMITLOG_HEADER,
    COMMITLOG_MAGIC,
    COMMITLOG_MAGIC_V1,
    COMMITLOG_PREFIX,
    COMMITLOG_SUFFIX,
    CRC,
    FRAME,
    FRAME_SIZE,
    MAX_RECORD_SIZE,
    RECORD_HEAD,
    RECORD_MAGIC,
    U32,
)
from .fs import FileSystem, MappedFile

Position = tuple[int, int]
SYNC_MODES = ("periodic", "batch")

_crc32 = crc32
_pack_head = RECORD_HEAD.pack
_pack_crc = CRC.pack
_pack_u32 = U32.pack
_HEAD_SIZE = RECORD_HEAD.size
_OVERHEAD = _HEAD_SIZE + CRC.size
_ZEROS = bytes(1 << 16)


def segment_name(segment_id: int) -> str:
    return f"{COMMITLOG_PREFIX}{segment_id:012d}{COMMITLOG_SUFFIX}"


def list_segments(fs: FileSystem, directory: str) -> list[tuple[int, str]]:
    """Return (segment id, path) of every segment in ``directory``, oldest first."""
    found = []
    if not fs.exists(directory):
        return found
    for name in fs.listdir(directory):
        if name.startswith(COMMITLOG_PREFIX) and name.endswith(COMMITLOG_SUFFIX):
            digits = name[len(COMMITLOG_PREFIX) : -len(COMMITLOG_SUFFIX)]
            if digits.isdigit():
                found.append((int(digits), f"{directory}/{name}"))
    return sorted(found)


def encode_record(payload: bytes) -> bytes:
    """Return ``payload`` framed: magic, length, CRC of the length, payload, CRC of the payload."""
    length = len(payload)
    return b"".join(
        (
            _pack_head(RECORD_MAGIC, length, _crc32(_pack_u32(length))),
            payload,
            _pack_crc(_crc32(payload)),
        )
    )


def _record_at(data: bytes, offset: int) -> tuple[bytes, int] | None:
    """Return (payload, next offset) of a valid record at ``offset``, or None."""
    if offset + _OVERHEAD > len(data) or data[offset : offset + 4] != RECORD_MAGIC:
        return None
    _, length, length_crc = RECORD_HEAD.unpack_from(data, offset)
    if _crc32(data[offset + 4 : offset + 8]) != length_crc or length > MAX_RECORD_SIZE:
        return None
    end = offset + _HEAD_SIZE + length + 4
    if end > len(data):
        return None
    payload = data[offset + _HEAD_SIZE : end - 4]
    if _crc32(payload) != CRC.unpack_from(data, end - 4)[0]:
        return None
    return payload, end


def _record_at_v1(data: bytes, offset: int) -> tuple[bytes, int] | None:
    """Return (payload, next offset) of a valid version-1 record (no magic) at ``offset``."""
    if offset + FRAME_SIZE > len(data):
        return None
    length, length_crc = FRAME.unpack_from(data, offset)
    if _crc32(data[offset : offset + 4]) != length_crc or length > MAX_RECORD_SIZE:
        return None
    end = offset + FRAME_SIZE + length + 4
    if end > len(data):
        return None
    payload = data[offset + FRAME_SIZE : end - 4]
    if _crc32(payload) != CRC.unpack_from(data, end - 4)[0]:
        return None
    return payload, end


def _valid_record_after(data: bytes, offset: int, version: int) -> bool:
    """Return True if a valid record starts anywhere after ``offset``."""
    if version == 1:
        return any(
            _record_at_v1(data, candidate) is not None
            for candidate in range(offset + 1, len(data) - FRAME_SIZE - 4 + 1)
        )
    candidate = data.find(RECORD_MAGIC, offset + 1)
    while candidate >= 0:
        if _record_at(data, candidate) is not None:
            return True
        candidate = data.find(RECORD_MAGIC, candidate + 1)
    return False


def _content_end(data: bytes) -> int:
    """Return the length of ``data`` without its trailing zero bytes."""
    step = len(_ZEROS)
    end = len(data)
    # Whole zero chunks compare with memcmp: a mostly empty 32 MiB segment
    # is skipped in milliseconds, where rstrip would walk it byte by byte.
    while end >= step and data[end - step : end] == _ZEROS:
        end -= step
    start = max(0, end - step)
    return start + len(data[start:end].rstrip(b"\x00"))


def replay_segment(
    fs: FileSystem, segment_id: int, path: str, *, last: bool
) -> Iterator[tuple[Position, bytes]]:
    """Yield (position after the record, payload) for each record of one segment.

    The zeros after the last record are the unused, preallocated rest of the
    segment and end it. A damaged record at the end of the last segment is
    a torn write (the process died mid-append) and ends the replay quietly.
    Damage followed by a valid record, or damage in an earlier segment
    (always fully synced before the next one starts), is corruption and
    raises CorruptionError.
    """
    data = fs.read_bytes(path)
    header_size = COMMITLOG_HEADER.size
    if len(data) < header_size or not any(data[:header_size]):
        if last:
            return
        raise CorruptionError(path, 0, "commit log segment header is missing")
    magic, header_id, header_crc = COMMITLOG_HEADER.unpack_from(data, 0)
    if (
        magic not in (COMMITLOG_MAGIC, COMMITLOG_MAGIC_V1)
        or _crc32(data[: header_size - 4]) != header_crc
    ):
        raise CorruptionError(path, 0, "commit log segment header checksum mismatch")
    if header_id != segment_id:
        raise CorruptionError(path, 0, f"segment id {header_id} does not match its file name")
    version, record_at = (2, _record_at) if magic == COMMITLOG_MAGIC else (1, _record_at_v1)
    # Past the last non-zero byte lies only the zero tail; a record that
    # itself ends in zero bytes is still read whole, from its start.
    content_end = _content_end(data)
    offset = header_size
    while offset < content_end:
        record = record_at(data, offset)
        if record is None:
            if last and not _valid_record_after(data, offset, version):
                return
            raise CorruptionError(path, offset, "commit log record checksum mismatch")
        payload, offset = record
        yield (segment_id, offset), payload


class _Segment:
    """One open segment: its mapped file and a lock that orders its sync and close."""

    __slots__ = ("id", "file", "size", "lock", "closed", "synced_on_close")

    def __init__(self, segment_id: int, handle: MappedFile, size: int) -> None:
        self.id = segment_id
        self.file = handle
        self.size = size
        self.lock = threading.Lock()
        self.closed = False
        self.synced_on_close = False


class CommitLog:
    """Appends records to the active segment and syncs them per the sync mode."""

    def __init__(
        self,
        fs: FileSystem,
        directory: str,
        *,
        sync_mode: str = "periodic",
        sync_period_ms: int = 10000,
        segment_size: int = 32 * 1024 * 1024,
        first_segment_id: int = 1,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        if sync_mode not in SYNC_MODES:
            raise StorageError(f"commitlog_sync must be one of {SYNC_MODES}, not {sync_mode!r}")
        self._fs = fs
        self._directory = directory
        self.sync_mode = sync_mode
        self._period = sync_period_ms / 1000.0
        self._segment_size = segment_size
        self._on_error = on_error
        # Lock order: _lock, then a segment's lock; _cond is never held with either.
        self._lock = threading.Lock()
        self._cond = threading.Condition(threading.Lock())
        self._syncing = False
        self._synced: Position = (0, 0)
        self._failure: BaseException | None = None
        self._closed = False
        self.segments: dict[int, set[uuid.UUID]] = {}
        self.syncs = 0
        self._segment = self._open_segment(first_segment_id, segment_size)
        self._offset = COMMITLOG_HEADER.size
        self._thread: threading.Thread | None = None
        if sync_mode == "periodic":
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._periodic_sync, name="commitlog-sync", daemon=True
            )
            self._thread.start()

    def _open_segment(self, segment_id: int, size: int) -> _Segment:
        path = f"{self._directory}/{segment_name(segment_id)}"
        handle = self._fs.create_mapped(path, size)
        head = COMMITLOG_MAGIC + segment_id.to_bytes(8, "big")
        handle.write_at(0, head + CRC.pack(_crc32(head)))
        handle.sync()
        self._fs.sync_dir(self._directory)
        self.segments.setdefault(segment_id, set())
        return _Segment(segment_id, handle, size)

    @property
    def active_segment(self) -> int:
        return self._segment.id

    def position(self) -> Position:
        """Return the position just after the last appended record."""
        with self._lock:
            return (self._segment.id, self._offset)

    def append(self, payload: bytes, table_ids: set[uuid.UUID]) -> Position:
        """Append one record; return the position just after it.

        The record is in the OS page cache before this returns (it survives
        a process crash); durability against a power cut follows the sync
        mode (``wait_synced`` in batch mode).
        """
        if self._failure is not None:
            raise EngineClosed(f"commit log failed: {self._failure}")
        if self._closed:
            raise EngineClosed("commit log is closed")
        length = len(payload)
        if length > MAX_RECORD_SIZE:
            raise InvalidRequest(
                f"a write of {length} bytes is larger than the commit log's limit"
                f" of {MAX_RECORD_SIZE}"
            )
        record = encode_record(payload)
        with self._lock:
            segment = self._segment
            start = self._offset
            end = start + len(record)
            if end > segment.size:
                segment = self._roll(len(record))
                start = self._offset
                end = start + len(record)
            segment.file.write_at(start, record)
            self._offset = end
            tables = self.segments[segment.id]
            if not table_ids <= tables:
                tables |= table_ids
            return (segment.id, end)

    def _roll(self, record_size: int) -> _Segment:
        """Start the next segment, big enough for ``record_size`` (caller holds _lock)."""
        old = self._segment
        size = max(self._segment_size, COMMITLOG_HEADER.size + record_size)
        with old.lock:
            if self._offset > COMMITLOG_HEADER.size:
                # The old segment is fully synced before the next one starts,
                # so only the last segment can ever hold a torn record.
                try:
                    old.file.sync()
                except BaseException as exc:
                    self._fail(exc)
                    raise
                next_id = old.id + 1
            else:
                # Nothing in it yet and the record does not fit: replace it.
                next_id = old.id
            old.file.close()
            old.closed = True
            old.synced_on_close = next_id != old.id
        if next_id != old.id:
            with self._cond:
                self._synced = max(self._synced, (old.id, self._offset))
        try:
            self._segment = self._open_segment(next_id, size)
        except BaseException as exc:
            # No segment to append to (a full disk, say): refuse writes from now on.
            self._fail(exc)
            raise
        self._offset = COMMITLOG_HEADER.size
        return self._segment

    def wait_synced(self, position: Position) -> None:
        """Block until a sync covers ``position`` (batch mode's group commit)."""
        with self._cond:
            while self._synced < position:
                if self._failure is not None:
                    raise EngineClosed(f"commit log sync failed: {self._failure}")
                if self._syncing:
                    self._cond.wait()
                    continue
                self._syncing = True
                self._cond.release()
                try:
                    target = self._sync_now()
                finally:
                    self._cond.acquire()
                    self._syncing = False
                    self._cond.notify_all()
                if target is None:
                    raise EngineClosed("commit log closed before the record was synced")
                self._synced = max(self._synced, target)

    def _sync_now(self) -> Position | None:
        with self._lock:
            segment = self._segment
            target = (segment.id, self._offset)
        with segment.lock:
            if segment.closed:
                # Rolling (or a clean close) synced it; a killed log did not.
                return target if segment.synced_on_close else None
            try:
                segment.file.sync()
            except BaseException as exc:
                self._fail(exc)
                raise
        self.syncs += 1
        return target

    def sync(self) -> None:
        """Sync the active segment now."""
        self.wait_synced(self.position())

    def _fail(self, exc: BaseException) -> None:
        self._failure = exc
        if self._on_error is not None:
            self._on_error(exc)

    def _periodic_sync(self) -> None:
        while not self._stop.wait(self._period):
            try:
                target = self._sync_now()
            except BaseException:
                return
            if target is not None:
                with self._cond:
                    self._synced = max(self._synced, target)
                    self._cond.notify_all()

    def discard_segments(self, is_clean: Callable[[int, set[uuid.UUID]], bool]) -> list[int]:
        """Delete inactive segments whose every table's data is flushed; return their ids."""
        removed = []
        with self._lock:
            candidates = [
                (sid, tables) for sid, tables in self.segments.items() if sid != self._segment.id
            ]
        for sid, tables in candidates:
            if is_clean(sid, tables):
                self._fs.remove(f"{self._directory}/{segment_name(sid)}")
                with self._lock:
                    self.segments.pop(sid, None)
                removed.append(sid)
        if removed:
            self._fs.sync_dir(self._directory)
        return removed

    def close(self, *, sync: bool = True) -> None:
        """Stop the sync thread and (with ``sync``) sync what was appended.

        A synced close also cuts the active segment's unused zero tail, so
        the next replay reads only what was written.
        """
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        segment = self._segment
        with segment.lock:
            if segment.closed:
                return
            segment.closed = True
            if sync and self._failure is None:
                segment.file.sync()
                segment.file.close(length=self._offset)
                segment.synced_on_close = True
            else:
                segment.file.close()
