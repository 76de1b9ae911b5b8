"""The row cache: what it answers, that every write path invalidates it, its bound.

The state machine at the end runs the same random writes, deletions, TTLs,
flushes, compactions, truncates and option changes on an engine with a row
cache and on a twin without one, and holds every read of the first equal to
the second's.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from stores.wide.storage import (
    STATIC,
    Bound,
    Cell,
    DeletionTime,
    InvalidRequest,
    LivenessInfo,
    Mutation,
    RangeTombstone,
    ReadTrace,
    RowUpdate,
    Slice,
    StorageEngine,
)
from stores.wide.storage.fs import MemoryFileSystem
from stores.wide.storage.read import Row
from stores.wide.storage.rowcache import (
    MISS,
    RowCache,
    _ends_by,
    answer,
    build_entry,
    is_head_read,
)
from stores.wide.storage.rowvalues import column_values

from .engine_support import Clock, delete_partition, delete_row, history_schema, put, static

CACHING = {"keys": "ALL", "rows_per_partition": "3"}


def ck(i: int) -> bytes:
    return b"c%02d" % i


def open_engine(clock: Clock | None = None, *, sync: str = "periodic", **options):
    engine = StorageEngine.open(
        "/db",
        fs=MemoryFileSystem(),
        clock=clock or Clock(),
        background=False,
        commitlog_sync=sync,
        **options,
    )
    engine.create_keyspace("ks", {})
    engine.create_table(history_schema(caching=dict(CACHING)))
    return engine


def shape(result):
    """Return a read result as plain data (a LazyRow and a Row compare equal here)."""
    if result is None:
        return None

    def row(r):
        if r is None:
            return None
        # Before ``cells``: a LazyRow answers from its bytes, undecoded.
        values = [column_values([r], name) for name in ("v", "w", "name", "tags")]
        cells = {
            n: (c.value, c.timestamp, c.ttl, c.local_deletion_time) for n, c in r.cells.items()
        }
        complex_cells = {
            n: [(p, c.value, c.timestamp) for p, c in elements]
            for n, elements in r.complex_cells.items()
        }
        liveness = r.liveness
        marker = None if liveness is None else (liveness.timestamp, liveness.ttl)
        assert values == [
            [None if (c := r.cells.get(name)) is None else c.value]
            for name in ("v", "w", "name", "tags")
        ]
        return (r.clustering, cells, complex_cells, marker, values)

    return (
        result.partition_key,
        result.token,
        row(result.static_row),
        [row(r) for r in result.rows],
    )


def head(engine, key=b"u", limit=3, **kwargs):
    return engine.read("ks", "t", key, limit=limit, **kwargs)


def warm(engine, key=b"u", limit=3):
    """Read a partition's head twice: a partition is cached on its second miss."""
    head(engine, key=key, limit=limit)
    return head(engine, key=key, limit=limit)


def clusterings(result) -> list[bytes]:
    return [r.clustering for r in result.rows] if result is not None else []


# -- answering from an entry -----------------------------------------------------


def entry_of(keys: list[bytes], complete: bool, rows_per_partition: int = 3):
    from stores.wide.storage.read import PartitionResult

    rows = [Row(k, {"v": Cell(k, 1)}, {}, LivenessInfo(1)) for k in keys]
    if not complete:
        rows.append(Row(b"\xff", {}, {}, LivenessInfo(1)))
    return build_entry(PartitionResult(b"u", 7, None, rows), rows_per_partition, now=100)


def test_head_of_a_partition_is_answered_up_to_the_cached_rows():
    entry = entry_of([b"a", b"b", b"c"], complete=False)
    assert not entry.complete
    assert clusterings(answer(entry, b"u", None, False, 2, None)) == [b"a", b"b"]
    assert clusterings(answer(entry, b"u", None, False, 3, None)) == [b"a", b"b", b"c"]
    assert answer(entry, b"u", None, False, 4, None) is MISS
    assert answer(entry, b"u", None, False, None, None) is MISS
    assert answer(entry, b"u", None, True, 1, None) is MISS


def test_a_complete_entry_answers_any_direction_and_limit():
    entry = entry_of([b"a", b"b"], complete=True)
    assert entry.complete
    assert clusterings(answer(entry, b"u", None, True, None, None)) == [b"b", b"a"]
    assert clusterings(answer(entry, b"u", None, True, 1, None)) == [b"b"]
    assert clusterings(answer(entry, b"u", None, False, 10, None)) == [b"a", b"b"]
    sl = [Slice(Bound(b"b", True), None)]
    assert clusterings(answer(entry, b"u", sl, True, None, None)) == [b"b"]
    assert answer(entry, b"u", [Slice(Bound(b"x", True), None)], False, None, None) is None


def test_slices_inside_the_cached_range_are_answered():
    entry = entry_of([b"a", b"b", b"c"], complete=False)
    point = [Slice(Bound(b"b", True), Bound(b"b", True))]
    assert clusterings(answer(entry, b"u", point, False, None, None)) == [b"b"]
    absent = [Slice(Bound(b"bb", True), Bound(b"bb", True))]
    assert answer(entry, b"u", absent, False, None, None) is None
    # Reaching past the last cached key: rows may exist that the cache lacks.
    assert answer(entry, b"u", [Slice(Bound(b"b", True), None)], False, None, None) is MISS
    assert clusterings(answer(entry, b"u", [Slice(Bound(b"b", True), None)], False, 2, None)) == [
        b"b",
        b"c",
    ]
    # An end bound whose prefix the last cached key starts with reaches past it.
    entry = entry_of([b"a", b"b1", b"b2"], complete=False)
    assert answer(entry, b"u", [Slice(None, Bound(b"b", True))], False, None, None) is MISS
    assert clusterings(
        answer(entry, b"u", [Slice(None, Bound(b"b", False))], False, None, None)
    ) == [b"a"]
    exclusive = [Slice(Bound(b"a", False), Bound(b"b2", False))]
    assert clusterings(answer(entry, b"u", exclusive, False, None, None)) == [b"b1"]
    # b"b2\x00" would be selected by an inclusive end at the last cached key.
    last = [Slice(Bound(b"b2", True), Bound(b"b2", True))]
    assert answer(entry, b"u", last, False, None, None) is MISS
    two = [Slice(None, Bound(b"a", True)), Slice(Bound(b"b1", True), Bound(b"b1", True))]
    assert clusterings(answer(entry, b"u", two, False, None, None)) == [b"a", b"b1"]


def test_ends_by_follows_the_bound_table():
    assert _ends_by(None, b"z") is False
    assert _ends_by(Bound(b"b", True), b"c") is True
    assert _ends_by(Bound(b"b", True), b"b") is False  # b\x00 > b is still <= end
    assert _ends_by(Bound(b"b", True), b"b1") is False  # b2 still starts with b
    assert _ends_by(Bound(b"b", False), b"b") is True
    assert _ends_by(Bound(b"b", False), b"a9") is False


def test_columns_project_cells_but_rows_stay():
    entry = entry_of([b"a"], complete=True)
    result = answer(entry, b"u", None, False, None, frozenset({"w"}))
    assert [(r.clustering, r.cells) for r in result.rows] == [(b"a", {})]


def test_hits_hand_out_copies():
    entry = entry_of([b"a"], complete=True)
    first = answer(entry, b"u", None, False, None, None)
    first.rows[0].cells["v"] = Cell(b"changed", 9)
    first.rows[0].cells = {}
    again = answer(entry, b"u", None, False, None, None)
    assert again.rows[0].cells["v"].value == b"a"


def test_head_reads_are_forward_from_the_first_row():
    assert is_head_read(None, False)
    assert is_head_read([Slice(None, Bound(b"x", True))], False)
    assert not is_head_read(None, True)
    assert not is_head_read([Slice(Bound(b"a", True), None)], False)
    assert not is_head_read([], False)


# -- the cache itself ------------------------------------------------------------


def test_cache_is_bounded_in_bytes_and_evicts_least_recent():
    cache = RowCache(20_000)
    entries = {}
    for i in range(200):
        key = ("t", 1, b"k%d" % i)
        placeholder = cache.begin_fill(key)
        entries[key] = entry_of([b"a", b"b"], complete=True)
        assert cache.finish_fill(key, placeholder, entries[key])
        assert cache.size <= cache.capacity
    assert 0 < len(cache) < 200
    assert cache.evictions == 200 - len(cache)
    assert cache.get(("t", 1, b"k199")) is not None
    assert cache.get(("t", 1, b"k0")) is None
    assert cache.size == sum(e.size for k, e in entries.items() if cache.get(k) is not None)


def test_an_entry_larger_than_a_quarter_of_the_cache_is_not_kept():
    cache = RowCache(1000)
    placeholder = cache.begin_fill("k")
    assert not cache.finish_fill("k", placeholder, entry_of([b"a" * 300], complete=True))
    assert len(cache) == 0 and cache.size == 0


def test_a_write_during_a_fill_discards_the_fill():
    cache = RowCache(1 << 20)
    placeholder = cache.begin_fill("k")
    assert cache.get("k") is None
    cache.invalidate("k")
    assert not cache.finish_fill("k", placeholder, entry_of([b"a"], complete=True))
    assert cache.get("k") is None


def test_invalidate_table_forgets_only_that_table():
    cache = RowCache(1 << 20)
    for key in (("t1", 1, b"a"), ("t1", 1, b"b"), ("t2", 1, b"a")):
        cache.finish_fill(key, cache.begin_fill(key), entry_of([b"a"], complete=True))
    cache.invalidate_table("t1")
    assert cache.get(("t1", 1, b"a")) is None and cache.get(("t2", 1, b"a")) is not None
    assert cache.size == cache.get(("t2", 1, b"a")).size


# -- through the engine ----------------------------------------------------------


def fill_partition(engine, rows: int, key: bytes = b"u", ts: int = 10, ttl: int = 0) -> None:
    for i in range(rows):
        engine.apply(put(key, ck(i), b"v%d" % i, ts, ttl=ttl))


def test_second_head_read_is_a_hit_and_the_trace_says_so():
    engine = open_engine()
    fill_partition(engine, 10)
    engine.flush()
    trace = ReadTrace()
    head(engine, trace=trace)
    assert trace.summary()["row_cache"] == "miss, first touch"
    trace = ReadTrace()
    first = head(engine, trace=trace)
    assert trace.summary()["row_cache"] == "miss, filled"
    assert trace.sstables_consulted
    trace = ReadTrace()
    second = head(engine, trace=trace)
    summary = trace.summary()
    assert summary["row_cache"] == "hit"
    assert summary["sstables_consulted"] == [] and summary["memtables_consulted"] == 0
    assert summary["live_rows"] == 3
    assert shape(first) == shape(second)
    assert clusterings(second) == [ck(0), ck(1), ck(2)]
    stats = engine.row_cache_stats()
    assert stats["enabled"] and stats["hits"] == 1 and stats["misses"] == 2
    assert stats["entries"] == 1 and stats["size"] > 0
    table = engine.table_stats("ks", "t")
    assert table["row_cache_hits"] == 1 and table["row_cache_misses"] == 2
    assert table["caching"] == CACHING


def test_a_read_past_the_cached_rows_goes_to_the_sources():
    engine = open_engine()
    fill_partition(engine, 10)
    warm(engine)
    trace = ReadTrace()
    assert len(head(engine, limit=5, trace=trace).rows) == 5
    assert trace.row_cache == "miss, read not covered by the cached rows"
    assert trace.sstables_consulted or trace.memtables_consulted
    assert len(engine.read("ks", "t", b"u").rows) == 10
    assert clusterings(engine.read("ks", "t", b"u", reverse=True, limit=2)) == [ck(9), ck(8)]


def test_tables_without_rows_per_partition_do_not_use_the_cache():
    engine = open_engine()
    engine.alter_table(replace(engine.table("ks", "t"), options=history_schema().options))
    fill_partition(engine, 4)
    trace = ReadTrace()
    head(engine, trace=trace)
    head(engine, trace=trace)
    assert trace.row_cache is None
    assert engine.row_cache_stats()["hits"] == 0 and engine.row_cache_stats()["misses"] == 0


def test_row_cache_size_zero_turns_it_off():
    engine = open_engine(row_cache_size=0)
    fill_partition(engine, 4)
    assert shape(head(engine)) == shape(head(engine))
    assert engine.row_cache_stats() == {"enabled": False}
    with pytest.raises(InvalidRequest):
        StorageEngine.open(None, row_cache_size=-1)


def writes(key: bytes):
    """Every kind of write that changes the first row of ``key``'s cached head."""
    return {
        "insert": [put(key, ck(0), b"new", 20)],
        "insert before the head": [put(key, b"a", b"first", 20)],
        "row deletion": [delete_row(key, ck(0), 20)],
        "range tombstone": [
            Mutation(
                "ks",
                "t",
                key,
                range_tombstones=[
                    RangeTombstone(Bound(ck(0), True), Bound(ck(1), True), DeletionTime(20, 0))
                ],
            )
        ],
        "partition deletion": [delete_partition(key, 20)],
        "static": [static(key, b"title", 20)],
        "cell tombstone": [
            Mutation("ks", "t", key, rows=[RowUpdate(ck(0), cells={"v": Cell(None, 20)})])
        ],
        "collection element": [
            Mutation(
                "ks",
                "t",
                key,
                rows=[RowUpdate(ck(0), complex_cells={"tags": {b"x": Cell(b"1", 20)}})],
            )
        ],
        "ttl": [put(key, ck(0), b"brief", 20, ttl=5)],
    }


@pytest.mark.parametrize("kind", list(writes(b"u")))
@pytest.mark.parametrize("path", ["apply", "apply_batch", "batch mode", "memory mode"])
def test_every_write_path_invalidates(kind, path):
    clock = Clock()
    if path == "memory mode":
        engine = StorageEngine.open(None, clock=clock, background=False)
        engine.create_keyspace("ks", {})
        engine.create_table(history_schema(caching=dict(CACHING)))
    else:
        engine = open_engine(clock, sync="batch" if path == "batch mode" else "periodic")
    twin = StorageEngine.open(None, clock=clock, background=False)
    twin.create_keyspace("ks", {})
    twin.create_table(history_schema())
    for target in (engine, twin):
        fill_partition(target, 6)
        fill_partition(target, 6, key=b"other")
        target.flush()
    warm(engine)
    warm(engine, key=b"other")
    for mutation in writes(b"u")[kind]:
        if path == "apply_batch":
            engine.apply_batch([mutation, put(b"third", ck(0), b"x", 20)])
            twin.apply_batch([mutation, put(b"third", ck(0), b"x", 20)])
        else:
            engine.apply(mutation)
            twin.apply(mutation)
    for read in (head, lambda e: e.read("ks", "t", b"u"), lambda e: head(e, key=b"other")):
        assert shape(read(engine)) == shape(read(twin))
    clock.advance(10)
    assert shape(head(engine)) == shape(head(twin))
    # The untouched partition stayed cached.
    trace = ReadTrace()
    head(engine, key=b"other", trace=trace)
    assert trace.row_cache == "hit"


@pytest.mark.parametrize("operation", ["truncate", "drop and create", "alter", "flush", "compact"])
def test_table_operations(operation):
    engine = open_engine()
    fill_partition(engine, 6)
    engine.flush()
    fill_partition(engine, 6, ts=11)
    before = shape(warm(engine))
    if operation == "truncate":
        engine.truncate("ks", "t")
        assert head(engine) is None
        fill_partition(engine, 2, ts=30)
        assert len(head(engine).rows) == 2
    elif operation == "drop and create":
        engine.drop_table("ks", "t")
        engine.create_table(history_schema(caching=dict(CACHING)))
        assert head(engine) is None
    elif operation == "alter":
        schema = engine.table("ks", "t")
        options = replace(schema.options, caching={"keys": "ALL", "rows_per_partition": "1"})
        engine.alter_table(replace(schema, options=options))
        assert shape(head(engine)) == before
        trace = ReadTrace()
        assert shape(head(engine, trace=trace)) == before
        assert trace.row_cache == "miss, filled, read not covered by the cached rows"
        trace = ReadTrace()
        assert len(head(engine, limit=1, trace=trace).rows) == 1
        assert trace.row_cache == "hit"
    else:
        getattr(engine, operation)(*(("ks", "t") if operation == "compact" else ()))
        trace = ReadTrace()
        assert shape(head(engine, trace=trace)) == before
        assert trace.row_cache == "hit"


def test_cached_ttl_cells_expire_at_read_time():
    clock = Clock()
    engine = open_engine(clock)
    engine.apply(put(b"u", ck(0), b"short", 10, ttl=5))
    fill_partition(engine, 4, ts=9)
    assert [r.cells["v"].value for r in warm(engine).rows] == [b"short", b"v1", b"v2"]
    assert head(engine) is not None and engine.row_cache_stats()["hits"] == 1
    clock.advance(5)
    # The TTL'd row (its marker too) came first; once it expires the head moves on.
    assert [r.cells["v"].value for r in head(engine).rows] == [b"v1", b"v2", b"v3"]
    assert [r.cells["v"].value for r in head(engine).rows] == [b"v1", b"v2", b"v3"]
    assert engine.row_cache_stats()["hits"] == 2
    # A read "in the past" is not answered from an entry filled later, nor refills it.
    trace = ReadTrace()
    past = head(engine, now=int(clock.now) - 10, trace=trace)
    assert [r.cells["v"].value for r in past.rows] == [b"short", b"v1", b"v2"]
    assert trace.row_cache == "miss, read before the entry's fill"
    assert [r.cells["v"].value for r in head(engine).rows] == [b"v1", b"v2", b"v3"]
    assert engine.row_cache_stats()["hits"] == 3


def test_columns_and_static_rows_through_the_engine():
    engine = open_engine()
    engine.apply(static(b"u", b"title", 5))
    fill_partition(engine, 2)
    engine.apply(
        Mutation(
            "ks", "t", b"u", rows=[RowUpdate(ck(1), complex_cells={"tags": {b"x": Cell(b"1", 12)}})]
        )
    )
    warm(engine)
    for columns in (None, {"v"}, {"tags"}, {"name"}, set()):
        trace = ReadTrace()
        cached = head(engine, columns=columns, trace=trace)
        assert trace.row_cache == "hit"
        direct = engine.read("ks", "t", b"u", limit=3, columns=columns, reverse=True)
        assert shape(cached)[2] == shape(direct)[2]
        assert shape(cached)[3] == list(reversed(shape(direct)[3]))
    assert head(engine, slices=[]).rows == [] and head(engine, slices=[]).static_row is not None


def test_a_partition_is_cached_on_its_second_miss():
    engine = open_engine()
    for p in range(3):
        fill_partition(engine, 4, key=b"p%d" % p)
    traces = []
    for key in (b"p0", b"p1", b"p0", b"p0", b"p1", b"p1"):
        trace = ReadTrace()
        head(engine, key=key, trace=trace)
        traces.append(trace.row_cache)
    assert traces == [
        "miss, first touch",
        "miss, first touch",
        "miss, filled",
        "hit",
        "miss, filled",
        "hit",
    ]
    # A write removes the entry; the next read refills it at once.
    engine.apply(put(b"p0", b"a", b"new", 50))
    trace = ReadTrace()
    assert head(engine, key=b"p0", trace=trace).rows[0].cells["v"].value == b"new"
    assert trace.row_cache == "miss, filled"
    assert engine.row_cache_stats()["fills"] == 3


def test_the_admission_filter_is_bounded(monkeypatch):
    from stores.wide.storage import rowcache

    monkeypatch.setattr(rowcache, "ADMISSION_KEYS", 10)
    cache = RowCache(1 << 20)
    for i in range(100):
        assert not cache.admit(("t", 1, b"%d" % i))
    assert len(cache._seen) == 10
    assert cache.admit(("t", 1, b"99")) and not cache.admit(("t", 1, b"0"))


def test_absent_partitions_are_not_cached():
    engine = open_engine()
    assert head(engine, key=b"nobody") is None
    assert head(engine, key=b"nobody") is None
    assert engine.row_cache_stats()["entries"] == 0


def test_memory_stays_within_the_bound_with_many_partitions():
    engine = open_engine(row_cache_size=64 * 1024)
    for p in range(300):
        key = b"user-%03d" % p
        fill_partition(engine, 4, key=key)
        warm(engine, key=key)
    stats = engine.row_cache_stats()
    assert stats["size"] <= 64 * 1024
    assert stats["evictions"] > 0
    assert 0 < stats["entries"] < 300


def test_a_write_racing_a_fill_never_leaves_a_stale_entry(monkeypatch):
    engine = open_engine()
    fill_partition(engine, 5)
    engine.flush()
    original = engine._partition_views
    done = []

    def views_then_write(*args, **kwargs):
        views = original(*args, **kwargs)
        if not done:
            done.append(True)
            # Another writer lands after the fill read its sources.
            writer = threading.Thread(target=engine.apply, args=(put(b"u", b"a", b"late", 30),))
            writer.start()
            writer.join()
        return views

    head(engine)  # first touch: the next read fills
    monkeypatch.setattr(engine, "_partition_views", views_then_write)
    head(engine)
    assert engine.row_cache_stats()["entries"] == 0
    assert head(engine).rows[0].cells["v"].value == b"late"


def test_concurrent_readers_and_a_writer_see_every_acknowledged_write():
    engine = open_engine()
    fill_partition(engine, 3)
    stop = threading.Event()
    errors = []

    def reader():
        while not stop.is_set():
            result = head(engine, limit=1)
            if result is None or not result.rows:
                errors.append("empty")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(200):
            engine.apply(put(b"u", b"a%04d" % (9999 - i), b"%d" % i, 100 + i))
            got = head(engine, limit=1).rows[0].cells["v"].value
            assert got == b"%d" % i
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors


def test_restart_starts_with_an_empty_cache():
    fs = MemoryFileSystem()
    engine = StorageEngine.open("/db", fs=fs, background=False)
    engine.create_keyspace("ks", {})
    engine.create_table(history_schema(caching=dict(CACHING)))
    fill_partition(engine, 4)
    warm(engine)
    engine.kill()
    engine = StorageEngine.open("/db", fs=fs, background=False)
    assert engine.row_cache_stats()["entries"] == 0
    assert clusterings(head(engine)) == [ck(0), ck(1), ck(2)]
    assert engine.table("ks", "t").options.caching == CACHING


# -- the cached engine against an uncached twin ----------------------------------

PKS = [b"p0", b"p1"]
# b"bb" sorts after b"b" and starts with it (a prefix bound's edge case).
CKS = [b"a", b"b", b"bb", b"c", b"d", b"e"]
bounds = st.none() | st.builds(Bound, st.sampled_from(CKS + [b"b\x00", b"c"]), st.booleans())
slices_st = st.none() | st.lists(st.builds(Slice, bounds, bounds), max_size=2).map(
    lambda ss: sorted(
        (s for s in ss if s.start is None or s.end is None or s.start.prefix <= s.end.prefix),
        key=lambda s: b"" if s.start is None else s.start.prefix,
    )[:1]
)


# Room for a few partitions: the machine sees fills, hits and evictions.
CACHE_SIZE = 24 * 1024


class CachedAgainstUncached(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.ts = 100
        self.cached = open_engine(self.clock, row_cache_size=CACHE_SIZE)
        self.plain = StorageEngine.open(None, clock=self.clock, background=False)
        self.plain.create_keyspace("ks", {})
        self.plain.create_table(history_schema())

    def _apply(self, mutations: list[Mutation]) -> None:
        if len(mutations) == 1:
            self.cached.apply(mutations[0])
        else:
            self.cached.apply_batch(mutations)
        self.plain.apply_batch(mutations)

    def _next_ts(self, jitter: int) -> int:
        self.ts += 1
        return self.ts - jitter

    @rule(
        pk=st.sampled_from(PKS),
        cks=st.lists(st.sampled_from(CKS), min_size=1, max_size=3),
        ttl=st.sampled_from([0, 0, 2, 5]),
        marker=st.booleans(),
        jitter=st.integers(0, 3),
    )
    def write(self, pk, cks, ttl, marker, jitter):
        ts = self._next_ts(jitter)
        self._apply([put(pk, c, b"%s@%d" % (c, ts), ts, ttl=ttl, marker=marker) for c in cks])

    @rule(pk=st.sampled_from(PKS), c=st.sampled_from(CKS), jitter=st.integers(0, 3))
    def delete_row(self, pk, c, jitter):
        self._apply([delete_row(pk, c, self._next_ts(jitter), int(self.clock.now))])

    @rule(pk=st.sampled_from(PKS), c=st.sampled_from(CKS), jitter=st.integers(0, 3))
    def delete_cell(self, pk, c, jitter):
        ts = self._next_ts(jitter)
        self._apply([Mutation("ks", "t", pk, rows=[RowUpdate(c, cells={"v": Cell(None, ts)})])])

    @rule(pk=st.sampled_from(PKS), start=bounds, end=bounds, jitter=st.integers(0, 3))
    def delete_range(self, pk, start, end, jitter):
        deletion = DeletionTime(self._next_ts(jitter), int(self.clock.now))
        self._apply(
            [Mutation("ks", "t", pk, range_tombstones=[RangeTombstone(start, end, deletion)])]
        )

    @rule(pk=st.sampled_from(PKS), jitter=st.integers(0, 3))
    def delete_partition(self, pk, jitter):
        self._apply([delete_partition(pk, self._next_ts(jitter), int(self.clock.now))])

    @rule(pk=st.sampled_from(PKS), jitter=st.integers(0, 3), ttl=st.sampled_from([0, 3]))
    def write_static(self, pk, jitter, ttl):
        ts = self._next_ts(jitter)
        self._apply(
            [
                Mutation(
                    "ks",
                    "t",
                    pk,
                    rows=[RowUpdate(STATIC, cells={"name": Cell(b"n%d" % ts, ts, ttl)})],
                )
            ]
        )

    @rule(pk=st.sampled_from(PKS), c=st.sampled_from(CKS), path=st.sampled_from([b"x", b"y"]))
    def add_element(self, pk, c, path):
        ts = self._next_ts(0)
        self._apply(
            [
                Mutation(
                    "ks",
                    "t",
                    pk,
                    rows=[RowUpdate(c, complex_cells={"tags": {path: Cell(b"1", ts)}})],
                )
            ]
        )

    @rule()
    def flush(self):
        self.cached.flush()
        self.plain.flush()

    @rule()
    def compact(self):
        # Both: compaction turns expired TTL cells into tombstones, which
        # reads "in the past" and timestamp ties can tell apart.
        self.cached.compact("ks", "t")
        self.plain.compact("ks", "t")

    @rule(seconds=st.integers(1, 4))
    def advance_clock(self, seconds):
        self.clock.advance(seconds)

    @rule()
    def truncate(self):
        self.cached.truncate("ks", "t")
        self.plain.truncate("ks", "t")

    @rule(rows=st.sampled_from(["1", "2", "4", "ALL", "NONE"]))
    def alter_caching(self, rows):
        schema = self.cached.table("ks", "t")
        options = replace(schema.options, caching={"keys": "ALL", "rows_per_partition": rows})
        self.cached.alter_table(replace(schema, options=options))

    @rule(
        slices=slices_st,
        reverse=st.booleans(),
        limit=st.none() | st.integers(0, 5),
        columns=st.none() | st.sampled_from([frozenset({"v"}), frozenset({"w", "name"})]),
        past=st.sampled_from([0, 0, 0, 3]),
    )
    def read(self, slices, reverse, limit, columns, past):
        now = int(self.clock.now) - past
        kwargs = dict(slices=slices, reverse=reverse, limit=limit, columns=columns, now=now)
        for pk in PKS:
            expected = shape(self.plain.read("ks", "t", pk, **kwargs))
            # The read twice (it may fill, then hit), then a head read (fills
            # for the next step), each checked against the uncached twin.
            assert shape(self.cached.read("ks", "t", pk, **kwargs)) == expected
            assert shape(self.cached.read("ks", "t", pk, **kwargs)) == expected
            head_expected = shape(self.plain.read("ks", "t", pk, limit=2, now=now))
            assert shape(self.cached.read("ks", "t", pk, limit=2, now=now)) == head_expected

    @invariant()
    def fixed_reads_match(self):
        now = int(self.clock.now)
        shapes = [
            {"limit": 2},
            {},
            {"reverse": True, "limit": 1},
            {"slices": [Slice(Bound(b"b", True), Bound(b"b", True))]},
            {"slices": [Slice(None, Bound(b"b", True))]},
            {"slices": [Slice(None, Bound(b"bb", False))], "limit": 1},
            {"limit": 2, "columns": frozenset({"name"})},
        ]
        for pk in PKS:
            for kwargs in shapes:
                expected = shape(self.plain.read("ks", "t", pk, now=now, **kwargs))
                assert shape(self.cached.read("ks", "t", pk, now=now, **kwargs)) == expected, kwargs

    def teardown(self):
        stats = self.cached.row_cache_stats()
        assert stats["size"] <= CACHE_SIZE
        self.cached.close()
        self.plain.close()


CachedAgainstUncached.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None
)
TestCachedAgainstUncached = CachedAgainstUncached.TestCase


def test_the_machine_reads_through_the_cache():
    machine = CachedAgainstUncached()
    machine.write(b"p0", [b"a", b"b", b"c", b"d"], 0, True, 0)
    machine.read(None, False, 2, None, 0)
    machine.advance_clock(1)
    machine.read([Slice(Bound(b"b", True), Bound(b"b", True))], False, None, None, 0)
    stats = machine.cached.row_cache_stats()
    machine.teardown()
    assert stats["hits"] >= 3 and stats["fills"] >= 1
