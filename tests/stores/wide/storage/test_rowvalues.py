"""column_values gives what a row's decoded cells give, for every kind of row."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from stores.wide.storage import DeletionTime, Mutation, RangeTombstone, StorageEngine
from stores.wide.storage.blockrows import BlockRowData, LazyRow
from stores.wide.storage.cells import Cell, LivenessInfo
from stores.wide.storage.codec import encode_row
from stores.wide.storage.engine import ALL_SLICES
from stores.wide.storage.merge import live_row, read_partition
from stores.wide.storage.mutation import STATIC, Bound, RowUpdate
from stores.wide.storage.read import Row
from stores.wide.storage.rowvalues import column_values
from stores.wide.storage.token import token

from .engine_support import Clock, setup
from .strategies import row_updates

NAMES = ["a", "b", "col", "ü", "m", "s", "absent"]
column_sets = st.none() | st.frozensets(st.sampled_from(["a", "b", "col", "ü", "m", "s"]))


def block_row(update: RowUpdate) -> BlockRowData:
    """Return ``update`` encoded inside a block, after some other bytes."""
    out: list = []
    encode_row(update, out)
    return BlockRowData(update.clustering, b"\x07\x00" + b"".join(out) + b"\xff", 2)


def from_cells(rows: list[Row], name: str) -> list[bytes | None]:
    """Return the general path's answer: each row's decoded cell value."""
    return [None if (c := row.cells.get(name)) is None else c.value for row in rows]


@settings(max_examples=200)
@given(row_updates(static=False), st.integers(0, 2**33), column_sets)
def test_lazy_rows_give_what_their_decoded_cells_give(update, now, columns):
    row = live_row(block_row(update), None, now, columns)
    if row is None:
        return
    rows = [row]
    got = {name: column_values(rows, name) for name in NAMES}
    if type(row) is LazyRow:
        assert row._cells is None  # read from the bytes, nothing decoded
    twin = live_row(block_row(update), None, now, columns)
    assert got == {name: from_cells([twin], name) for name in NAMES}
    # Decoded now: the same answers through the cells.
    assert {name: column_values(rows, name) for name in NAMES} == got


def test_the_cell_rules_on_undecoded_rows():
    ts = 10
    update = RowUpdate(
        b"ck",
        LivenessInfo(ts),
        cells={
            "dead": Cell(None, ts, 0, 5),
            "gone": Cell(b"old", ts, 60, 100),  # expires at 100
            "kept": Cell(b"ttl", ts, 60, 200),
            "stamped": Cell(b"ldt", ts, 0, 50),  # a deletion time but no TTL: live
            "plain": Cell(b"p", ts),
        },
    )
    rows = [live_row(block_row(update), None, 150, None) for _ in range(2)]
    assert all(type(r) is LazyRow for r in rows)
    for name, value in [
        ("dead", None),
        ("gone", None),
        ("kept", b"ttl"),
        ("stamped", b"ldt"),
        ("plain", b"p"),
        ("absent", None),
    ]:
        assert column_values(rows, name) == [value, value]
    assert rows[0]._cells is None
    narrowed = live_row(block_row(update), None, 150, frozenset({"kept"}))
    assert column_values([narrowed], "plain") == [None]
    assert column_values([narrowed], "kept") == [b"ttl"]


def test_rows_whose_cells_were_replaced_answer_from_the_new_cells():
    row = live_row(
        block_row(RowUpdate(b"c", LivenessInfo(1), cells={"a": Cell(b"1", 1)})), None, 9, None
    )
    row.cells = {"a": Cell(b"2", 2)}
    plain = Row(b"d", {"a": Cell(b"3", 3)}, {}, None)
    assert column_values([row, plain], "a") == [b"2", b"3"]
    assert column_values([], "a") == []


def test_a_name_no_row_can_hold_reads_as_none():
    row = live_row(
        block_row(RowUpdate(b"c", LivenessInfo(1), cells={"a": Cell(b"1", 1)})), None, 9, None
    )
    assert column_values([row], "x" * 300) == [None]
    assert column_values([row], "é" * 128) == [None]  # 256 bytes of UTF-8
    assert column_values([row], "a") == [b"1"]


def test_a_row_with_no_simple_cells():
    update = RowUpdate(b"c", LivenessInfo(1), complex_cells={"m": {b"k": Cell(b"v", 1)}})
    row = live_row(block_row(update), None, 9, None)
    assert column_values([row], "m") == [None] == from_cells([row], "m")
    assert column_values([row], "a") == [None]


# -- through the engine: memtable, SSTables, merges, row cache ---------------------

_CKS = [b"a", b"b", b"c", b"d", b"e", b"f"]
_KINDS = [
    "plain",
    "no marker",
    "ttl",
    "ttl cell",
    "expired marker",
    "expired marker, dead cell",
    "row deletion",
    "tombstone",
]


@settings(max_examples=100, deadline=None)
@example(  # an expired marker and no live cell, in the memtable: no row
    writes=[(b"a", "expired marker, dead cell", False), (b"b", "ttl cell", True)],
    flushes=[],
    final_flush=False,
    partition_deletion=False,
    range_deletion=False,
    static=False,
    reverse=False,
    limit=None,
    columns=None,
    later=0,
    cached=False,
)
@given(
    writes=st.lists(
        st.tuples(st.sampled_from(_CKS), st.sampled_from(_KINDS), st.booleans()),
        min_size=1,
        max_size=12,
    ),
    flushes=st.lists(st.integers(0, 11), max_size=3),
    final_flush=st.booleans(),
    partition_deletion=st.booleans(),
    range_deletion=st.booleans(),
    static=st.booleans(),
    reverse=st.booleans(),
    limit=st.none() | st.integers(0, 6),
    columns=st.none() | st.sampled_from([frozenset({"v"}), frozenset({"w", "name"})]),
    later=st.sampled_from([0, 0, 6]),
    cached=st.booleans(),
)
def test_engine_reads_give_what_decoded_cells_give(
    writes,
    flushes,
    final_flush,
    partition_deletion,
    range_deletion,
    static,
    reverse,
    limit,
    columns,
    later,
    cached,
):
    clock = Clock()
    engine = StorageEngine.open(None, clock=clock, background=False, auto_compaction=False)
    if cached:
        setup(engine, caching={"keys": "ALL", "rows_per_partition": "3"})
    else:
        setup(engine)
    now = int(clock.now)
    for index, (ck, kind, second) in enumerate(writes):
        ts = 10 + index
        cells = {"v": Cell(b"v%d" % index, ts, 5 if kind == "ttl cell" else 0)}
        if second:
            cells["w"] = Cell(b"w%d" % index, ts)
        if kind in ("tombstone", "expired marker, dead cell"):
            cells["v"] = Cell(None, ts, 0, now)
        if kind == "row deletion":
            update = RowUpdate(ck, deletion=DeletionTime(ts, now))
        else:
            marker = None if kind == "no marker" else LivenessInfo(ts, 5 if kind == "ttl" else 0)
            if kind.startswith("expired marker"):
                marker = LivenessInfo(ts, 1, now - 1)
            update = RowUpdate(ck, marker, cells=cells)
        engine.apply(Mutation("ks", "t", b"k", rows=[update]))
        if index in flushes:
            engine.flush()
    if static:
        engine.apply(
            Mutation("ks", "t", b"k", rows=[RowUpdate(STATIC, cells={"name": Cell(b"n", 3)})])
        )
    if partition_deletion:
        engine.apply(Mutation("ks", "t", b"k", partition_deletion=DeletionTime(12, now)))
    if range_deletion:
        rt = RangeTombstone(Bound(b"b", True), Bound(b"c", True), DeletionTime(14, now))
        engine.apply(Mutation("ks", "t", b"k", range_tombstones=[rt]))
    if final_flush:
        engine.flush()
    clock.advance(later)
    now = int(clock.now)
    # The general path: the views read without a LiveContext, rows decoded.
    views = engine._partition_views(
        engine._table("ks", "t"), token(b"k"), b"k", ALL_SLICES, reverse, None
    )
    expected = read_partition(
        views, reverse=reverse, limit=limit, columns=columns, now=now, trace=None
    )
    for _ in range(3):  # a row-cache table misses, fills, then hits
        result = engine.read("ks", "t", b"k", reverse=reverse, limit=limit, columns=columns)
        assert (result is None) == (expected is None)
        if result is None:
            continue
        assert [r.clustering for r in result.rows] == [r.clustering for r in expected.rows]
        for name in ("v", "w", "name", "tags", "absent"):
            assert column_values(result.rows, name) == from_cells(expected.rows, name), name
        assert [(r.cells, r.complex_cells, r.liveness) for r in result.rows] == [
            (r.cells, r.complex_cells, r.liveness) for r in expected.rows
        ]
    engine.close()


def test_memtable_rows_come_as_lazy_rows_when_nothing_else_is_in_sight():
    engine = StorageEngine.open(None, clock=Clock(), background=False, auto_compaction=False)
    setup(engine)
    for i, ck in enumerate(_CKS):
        update = RowUpdate(ck, LivenessInfo(10 + i), cells={"v": Cell(b"%d" % i, 10 + i)})
        engine.apply(Mutation("ks", "t", b"k", rows=[update]))
    rows = engine.read("ks", "t", b"k", limit=4).rows
    assert [type(r) for r in rows] == [LazyRow] * 4
    assert column_values(rows, "v") == [b"0", b"1", b"2", b"3"]
    assert all(r._cells is None for r in rows)
    # Rows with an older version in an SSTable are merged instead.
    engine.flush()
    engine.apply(Mutation("ks", "t", b"k", rows=[RowUpdate(b"a", cells={"v": Cell(b"new", 99)})]))
    rows = engine.read("ks", "t", b"k", limit=2).rows
    assert type(rows[0]) is Row
    assert column_values(rows, "v") == [b"new", b"1"]
    engine.close()
