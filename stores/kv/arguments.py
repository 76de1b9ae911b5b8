"""Parsing of command arguments with Redis's strictness and error texts.

Redis accepts only canonical integers (no ``+``, no leading zeros or
spaces) within signed 64 bits, and floats without surrounding spaces or
NaN; Python's ``int()`` and ``float()`` are more lenient, so every command
parses numbers here. Never touches the data set.
"""

from __future__ import annotations

import math

from stores.kv.errors import NOT_FLOAT, NOT_INTEGER, CommandError

LLONG_MAX = (1 << 63) - 1
LLONG_MIN = -(1 << 63)


_SMALL_INTS = {b"%d" % number: number for number in range(-1024, 10001)}
# For hot handlers: ``SMALL_INTS.get(raw)`` is parse_int for the common case, inline.
SMALL_INTS = _SMALL_INTS
# The same canonical integers as doubles: ZINCRBY 1, ZADD 42 ... parse by one lookup.
_SMALL_FLOATS = {raw: float(number) for raw, number in _SMALL_INTS.items()}
# For hot handlers: ``SMALL_FLOATS.get(raw)`` is parse_float for the common case, inline.
SMALL_FLOATS = _SMALL_FLOATS


def parse_int(raw: bytes, message: str = NOT_INTEGER) -> int:
    """Return ``raw`` as a signed 64-bit integer or raise with ``message``."""
    number = _SMALL_INTS.get(raw)
    if number is not None:
        return number
    try:
        number = int(raw)
    except ValueError:
        raise CommandError(message) from None
    if not LLONG_MIN <= number <= LLONG_MAX or b"%d" % number != raw:
        raise CommandError(message)
    return number


def int_or_none(raw: bytes) -> int | None:
    """Return ``raw`` as a canonical 64-bit integer, or None if it is not one."""
    number = _SMALL_INTS.get(raw)
    if number is not None:
        return number
    if len(raw) < 19 and raw.isdigit() and raw[0] != 48:
        return int(raw)  # canonical and within 64 bits: nothing more to check
    if len(raw) > 20:
        return None
    try:
        number = int(raw)
    except ValueError:
        return None
    if not LLONG_MIN <= number <= LLONG_MAX or b"%d" % number != raw:
        return None
    return number


def parse_float(raw: bytes, message: str = NOT_FLOAT) -> float:
    """Return ``raw`` as a double as Redis's ``strtod`` checks it, or raise."""
    value = _SMALL_FLOATS.get(raw)
    if value is not None:
        return value
    try:
        value = float(raw)
    except ValueError:
        raise CommandError(message) from None
    # float() forgives what strtod refuses: surrounding spaces, "_" and NaN.
    if value != value or raw[0] <= 32 or raw[-1] <= 32 or b"_" in raw:
        raise CommandError(message)
    return value


def parse_timeout(raw: bytes) -> float:
    """Return a blocking command's timeout in seconds (0 means forever)."""
    try:
        value = parse_float(raw, "ERR timeout is not a float or out of range")
    except CommandError:
        raise
    if math.isinf(value):
        raise CommandError("ERR timeout is not a float or out of range")
    if value < 0:
        raise CommandError("ERR timeout is negative")
    return value


def parse_count(raw: bytes) -> int:
    """Return a non-negative COUNT argument (LPOP, SPOP, ZPOPMIN ...)."""
    number = parse_int(raw, "ERR value is out of range, must be positive")
    if number < 0:
        raise CommandError("ERR value is out of range, must be positive")
    return number


def normalize_range(start: int, stop: int, length: int) -> tuple[int, int] | None:
    """Return inclusive (start, stop) for Redis index ranges, or None if empty."""
    if start < 0:
        start += length
    if stop < 0:
        stop += length
    if start < 0:
        start = 0
    if start > stop or start >= length:
        return None
    if stop >= length:
        stop = length - 1
    return start, stop


MAX_RANDOM_REPLY = 10_000_000


def parse_random_count(raw: bytes) -> int:
    """Return the count of SRANDMEMBER/HRANDFIELD/ZRANDMEMBER.

    A negative count asks for that many picks with repeats, so it sizes the
    reply by itself; counts beyond ten million are refused rather than
    building a reply that could exhaust memory (Redis 7.2 likewise refuses
    the extreme range).
    """
    count = parse_int(raw)
    if count < -MAX_RANDOM_REPLY:
        raise CommandError("ERR value is out of range")
    return count
