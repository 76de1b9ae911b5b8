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
    assert row._buf is None  # decoded: the block is no longer held
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


# -- LazyRows straight from a block (LiveContext) ----------------------------------

_CKS = [b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h"]


def _shape(result):
    if result is None:
        return None
    return [
        (r.clustering, r.cells, r.complex_cells, r.liveness)
        for r in ([result.static_row] if result.static_row else []) + result.rows
    ]


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(_CKS),
            st.sampled_from(["plain", "no marker", "ttl", "expired marker", "row deletion"]),
        ),
        min_size=1,
        max_size=12,
    ),
    flushes=st.lists(st.integers(0, 11), max_size=3),
    partition_deletion=st.booleans(),
    reverse=st.booleans(),
    limit=st.none() | st.integers(0, 6),
    columns=column_sets,
)
def test_rows_handed_out_live_by_the_reader_equal_the_general_path(
    rows, flushes, partition_deletion, reverse, limit, columns
):
    from stores.wide.storage import DeletionTime, Mutation, StorageEngine
    from stores.wide.storage.engine import ALL_SLICES
    from stores.wide.storage.merge import read_partition
    from stores.wide.storage.token import token

    from .engine_support import Clock, setup

    clock = Clock()
    engine = StorageEngine.open(None, clock=clock, background=False, auto_compaction=False)
    setup(engine)
    now = int(clock.now)
    for index, (ck, kind) in enumerate(rows):
        ts = 10 + index
        if kind == "row deletion":
            update = RowUpdate(ck, deletion=DeletionTime(ts, now))
        else:
            ttl = 5 if kind == "ttl" else 0
            marker = None if kind == "no marker" else LivenessInfo(ts, ttl)
            if kind == "expired marker":
                marker = LivenessInfo(ts, 1, now - 1)
            update = RowUpdate(ck, marker, cells={"v": Cell(b"x%d" % index, ts, ttl)})
        engine.apply(Mutation("ks", "t", b"k", rows=[update]))
        if index in flushes:
            engine.flush()
    if partition_deletion:
        engine.apply(Mutation("ks", "t", b"k", partition_deletion=DeletionTime(12, now)))
    engine.flush()
    got = engine.read("ks", "t", b"k", reverse=reverse, limit=limit, columns=columns, now=now)
    state = engine._table("ks", "t")
    views = engine._partition_views(state, token(b"k"), b"k", ALL_SLICES, reverse, None)
    expected = read_partition(
        views, reverse=reverse, limit=limit, columns=columns, now=now, trace=None
    )
    assert _shape(got) == _shape(expected)
    engine.close()


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([b"a", b"aaaaaaaaaa", b"b", b"bbbbbbbbbbbbbbbbbbbbbbbb", b"c", b"cc"]),
            st.sampled_from(["plain", "empty", "ttl", "expired marker", "no marker"]),
        ),
        min_size=1,
        max_size=8,
    ),
    reverse=st.booleans(),
    limit=st.none() | st.integers(1, 6),
)
def test_rows_of_mixed_clustering_widths_in_one_block_read_as_the_general_path(
    rows, reverse, limit
):
    # The reader parses a row's head in one unpack when its clustering has the
    # width of the block's first row; other widths (a shorter key at the end
    # of the block, where that unpack would run past it) take the general parse.
    from stores.wide.storage import Mutation, StorageEngine
    from stores.wide.storage.engine import ALL_SLICES
    from stores.wide.storage.merge import read_partition
    from stores.wide.storage.token import token

    from .engine_support import Clock, setup

    clock = Clock()
    engine = StorageEngine.open(None, clock=clock, background=False, auto_compaction=False)
    setup(engine)
    now = int(clock.now)
    for index, (ck, kind) in enumerate(rows):
        ts = 10 + index
        marker = None if kind == "no marker" else LivenessInfo(ts, 5 if kind == "ttl" else 0)
        if kind == "expired marker":
            marker = LivenessInfo(ts, 1, now - 1)
        cells = {} if kind == "empty" else {"v": Cell(b"x%d" % index, ts)}
        engine.apply(Mutation("ks", "t", b"k", rows=[RowUpdate(ck, marker, cells=cells)]))
    engine.flush()
    got = engine.read("ks", "t", b"k", reverse=reverse, limit=limit, now=now)
    state = engine._table("ks", "t")
    views = engine._partition_views(state, token(b"k"), b"k", ALL_SLICES, reverse, None)
    expected = read_partition(
        views, reverse=reverse, limit=limit, columns=None, now=now, trace=None
    )
    assert _shape(got) == _shape(expected)
    engine.close()
