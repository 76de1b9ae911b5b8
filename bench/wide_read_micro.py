"""Measure the wide engine's read latency on a data set loaded once.

A steadier companion to ``bench/wide_engine.py`` for read-path work: load
the viewing-history shape once into a directory (``--load``), then measure
point reads and newest-20 slices in a fresh process per side (``--side
engine`` or ``--side sqlite``), as often as needed, on the same files.
Each side first reads its files once, so both are measured with their
files in the OS page cache. Reads go through ``StorageEngine.read`` and
``read_values`` on a normally flushed and compacted table; the last case
reads 1,000 hot users again and again (with ``--row-cache N``, from the
row cache). Every loop is bounded in count and time. Run:

    python bench/wide_read_micro.py --dir /tmp/wr-1m --rows 1000000 --load
    python bench/wide_read_micro.py --dir /tmp/wr-1m --side engine
    python bench/wide_read_micro.py --dir /tmp/wr-1m --side sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import wide_engine as wb  # noqa: E402

from stores.wide.storage import Bound, Slice, StorageEngine  # noqa: E402


def load(directory: str, rows: int, seconds: float, batch: int) -> None:
    os.makedirs(directory, exist_ok=False)
    engine = wb.open_engine(directory, "periodic")
    start = time.perf_counter()
    loaded = 0
    for i in wb.bounded((rows + batch - 1) // batch, seconds):
        first = i * batch
        engine.apply_batch([wb.mutation(n) for n in range(first, min(rows, first + batch))])
        loaded = min(rows, first + batch)
    applied = time.perf_counter() - start
    engine.flush()
    engine.wait_for_background(timeout=seconds)
    settled = time.perf_counter() - start
    sstables = engine.table_stats("bench", "history")["sstable_count"]
    engine.close()
    conn = wb.open_sqlite(os.path.join(directory, "bench.db"), "NORMAL")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?)",
        (wb.sqlite_row(i) for i in range(loaded)),
    )
    conn.execute("COMMIT")
    conn.close()
    info = {
        "rows": loaded,
        "partitions": wb.PARTITIONS,
        "engine_rows_per_s": loaded / applied,
        "engine_settle_s": settled - applied,
        "batch": batch,
        "sstables": sstables,
    }
    with open(os.path.join(directory, "info.json"), "w") as f:
        json.dump(info, f)
    print(json.dumps(info))


def warm_page_cache(paths: list[str], limit: int = 8 << 30) -> int:
    """Read ``paths`` once so they start in the OS page cache; return the bytes read.

    Both sides are measured with their files in memory, as a data set in
    use is. Without this a data set left idle for a while (this VM's DAMON
    pages out cold file pages) is measured at disk speed instead. Bounded
    by ``limit`` bytes.
    """
    done = 0
    for path in paths:
        with open(path, "rb", buffering=0) as f:
            while done < limit:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                done += len(chunk)
    return done


def side_files(directory: str, side: str) -> list[str]:
    """Return the files one side reads: SSTables for the engine, bench.db for SQLite."""
    if side == "sqlite":
        return [os.path.join(directory, "bench.db")]
    found = []
    for root, _, names in os.walk(os.path.join(directory, "data")):
        found += [os.path.join(root, n) for n in names if n.endswith(".db")]
    return sorted(found)


def measure(
    directory: str,
    side: str,
    queries: int,
    seconds: float,
    no_compaction: bool = False,
    row_cache: int = 0,
    prefault_limit: int | None = None,
) -> None:
    with open(os.path.join(directory, "info.json")) as f:
        info = json.load(f)
    loaded = info["rows"]
    wb.PARTITIONS = info["partitions"]
    rng = random.Random(42)
    point_ids = [rng.randrange(loaded) for _ in range(queries)]
    users = [rng.randrange(min(wb.PARTITIONS, loaded)) for _ in range(queries)]
    values_users = [rng.randrange(min(wb.PARTITIONS, loaded)) for _ in range(queries)]
    row_object_users = [rng.randrange(min(wb.PARTITIONS, loaded)) for _ in range(queries)]
    # Active users come back: 1,000 users, each read twice first (a row
    # cache fills an entry on its second miss), then read again and again.
    hot = rng.sample(range(min(wb.PARTITIONS, loaded)), min(1000, wb.PARTITIONS, loaded))
    hot_users = [rng.choice(hot) for _ in range(queries)]
    expected = min(20, wb.rows_per_partition(loaded))
    warmed = warm_page_cache(side_files(directory, side))
    if side == "engine":
        # Compaction left off while measuring only if asked (a data set whose
        # compaction has not caught up would otherwise compact under the reads).
        options = {} if prefault_limit is None else {"prefault_limit": prefault_limit}
        opened = time.perf_counter()
        engine = StorageEngine.open(
            directory, commitlog_sync="periodic", auto_compaction=not no_compaction, **options
        )
        open_ms = (time.perf_counter() - opened) * 1000
        wb.set_row_cache(engine, row_cache)

        def point(i: int) -> None:
            user, viewed_at, video, _ = wb.row_values(i)
            ck = wb.clustering(viewed_at)
            result = engine.read(
                "bench", "history", user, slices=[Slice(Bound(ck, True), Bound(ck, True))]
            )
            assert result is not None and result.rows[0].cells["video"].value == video

        def newest(u: int) -> None:
            result = engine.read("bench", "history", b"user-%05d" % u, limit=20)
            assert result is not None and len(result.rows) == expected

        def newest_values(u: int) -> None:
            # What SQLite's fetchall hands back: every row's key and both values.
            rows = engine.read_values(
                "bench", "history", b"user-%05d" % u, ("video", "progress"), limit=20
            )
            assert len(rows) == expected

        def newest_row_objects(u: int) -> None:
            # The same values through Row objects (a Cell per value).
            result = engine.read("bench", "history", b"user-%05d" % u, limit=20)
            rows = [
                (r.clustering, r.cells["video"].value, r.cells["progress"].value)
                for r in result.rows
            ]
            assert len(rows) == expected

    else:
        conn = wb.open_sqlite(os.path.join(directory, "bench.db"), "NORMAL")

        def point(i: int) -> None:
            user, viewed_at, video, _ = wb.row_values(i)
            row = conn.execute(
                "SELECT video, progress FROM history WHERE user = ? AND viewed_at = ?",
                (user.decode(), viewed_at),
            ).fetchone()
            assert row is not None and row[0] == video.decode()

        def newest(u: int) -> None:
            rows = conn.execute(
                "SELECT viewed_at, video, progress FROM history WHERE user = ?"
                " ORDER BY viewed_at DESC LIMIT 20",
                (f"user-{u:05d}",),
            ).fetchall()
            assert len(rows) == expected

        newest_values = newest_row_objects = newest
    for fn, keys in ((point, point_ids), (newest, users)):
        for key in keys[:200]:
            fn(key)
    out = {"side": side, "rows": loaded, "load": os.getloadavg()[0], "warmed_mib": warmed >> 20}
    if side == "engine":
        out["sstables"] = engine.table_stats("bench", "history")["sstable_count"]
        out["open_ms"] = round(open_ms, 1)
    for name, fn, keys in (
        ("point", point, point_ids),
        ("newest20", newest, users),
        ("newest20_values", newest_values, values_users),
        ("newest20_row_objects", newest_row_objects, row_object_users),
        ("newest20_values_hot", newest_values, hot_users),
    ):
        if name == "newest20_values_hot":
            for _ in range(2):
                for u in hot:
                    fn(u)
        before = engine.row_cache_stats().get("hits", 0) if side == "engine" else 0
        p50, p99, n = wb.measure(fn, keys, seconds)
        out[name] = {"p50_us": round(p50, 1), "p99_us": round(p99, 1), "n": n}
        if side == "engine" and row_cache:
            out[name]["row_cache_hits"] = engine.row_cache_stats()["hits"] - before
    print(json.dumps(out))
    if side == "engine":
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dir", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=10_000)
    parser.add_argument("--load", action="store_true", help="load the data set into --dir")
    parser.add_argument("--side", choices=("engine", "sqlite"), default="engine")
    parser.add_argument("--queries", type=int, default=5_000)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--load-seconds", type=float, default=3600.0)
    parser.add_argument(
        "--no-compaction",
        action="store_true",
        help="measure without starting compaction (for a data set whose compaction lags)",
    )
    parser.add_argument(
        "--batch", type=int, default=1, help="mutations per apply_batch call when loading"
    )
    parser.add_argument(
        "--row-cache", type=int, default=0, metavar="N", help="engine side: row cache of N rows"
    )
    parser.add_argument(
        "--prefault-limit",
        type=int,
        default=None,
        metavar="BYTES",
        help="engine side: StorageEngine's prefault_limit (default: the engine's; 0 = none)",
    )
    args = parser.parse_args()
    wb.PARTITIONS = args.partitions
    if args.load:
        load(args.dir, args.rows, args.load_seconds, args.batch)
    else:
        measure(
            args.dir,
            args.side,
            args.queries,
            args.seconds,
            args.no_compaction,
            args.row_cache,
            args.prefault_limit,
        )


if __name__ == "__main__":
    main()
