"""Commands on keys of any type: DEL, EXISTS, TTLs, KEYS/SCAN, RENAME, COPY, SELECT ...

These commands work on the keyspace itself rather than on one value type.
Expiry changes are propagated as absolute ``PEXPIREAT`` (or ``DEL`` when
the time is already past), as Redis does; EXPIREAT and PEXPIREAT have a
fast path for a key that stays alive. Never reads a value's contents
except to copy it (COPY) or describe it (OBJECT, MEMORY USAGE).
"""

from __future__ import annotations

import copy as copy_module
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stores.kv.arguments import LLONG_MAX, LLONG_MIN, int_or_none, parse_int
from stores.kv.commands import FALLBACK, command, fast_path
from stores.kv.errors import DB_INDEX, NO_SUCH_KEY, SYNTAX, CommandError, subcommand_error
from stores.kv.eviction import estimate_key
from stores.kv.glob import compile_glob
from stores.kv.keyspace import TYPE_NAMES
from stores.kv.replies import OK, SimpleString
from stores.kv.types.zsets import ZSet

if TYPE_CHECKING:
    from stores.kv.engine import Session
    from stores.kv.keyspace import Keyspace

SCAN_TYPES = {b"string", b"hash", b"list", b"set", b"zset"}


def encoding_of(s: Session, value: Any) -> bytes:
    """Return the OBJECT ENCODING name Redis 7.0 would report for ``value``."""
    config = s.engine.config
    kind = type(value)
    if kind is bytes:
        if int_or_none(value) is not None:
            return b"int"
        return b"embstr" if len(value) <= 44 else b"raw"
    if kind is dict:
        small = len(value) <= config.get("hash-max-listpack-entries")
        limit = config.get("hash-max-listpack-value")
        if small and all(len(f) <= limit and len(v) <= limit for f, v in value.items()):
            return b"listpack"
        return b"hashtable"
    if kind is deque:
        return b"quicklist"
    if kind is set:
        if len(value) <= config.get("set-max-intset-entries") and all(
            int_or_none(m) is not None for m in value
        ):
            return b"intset"
        return b"hashtable"
    small = len(value) <= config.get("zset-max-listpack-entries")
    limit = config.get("zset-max-listpack-value")
    if small and all(len(m) <= limit for m in value.members):
        return b"listpack"
    return b"skiplist"


def copy_value(value: Any) -> Any:
    """Return an independent copy of a stored value."""
    if type(value) is bytes:
        return value
    if type(value) is ZSet:
        return value.copy()
    return copy_module.copy(value)


@command("del", -2, "write", 1, -1, 1, group="keyspace")
def del_(s: Session, argv: list[bytes]) -> int:
    """Delete keys."""
    ks = s.keyspace
    removed = 0
    for key in argv[1:]:
        if ks.exists(key) and ks.delete(key):
            removed += 1
    if removed:
        s.dirty = removed
    return removed


@command("unlink", -2, "write fast", 1, -1, 1, group="keyspace")
def unlink(s: Session, argv: list[bytes]) -> int:
    """Delete keys (the memory is reclaimed at once: values are freed by Python)."""
    return del_(s, argv)


@command("exists", -2, "readonly fast", 1, -1, 1, group="keyspace")
def exists(s: Session, argv: list[bytes]) -> int:
    """Count how many of the given keys exist."""
    ks = s.keyspace
    return sum(1 for key in argv[1:] if ks.exists(key))


@command("type", 2, "readonly fast", 1, 1, 1, group="keyspace")
def type_(s: Session, argv: list[bytes]) -> SimpleString:
    """Return the type of a key."""
    value = s.keyspace.get(argv[1])
    return SimpleString("none" if value is None else TYPE_NAMES[type(value)].decode())


def _expire(s: Session, argv: list[bytes], unit: int, relative: bool) -> int:
    name = argv[0].decode().lower()
    key = argv[1]
    when = parse_int(argv[2])
    nx = xx = gt = lt = False
    for raw in argv[3:]:
        option = raw.upper()
        if option == b"NX":
            nx = True
        elif option == b"XX":
            xx = True
        elif option == b"GT":
            gt = True
        elif option == b"LT":
            lt = True
        else:
            raise CommandError(f"ERR Unsupported option {raw.decode('utf-8', 'replace')}")
    if nx and (xx or gt or lt):
        raise CommandError("ERR NX and XX, GT or LT options at the same time are not compatible")
    if gt and lt:
        raise CommandError("ERR GT and LT options at the same time are not compatible")
    message = f"ERR invalid expire time in '{name}' command"
    if unit == 1000:
        if when > LLONG_MAX // 1000 or when < LLONG_MIN // 1000:
            raise CommandError(message)
        when *= 1000
    if relative:
        now = s.engine.clock()
        if when > LLONG_MAX - now:
            raise CommandError(message)
        when += now
    ks = s.keyspace
    if not ks.exists(key):
        return 0
    current = ks.expires.get(key)
    if nx and current is not None:
        return 0
    if xx and current is None:
        return 0
    if gt and (current is None or when <= current):
        return 0
    if lt and current is not None and when >= current:
        return 0
    s.dirty = 1
    if when <= s.engine.clock():
        ks.delete(key)
        s.prop = [[b"DEL", key]]
        return 1
    ks.set_expire(key, when)
    s.prop = [[b"PEXPIREAT", key, b"%d" % when]]
    return 1


@command("expire", -3, "write fast", 1, 1, 1, group="keyspace")
def expire(s: Session, argv: list[bytes]) -> int:
    """Set a key's time to live in seconds."""
    return _expire(s, argv, 1000, True)


@command("pexpire", -3, "write fast", 1, 1, 1, group="keyspace")
def pexpire(s: Session, argv: list[bytes]) -> int:
    """Set a key's time to live in milliseconds."""
    return _expire(s, argv, 1, True)


@command("expireat", -3, "write fast", 1, 1, 1, group="keyspace")
def expireat(s: Session, argv: list[bytes]) -> int:
    """Set a key's expiry as a Unix time in seconds."""
    return _expire(s, argv, 1000, False)


@command("pexpireat", -3, "write fast", 1, 1, 1, group="keyspace")
def pexpireat(s: Session, argv: list[bytes]) -> int:
    """Set a key's expiry as a Unix time in milliseconds."""
    return _expire(s, argv, 1, False)


# EXPIREAT's options as the fast path reads them (exact case; others fall back).
_NX, _XX, _GT, _LT = 1, 2, 4, 8
_EXPIRE_OPTIONS = {b"NX": _NX, b"XX": _XX, b"GT": _GT, b"LT": _LT}


def _expire_at_fast(s: Session, argv: list[bytes], log: Callable, unit: int) -> Any:
    """EXPIREAT/PEXPIREAT (NX XX GT LT) of a live key to a future time, in one step.

    ``_expire`` for an absolute time: the same checks in the same order, the
    same reply and the same PEXPIREAT logged. Everything that needs more
    (an error in the options, a time out of range or already past, a key
    whose TTL has passed and must be expired first) falls back.
    """
    when = parse_int(argv[2])  # the handler's first check, with its error
    flags = 0
    if len(argv) > 3:
        for raw in argv[3:]:
            flag = _EXPIRE_OPTIONS.get(raw)
            if flag is None:
                return FALLBACK
            flags |= flag
        if (flags & _NX and flags != _NX) or flags & (_GT | _LT) == _GT | _LT:
            return FALLBACK
    if unit == 1000:
        if when > LLONG_MAX // 1000 or when < LLONG_MIN // 1000:
            return FALLBACK
        when *= 1000
    ks = s.keyspace
    key = argv[1]
    expires = ks.expires
    current = expires.get(key)
    now = s.engine.clock()
    if current is not None and current <= now:
        return FALLBACK
    if key not in ks.data:
        return 0
    if flags and (
        (flags & _NX and current is not None)
        or (flags & _XX and current is None)
        or (flags & _GT and (current is None or when <= current))
        or (flags & _LT and current is not None and when >= current)
    ):
        return 0
    if when <= now:
        return FALLBACK
    expires[key] = when
    log(s.db, [b"PEXPIREAT", key, b"%d" % when])
    return 1


@fast_path("expireat")
def expireat_fast(s: Session, argv: list[bytes], log: Callable) -> Any:
    """EXPIREAT of a live key to a future time, in one step (``_expire_at_fast``)."""
    return _expire_at_fast(s, argv, log, 1000)


@fast_path("pexpireat")
def pexpireat_fast(s: Session, argv: list[bytes], log: Callable) -> Any:
    """PEXPIREAT of a live key to a future time, in one step (``_expire_at_fast``)."""
    return _expire_at_fast(s, argv, log, 1)


def _ttl(s: Session, key: bytes, in_ms: bool, absolute: bool) -> int:
    ks = s.keyspace
    if ks.get(key) is None:
        return -2
    when = ks.expires.get(key)
    if when is None:
        return -1
    if absolute:
        return when if in_ms else when // 1000
    remaining = max(when - s.engine.clock(), 0)
    return remaining if in_ms else (remaining + 500) // 1000


@command("ttl", 2, "readonly fast", 1, 1, 1, group="keyspace")
def ttl(s: Session, argv: list[bytes]) -> int:
    """Return a key's time to live in seconds (-1 no expiry, -2 no key)."""
    return _ttl(s, argv[1], False, False)


@command("pttl", 2, "readonly fast", 1, 1, 1, group="keyspace")
def pttl(s: Session, argv: list[bytes]) -> int:
    """Return a key's time to live in milliseconds."""
    return _ttl(s, argv[1], True, False)


@command("expiretime", 2, "readonly fast", 1, 1, 1, group="keyspace")
def expiretime(s: Session, argv: list[bytes]) -> int:
    """Return a key's expiry as a Unix time in seconds."""
    return _ttl(s, argv[1], False, True)


@command("pexpiretime", 2, "readonly fast", 1, 1, 1, group="keyspace")
def pexpiretime(s: Session, argv: list[bytes]) -> int:
    """Return a key's expiry as a Unix time in milliseconds."""
    return _ttl(s, argv[1], True, True)


@command("persist", 2, "write fast", 1, 1, 1, group="keyspace")
def persist(s: Session, argv: list[bytes]) -> int:
    """Remove a key's expiry."""
    ks = s.keyspace
    if not ks.exists(argv[1]) or not ks.persist(argv[1]):
        return 0
    s.dirty = 1
    return 1


def _live_keys(ks: Keyspace, now: int) -> list[bytes]:
    expires = ks.expires
    if not expires:
        return list(ks.data)
    return [k for k in ks.data if expires.get(k, now + 1) > now]


@command("keys", 2, "readonly", group="keyspace")
def keys(s: Session, argv: list[bytes]) -> list[bytes]:
    """Return every key matching a glob pattern."""
    ks = s.keyspace
    live = _live_keys(ks, s.engine.clock())
    if argv[1] == b"*":
        return live
    match = compile_glob(argv[1]).fullmatch
    return [k for k in live if match(k)]


def parse_scan_cursor(raw: bytes) -> int:
    """Return a SCAN-family cursor or raise Redis's ``invalid cursor`` error."""
    if not raw.isdigit():
        raise CommandError("ERR invalid cursor")
    cursor = int(raw)
    if cursor > (1 << 64) - 1:
        raise CommandError("ERR invalid cursor")
    return cursor


def parse_scan_options(
    argv: list[bytes], start: int, allow_type: bool
) -> tuple[bytes | None, int, bytes | None, bool]:
    """Return (pattern, count, type, novalues) from SCAN options at ``argv[start:]``."""
    pattern = type_filter = None
    count = 10
    novalues = False
    i = start
    while i < len(argv):
        option = argv[i].lower()
        remaining = len(argv) - i - 1
        if option == b"count" and remaining >= 1:
            count = parse_int(argv[i + 1])
            if count < 1:
                raise CommandError(SYNTAX)
            i += 2
        elif option == b"match" and remaining >= 1:
            pattern = argv[i + 1]
            i += 2
        elif option == b"type" and remaining >= 1 and allow_type:
            type_filter = argv[i + 1].lower()
            i += 2
        else:
            raise CommandError(SYNTAX)
    return pattern, count, type_filter, novalues


@command("scan", -2, "readonly", group="keyspace")
def scan(s: Session, argv: list[bytes]) -> list:
    """Iterate the keyspace with a cursor."""
    cursor = parse_scan_cursor(argv[1])
    pattern, count, type_filter, _ = parse_scan_options(argv, 2, True)
    ks = s.keyspace
    next_cursor, found = ks.scan(cursor, count)
    match = compile_glob(pattern).fullmatch if pattern not in (None, b"*") else None
    out = []
    for key in found:
        if match is not None and not match(key):
            continue
        value = ks.get_for_write(key)
        if value is None:
            continue
        if type_filter is not None and TYPE_NAMES[type(value)] != type_filter:
            continue
        out.append(key)
    return [b"%d" % next_cursor, out]


def _rename(s: Session, argv: list[bytes], nx: bool) -> Any:
    source, target = argv[1], argv[2]
    ks = s.keyspace
    value = ks.get_for_write(source)
    if value is None:
        raise CommandError(NO_SUCH_KEY)
    if source == target:
        return 0 if nx else OK
    if ks.exists(target):
        if nx:
            return 0
        ks.delete(target)
    when = ks.expires.get(source)
    ks.delete(source, free=False)
    ks.set(target, value)
    if when is not None:
        ks.set_expire(target, when)
    s.dirty = 1
    s.touched = [source, target]
    return 1 if nx else OK


@command("rename", 3, "write", 1, 2, 1, group="keyspace")
def rename(s: Session, argv: list[bytes]) -> Any:
    """Rename a key, overwriting the target."""
    return _rename(s, argv, False)


@command("renamenx", 3, "write fast", 1, 2, 1, group="keyspace")
def renamenx(s: Session, argv: list[bytes]) -> Any:
    """Rename a key only if the target does not exist."""
    return _rename(s, argv, True)


@command("randomkey", 1, "readonly", group="keyspace")
def randomkey(s: Session, argv: list[bytes]) -> bytes | None:
    """Return a random key."""
    ks = s.keyspace
    for _ in range(100):
        picked = ks.random_keys(1)
        if not picked:
            return None
        if ks.exists(picked[0]):
            return picked[0]
    return None


@command("dbsize", 1, "readonly fast", group="keyspace")
def dbsize(s: Session, argv: list[bytes]) -> int:
    """Return the number of keys in the selected database."""
    return len(s.keyspace.data)


def _flush_mode(argv: list[bytes]) -> None:
    if len(argv) > 2 or (len(argv) == 2 and argv[1].upper() not in (b"ASYNC", b"SYNC")):
        raise CommandError(SYNTAX)


@command("flushdb", -1, "write", group="keyspace")
def flushdb(s: Session, argv: list[bytes]) -> Any:
    """Remove every key of the selected database."""
    _flush_mode(argv)
    engine = s.engine
    if engine.persistence.rewriting:
        engine.persistence.before_write(s.db, None)
    engine.database_modified(s.db)
    s.keyspace.clear()
    engine.memory.database_cleared()
    s.dirty = 1
    s.touched = []
    return OK


@command("flushall", -1, "write", group="keyspace")
def flushall(s: Session, argv: list[bytes]) -> Any:
    """Remove every key of every database."""
    _flush_mode(argv)
    engine = s.engine
    if engine.persistence.rewriting:
        engine.persistence.before_write(-1, None)
    engine.database_modified(-1)
    for ks in engine.databases:
        ks.clear()
    engine.memory.database_cleared()
    s.dirty = 1
    s.touched = []
    return OK


def _db_index(s: Session, raw: bytes, message: str) -> int:
    index = parse_int(raw, message)
    if not 0 <= index < len(s.engine.databases):
        raise CommandError(DB_INDEX)
    return index


@command("select", 2, "loading stale fast", group="connection")
def select(s: Session, argv: list[bytes]) -> Any:
    """Change the selected database."""
    s.select(_db_index(s, argv[1], "ERR value is not an integer or out of range"))
    return OK


@command("swapdb", 3, "write fast", group="keyspace")
def swapdb(s: Session, argv: list[bytes]) -> Any:
    """Swap two databases."""
    first = _db_index(s, argv[1], "ERR invalid first DB index")
    second = _db_index(s, argv[2], "ERR invalid second DB index")
    engine = s.engine
    if first != second:
        if engine.persistence.rewriting:
            engine.persistence.before_write(first, None)
            engine.persistence.before_write(second, None)
        engine.databases[first].swap_contents(engine.databases[second])
        engine.database_modified(first)
        engine.database_modified(second)
        engine.memory.database_cleared()
    s.dirty = 1
    s.touched = []
    return OK


@command("copy", -3, "write denyoom", 1, 2, 1, group="keyspace")
def copy(s: Session, argv: list[bytes]) -> int:
    """Copy a key's value to another key, optionally in another database."""
    source, target = argv[1], argv[2]
    engine = s.engine
    target_db = s.db
    replace = False
    i = 3
    while i < len(argv):
        option = argv[i].upper()
        if option == b"REPLACE":
            replace = True
        elif option == b"DB" and i + 1 < len(argv):
            i += 1
            target_db = _db_index(s, argv[i], "ERR value is not an integer or out of range")
        else:
            raise CommandError(SYNTAX)
        i += 1
    if source == target and target_db == s.db:
        raise CommandError("ERR source and destination objects are the same")
    ks = s.keyspace
    value = ks.get_for_write(source)
    if value is None:
        return 0
    destination = engine.databases[target_db]
    if destination.exists(target):
        if not replace:
            return 0
    if target_db != s.db and engine.persistence.rewriting:
        engine.persistence.before_write(target_db, [target])
    destination.delete(target)
    destination.set(target, copy_value(value))
    when = ks.expires.get(source)
    if when is not None:
        destination.set_expire(target, when)
    s.dirty = 1
    if target_db != s.db:
        engine.keys_modified(target_db, [target])
        s.touched = [source]
    return 1


@command("touch", -2, "readonly fast", 1, -1, 1, group="keyspace")
def touch(s: Session, argv: list[bytes]) -> int:
    """Update the access time of keys; return how many exist."""
    ks = s.keyspace
    return sum(1 for key in argv[1:] if ks.get(key) is not None)


@command("object", -2, "readonly", group="keyspace")
def object_(s: Session, argv: list[bytes]) -> Any:
    """OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP key."""
    sub = argv[1].lower()
    if sub == b"help" and len(argv) == 2:
        return [
            b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            b"ENCODING <key>",
            b"FREQ <key>",
            b"IDLETIME <key>",
            b"REFCOUNT <key>",
            b"HELP",
        ]
    known = (b"encoding", b"freq", b"idletime", b"refcount", b"help")
    if sub not in known[:4] or len(argv) != 3:
        raise subcommand_error(argv[1], "OBJECT", known)
    ks = s.keyspace
    key = argv[2]
    if not ks.exists(key):
        return None
    value = ks.data[key]
    policy = s.engine.config.get("maxmemory-policy")
    if sub == b"encoding":
        return encoding_of(s, value)
    if sub == b"refcount":
        return 1
    if sub == b"freq":
        if not policy.endswith("lfu"):
            raise CommandError(
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
                "Please note that when switching between policies at runtime LRU and LFU data "
                "will take some time to adjust."
            )
        return ks.lfu_counter(key)
    if policy.endswith("lfu"):
        raise CommandError(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that "
            "when switching between policies at runtime LRU and LFU data will take some time "
            "to adjust."
        )
    return ks.idle_seconds(key)


@command("memory", -2, "readonly", group="server")
def memory(s: Session, argv: list[bytes]) -> Any:
    """MEMORY USAGE key [SAMPLES count] | MEMORY HELP."""
    sub = argv[1].lower()
    if sub == b"usage" and len(argv) >= 3:
        samples = 5
        i = 3
        while i < len(argv):
            if argv[i].lower() == b"samples" and i + 1 < len(argv):
                samples = parse_int(argv[i + 1])
                if samples < 0:
                    raise CommandError(SYNTAX)
                i += 2
            else:
                raise CommandError(SYNTAX)
        ks = s.keyspace
        if not ks.exists(argv[2]):
            return None
        return estimate_key(ks, argv[2], samples)
    if sub == b"help" and len(argv) == 2:
        return [
            b"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            b"USAGE <key> [SAMPLES <count>]",
            b"HELP",
        ]
    raise subcommand_error(argv[1], "MEMORY", (b"usage", b"help"))
