"""String commands: GET/SET and friends, counters, ranges.

A string value is a ``bytes`` object; integers are stored as their decimal
text and parsed with Redis's strictness when INCR-family commands touch
them. Relative expiries are propagated as absolute ``PXAT``/``PEXPIREAT``
and INCRBYFLOAT as ``SET ... KEEPTTL`` so a replayed file gives the same
data at any later time. Never reaches outside the session's keyspace.
"""

from __future__ import annotations

import decimal
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stores.kv.arguments import (
    LLONG_MAX,
    LLONG_MIN,
    SMALL_INTS,
    int_or_none,
    parse_float,
    parse_int,
)
from stores.kv.commands import FALLBACK, command, fast_path, no_log
from stores.kv.errors import NOT_FLOAT, NOT_INTEGER, OVERFLOW, SYNTAX, CommandError, wrongtype
from stores.kv.replies import OK

if TYPE_CHECKING:
    from stores.kv.engine import Session

MAX_STRING = 512 * 1024 * 1024
_monotonic = time.monotonic
_FLOAT_CONTEXT = decimal.Context(prec=19, rounding=decimal.ROUND_HALF_EVEN)
_WIDE_CONTEXT = decimal.Context(prec=80)


def _string(s: Session, key: bytes) -> bytes | None:
    value = s.keyspace.get(key)
    if value is not None and type(value) is not bytes:
        raise wrongtype()
    return value


def _string_for_write(s: Session, key: bytes) -> bytes | None:
    value = s.keyspace.get_for_write(key)
    if value is not None and type(value) is not bytes:
        raise wrongtype()
    return value


def expire_at_ms(s: Session, unit_ms: int, raw: bytes, absolute: bool, name: str) -> int:
    """Return an absolute expiry in ms from an EX/PX/EXAT/PXAT argument."""
    amount = parse_int(raw)
    message = f"ERR invalid expire time in '{name}' command"
    if amount <= 0 or (unit_ms == 1000 and amount > LLONG_MAX // 1000):
        raise CommandError(message)
    amount *= unit_ms
    if not absolute:
        now = s.engine.clock()
        if amount > LLONG_MAX - now:
            raise CommandError(message)
        amount += now
    return amount


@command("get", 2, "readonly fast", 1, 1, 1, group="string")
def get(s: Session, argv: list[bytes]) -> Any:
    """Return the string value of a key."""
    value = s.keyspace.get(argv[1])
    if value is not None and type(value) is not bytes:
        raise wrongtype()
    return value


@fast_path("get")
def get_fast(s: Session, argv: list[bytes], log: Callable) -> Any:
    """GET of a key whose TTL, if any, has not passed (LRU policy): ``Keyspace.get`` inlined.

    A key past its TTL falls back: the handler expires it and propagates the DEL.
    """
    ks = s.keyspace
    key = argv[1]
    if ks.freq is None:
        expires = ks.expires
        if expires:
            when = expires.get(key)
            if when is not None and when <= s.engine.clock():
                return FALLBACK
        value = ks.data.get(key)
        if value is None:
            ks.misses += 1
            return None
        ks.hits += 1
        ks.access[key] = _monotonic()
        if type(value) is not bytes:
            raise wrongtype()
        return value
    return FALLBACK


@command("set", -3, "write denyoom", 1, 1, 1, group="string")
def set_(s: Session, argv: list[bytes]) -> Any:
    """Set the string value of a key, with expiry and conditions."""
    ks = s.keyspace
    if len(argv) == 3:
        ks.set(argv[1], argv[2])
        s.dirty = 1
        return OK
    key, value = argv[1], argv[2]
    condition = None
    get_old = keep_ttl = False
    when: int | None = None
    expire_seen = False
    i = 3
    while i < len(argv):
        option = argv[i].upper()
        has_next = i + 1 < len(argv)
        if option == b"NX" and condition is None:
            condition = b"NX"
        elif option == b"XX" and condition is None:
            condition = b"XX"
        elif option == b"GET" and not get_old:
            get_old = True
        elif option == b"KEEPTTL" and not expire_seen:
            keep_ttl = expire_seen = True
        elif option in (b"EX", b"PX", b"EXAT", b"PXAT") and not expire_seen and has_next:
            expire_seen = True
            unit = 1000 if option in (b"EX", b"EXAT") else 1
            i += 1
            when = expire_at_ms(s, unit, argv[i], option.endswith(b"AT"), "set")
        else:
            raise CommandError(SYNTAX)
        i += 1
    old = ks.get_for_write(key)
    if get_old and old is not None and type(old) is not bytes:
        raise wrongtype()
    exists = old is not None
    if (condition == b"NX" and exists) or (condition == b"XX" and not exists):
        return old if get_old else None
    s.dirty = 1
    if when is not None and when <= s.engine.clock():
        ks.set(key, value)
        ks.delete(key)
        s.prop = [[b"DEL", key]]
    else:
        ks.set(key, value, keep_ttl=keep_ttl)
        if when is not None:
            ks.set_expire(key, when)
            prop = [b"SET", key, value, b"PXAT", b"%d" % when]
            if condition:
                prop.append(condition)
            s.prop = [prop]
    return old if get_old else OK


@fast_path("set")
def set_fast(s: Session, argv: list[bytes], log: Callable) -> Any:
    """SET without options (no SCAN index, LRU policy), in one step."""
    if len(argv) == 3:
        ks = s.keyspace
        if ks.scan_index is None and ks.freq is None:
            # Keyspace.set inlined.
            key = argv[1]
            ks.data[key] = argv[2]
            expires = ks.expires
            if expires:
                expires.pop(key, None)
            ks.access[key] = _monotonic()
            log(s.db, argv)
            return OK
    return FALLBACK


@command("setnx", 3, "write denyoom fast", 1, 1, 1, group="string")
def setnx(s: Session, argv: list[bytes]) -> int:
    """Set a key only if it does not exist."""
    ks = s.keyspace
    if ks.exists(argv[1]):
        return 0
    ks.set(argv[1], argv[2])
    s.dirty = 1
    return 1


def _setex(s: Session, argv: list[bytes], unit: int, name: str) -> Any:
    when = expire_at_ms(s, unit, argv[2], False, name)
    ks = s.keyspace
    ks.set(argv[1], argv[3])
    ks.set_expire(argv[1], when)
    s.dirty = 1
    s.prop = [[b"SET", argv[1], argv[3], b"PXAT", b"%d" % when]]
    return OK


@command("setex", 4, "write denyoom", 1, 1, 1, group="string")
def setex(s: Session, argv: list[bytes]) -> Any:
    """Set a key with an expiry in seconds."""
    return _setex(s, argv, 1000, "setex")


@command("psetex", 4, "write denyoom", 1, 1, 1, group="string")
def psetex(s: Session, argv: list[bytes]) -> Any:
    """Set a key with an expiry in milliseconds."""
    return _setex(s, argv, 1, "psetex")


@command("mget", -2, "readonly fast", 1, -1, 1, group="string")
def mget(s: Session, argv: list[bytes]) -> list:
    """Return the values of several keys (nil for missing or non-string keys)."""
    out = []
    get_value = s.keyspace.get
    for key in argv[1:]:
        value = get_value(key)
        out.append(value if type(value) is bytes else None)
    return out


@command("mset", -3, "write denyoom", 1, -1, 2, group="string")
def mset(s: Session, argv: list[bytes]) -> Any:
    """Set several keys at once."""
    if len(argv) % 2 == 0:
        raise CommandError("ERR wrong number of arguments for 'mset' command")
    ks = s.keyspace
    for i in range(1, len(argv), 2):
        ks.set(argv[i], argv[i + 1])
    s.dirty = 1
    return OK


@command("msetnx", -3, "write denyoom", 1, -1, 2, group="string")
def msetnx(s: Session, argv: list[bytes]) -> int:
    """Set several keys only if none of them exists."""
    if len(argv) % 2 == 0:
        raise CommandError("ERR wrong number of arguments for 'msetnx' command")
    ks = s.keyspace
    if any(ks.exists(argv[i]) for i in range(1, len(argv), 2)):
        return 0
    for i in range(1, len(argv), 2):
        ks.set(argv[i], argv[i + 1])
    s.dirty = 1
    return 1


@command("getset", 3, "write denyoom fast", 1, 1, 1, group="string")
def getset(s: Session, argv: list[bytes]) -> Any:
    """Set a key and return its old value."""
    old = _string_for_write(s, argv[1])
    s.keyspace.set(argv[1], argv[2])
    s.dirty = 1
    s.prop = [[b"SET", argv[1], argv[2]]]
    return old


@command("getdel", 2, "write fast", 1, 1, 1, group="string")
def getdel(s: Session, argv: list[bytes]) -> Any:
    """Return a key's value and delete it."""
    old = _string_for_write(s, argv[1])
    if old is not None:
        s.keyspace.delete(argv[1])
        s.dirty = 1
        s.prop = [[b"DEL", argv[1]]]
    return old


@command("getex", -2, "write fast", 1, 1, 1, group="string")
def getex(s: Session, argv: list[bytes]) -> Any:
    """Return a key's value and change its expiry."""
    key = argv[1]
    when: int | None = None
    persist = False
    seen = False
    i = 2
    while i < len(argv):
        option = argv[i].upper()
        if option in (b"EX", b"PX", b"EXAT", b"PXAT") and not seen and i + 1 < len(argv):
            unit = 1000 if option in (b"EX", b"EXAT") else 1
            i += 1
            when = expire_at_ms(s, unit, argv[i], option.endswith(b"AT"), "getex")
        elif option == b"PERSIST" and not seen:
            persist = True
        else:
            raise CommandError(SYNTAX)
        seen = True
        i += 1
    value = _string(s, key)
    if value is None:
        return None
    ks = s.keyspace
    if when is not None:
        if when <= s.engine.clock():
            ks.delete(key)
            s.prop = [[b"DEL", key]]
        else:
            ks.set_expire(key, when)
            s.prop = [[b"PEXPIREAT", key, b"%d" % when]]
        s.dirty = 1
    elif persist and ks.persist(key):
        s.prop = [[b"PERSIST", key]]
        s.dirty = 1
    return value


@command("append", 3, "write denyoom fast", 1, 1, 1, group="string")
def append(s: Session, argv: list[bytes]) -> int:
    """Append a value to a key's string."""
    old = _string_for_write(s, argv[1])
    new = argv[2] if old is None else old + argv[2]
    if len(new) > MAX_STRING:
        raise CommandError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    s.keyspace.set(argv[1], new, keep_ttl=True)
    s.dirty = 1
    return len(new)


@command("strlen", 2, "readonly fast", 1, 1, 1, group="string")
def strlen(s: Session, argv: list[bytes]) -> int:
    """Return the length of a key's string."""
    value = _string(s, argv[1])
    return 0 if value is None else len(value)


# The text INCR stored last and its value: the next INCR of the same counter
# finds that very object and skips parsing it. Holding the reference keeps
# the identity check sound (the object cannot be freed and its address
# reused); the pair is replaced as a whole, so threads see a matching pair.
_last_counter: tuple[bytes, int | None] = (b"", None)


def _incr_by(s: Session, key: bytes, delta: int) -> int:
    old = s.keyspace.get_for_write(key)
    if old is None:
        current = 0
    elif type(old) is not bytes:
        raise wrongtype()
    else:
        current = int_or_none(old)
        if current is None:
            raise CommandError(NOT_INTEGER)
    result = current + delta
    if not LLONG_MIN <= result <= LLONG_MAX:
        raise CommandError(OVERFLOW)
    if old is None:
        s.keyspace.set(key, b"%d" % result)
    else:
        s.keyspace.data[key] = b"%d" % result
    s.dirty = 1
    return result


def _incr_fast(s: Session, argv: list[bytes], log: Callable, delta: int) -> Any:
    """Add ``delta`` to an existing counter without a TTL (LRU policy) and log ``argv``.

    ``_incr_by`` with get_for_write inlined, for the common counter; it also
    skips parsing the text INCR stored last (``_last_counter``). FALLBACK
    for anything else.
    """
    global _last_counter
    ks = s.keyspace
    key = argv[1]
    expires = ks.expires
    if ks.freq is None and (not expires or key not in expires):
        data = ks.data
        old = data.get(key)
        if type(old) is bytes:
            last = _last_counter
            if old is last[0]:
                current = last[1]
            else:
                current = SMALL_INTS.get(old)
            if current is None:
                if len(old) < 19 and old.isdigit() and old[0] != 48:
                    current = int(old)
                else:
                    current = int_or_none(old)
                    if current is None:
                        raise CommandError(NOT_INTEGER)
            result = current + delta
            if not LLONG_MIN <= result <= LLONG_MAX:
                raise CommandError(OVERFLOW)
            data[key] = text = b"%d" % result
            _last_counter = (text, result)
            ks.access[key] = _monotonic()
            log(s.db, argv)
            return result
    return FALLBACK


@command("incr", 2, "write denyoom fast", 1, 1, 1, group="string")
def incr(s: Session, argv: list[bytes]) -> int:
    """Increment a key's integer by one."""
    reply = incr_fast(s, argv, no_log)
    if reply is FALLBACK:
        return _incr_by(s, argv[1], 1)
    s.dirty = 1
    return reply


@command("decr", 2, "write denyoom fast", 1, 1, 1, group="string")
def decr(s: Session, argv: list[bytes]) -> int:
    """Decrement a key's integer by one."""
    reply = _incr_fast(s, argv, no_log, -1)
    if reply is FALLBACK:
        return _incr_by(s, argv[1], -1)
    s.dirty = 1
    return reply


@command("incrby", 3, "write denyoom fast", 1, 1, 1, group="string")
def incrby(s: Session, argv: list[bytes]) -> int:
    """Increment a key's integer by the given amount."""
    amount = parse_int(argv[2])
    reply = _incr_fast(s, argv, no_log, amount)
    if reply is FALLBACK:
        return _incr_by(s, argv[1], amount)
    s.dirty = 1
    return reply


@command("decrby", 3, "write denyoom fast", 1, 1, 1, group="string")
def decrby(s: Session, argv: list[bytes]) -> int:
    """Decrement a key's integer by the given amount."""
    amount = parse_int(argv[2])
    if amount == LLONG_MIN:
        raise CommandError("ERR decrement would overflow")
    reply = _incr_fast(s, argv, no_log, -amount)
    if reply is FALLBACK:
        return _incr_by(s, argv[1], -amount)
    s.dirty = 1
    return reply


@fast_path("incr")
def incr_fast(s: Session, argv: list[bytes], log: Callable) -> Any:
    """INCR of an existing counter without a TTL (LRU policy), in one step."""
    # _incr_fast(s, argv, log, 1) inlined: INCR is the counter everyone uses.
    global _last_counter
    ks = s.keyspace
    key = argv[1]
    expires = ks.expires
    if ks.freq is None and (not expires or key not in expires):
        data = ks.data
        old = data.get(key)
        if type(old) is bytes:
            last = _last_counter
            if old is last[0]:
                current = last[1]
            else:
                current = SMALL_INTS.get(old)
            if current is None:
                if len(old) < 19 and old.isdigit() and old[0] != 48:
                    current = int(old)
                else:
                    current = int_or_none(old)
                    if current is None:
                        raise CommandError(NOT_INTEGER)
            if current == LLONG_MAX:
                raise CommandError(OVERFLOW)
            result = current + 1
            data[key] = text = b"%d" % result
            _last_counter = (text, result)
            ks.access[key] = _monotonic()
            log(s.db, argv)
            return result
    return FALLBACK


@fast_path("decr")
def decr_fast(s: Session, argv: list[bytes], log: Callable) -> Any:
    """DECR of an existing counter without a TTL (LRU policy), in one step."""
    return _incr_fast(s, argv, log, -1)


@fast_path("incrby")
def incrby_fast(s: Session, argv: list[bytes], log: Callable) -> Any:
    """INCRBY of an existing counter without a TTL (LRU policy), in one step."""
    return _incr_fast(s, argv, log, parse_int(argv[2]))


@fast_path("decrby")
def decrby_fast(s: Session, argv: list[bytes], log: Callable) -> Any:
    """DECRBY of an existing counter without a TTL (LRU policy), in one step."""
    amount = parse_int(argv[2])
    if amount == LLONG_MIN:
        raise CommandError("ERR decrement would overflow")
    return _incr_fast(s, argv, log, -amount)


def parse_long_double(raw: bytes, message: str) -> decimal.Decimal:
    """Return ``raw`` as a decimal the way Redis's ``strtold`` check accepts it."""
    value = parse_float(raw, message)
    if math.isinf(value):
        return decimal.Decimal(value)
    try:
        return decimal.Decimal(raw.decode("ascii"))
    except (decimal.InvalidOperation, UnicodeDecodeError):
        raise CommandError(message) from None


def format_long_double(value: decimal.Decimal) -> bytes:
    """Return ``value`` as Redis's ``%.17Lf`` with trailing zeros removed."""
    if value.adjusted() < 60:
        value = value.quantize(decimal.Decimal("1e-17"), context=_WIDE_CONTEXT)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.encode()


def add_long_double(current: decimal.Decimal, increment: decimal.Decimal) -> bytes:
    """Return current + increment formatted, or raise if the result is not finite."""
    if not (current.is_finite() and increment.is_finite()):
        raise CommandError("ERR increment would produce NaN or Infinity")
    result = _FLOAT_CONTEXT.add(current, increment)
    if not result.is_finite() or result.adjusted() > 4931:
        raise CommandError("ERR increment would produce NaN or Infinity")
    return format_long_double(result)


@command("incrbyfloat", 3, "write denyoom fast", 1, 1, 1, group="string")
def incrbyfloat(s: Session, argv: list[bytes]) -> bytes:
    """Increment a key's number by a floating point amount."""
    key = argv[1]
    old = _string_for_write(s, key)
    current = decimal.Decimal(0) if old is None else parse_long_double(old, NOT_FLOAT)
    increment = parse_long_double(argv[2], NOT_FLOAT)
    result = add_long_double(current, increment)
    s.keyspace.set(key, result, keep_ttl=True)
    s.dirty = 1
    s.prop = [[b"SET", key, result, b"KEEPTTL"]]
    return result


@command("getrange", 4, "readonly", 1, 1, 1, group="string")
def getrange(s: Session, argv: list[bytes]) -> bytes:
    """Return a substring of a key's string."""
    start = parse_int(argv[2])
    end = parse_int(argv[3])
    value = _string(s, argv[1])
    if value is None:
        return b""
    length = len(value)
    if start < 0 and end < 0 and start > end:
        return b""
    if start < 0:
        start = max(length + start, 0)
    if end < 0:
        end = max(length + end, 0)
    end = min(end, length - 1)
    if start > end or length == 0:
        return b""
    return value[start : end + 1]


@command("setrange", 4, "write denyoom", 1, 1, 1, group="string")
def setrange(s: Session, argv: list[bytes]) -> int:
    """Overwrite part of a key's string at an offset."""
    key = argv[1]
    offset = parse_int(argv[2])
    patch = argv[3]
    if offset < 0:
        raise CommandError("ERR offset is out of range")
    old = _string_for_write(s, key)
    if old is None:
        if not patch:
            return 0
        old = b""
    elif not patch:
        return len(old)
    if offset + len(patch) > MAX_STRING:
        raise CommandError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    if len(old) < offset:
        old = old + b"\x00" * (offset - len(old))
    new = old[:offset] + patch + old[offset + len(patch) :]
    s.keyspace.set(key, new, keep_ttl=True)
    s.dirty = 1
    return len(new)
