"""Serialization round trips and the order-preserving key encoding of every type."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.keys import (
    decode_clustering,
    decode_partition_key,
    encode_clustering,
    encode_partition_key,
    invert,
)
from stores.wide.cql.types import (
    SIMPLE_TYPES,
    ListType,
    MapType,
    SetType,
    TupleType,
    decode_vint,
    encode_vint,
    parse_type,
)
from stores.wide.cql.values import Date, Duration, Time, parse_duration
from tests.stores.wide.cql.strategies import VALUES, canonical, durations, model_key

T = SIMPLE_TYPES
KEY_TYPES = sorted(VALUES)
COMPOSITES = {
    "frozen<list<int>>": (ListType(T["int"], frozen=True), st.lists(VALUES["int"], max_size=4)),
    "frozen<set<text>>": (SetType(T["text"], frozen=True), st.sets(VALUES["text"], max_size=4)),
    "frozen<map<int, text>>": (
        MapType(T["int"], T["text"], frozen=True),
        st.dictionaries(VALUES["int"], VALUES["text"], max_size=4),
    ),
    "frozen<tuple<int, text>>": (
        TupleType(T["int"], T["text"]),
        st.tuples(st.none() | VALUES["int"], st.none() | VALUES["text"]),
    ),
}


def _sign(a, b) -> int:
    return (a > b) - (a < b)


@pytest.mark.parametrize("name", KEY_TYPES)
def test_serialize_round_trip(name):
    cql_type = T[name]

    @given(VALUES[name])
    def check(value):
        assert canonical(cql_type, cql_type.deserialize(cql_type.serialize(value))) == canonical(
            cql_type, value
        )

    check()


@pytest.mark.parametrize("name", KEY_TYPES)
def test_key_encoding_orders_like_cql_and_round_trips(name):
    cql_type = T[name]

    @given(VALUES[name], VALUES[name])
    def check(a, b):
        ka, kb = cql_type.encode_key(a), cql_type.encode_key(b)
        expected = _sign(model_key(cql_type, a), model_key(cql_type, b))
        assert _sign(ka, kb) == expected
        assert _sign(invert(ka), invert(kb)) == -expected
        if expected != 0:
            assert not kb.startswith(ka) and not ka.startswith(kb)
        decoded, end = cql_type.decode_key(ka + b"tail", 0)
        assert end == len(ka)
        assert canonical(cql_type, decoded) == canonical(cql_type, a)

    check()


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_frozen_collection_keys_order_like_cql(name):
    cql_type, values = COMPOSITES[name]

    @given(values, values)
    def check(a, b):
        ka, kb = cql_type.encode_key(a), cql_type.encode_key(b)
        expected = _sign(model_key(cql_type, a), model_key(cql_type, b))
        assert _sign(ka, kb) == expected
        if expected != 0:
            assert not kb.startswith(ka) and not ka.startswith(kb)
        assert cql_type.deserialize(cql_type.serialize(a)) == (
            tuple(a) if isinstance(cql_type, TupleType) else a
        )

    check()


@given(VALUES["int"], VALUES["text"], VALUES["int"], VALUES["text"], st.booleans(), st.booleans())
def test_clustering_keys_compose_in_order_with_prefix_property(a1, b1, a2, b2, desc_a, desc_b):
    types = [T["int"], T["text"]]
    desc = [desc_a, desc_b]
    k1 = encode_clustering(types, desc, (a1, b1))
    k2 = encode_clustering(types, desc, (a2, b2))

    def model(a, b):
        ka = a if not desc_a else -a
        kb = b.encode()
        return (ka, kb if not desc_b else None), kb

    first = _sign(a1, a2) * (-1 if desc_a else 1)
    second = _sign(b1.encode(), b2.encode()) * (-1 if desc_b else 1)
    assert _sign(k1, k2) == (first or second)
    assert k1.startswith(encode_clustering(types, desc, (a1,)))
    assert decode_clustering(types, desc, k1) == (a1, b1)
    assert decode_clustering(types, desc, encode_clustering(types, desc, (a1,))) == (a1,)


def test_partition_key_encodings():
    assert encode_partition_key([T["int"]], [1]) == b"\x00\x00\x00\x01"
    composite = encode_partition_key([T["int"], T["text"]], [1, "ab"])
    assert composite == b"\x00\x04\x00\x00\x00\x01\x00\x00\x02ab\x00"
    assert decode_partition_key([T["int"], T["text"]], composite) == (1, "ab")


@given(st.integers(0, 2**64 - 1))
def test_vint_round_trip(value):
    raw = encode_vint(value)
    assert decode_vint(raw, 0) == (value, len(raw))


@given(durations)
def test_duration_round_trip(value):
    assert T["duration"].deserialize(T["duration"].serialize(value)) == value


def test_literals():
    assert T["timestamp"].from_literal(
        "string", "2024-01-02 03:04:05.006+0000"
    ) == datetime.datetime(2024, 1, 2, 3, 4, 5, 6000)
    assert T["timestamp"].from_literal("string", "2024-01-02T03:04:05+01:00") == datetime.datetime(
        2024, 1, 2, 2, 4, 5
    )
    assert T["date"].from_literal("string", "2024-02-29") == Date(datetime.date(2024, 2, 29))
    assert T["time"].from_literal("string", "08:12:54.123456789") == Time(29574123456789)
    assert T["uuid"].from_literal("uuid", "e7ee39b6-3e58-11ee-9b61-0242ac120002").version == 1
    assert T["blob"].from_literal("hex", "0xcafe") == b"\xca\xfe"
    assert T["decimal"].from_literal("float", "1.50") == Decimal("1.50")
    assert parse_duration("1h30m") == Duration(0, 0, 90 * 60 * 10**9)
    assert parse_duration("P1Y2M3DT4H") == Duration(14, 3, 4 * 3600 * 10**9)
    assert parse_duration("-2d") == Duration(0, -2, 0)
    with pytest.raises(InvalidRequest, match="Invalid STRING constant"):
        T["int"].from_literal("string", "x")
    with pytest.raises(InvalidRequest):
        T["tinyint"].from_literal("integer", "300")
    with pytest.raises(InvalidRequest):
        T["timeuuid"].from_literal("uuid", str(uuid.uuid4()))


def test_bad_bytes_are_invalid_requests_not_crashes():
    for name, data in [
        ("int", b"\x00"),
        ("bigint", b"\x00" * 3),
        ("uuid", b"x"),
        ("text", b"\xff"),
        ("boolean", b"ab"),
    ]:
        with pytest.raises(InvalidRequest):
            T[name].deserialize(data)
    with pytest.raises(InvalidRequest):
        ListType(T["int"]).deserialize(b"\x00\x00\x00\x05\x00")
    with pytest.raises(InvalidRequest):
        MapType(T["int"], T["int"]).deserialize(b"\xff\xff\xff\xff")


def test_parse_type_round_trips_and_rejects_nested_non_frozen():
    for text in (
        "int",
        "map<text, frozen<list<int>>>",
        "frozen<set<uuid>>",
        "frozen<tuple<int, text>>",
        "list<frozen<map<int, int>>>",
    ):
        assert parse_type(text).cql() == text
    assert parse_type("varchar").cql() == "text"
    with pytest.raises(InvalidRequest, match="Non-frozen collections are not allowed"):
        parse_type("list<list<int>>")
    with pytest.raises(InvalidRequest):
        parse_type("nope")
