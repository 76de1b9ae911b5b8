"""The Persistence object the engine holds: its hooks, its commands, its jobs.

Owns the engine-facing side of persistence (docs/kv/engine-api.md):
``propagate`` / ``before_write`` / ``after_command``, the commands SAVE,
BGSAVE, BGREWRITEAOF and LASTSAVE, the INFO persistence fields, runtime
CONFIG SET of appendonly/appendfsync/save, the background jobs (one at a
time, as Redis runs one child) and the once-a-second cron that runs the save
rules and the automatic AOF rewrite. Never parses or encodes file formats:
the writer, reader and walk modules do.
"""

from __future__ import annotations

import logging
import posixpath
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from stores.kv.persistence.aof_directory import AofDirectory
from stores.kv.persistence.aof_writer import AppendOnlyWriter, check_fsync_mode
from stores.kv.persistence.config import PersistenceConfig
from stores.kv.persistence.errors import PersistenceError
from stores.kv.persistence.format import (
    AOF_DIR,
    SNAPSHOT_FILE,
    TEMP_SUFFIX,
    base_file_name,
)
from stores.kv.persistence.fs import FileSystem, Lock, WritableFile
from stores.kv.persistence.info import persistence_info
from stores.kv.persistence.manifest import Manifest
from stores.kv.persistence.rewrite import LOCK_POLL_SECONDS, CopyOnWriteWalk, WalkCancelled
from stores.kv.persistence.save_rules import format_save_rules, parse_save_rules, save_due
from stores.kv.persistence.snapshot_writer import SnapshotWriter

log = logging.getLogger("stores.kv.persistence")

CRON_INTERVAL = 1.0
BGSAVE_RETRY_DELAY = 5  # seconds between attempts after a failed save, as Redis
_NOT_COUNTED = frozenset((b"MULTI", b"EXEC", b"multi", b"exec"))

BGSAVE_STARTED = "Background saving started"
BGSAVE_SCHEDULED = "Background saving scheduled"
REWRITE_STARTED = "Background append only file rewriting started"
REWRITE_SCHEDULED = "Background append only file rewriting scheduled"
BGSAVE_ERROR = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
    "persist to disk. Commands that may modify the data set are disabled, because this "
    "instance is configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about "
    "the RDB error."
)


class Persistence:
    """Durability for one engine over one locked data directory."""

    enabled = True  # the engine propagates writes to us (Engine.set_persistence)

    def __init__(
        self,
        engine: Any,
        fs: FileSystem,
        directory: str,
        config: PersistenceConfig,
        lock: Lock,
    ):
        self.engine = engine
        # Tell the engine whenever write_lane, write_error or rewriting
        # changes: it folds them into its own write_lane once, not per command.
        self._lane_changed: Callable[[], None] = getattr(engine, "refresh_write_lane", _nothing)
        self.fs = fs
        self.directory = directory
        self.aof_directory = posixpath.join(directory, AOF_DIR)
        self.aof_files = AofDirectory(fs, self.aof_directory)
        self.config = config
        self._dir_lock: Lock | None = lock
        self._save_rules = config.save_rules
        # The engine reads write_error before every write command: a plain
        # attribute, recomputed whenever what it depends on changes.
        self._write_error: str | None = None
        self._last_bgsave_status = "ok"
        self._rewriting = False
        # Running walks (a SAVE may run during a rewrite, as in Redis); a
        # tuple replaced whole, so before_write iterates a stable snapshot.
        self._walks: tuple[CopyOnWriteWalk, ...] = ()
        self._saving = False  # a SAVE or BGSAVE is writing dump.kvs
        self._writer: AppendOnlyWriter | None = None
        self._set_writer(None)
        self.manifest: Manifest | None = None
        self._aof_closed_size = 0  # base and finished incremental files
        self.aof_base_size = 0
        self.changes_since_save = 0
        # True while dump.kvs is known to hold the data set as of the last
        # save (loaded from it, or written by us); close() saves otherwise.
        self.snapshot_current = False
        self.last_save_time = int(time.time())
        self.loaded_keys = 0
        self.rdb_saves = 0
        self.last_bgsave_seconds = -1
        self.aof_rewrites = 0
        self.aof_rewrite_failures = 0
        self.last_rewrite_status = "ok"
        self.last_rewrite_seconds = -1
        self._job_lock = threading.Lock()
        self._aof_files_lock = threading.Lock()
        self._job: str | None = None  # "save" or "rewrite"
        self._job_started = 0.0
        self._job_thread: threading.Thread | None = None
        self._job_idle = threading.Event()
        self._job_idle.set()
        self.bgsave_scheduled = False
        self.rewrite_scheduled = False
        self._enable_on_rewrite = False
        self._closed = False
        self._closing = False
        self._cron_stop = threading.Event()
        self._cron_thread: threading.Thread | None = None

    # start-up (called by open_persistence)

    def attach_aof(self, manifest: Manifest, file: WritableFile, closed_size: int) -> None:
        """Append from now on to ``file``, the last incremental file of ``manifest``."""
        self.manifest = manifest
        self._aof_closed_size = closed_size
        self._set_writer(AppendOnlyWriter(file, self.config.appendfsync))

    def _set_writer(self, writer: AppendOnlyWriter | None) -> None:
        """Make ``writer`` the AOF writer (None: the AOF is off)."""
        self._writer = writer
        if writer is not None:
            writer.on_state_change = self._writer_state_changed
        self._writer_state_changed()

    def _writer_state_changed(self) -> None:
        """Recompute what the engine reads on every command from the writer's state."""
        self._refresh_write_error()
        writer = self._writer
        # The engine calls after_command once per command: let it reach the
        # writer's own method directly, or nothing at all while the writer
        # has nothing to do then (a mapped file under everysec or no).
        # The engine's fast lane logs through write_lane, and only while it
        # is not None, that is while after_command has nothing to do.
        if writer is not None and writer.needs_after_command:
            self.after_command = writer.after_command
            self.write_lane = None
        else:
            self.after_command = _no_aof
            self.write_lane = self._count_change if writer is None else writer.lane(self)
        self._lane_changed()

    @property
    def write_error(self) -> str | None:
        """The MISCONF error write commands must get now, or None (see _refresh_write_error)."""
        return self._write_error

    @write_error.setter
    def write_error(self, value: str | None) -> None:
        self._write_error = value
        self._lane_changed()

    @property
    def rewriting(self) -> bool:
        """True while a walk (rewrite or snapshot) needs ``before_write`` for every write."""
        return self._rewriting

    @rewriting.setter
    def rewriting(self, value: bool) -> None:
        self._rewriting = value
        self._lane_changed()

    def remove_orphan_files(self) -> None:
        """Delete leftovers of interrupted jobs: temp files, AOF files not in the manifest."""
        for name in self.fs.listdir(self.directory):
            if name.endswith(TEMP_SUFFIX):
                self.fs.remove(posixpath.join(self.directory, name))
        if self.manifest is not None:
            self.aof_files.remove_orphans(self.manifest)

    def start_cron(self) -> None:
        """Start the once-a-second cron thread (save rules, automatic rewrite)."""
        if self._cron_thread is None and self.config.background_threads:
            self._cron_thread = threading.Thread(
                target=_cron_loop,
                args=(weakref.ref(self), self._cron_stop),
                name="kv-persistence-cron",
                daemon=True,
            )
            self._cron_thread.start()

    # engine hooks (docs/kv/engine-api.md)

    def propagate(self, db: int, argv: list[bytes]) -> None:
        """Record a write command; called under the engine lock."""
        if argv[0] not in _NOT_COUNTED:
            self.changes_since_save += 1
        writer = self._writer
        if writer is not None:
            writer.append(db, argv)

    def propagate_block(self, db: int, commands: list[list[bytes]]) -> None:
        """Record ``commands`` of one database as ``propagate`` would each, in one append."""
        counted = 0
        for argv in commands:
            if argv[0] not in _NOT_COUNTED:
                counted += 1
        self.changes_since_save += counted
        writer = self._writer
        if writer is not None:
            writer.append_block(db, commands)

    def _count_change(self, db: int, argv: list[bytes]) -> None:
        """Record a write command with the AOF off (the fast lane's ``write_lane``)."""
        self.changes_since_save += 1

    def before_write(self, db: int, keys: list[bytes] | None) -> None:
        """Let a running walk save the old value of keys about to change."""
        for walk in self._walks:
            walk.before_write(db, keys)

    def after_command(self) -> None:
        """Write (and with appendfsync always, fsync) before the reply is released.

        Replaced per instance by the writer's own ``after_command`` (or a
        no-op without AOF): see ``_set_writer``.
        """
        writer = self._writer
        if writer is not None:
            writer.after_command()

    def _refresh_write_error(self) -> None:
        """Recompute ``write_error``: the MISCONF error write commands must get now, or None.

        Redis refuses writes while the AOF cannot be written, and while the
        last background save failed if save rules are set
        (stop-writes-on-bgsave-error); the engine checks this before a write.
        """
        writer = self._writer
        if writer is not None and writer.last_write_error:
            self.write_error = f"MISCONF Errors writing to the AOF file: {writer.last_write_error}"
        elif self._save_rules and self._last_bgsave_status == "err":
            self.write_error = BGSAVE_ERROR
        else:
            self.write_error = None

    @property
    def last_bgsave_status(self) -> str:
        """Return "ok" or "err": how the last snapshot went."""
        return self._last_bgsave_status

    @last_bgsave_status.setter
    def last_bgsave_status(self, value: str) -> None:
        self._last_bgsave_status = value
        self._refresh_write_error()

    # commands

    @property
    def aof_enabled(self) -> bool:
        return self._writer is not None or self._enable_on_rewrite

    @property
    def snapshot_path(self) -> str:
        return posixpath.join(self.directory, SNAPSHOT_FILE)

    def lastsave(self) -> int:
        """Return the Unix time of the last successful save (LASTSAVE)."""
        return self.last_save_time

    def save(self) -> str:
        """Write a snapshot now and return "OK" (SAVE); may run during a rewrite."""
        with self._job_lock:
            if self._saving or self._job == "save":
                raise PersistenceError("ERR Background save already in progress")
            self._saving = True
        try:
            self._snapshot()
        finally:
            self._saving = False
        return "OK"

    def bgsave(self, schedule: bool = False) -> str:
        """Start a background snapshot (BGSAVE [SCHEDULE]); return the status line."""
        with self._job_lock:
            if self._job == "save" or self._saving:
                raise PersistenceError("ERR Background save already in progress")
            if self._job == "rewrite":
                if not schedule:
                    raise PersistenceError(
                        "ERR Another child process is active (AOF?): can't BGSAVE right now. "
                        "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
                    )
                self.bgsave_scheduled = True
                return BGSAVE_SCHEDULED
            self._start_job_thread("save")
        return BGSAVE_STARTED

    def bgrewriteaof(self) -> str:
        """Start a background AOF rewrite (BGREWRITEAOF); return the status line."""
        with self._job_lock:
            if self._job == "rewrite":
                raise PersistenceError(
                    "ERR Background append only file rewriting already in progress"
                )
            if self._job is not None:
                self.rewrite_scheduled = True
                return REWRITE_SCHEDULED
            self._start_job_thread("rewrite")
        return REWRITE_STARTED

    def wait_for_jobs(self, timeout: float | None = None) -> bool:
        """Wait until no background job runs or is scheduled; return True if idle."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._job_idle.wait(remaining):
                return False
            with self._job_lock:
                if self._job is None and not (self.bgsave_scheduled or self.rewrite_scheduled):
                    return True
                if self._job is None:
                    self._start_scheduled_locked()
            if deadline is not None and time.monotonic() >= deadline:
                return False

    # CONFIG SET

    def set_appendfsync(self, mode: str) -> None:
        """Change appendfsync at runtime."""
        mode = check_fsync_mode(mode)
        self.config.appendfsync = mode
        if self._writer is not None:
            self._writer.set_fsync_mode(mode)

    def set_save_rules(self, value: str) -> None:
        """Change the save rules at runtime ("" disables automatic snapshots)."""
        rules = parse_save_rules(value)
        self._save_rules = rules
        self.config.save = format_save_rules(rules)
        self._refresh_write_error()

    def set_appendonly(self, enabled: bool) -> None:
        """Turn the AOF on (through a rewrite, as Redis does) or off."""
        self.config.appendonly = enabled
        if enabled:
            if self.aof_enabled:
                return
            self._enable_on_rewrite = True
            with self._job_lock:
                if self._job is None:
                    self._start_job_thread("rewrite")
                else:
                    self.rewrite_scheduled = True
            return
        self._enable_on_rewrite = False
        with self.engine.lock:
            writer = self._writer
            self._set_writer(None)
        if writer is not None:
            writer.close()
            self.discard_aof()

    def discard_aof(self) -> None:
        """Delete the AOF files: once writes stop being logged they would be stale.

        Redis leaves them, and a later start with the AOF on silently loads
        the old data; here the manifest goes first, so a start with the AOF
        on falls back to dump.kvs. Called with the AOF off.
        """
        with self._aof_files_lock:
            if self._writer is not None:
                return
            self.aof_files.discard()
            self.manifest = None
            self._aof_closed_size = 0
            self.aof_base_size = 0

    # INFO persistence

    def info(self) -> dict[str, int | str]:
        """Return INFO's persistence section fields, Redis's names and order."""
        return persistence_info(self)

    info_fields = info

    def config_changed(self, name: str, value: Any) -> None:
        """Apply a CONFIG SET of appendonly, appendfsync or save (a Config listener)."""
        name = name.replace("_", "-")
        if name == "appendonly":
            self.set_appendonly(bool(value))
        elif name == "appendfsync":
            self.set_appendfsync(str(value))
        elif name == "save":
            self.set_save_rules(str(value))

    def aof_current_size(self) -> int:
        """Return the AOF's total size: base plus incremental files."""
        writer = self._writer
        return self._aof_closed_size + (writer.file_size() if writer else 0)

    # background jobs

    def _begin_job(self, kind: str) -> None:
        self._job = kind
        self._job_started = time.time()
        self._job_idle.clear()

    def _end_job(self) -> None:
        with self._job_lock:
            self._job = None
            self._job_idle.set()
            if not self._closed:
                self._start_scheduled_locked()

    def _start_scheduled_locked(self) -> None:
        if self.rewrite_scheduled:
            self.rewrite_scheduled = False
            self._start_job_thread("rewrite")
        elif self.bgsave_scheduled:
            self.bgsave_scheduled = False
            self._start_job_thread("save")

    def _start_job_thread(self, kind: str) -> None:
        if self._closed or self._cron_stop.is_set():
            raise PersistenceError("ERR the data directory is closed")
        self._begin_job(kind)
        thread = threading.Thread(target=self._run_job, args=(kind,), name=f"kv-{kind}")
        thread.daemon = True
        self._job_thread = thread
        thread.start()

    def _run_job(self, kind: str) -> None:
        try:
            if kind == "save":
                self._snapshot()
            else:
                self._rewrite()
        except WalkCancelled:
            pass
        except Exception:
            log.exception("background %s failed", "save" if kind == "save" else "AOF rewrite")
        finally:
            self._end_job()

    def _walk_into(self, writer: SnapshotWriter, walk: CopyOnWriteWalk) -> None:
        try:
            walk.run(writer.add_key)
        finally:
            # Plain assignments, no engine lock: close() may hold it while it
            # cancels this walk. The engine reads these under its lock and a
            # late before_write on a finished walk is harmless.
            self._walks = tuple(w for w in self._walks if w is not walk)
            self.rewriting = bool(self._walks)

    def _acquire_engine_lock(self) -> None:
        """Take the engine lock, giving up if close() is waiting for this job."""
        while not self.engine.lock.acquire(timeout=LOCK_POLL_SECONDS):
            if self._closing:
                raise WalkCancelled

    def _begin_walk_locked(self) -> CopyOnWriteWalk:
        if self._closing:
            raise WalkCancelled
        walk = CopyOnWriteWalk(self.engine)
        self._walks = (*self._walks, walk)
        self.rewriting = True
        return walk

    def _snapshot(self) -> None:
        started = time.monotonic()
        writer = SnapshotWriter(self.fs, self.snapshot_path, aux=_aux())
        try:
            self._acquire_engine_lock()
            try:
                walk = self._begin_walk_locked()
                changes_before = self.changes_since_save
            finally:
                self.engine.lock.release()
            self._walk_into(writer, walk)
            writer.commit()
        except BaseException:
            self.last_bgsave_status = "err"
            writer.abort()
            raise
        self._acquire_engine_lock()
        try:  # propagate() counts under the engine lock; subtract under it too
            self.changes_since_save -= changes_before
        finally:
            self.engine.lock.release()
        self.snapshot_current = True
        self.last_save_time = int(time.time())
        self.last_bgsave_status = "ok"
        self.last_bgsave_seconds = int(time.monotonic() - started)
        self.rdb_saves += 1
        log.info("snapshot saved to %s (%d keys)", self.snapshot_path, writer.keys)

    def _rewrite(self) -> None:
        started = time.monotonic()
        try:
            self._rewrite_files()
        except BaseException:
            self.last_rewrite_status = "err"
            self.aof_rewrite_failures += 1
            raise
        self.last_rewrite_status = "ok"
        self.aof_rewrite_failures = 0
        self.aof_rewrites += 1
        self.last_rewrite_seconds = int(time.monotonic() - started)

    def _rewrite_files(self) -> None:
        """Redis 7's multi-part rewrite: new incr file now, new base in the background.

        1. create an empty incremental file and list it after the current files
           in the manifest (still a complete history);
        2. under the engine lock, switch the writer to it and start the walk:
           the walk is the data set at that instant, the new incr file holds
           every command after it;
        3. write the walk as the new base file (temp, fsync, rename, fsync dir);
        4. replace the manifest by (new base, new incr) and delete the old files.
        """
        files = self.aof_files
        enabling = self._writer is None and self._enable_on_rewrite
        if enabling:
            self.discard_aof()  # whatever is there stopped being logged to
        old = self.manifest or Manifest()
        incr_seq = old.next_seq()
        incr_name, incr_file = files.create_incr(incr_seq)
        if self._writer is not None and old.files():
            files.publish(Manifest(old.base, [*old.incrs, (incr_name, incr_seq)]))
        base_name = base_file_name(incr_seq + 1)
        writer = SnapshotWriter(self.fs, files.file_path(base_name), aux=_aux())
        attached = False
        try:
            self._acquire_engine_lock()
            try:
                walk = self._begin_walk_locked()
                if self._writer is not None:
                    previous = self._writer.switch_file(incr_file)
                    attached = True
                    previous.close()
                    self._aof_closed_size += previous.size()
                elif enabling:
                    self._set_writer(AppendOnlyWriter(incr_file, self.config.appendfsync))
                    attached = True
                    self._enable_on_rewrite = False
            finally:
                self.engine.lock.release()
            if not attached:
                incr_file.close()  # the AOF is off: nothing will be appended
            self._walk_into(writer, walk)
            base_size = writer.commit()
        except BaseException:
            if not attached:
                incr_file.close()
            writer.abort()
            raise
        new = Manifest((base_name, incr_seq + 1), [(incr_name, incr_seq)])
        with self._aof_files_lock:
            if self._writer is None:
                # The AOF is off (or was turned off meanwhile): a published
                # AOF would go stale at once, so drop the result.
                files.remove(new.files())
                log.info("AOF rewrite discarded: the AOF is off")
                return
            files.publish(new)
            self.manifest = new
            self.aof_base_size = base_size
            self._aof_closed_size = base_size
        files.remove(set(old.files()) - set(new.files()))
        log.info("AOF rewritten: base %s, incr %s (%d keys)", base_name, incr_name, writer.keys)

    # cron

    def cron(self, now: float | None = None) -> str | None:
        """Start a save or rewrite that is due; return which ("save", "rewrite") or None."""
        now = time.time() if now is None else now
        writer = self._writer
        if writer is not None and writer.buffer_length():
            self._retry_aof_write(writer)
        with self._job_lock:
            if self._job is not None or self._saving or self._closed:
                return None
            if self.rewrite_scheduled or self.bgsave_scheduled:
                kind = "rewrite" if self.rewrite_scheduled else "save"
                self._start_scheduled_locked()
                return kind
            retry_wait = self.last_bgsave_status == "err" and (
                now - self._job_started < BGSAVE_RETRY_DELAY
            )
            if not retry_wait and save_due(
                self._save_rules, self.changes_since_save, now - self.last_save_time
            ):
                self._start_job_thread("save")
                return "save"
            if self._rewrite_due():
                self._start_job_thread("rewrite")
                return "rewrite"
        return None

    def _retry_aof_write(self, writer: AppendOnlyWriter) -> None:
        """Write what the buffer holds: a failed write's bytes, or expiry DELs no reply waited for."""
        self._acquire_engine_lock()
        try:
            writer.flush(sync=False)
        except PersistenceError:
            pass  # still failing; logged by the writer, retried next second
        finally:
            self.engine.lock.release()

    def _rewrite_due(self) -> bool:
        if self._writer is None or not self.config.auto_aof_rewrite_percentage:
            return False
        size = self.aof_current_size()
        base = max(self.aof_base_size, 1)
        growth = (size - base) * 100 // base
        return (
            size >= self.config.auto_aof_rewrite_min_size
            and growth >= self.config.auto_aof_rewrite_percentage
        )

    # shutdown

    def close(self) -> None:
        """Stop the threads, save if save rules are set, flush the AOF, unlock."""
        if self._closed:
            return
        self._closing = True
        for walk in self._walks:
            walk.cancelled = True
        self._cron_stop.set()
        if self._cron_thread is not None:
            self._cron_thread.join()
        with self._job_lock:
            self.bgsave_scheduled = self.rewrite_scheduled = False
        self._job_idle.wait()
        self._closing = False  # the final save below must not cancel itself
        try:
            # Redis saves on shutdown whenever save rules are set; skip it
            # only when dump.kvs already holds exactly this data set.
            if self._save_rules and (self.changes_since_save or not self.snapshot_current):
                self.save()
        finally:
            self._closed = True
            writer = self._writer
            self._set_writer(None)
            try:
                if writer is not None:
                    writer.close()
            finally:
                lock, self._dir_lock = self._dir_lock, None
                if lock is not None:
                    lock.release()


def _cron_loop(persistence_ref: weakref.ref, stop: threading.Event) -> None:
    """Run ``Persistence.cron`` once a second until closed or garbage-collected.

    Holds the Persistence (and so its engine) only weakly between rounds, so
    an engine dropped without close() can still be collected.
    """
    while not stop.wait(CRON_INTERVAL):
        persistence = persistence_ref()
        if persistence is None:
            return
        try:
            persistence.cron()
        except WalkCancelled:
            return  # close() is waiting for us
        except Exception:
            log.exception("persistence cron failed")
        del persistence


def _nothing() -> None:
    """Do nothing (an engine without ``refresh_write_lane``)."""


def _no_aof() -> None:
    """Do nothing: no AOF, or every command already reached the kernel."""


def _aux() -> dict[str, str]:
    return {"kvsite-version": "1", "ctime": str(int(time.time()))}
