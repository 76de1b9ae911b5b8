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
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import stores.wide  # noqa: E402
from stores.wide.cql.keys import encode_clustering, encode_partition_key, invert  # noqa: E402
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
    """Yield (user, viewed_at, post) rows spread over USERS partitions."""
    for i in range(rows):
        yield f"user{i % USERS}", BASE + datetime.timedelta(seconds=i), uuid.UUID(int=i)


class Side:
    """One way of doing the two operations, with its accumulated timings."""

    def __init__(self, name: str, write, read):
        self.name = name
        self.write = write
        self.read = read
        self.times = {"write": [0, 0.0], "read": [0, 0.0]}

    def run(self, kind: str, items) -> float:
        op = self.write if kind == "write" else self.read
        start = time.perf_counter()
        for item in items:
            op(item)
        elapsed = time.perf_counter() - start
        slot = self.times[kind]
        slot[0] += len(items)
        slot[1] += elapsed
        return elapsed

    def rate(self, kind: str) -> float:
        count, elapsed = self.times[kind]
        return count / elapsed if elapsed else 0.0


def session_side() -> tuple[Side, object]:
    session = stores.wide.connect("memory:")
    session.execute(
        "CREATE KEYSPACE b WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    session.set_keyspace("b")
    session.execute(
        "CREATE TABLE history (user text, viewed_at timestamp, post uuid, PRIMARY KEY (user, viewed_at)) "
        "WITH CLUSTERING ORDER BY (viewed_at DESC)"
    )
    insert = session.prepare("INSERT INTO history (user, viewed_at, post) VALUES (?, ?, ?)")
    select = session.prepare("SELECT viewed_at, post FROM history WHERE user = ? LIMIT 20")
    execute = session.execute

    def read(user):
        return execute(select, [user]).all()

    return Side("Session (prepared CQL)", lambda row: execute(insert, row), read), session


def storage_side() -> tuple[Side, object]:
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

    def write(row):
        user, viewed_at, post = row
        clock[0] += 1
        ts = time.time_ns() // 1000 + clock[0]
        update = RowUpdate(
            encode_clustering(ck_types, ck_desc, [viewed_at]),
            liveness=LivenessInfo(ts),
            cells={"post": Cell(UUID.serialize(post), ts)},
        )
        engine.apply(Mutation("b", "history", encode_partition_key([TEXT], [user]), rows=[update]))

    def read(user):
        result = engine.read("b", "history", TEXT.serialize(user), limit=20)
        return [
            (
                TIMESTAMP.decode_key(invert(r.clustering), 0)[0],
                UUID.deserialize(r.cells["post"].value),
            )
            for r in result.rows
        ]

    return Side("storage API (by hand)", write, read), engine


def interleave(
    sides: list[Side], kind: str, items: list, seconds: float, chunk: int = 250
) -> list[float]:
    """Run chunks of ``items`` on each side in turn; return each chunk pair's time ratio.

    Interleaving makes a change of machine load hit both sides alike; the
    median of the per-chunk ratios is robust to load spikes.
    """
    deadline = time.perf_counter() + seconds
    ratios = []
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        # Alternate which side goes first, so neither always pays for the other's garbage.
        if (start // chunk) % 2:
            second, first = (side.run(kind, part) for side in reversed(sides))
        else:
            first, second = (side.run(kind, part) for side in sides)
        ratios.append(second / first)
        if time.perf_counter() > deadline:
            break
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--reads", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    print(
        f"wide CQL layer benchmark: {args.rows} rows in {USERS} partitions, {args.reads} newest-20 reads"
    )
    storage, engine = storage_side()
    session_, session = session_side()
    sides = [storage, session_]
    write_ratios = interleave(sides, "write", list(workload(args.rows)), args.seconds)
    read_ratios = interleave(
        sides, "read", [f"user{i % USERS}" for i in range(args.reads)], args.seconds
    )
    assert len(session_.read("user0")) == 20 and session_.read("user0") == [
        tuple(r) for r in storage.read("user0")
    ]
    for kind, label in (("write", "INSERT"), ("read", "SELECT newest 20")):
        for side in sides:
            print(f"  {side.name:<24} {label:<17} {side.rate(kind):>9.0f} ops/s")
    ratios = {"write": statistics.median(write_ratios), "read": statistics.median(read_ratios)}
    totals = {kind: storage.rate(kind) / session_.rate(kind) for kind in ("write", "read")}
    print(
        f"  INSERT ratio (time per op, Session / storage API): median of {len(write_ratios)} "
        f"chunk pairs {ratios['write']:.2f}x (totals {totals['write']:.2f}x)"
    )
    print(
        f"  SELECT ratio (time per op, Session / storage API): median of {len(read_ratios)} "
        f"chunk pairs {ratios['read']:.2f}x (totals {totals['read']:.2f}x)"
    )
    print(f"  goal <= 1.5x: {'met' if max(ratios.values()) <= 1.5 else 'NOT met'}")
    session.shutdown()
    engine.close()


if __name__ == "__main__":
    main()
