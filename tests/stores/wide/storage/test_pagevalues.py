"""Values read by row shape: what a read's rows give, or nothing (never something else)."""

import struct

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stores.wide.storage import (
    Bound,
    CorruptionError,
    InvalidRequest,
    Slice,
    StorageEngine,
    pagevalues,
)
from stores.wide.storage.cells import Cell, DeletionTime, LivenessInfo
from stores.wide.storage.codec import decode_row, encode_row
from stores.wide.storage.merge import live_row
from stores.wide.storage.mutation import Mutation, RowUpdate
from stores.wide.storage.pagevalues import page_values, value_tuples

from .engine_support import Clock, delete_row, put, setup, static
from .strategies import cells, deletions, livenesses

NAMES = ("a", "b", "col", "absent")


@pytest.fixture(autouse=True)
def no_shapes():
    """Start and end every test with no learnt shape (they are process-wide)."""
    forget()
    yield
    forget()


def forget() -> None:
    pagevalues._SHAPES.clear()
    pagevalues._SEEN.clear()


def block(updates: list[RowUpdate]) -> tuple[bytes, tuple[int, ...]]:
    """Return a row block of ``updates`` as the SSTable writer lays it out, and its offsets."""
    encoded = []
    for update in updates:
        out: list = []
        encode_row(update, out)
        encoded.append(b"".join(out))
    offsets = []
    position = 4 + 4 * len(encoded)
    for row in encoded:
        offsets.append(position)
        position += len(row)
    payload = struct.pack(f">I{len(encoded)}I", len(encoded), *offsets) + b"".join(encoded)
    return payload, (*offsets, len(payload))


def general(payload, offsets, start, stop, reverse, names, now) -> list[tuple]:
    """Return what a read's rows give for rows ``start:stop`` at ``now`` (the general path)."""
    rows = []
    for index in range(start, stop):
        row = live_row(decode_row(payload, offsets[index])[0], None, now, frozenset(names))
        if row is not None:
            rows.append(row)
    if reverse:
        rows.reverse()
    return value_tuples(rows, names)


def learnt(payload, offsets, start, stop, names):
    """Return ``page_values`` once every layout in the run had its chance to be learnt."""
    for _ in range(3 * max(1, stop - start)):
        got = page_values(payload, offsets, start, stop, False, names)
        if got is not None:
            return got
    return None


def plain_row(clustering: bytes, ts: int, a: bytes, b: bytes | None = None) -> RowUpdate:
    cells_ = {"a": Cell(a, ts)}
    if b is not None:
        cells_["b"] = Cell(b, ts + 1)
    return RowUpdate(clustering, LivenessInfo(ts), cells=cells_)


any_rows = st.builds(
    RowUpdate,
    st.binary(min_size=1, max_size=3),
    st.none() | livenesses,
    st.none() | deletions,
    st.dictionaries(st.sampled_from(["a", "b", "col"]), cells(), max_size=3),
)
# The common row: a marker without TTL and plain cells, values of two lengths.
plain_rows = st.builds(
    RowUpdate,
    st.binary(min_size=2, max_size=2),
    st.builds(LivenessInfo, st.integers(0, 2**40)),
    st.none(),
    st.dictionaries(
        st.sampled_from(["a", "b", "col"]),
        st.builds(Cell, st.sampled_from([b"xy", b"zw", b"xyz"]), st.integers(0, 2**40)),
        max_size=3,
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(any_rows | plain_rows, min_size=1, max_size=12),
    st.integers(0, 2**33),
    st.data(),
)
def test_a_page_gives_what_the_rows_give_or_nothing(updates, now, data):
    updates = sorted({u.clustering: u for u in updates}.values(), key=lambda u: u.clustering)
    payload, offsets = block(updates)
    start = data.draw(st.integers(0, len(updates)))
    stop = data.draw(st.integers(start, len(updates)))
    names = tuple(data.draw(st.lists(st.sampled_from(NAMES), max_size=4)))
    reverse = data.draw(st.booleans())
    for _ in range(3):  # the first sightings learn the layouts
        got = page_values(payload, offsets, start, stop, reverse, names)
        if got is not None:
            # Every row of a page is live at any time.
            assert got == general(payload, offsets, start, stop, reverse, names, now)
            assert got == general(payload, offsets, start, stop, reverse, names, 2**62)


@settings(max_examples=100, deadline=None)
@example(
    [
        RowUpdate(
            b"%02d" % i,
            LivenessInfo(0),
            cells={n: Cell(b"xyz" if n == big else b"xy", 0) for n in order},
        )
        for i, (order, big) in enumerate(
            [
                (("a", "b", "col"), "b"),
                (("a", "col", "b"), "b"),
                (("a", "b", "col"), "a"),
                (("a", "col", "b"), "col"),
                (("a", "b", "col"), "col"),
            ]
        )
    ],
    [],
)  # five layouts of one length, more than are kept (CI, 2026-11-27)
@given(st.lists(plain_rows, min_size=1, max_size=12), st.lists(st.sampled_from(NAMES), max_size=4))
def test_plain_rows_are_read_by_their_shape(updates, names):
    forget()  # each example learns its own layouts (at most a few per length are kept)
    updates = sorted({u.clustering: u for u in updates}.values(), key=lambda u: u.clustering)
    payload, offsets = block(updates)
    names = tuple(names)
    got = learnt(payload, offsets, 0, len(updates), names)
    expected = general(payload, offsets, 0, len(updates), False, names, 0)
    layouts: dict[int, set] = {}
    for index, update in enumerate(updates):
        layout = tuple((name, len(cell.value)) for name, cell in update.cells.items())
        layouts.setdefault(offsets[index + 1] - offsets[index], set()).add(layout)
    if max(map(len, layouts.values())) <= pagevalues._SHAPES_PER_LENGTH:
        # Every length has room for all its layouts, so each one is learnt.
        assert got == expected
    else:
        # Cells keep their write order, so more layouts can share a length
        # than are kept: such a run is read the ordinary way.
        assert got is None or got == expected


def test_a_run_of_one_layout_is_one_unpack_and_values_come_in_read_order():
    updates = [plain_row(b"%02d" % i, 100 + i, b"v%03d" % i, b"w%d" % (i % 10)) for i in range(20)]
    payload, offsets = block(updates)
    names = ("b", "a", "absent")
    expected = [(b"%02d" % i, b"w%d" % (i % 10), b"v%03d" % i, None) for i in range(20)]
    assert page_values(payload, offsets, 0, 20, False, names) is None  # first sighting
    assert page_values(payload, offsets, 0, 20, False, names) == expected
    (shape,) = pagevalues._SHAPES[offsets[1] - offsets[0]]
    assert set(shape._pages) == {20}
    assert page_values(payload, offsets, 3, 9, True, names) == expected[3:9][::-1]
    assert page_values(payload, offsets, 5, 5, False, names) == []


@pytest.mark.parametrize(
    "odd",
    [
        # Same byte length as the plain rows, another layout each.
        RowUpdate(b"07", LivenessInfo(107), cells={"a": Cell(b"v00", 107), "b": Cell(b"ww", 108)}),
        RowUpdate(b"07", LivenessInfo(107, 60, 500), cells={"a": Cell(b"v007", 107)}),
        RowUpdate(b"07", LivenessInfo(107), cells={"a": Cell(b"v007", 107, 60, 500)}),
        RowUpdate(b"07", LivenessInfo(107), cells={"a": Cell(None, 107, 0, 500)}),
        RowUpdate(b"07", None, cells={"a": Cell(b"v007", 107), "b": Cell(b"w7", 108)}),
        RowUpdate(b"07", LivenessInfo(107), DeletionTime(106, 9), cells={"a": Cell(b"v", 107)}),
        RowUpdate(b"07", LivenessInfo(107), cells={"c": Cell(b"v007", 107), "b": Cell(b"w7", 1)}),
    ],
)
def test_a_row_of_another_layout_sends_the_run_to_the_general_path(odd):
    updates = [plain_row(b"%02d" % i, 100 + i, b"v%03d" % i, b"w%d" % (i % 10)) for i in range(10)]
    payload, offsets = block(updates)
    learnt(payload, offsets, 0, 10, ("a", "b"))
    updates[7] = odd
    payload, offsets = block(updates)
    got = page_values(payload, offsets, 0, 10, False, ("a", "b"))
    if got is not None:  # only if the odd row is plain too, and its layout learnt
        assert got == general(payload, offsets, 0, 10, False, ("a", "b"), 10**12)
    assert page_values(payload, offsets, 0, 7, False, ("a", "b")) is not None


def test_a_marker_with_a_ttl_is_never_read_by_shape():
    # Rows with no cells: only the marker keeps them live.
    updates = [RowUpdate(b"%02d" % i, LivenessInfo(100 + i)) for i in range(6)]
    payload, offsets = block(updates)
    assert learnt(payload, offsets, 0, 6, ("a",)) == [(b"%02d" % i, None) for i in range(6)]
    updates[2] = RowUpdate(b"02", LivenessInfo(102, 60, 500))  # expired at 500
    payload, offsets = block(updates)
    for _ in range(3):
        assert page_values(payload, offsets, 0, 6, False, ("a",)) is None
    assert general(payload, offsets, 0, 6, False, ("a",), 1000)[2:3] == [(b"03", None)]


def test_rows_of_many_lengths_are_read_run_by_run():
    updates = [plain_row(b"%02d" % i, i, b"x" * (i % 3 + 1)) for i in range(12)]
    payload, offsets = block(updates)
    expected = general(payload, offsets, 0, 12, False, ("a",), 0)
    assert learnt(payload, offsets, 0, 12, ("a",)) == expected
    assert len(pagevalues._SHAPES) == 3


def test_value_tuples_reads_rows_cells():
    row = live_row(decode_row(*block([plain_row(b"k", 1, b"x", b"y")])[0:1], 8)[0], None, 5, None)
    assert value_tuples([row], ("b", "a", "absent")) == [(b"k", b"y", b"x", None)]


# -- StorageEngine.read_values ---------------------------------------------------

KEYS = [b"a", b"b"]


def apply_ops(engine, ops, ordered):
    """Apply ``ops``; with ``ordered`` each write's clustering grows with time (a time series)."""
    for step, (kind, key, n, ttl) in enumerate(ops):
        clustering = b"%04d" % (step if ordered else n)
        ts = step + 1
        if kind == "put":
            engine.apply(put(KEYS[key], clustering, b"v%d" % n, ts, ttl=ttl, marker=n % 5 != 0))
        elif kind == "put2":
            cells_ = {"v": Cell(b"%d" % n, ts), "w": Cell(b"w%02d" % n, ts, ttl)}
            update = RowUpdate(clustering, LivenessInfo(ts), cells=cells_)
            engine.apply(Mutation("ks", "t", KEYS[key], rows=[update]))
        elif kind == "delete_w":
            update = RowUpdate(clustering, cells={"w": Cell(None, ts, 0, 1_700_000_000)})
            engine.apply(Mutation("ks", "t", KEYS[key], rows=[update]))
        elif kind == "delete_row":
            if ordered:  # one of the last few writes
                clustering = b"%04d" % max(0, step - 1 - n % 4)
            engine.apply(delete_row(KEYS[key], clustering, ts, now=1_700_000_000))
        elif kind == "static":
            engine.apply(static(KEYS[key], b"s%d" % n, ts))
        else:
            engine.flush()


def op(kind, ttls=(0,)):
    return st.tuples(st.just(kind), st.integers(0, 1), st.integers(0, 40), st.sampled_from(ttls))


ops = st.lists(
    st.one_of(
        op("put", (0, 0, 0, 5, 50)),
        op("put2", (0, 0, 30)),
        op("put2"),
        op("delete_w"),
        op("delete_row"),
        op("static"),
        op("flush"),
        op("flush"),
    ),
    min_size=3,
    max_size=40,
)
reads = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.none() | st.integers(0, 12),
        st.booleans(),
        st.none() | st.tuples(st.integers(0, 60), st.integers(0, 60), st.booleans(), st.booleans()),
        st.sampled_from([("v",), ("w",), ("v", "w"), ("w", "v", "v"), ()]),
        st.sampled_from([0, 3, 40, 100]),
    ),
    min_size=2,
    max_size=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=ops, ordered=st.booleans(), final_flush=st.booleans(), reads=reads, cache=st.booleans())
def test_read_values_gives_what_read_gives(ops, ordered, final_flush, reads, cache):
    clock = Clock()
    engine = StorageEngine.open(None, background=False, auto_compaction=False, clock=clock)
    try:
        if cache:
            setup(engine, caching={"keys": "ALL", "rows_per_partition": "5"})
        else:
            setup(engine)
        apply_ops(engine, ops, ordered)
        if final_flush:  # else the last writes stay in the memtable
            engine.flush()
        start_now = clock.now
        for key, limit, reverse, bounds, names, later in reads:
            clock.now = start_now + later
            slices = None
            if bounds is not None:
                low, high, low_inclusive, high_inclusive = bounds
                slices = [
                    Slice(
                        Bound(b"%04d" % low, low_inclusive),
                        Bound(b"%04d" % high, high_inclusive),
                    )
                ]
            args = ("ks", "t", KEYS[key])
            options = {"slices": slices, "reverse": reverse, "limit": limit}
            for _ in range(3):  # the first sightings learn the layouts
                got = engine.read_values(*args, names, **options)
                result = engine.read(*args, **options, columns=frozenset(names))
                assert got == ([] if result is None else value_tuples(result.rows, names))
    finally:
        engine.close()


def time_series(engine, partitions=3, batches=3, rows=30) -> None:
    """Write rows whose clustering grows with time, a flush after each batch."""
    n = 0
    for _ in range(batches):
        for _ in range(rows):
            for p in range(partitions):
                cells_ = {"v": Cell(b"v%05d" % n, n + 1), "w": Cell(b"w%d" % (n % 7), n + 1)}
                update = RowUpdate(b"%06d" % n, LivenessInfo(n + 1), cells=cells_)
                engine.apply(Mutation("ks", "t", b"p%d" % p, rows=[update]))
                n += 1
        engine.flush()


def test_read_values_of_a_time_series_reads_blocks_by_shape(tmp_path):
    engine = StorageEngine.open(str(tmp_path / "db"), background=False, auto_compaction=False)
    try:
        setup(engine)
        time_series(engine)
        assert engine._table("ks", "t").chain_plan is not None
        names = ("w", "v")
        for limit in (None, 0, 1, 20, 45, 200):
            for reverse in (False, True):
                for _ in range(2):
                    got = engine.read_values("ks", "t", b"p1", names, reverse=reverse, limit=limit)
                    result = engine.read("ks", "t", b"p1", reverse=reverse, limit=limit)
                    assert got == ([] if result is None else value_tuples(result.rows, names))
        assert len(engine.read_values("ks", "t", b"p1", names)) == 90
        assert pagevalues._SHAPES  # the rows were read by their shape
        assert engine.read_values("ks", "t", b"nobody", names) == []
        # A memtable holding the partition: the general path, its rows included.
        engine.apply(put(b"p1", b"999999", b"new", 10**6))
        got = engine.read_values("ks", "t", b"p1", ("v",), limit=1, reverse=True)
        assert got == [(b"999999", b"new")]
    finally:
        engine.close()


@pytest.mark.parametrize("name", ["tags", "name", "user", "at", "nope"])
def test_read_values_reads_only_simple_regular_columns(name):
    engine = StorageEngine.open(None, background=False)
    try:
        setup(engine)
        with pytest.raises(InvalidRequest):
            engine.read_values("ks", "t", b"u", ("v", name))
        with pytest.raises(InvalidRequest):
            engine.read_values("ks", "t", b"u", ("v",), limit=-1)
        with pytest.raises(InvalidRequest):
            engine.read_values("ks", "nope", b"u", ("v",))
    finally:
        engine.close()


def test_a_flipped_byte_in_a_data_block_is_reported_not_read(tmp_path):
    engine = StorageEngine.open(str(tmp_path / "db"), background=False, auto_compaction=False)
    setup(engine)
    time_series(engine, partitions=1, batches=1, rows=40)
    (reader,) = engine._table("ks", "t").sstables
    path = reader.data_path
    engine.close()
    with open(path, "r+b") as f:
        f.seek(200)  # inside the first row block
        byte = f.read(1)
        f.seek(200)
        f.write(bytes((byte[0] ^ 0x40,)))
    engine = StorageEngine.open(str(tmp_path / "db"), background=False, auto_compaction=False)
    try:
        with pytest.raises(CorruptionError) as caught:
            engine.read_values("ks", "t", b"p0", ("v",))
        assert "Data.db" in str(caught.value)
    finally:
        engine.close()


def test_read_values_uses_the_row_cache_as_read_does(tmp_path):
    stats = []
    for how in ("read", "read_values"):
        engine = StorageEngine.open(str(tmp_path / how), background=False, auto_compaction=False)
        try:
            setup(engine, caching={"keys": "ALL", "rows_per_partition": "10"})
            time_series(engine, partitions=2, batches=2, rows=15)
            for _ in range(4):
                for key in (b"p0", b"p1", b"p0"):
                    if how == "read":
                        engine.read("ks", "t", key, limit=5, columns={"v"})
                    else:
                        engine.read_values("ks", "t", key, ("v",), limit=5)
            table = engine.table_stats("ks", "t")
            stats.append((table["row_cache_hits"], table["row_cache_misses"]))
        finally:
            engine.close()
    assert stats[0] == stats[1]
    assert stats[0][0] > 0  # hits: the cache answered read_values too
