"""Rows read from a block: lazy decoding gives what eager decoding gives."""

from hypothesis import given, settings
from hypothesis import strategies as st

from stores.wide.storage.blockrows import BlockRowData, LazyRow
from stores.wide.storage.cells import Cell, LivenessInfo
from stores.wide.storage.codec import decode_row, encode_row
from stores.wide.storage.merge import live_row, merge_rows
from stores.wide.storage.mutation import RowUpdate
from stores.wide.storage.read import Row

from .strategies import deletions, row_updates

column_sets = st.none() | st.frozensets(st.sampled_from(["a", "b", "col", "ü", "m", "s"]))


def block_row(update: RowUpdate, junk: bytes = b"\x07\x00") -> BlockRowData:
    """Return ``update`` encoded inside a block (after some other bytes) as a BlockRowData."""
    out = []
    encode_row(update, out)
    return BlockRowData(update.clustering, junk + b"".join(out) + b"\xff", len(junk))


def fields(row: Row | None):
    if row is None:
        return None
    return row.clustering, row.cells, row.complex_cells, row.liveness


@settings(max_examples=150)
@given(row_updates(static=False), st.integers(0, 2**33), st.none() | deletions, column_sets)
def test_lazy_read_matches_eager_decoding(update, now, deletion, columns):
    lazy = block_row(update)
    eager = decode_row(lazy._buf, lazy._pos)[0]
    assert live_row(lazy, deletion, now, columns) == live_row(eager, deletion, now, columns)
    assert fields(live_row(block_row(update), deletion, now, columns)) == fields(
        live_row(eager, deletion, now, columns)
    )
    assert lazy == eager
    assert lazy.decoded() is lazy.decoded()
    for name in ("liveness", "deletion", "cells", "complex_deletions", "complex_cells"):
        assert getattr(lazy, name) == getattr(eager, name)


@settings(max_examples=100)
@given(row_updates(static=False), row_updates(static=False), st.integers(0, 2**33))
def test_lazy_rows_merge_like_decoded_rows(left, right, now):
    right.clustering = left.clustering
    lazy = merge_rows(block_row(left), block_row(right))
    eager = merge_rows(block_row(left).decoded(), block_row(right).decoded())
    assert lazy == eager
    assert live_row(lazy, None, now, None) == live_row(eager, None, now, None)


def test_live_marker_makes_a_lazy_row_and_cells_wait_until_asked():
    ts = 10
    update = RowUpdate(
        b"ck",
        LivenessInfo(ts),
        cells={"a": Cell(b"1", ts), "b": Cell(None, ts, 0, 5), "c": Cell(b"3", ts, 60, 100)},
    )
    row = live_row(block_row(update), None, 99, None)
    assert isinstance(row, LazyRow)
    assert row._cells is None
    assert row.cells == {"a": Cell(b"1", ts), "c": Cell(b"3", ts, 60, 100)}
    assert row._source is None  # decoded: the block is no longer held
    assert row.complex_cells == {}
    assert row.liveness == LivenessInfo(ts)
    # At 100 the TTL cell has expired: gone, while the row stays (its marker is live).
    assert live_row(block_row(update), None, 100, None).cells == {"a": Cell(b"1", ts)}
    narrowed = live_row(block_row(update), None, 99, frozenset({"c"}))
    assert narrowed.cells == {"c": Cell(b"3", ts, 60, 100)}


def test_rows_without_a_live_marker_take_the_general_path():
    update = RowUpdate(b"ck", None, cells={"a": Cell(b"1", 5)})
    row = live_row(block_row(update), None, 99, None)
    assert type(row) is Row and row.cells == {"a": Cell(b"1", 5)}
    expired = RowUpdate(b"ck", LivenessInfo(5, 10, 50), cells={"a": Cell(None, 5, 0, 1)})
    assert live_row(block_row(expired), None, 99, None) is None


def test_assigning_cells_keeps_the_other_parts():
    update = RowUpdate(
        b"ck",
        LivenessInfo(3),
        cells={"a": Cell(b"1", 3)},
        complex_cells={"m": {b"k": Cell(b"v", 3)}},
    )
    row = live_row(block_row(update), None, 99, None)
    row.cells = {}
    assert row.cells == {} and row.complex_cells == {"m": [(b"k", Cell(b"v", 3))]}
    row.liveness = None
    assert row.liveness is None
