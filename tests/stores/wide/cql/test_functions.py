"""Native functions: timeuuid helpers, casts, aggregates."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.functions import (
    TIMEUUIDS,
    cast_value,
    make_aggregate,
    max_timeuuid,
    min_timeuuid,
    resolve_function,
    timeuuid_millis,
)
from stores.wide.cql.types import SIMPLE_TYPES

T = SIMPLE_TYPES
TIMEUUID = T["timeuuid"]


def test_now_is_version_1_and_strictly_increasing():
    values = [TIMEUUIDS.next() for _ in range(200)]
    assert all(v.version == 1 for v in values)
    keys = [TIMEUUID.encode_key(v) for v in values]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


@given(st.integers(0, 2**40), st.integers(0, 2**14 - 1), st.integers(0, 2**48 - 1))
def test_min_and_max_timeuuid_bound_every_uuid_of_their_millisecond(millis, clock, node):
    from stores.wide.cql.functions import UUID_EPOCH_OFFSET, make_timeuuid

    moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=millis)
    stamp = millis * 10_000 + UUID_EPOCH_OFFSET + (clock % 10_000)
    value = make_timeuuid(stamp, clock, node)
    assert timeuuid_millis(value) == millis
    low, high = TIMEUUID.encode_key(min_timeuuid(moment)), TIMEUUID.encode_key(max_timeuuid(moment))
    assert low <= TIMEUUID.encode_key(value) <= high


def test_resolve_overloads_and_errors():
    assert resolve_function("toTimestamp", [TIMEUUID]).return_type == T["timestamp"]
    assert resolve_function("toTimestamp", [T["date"]]).arg_types == (T["date"],)
    assert resolve_function("blobAsInt", [T["blob"]]).call([b"\x00\x00\x00\x07"]) == 7
    with pytest.raises(InvalidRequest, match="Unknown function 'nope'"):
        resolve_function("nope", [])
    with pytest.raises(InvalidRequest, match="Invalid number of arguments"):
        resolve_function("now", [T["int"]])


def test_casts():
    assert cast_value(12, T["int"], T["text"]) == "12"
    assert cast_value(2.9, T["double"], T["int"]) == 2
    assert cast_value(3, T["int"], T["decimal"]) == Decimal(3)
    assert cast_value(True, T["boolean"], T["text"]) == "true"
    with pytest.raises(InvalidRequest):
        cast_value(b"x", T["blob"], T["int"])


def test_aggregates():
    avg = make_aggregate("avg", T["int"])
    for v in (1, 2, None, 4):
        avg.add(v)
    assert avg.result() == 2
    total = make_aggregate("sum", T["tinyint"])
    for v in (100, 100):
        total.add(v)
    assert total.result() == -56
    low = make_aggregate("min", T["text"])
    for v in ("b", "a", None):
        low.add(v)
    assert low.result() == "a"
    count = make_aggregate("count", T["int"])
    count.add(None)
    assert count.result() == 0
    with pytest.raises(InvalidRequest):
        make_aggregate("sum", T["text"])
