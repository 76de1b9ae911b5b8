"""Benchmark: the CQL layer's cost over the storage API it runs on.

Prepared INSERT and newest-20 SELECT (viewing-history shape) through the
in-process Session, side by side with the same operations done directly on
the storage engine's Python API (encoding keys and cells by hand, decoding
the 20 rows to Python values). Reports operations/s and the ratio
(Session time / storage time; goal <= 1.5x). Every loop is bounded in count
and in time.

    python bench/wide_cql.py [--rows 20000] [--reads 5000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import stores.wide  # noqa: E402
from stores.wide.cql.keys import encode_clustering, encode_partition_key  # noqa: E402
from stores.wide.cql.types import TEXT, TIMESTAMP, UUID  # noqa: E402
from stores.wide.storage import (  # noqa: E402
    Cell,
    ClusteringColumn,
    LivenessInfo,
    Mutation,
    RowUpdate,
    StorageEngine,
    TableSchema,
)

USERS = 200
BASE = datetime.datetime(2024, 1, 1)


def workload(rows: int):
    for i in range(rows):
        yield f"user{i % USERS}", BASE + datetime.timedelta(seconds=i), uuid.UUID(int=i)


def timed(label: str, operations, seconds: float) -> tuple[int, float]:
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    done = 0
    for op in operations:
        op()
        done += 1
        if done % 256 == 0 and time.perf_counter() > deadline:
            break
    elapsed = time.perf_counter() - start
    print(f"  {label:<34} {done:>7} ops  {done / elapsed:>10.0f} ops/s")
    return done, elapsed


def bench_session(rows: int, reads: int, seconds: float):
    session = stores.wide.connect("memory:")
    session.execute("CREATE KEYSPACE b WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
    session.set_keyspace("b")
    session.execute(
        "CREATE TABLE history (user text, viewed_at timestamp, post uuid, PRIMARY KEY (user, viewed_at)) "
        "WITH CLUSTERING ORDER BY (viewed_at DESC)"
    )
    insert = session.prepare("INSERT INTO history (user, viewed_at, post) VALUES (?, ?, ?)")
    select = session.prepare("SELECT viewed_at, post FROM history WHERE user = ? LIMIT 20")
    execute = session.execute
    writes = timed(
        "Session prepared INSERT", (lambda r=r: execute(insert, r) for r in workload(rows)), seconds
    )
    users = [f"user{i % USERS}" for i in range(reads)]
    check = execute(select, ["user0"]).all()
    assert len(check) == 20 and check[0].viewed_at > check[-1].viewed_at
    read = timed("Session prepared SELECT newest 20", (lambda u=u: execute(select, [u]).all() for u in users), seconds)
    session.shutdown()
    return writes, read


def bench_storage(rows: int, reads: int, seconds: float):
    engine = StorageEngine.open(None)
    engine.create_keyspace("b", {})
    engine.create_table(
        TableSchema(
            "b",
            "history",
            partition_key=["user"],
            clustering=[ClusteringColumn("viewed_at", True)],
            regular=["post"],
        )
    )
    ck_types, ck_desc = [TIMESTAMP], [True]
    clock = [0]

    def write(user, viewed_at, post):
        clock[0] += 1
        ts = time.time_ns() // 1000 + clock[0]
        row = RowUpdate(
            encode_clustering(ck_types, ck_desc, [viewed_at]),
            liveness=LivenessInfo(ts),
            cells={"post": Cell(UUID.serialize(post), ts)},
        )
        engine.apply(Mutation("b", "history", encode_partition_key([TEXT], [user]), rows=[row]))

    def read(user):
        result = engine.read("b", "history", TEXT.serialize(user), limit=20)
        return [
            (TIMESTAMP.decode_key(bytes(255 - b for b in r.clustering), 0)[0], UUID.deserialize(r.cells["post"].value))
            for r in result.rows
        ]

    writes = timed("storage API apply", (lambda r=r: write(*r) for r in workload(rows)), seconds)
    users = [f"user{i % USERS}" for i in range(reads)]
    assert len(read("user0")) == 20
    reads_result = timed("storage API read newest 20", (lambda u=u: read(u) for u in users), seconds)
    engine.close()
    return writes, reads_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--reads", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    print(f"wide CQL layer benchmark: {args.rows} rows in {USERS} partitions, {args.reads} reads")
    (sw, swt), (sr, srt) = bench_storage(args.rows, args.reads, args.seconds)
    (qw, qwt), (qr, qrt) = bench_session(args.rows, args.reads, args.seconds)
    write_ratio = (qwt / qw) / (swt / sw)
    read_ratio = (qrt / qr) / (srt / sr)
    print(f"  INSERT ratio (Session / storage API, time per op): {write_ratio:.2f}x")
    print(f"  SELECT ratio (Session / storage API, time per op): {read_ratio:.2f}x")
    print(f"  goal <= 1.5x: {'met' if max(write_ratio, read_ratio) <= 1.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
