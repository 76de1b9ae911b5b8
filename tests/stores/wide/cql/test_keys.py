"""Clustering keys decoded many at a time give what decoding each one gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stores.wide.cql.keys import (
    clustering_columns,
    decode_clustering,
    encode_clustering,
    fixed_int_keys,
)
from stores.wide.cql.types import SIMPLE_TYPES
from tests.stores.wide.cql.strategies import VALUES


def _outcome(fn, data):
    try:
        return ("value", fn(data))
    except Exception as exc:  # the same error class is part of the behaviour
        return ("error", type(exc))


@pytest.mark.parametrize(
    "names", [["tinyint"], ["smallint"], ["int"], ["bigint"], ["text"], ["int", "bigint"]]
)
@pytest.mark.parametrize("desc", [False, True])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_clustering_columns_are_each_keys_values_by_column(names, desc, data):
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
        | st.integers(257, 300).flatmap(lambda n: st.lists(full, min_size=n, max_size=n))
    )
    expected = _outcome(
        lambda ks: [
            [values[i] if i < len(values) else None for values in map(decode, ks)]
            for i in range(len(types))
        ],
        keys,
    )
    columns = clustering_columns(types, descending, decode)
    assert _outcome(columns, keys) == expected
    assert _outcome(columns, keys) == expected  # again, with its mask cached


@pytest.mark.parametrize("name", ["tinyint", "smallint", "int", "bigint"])
@pytest.mark.parametrize("desc", [False, True])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_fixed_int_keys_are_the_values_serialized_back_to_back(name, desc, data):
    cql_type = SIMPLE_TYPES[name]
    values = data.draw(st.lists(VALUES[name], max_size=6))
    keys = [encode_clustering([cql_type], [desc], [v]) for v in values]
    assert fixed_int_keys(keys, cql_type.size, desc) == b"".join(map(cql_type.serialize, values))
    if keys:
        assert fixed_int_keys([*keys[:-1], keys[-1] + b"\x00"], cql_type.size, desc) is None
