"""The append-only file writer: RESP commands out, durability per appendfsync.

Owns one open incremental AOF file at a time, the SELECT bookkeeping (a
SELECT is written whenever the database changes, as Redis does), the
bytes not yet handed to the kernel and the fsync policy. Two ways to hand
bytes to the kernel, chosen per file:

- mapped (real files, the default): ``append`` (under the engine lock)
  copies the command straight into a shared memory mapping of the file's
  preallocated tail (``mapped_tail.py``), which is the kernel's page cache:
  the command has reached the kernel when ``append`` returns, with no
  ``write`` call. Its first byte is copied last, so a command is in the
  file only once whole (docs/kv/persistence.md). Only when the disk is full
  do commands wait in memory (the backlog), retried by the once-a-second
  cron.
- buffered (any ``WritableFile``, e.g. the fault-injecting filesystem):
  like Redis's ``aof_buf``, ``append`` only encodes into an in-memory
  buffer, and ``after_command`` hands the whole buffer to the kernel in one
  ``write`` before a reply is released.

Then, whatever the way:

- ``always``: ``after_command`` also fsyncs everything appended so far
  before it returns, so the reply is released only once the write is
  durable (threads waiting at the same time share one fsync: group commit);
- ``everysec``: a background thread fsyncs once a second;
- ``no``: the operating system decides when the data reaches the disk.

A caller that releases the replies of many commands at once (the RESP
server, a pipeline) calls ``after_command`` once for all of them: one
``write`` (and one fsync) per batch.

Never interprets commands and never touches the engine.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from stores.kv.persistence.errors import PersistenceError
from stores.kv.persistence.format import AOF_ARRAY
from stores.kv.persistence.fs import WritableFile
from stores.kv.persistence.mapped_tail import MappedTail

log = logging.getLogger("stores.kv.persistence")

FSYNC_MODES = ("always", "everysec", "no")
EVERYSEC_INTERVAL = 1.0


try:  # hiredis (a project dependency) encodes in C, byte for byte the same
    from hiredis import pack_command as _pack_command
except ImportError:  # pragma: no cover - hiredis is in requirements.txt

    def _pack_command(argv: tuple) -> bytes:
        raise TypeError("hiredis is not installed")


# One %-format per small argument count: the common commands encode in one step.
_FORMATS = [b"*%d\r\n" % n + b"$%d\r\n%b\r\n" * n for n in range(17)]


# The usual write (2 to 4 short arguments) is encoded by hand from cached
# pieces: about half the time of pack_command, and without the leading "*"
# (the mapped copy writes that byte last anyway, so no slice is needed).
_LENGTHS = tuple(b"$%d\r\n" % n for n in range(1024))
_NAME_HEADS: dict[bytes, tuple[bytes, ...]] = {}
_NAME_HEADS_LIMIT = 4096  # command names as sent (any case): bounded all the same
_CRLF = b"\r\n"


def _name_heads(name: bytes) -> tuple[bytes, ...]:
    """Return the body prefixes (count, then the command name) for 1 to 4 arguments."""
    heads = (b"", *(b"%d\r\n$%d\r\n%b\r\n" % (n, len(name), name) for n in (1, 2, 3, 4)))
    if len(_NAME_HEADS) < _NAME_HEADS_LIMIT:
        _NAME_HEADS[bytes(name)] = heads
    return heads


def encode_body(argv: Sequence[bytes]) -> bytes:
    """Return ``argv`` as a RESP array of bulk strings without its first byte (``*``)."""
    count = len(argv)
    if 1 <= count <= 4 and type(argv[0]) is bytes:
        heads = _NAME_HEADS.get(argv[0]) or _name_heads(argv[0])
        try:
            if count == 1:  # MULTI and EXEC around every transaction
                return heads[1]
            if count == 2:
                key = argv[1]
                return b"".join((heads[2], _LENGTHS[len(key)], key, _CRLF))
            if count == 3:
                key, value = argv[1], argv[2]
                return b"".join(
                    (heads[3], _LENGTHS[len(key)], key, _CRLF, _LENGTHS[len(value)], value, _CRLF)
                )
            key, field, value = argv[1], argv[2], argv[3]
            return b"".join(
                (
                    heads[4],
                    _LENGTHS[len(key)],
                    key,
                    _CRLF,
                    _LENGTHS[len(field)],
                    field,
                    _CRLF,
                    _LENGTHS[len(value)],
                    value,
                    _CRLF,
                )
            )
        except (IndexError, TypeError):  # a long argument, or one that is not bytes-like
            pass
    return encode_command(argv)[1:]


def encode_command(argv: Sequence[bytes]) -> bytes:
    """Return ``argv`` as a RESP array of bulk strings."""
    try:
        return _pack_command(tuple(argv))
    except TypeError:  # an argument hiredis does not take (bytearray, memoryview)
        return encode_command_python(argv)


def encode_command_python(argv: Sequence[bytes]) -> bytes:
    """Return ``argv`` as a RESP array of bulk strings (the reference encoder)."""
    count = len(argv)
    if count < len(_FORMATS):
        values = []
        for arg in argv:
            values.append(len(arg))
            values.append(arg)
        return _FORMATS[count] % tuple(values)
    parts = [b"*%d\r\n" % count]
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
    """Append commands to an incremental AOF file with an fsync policy.

    ``append`` runs under the engine lock, which orders the commands: it
    copies them into the file's mapping, or (buffered files, or a full
    disk) into the buffer. ``after_command`` runs outside the engine lock:
    it writes the buffer (one ``write`` call for everything appended since
    the last one, by any thread) and, with ``always``, fsyncs. The buffer
    has its own small lock, held while it grows and while it is written, so
    the file gets the buffer's order. A failed write keeps the bytes that
    did not land in the buffer (never written twice), retried by the next
    ``after_command`` of a write or by ``flush``, and makes
    ``after_command`` raise MISCONF. Mapped files keep commands in the
    backlog only while the mapping cannot grow (disk full); then only
    callers holding the engine lock (``append``, ``flush``,
    ``switch_file``, ``close``) retry.
    """

    def __init__(self, file: WritableFile, fsync_mode: str = "everysec", mapped: bool = True):
        self._file = file
        self.fsync_mode = check_fsync_mode(fsync_mode)
        self._always = self.fsync_mode == "always"
        self._db = -1
        self._buffer = bytearray()  # appended, not yet written, in order
        self._buffer_lock = threading.Lock()
        self._sync_lock = threading.Lock()
        # Bytes ever appended, ever handed to the kernel, ever made durable.
        # Buffered files count the first two here; a mapped file derives
        # them from its logical length (_written_total, _appended_total), so
        # that an append only moves _end.
        self._appended = 0
        self._written = 0
        self._origin = 0  # mapped files: bytes written in all = _origin + _end
        self._synced = 0
        self._failed = False  # the last write failed: the buffer starts with its bytes
        self._last_write_error: str | None = None
        # Called (from any thread) whenever last_write_error, the fsync mode
        # or the file changes: what needs_after_command depends on.
        self.on_state_change: Callable[[], None] = _nothing
        self._use_mapping = mapped
        self._tail: MappedTail | None = None
        self._mapped = False
        self._map: Any = None
        self._base = 0  # file offset of self._map[0]
        self._limit = 0  # file offset where the mapping ends
        self._end = 0  # the file's logical length (mapped files)
        self._backlog: list[bytes] = []  # mapped files: commands waiting for room (disk full)
        self._attach(file)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.fsync_mode == "everysec":
            self._start_thread()

    def _attach(self, file: WritableFile) -> None:
        """Map ``file``'s tail if it can be mapped, else append to it by ``write``."""
        written = self._written_total()  # the counts go on across files
        map_tail = getattr(file, "map_tail", None) if self._use_mapping else None
        self._tail = map_tail() if map_tail is not None else None
        self._mapped = self._tail is not None
        self._map = None
        self._base = self._limit = 0
        self._end = file.size()
        self._origin = written - self._end
        self._written = self._appended = written
        if self._tail is not None:
            try:
                self._remap(self._end)
            except OSError as exc:  # a full disk: appends buffer until it has room
                log.error("cannot map the append-only file %s: %s", file.path, exc)
        self.on_state_change()

    def _remap(self, new_end: int) -> None:
        tail = self._tail
        tail.reserve(self._end, new_end)
        self._map = tail.map
        self._base = tail.base
        self._limit = tail.limit

    @property
    def last_write_error(self) -> str | None:
        """The last write or fsync error, until a write succeeds again (None: healthy)."""
        return self._last_write_error

    @last_write_error.setter
    def last_write_error(self, value: str | None) -> None:
        self._last_write_error = value
        self.on_state_change()

    @property
    def needs_after_command(self) -> bool:
        """Return False while ``after_command`` has nothing to do.

        That is a mapped file, not under ``always``, with nothing waiting
        and no failure: every command reached the kernel in ``append``.
        """
        return not self._mapped or self._always or self._failed or bool(self._backlog)

    @property
    def path(self) -> str:
        """Return the path of the file being appended to."""
        return self._file.path

    def file_size(self) -> int:
        """Return the size of the current incremental file, buffered bytes excluded."""
        return self._end if self._mapped else self._file.size()

    def _written_total(self) -> int:
        """Return the bytes ever handed to the kernel, over every file."""
        return self._origin + self._end if self._mapped else self._written

    def _appended_total(self) -> int:
        """Return the bytes ever appended (handed to the kernel or still waiting)."""
        if self._mapped:
            return self._origin + self._end + sum(map(len, self._backlog))
        return self._appended

    def buffer_length(self) -> int:
        """Return the number of bytes appended but not yet written."""
        return len(self._buffer) + sum(map(len, self._backlog))

    def append(self, db: int, argv: Sequence[bytes]) -> None:
        """Append ``argv`` for database ``db``, preceded by SELECT if db changed.

        The caller holds the engine lock. A mapped file has the command when
        this returns; a buffered one gets it at ``after_command``,
        ``write_buffer`` or ``flush``.
        """
        body = encode_body(argv)
        if self._mapped:
            if db != self._db:
                self._copy(encode_command([b"SELECT", str(db).encode()]))
                self._db = db
            end = self._end
            size = len(body) + 1
            if end + size <= self._limit and not self._backlog:
                at = end - self._base
                mapping = self._map
                # The first byte last: a crash mid-copy leaves a NUL where the
                # command starts, so the loader never takes a half-copied one.
                mapping[at + 1 : at + size] = body
                mapping[at] = AOF_ARRAY
                self._end = end + size
            else:
                self._copy(b"*" + body)
            return
        data = b"*" + body
        with self._buffer_lock:
            if db != self._db:
                data = encode_command([b"SELECT", str(db).encode()]) + data
                self._db = db
            self._buffer += data
            self._appended += len(data)

    def append_block(self, db: int, commands: Sequence[Sequence[bytes]]) -> None:
        """Append ``commands`` for database ``db`` in one copy: the bytes of ``append`` each.

        For a transaction's MULTI ... EXEC block. The block's first byte is
        copied last, as a command's is, so an interrupted copy leaves at
        most the unfinished block at the end of the file (which the loader
        drops, as it drops a MULTI without its EXEC). Anything but a mapped
        file with room and the same database goes through ``append``.
        """
        if not self._mapped or db != self._db or self._backlog:
            for argv in commands:
                self.append(db, argv)
            return
        body = b"*".join([encode_body(argv) for argv in commands])
        end = self._end
        size = len(body) + 1
        if end + size <= self._limit:
            at = end - self._base
            mapping = self._map
            mapping[at + 1 : at + size] = body
            mapping[at] = AOF_ARRAY
            self._end = end + size
        else:
            self._copy(b"*" + body)

    def lane(self, changes: Any) -> Callable[[int, Sequence[bytes]], None]:
        """Return ``log(db, argv)``: count one change, then ``append``, in one call.

        ``log`` adds one to ``changes.changes_since_save`` and copies the
        command into the mapping with the encoding of ``encode_body``
        inlined; anything unusual (a database change, a backlog, a full
        window, an argument ``encode_body`` would not take from its cache)
        goes through ``append``. Only for the engine's fast lane, so only
        while ``needs_after_command`` is False; the caller holds the engine
        lock.
        """
        writer = self
        append = self.append
        cached_heads = _NAME_HEADS
        lengths = _LENGTHS
        crlf = _CRLF
        join = b"".join
        first = AOF_ARRAY

        def log(db: int, argv: Sequence[bytes]) -> None:
            changes.changes_since_save += 1
            if db == writer._db and not writer._backlog:
                count = len(argv)
                try:
                    heads = cached_heads[argv[0]]
                    if count == 3:
                        key, value = argv[1], argv[2]
                        body = join(
                            (
                                heads[3],
                                lengths[len(key)],
                                key,
                                crlf,
                                lengths[len(value)],
                                value,
                                crlf,
                            )
                        )
                    elif count == 2:
                        key = argv[1]
                        body = join((heads[2], lengths[len(key)], key, crlf))
                    elif count == 4:
                        key, field, value = argv[1], argv[2], argv[3]
                        body = join(
                            (
                                heads[4],
                                lengths[len(key)],
                                key,
                                crlf,
                                lengths[len(field)],
                                field,
                                crlf,
                                lengths[len(value)],
                                value,
                                crlf,
                            )
                        )
                    else:
                        body = None
                except (KeyError, IndexError, TypeError):  # as encode_body: leave it to append
                    body = None
                if body is not None:
                    end = writer._end
                    size = len(body) + 1
                    if end + size <= writer._limit:
                        at = end - writer._base
                        mapping = writer._map
                        mapping[at + 1 : at + size] = body
                        mapping[at] = first  # the first byte last, as in append
                        writer._end = end + size
                        return
            append(db, argv)

        return log

    def _copy(self, command: bytes) -> None:
        """Copy one encoded command into the mapping, after any backlog."""
        self._backlog.append(command)
        self._drain_into_mapping()

    def _drain_into_mapping(self) -> None:
        """Copy the backlog into the mapping, growing it (caller holds the engine lock).

        Each command is copied on its own, first byte last, so an interrupted
        copy leaves at most one unfinished command at the end of the file.
        """
        backlog = self._backlog
        while backlog:
            data = backlog[0]
            end = self._end
            new_end = end + len(data)
            if new_end > self._limit:
                try:
                    self._remap(new_end)
                except OSError as exc:
                    if not self._failed:  # once per failure, not once per command
                        log.error("cannot grow the append-only file %s: %s", self.path, exc)
                    self._failed = True
                    self.last_write_error = str(exc)
                    return
            at = end - self._base
            self._map[at + 1 : new_end - self._base] = data[1:]
            self._map[at] = data[0]
            self._end = new_end
            del backlog[0]
        if self._failed:
            self._failed = False
            self.last_write_error = None

    def write_buffer(self) -> None:
        """Write everything buffered to the kernel in one call (a failure stays buffered)."""
        with self._buffer_lock:
            self._write_buffer_locked()

    def _write_buffer_locked(self) -> None:
        if self._mapped:
            # Only engine-lock holders copy into the mapping; the others
            # leave a disk-full backlog to them.
            return
        data = self._buffer
        if not data:
            return
        try:
            self._file.write(data)
        except OSError as exc:
            # Drop only the bytes that landed, so a retry never duplicates
            # part of a command.
            landed = getattr(exc, "landed", 0)
            if landed:
                del data[:landed]
            self._written = self._appended - len(data)
            self._failed = True
            self.last_write_error = str(exc)
            log.error("cannot write the append-only file %s: %s", self.path, exc)
            return
        self._buffer = bytearray()
        self._written = self._appended
        if self._failed:
            self._failed = False
            self.last_write_error = None

    def _misconf(self) -> PersistenceError:
        return PersistenceError(f"MISCONF Errors writing to the AOF file: {self.last_write_error}")

    def after_command(self) -> None:
        """Before the reply: write what was appended so far; with ``always``, fsync it.

        Raise MISCONF if the write failed. Covers every command appended
        before the call, whichever thread appended it.
        """
        target = self._appended_total()  # includes this thread's commands: appended before
        if self._written_total() < target:
            with self._buffer_lock:
                self._write_buffer_locked()
            if self._written_total() < target:
                raise self._misconf()
        elif self._failed:
            raise self._misconf()
        if self._always and self._synced < target:
            self._sync(target)

    def _sync(self, target: int | None) -> None:
        with self._sync_lock:  # threads share one fsync (group commit)
            written = self._written_total()
            if target is not None and self._synced >= target:
                return
            if self._synced >= written:
                return
            try:
                if self._tail is not None:
                    self._tail.sync()
                else:
                    self._file.fsync()
            except OSError as exc:
                self.last_write_error = str(exc)
                log.error("cannot fsync the append-only file %s: %s", self.path, exc)
                raise PersistenceError(f"MISCONF Errors writing to the AOF file: {exc}") from exc
            self._synced = max(self._synced, written)

    def flush(self, sync: bool = True) -> None:
        """Write the buffer (a failed write is retried), and fsync the file if ``sync``.

        With a mapped file, only a caller holding the engine lock may flush.
        """
        with self._buffer_lock:
            if self._mapped:
                self._drain_into_mapping()
            else:
                self._write_buffer_locked()
            if self._failed:
                raise self._misconf()
        if sync:
            self._sync(None)

    def switch_file(self, file: WritableFile) -> WritableFile:
        """Flush and fsync the current file, then append to ``file``; return the old one.

        The caller holds the engine lock, so no command is half-appended. A
        mapped file loses its padding (and that is fsynced) before ``file``
        gets any, so only the last non-empty file can ever end in padding.
        """
        with self._buffer_lock:
            if self._mapped:
                self._drain_into_mapping()
            else:
                self._write_buffer_locked()
            if self._failed:
                raise self._misconf()
            self._sync(None)
            with self._sync_lock:
                old, self._file = self._file, file
                self._close_tail()
                self._attach(file)
                self._db = -1
        return old

    def _close_tail(self) -> None:
        tail, self._tail = self._tail, None
        self._map = None
        if tail is not None:
            tail.close(self._end)

    def set_fsync_mode(self, mode: str) -> None:
        """Change the fsync policy; switching away from ``no`` syncs at once."""
        mode = check_fsync_mode(mode)
        self.flush(sync=True)
        self.fsync_mode = mode
        self._always = mode == "always"
        if mode == "everysec":
            self._start_thread()
        else:
            self._stop_thread()
        self.on_state_change()

    def _start_thread(self) -> None:
        if self._thread is not None:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=_fsync_every_second,
            args=(weakref.ref(self), self._stop),
            name="kv-aof-everysec",
            daemon=True,
        )
        self._thread.start()

    def _stop_thread(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()

    def _fsync_once(self) -> bool:
        """Write and fsync for the everysec thread; return False if it should stop.

        Writing first also lands commands no reply waits for (expiry and
        eviction DELs), as Redis writes its buffer on every loop iteration.
        """
        try:
            if self._mapped:
                self._sync(None)  # a disk-full backlog is the cron's (engine lock)
            else:
                self.flush(sync=True)
        except PersistenceError:
            pass  # logged by _sync; retried next second
        except Exception as exc:  # not an I/O error: stop rather than spin
            log.error("the everysec fsync thread of %s stops: %r", self.path, exc)
            return False
        return True

    def __del__(self) -> None:
        # Dropped without close() (its engine was garbage-collected): stop
        # the thread; the file closes itself.
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()

    def close(self) -> None:
        """Stop the background thread, write and fsync everything, close the file.

        A mapped file is cut to its logical length (no padding left).
        """
        self._stop_thread()
        try:
            self.flush(sync=True)
        finally:
            with self._sync_lock:
                try:
                    self._close_tail()
                finally:
                    self._file.close()


def _nothing() -> None:
    """Do nothing (no one listens to the writer's errors)."""


def _fsync_every_second(writer_ref: weakref.ref, stop: threading.Event) -> None:
    """Fsync once a second until stopped or the writer is garbage-collected.

    Holds the writer only weakly between rounds, so an engine dropped without
    close() can still be collected.
    """
    while not stop.wait(EVERYSEC_INTERVAL):
        writer = writer_ref()
        if writer is None or not writer._fsync_once():
            return
        del writer
