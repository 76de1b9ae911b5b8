"""Rows and mutations survive their byte encoding unchanged."""

import uuid

import pytest
from hypothesis import given

from stores.wide.storage.codec import (
    decode_batch,
    decode_mutation,
    decode_row,
    encode_batch,
    encode_mutation,
    encode_mutation_rows,
    encode_row,
)
from stores.wide.storage.partition import RowData, row_footprint

from .strategies import mutations, row_updates


@given(row_updates())
def test_row_round_trip(update):
    row = RowData.from_update(update)
    out = []
    encode_row(row, out)
    raw = b"".join(out)
    decoded, end = decode_row(raw, 0)
    assert end == len(raw)
    expected = RowData.from_update(update)
    expected.complex_cells = {k: v for k, v in expected.complex_cells.items() if v}
    assert decoded == expected


@given(mutations)
def test_mutation_round_trip(mutation):
    table_id = uuid.uuid4()
    table, key, decoded = decode_mutation(encode_mutation(table_id, mutation))
    assert table == table_id
    assert key == mutation.partition_key
    assert decoded.partition_deletion == mutation.partition_deletion
    assert decoded.range_tombstones == mutation.range_tombstones
    assert len(decoded.rows) == len(mutation.rows)
    for got, want in zip(decoded.rows, mutation.rows, strict=True):
        assert got.clustering == want.clustering
        assert got.cells == want.cells
        assert got.liveness == want.liveness
        assert got.deletion == want.deletion
        assert got.complex_deletions == want.complex_deletions
        assert got.complex_cells == {k: v for k, v in want.complex_cells.items() if v}


@given(mutations)
def test_mutation_rows_are_the_row_encodings_with_their_timestamp_range(mutation):
    encoded, rows = encode_mutation_rows(b"\x01" * 16, mutation)
    assert encoded == encode_mutation(b"\x01" * 16, mutation)
    assert len(rows) == len(mutation.rows)
    for (raw, low, high), update in zip(rows, mutation.rows, strict=True):
        out = []
        encode_row(update, out)
        assert raw == b"".join(out)
        if low is not None:
            assert (low, high) == row_footprint(RowData.from_update(update))[1:]
        assert raw in encoded


def test_batch_round_trip_and_trailing_bytes_rejected():
    items = [b"one", b"", b"three"]
    assert decode_batch(encode_batch(items)) == items
    with pytest.raises(ValueError):
        decode_batch(encode_batch(items) + b"x")
