"""StorageEngine through its public API, on memory, a memory filesystem and disk."""

import os
import time

import pytest

from stores.wide.storage import (
    AlreadyExists,
    Bound,
    Cell,
    DeletionTime,
    DirectoryLocked,
    EngineClosed,
    InvalidRequest,
    Mutation,
    RangeTombstone,
    ReadTrace,
    RowUpdate,
    Slice,
    StorageEngine,
    TokenBound,
    token,
)
from stores.wide.storage.compaction.policy import CompactionTask
from stores.wide.storage.fs import MemoryFileSystem

from .engine_support import Clock, delete_partition, delete_row, put, setup, static, values


@pytest.fixture(params=["memory", "memfs", "disk"])
def opener(request, tmp_path):
    """Return open(**options) -> engine for one storage mode; reopening reuses the data."""
    fs = MemoryFileSystem()
    engines = []

    def open_engine(**options):
        options.setdefault("background", False)
        if request.param == "memory":
            engine = StorageEngine.open(None, **options)
        elif request.param == "memfs":
            engine = StorageEngine.open("/db", fs=fs, **options)
        else:
            engine = StorageEngine.open(str(tmp_path / "db"), **options)
        engines.append(engine)
        return engine

    open_engine.mode = request.param
    yield open_engine
    for engine in engines:
        engine.close()


def test_write_read_slice_reverse_limit(opener):
    engine = opener()
    setup(engine)
    for i in range(100):
        engine.apply(put(b"u1", b"%03d" % i, b"v%d" % i, ts=i + 1))
    assert len(engine.read("ks", "t", b"u1").rows) == 100
    sl = [Slice(Bound(b"010", True), Bound(b"020", False))]
    got = engine.read("ks", "t", b"u1", slices=sl, reverse=True, limit=3)
    assert [r.clustering for r in got.rows] == [b"019", b"018", b"017"]
    assert engine.read("ks", "t", b"nobody") is None
    row = engine.read("ks", "t", b"u1", limit=1).rows[0]
    assert row.cells["v"] == Cell(b"v0", 1) and row.liveness.timestamp == 1
    assert engine.read("ks", "t", b"u1", limit=1, columns={"w"}).rows[0].cells == {}


def test_flushed_and_unflushed_data_merge(opener):
    engine = opener()
    setup(engine)
    engine.apply(put(b"u", b"a", b"old", 1))
    engine.apply(put(b"u", b"b", b"keep", 1))
    engine.flush()
    engine.apply(put(b"u", b"a", b"new", 2))
    engine.apply(delete_row(b"u", b"b", 2))
    assert values(engine.read("ks", "t", b"u")) == [(b"a", b"new")]
    engine.flush()
    assert values(engine.read("ks", "t", b"u")) == [(b"a", b"new")]
    engine.compact("ks", "t")
    assert values(engine.read("ks", "t", b"u")) == [(b"a", b"new")]
    assert len(engine.sstables("ks", "t")) == 1


def test_static_row_range_tombstone_and_collections(opener):
    engine = opener()
    setup(engine)
    engine.apply(static(b"u", b"Ann", 1))
    for ck in (b"a", b"b", b"c", b"d"):
        engine.apply(put(b"u", ck, ck, 1))
    engine.apply(
        Mutation(
            "ks",
            "t",
            b"u",
            range_tombstones=[
                RangeTombstone(Bound(b"b", True), Bound(b"c", True), DeletionTime(5, 0))
            ],
        )
    )
    engine.flush()
    engine.apply(
        Mutation(
            "ks", "t", b"u", rows=[RowUpdate(b"a", complex_cells={"tags": {b"x": Cell(b"", 3)}})]
        )
    )
    engine.apply(
        Mutation(
            "ks", "t", b"u", rows=[RowUpdate(b"a", complex_cells={"tags": {b"y": Cell(b"", 4)}})]
        )
    )
    result = engine.read("ks", "t", b"u")
    assert result.static_row.cells["name"].value == b"Ann"
    assert [r.clustering for r in result.rows] == [b"a", b"d"]
    assert [p for p, _ in result.rows[0].complex_cells["tags"]] == [b"x", b"y"]
    engine.apply(
        Mutation(
            "ks", "t", b"u", rows=[RowUpdate(b"a", complex_deletions={"tags": DeletionTime(10, 0)})]
        )
    )
    assert "tags" not in engine.read("ks", "t", b"u").rows[0].complex_cells


def test_ttl_expires_with_the_injected_clock_and_compaction_purges(opener):
    clock = Clock()
    engine = opener(clock=clock)
    setup(engine, gc_grace_seconds=0)
    engine.apply(put(b"u", b"a", b"short", 1, ttl=10))
    engine.apply(put(b"u", b"b", b"forever", 1))
    assert len(engine.read("ks", "t", b"u").rows) == 2
    clock.advance(10)
    assert values(engine.read("ks", "t", b"u")) == [(b"b", b"forever")]
    engine.flush()
    assert engine.sstables("ks", "t")[0]["cells"] == 2
    clock.advance(1)
    engine.compact("ks", "t")
    (described,) = engine.sstables("ks", "t")
    assert described["cells"] == 1 and described["tombstones"] == 0
    assert values(engine.read("ks", "t", b"u")) == [(b"b", b"forever")]


def test_tombstone_is_not_purged_while_older_data_survives_elsewhere(opener):
    clock = Clock()
    engine = opener(clock=clock, auto_compaction=False)
    setup(engine, gc_grace_seconds=0)
    engine.apply(put(b"u", b"a", b"old", 1))
    engine.flush()
    engine.apply(delete_partition(b"u", 2))
    engine.flush()
    clock.advance(100)
    older, newer = sorted(s["generation"] for s in engine.sstables("ks", "t"))
    state = engine._table("ks", "t")
    engine._run_compaction(state, CompactionTask((newer,), "test"), int(clock()))
    assert engine.read("ks", "t", b"u") is None
    assert sum(s["tombstones"] for s in engine.sstables("ks", "t")) == 1
    engine.compact("ks", "t")  # both together: now the tombstone and the data go
    assert engine.read("ks", "t", b"u") is None
    assert engine.sstables("ks", "t") == []


def test_trace_reports_skipped_sstables_and_why(opener):
    engine = opener(auto_compaction=False)
    setup(engine)
    engine.apply(put(b"u1", b"m", b"x", 1))
    engine.flush()
    engine.apply(put(b"u2", b"z", b"x", 1))
    engine.flush()
    engine.apply(delete_partition(b"u1", 5))
    engine.flush()
    trace = ReadTrace()
    assert engine.read("ks", "t", b"u1", trace=trace) is None
    reasons = dict(trace.sstables_skipped)
    assert "older than a partition tombstone" in reasons.values()
    assert any(r in ("token range", "bloom filter") for r in reasons.values())
    trace = ReadTrace()
    engine.read("ks", "t", b"u2", slices=[Slice(None, Bound(b"a", True))], trace=trace)
    assert "clustering bounds" in dict(trace.sstables_skipped).values()
    assert trace.summary()["memtables_consulted"] == 1


def test_scan_pages_in_token_order(opener):
    engine = opener(auto_compaction=False)
    setup(engine)
    keys = [b"user-%d" % i for i in range(60)]
    for n, key in enumerate(keys):
        engine.apply(put(key, b"a", b"1", 1))
        engine.apply(put(key, b"b", b"2", 1))
        if n % 20 == 19:
            engine.flush()
    engine.apply(delete_partition(keys[5], 9))
    expected = sorted((token(k), k) for k in keys if k != keys[5])
    seen = []
    cursor = None
    while True:
        page = list(engine.scan("ks", "t", start=cursor, limit=7))
        if not page:
            break
        seen += [(p.token, p.partition_key) for p in page]
        last = page[-1]
        cursor = TokenBound(last.token, last.partition_key, inclusive=False)
    assert seen == expected
    one_each = list(engine.scan("ks", "t", per_partition_limit=1))
    assert all(len(p.rows) == 1 for p in one_each) and len(one_each) == 59
    mid = expected[20][0]
    upper = [p.token for p in engine.scan("ks", "t", start=TokenBound(mid, None, False))]
    assert upper == [t for t, _ in expected if t > mid]
    lower = [p.token for p in engine.scan("ks", "t", end=TokenBound(mid, None, True))]
    assert lower == [t for t, _ in expected if t <= mid]


def test_bad_writes_are_rejected_and_a_batch_is_all_or_nothing(opener):
    engine = opener()
    setup(engine)
    bad = [
        Mutation("ks", "t", b"u", rows=[RowUpdate(b"a", cells={"nope": Cell(b"", 1)})]),
        Mutation("ks", "t", b"u", rows=[RowUpdate(b"a", cells={"name": Cell(b"", 1)})]),
        Mutation("ks", "t", b"u", rows=[RowUpdate(b"a", cells={"tags": Cell(b"", 1)})]),
        Mutation("ks", "t", b"u", rows=[RowUpdate("a", cells={"v": Cell(b"", 1)})]),
        Mutation("ks", "t", b"u", rows=[RowUpdate(b"a" * 70000, cells={"v": Cell(b"", 1)})]),
        Mutation("ks", "t", b"x" * 70000),
        Mutation("ks", "t", "text-key"),
        Mutation("ks", "missing", b"u"),
        Mutation("nope", "t", b"u"),
    ]
    for mutation in bad:
        with pytest.raises(InvalidRequest):
            engine.apply(mutation)
    with pytest.raises(InvalidRequest):
        engine.apply_batch([put(b"good", b"a", b"1", 1), bad[0]])
    assert engine.read("ks", "t", b"good") is None
    with pytest.raises(InvalidRequest):
        engine.read("ks", "t", b"u", limit=-1)


def test_schema_persists_with_metadata_and_ddl_errors(opener):
    engine = opener()
    setup(engine)
    with pytest.raises(AlreadyExists):
        engine.create_keyspace("ks", {})
    from .engine_support import history_schema

    with pytest.raises(AlreadyExists):
        engine.create_table(history_schema())
    schema = engine.table("ks", "t")
    schema.options.gc_grace_seconds = 5
    engine.alter_table(schema)
    engine.apply(put(b"u", b"a", b"1", 1))
    if opener.mode == "memory":
        return
    engine.close()
    again = opener()
    (table,) = again.tables()
    assert table.metadata == {"types": {"v": "text"}, "comment": "test"}
    assert table.options.gc_grace_seconds == 5
    assert again.keyspaces()["ks"]["replication"]["replication_factor"] == 1
    assert values(again.read("ks", "t", b"u")) == [(b"a", b"1")]


def test_truncate_and_drop(opener):
    engine = opener()
    setup(engine)
    engine.apply(put(b"u", b"a", b"1", 1))
    engine.flush()
    engine.apply(put(b"u", b"b", b"1", 1))
    engine.truncate("ks", "t")
    assert engine.read("ks", "t", b"u") is None
    assert engine.sstables("ks", "t") == []
    engine.apply(put(b"u", b"c", b"1", 1))
    engine.flush()
    engine.drop_keyspace("ks")
    assert engine.tables() == [] and engine.keyspaces() == {}
    with pytest.raises(InvalidRequest):
        engine.read("ks", "t", b"u")


def test_introspection(opener):
    engine = opener(auto_compaction=False)
    setup(engine)
    for i in range(10):
        engine.apply(put(b"u%d" % i, b"a", b"1", i))
    engine.apply(delete_row(b"u1", b"b", 50))
    engine.flush()
    stats = engine.table_stats("ks", "t")
    assert stats["sstable_count"] == 1 and stats["estimated_partitions"] == 10
    assert stats["sstable_tombstones"] == 1 and stats["disk_size"] > 0
    (sst,) = engine.sstables("ks", "t")
    assert sst["partitions"] == 10 and sst["rows"] == 11
    assert sst["min_timestamp"] == 0 and sst["max_timestamp"] == 50
    assert sst["bloom_fp_chance"] == 0.01
    for _ in range(3):
        engine.apply(put(b"x", b"a", b"1", 1))
        engine.flush()
    assert engine.pending_compactions()[0]["reason"] == "size-tiered bucket"
    engine.compact("ks", "t")
    history = engine.compaction_history()
    assert history[-1]["inputs"] and history[-1]["output_partitions"] == 11


def test_closed_engine_refuses_requests(opener):
    engine = opener()
    setup(engine)
    engine.close()
    with pytest.raises(EngineClosed):
        engine.apply(put(b"u", b"a", b"1", 1))


def test_background_flush_does_not_lose_writes(tmp_path):
    engine = StorageEngine.open(str(tmp_path), memtable_flush_threshold=20_000)
    setup(engine)
    for i in range(3000):
        engine.apply(put(b"u%d" % (i % 37), b"%05d" % i, b"v" * 20, i))
    engine.wait_for_background()
    assert engine.table_stats("ks", "t")["sstable_count"] >= 1
    assert sum(len(p.rows) for p in engine.scan("ks", "t")) == 3000
    engine.close()


def test_second_opener_is_refused_by_the_lock_file(tmp_path):
    engine = StorageEngine.open(str(tmp_path / "db"))
    with pytest.raises(DirectoryLocked) as info:
        StorageEngine.open(str(tmp_path / "db"))
    assert str(os.getpid()) in str(info.value)
    engine.close()
    StorageEngine.open(str(tmp_path / "db")).close()


def test_open_removes_temp_files_and_orphan_sstables(tmp_path):
    engine = StorageEngine.open(str(tmp_path))
    setup(engine)
    engine.apply(put(b"u", b"a", b"1", 1))
    engine.close()
    (table_dir,) = [p for p in (tmp_path / "data" / "ks").iterdir()]
    live = sorted(os.listdir(table_dir))
    (table_dir / "tmp-00000099-Data.db").write_bytes(b"half written")
    (table_dir / "00000098-Data.db").write_bytes(b"never in the manifest")
    (tmp_path / "MANIFEST.json.tmp").write_bytes(b"junk")
    engine = StorageEngine.open(str(tmp_path))
    assert sorted(os.listdir(table_dir)) == live
    assert not (tmp_path / "MANIFEST.json.tmp").exists()
    assert values(engine.read("ks", "t", b"u")) == [(b"a", b"1")]
    engine.close()


def test_memory_mode_touches_no_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    engine = StorageEngine.open(None, commitlog_sync="batch")
    setup(engine)
    engine.apply(put(b"u", b"a", b"1", 1))
    engine.flush()
    assert engine.directory is None and engine.commitlog_info()["sync_mode"] is None
    assert values(engine.read("ks", "t", b"u")) == [(b"a", b"1")]
    engine.close()
    assert os.listdir(tmp_path) == []


def test_empty_slice_list_selects_no_rows_but_keeps_the_static_row(opener):
    engine = opener()
    setup(engine)
    engine.apply(static(b"u", b"Ann", 1))
    engine.apply(put(b"u", b"a", b"1", 1))
    result = engine.read("ks", "t", b"u", slices=[])
    assert result.rows == [] and result.static_row.cells["name"].value == b"Ann"


class SlowSSTableFileSystem(MemoryFileSystem):
    """SSTable writes crawl, so flushing falls behind the writer."""

    def create(self, path):
        handle = super().create(path)
        if "/data/" in path:
            real_write = handle.write

            def slow_write(data):
                time.sleep(0.002)
                real_write(data)

            handle.write = slow_write
        return handle


def test_writers_are_held_when_flushing_falls_behind():
    threshold = 4000
    engine = StorageEngine.open(
        "/db", fs=SlowSSTableFileSystem(), memtable_flush_threshold=threshold, auto_compaction=False
    )
    setup(engine)
    state = engine._table("ks", "t")
    largest = 0
    for i in range(1500):
        engine.apply(put(b"u%d" % (i % 7), b"%05d" % i, b"v" * 30, i + 1))
        largest = max(largest, state.memtable.size)
    engine.wait_for_background()
    assert largest <= 3 * threshold + 500
    assert sum(len(p.rows) for p in engine.scan("ks", "t")) == 1500
    engine.close()


def test_time_window_table_drops_fully_expired_sstables_whole(opener):
    clock = Clock()
    engine = opener(clock=clock)
    twcs = {
        "class": "TimeWindowCompactionStrategy",
        "compaction_window_unit": "HOURS",
        "compaction_window_size": 1,
    }
    setup(engine, gc_grace_seconds=60, compaction=twcs)
    now_us = int(clock() * 1_000_000)
    for n in range(3):
        for i in range(5):
            engine.apply(put(b"m%d" % i, b"%03d" % n, b"x", now_us + n, ttl=100))
        engine.flush()
    assert len(engine.sstables("ks", "t")) == 3
    clock.advance(100 + 61)
    engine.flush()  # flushes nothing, but wakes the compaction policy
    engine.apply(put(b"fresh", b"a", b"y", now_us + 10**9))
    engine.flush()
    assert [s["partitions"] for s in engine.sstables("ks", "t")] == [1]
    dropped = [h for h in engine.compaction_history() if h["expired_dropped"]]
    assert dropped and dropped[0]["output"] is None
    assert [p.partition_key for p in engine.scan("ks", "t")] == [b"fresh"]


def test_limit_reads_leave_sstables_beyond_their_range_unopened(opener):
    engine = opener(auto_compaction=False)
    setup(engine)
    for batch in range(4):
        for i in range(10):
            n = batch * 10 + i
            engine.apply(put(b"u", b"%03d" % n, b"v%d" % n, n + 1))
        engine.flush()
    trace = ReadTrace()
    result = engine.read("ks", "t", b"u", limit=5, trace=trace)
    assert [r.clustering for r in result.rows] == [b"%03d" % i for i in range(5)]
    unopened = [s for s, why in trace.sstables_skipped if why.startswith("limit reached")]
    assert len(trace.sstables_consulted) == 1 and len(unopened) == 3
    trace = ReadTrace()
    result = engine.read("ks", "t", b"u", limit=15, reverse=True, trace=trace)
    assert [r.clustering for r in result.rows] == [b"%03d" % i for i in range(39, 24, -1)]
    assert len(trace.sstables_consulted) == 2
    everything = engine.read("ks", "t", b"u", reverse=True)
    assert [r.clustering for r in everything.rows] == [b"%03d" % i for i in range(39, -1, -1)]


def test_key_cache_hit_skips_the_bloom_filter_and_reads_the_same(opener):
    engine = opener(auto_compaction=False)
    setup(engine)
    for n in range(3):
        engine.apply(put(b"u", b"%03d" % n, b"v%d" % n, n + 1))
    engine.flush()
    first = engine.read("ks", "t", b"u")
    checks = [s["bloom_checks"] for s in engine.sstables("ks", "t")]
    trace = ReadTrace()
    again = engine.read("ks", "t", b"u", trace=trace)
    assert [s["bloom_checks"] for s in engine.sstables("ks", "t")] == checks
    assert again == first and len(trace.sstables_consulted) == 1
    assert [r.cells["v"].value for r in again.rows] == [b"v0", b"v1", b"v2"]


def test_index_block_in_memory_answers_without_the_bloom_filter(opener):
    engine = opener(auto_compaction=False)
    setup(engine)
    for n in range(50):
        engine.apply(put(b"u%02d" % n, b"a", b"v%d" % n, n + 1))
    engine.flush()
    assert engine.read("ks", "t", b"u07").rows[0].cells["v"].value == b"v7"
    checks = sum(s["bloom_checks"] for s in engine.sstables("ks", "t"))
    # The index block holding these keys is cached now: present keys are
    # found and absent ones refused by the index itself, with the same results.
    assert engine.read("ks", "t", b"u08").rows[0].cells["v"].value == b"v8"
    assert engine.read("ks", "t", b"u07x") is None
    assert engine.read("ks", "t", b"u08", limit=1).rows[0].clustering == b"a"
    assert sum(s["bloom_checks"] for s in engine.sstables("ks", "t")) == checks
    # A traced read still asks the filter, so its trace can name it.
    trace = ReadTrace()
    assert engine.read("ks", "t", b"u07x", trace=trace) is None
    assert sum(s["bloom_checks"] for s in engine.sstables("ks", "t")) == checks + 1


def test_sstables_are_prefaulted_newest_first_within_the_limit(tmp_path, monkeypatch):
    from stores.wide.storage.sstable_reader import SSTableReader

    prefaulted = []
    real = SSTableReader.prefault

    def spy(reader):
        prefaulted.append(reader.generation)
        return real(reader)

    monkeypatch.setattr(SSTableReader, "prefault", spy)
    with pytest.raises(InvalidRequest):
        StorageEngine.open(str(tmp_path / "bad"), prefault_limit=-1)
    directory = str(tmp_path / "d")
    engine = StorageEngine.open(directory, background=False, auto_compaction=False)
    setup(engine)
    for n in range(3):
        engine.apply(put(b"u%d" % n, b"a", b"x" * 1000, n + 1))
        engine.flush("ks", "t")
    generations = [r.generation for r in engine._table("ks", "t").sstables]
    # Each flush's SSTable is mapped in as it opens (well inside the default limit).
    assert prefaulted == sorted(generations)
    sizes = {r.generation: r.size for r in engine._table("ks", "t").sstables}
    engine.close()

    # On open, the newest SSTables up to the limit.
    newest_two = sorted(generations)[1:]
    for limit, expected in (
        (sum(sizes[g] for g in newest_two), newest_two),
        (sum(sizes[g] for g in newest_two) - 1, newest_two[1:]),
        (sum(sizes.values()), generations),
    ):
        prefaulted.clear()
        engine = StorageEngine.open(directory, background=False, prefault_limit=limit)
        assert sorted(prefaulted) == sorted(expected)
        assert [r.cells["v"].value for r in engine.read("ks", "t", b"u1").rows] == [b"x" * 1000]
        engine.close()
    prefaulted.clear()
    engine = StorageEngine.open(directory, background=False, prefault_limit=0)
    engine.apply(put(b"u9", b"a", b"y", 9))
    engine.flush("ks", "t")
    assert prefaulted == []  # 0: nothing is prefaulted, on open or flush
    engine.close()
