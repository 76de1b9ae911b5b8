"""Benchmark the wide-column storage engine side by side with SQLite.

Through the Python API, in one run:

1. write throughput (rows/s) in each commit log sync mode, against SQLite
   (WAL, WITHOUT ROWID table with the same primary key) at equal durability:
   ``periodic`` vs ``synchronous=NORMAL``, ``batch`` vs ``synchronous=FULL``;
   plus ``batch`` with concurrent writers (group commit) vs SQLite FULL with
   the same number of threads;
2. point read and newest-20-rows slice latency (p50, p99) with 100k and 1M
   rows in the viewing-history shape (10k partitions: user -> viewed_at DESC),
   10M with ``--rows 100000,1000000,10000000`` (slow to load in Python). The
   engine decodes a row's cells only when asked, so the slice is measured
   three times: rows only; every row's key and values as tuples through
   ``StorageEngine.read_values`` (what SQLite's ``fetchall`` hands back in
   every case); and the same values read through the Row objects of
   ``read`` (a Cell per value). Plus newest-20 slices (values as tuples)
   of a hot set of 1,000 users (read again and again, as a site's active
   users are).

With ``--row-cache N`` the table also runs with Cassandra's row cache
(``caching = {'rows_per_partition': N}``): every engine read measurement is
taken with the cache off, then on (same queries, same data), then off again
(to show how much of the "on" gain is only warmer block caches), each with
the distinct partitions it read and its row-cache hits; the periodic write
case is run with the cache on as well, and so are writes to partitions the
cache holds (each such write invalidates an entry).

Every loop is bounded by a count and by a time limit. Run:

    python bench/wide_engine.py                      # 100k and 1M rows
    python bench/wide_engine.py --rows 100000 --quick
    python bench/wide_engine.py --row-cache 20       # also with the row cache
    python bench/wide_engine.py --rows 100000,1000000,10000000 --load-batch 100
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stores.wide.storage import (  # noqa: E402
    Bound,
    Cell,
    ClusteringColumn,
    LivenessInfo,
    Mutation,
    ReadTrace,
    RowUpdate,
    Slice,
    StorageEngine,
    TableSchema,
)
from stores.wide.storage.cache import KEYS  # noqa: E402

BASE_MS = 1_700_000_000_000


def clustering(viewed_at_ms: int) -> bytes:
    """Encode a CQL timestamp for a DESC clustering column (order-inverted bytes)."""
    # Sign-flipped big-endian (ascending bytes), then every bit inverted (DESC).
    return (2**64 - 1 - (viewed_at_ms + 2**63)).to_bytes(8, "big")


def row_values(i: int) -> tuple[bytes, int, bytes, bytes]:
    user = b"user-%05d" % (i % PARTITIONS)
    viewed_at = BASE_MS + i
    return user, viewed_at, b"video-%07d" % (i * 7919 % 10_000_000), (i % 100).to_bytes(4, "big")


def mutation(i: int) -> Mutation:
    user, viewed_at, video, progress = row_values(i)
    ts = viewed_at * 1000
    return Mutation(
        "bench",
        "history",
        user,
        rows=[
            RowUpdate(
                clustering(viewed_at),
                LivenessInfo(ts),
                cells={"video": Cell(video, ts), "progress": Cell(progress, ts)},
            )
        ],
    )


def open_engine(directory: str, sync: str, row_cache: int = 0) -> StorageEngine:
    engine = StorageEngine.open(directory, commitlog_sync=sync, commitlog_sync_period_ms=10000)
    engine.create_keyspace("bench", {})
    engine.create_table(
        TableSchema(
            "bench",
            "history",
            partition_key=["user"],
            clustering=[ClusteringColumn("viewed_at", descending=True)],
            regular=["video", "progress"],
        )
    )
    set_row_cache(engine, row_cache)
    return engine


def set_row_cache(engine: StorageEngine, rows: int) -> None:
    """Set the bench table's rows_per_partition (0 = NONE), as ALTER TABLE WITH caching does."""
    schema = engine.table("bench", "history")
    caching = {"keys": "ALL", "rows_per_partition": str(rows) if rows else "NONE"}
    engine.alter_table(replace(schema, options=replace(schema.options, caching=caching)))


def open_sqlite(path: str, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS history (user TEXT, viewed_at INTEGER, video TEXT,"
        " progress INTEGER, PRIMARY KEY (user, viewed_at DESC)) WITHOUT ROWID"
    )
    return conn


def sqlite_row(i: int) -> tuple:
    user, viewed_at, video, progress = row_values(i)
    return user.decode(), viewed_at, video.decode(), int.from_bytes(progress, "big")


def bounded(count: int, seconds: float):
    """Yield 0..count-1, stopping early once ``seconds`` have passed."""
    deadline = time.perf_counter() + seconds
    for i in range(count):
        if i % 64 == 0 and time.perf_counter() > deadline:
            return
        yield i


# -- writes ---------------------------------------------------------------------


def engine_writes(
    root: str, sync: str, count: int, seconds: float, threads: int = 1, row_cache: int = 0
) -> tuple[float, float]:
    """Return (rows per second, rows per CPU second of this process)."""
    directory = tempfile.mkdtemp(dir=root)
    engine = open_engine(directory, sync, row_cache)
    done = [0] * threads

    def work(worker: int) -> None:
        for n in bounded(count // threads, seconds):
            engine.apply(mutation(n * threads + worker))
            done[worker] += 1

    start, cpu = time.perf_counter(), time.process_time()
    run_threads(work, threads)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    engine.close()
    shutil.rmtree(directory)
    return sum(done) / elapsed, sum(done) / max(cpu, 1e-9)


def sqlite_writes(
    root: str, synchronous: str, count: int, seconds: float, threads: int = 1
) -> tuple[float, float]:
    """Return (rows per second, rows per CPU second of this process)."""
    path = os.path.join(tempfile.mkdtemp(dir=root), "bench.db")
    open_sqlite(path, synchronous).close()
    done = [0] * threads

    def work(worker: int) -> None:
        conn = open_sqlite(path, synchronous)
        conn.execute("PRAGMA busy_timeout=60000")
        for n in bounded(count // threads, seconds):
            conn.execute(
                "INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?)",
                sqlite_row(n * threads + worker),
            )
            done[worker] += 1
        conn.close()

    start, cpu = time.perf_counter(), time.process_time()
    run_threads(work, threads)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    shutil.rmtree(os.path.dirname(path))
    return sum(done) / elapsed, sum(done) / max(cpu, 1e-9)


def run_threads(work, threads: int) -> None:
    if threads == 1:
        work(0)
        return
    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


# -- reads ----------------------------------------------------------------------


def load(
    root: str, rows: int, seconds: float, batch: int = 1
) -> tuple[StorageEngine, sqlite3.Connection, int, dict]:
    """Load ``rows`` rows into both stores; return them with the rows loaded and timings.

    ``batch`` > 1 loads the engine ``batch`` mutations per ``apply_batch``
    call (one commit-log record each): the same rows, flushes and
    compactions, in a fraction of the time (for 10M rows).
    """
    directory = tempfile.mkdtemp(dir=root)
    engine = open_engine(directory, "periodic")
    start = time.perf_counter()
    loaded = 0
    if batch > 1:
        for n in bounded((rows + batch - 1) // batch, seconds):
            first = n * batch
            engine.apply_batch([mutation(i) for i in range(first, min(rows, first + batch))])
            loaded = min(rows, first + batch)
    else:
        for i in bounded(rows, seconds):
            engine.apply(mutation(i))
            loaded += 1
    engine_load = time.perf_counter() - start
    engine.flush()
    engine.wait_for_background(timeout=seconds)
    settle = time.perf_counter() - start - engine_load
    conn = open_sqlite(os.path.join(directory, "bench.db"), "NORMAL")
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?)", (sqlite_row(i) for i in range(loaded))
    )
    conn.execute("COMMIT")
    sqlite_load = time.perf_counter() - start
    timings = {
        "engine_load_s": engine_load,
        "engine_settle_s": settle,
        "sqlite_load_s": sqlite_load,
    }
    return engine, conn, loaded, timings


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return p50 * 1e6, p99 * 1e6


def measure(fn, keys, seconds: float) -> tuple[float, float, int]:
    samples = []
    deadline = time.perf_counter() + seconds
    for key in keys:
        start = time.perf_counter()
        fn(key)
        samples.append(time.perf_counter() - start)
        if start > deadline:
            break
    p50, p99 = percentiles(samples)
    return p50, p99, len(samples)


def read_benchmark(
    engine: StorageEngine,
    conn: sqlite3.Connection,
    loaded: int,
    queries: int,
    seconds: float,
    row_cache: int = 0,
) -> dict:
    rng = random.Random(42)
    point_ids = [rng.randrange(loaded) for _ in range(queries)]
    users = [rng.randrange(min(PARTITIONS, loaded)) for _ in range(queries)]
    # A fresh draw of users: about half were read by the queries before, so
    # these slices find warmer caches than the plain newest-20 ones (compare
    # base and new code per query, not the two slice rows with each other).
    values_users = [rng.randrange(min(PARTITIONS, loaded)) for _ in range(queries)]
    row_object_users = [rng.randrange(min(PARTITIONS, loaded)) for _ in range(queries)]
    # Active users come back: 1,000 users read again and again.
    hot = rng.sample(range(min(PARTITIONS, loaded)), min(1000, PARTITIONS, loaded))
    hot_users = [rng.choice(hot) for _ in range(queries)]
    # Newest 10: the same number of rows at every size (a 100k-row set has
    # 10 rows a partition, so there "newest 20" returns 10 rows, not 20).
    ten_users = [rng.randrange(min(PARTITIONS, loaded)) for _ in range(queries)]
    results = {"sstables": engine.table_stats("bench", "history")["sstable_count"]}
    # The key cache is per process: what earlier sizes left in it counts.
    key_cache_before = (len(KEYS), KEYS.evictions)

    def engine_point(i: int) -> None:
        user, viewed_at, video, _ = row_values(i)
        ck = clustering(viewed_at)
        result = engine.read(
            "bench", "history", user, slices=[Slice(Bound(ck, True), Bound(ck, True))]
        )
        assert result is not None and result.rows[0].cells["video"].value == video

    def sqlite_point(i: int) -> None:
        user, viewed_at, video, _ = row_values(i)
        row = conn.execute(
            "SELECT video, progress FROM history WHERE user = ? AND viewed_at = ?",
            (user.decode(), viewed_at),
        ).fetchone()
        assert row is not None and row[0] == video.decode()

    def engine_slice(u: int) -> None:
        result = engine.read("bench", "history", b"user-%05d" % u, limit=20)
        assert result is not None and len(result.rows) == min(20, rows_per_partition(loaded))

    def engine_newest_values(limit: int):
        def read(u: int) -> None:
            # What SQLite's fetchall hands back: every row's key and both values.
            rows = engine.read_values(
                "bench", "history", b"user-%05d" % u, ("video", "progress"), limit=limit
            )
            assert len(rows) == min(limit, rows_per_partition(loaded))

        return read

    def engine_slice_row_objects(u: int) -> None:
        # The same values through the Row objects of ``read`` (a Cell per value).
        result = engine.read("bench", "history", b"user-%05d" % u, limit=20)
        rows = [
            (r.clustering, r.cells["video"].value, r.cells["progress"].value) for r in result.rows
        ]
        assert len(rows) == min(20, rows_per_partition(loaded))

    def sqlite_newest(limit: int):
        query = (
            "SELECT viewed_at, video, progress FROM history WHERE user = ?"
            f" ORDER BY viewed_at DESC LIMIT {limit}"
        )

        def read(u: int) -> None:
            rows = conn.execute(query, (f"user-{u:05d}",)).fetchall()
            assert len(rows) == min(limit, rows_per_partition(loaded))

        return read

    engine_slice_values = engine_newest_values(20)
    engine_slice10_values = engine_newest_values(10)
    sqlite_slice = sqlite_newest(20)
    sqlite_slice10 = sqlite_newest(10)

    # Warm both (the OS page cache, SQLite's cache, the engine's index caches).
    for fn, keys in (
        (engine_point, point_ids),
        (sqlite_point, point_ids),
        (engine_slice, users),
        (sqlite_slice, users),
    ):
        for key in keys[:200]:
            fn(key)
    for name, fn, keys in (
        ("engine_point", engine_point, point_ids),
        ("sqlite_point", sqlite_point, point_ids),
        ("engine_slice", engine_slice, users),
        ("sqlite_slice", sqlite_slice, users),
        ("engine_slice_values", engine_slice_values, values_users),
        ("sqlite_slice_values", sqlite_slice, values_users),
        ("engine_slice_hot", engine_slice_values, hot_users),
        ("sqlite_slice_hot", sqlite_slice, hot_users),
        ("engine_slice_row_objects", engine_slice_row_objects, row_object_users),
        ("sqlite_slice_row_objects", sqlite_slice, row_object_users),
        ("engine_slice10_values", engine_slice10_values, ten_users),
        ("sqlite_slice10_values", sqlite_slice10, ten_users),
    ):
        results[name] = measure(fn, keys, seconds)
    results["key_cache"] = {
        "entries_before": key_cache_before[0],
        "entries": len(KEYS),
        "size": KEYS.size,
        "capacity": KEYS.max_bytes,
        "evictions": KEYS.evictions - key_cache_before[1],
    }
    if not row_cache:
        results["sstables_per_slice"] = sstables_per_slice(engine, users)
        return results
    engine_cases = (
        ("point", engine_point, point_ids, lambda i: row_values(i)[0]),
        ("slice", engine_slice, users, lambda u: u),
        ("slice_values", engine_slice_values, values_users, lambda u: u),
        ("slice_hot", engine_slice_values, hot_users, lambda u: u),
    )
    # Off again after on: how much of "on" is only the warmer block caches.
    for phase, rows in (("cache_on", row_cache), ("cache_off_again", 0)):
        set_row_cache(engine, rows)
        for name, fn, keys, partition in engine_cases:
            before = engine.table_stats("bench", "history")
            p50, p99, n = measure(fn, keys, seconds)
            after = engine.table_stats("bench", "history")
            results[f"{phase}_{name}"] = (p50, p99, n)
            results[f"{phase}_{name}_reads"] = {
                "reads": n,
                "distinct": len({partition(k) for k in keys[:n]}),
                "hits": after["row_cache_hits"] - before["row_cache_hits"],
            }
        if phase == "cache_on":
            results["cache_stats"] = engine.row_cache_stats()
    results["sstables_per_slice"] = sstables_per_slice(engine, users)
    results["write_cost"] = write_cost(engine, hot, loaded, row_cache)
    return results


def sstables_per_slice(engine: StorageEngine, users: list[int], reads: int = 1000) -> float:
    """Return the mean SSTables a newest-20 read opens (traced, after the measured reads)."""
    opened = 0
    for u in users[:reads]:
        trace = ReadTrace()
        engine.read("bench", "history", b"user-%05d" % u, limit=20, trace=trace)
        opened += len(trace.sstables_consulted)
    return opened / max(1, min(reads, len(users)))


def write_cost(engine: StorageEngine, hot: list[int], loaded: int, row_cache: int) -> dict:
    """Return CPU µs per write to partitions whose head was just read, cache off and on.

    With the cache on every such write removes an entry (and the next read
    refills it). Five rounds, off and on alternating; the median of each.
    The entries held are counted too, to show the writes met cached partitions.
    """
    samples: dict[str, list[float]] = {"off": [], "on": []}
    held: list[int] = []
    written = 0
    for _round in range(5):
        for phase, rows in (("off", 0), ("on", row_cache)):
            set_row_cache(engine, rows)
            # Fill (or, off, just read) every hot user's head: a partition is
            # cached on its second miss.
            for _ in range(2):
                for u in hot:
                    engine.read("bench", "history", b"user-%05d" % u, limit=20)
            entries = engine.row_cache_stats().get("entries", 0)
            cpu = time.process_time()
            for u in hot:
                engine.apply(mutation(loaded + written * PARTITIONS + u))
                written += 1
            samples[phase].append((time.process_time() - cpu) / len(hot) * 1e6)
            if rows:
                held.append(entries)
    out = {phase: statistics.median(values) for phase, values in samples.items()}
    out["entries"] = min(held)
    return out


def rows_per_partition(loaded: int) -> int:
    return loaded // PARTITIONS if loaded >= PARTITIONS else 1


PARTITIONS = 10_000
ROUNDS = 3


def main() -> None:
    global PARTITIONS
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated dataset sizes")
    parser.add_argument("--partitions", type=int, default=10_000)
    parser.add_argument(
        "--writes", type=int, default=60_000, help="max writes per periodic/NORMAL run"
    )
    parser.add_argument(
        "--sync-writes", type=int, default=4_000, help="max writes per batch/FULL run"
    )
    parser.add_argument("--threads", type=int, default=8, help="writers for the group-commit run")
    parser.add_argument(
        "--queries", type=int, default=5_000, help="max queries per read measurement"
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="time limit per measurement")
    parser.add_argument(
        "--load-seconds", type=float, default=900.0, help="time limit per dataset load"
    )
    parser.add_argument(
        "--load-batch",
        type=int,
        default=1,
        metavar="N",
        help="load the read data sets N rows per apply_batch call (default 1: one apply a row)",
    )
    parser.add_argument("--dir", default=None, help="where to put the data (default: a temp dir)")
    parser.add_argument("--quick", action="store_true", help="small counts, for a smoke run")
    parser.add_argument(
        "--writes-only", action="store_true", help="run the write benchmark only (no reads)"
    )
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help="alternating write rounds per case (median)"
    )
    parser.add_argument(
        "--row-cache",
        type=int,
        default=0,
        metavar="N",
        help="also measure with the row cache holding N rows per partition (0 = off)",
    )
    args = parser.parse_args()
    PARTITIONS = args.partitions
    if args.quick:
        args.writes, args.sync_writes, args.queries, args.seconds = 5000, 300, 500, 3.0
    root = tempfile.mkdtemp(prefix="wide-bench-", dir=args.dir)
    print(
        f"# wide engine benchmark — {platform.python_implementation()} {platform.python_version()},"
        f" {os.cpu_count()} cores, data in {root}"
    )
    try:
        print("\n## Writes (rows/s, one row per write)\n")
        print(
            "CPU columns: rows per CPU second of this process (user + system), which"
            " other load on the machine disturbs less than wall time.\n"
        )
        print(
            "| durability | engine | SQLite | engine/SQLite"
            " | engine rows/CPU-s | SQLite rows/CPU-s | CPU ratio |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|")
        cases = [
            ("periodic vs NORMAL, 1 writer", "periodic", "NORMAL", args.writes, 1, 0),
            ("batch vs FULL, 1 writer", "batch", "FULL", args.sync_writes, 1, 0),
            (
                f"batch vs FULL, {args.threads} writers",
                "batch",
                "FULL",
                args.sync_writes,
                args.threads,
                0,
            ),
        ]
        if args.row_cache:
            cases.insert(
                1,
                (
                    f"periodic vs NORMAL, 1 writer, row cache {args.row_cache} on",
                    "periodic",
                    "NORMAL",
                    args.writes,
                    1,
                    args.row_cache,
                ),
            )
        for label, sync, synchronous, count, threads, row_cache in cases:
            # Alternate short rounds so that load from other processes on the
            # machine hits both sides alike; report the median round. Each
            # round is bounded as with the default three (count and time / 3).
            ours, theirs = [], []
            for _ in range(args.rounds):
                ours.append(
                    engine_writes(
                        root, sync, count // ROUNDS, args.seconds / ROUNDS, threads, row_cache
                    )
                )
                theirs.append(
                    sqlite_writes(
                        root, synchronous, count // ROUNDS, args.seconds / ROUNDS, threads
                    )
                )
            ours_rate = statistics.median(r for r, _ in ours)
            theirs_rate = statistics.median(r for r, _ in theirs)
            ours_cpu = statistics.median(c for _, c in ours)
            theirs_cpu = statistics.median(c for _, c in theirs)
            print(
                f"| {label} | {ours_rate:,.0f} | {theirs_rate:,.0f} | {ours_rate / theirs_rate:.2f}x"
                f" | {ours_cpu:,.0f} | {theirs_cpu:,.0f} | {ours_cpu / theirs_cpu:.2f}x |",
                flush=True,
            )

        if args.writes_only:
            return
        print("\n## Reads (µs; viewing history: user -> viewed_at DESC)\n")
        print(
            "| rows | query | engine p50 | engine p99 | SQLite p50 | SQLite p99 | engine/SQLite speed (p50) |"
        )
        print("|---:|---|---:|---:|---:|---:|---:|")
        p50_by_size = {}
        for size in [int(s) for s in args.rows.split(",") if s]:
            engine, conn, loaded, timings = load(root, size, args.load_seconds, args.load_batch)
            results = read_benchmark(
                engine, conn, loaded, args.queries, args.seconds, args.row_cache
            )
            for query in (
                "point",
                "slice",
                "slice_values",
                "slice_row_objects",
                "slice_hot",
                "slice10_values",
            ):
                s50, s99, _ = results[f"sqlite_{query}"]
                label = {
                    "point": "point read",
                    "slice": "newest 20",
                    "slice_values": "newest 20, values read (read_values)",
                    "slice_row_objects": "newest 20, values read through Row objects",
                    "slice_hot": "newest 20, values read, 1k hot users",
                    "slice10_values": "newest 10, values read (read_values)",
                }[query]
                phases = [("engine", "")]
                if args.row_cache and query not in ("slice_row_objects", "slice10_values"):
                    phases += [
                        ("cache_on", f", row cache {args.row_cache}"),
                        ("cache_off_again", ", row cache off again"),
                    ]
                for phase, suffix in phases:
                    e50, e99, _ = results[f"{phase}_{query}"]
                    reads = results.get(f"{phase}_{query}_reads")
                    note = ""
                    if reads is not None:
                        note = (
                            f" ({reads['reads']:,} reads of {reads['distinct']:,} partitions,"
                            f" {reads['hits']:,} row-cache hits)"
                        )
                    print(
                        f"| {loaded:,} | {label}{suffix}{note} | {e50:.0f} | {e99:.0f}"
                        f" | {s50:.0f} | {s99:.0f} | {s50 / e50:.2f}x |",
                        flush=True,
                    )
                    key = query if phase == "engine" else f"{query}{suffix}"
                    p50_by_size.setdefault(key, []).append((loaded, e50))
            if args.row_cache:
                cost = results["write_cost"]
                stats = results["cache_stats"]
                print(
                    f"|  | writes to partitions just read, CPU µs per write: row cache off"
                    f" {cost['off']:.1f}, on {cost['on']:.1f} (each write invalidates one of"
                    f" {cost['entries']:,} entries);"
                    f" row cache after the reads with it on: {stats['entries']:,} entries,"
                    f" {stats['size'] / 1e6:.1f} MB of {stats['capacity'] / 1e6:.0f} MB,"
                    f" {stats['evictions']:,} evictions | | | | | |",
                    flush=True,
                )
            keys = results["key_cache"]
            print(
                f"|  | key cache (per process): {keys['entries_before']:,} entries before"
                f" these reads, {keys['entries']:,} after ({keys['size'] / 1e6:.1f} MB of"
                f" {keys['capacity'] / 1e6:.0f} MB estimated), {keys['evictions']:,} evictions"
                " during the reads without the row cache | | | | | |",
                flush=True,
            )
            sstables = engine.table_stats("bench", "history")["sstable_count"]
            print(
                f"|  | SSTables: {results['sstables']} when the reads were measured,"
                f" {sstables} at the end; a newest-20 read opens"
                f" {results['sstables_per_slice']:.2f} of them on average | | | | | |",
                flush=True,
            )
            print(
                f"|  | load: engine {loaded / timings['engine_load_s']:,.0f} rows/s"
                f" ({args.load_batch} a call)"
                f" (+{timings['engine_settle_s']:.1f} s flush/compaction, {sstables} SSTables),"
                f" SQLite one transaction {loaded / timings['sqlite_load_s']:,.0f} rows/s | | | | | |",
                flush=True,
            )
            engine.close()
            conn.close()
        print("\n## Scaling (engine p50 at the largest size / at the smallest)\n")
        for query, points in p50_by_size.items():
            if len(points) > 1:
                (small, s50), (large, l50) = points[0], points[-1]
                print(f"- {query}: {l50 / s50:.2f}x from {small:,} to {large:,} rows")
        print(
            "\nAt 100,000 rows a partition holds 10 rows, so a newest-20 read returns 10"
            " rows there and 20 at the larger sizes; newest 10 returns 10 at every size."
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
