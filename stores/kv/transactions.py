"""MULTI, EXEC, DISCARD, WATCH and UNWATCH: optimistic transactions.

Commands queued after MULTI run back to back under the engine lock when
EXEC arrives, so no other client's command interleaves. WATCH records keys;
any write to one of them (or its expiry) marks the watching sessions dirty
and their EXEC returns a null array. Writes inside EXEC are propagated
wrapped in MULTI ... EXEC. Never re-checks arity at EXEC: queuing did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stores.kv.commands import command
from stores.kv.errors import CommandError
from stores.kv.replies import NULL_ARRAY, OK

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
    if s.multi_error:
        s.multi_error = False
        s.unwatch()
        raise CommandError("EXECABORT Transaction discarded because of previous errors.")
    if s.cas_dirty or _watched_key_expired(s):
        s.unwatch()
        return NULL_ARRAY
    s.unwatch()
    engine = s.engine
    replies = []
    nested = engine._tx_buffer is not None
    if not nested:
        engine.begin_transaction()
    s.in_exec = True
    try:
        for cmd, args in queued:
            replies.append(s.call(cmd, args))
    finally:
        s.in_exec = False
        if not nested:
            engine.end_transaction()
    s.dirty = 0
    return replies


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
    s.engine.fast_lane_open = False
    return OK


@command("unwatch", 1, "noscript loading stale fast", group="transactions")
def unwatch(s: Session, argv: list[bytes]) -> Any:
    """Forget every WATCHed key."""
    s.unwatch()
    return OK
