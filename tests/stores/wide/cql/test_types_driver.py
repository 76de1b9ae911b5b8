"""Our native-protocol bytes against cassandra-driver's codecs (the protocol's other side).

The engine never imports cassandra-driver; this test uses it as an oracle:
bytes we serialize must deserialize to the same value in the driver, and
bytes the driver serializes must deserialize to the same value here.
"""

from __future__ import annotations

import datetime
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stores.wide.cql.types import SIMPLE_TYPES, ListType, MapType, SetType, TupleType
from tests.stores.wide.cql.strategies import VALUES, durations

cqltypes = pytest.importorskip("cassandra.cqltypes")
util = pytest.importorskip("cassandra.util")

PROTOCOL = 4
DRIVER = {
    "ascii": cqltypes.AsciiType,
    "bigint": cqltypes.LongType,
    "blob": cqltypes.BytesType,
    "boolean": cqltypes.BooleanType,
    "decimal": cqltypes.DecimalType,
    "double": cqltypes.DoubleType,
    "float": cqltypes.FloatType,
    "inet": cqltypes.InetAddressType,
    "int": cqltypes.Int32Type,
    "smallint": cqltypes.ShortType,
    "text": cqltypes.UTF8Type,
    "timestamp": cqltypes.DateType,
    "timeuuid": cqltypes.TimeUUIDType,
    "tinyint": cqltypes.ByteType,
    "uuid": cqltypes.UUIDType,
    "varint": cqltypes.IntegerType,
    "date": cqltypes.SimpleDateType,
    "time": cqltypes.TimeType,
}


def same(ours, theirs) -> bool:
    if isinstance(ours, datetime.datetime) and isinstance(theirs, datetime.datetime):
        # The driver goes through float seconds, which lose microseconds far from 1970.
        return abs(ours - theirs) <= datetime.timedelta(milliseconds=1)
    if isinstance(ours, float) and math.isnan(ours):
        return isinstance(theirs, float) and math.isnan(theirs)
    if hasattr(theirs, "days_from_epoch"):
        return ours.days_from_epoch == theirs.days_from_epoch
    if hasattr(theirs, "nanosecond_time"):
        return ours.nanosecond_time == theirs.nanosecond_time
    return ours == theirs


@pytest.mark.parametrize("name", sorted(DRIVER))
def test_simple_types_match_the_driver(name):
    ours, theirs = SIMPLE_TYPES[name], DRIVER[name]
    strategy = VALUES[name]
    if name == "timestamp":
        strategy = strategy.filter(lambda v: not isinstance(v, int))
    if name == "date":
        strategy = st.integers(-700_000, 2_900_000).map(
            lambda d: SIMPLE_TYPES["date"].deserialize(SIMPLE_TYPES["date"].serialize(d))
        )

    @settings(max_examples=40, deadline=None)
    @given(strategy)
    def check(value):
        data = ours.serialize(value)
        assert same(ours.deserialize(data), theirs.deserialize(data, PROTOCOL))
        if name not in ("date", "time"):
            back = ours.deserialize(theirs.serialize(theirs.deserialize(data, PROTOCOL), PROTOCOL))
            if name == "timestamp":
                # The driver's float arithmetic can move far dates by a millisecond.
                assert abs(back - ours.deserialize(data)) <= datetime.timedelta(milliseconds=1)
            else:
                assert same(back, ours.deserialize(data))

    check()


@settings(max_examples=40, deadline=None)
@given(durations)
def test_duration_matches_the_driver(value):
    data = SIMPLE_TYPES["duration"].serialize(value)
    theirs = cqltypes.DurationType.deserialize(data, PROTOCOL)
    assert (theirs.months, theirs.days, theirs.nanoseconds) == (
        value.months,
        value.days,
        value.nanoseconds,
    )
    back = cqltypes.DurationType.serialize(theirs, PROTOCOL)
    assert SIMPLE_TYPES["duration"].deserialize(back) == value


COMPOSITES = [
    (
        ListType(SIMPLE_TYPES["int"]),
        cqltypes.ListType.apply_parameters([cqltypes.Int32Type]),
        st.lists(VALUES["int"], max_size=5),
    ),
    (
        SetType(SIMPLE_TYPES["text"]),
        cqltypes.SetType.apply_parameters([cqltypes.UTF8Type]),
        st.sets(VALUES["text"], max_size=5),
    ),
    (
        MapType(SIMPLE_TYPES["text"], SIMPLE_TYPES["bigint"]),
        cqltypes.MapType.apply_parameters([cqltypes.UTF8Type, cqltypes.LongType]),
        st.dictionaries(VALUES["text"], VALUES["bigint"], max_size=5),
    ),
    (
        TupleType(SIMPLE_TYPES["int"], SIMPLE_TYPES["text"]),
        cqltypes.TupleType.apply_parameters([cqltypes.Int32Type, cqltypes.UTF8Type]),
        st.tuples(st.none() | VALUES["int"], st.none() | VALUES["text"]),
    ),
]


@pytest.mark.parametrize(
    "ours,theirs,values", COMPOSITES, ids=lambda x: getattr(x, "cql", lambda: "")() or None
)
def test_collections_match_the_driver(ours, theirs, values):
    @settings(max_examples=40, deadline=None)
    @given(values)
    def check(value):
        data = ours.serialize(value)
        decoded = theirs.deserialize(data, PROTOCOL)
        expected = ours.deserialize(data)
        if isinstance(ours, MapType):
            assert dict(decoded) == expected
        elif isinstance(ours, SetType):
            assert set(decoded) == set(expected)
        else:
            assert (list(decoded) if isinstance(ours, ListType) else tuple(decoded)) == expected
        assert ours.deserialize(theirs.serialize(decoded, PROTOCOL)) == expected

    check()


def test_option_ids_match_the_driver():
    protocol = pytest.importorskip("cassandra.protocol")
    codes = protocol.ResultMessage.type_codes
    for name, driver_type in DRIVER.items():
        assert codes[SIMPLE_TYPES[name].option_id] in (driver_type, protocol.VarcharType)
    assert codes[SIMPLE_TYPES["duration"].option_id] is cqltypes.DurationType
    assert codes[SIMPLE_TYPES["counter"].option_id] is cqltypes.CounterColumnType
    for ours, theirs, _ in COMPOSITES:
        assert codes[ours.option_id].typename == theirs.typename
