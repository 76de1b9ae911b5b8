"""MULTI, EXEC, DISCARD, WATCH and UNWATCH: optimistic transactions.

Commands queued after MULTI run back to back under the engine lock when
EXEC arrives, so no other client's command interleaves. WATCH records keys;
any write to one of them (or its expiry) marks the watching sessions dirty
and their EXEC returns a null array. Writes inside EXEC are propagated
wrapped in MULTI ... EXEC. Never re-checks arity at EXEC: queuing did.

``run_transaction`` is MULTI, the queuing of each command and EXEC in one
step, for a caller that holds the whole transaction at once (the in-process
pipeline): the same checks, replies, counters and propagation, each
command run once. Inside EXEC a command's fast path runs while nothing but
persistence needs to see it, logging into the transaction's buffer.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from stores.kv.commands import COMMANDS, FALLBACK, Command, command, lookup, no_log
from stores.kv.errors import OOM, CommandError
from stores.kv.replies import NULL_ARRAY, OK, ErrorReply

EXECABORT = "EXECABORT Transaction discarded because of previous errors."
NOT_IN_MULTI = "ERR Command not allowed inside a transaction"
_EXEC_ARGV = [b"EXEC"]
_perf = time.perf_counter

if TYPE_CHECKING:
    from stores.kv.engine import Session


@command("multi", 1, "noscript loading stale fast no_multi", group="transactions")
def multi(s: Session, argv: list[bytes]) -> Any:
    """Start a transaction."""
    if s.multi is not None:
        raise CommandError("ERR MULTI calls can not be nested")
    s.multi = []
    s.multi_error = False
    return OK


@command("exec", 1, "noscript loading stale skip_slowlog", group="transactions")
def exec_(s: Session, argv: list[bytes]) -> Any:
    """Run the queued commands atomically."""
    if s.multi is None:
        raise CommandError("ERR EXEC without MULTI")
    queued, s.multi = s.multi, None
    aborted, s.multi_error = s.multi_error, False
    return _exec(s, queued, aborted)


def _exec(s: Session, queued: list[tuple[Command, list[bytes]]], aborted: bool) -> Any:
    """Run EXEC's part of a transaction whose commands are ``queued`` (the lock is held)."""
    if aborted:
        s.unwatch()
        raise CommandError(EXECABORT)
    if s.cas_dirty or _watched_key_expired(s):
        s.unwatch()
        return NULL_ARRAY
    if s.watched:
        s.unwatch()
    engine = s.engine
    replies = []
    nested = engine._tx_buffer is not None
    if not nested:
        engine.begin_transaction()
    log = _buffered(engine._tx_buffer.append) if engine.persisting else no_log
    lane = _lane_open(engine)
    s.in_exec = True
    try:
        for cmd, args in queued:
            fast = cmd.fast
            if fast is not None and lane:
                try:
                    reply = fast(s, args, log)
                except CommandError as exc:
                    reply = ErrorReply(exc.message)
                except Exception as exc:  # a bug must never take the server down
                    reply = s._internal_error(cmd, args, exc)
                if reply is not FALLBACK:
                    engine.commands_processed += 1
                    replies.append(reply)
                    continue
            replies.append(s.call(cmd, args))
            # A general command may have changed what must see the next ones
            # (CONFIG SET maxmemory, a rewrite started, a write refused).
            lane = _lane_open(engine)
    finally:
        s.in_exec = False
        if not nested:
            engine.end_transaction()
    s.dirty = 0
    return replies


def _buffered(append: Any) -> Any:
    """Return a fast path's log that adds to the transaction's buffer (``Engine.propagate``)."""

    def log(db: int, argv: list[bytes]) -> None:
        append((db, argv))

    return log


def _lane_open(engine: Any) -> bool:
    """Return True if a queued command may run its fast path inside EXEC.

    The conditions of ``Engine.fast_lane_open`` apart from the running EXEC
    itself (its fast paths log into the EXEC buffer), plus the slow log:
    from a threshold under ``FAST_PATHS_UNTIMED_FROM`` every command is
    timed through ``Session.call``.
    """
    if (
        engine.maxmemory
        or engine.tracking_memory
        or engine.watched
        or engine.waiters
        or engine.slowlog_times_fast_paths
    ):
        return False
    if engine.persisting:
        persistence = engine.persistence
        if getattr(persistence, "write_error", None) is not None or persistence.rewriting:
            return False
    return True


def _watched_key_expired(s: Session) -> bool:
    engine = s.engine
    now = engine.clock()
    for db, key in s.watched:
        when = engine.databases[db].expires.get(key)
        if when is not None and when <= now:
            return True
    return False


@command("discard", 1, "noscript loading stale fast", group="transactions")
def discard(s: Session, argv: list[bytes]) -> Any:
    """Abandon the queued commands."""
    if s.multi is None:
        raise CommandError("ERR DISCARD without MULTI")
    s.multi = None
    s.multi_error = False
    s.unwatch()
    return OK


@command("watch", -2, "noscript loading stale fast", 1, -1, 1, group="transactions")
def watch(s: Session, argv: list[bytes]) -> Any:
    """Mark keys whose change aborts the next EXEC."""
    if s.multi is not None:
        raise CommandError("ERR WATCH inside MULTI is not allowed")
    watched = s.engine.watched
    for key in argv[1:]:
        item = (s.db, key)
        if item in s.watched:
            continue
        s.watched.add(item)
        watched.setdefault(item, set()).add(s)
    s.engine.close_fast_lane()
    return OK


@command("unwatch", 1, "noscript loading stale fast", group="transactions")
def unwatch(s: Session, argv: list[bytes]) -> Any:
    """Forget every WATCHed key."""
    s.unwatch()
    return OK


def run_transaction(
    s: Session, argvs: list[list[bytes]]
) -> tuple[list[tuple[int, ErrorReply]], Any] | None:
    """Run MULTI, each of ``argvs`` queued, then EXEC, as one step under the engine lock.

    Return the errors queuing gave (index in ``argvs``, reply) and EXEC's
    reply (the replies list, ``NULL_ARRAY`` after a WATCH conflict, or the
    EXECABORT ErrorReply), exactly as the three steps through
    ``Session.execute`` would, counting MULTI and EXEC as commands. Return
    None, having done nothing, when only those steps give the right
    answer: the session is guarded (MULTI already open, AUTH missing,
    RESP2 subscriptions), a command acts at once inside MULTI (WATCH, EXEC,
    ...), or the slow log times every command (it then also logs MULTI).
    """
    engine = s.engine
    with engine.lock:
        if s.guarded or engine.slowlog_times_fast_paths:
            return None
        commands = []
        for argv in argvs:
            if not argv:
                return None
            cmd = COMMANDS.get(argv[0]) or lookup(argv[0])
            if cmd is not None and cmd.in_multi:
                return None
            commands.append(cmd)
        # MULTI: every command makes room first under maxmemory.
        if engine.maxmemory:
            engine.memory.make_room()
        engine.commands_processed += 1
        errors: list[tuple[int, ErrorReply]] = []
        queued: list[tuple[Command, list[bytes]]] = []
        maxmemory = engine.maxmemory
        for index, cmd in enumerate(commands):
            argv = argvs[index]
            # _queue_error's common case inline: a known command of the
            # right arity that may be queued, with no maxmemory to check.
            if cmd is not None and not maxmemory and cmd.queueable:
                arity = cmd.arity
                if len(argv) == arity if arity > 0 else len(argv) >= -arity:
                    queued.append((cmd, argv))
                    continue
            error = _queue_error(s, cmd, argv)
            if error is None:
                queued.append((cmd, argv))
            else:
                errors.append((index, error))
        if engine.maxmemory:
            engine.memory.make_room()
        start = _perf()
        try:
            reply = _exec(s, queued, bool(errors))
        except CommandError as exc:
            reply = ErrorReply(exc.message)
        engine.commands_processed += 1
        elapsed = _perf() - start
        if elapsed > engine.slowlog_threshold:
            engine.record_slow(s, _EXEC_ARGV, elapsed)
        return errors, reply


def _queue_error(s: Session, cmd: Command | None, argv: list[bytes]) -> ErrorReply | None:
    """Return the error queuing ``argv`` after MULTI gives (``Session.execute``), or None."""
    if cmd is None:
        return s._unknown(argv)
    count, arity = len(argv), cmd.arity
    if (count != arity) if arity > 0 else (count < -arity):
        return ErrorReply(f"ERR wrong number of arguments for '{cmd.name}' command")
    if "no_multi" in cmd.flags:
        return ErrorReply(NOT_IN_MULTI)
    engine = s.engine
    if engine.maxmemory and not engine.memory.make_room():
        return ErrorReply(OOM)
    return None
