"""CQL's native functions: scalar functions and aggregates.

Scalar functions (now(), uuid(), toTimestamp(), minTimeuuid(), blobAs*...)
are looked up by name and argument types and return a ``ScalarFunction``
whose ``call`` works on Python values. Aggregates (count, min, max, sum, avg)
are small accumulators. ``token()``, ``writetime()`` and ``ttl()`` need the
table and the cells, so the select planner handles them; this module only
holds what is pure computation.
"""

from __future__ import annotations

import datetime
import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.types import (
    BIGINT,
    BLOB,
    SIMPLE_TYPES,
    TIMESTAMP,
    TIMEUUID,
    UUID,
    CQLType,
    millis_to_datetime,
    timestamp_to_millis,
)
from stores.wide.cql.values import NANOS_PER_DAY, Date, Time

DATE = SIMPLE_TYPES["date"]
TIME = SIMPLE_TYPES["time"]

# 100-ns intervals between 1582-10-15 (the uuid epoch) and 1970-01-01.
UUID_EPOCH_OFFSET = 0x01B21DD213814000


class _TimeUUIDSource:
    """Make version-1 uuids that increase strictly, as Cassandra's now() does."""

    def __init__(self):
        self.lock = threading.Lock()
        self.last = 0
        self.node = int.from_bytes(os.urandom(6), "big") | 0x010000000000
        self.clock_seq = random.getrandbits(14)

    def next(self, micros: int | None = None) -> uuid.UUID:
        stamp = (micros if micros is not None else time.time_ns() // 1000) * 10 + UUID_EPOCH_OFFSET
        with self.lock:
            if stamp <= self.last:
                stamp = self.last + 1
            self.last = stamp
        return make_timeuuid(stamp, self.clock_seq, self.node)


def make_timeuuid(stamp: int, clock_seq: int, node: int) -> uuid.UUID:
    """Return the version-1 uuid with this 60-bit timestamp, clock sequence and node."""
    time_low = stamp & 0xFFFFFFFF
    time_mid = (stamp >> 32) & 0xFFFF
    time_hi = (stamp >> 48) & 0x0FFF
    return uuid.UUID(
        fields=(
            time_low,
            time_mid,
            time_hi | 0x1000,
            0x80 | ((clock_seq >> 8) & 0x3F),
            clock_seq & 0xFF,
            node,
        )
    )


TIMEUUIDS = _TimeUUIDSource()


def timeuuid_millis(value: uuid.UUID) -> int:
    """Return the epoch milliseconds of a version-1 uuid."""
    return (value.time - UUID_EPOCH_OFFSET) // 10_000


def min_timeuuid(moment) -> uuid.UUID:
    """Return the smallest timeuuid for a timestamp, as Cassandra's minTimeuuid."""
    stamp = timestamp_to_millis(moment) * 10_000 + UUID_EPOCH_OFFSET
    raw = make_timeuuid(stamp, 0, 0).bytes[:8] + bytes([0x80] * 8)
    return uuid.UUID(bytes=raw)


def max_timeuuid(moment) -> uuid.UUID:
    """Return the largest timeuuid for a timestamp, as Cassandra's maxTimeuuid."""
    stamp = (timestamp_to_millis(moment) + 1) * 10_000 - 1 + UUID_EPOCH_OFFSET
    raw = make_timeuuid(stamp, 0, 0).bytes[:8] + bytes([0x7F] * 8)
    return uuid.UUID(bytes=raw)


def _to_millis(value, arg_type: CQLType) -> int:
    if arg_type.name == "timeuuid":
        return timeuuid_millis(value)
    if arg_type.name == "date":
        return Date(value).days_from_epoch * 86_400_000
    return timestamp_to_millis(value)


@dataclass(frozen=True)
class ScalarFunction:
    """A native scalar function with fixed argument types."""

    name: str
    arg_types: tuple[CQLType, ...]
    return_type: CQLType
    impl: Callable
    deterministic: bool = True

    def call(self, args: list):
        """Return the function applied to Python values (None in, None out)."""
        if self.arg_types and any(a is None for a in args):
            return None
        return self.impl(*args)


def _now_millis() -> int:
    return time.time_ns() // 1_000_000


def _build_registry() -> dict[str, list[ScalarFunction]]:
    reg: dict[str, list[ScalarFunction]] = {}

    def add(name, args, ret, impl, deterministic=True):
        reg.setdefault(name.lower(), []).append(
            ScalarFunction(name.lower(), tuple(args), ret, impl, deterministic)
        )

    add("now", [], TIMEUUID, lambda: TIMEUUIDS.next(), False)
    add("currenttimeuuid", [], TIMEUUID, lambda: TIMEUUIDS.next(), False)
    add("uuid", [], UUID, uuid.uuid4, False)
    add("currenttimestamp", [], TIMESTAMP, lambda: millis_to_datetime(_now_millis()), False)
    add("currentdate", [], DATE, lambda: Date(_now_millis() // 86_400_000), False)
    add(
        "currenttime",
        [],
        TIME,
        lambda: Time(time.time_ns() % NANOS_PER_DAY),
        False,
    )
    for source in (TIMEUUID, DATE, TIMESTAMP):
        add(
            "totimestamp",
            [source],
            TIMESTAMP,
            lambda v, s=source: millis_to_datetime(_to_millis(v, s)),
        )
        add("tounixtimestamp", [source], BIGINT, lambda v, s=source: _to_millis(v, s))
        add("todate", [source], DATE, lambda v, s=source: Date(_to_millis(v, s) // 86_400_000))
    add("dateof", [TIMEUUID], TIMESTAMP, lambda v: millis_to_datetime(timeuuid_millis(v)))
    add("unixtimestampof", [TIMEUUID], BIGINT, timeuuid_millis)
    add("mintimeuuid", [TIMESTAMP], TIMEUUID, min_timeuuid)
    add("maxtimeuuid", [TIMESTAMP], TIMEUUID, max_timeuuid)
    for name, cql_type in SIMPLE_TYPES.items():
        if name in ("counter", "varchar"):
            continue
        add(f"blobas{name}", [BLOB], cql_type, lambda b, t=cql_type: t.deserialize(b))
        add(f"{name}asblob", [cql_type], BLOB, lambda v, t=cql_type: t.serialize(v))
    add(
        "blobasvarchar", [BLOB], SIMPLE_TYPES["text"], lambda b: SIMPLE_TYPES["text"].deserialize(b)
    )
    add("varcharasblob", [SIMPLE_TYPES["text"]], BLOB, lambda v: SIMPLE_TYPES["text"].serialize(v))
    for name in ("int", "bigint", "smallint", "tinyint", "float", "double", "decimal", "varint"):
        cql_type = SIMPLE_TYPES[name]
        add("abs", [cql_type], cql_type, abs)
    return reg


FUNCTIONS = _build_registry()


def resolve_function(name: str, arg_types: list[CQLType | None]) -> ScalarFunction:
    """Return the overload of ``name`` for these argument types (None = unknown)."""
    overloads = FUNCTIONS.get(name.lower())
    if not overloads:
        raise InvalidRequest(f"Unknown function '{name}'")
    candidates = [f for f in overloads if len(f.arg_types) == len(arg_types)]
    if not candidates:
        raise InvalidRequest(
            f"Invalid number of arguments in call to function {name}: "
            f"{len(overloads[0].arg_types)} required but {len(arg_types)} provided"
        )
    for function in candidates:
        if all(
            t is None or _compatible(t, a)
            for t, a in zip(arg_types, function.arg_types, strict=True)
        ):
            return function
    shown = ", ".join(t.cql() if t else "?" for t in arg_types)
    raise InvalidRequest(
        f"Invalid call to function {name}, none of its type signatures match ({shown})"
    )


def _compatible(given: CQLType, wanted: CQLType) -> bool:
    if given == wanted:
        return True
    if given.name == "counter" and wanted.name == "bigint":
        return True
    return {given.name, wanted.name} <= {"text", "varchar"} or (
        given.name == "ascii" and wanted.name == "text"
    )


def cast_value(value, source: CQLType, target: CQLType):
    """Return ``CAST(value AS target)`` as Cassandra converts between native types."""
    if value is None:
        return None
    name = target.name
    numeric = ("tinyint", "smallint", "int", "bigint", "varint", "counter")
    try:
        if name in ("text", "ascii"):
            if source.name == "timestamp":
                return source.to_json(value)
            if isinstance(value, bool):
                return str(value).lower()
            return str(value)
        if name in numeric:
            number = int(value)
            bits = {"tinyint": 8, "smallint": 16, "int": 32, "bigint": 64, "counter": 64}.get(name)
            if bits:
                number = (number + 2 ** (bits - 1)) % 2**bits - 2 ** (bits - 1)
            return number
        if name in ("float", "double"):
            return float(value)
        if name == "decimal":
            return Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if name == "timestamp":
            return millis_to_datetime(_to_millis(value, source))
        if name == "date":
            return Date(_to_millis(value, source) // 86_400_000)
        if name == source.name:
            return value
    except (TypeError, ValueError, ArithmeticError):
        pass
    raise InvalidRequest(f"{source.cql()} cannot be cast to {target.cql()}")


# Aggregates ------------------------------------------------------------------


class Aggregate:
    """One aggregate over a group of rows."""

    def __init__(self, arg_type: CQLType | None):
        self.arg_type = arg_type
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def add(self, value) -> None:
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    @property
    def return_type(self) -> CQLType:
        return self.arg_type


class CountAggregate(Aggregate):
    def reset(self):
        self.count = 0

    def add(self, value):
        if value is not None:
            self.count += 1

    def result(self):
        return self.count

    @property
    def return_type(self):
        return BIGINT


class MinAggregate(Aggregate):
    def reset(self):
        self.best = None
        self.best_key = None

    def better(self, key: bytes) -> bool:
        return key < self.best_key

    def add(self, value):
        if value is None:
            return
        key = self.arg_type.sort_key(value)
        if self.best is None or self.better(key):
            self.best, self.best_key = value, key

    def result(self):
        return self.best


class MaxAggregate(MinAggregate):
    def better(self, key: bytes) -> bool:
        return key > self.best_key


_INT_BITS = {"tinyint": 8, "smallint": 16, "int": 32, "bigint": 64, "counter": 64}


class SumAggregate(Aggregate):
    def reset(self):
        self.total = Decimal(0) if self.arg_type.name == "decimal" else 0
        self.count = 0

    def add(self, value):
        if value is not None:
            self.total += value
            self.count += 1

    def _wrap(self, number):
        bits = _INT_BITS.get(self.arg_type.name)
        if bits:
            return (number + 2 ** (bits - 1)) % 2**bits - 2 ** (bits - 1)
        if self.arg_type.name in ("float", "double"):
            return float(number)
        return number

    def result(self):
        return self._wrap(self.total)


class AvgAggregate(SumAggregate):
    def result(self):
        if self.count == 0:
            return self._wrap(0)
        if self.arg_type.name in _INT_BITS or self.arg_type.name == "varint":
            quotient = abs(self.total) // self.count
            return self._wrap(quotient if self.total >= 0 else -quotient)
        if self.arg_type.name == "decimal":
            return self.total / self.count
        return float(self.total) / self.count


AGGREGATES = {
    "count": CountAggregate,
    "min": MinAggregate,
    "max": MaxAggregate,
    "sum": SumAggregate,
    "avg": AvgAggregate,
}

NUMERIC_TYPES = (
    "tinyint",
    "smallint",
    "int",
    "bigint",
    "varint",
    "float",
    "double",
    "decimal",
    "counter",
)


def make_aggregate(name: str, arg_type: CQLType | None) -> Aggregate:
    """Return a fresh accumulator for the aggregate ``name``."""
    cls = AGGREGATES[name]
    if name in ("sum", "avg") and (arg_type is None or arg_type.name not in NUMERIC_TYPES):
        shown = arg_type.cql() if arg_type else "?"
        raise InvalidRequest(
            f"Invalid call to function {name}, none of its type signatures match ({shown})"
        )
    return cls(arg_type)


def utc_now() -> datetime.datetime:
    """Return the current time as a naive UTC datetime."""
    return millis_to_datetime(_now_millis())
