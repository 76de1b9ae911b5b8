"""Hash commands: a hash value is a ``dict`` of field bytes to value bytes.

HINCRBYFLOAT is propagated as ``HSET`` of the result so replay gives the
same text. An emptied hash is deleted, as in Redis. Never reaches outside
the session's keyspace.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stores.kv.arguments import LLONG_MAX, LLONG_MIN, int_or_none, parse_int, parse_random_count
from stores.kv.commands import FALLBACK, command, fast_path, no_log
from stores.kv.errors import (
    HASH_NOT_FLOAT,
    HASH_NOT_INTEGER,
    NOT_FLOAT,
    SYNTAX,
    CommandError,
    wrongtype,
)
from stores.kv.replies import OK, Map
from stores.kv.types.strings import add_long_double, parse_long_double

if TYPE_CHECKING:
    from stores.kv.engine import Session

_monotonic = time.monotonic


def _hash(s: Session, key: bytes) -> dict | None:
    value = s.keyspace.get(key)
    if value is not None and type(value) is not dict:
        raise wrongtype()
    return value


def _hash_for_write(s: Session, key: bytes, create: bool) -> dict | None:
    ks = s.keyspace
    value = ks.get_for_write(key)
    if value is None:
        if create:
            value = {}
            ks.set(key, value)
        return value
    if type(value) is not dict:
        raise wrongtype()
    return value


@command("hset", -4, "write denyoom fast", 1, 1, 1, group="hash")
def hset(s: Session, argv: list[bytes]) -> int:
    """Set fields of a hash; return how many were new."""
    if len(argv) == 4:
        reply = hset_fast(s, argv, no_log)
        if reply is not FALLBACK:
            s.dirty = 1
            return reply
    elif len(argv) % 2:
        raise CommandError("ERR wrong number of arguments for 'hset' command")
    ks = s.keyspace
    value = ks.get_for_write(argv[1])
    if value is None:
        value = {}
        ks.set(argv[1], value)
    elif type(value) is not dict:
        raise wrongtype()
    size = len(value)
    if len(argv) == 4:
        value[argv[2]] = argv[3]
    else:
        for i in range(2, len(argv), 2):
            value[argv[i]] = argv[i + 1]
    s.dirty = 1
    return len(value) - size


@fast_path("hset")
def hset_fast(s: Session, argv: list[bytes], log: Callable) -> Any:
    """HSET of one field of an existing hash without a TTL (LRU policy), in one step."""
    # hset's steps with get_for_write inlined.
    if len(argv) == 4:
        ks = s.keyspace
        key = argv[1]
        expires = ks.expires
        if ks.freq is None and (not expires or key not in expires):
            value = ks.data.get(key)
            if type(value) is dict:
                size = len(value)
                value[argv[2]] = argv[3]
                ks.access[key] = _monotonic()
                log(s.db, argv)
                return len(value) - size
    return FALLBACK


@command("hmset", -4, "write denyoom fast", 1, 1, 1, group="hash")
def hmset(s: Session, argv: list[bytes]) -> Any:
    """Set fields of a hash (deprecated form of HSET)."""
    if len(argv) % 2:
        raise CommandError("ERR wrong number of arguments for 'hmset' command")
    hset(s, argv)
    return OK


@command("hsetnx", 4, "write denyoom fast", 1, 1, 1, group="hash")
def hsetnx(s: Session, argv: list[bytes]) -> int:
    """Set a field only if it does not exist."""
    value = _hash_for_write(s, argv[1], False)
    if value is not None and argv[2] in value:
        return 0
    value = _hash_for_write(s, argv[1], True)
    value[argv[2]] = argv[3]
    s.dirty = 1
    return 1


@command("hget", 3, "readonly fast", 1, 1, 1, group="hash")
def hget(s: Session, argv: list[bytes]) -> bytes | None:
    """Return a field's value."""
    value = _hash(s, argv[1])
    return None if value is None else value.get(argv[2])


@command("hmget", -3, "readonly fast", 1, 1, 1, group="hash")
def hmget(s: Session, argv: list[bytes]) -> list:
    """Return several fields' values."""
    value = _hash(s, argv[1]) or {}
    return [value.get(field) for field in argv[2:]]


@command("hgetall", 2, "readonly", 1, 1, 1, group="hash")
def hgetall(s: Session, argv: list[bytes]) -> Map:
    """Return every field and value."""
    value = _hash(s, argv[1])
    return Map() if value is None else Map(value)


@command("hdel", -3, "write fast", 1, 1, 1, group="hash")
def hdel(s: Session, argv: list[bytes]) -> int:
    """Delete fields; return how many existed."""
    value = _hash_for_write(s, argv[1], False)
    if value is None:
        return 0
    removed = 0
    for field in argv[2:]:
        if value.pop(field, None) is not None:
            removed += 1
    if removed:
        if not value:
            s.keyspace.delete(argv[1])
        s.dirty = removed
    return removed


@command("hexists", 3, "readonly fast", 1, 1, 1, group="hash")
def hexists(s: Session, argv: list[bytes]) -> int:
    """Return 1 if a field exists."""
    value = _hash(s, argv[1])
    return int(value is not None and argv[2] in value)


@command("hlen", 2, "readonly fast", 1, 1, 1, group="hash")
def hlen(s: Session, argv: list[bytes]) -> int:
    """Return the number of fields."""
    value = _hash(s, argv[1])
    return 0 if value is None else len(value)


@command("hkeys", 2, "readonly", 1, 1, 1, group="hash")
def hkeys(s: Session, argv: list[bytes]) -> list:
    """Return every field name."""
    value = _hash(s, argv[1])
    return [] if value is None else list(value)


@command("hvals", 2, "readonly", 1, 1, 1, group="hash")
def hvals(s: Session, argv: list[bytes]) -> list:
    """Return every value."""
    value = _hash(s, argv[1])
    return [] if value is None else list(value.values())


@command("hstrlen", 3, "readonly fast", 1, 1, 1, group="hash")
def hstrlen(s: Session, argv: list[bytes]) -> int:
    """Return the length of a field's value."""
    value = _hash(s, argv[1])
    field = None if value is None else value.get(argv[2])
    return 0 if field is None else len(field)


@command("hincrby", 4, "write denyoom fast", 1, 1, 1, group="hash")
def hincrby(s: Session, argv: list[bytes]) -> int:
    """Increment a field's integer."""
    delta = parse_int(argv[3])
    value = _hash_for_write(s, argv[1], False)
    old = None if value is None else value.get(argv[2])
    if old is None:
        current = 0
    else:
        current = int_or_none(old)
        if current is None:
            raise CommandError(HASH_NOT_INTEGER)
    result = current + delta
    if not LLONG_MIN <= result <= LLONG_MAX:
        raise CommandError("ERR increment or decrement would overflow")
    value = _hash_for_write(s, argv[1], True)
    value[argv[2]] = b"%d" % result
    s.dirty = 1
    return result


@command("hincrbyfloat", 4, "write denyoom fast", 1, 1, 1, group="hash")
def hincrbyfloat(s: Session, argv: list[bytes]) -> bytes:
    """Increment a field's number by a floating point amount."""
    increment = parse_long_double(argv[3], NOT_FLOAT)
    value = _hash_for_write(s, argv[1], False)
    old = None if value is None else value.get(argv[2])
    import decimal

    current = decimal.Decimal(0) if old is None else parse_long_double(old, HASH_NOT_FLOAT)
    result = add_long_double(current, increment)
    value = _hash_for_write(s, argv[1], True)
    value[argv[2]] = result
    s.dirty = 1
    s.prop = [[b"HSET", argv[1], argv[2], result]]
    return result


@command("hrandfield", -2, "readonly", 1, 1, 1, group="hash")
def hrandfield(s: Session, argv: list[bytes]) -> Any:
    """Return random fields, with repeats when the count is negative."""
    if len(argv) > 4 or (len(argv) == 4 and argv[3].upper() != b"WITHVALUES"):
        raise CommandError(SYNTAX)
    count = parse_random_count(argv[2]) if len(argv) >= 3 else None
    value = _hash(s, argv[1])
    if count is None:
        return None if value is None else random.choice(list(value))
    if value is None or count == 0:
        return []
    fields = list(value)
    if count > 0:
        picked = fields if count >= len(fields) else random.sample(fields, count)
    else:
        picked = [random.choice(fields) for _ in range(-count)]
    if len(argv) == 4:
        if s.protocol == 3:
            return [[f, value[f]] for f in picked]
        out = []
        for f in picked:
            out += [f, value[f]]
        return out
    return picked


@command("hscan", -3, "readonly", 1, 1, 1, group="hash")
def hscan(s: Session, argv: list[bytes]) -> list:
    """Iterate a hash's fields and values with a cursor."""
    from stores.kv.types.collection_scan import scan_collection

    value = _hash(s, argv[1]) or {}
    cursor, found = scan_collection(s, argv, value, "hash")
    out = []
    for field in found:
        out += [field, value[field]]
    return [cursor, out]
