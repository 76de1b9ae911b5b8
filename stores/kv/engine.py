"""The engine: databases, sessions, the command loop and the hooks around it.

``Engine`` owns the sixteen keyspaces, the lock that makes one writer at a
time (as in Redis), the persistence hook object, WATCH bookkeeping, key
waiters for blocking commands, pub/sub, the slow log, statistics and the
background cron (active expiry). ``Session`` holds one client's state and
runs commands through the command table. The engine never encodes wire
bytes and never touches files: persistence does that through its hooks.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from stores.kv import server_commands, transactions  # noqa: F401  (register their commands)
from stores.kv.blocking import WokenQueue
from stores.kv.commands import COMMANDS, FALLBACK, Command, lookup, no_log
from stores.kv.config import Config
from stores.kv.errors import OOM, CommandError
from stores.kv.eviction import MemoryTracker
from stores.kv.expiry import ActiveExpiry, wall_clock_ms
from stores.kv.hooks import NoPersistence
from stores.kv.keyspace import Keyspace
from stores.kv.lazyfree import LazyFree
from stores.kv.pubsub import PubSub
from stores.kv.replies import QUEUED, ErrorReply
from stores.kv.slowlog import SlowLog
from stores.kv.types import generic, hashes, lists, sets, strings, zsets  # noqa: F401

log = logging.getLogger(__name__)

_perf = time.perf_counter
# Slow log thresholds (seconds) from which fast paths are not timed.
FAST_PATHS_UNTIMED_FROM = 0.001
_SESSION_IDS = itertools.count(1)
# What a transaction is wrapped in for persistence (never changed by anyone).
_MULTI = [b"MULTI"]
_EXEC = [b"EXEC"]
SUBSCRIBED_ONLY = (
    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
    "are allowed in this context"
)


class Session:
    """One client's state: selected db, protocol, MULTI queue, WATCH, subscriptions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.id = next(_SESSION_IDS)
        self.db = 0
        self.keyspace = engine.databases[0]
        self.guarded = False
        self._protocol = 2
        self._authenticated = not engine.config.get("requirepass")
        self._multi: list[tuple[Command, list[bytes]]] | None = None
        self.name: bytes | None = None
        self.lib_name = b""
        self.peer = b"in-process"
        self.multi_error = False
        self.watched: set[tuple[int, bytes]] = set()
        self.cas_dirty = False
        self.channels: set[bytes] = set()
        self.patterns: set[bytes] = set()
        self.push_handler: Callable[[Any], None] | None = None
        self.in_exec = False
        # True while the caller releases replies in a batch (an in-process
        # pipeline): it calls persistence.after_command once at the end.
        self.batching = False
        self.dirty = 0
        self.prop: list[list[bytes]] | None = None
        self.touched: list[bytes] | None = None
        self.created = time.time()
        self.last_command = b"NULL"
        self.closed = False
        self.refresh_guard()
        engine.sessions[self.id] = self

    # MULTI, RESP2 subscriptions and missing AUTH restrict what may run. They
    # are rare, so execute() checks one cached flag and only then the details.
    @property
    def multi(self) -> list[tuple[Command, list[bytes]]] | None:
        """The MULTI queue, or None outside a transaction."""
        return self._multi

    @multi.setter
    def multi(self, value: list[tuple[Command, list[bytes]]] | None) -> None:
        self._multi = value
        self.refresh_guard()

    @property
    def authenticated(self) -> bool:
        """True once the session may run commands (AUTH, or no requirepass)."""
        return self._authenticated

    @authenticated.setter
    def authenticated(self, value: bool) -> None:
        self._authenticated = value
        self.refresh_guard()

    @property
    def protocol(self) -> int:
        """The RESP version the session speaks (2 or 3)."""
        return self._protocol

    @protocol.setter
    def protocol(self, value: int) -> None:
        self._protocol = value
        self.refresh_guard()

    def refresh_guard(self) -> None:
        """Recompute ``guarded`` after MULTI, subscription, protocol or AUTH changes."""
        self.guarded = (
            self._multi is not None
            or not self._authenticated
            or (self._protocol == 2 and bool(self.channels or self.patterns))
        )

    def select(self, index: int) -> None:
        """Make ``index`` the selected database."""
        self.db = index
        self.keyspace = self.engine.databases[index]

    @property
    def subscriptions(self) -> int:
        """Return the number of channels and patterns this session listens to."""
        return len(self.channels) + len(self.patterns)

    def execute(self, argv: list[bytes], cmd: Command | None = None) -> Any:
        """Run one command and return its reply; command errors come back as ErrorReply.

        ``cmd``: the command ``argv[0]`` names, from a caller that looked it
        up and built ``argv`` with a valid arity (the in-process client's
        hot methods); the lookup and the arity check are then skipped.
        """
        if cmd is None:
            cmd = COMMANDS.get(argv[0]) if argv else None
            if cmd is None:
                if not argv:
                    return ErrorReply("ERR unknown command ''")
                cmd = lookup(argv[0])
                if cmd is None:
                    return self._unknown(argv)
            count = len(argv)
            arity = cmd.arity
            if (count != arity) if arity > 0 else (count < -arity):
                if self.multi is not None:
                    self.multi_error = True
                return ErrorReply(f"ERR wrong number of arguments for '{cmd.name}' command")
        if self.guarded:
            if self._multi is not None and not cmd.in_multi:
                return self._queue(cmd, argv)
            if (self.channels or self.patterns) and self._protocol == 2 and not cmd.pubsub_context:
                return ErrorReply(SUBSCRIBED_ONLY.format(cmd.name))
            if not self._authenticated and cmd.name not in ("auth", "hello", "quit", "reset"):
                return ErrorReply("NOAUTH Authentication required.")
        engine = self.engine
        # The body of call() and after_write() is repeated here: fewer Python
        # calls on every command. acquire/release rather than "with": about
        # half the cost on CPython 3.11.
        lock = engine.lock
        lock.acquire()
        try:
            persisting = engine.persisting
            fast = cmd.fast
            if fast is not None and (log := engine.write_lane) is not None:
                # The open fast lane, untimed: refresh_write_lane checked the
                # conditions of the branch below once for every command. The
                # fast path does the whole command and logs it itself.
                try:
                    reply = fast(self, argv, log)
                except CommandError as exc:
                    reply = ErrorReply(exc.message)
                except Exception as exc:  # a bug must never take the server down
                    reply = self._internal_error(cmd, argv, exc)
                if reply is not FALLBACK:
                    engine.commands_processed += 1
                    if engine.write_lane is log or not persisting or self.batching:
                        return reply
                    # The lane closed under this command (its append met a
                    # full disk): after_command decides this reply, as below.
                    try:
                        engine.persistence.after_command()
                    except CommandError as exc:
                        return ErrorReply(exc.message)
                    return reply
            elif fast is not None and engine.fast_lane_open:
                # The fast lane: nothing but persistence needs to see this
                # command, and persistence has nothing to do after it
                # (write_lane is None otherwise), so the fast path does the
                # whole command and logs it itself.
                persistence = engine.persistence
                if not persisting:
                    log = no_log
                else:
                    try:
                        log = persistence.write_lane if persistence.write_error is None else None
                    except AttributeError:  # a hook object without a lane
                        log = None
                if log is not None and not persistence.rewriting:
                    timed = engine.slowlog_times_fast_paths
                    if timed:
                        start = _perf()
                    try:
                        reply = fast(self, argv, log)
                    except CommandError as exc:
                        reply = ErrorReply(exc.message)
                    except Exception as exc:  # a bug must never take the server down
                        reply = self._internal_error(cmd, argv, exc)
                    if reply is not FALLBACK:
                        engine.commands_processed += 1
                        if timed:
                            elapsed = _perf() - start
                            if elapsed > engine.slowlog_threshold:
                                engine.record_slow(self, argv, elapsed)
                        if not persisting or persistence.write_lane is log or self.batching:
                            return reply
                        # The lane changed under this command (its append met
                        # a full disk, or the fsync mode changed): after_command
                        # has work again, and it decides this reply as on the
                        # general path.
                        try:
                            persistence.after_command()
                        except CommandError as exc:
                            return ErrorReply(exc.message)
                        return reply
            elif (
                fast is not None
                and cmd.readonly
                and (not engine.maxmemory or engine.memory.used <= engine.maxmemory)
            ):
                # The read lane: WATCH, key waiters, memory accounting, a
                # rewrite or a write refusal need to see only writes, so a
                # read's fast path may run while they close the lane; under
                # maxmemory only while make_room() would have nothing to do.
                timed = engine.slowlog_times_fast_paths
                if timed:
                    start = _perf()
                try:
                    reply = fast(self, argv, no_log)
                except CommandError as exc:
                    reply = ErrorReply(exc.message)
                except Exception as exc:  # a bug must never take the server down
                    reply = self._internal_error(cmd, argv, exc)
                if reply is not FALLBACK:
                    engine.commands_processed += 1
                    if timed:
                        elapsed = _perf() - start
                        if elapsed > engine.slowlog_threshold:
                            engine.record_slow(self, argv, elapsed)
                    if (
                        not persisting
                        or self.batching
                        or getattr(engine.persistence, "write_lane", None) is not None
                    ):
                        return reply
                    # after_command has work (write_lane is None): as on the
                    # general path, it decides this reply.
                    try:
                        engine.persistence.after_command()
                    except CommandError as exc:
                        return ErrorReply(exc.message)
                    return reply
            if engine.maxmemory and not engine.memory.make_room() and cmd.denyoom:
                return ErrorReply(OOM)
            if cmd.write:
                persistence = engine.persistence
                if persisting:
                    refusal = getattr(persistence, "write_error", None)
                    if refusal is not None:
                        return ErrorReply(refusal)
                if persistence.rewriting:
                    keys = cmd.keys(argv)
                    if keys:
                        persistence.before_write(self.db, keys)
            # dirty, prop and touched are 0/None here: whoever sets them resets them below.
            start = _perf()
            try:
                reply = cmd.handler(self, argv)
            except CommandError as exc:
                reply = ErrorReply(exc.message)
                self.dirty = 0
                self.prop = self.touched = None
            except Exception as exc:  # a bug must never take the server down
                reply = self._internal_error(cmd, argv, exc)
            elapsed = _perf() - start
            engine.commands_processed += 1
            if elapsed > engine.slowlog_threshold:
                engine.record_slow(self, argv, elapsed)
            if self.dirty:
                if (
                    self.prop is not None
                    or engine.watched
                    or engine.waiters
                    or engine.tracking_memory
                    or engine._tx_buffer is not None
                ):
                    engine.after_write(self, cmd, argv)
                else:
                    # The common write: argv itself is what persistence logs.
                    if persisting:
                        engine.persistence.propagate(self.db, argv)
                self.dirty = 0
                self.prop = self.touched = None
        finally:
            lock.release()
        if persisting and not self.batching:
            try:
                engine.persistence.after_command()
            except CommandError as exc:  # e.g. MISCONF: the disk refused the write
                return ErrorReply(exc.message)
        return reply

    def finish_batch(self) -> ErrorReply | None:
        """End a batch: run ``after_command`` once for all its commands.

        Return the error every reply of the batch must be replaced by (the
        disk refused the writes), or None.
        """
        self.batching = False
        engine = self.engine
        if engine.persisting:
            try:
                engine.persistence.after_command()
            except CommandError as exc:
                return ErrorReply(exc.message)
        return None

    def call(self, cmd: Command, argv: list[bytes]) -> Any:
        """Run ``cmd`` with the engine lock held (EXEC calls this for queued commands)."""
        engine = self.engine
        if engine.maxmemory and not engine.memory.make_room() and cmd.denyoom:
            return ErrorReply(OOM)
        if cmd.write and engine.persisting:
            refusal = engine.write_refusal()
            if refusal is not None:
                return refusal
        if cmd.write and engine.persistence.rewriting:
            keys = cmd.keys(argv)
            if keys:
                engine.persistence.before_write(self.db, keys)
        start = _perf()
        try:
            reply = cmd.handler(self, argv)
        except CommandError as exc:
            reply = ErrorReply(exc.message)
            self.dirty = 0
            self.prop = self.touched = None
        except Exception as exc:  # a bug must never take the server down
            reply = self._internal_error(cmd, argv, exc)
        elapsed = _perf() - start
        engine.commands_processed += 1
        if elapsed > engine.slowlog_threshold:
            engine.record_slow(self, argv, elapsed)
        if self.dirty:
            engine.after_write(self, cmd, argv)
            self.dirty = 0
            self.prop = self.touched = None
        return reply

    def _internal_error(self, cmd: Command, argv: list[bytes], exc: Exception) -> ErrorReply:
        log.exception("command %r failed", argv[:1])
        self.prop = self.touched = None
        self.dirty = 0
        return ErrorReply(f"ERR internal error in '{cmd.name}': {type(exc).__name__}")

    def _queue(self, cmd: Command, argv: list[bytes]) -> Any:
        if "no_multi" in cmd.flags:
            self.multi_error = True
            return ErrorReply("ERR Command not allowed inside a transaction")
        engine = self.engine
        # Redis 7 refuses any command queued over maxmemory, not only the
        # denyoom ones: a queue could otherwise grow without bound.
        if engine.maxmemory:
            with engine.lock:
                if not engine.memory.make_room():
                    self.multi_error = True
                    return ErrorReply(OOM)
        self.multi.append((cmd, argv))
        return QUEUED

    def _unknown(self, argv: list[bytes]) -> ErrorReply:
        if self.multi is not None:
            self.multi_error = True
        name = argv[0][:128].decode("utf-8", "replace")
        shown = ""
        for arg in argv[1:]:
            if len(shown) >= 128:
                break
            shown += "'" + arg[: 128 - len(shown)].decode("utf-8", "replace") + "' "
        return ErrorReply(f"ERR unknown command '{name}', with args beginning with: {shown}")

    def unwatch(self) -> None:
        """Forget every WATCHed key (the caller holds the engine lock)."""
        engine = self.engine
        watched = engine.watched
        for item in self.watched:
            sessions = watched.get(item)
            if sessions is not None:
                sessions.discard(self)
                if not sessions:
                    del watched[item]
        self.watched = set()
        self.cas_dirty = False
        engine.refresh_fast_lane()

    def close(self) -> None:
        """Release WATCHes and subscriptions; the session is unusable afterwards."""
        if self.closed:
            return
        self.closed = True
        with self.engine.lock:
            self.unwatch()
            self.engine.pubsub.drop(self)
            self.engine.sessions.pop(self.id, None)


class Engine:
    """A Redis-like key-value engine held in memory."""

    def __init__(
        self,
        config: Config | None = None,
        clock: Callable[[], int] | None = None,
        background: bool = True,
    ) -> None:
        self.config = config or Config()
        self.lock = threading.RLock()
        self.clock = clock or wall_clock_ms
        self.databases = [Keyspace(i, self) for i in range(self.config.get("databases"))]
        self.persistence: Any = NoPersistence()
        self.persisting = False
        # Weak: a client (or pipeline) dropped without close() must not leak its session.
        self.sessions: weakref.WeakValueDictionary[int, Session] = weakref.WeakValueDictionary()
        self.watched: dict[tuple[int, bytes], set[Session]] = {}
        self.waiters: dict[tuple[int, bytes], list[Callable[[], None]]] = {}
        # Arrival order of each registered waiter, so one that blocks again
        # after a wake-up keeps its place ahead of later arrivals.
        self._waiter_tickets: dict[Callable[[], None], int] = {}
        self._next_ticket = 0
        self.woken = WokenQueue(self.lock)
        self.pubsub = PubSub(self)
        self.slowlog = SlowLog(self.config.get("slowlog-max-len"))
        self.memory = MemoryTracker(self)
        self.lazyfree = LazyFree()
        self.expiry = ActiveExpiry(self)
        self.stats: dict[str, int] = {
            "expired_keys": 0,
            "evicted_keys": 0,
            "total_connections_received": 0,
            "rejected_connections": 0,
        }
        self.commands_processed = 0
        self.started = time.time()
        self.started_monotonic = time.monotonic()
        self._tx_buffer: list[tuple[int, list[bytes]]] | None = None
        self.maxmemory = 0
        self.tracking_memory = False
        # True while no WATCH, key waiter, memory limit or running EXEC needs
        # to see each command: execute() may then run fast paths. Recomputed
        # by refresh_fast_lane() wherever one of those changes.
        self.fast_lane_open = True
        self.slowlog_threshold = 0.0
        self.slowlog_times_fast_paths = True
        # What execute() checks first for a command with a fast path: the log
        # the fast lane runs with (persistence's write_lane, or no_log) while
        # the lane is open, persistence can take the command that way (no
        # refusal, no rewrite, nothing to do after it) and the slow log does
        # not time fast paths; None otherwise. Recomputed by
        # refresh_write_lane() whenever one of those changes, from any thread.
        self.write_lane: Callable[[int, list[bytes]], None] | None = None
        self._write_lane_lock = threading.Lock()
        self.config_lfu_log_factor = 10
        self.config_lfu_decay_time = 1
        for name, value in self.config.as_dict().items():
            self._config_changed(name, value)
        self.config.on_change(self._config_changed)
        self._closed = threading.Event()
        self._cron_thread: threading.Thread | None = None
        if background:
            self._cron_thread = threading.Thread(
                target=_cron_loop,
                args=(weakref.ref(self), self._closed, 1.0 / max(self.config.get("hz"), 1)),
                name="kv-cron",
                daemon=True,
            )
            self._cron_thread.start()

    # -- sessions and configuration -----------------------------------------

    def new_session(self) -> Session:
        """Return a new session (one per client connection or client object)."""
        self.stats["total_connections_received"] += 1
        return Session(self)

    def execute(self, argv: list[bytes], db: int = 0) -> Any:
        """Run one command on a throwaway session selecting ``db`` (scripts, tools)."""
        session = Session(self)
        try:
            if db:
                session.select(db)
            return session.execute(argv)
        finally:
            session.close()

    def set_persistence(self, persistence: Any) -> None:
        """Install the persistence hook object (``open_persistence`` does this)."""
        self.persistence = persistence
        self.persisting = bool(getattr(persistence, "enabled", True))
        self.refresh_write_lane()

    def _config_changed(self, name: str, value: Any) -> None:
        if name == "maxmemory":
            with self.lock:
                self.maxmemory = value
                self.memory.set_enabled(bool(value))
                self.tracking_memory = self.memory.enabled
                self.refresh_fast_lane()
        elif name == "maxmemory-policy":
            lfu = value.endswith("lfu")
            for ks in self.databases:
                ks.enable_lfu(lfu)
        elif name == "slowlog-log-slower-than":
            self.slowlog_threshold = float("inf") if value < 0 else value / 1e6
            # A fast path is a few microseconds of O(1) work: it can pass a
            # threshold of a millisecond or more only by waiting for the GIL
            # or the garbage collector, which Redis would never log.
            self.slowlog_times_fast_paths = self.slowlog_threshold < FAST_PATHS_UNTIMED_FROM
            self.refresh_write_lane()
        elif name == "slowlog-max-len":
            self.slowlog.resize(value)
        elif name == "lfu-log-factor":
            self.config_lfu_log_factor = value
        elif name == "lfu-decay-time":
            self.config_lfu_decay_time = value

    def refresh_fast_lane(self) -> None:
        """Recompute ``fast_lane_open`` (the caller holds the lock, or owns the engine alone).

        Called after any change to maxmemory, WATCHed keys, key waiters or
        the EXEC buffer: each of them must see every write command, which
        fast paths do not show them.
        """
        self.fast_lane_open = not (
            self.maxmemory
            or self.tracking_memory
            or self.watched
            or self.waiters
            or self._tx_buffer is not None
        )
        self.refresh_write_lane()

    def close_fast_lane(self) -> None:
        """Close the fast lane until the next ``refresh_fast_lane()`` (the caller holds the lock)."""
        self.fast_lane_open = False
        self.refresh_write_lane()

    def refresh_write_lane(self) -> None:
        """Recompute ``write_lane`` from the fast lane, the slow log and persistence.

        Persistence calls this (from any thread) whenever its ``write_lane``,
        ``write_error`` or ``rewriting`` changes; the engine whenever
        ``fast_lane_open`` or the slow log threshold changes. Computed and
        stored under one small lock, so the last call stores what the last
        change left: a lane is never left open by a computation that raced
        with a change closing it.
        """
        with self._write_lane_lock:
            lane = None
            if self.fast_lane_open and not self.slowlog_times_fast_paths:
                if not self.persisting:
                    lane = no_log
                else:
                    persistence = self.persistence
                    lane = getattr(persistence, "write_lane", None)
                    if lane is not None and (
                        getattr(persistence, "write_error", None) is not None
                        or getattr(persistence, "rewriting", False)
                    ):
                        lane = None
            self.write_lane = lane

    def write_refusal(self) -> ErrorReply | None:
        """Return the MISCONF reply while persistence refuses writes, else None."""
        message = getattr(self.persistence, "write_error", None)
        return None if message is None else ErrorReply(message)

    def record_slow(self, session: Session, argv: list[bytes], elapsed: float) -> None:
        """Add a command that took ``elapsed`` seconds to the slow log."""
        self.slowlog.add(argv, int(elapsed * 1e6), session.peer, session.name or b"")

    # -- after a write ------------------------------------------------------

    def after_write(self, session: Session, cmd: Command, argv: list[bytes]) -> None:
        """Propagate a write and tell WATCHers, waiters and memory accounting."""
        db = session.db
        prop, touched = session.prop, session.touched
        if self.persisting:
            for item in prop if prop is not None else (argv,):
                self.propagate(db, item)
        if self.watched or self.waiters or self.tracking_memory:
            self.keys_modified(db, touched if touched is not None else cmd.keys(argv))

    def keys_modified(self, db: int, keys: list[bytes]) -> None:
        """Invalidate WATCHes, wake waiters and re-account memory for ``keys`` of ``db``."""
        watched = self.watched
        if watched:
            for key in keys:
                for other in watched.get((db, key), ()):
                    other.cas_dirty = True
        if self.memory.enabled:
            ks = self.databases[db]
            for key in keys:
                self.memory.account(ks, key)
        if self.waiters:
            for key in keys:
                self._wake(db, key)

    def database_modified(self, db: int) -> None:
        """Invalidate every WATCH on database ``db`` (-1: all) and wake its waiters."""
        for (wdb, _), sessions in self.watched.items():
            if db == -1 or wdb == db:
                for other in sessions:
                    other.cas_dirty = True
        for wdb, key in list(self.waiters):
            if db == -1 or wdb == db:
                self._wake(wdb, key)

    def key_expired(self, db: int, key: bytes) -> None:
        """Propagate the lazy or active expiry of ``key`` as DEL and invalidate WATCHes."""
        if self.persisting:
            self.propagate(db, [b"DEL", key])
        for other in self.watched.get((db, key), ()):
            other.cas_dirty = True

    def forget_key_memory(self, ks: Keyspace, key: bytes) -> None:
        """Drop a deleted key from memory accounting."""
        if self.memory.enabled:
            self.memory.forget(ks, key)

    def propagate(self, db: int, argv: list[bytes]) -> None:
        """Hand one effect-equivalent write to persistence (buffered inside EXEC)."""
        if not self.persisting:
            return
        if self._tx_buffer is not None:
            self._tx_buffer.append((db, argv))
        else:
            self.persistence.propagate(db, argv)

    def begin_transaction(self) -> None:
        """Start buffering propagated writes (EXEC)."""
        self._tx_buffer = []
        self.close_fast_lane()

    def end_transaction(self) -> None:
        """Propagate the buffered writes wrapped in MULTI ... EXEC."""
        buffered, self._tx_buffer = self._tx_buffer, None
        self.refresh_fast_lane()
        if buffered:
            first_db = buffered[0][0]
            persistence = self.persistence
            block = getattr(persistence, "propagate_block", None)
            if block is not None:
                commands = [_MULTI]
                for db, argv in buffered:
                    if db != first_db:
                        break
                    commands.append(argv)
                else:
                    # One database (the usual transaction): one append for the block.
                    commands.append(_EXEC)
                    block(first_db, commands)
                    return
            persistence.propagate(first_db, _MULTI)
            for db, argv in buffered:
                persistence.propagate(db, argv)
            persistence.propagate(buffered[-1][0], _EXEC)

    # -- blocking commands ----------------------------------------------------

    def add_key_waiter(
        self,
        db: int,
        keys: list[bytes],
        waiter: Callable[[], None],
        ticket: int | None = None,
    ) -> int:
        """Call ``waiter()`` once when any of ``keys`` in ``db`` may be ready.

        Waiters are woken in arrival order. Return the waiter's ticket; a
        waiter that blocks again passes it back to keep its place.
        """
        with self.lock:
            if ticket is None:
                ticket = self._next_ticket
                self._next_ticket += 1
            tickets = self._waiter_tickets
            tickets[waiter] = ticket
            for key in keys:
                items = self.waiters.setdefault((db, key), [])
                position = len(items)
                while position and tickets.get(items[position - 1], -1) > ticket:
                    position -= 1
                items.insert(position, waiter)
            self.close_fast_lane()
            return ticket

    def remove_key_waiter(self, db: int, keys: list[bytes], waiter: Callable[[], None]) -> None:
        """Forget ``waiter`` for ``keys`` of ``db``."""
        with self.lock:
            for key in keys:
                items = self.waiters.get((db, key))
                if items and waiter in items:
                    items.remove(waiter)
                    if not items:
                        del self.waiters[(db, key)]
            self._waiter_tickets.pop(waiter, None)
            self.refresh_fast_lane()

    def _wake(self, db: int, key: bytes) -> None:
        items = self.waiters.pop((db, key), None)
        if not items:
            return
        for waiter in items:
            self._waiter_tickets.pop(waiter, None)
            for other_key, others in list(self.waiters.items()):
                if waiter in others:
                    others.remove(waiter)
                    if not others:
                        del self.waiters[other_key]
            try:
                waiter()
            except Exception:
                log.exception("key waiter failed")
        self.refresh_fast_lane()

    # -- persistence entry points ----------------------------------------------

    def replay(self, db: int, argv: list[bytes]) -> Any:
        """Apply a command read from a persistence file: no propagation, no OOM check."""
        cmd = lookup(argv[0])
        if cmd is None:
            raise CommandError(f"ERR unknown command '{argv[0].decode('utf-8', 'replace')}'")
        session = self._replay_session
        session.select(db)
        with self.lock:
            persisting, self.persisting = self.persisting, False
            maxmemory, self.maxmemory = self.maxmemory, 0
            try:
                try:
                    reply = cmd.handler(session, argv)
                    touched = session.touched
                    if session.dirty and (self.memory.enabled or self.watched):
                        self.keys_modified(db, touched if touched is not None else cmd.keys(argv))
                finally:
                    session.dirty = 0
                    session.prop = session.touched = None
            finally:
                self.persisting = persisting
                self.maxmemory = maxmemory
        return reply

    @property
    def _replay_session(self) -> Session:
        session = self.__dict__.get("_replayer")
        if session is None:
            session = Session(self)
            session.authenticated = True
            self.sessions.pop(session.id, None)
            self.__dict__["_replayer"] = session
        return session

    def dump_key(self, db: int, key: bytes) -> list[list[bytes]]:
        """Return commands that recreate ``key`` exactly (value, then PEXPIREAT)."""
        from stores.kv.types.dump import dump_commands

        with self.lock:
            ks = self.databases[db]
            value = ks.peek(key)
            if value is None:
                return []
            commands = dump_commands(key, value)
            when = ks.expires.get(key)
            if when is not None:
                commands.append([b"PEXPIREAT", key, b"%d" % when])
            return commands

    # -- background work ----------------------------------------------------------

    def cron(self) -> None:
        """Run one round of background work: active expiry and housekeeping."""
        with self.lock:
            self.expiry.cycle()
            for ks in self.databases:
                ks.drop_idle_scan_index(30.0)
            if self.maxmemory:
                self.memory.make_room()

    def close(self) -> None:
        """Stop background work and close persistence."""
        if self._closed.is_set():
            return
        self._closed.set()
        if self._cron_thread is not None and self._cron_thread is not threading.current_thread():
            self._cron_thread.join(timeout=5)
        with self.lock:
            close = getattr(self.persistence, "close", None)
            if close is not None:
                close()
        self.lazyfree.close()

    @property
    def closed(self) -> bool:
        """Return True once ``close()`` was called."""
        return self._closed.is_set()


def _cron_loop(engine_ref: weakref.ref, closed: threading.Event, period: float) -> None:
    """Run ``Engine.cron`` every ``period`` seconds until closed or garbage-collected.

    The thread holds only a weak reference, so an engine whose last client
    was dropped without ``close()`` is still freed (and its thread ends).
    """
    while not closed.wait(period):
        engine = engine_ref()
        if engine is None:
            return
        try:
            engine.cron()
        except Exception:
            log.exception("kv cron failed")
        del engine
