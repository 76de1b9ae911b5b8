"""Helpers shared by the engine tests: a clock, a schema, mutation builders."""

from stores.wide.storage import (
    STATIC,
    Cell,
    ClusteringColumn,
    DeletionTime,
    LivenessInfo,
    Mutation,
    RowUpdate,
    TableOptions,
    TableSchema,
)


class Clock:
    """A settable clock (seconds) injected into the engine."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def history_schema(**options) -> TableSchema:
    return TableSchema(
        "ks",
        "t",
        partition_key=["user"],
        clustering=[ClusteringColumn("at", descending=True)],
        static=["name"],
        regular=["v", "w", "tags"],
        collections={"tags"},
        options=TableOptions(**options),
        metadata={"types": {"v": "text"}, "comment": "test"},
    )


def setup(engine, **options) -> None:
    engine.create_keyspace(
        "ks", {"replication": {"class": "SimpleStrategy", "replication_factor": 1}}
    )
    engine.create_table(history_schema(**options))


def put(
    key: bytes, clustering: bytes, value: bytes, ts: int, ttl: int = 0, marker=True
) -> Mutation:
    return Mutation(
        "ks",
        "t",
        key,
        rows=[
            RowUpdate(
                clustering,
                LivenessInfo(ts, ttl) if marker else None,
                cells={"v": Cell(value, ts, ttl)},
            )
        ],
    )


def delete_row(key: bytes, clustering: bytes, ts: int, now: int = 0) -> Mutation:
    return Mutation("ks", "t", key, rows=[RowUpdate(clustering, deletion=DeletionTime(ts, now))])


def delete_partition(key: bytes, ts: int, now: int = 0) -> Mutation:
    return Mutation("ks", "t", key, partition_deletion=DeletionTime(ts, now))


def static(key: bytes, value: bytes, ts: int) -> Mutation:
    return Mutation("ks", "t", key, rows=[RowUpdate(STATIC, cells={"name": Cell(value, ts)})])


def values(result) -> list[tuple[bytes, bytes]]:
    if result is None:
        return []
    return [(r.clustering, r.cells["v"].value) for r in result.rows if "v" in r.cells]
