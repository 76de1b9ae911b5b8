"""The chain plan: reads that chain SSTables return exactly what the merged read does."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stores.wide.storage import Bound, ReadTrace, Slice, StorageEngine
from stores.wide.storage.chainplan import chain_plan
from stores.wide.storage.mutation import slice_range
from stores.wide.storage.sstable_reader import SSTableReader

from .engine_support import Clock, delete_partition, delete_row, put, setup, static

KEYS = [b"a", b"b"]


def plan_of(engine):
    return engine._table("ks", "t").chain_plan


def rows_of(result):
    """Return a read's result as plain data (LazyRows and Rows alike)."""
    if result is None:
        return None
    return (
        result.partition_key,
        result.token,
        result.static_row,
        [
            (
                r.clustering,
                dict(r.cells),
                {name: list(cells) for name, cells in r.complex_cells.items()},
                r.liveness,
            )
            for r in result.rows
        ],
    )


def apply_ops(engine, ops, ordered):
    """Apply ``ops``; with ``ordered`` each write's clustering grows with time (a time series)."""
    for step, op in enumerate(ops):
        kind, key, n, ttl = op
        clustering = b"%04d" % (step if ordered else n)
        ts = step + 1
        if kind == "put":
            engine.apply(put(KEYS[key], clustering, b"v%d" % n, ts, ttl=ttl, marker=n % 5 != 0))
        elif kind == "delete_row":
            if ordered:  # one of the last few writes
                clustering = b"%04d" % max(0, step - 1 - n % 4)
            engine.apply(delete_row(KEYS[key], clustering, ts, now=1_700_000_000))
        elif kind == "static":
            engine.apply(static(KEYS[key], b"s%d" % n, ts))
        elif kind == "delete_partition":
            engine.apply(delete_partition(KEYS[key], ts, now=1_700_000_000))
        else:
            engine.flush()


put_op = st.tuples(
    st.just("put"),
    st.integers(0, 1),
    st.integers(0, 40),
    st.sampled_from([0, 0, 0, 5, 50]),
)
flush_op = st.tuples(st.just("flush"), st.just(0), st.just(0), st.just(0))
row_ops = st.one_of(
    put_op,
    put_op,
    put_op,
    st.tuples(st.just("delete_row"), st.integers(0, 1), st.integers(0, 40), st.just(0)),
    flush_op,
    flush_op,
)
# A static row or a partition deletion anywhere leaves the table without a plan.
partition_ops = st.one_of(
    row_ops,
    st.tuples(
        st.sampled_from(["static", "delete_partition"]),
        st.integers(0, 1),
        st.integers(0, 40),
        st.just(0),
    ),
)

read = st.tuples(
    st.integers(0, 1),
    st.one_of(st.none(), st.integers(0, 12)),
    st.booleans(),
    st.one_of(
        st.none(),
        st.tuples(st.integers(0, 60), st.integers(0, 60), st.booleans(), st.booleans()),
    ),
    st.sampled_from([None, None, {"v"}, {"w"}]),
    st.sampled_from([0, 3, 30, 100]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(row_ops, min_size=4, max_size=40)
    | st.lists(partition_ops, min_size=4, max_size=40),
    ordered=st.booleans(),
    final_flush=st.booleans(),
    reads=st.lists(read, min_size=3, max_size=20),
)
def test_reads_with_and_without_the_chain_plan_agree(ops, ordered, final_flush, reads):
    clock = Clock()
    engine = StorageEngine.open(None, background=False, auto_compaction=False, clock=clock)
    try:
        setup(engine)
        apply_ops(engine, ops, ordered)
        if final_flush:  # else the last writes stay in the memtable
            engine.flush()
        start_now = clock.now
        for key, limit, reverse, bounds, columns, later in reads:
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
            options = {"slices": slices, "reverse": reverse, "limit": limit, "columns": columns}
            fast = engine.read(*args, **options)
            # A trace always takes the merged path (it reports every source).
            merged = engine.read(*args, **options, trace=ReadTrace())
            assert rows_of(fast) == rows_of(merged)
    finally:
        engine.close()


def test_time_series_sstables_get_a_plan_and_limit_reads_stop_in_the_newest(tmp_path):
    engine = StorageEngine.open(str(tmp_path / "db"), background=False, auto_compaction=False)
    try:
        setup(engine)
        for batch in range(3):
            for i in range(10):
                n = batch * 10 + i
                engine.apply(put(b"u", b"%03d" % n, b"v%d" % n, n + 1))
            engine.flush()
        plan = plan_of(engine)
        assert plan is not None and len(plan.forward) == 3
        assert [r for _, _, r in plan.reverse] == [r for _, _, r in plan.forward][::-1]
        result = engine.read("ks", "t", b"u", limit=5)
        assert [r.clustering for r in result.rows] == [b"%03d" % i for i in range(5)]
        result = engine.read("ks", "t", b"u", limit=12, reverse=True)
        assert [r.clustering for r in result.rows] == [b"%03d" % i for i in range(29, 17, -1)]
        # A memtable holding the partition sends the read to the merge.
        engine.apply(put(b"u", b"%03d" % 5, b"new", 100))
        result = engine.read("ks", "t", b"u", limit=6)
        assert result.rows[5].cells["v"].value == b"new"
    finally:
        engine.close()


def test_overlapping_sstables_or_partition_level_data_get_no_plan(tmp_path):
    engine = StorageEngine.open(str(tmp_path / "db"), background=False, auto_compaction=False)
    try:
        setup(engine)
        engine.apply(put(b"u", b"001", b"x", 1))
        engine.apply(put(b"u", b"005", b"x", 2))
        engine.flush()
        assert plan_of(engine) is not None
        engine.apply(put(b"u", b"003", b"y", 3))
        engine.flush()
        assert plan_of(engine) is None  # 001..005 and 003 meet
        engine.compact("ks", "t")
        assert plan_of(engine) is not None
        engine.apply(put(b"u", b"009", b"z", 4))
        engine.apply(static(b"v", b"s", 5))
        engine.flush()
        assert plan_of(engine) is None  # a static row is partition-level data
        result = engine.read("ks", "t", b"u", limit=2, reverse=True)
        assert [r.clustering for r in result.rows] == [b"009", b"005"]
    finally:
        engine.close()


class _Bounds:
    """What chain_plan and may_intersect read of an SSTable: its token and clustering bounds."""

    has_partition_level_data = False
    may_intersect = SSTableReader.may_intersect

    def __init__(self, low: bytes, high: bytes) -> None:
        self.min_token, self.max_token = -(2**63), 2**63 - 1
        self.min_clustering, self.max_clustering = low, high


keys = st.binary(max_size=3).map(lambda b: b or b"\x00") | st.sampled_from([b"\xff", b"\xff\xff"])
bounds = st.none() | st.builds(Bound, st.binary(max_size=3) | st.just(b"\xff"), st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(keys, min_size=2, max_size=16, unique=True), bounds, bounds, st.booleans())
def test_the_sstables_a_slice_meets_are_found_by_binary_search(edges, start, end, reverse):
    edges.sort()
    # Disjoint clustering ranges, as the plan requires: [e0, e1], [e2, e3], ...
    readers = [_Bounds(edges[i], edges[i + 1]) for i in range(0, len(edges) - 1, 2)]
    plan = chain_plan(readers)
    sl = Slice(start, end)
    order, check = plan.order([sl], reverse)
    walk = plan.reverse if reverse else plan.forward
    assert not check
    low, high = slice_range(sl)
    if low is not None and high is not None and low >= high:
        assert order == ()  # an empty slice meets nothing (may_intersect cannot tell)
    else:
        assert [r for _, _, r in order] == [r for _, _, r in walk if r.may_intersect([sl])]
    # Several slices: every SSTable, each still to be checked.
    assert plan.order([sl, sl], reverse) == (walk, True)
