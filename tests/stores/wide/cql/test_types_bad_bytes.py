"""Random bytes given to any type's deserialize: a value or a CQL error, never another exception."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stores.wide.cql.errors import CQLError
from stores.wide.cql.types import SIMPLE_TYPES, parse_type

COMPOUND_TYPES = [
    "list<int>",
    "set<text>",
    "map<text, bigint>",
    "frozen<list<decimal>>",
    "frozen<set<timeuuid>>",
    "map<int, frozen<list<varint>>>",
    "tuple<int, text>",
    "tuple<decimal, duration, frozen<map<int, text>>>",
    "frozen<tuple<inet, date, time, timestamp>>",
    "list<frozen<tuple<int, decimal>>>",
]
TYPES = sorted(SIMPLE_TYPES) + COMPOUND_TYPES


def decodes_or_refuses(cql_type, data: bytes) -> None:
    try:
        cql_type.deserialize(data)
    except CQLError:
        pass


@pytest.mark.parametrize("type_name", TYPES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=40))
@example(data=b"")
@example(data=b"\x00")
@example(data=b"\x00\x00\x00")
@example(data=b"\xff\xff\xff\xff")
@example(data=b"\x00\x00\x00\x01")
@example(data=b"\x00\x00\x00\x02\xff\xff\xff\xff")
@example(data=b"\x80")
@example(data=b"\xff" * 9)
@example(data=b"\x00\x00\x7f\xff\xff\xff\x01")
def test_random_bytes_decode_or_raise_a_cql_error(type_name, data):
    decodes_or_refuses(parse_type(type_name), data)


@settings(max_examples=30, deadline=None)
@given(data=st.binary(min_size=200, max_size=3000))
def test_long_random_bytes_decode_or_raise_a_cql_error(data):
    for type_name in TYPES:
        decodes_or_refuses(parse_type(type_name), data)


def test_a_decimal_of_any_length_decodes_exactly():
    unscaled = 10**5000 + 7
    data = (3).to_bytes(4, "big") + unscaled.to_bytes(2100, "big", signed=True)
    value = parse_type("decimal").deserialize(data)
    assert value.as_tuple().exponent == -3
    assert value.as_tuple().digits[-1] == 7 and len(value.as_tuple().digits) == 5001


@pytest.mark.parametrize(
    ("type_name", "data", "message"),
    [
        ("duration", b"\x00", "Truncated variable-length integer"),
        ("duration", b"\x02\x01\x00", "same sign"),
        ("time", (86400 * 10**9).to_bytes(8, "big"), "Time must be between"),
        ("tuple<int, text>", b"\x00", "Not enough bytes to read size of 0th component"),
        ("tuple<int, text>", b"\x00\x00\x00\x04\x00", "Not enough bytes to read 0th component"),
        (
            "tuple<int>",
            b"\x00\x00\x00\x04\x00\x00\x00\x01\x00",
            "Expected 1 components for frozen<tuple<int>>, but got more",
        ),
        ("decimal", b"\x00\x00\x01", "fewer than 4 bytes"),
    ],
)
def test_bad_bytes_name_the_problem(type_name, data, message):
    with pytest.raises(CQLError, match=message):
        parse_type(type_name).deserialize(data)


def test_a_short_tuple_has_null_trailing_components():
    assert parse_type("tuple<int, text>").deserialize(b"\x00\x00\x00\x04\x00\x00\x00\x05") == (
        5,
        None,
    )
