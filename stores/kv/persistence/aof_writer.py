"""The append-only file writer: RESP commands out, durability per appendfsync.

Owns one open incremental AOF file at a time, the in-memory buffer of
commands not yet written, the SELECT bookkeeping (a SELECT is written
whenever the database changes, as Redis does) and the fsync policy:

- ``always``: ``after_command`` writes and fsyncs everything appended so far
  before it returns, so the reply is released only once the write is durable
  (several threads share one fsync: group commit);
- ``everysec``: ``after_command`` writes to the kernel before the reply; a
  background thread fsyncs once a second;
- ``no``: ``after_command`` writes to the kernel; the operating system
  decides when the data reaches the disk.

Never interprets commands and never touches the engine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from stores.kv.persistence.errors import PersistenceError
from stores.kv.persistence.fs import WritableFile

log = logging.getLogger("stores.kv.persistence")

FSYNC_MODES = ("always", "everysec", "no")
EVERYSEC_INTERVAL = 1.0


def encode_command(argv: Sequence[bytes]) -> bytes:
    """Return ``argv`` as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        parts.append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return b"".join(parts)


def check_fsync_mode(mode: str) -> str:
    """Return ``mode`` lower-cased, or raise PersistenceError if unknown."""
    mode = mode.lower()
    if mode not in FSYNC_MODES:
        raise PersistenceError(f"ERR Invalid argument '{mode}' for CONFIG SET 'appendfsync'")
    return mode


class AppendOnlyWriter:
    """Append commands to an incremental AOF file with an fsync policy."""

    def __init__(self, file: WritableFile, fsync_mode: str = "everysec"):
        self._file = file
        self.fsync_mode = check_fsync_mode(fsync_mode)
        self._db = -1
        self._buffer = bytearray()
        self._buffer_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._appended = 0  # bytes ever appended to the buffer
        self._written = 0  # bytes ever written to a file
        self._synced = 0  # bytes ever made durable
        self.last_write_error: str | None = None
        self.last_fsync_time = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.fsync_mode == "everysec":
            self._start_thread()

    @property
    def path(self) -> str:
        """Return the path of the file being appended to."""
        return self._file.path

    def file_size(self) -> int:
        """Return the size of the current incremental file, buffer excluded."""
        return self._file.size()

    def buffer_length(self) -> int:
        """Return the number of bytes appended but not yet written."""
        return len(self._buffer)

    def append(self, db: int, argv: Sequence[bytes]) -> None:
        """Buffer ``argv`` for database ``db``, preceded by SELECT if db changed."""
        data = encode_command(argv)
        with self._buffer_lock:
            if db != self._db:
                data = encode_command([b"SELECT", str(db).encode()]) + data
                self._db = db
            self._buffer += data
            self._appended += len(data)

    def after_command(self) -> None:
        """Write what was appended; with ``always`` also fsync it, before returning."""
        target = self._appended
        if self.fsync_mode == "always":
            if self._synced < target:
                self._flush(sync=True, target=target)
        elif self._written < target:
            self._flush(sync=False, target=target)

    def flush(self, sync: bool = True) -> None:
        """Write the buffer, and fsync the file if ``sync``."""
        self._flush(sync=sync, target=None)

    def _flush(self, sync: bool, target: int | None) -> None:
        with self._write_lock:
            if target is not None and (self._synced if sync else self._written) >= target:
                return
            with self._buffer_lock:
                data, self._buffer = self._buffer, bytearray()
                end = self._appended
            if data:
                try:
                    self._file.write(bytes(data))
                except OSError as exc:
                    self.last_write_error = str(exc)
                    log.error("cannot write the append-only file %s: %s", self.path, exc)
                    with self._buffer_lock:
                        self._buffer[0:0] = data
                    raise PersistenceError(
                        f"MISCONF Errors writing to the AOF file: {exc}"
                    ) from exc
                self._written = end
            if sync and self._synced < self._written:
                self._fsync()

    def _fsync(self) -> None:
        written = self._written
        try:
            self._file.fsync()
        except OSError as exc:
            self.last_write_error = str(exc)
            log.error("cannot fsync the append-only file %s: %s", self.path, exc)
            raise PersistenceError(f"MISCONF Errors writing to the AOF file: {exc}") from exc
        self.last_write_error = None
        self._synced = written

    def switch_file(self, file: WritableFile) -> WritableFile:
        """Flush and fsync the current file, then append to ``file``; return the old one.

        The caller holds the engine lock, so no command is half-appended.
        """
        with self._write_lock:
            self._flush_locked()
            old, self._file = self._file, file
            with self._buffer_lock:
                self._db = -1
        return old

    def _flush_locked(self) -> None:
        with self._buffer_lock:
            data, self._buffer = self._buffer, bytearray()
            end = self._appended
        if data:
            self._file.write(bytes(data))
            self._written = end
        if self._synced < self._written:
            self._fsync()

    def set_fsync_mode(self, mode: str) -> None:
        """Change the fsync policy; switching away from ``no`` syncs at once."""
        mode = check_fsync_mode(mode)
        self.flush(sync=True)
        self.fsync_mode = mode
        if mode == "everysec":
            self._start_thread()
        else:
            self._stop_thread()

    def _start_thread(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._fsync_every_second, name="kv-aof-everysec", daemon=True
        )
        self._thread.start()

    def _stop_thread(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()

    def _fsync_every_second(self) -> None:
        while not self._stop.wait(EVERYSEC_INTERVAL):
            try:
                self.flush(sync=True)
            except PersistenceError:
                pass  # logged by _flush; retried next second

    def close(self) -> None:
        """Stop the background thread, write and fsync everything, close the file."""
        self._stop_thread()
        try:
            self.flush(sync=True)
        finally:
            self._file.close()
