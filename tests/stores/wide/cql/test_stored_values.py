"""Stored cell bytes sent as they are give what decoding and re-serializing gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stores.wide.cql.keys import decode_clustering, encode_clustering
from stores.wide.cql.stored_values import (
    as_cell,
    fixed_cell_prefix,
    wire_cell,
    wire_clustering,
    wire_clustering_cells,
    wire_clustering_columns,
    wire_value,
)
from stores.wide.cql.types import SIMPLE_TYPES
from tests.stores.wide.cql.strategies import VALUES

TYPES = ["tinyint", "smallint", "int", "bigint", "text", "ascii", "blob", "double", "boolean"]


def _outcome(fn, data):
    try:
        return ("value", fn(data))
    except Exception as exc:  # the same error class is part of the behaviour
        return ("error", type(exc))


def _reencode(cql_type, data):
    value = cql_type.deserialize(data)
    return None if value is None else cql_type.serialize(value)


@pytest.mark.parametrize("name", TYPES)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_wire_value_matches_decode_and_reserialize(name, data):
    cql_type = SIMPLE_TYPES[name]
    raw = data.draw(
        st.binary(max_size=10)
        | st.sampled_from([b"", b"\xff\xfe", "é".encode()])
        | (VALUES[name].map(cql_type.serialize) if name in VALUES else st.nothing())
    )
    assert _outcome(wire_value(cql_type), raw) == _outcome(lambda d: _reencode(cql_type, d), raw)


def test_valid_stored_bytes_are_sent_unchanged():
    for name, value in (("int", 7), ("bigint", -3), ("text", "héllo"), ("blob", b"\x00")):
        raw = SIMPLE_TYPES[name].serialize(value)
        assert wire_value(SIMPLE_TYPES[name])(raw) == raw
    assert wire_value(SIMPLE_TYPES["int"])(b"") is None


@pytest.mark.parametrize("name", ["tinyint", "smallint", "int", "bigint"])
@pytest.mark.parametrize("desc", [False, True])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_wire_clustering_matches_decode_and_serialize(name, desc, data):
    cql_type = SIMPLE_TYPES[name]
    types, descending = [cql_type], [desc]

    def decode(key):
        return decode_clustering(types, descending, key)

    key = data.draw(
        VALUES[name].map(lambda v: encode_clustering(types, descending, [v]))
        | st.binary(min_size=1, max_size=10)
    )
    expected = _outcome(
        lambda k: tuple(None if v is None else cql_type.serialize(v) for v in decode(k)), key
    )
    assert _outcome(wire_clustering(types, descending, decode), key) == expected


@pytest.mark.parametrize("name", TYPES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_wire_cell_is_the_wire_value_in_value_notation(name, data):
    cql_type = SIMPLE_TYPES[name]
    raw = data.draw(
        st.binary(max_size=10)
        | st.sampled_from([b"", b"\xff\xfe", "é".encode()])
        | (VALUES[name].map(cql_type.serialize) if name in VALUES else st.nothing())
    )
    expected = _outcome(lambda d: as_cell(wire_value(cql_type)(d)), raw)
    assert _outcome(wire_cell(cql_type), raw) == expected


@pytest.mark.parametrize("name", TYPES)
@settings(max_examples=30, deadline=None)
@given(raw=st.binary(max_size=10))
def test_fixed_cell_prefix_gives_wire_cell_for_values_of_its_size(name, raw):
    cql_type = SIMPLE_TYPES[name]
    fixed = fixed_cell_prefix(cql_type)
    if name not in ("tinyint", "smallint", "int", "bigint"):
        assert fixed is None
        return
    size, prefix = fixed
    assert size == cql_type.size
    raw = raw[:size].ljust(size, b"\x01")
    assert prefix + raw == wire_cell(cql_type)(raw)


def test_as_cell_writes_the_length_then_the_bytes():
    assert as_cell(None) == b"\xff\xff\xff\xff"
    assert as_cell(b"") == b"\x00\x00\x00\x00"
    assert as_cell(b"ab") == b"\x00\x00\x00\x02ab"


@pytest.mark.parametrize("name", ["tinyint", "smallint", "int", "bigint", "text"])
@pytest.mark.parametrize("desc", [False, True])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_wire_clustering_cells_match_wire_clustering(name, desc, data):
    cql_type = SIMPLE_TYPES[name]
    types, descending = [cql_type], [desc]

    def decode(key):
        return decode_clustering(types, descending, key)

    key = data.draw(
        VALUES[name].map(lambda v: encode_clustering(types, descending, [v]))
        | st.binary(min_size=1, max_size=10)
    )
    values = wire_clustering(types, descending, decode)
    expected = _outcome(lambda k: tuple(as_cell(v) for v in values(k)), key)
    assert _outcome(wire_clustering_cells(types, descending, decode), key) == expected


@pytest.mark.parametrize(
    "names", [["tinyint"], ["int"], ["bigint"], ["text"], ["int", "text"], ["bigint", "int"]]
)
@pytest.mark.parametrize("desc", [False, True])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_wire_clustering_columns_are_the_cells_of_each_key_by_column(names, desc, data):
    types = [SIMPLE_TYPES[n] for n in names]
    descending = [desc] * len(types)

    def decode(key):
        return decode_clustering(types, descending, key)

    full = st.tuples(*(VALUES[n] for n in names)).map(
        lambda values: encode_clustering(types, descending, list(values))
    )
    keys = data.draw(
        st.lists(full, max_size=8)
        | st.lists(full | st.binary(min_size=1, max_size=10), max_size=4)
        # Longer than the columns' cached masks.
        | st.integers(257, 300).flatmap(lambda n: st.lists(full, min_size=n, max_size=n))
    )
    per_key = wire_clustering_cells(types, descending, decode)
    expected = _outcome(
        lambda ks: [
            [cells[i] if i < len(cells) else as_cell(None) for cells in map(per_key, ks)]
            for i in range(len(types))
        ],
        keys,
    )
    columns = wire_clustering_columns(types, descending, decode)
    assert _outcome(columns, keys) == expected
    assert _outcome(columns, keys) == expected  # again, with its mask cached
