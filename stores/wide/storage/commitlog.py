"""The commit log: checksummed, length-prefixed records in numbered segments.

Owns appending records, making them durable per the sync mode, replaying
segments after a crash and discarding segments once everything in them has
been flushed. Sync modes (Cassandra's):

- ``periodic``: a record is handed to the OS before ``append`` returns and a
  background thread fsyncs every ``sync_period_ms``. A process crash loses
  nothing; a power cut loses up to one period of acknowledged writes.
- ``batch`` (group commit): ``wait_synced`` returns only after an fsync that
  covers the record; writers waiting at the same time share one fsync.

Never applies mutations itself: replay hands payloads to the caller.
"""

from __future__ import annotations

import threading
import uuid
import zlib
from collections.abc import Callable, Iterator

from .errors import CorruptionError, EngineClosed, StorageError
from .format import (
    COMMITLOG_HEADER,
    COMMITLOG_MAGIC,
    COMMITLOG_PREFIX,
    COMMITLOG_SUFFIX,
    CRC,
    FRAME,
    FRAME_SIZE,
    MAX_RECORD_SIZE,
)
from .fs import FileSystem, WritableFile

Position = tuple[int, int]
SYNC_MODES = ("periodic", "batch")


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
    """Return ``payload`` framed: length, CRC of the length, payload, CRC of the payload."""
    length = len(payload).to_bytes(4, "big")
    return b"".join((length, CRC.pack(zlib.crc32(length)), payload, CRC.pack(zlib.crc32(payload))))


def _record_at(data: bytes, offset: int) -> tuple[bytes, int] | None:
    """Return (payload, next offset) of a valid record at ``offset``, or None."""
    if offset + FRAME_SIZE > len(data):
        return None
    length, length_crc = FRAME.unpack_from(data, offset)
    if zlib.crc32(data[offset : offset + 4]) != length_crc or length > MAX_RECORD_SIZE:
        return None
    end = offset + FRAME_SIZE + length + 4
    if end > len(data):
        return None
    payload = data[offset + FRAME_SIZE : end - 4]
    if zlib.crc32(payload) != CRC.unpack_from(data, end - 4)[0]:
        return None
    return payload, end


def _valid_record_after(data: bytes, offset: int) -> bool:
    """Return True if a valid record starts anywhere after ``offset``."""
    for candidate in range(offset + 1, len(data) - FRAME_SIZE - 4 + 1):
        if _record_at(data, candidate) is not None:
            return True
    return False


def replay_segment(
    fs: FileSystem, segment_id: int, path: str, *, last: bool
) -> Iterator[tuple[Position, bytes]]:
    """Yield (position after the record, payload) for each record of one segment.

    A damaged tail of the last segment is a torn write (the process died
    mid-append) and ends the replay quietly. Damage followed by a valid
    record, or damage in an earlier segment (always fully synced before the
    next one starts), is corruption and raises CorruptionError.
    """
    data = fs.read_bytes(path)
    header_size = COMMITLOG_HEADER.size
    if len(data) < header_size or data[:header_size] == bytes(header_size):
        if last:
            return
        raise CorruptionError(path, 0, "commit log segment header is missing")
    magic, header_id, header_crc = COMMITLOG_HEADER.unpack_from(data, 0)
    if magic != COMMITLOG_MAGIC or zlib.crc32(data[: header_size - 4]) != header_crc:
        raise CorruptionError(path, 0, "commit log segment header checksum mismatch")
    if header_id != segment_id:
        raise CorruptionError(path, 0, f"segment id {header_id} does not match its file name")
    offset = header_size
    while offset < len(data):
        record = _record_at(data, offset)
        if record is None:
            if last and not _valid_record_after(data, offset):
                return
            raise CorruptionError(path, offset, "commit log record checksum mismatch")
        payload, offset = record
        yield (segment_id, offset), payload


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
        self._lock = threading.Lock()
        self._cond = threading.Condition(threading.Lock())
        self._syncing = False
        self._synced: Position = (0, 0)
        self._failure: BaseException | None = None
        self._closed = False
        self.segments: dict[int, set[uuid.UUID]] = {}
        self.syncs = 0
        self._segment_id = first_segment_id - 1
        self._file: WritableFile | None = None
        self._offset = 0
        self._open_segment()
        self._thread: threading.Thread | None = None
        if sync_mode == "periodic":
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._periodic_sync, name="commitlog-sync", daemon=True
            )
            self._thread.start()

    def _open_segment(self) -> None:
        self._segment_id += 1
        path = f"{self._directory}/{segment_name(self._segment_id)}"
        handle = self._fs.create(path)
        head = COMMITLOG_MAGIC + self._segment_id.to_bytes(8, "big")
        handle.write(head + CRC.pack(zlib.crc32(head)))
        handle.sync()
        self._fs.sync_dir(self._directory)
        self._file = handle
        self._offset = COMMITLOG_HEADER.size
        self.segments[self._segment_id] = set()

    @property
    def active_segment(self) -> int:
        return self._segment_id

    def position(self) -> Position:
        """Return the position just after the last appended record."""
        return (self._segment_id, self._offset)

    def append(self, payload: bytes, table_ids: set[uuid.UUID]) -> Position:
        """Append one record; return the position just after it.

        The record reaches the OS before this returns; durability against a
        power cut follows the sync mode (``wait_synced`` in batch mode).
        """
        if self._failure is not None:
            raise EngineClosed(f"commit log failed: {self._failure}")
        if self._closed:
            raise EngineClosed("commit log is closed")
        record = encode_record(payload)
        with self._lock:
            if (
                self._offset + len(record) > self._segment_size
                and self._offset > COMMITLOG_HEADER.size
            ):
                self._roll()
            assert self._file is not None
            self._file.write(record)
            self._file.flush()
            self._offset += len(record)
            self.segments[self._segment_id].update(table_ids)
            return (self._segment_id, self._offset)

    def _roll(self) -> None:
        # The old segment is fully synced before the new one starts, so only
        # the last segment can ever hold a torn record.
        assert self._file is not None
        self._file.sync()
        self._file.close()
        with self._cond:
            self._synced = max(self._synced, (self._segment_id, self._offset))
        self._open_segment()

    def wait_synced(self, position: Position) -> None:
        """Block until an fsync covers ``position`` (batch mode's group commit)."""
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
                if target is not None:
                    self._synced = max(self._synced, target)

    def _sync_now(self) -> Position | None:
        with self._lock:
            target = (self._segment_id, self._offset)
            handle = self._file
        if handle is None:
            return None
        try:
            handle.sync()
        except ValueError:
            # The segment rolled (and was closed) under us: rolling synced it.
            with self._lock:
                rolled = self._segment_id != target[0]
            if not rolled:
                raise
        except BaseException as exc:
            self._fail(exc)
            raise
        self.syncs += 1
        return target

    def sync(self) -> None:
        """Fsync the active segment now."""
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
                (sid, tables) for sid, tables in self.segments.items() if sid != self._segment_id
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
        """Stop the sync thread and (with ``sync``) fsync what was appended."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        if self._file is not None:
            if sync and self._failure is None:
                self._file.sync()
            self._file.close()
            self._file = None
