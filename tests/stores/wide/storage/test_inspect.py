"""A partition as stored: tombstones, range tombstones and expired cells stay visible."""

import pytest

from stores import wide
from stores.wide.storage.cells import Cell, LivenessInfo
from stores.wide.storage.inspect import cell_state, liveness_state, stored_partition


@pytest.fixture
def session():
    s = wide.connect("memory:")
    s.execute(
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    s.execute("CREATE TABLE ks.t (p int, c int, a text, b text, PRIMARY KEY (p, c))")
    for c in range(6):
        s.execute("INSERT INTO ks.t (p, c, a, b) VALUES (1, %s, 'x', 'y')", (c,))
    yield s
    s.shutdown()


def key(p: int) -> bytes:
    return p.to_bytes(4, "big", signed=True)


def test_deletions_are_kept_and_sources_named(session):
    engine = session.engine
    engine.flush("ks", "t")
    session.execute("DELETE FROM ks.t WHERE p = 1 AND c = 1")
    session.execute("DELETE b FROM ks.t WHERE p = 1 AND c = 2")
    session.execute("DELETE FROM ks.t WHERE p = 1 AND c >= 4")
    stored = stored_partition(engine, "ks", "t", key(1))
    assert len(stored.sources) == 2 and "memtable" in stored.sources
    by_c = {row.clustering: row for row in stored.rows}
    assert len(stored.rows) == 6  # shadowed rows are still there, under their tombstones
    deleted = [row for row in stored.rows if row.deletion is not None]
    assert len(deleted) == 1
    assert [
        cell.value
        for row in by_c.values()
        for cell in [row.cells.get("b")]
        if cell and cell.value is None
    ]
    assert len(stored.range_tombstones) == 1
    live = session.execute("SELECT c FROM ks.t WHERE p = 1").all()
    assert [r.c for r in live] == [0, 2, 3]


def test_unknown_partition_is_none(session):
    assert stored_partition(session.engine, "ks", "t", key(99)) is None


def test_row_limit_truncates(session):
    stored = stored_partition(session.engine, "ks", "t", key(1), limit=2)
    assert len(stored.rows) == 2 and stored.truncated


def test_cell_and_marker_states():
    assert cell_state(Cell(None, 10), now=0) == "tombstone"
    assert cell_state(Cell(b"v", 10, ttl=5, local_deletion_time=100), now=99) == "live"
    assert cell_state(Cell(b"v", 10, ttl=5, local_deletion_time=100), now=100) == "expired"
    assert cell_state(Cell(b"v", 10), now=10**12) == "live"
    assert liveness_state(None, now=0) is None
    assert liveness_state(LivenessInfo(10, ttl=5, local_expiration_time=50), now=60) == "expired"
