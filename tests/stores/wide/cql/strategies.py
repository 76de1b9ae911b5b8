"""Hypothesis strategies for CQL values and an independent model of CQL order."""

from __future__ import annotations

import datetime
import ipaddress
import math
import uuid
from decimal import Decimal

from hypothesis import strategies as st

from stores.wide.cql.types import SIMPLE_TYPES, ListType, MapType, SetType, TupleType
from stores.wide.cql.values import Date, Duration, Time

T = SIMPLE_TYPES


def _timeuuid(draw_time, clock, node):
    time_low = draw_time & 0xFFFFFFFF
    time_mid = (draw_time >> 32) & 0xFFFF
    time_hi = ((draw_time >> 48) & 0x0FFF) | 0x1000
    return uuid.UUID(fields=(time_low, time_mid, time_hi, 0x80 | (clock >> 8), clock & 0xFF, node))


timeuuids = st.builds(
    _timeuuid,
    st.integers(0, 2**60 - 1),
    st.integers(0, 2**14 - 1),
    st.integers(0, 2**48 - 1),
)
uuids = st.one_of(st.uuids(), timeuuids)

VALUES = {
    "tinyint": st.integers(-(2**7), 2**7 - 1),
    "smallint": st.integers(-(2**15), 2**15 - 1),
    "int": st.integers(-(2**31), 2**31 - 1),
    "bigint": st.integers(-(2**63), 2**63 - 1),
    "varint": st.integers(-(2**200), 2**200),
    "float": st.floats(width=32),
    "double": st.floats(),
    "decimal": st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=None),
        st.integers(-(10**40), 10**40).map(Decimal),
        st.builds(
            lambda n, e: Decimal(n).scaleb(e), st.integers(-(10**30), 10**30), st.integers(-50, 50)
        ),
    ).filter(lambda d: abs(d.adjusted()) < 10_000),
    "text": st.text(),
    "ascii": st.text(alphabet=st.characters(max_codepoint=127)),
    "blob": st.binary(),
    "boolean": st.booleans(),
    "uuid": uuids,
    "timeuuid": timeuuids,
    "timestamp": st.integers(-(2**50), 2**50).map(
        lambda ms: (
            datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
            if -62_135_596_800_000 <= ms <= 253_402_300_799_000
            else ms
        )
    ),
    "date": st.integers(-(2**31), 2**31 - 1).map(Date),
    "time": st.integers(0, 86_400 * 10**9 - 1).map(Time),
    "inet": st.one_of(
        st.ip_addresses(v=4).map(str),
        st.ip_addresses(v=6).map(lambda a: str(ipaddress.IPv6Address(a))),
    ),
}


def float_key(value: float):
    if math.isnan(value):
        return (1, 0.0, 0)
    return (0, value, math.copysign(1, value))


def uuid_key(value: uuid.UUID):
    raw = value.bytes
    version = raw[6] >> 4
    lsb = tuple(b - 256 if b > 127 else b for b in raw[8:])
    if version == 1:
        stamp = (
            ((int.from_bytes(raw[6:8], "big") & 0x0FFF) << 48)
            | (int.from_bytes(raw[4:6], "big") << 32)
            | int.from_bytes(raw[0:4], "big")
        )
        return (1, stamp, lsb)
    return (version, raw)


def model_key(cql_type, value):
    """Return a Python sort key that orders values as Cassandra does."""
    name = cql_type.name
    if isinstance(cql_type, ListType):
        return [model_key(cql_type.element, v) for v in value]
    if isinstance(cql_type, SetType):
        return sorted(model_key(cql_type.element, v) for v in value)
    if isinstance(cql_type, MapType):
        return sorted(
            (model_key(cql_type.key, k), model_key(cql_type.value, v)) for k, v in value.items()
        )
    if isinstance(cql_type, TupleType):
        return tuple(
            (0,) if v is None else (1, model_key(t, v))
            for t, v in zip(cql_type.subtypes, value, strict=True)
        )
    if name in ("float", "double"):
        return float_key(value)
    if name in ("text", "ascii"):
        return value.encode("utf-8")
    if name == "inet":
        return ipaddress.ip_address(value).packed
    if name == "uuid":
        return uuid_key(value)
    if name == "timeuuid":
        return uuid_key(value)[1:]
    if name == "timestamp":
        if isinstance(value, int):
            return value
        delta = value - datetime.datetime(1970, 1, 1)
        return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    if name == "date":
        return value.days_from_epoch
    if name == "time":
        return value.nanosecond_time
    return value


def canonical(cql_type, value):
    """Return a value comparable for equality after a round trip."""
    if cql_type.name in ("float", "double") and isinstance(value, float) and math.isnan(value):
        return "nan"
    if cql_type.name == "float" and isinstance(value, float):
        import struct

        return struct.unpack(">f", struct.pack(">f", value))[0]
    if cql_type.name == "decimal":
        return Decimal(value)
    if cql_type.name == "inet":
        return ipaddress.ip_address(value).packed
    return value


durations = st.builds(
    lambda sign, m, d, n: Duration(sign * m, sign * d, sign * n),
    st.sampled_from([1, -1]),
    st.integers(0, 2**31 - 1),
    st.integers(0, 2**31 - 1),
    st.integers(0, 2**63 - 1),
)
