"""The engine against a plain-dict model, under random interleavings.

Writes, cell/row/range/partition deletions, TTLs (injected clock), flushes,
compactions, clean restarts and power-cut restarts are interleaved; after
every step each partition reads exactly as the model says. The model knows
nothing of memtables or SSTables: it keeps every version written and applies
Cassandra's rules at read time.
"""

import math

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from stores.wide.storage import (
    STATIC,
    Bound,
    Cell,
    DeletionTime,
    LivenessInfo,
    Mutation,
    RangeTombstone,
    RowUpdate,
    Slice,
    StorageEngine,
    TokenBound,
    token,
)
from stores.wide.storage.fs import FaultInjectingFileSystem

from .engine_support import Clock, setup

PKS = [b"p0", b"p1", b"p2"]
CKS = [b"a", b"b", b"c", b"d", b"e"]
COLUMNS = ["v", "w"]
PATHS = [b"x", b"y", b"z"]
GC_GRACE = 5
COMPACTION = {
    "class": "SizeTieredCompactionStrategy",
    "min_threshold": 2,
    "min_sstable_size": 0,
}

bounds = st.none() | st.builds(Bound, st.sampled_from(CKS), st.booleans())


class Model:
    """Every version ever written; reads apply last-write-wins and deletions."""

    def __init__(self) -> None:
        self.cells: dict[tuple, list[tuple[int, bytes | None, float]]] = {}
        self.markers: dict[tuple, list[tuple[int, int, float]]] = {}
        self.deletions: list[tuple[bytes, Slice | None, int]] = []
        self.elements: dict[tuple, list[tuple[int, bytes | None]]] = {}
        self.collection_deletions: dict[tuple, int] = {}

    def write_cell(self, pk, ck, column, ts, value, expiry):
        self.cells.setdefault((pk, ck, column), []).append((ts, value, expiry))

    def write_marker(self, pk, ck, ts, ttl, expiry):
        self.markers.setdefault((pk, ck), []).append((ts, ttl, expiry))

    def deleted_at(self, pk, ck) -> int:
        newest = -math.inf
        for key, scope, ts in self.deletions:
            if key != pk:
                continue
            if scope is None or (ck is not STATIC and scope.contains(ck)):
                newest = max(newest, ts)
        return newest

    def cell(self, pk, ck, column, now):
        versions = self.cells.get((pk, ck, column))
        if not versions:
            return None
        ts, value, expiry = max(versions, key=lambda v: (v[0], v[1] is None, v[1] or b"", v[2]))
        if value is None or now >= expiry or ts <= self.deleted_at(pk, ck):
            return None
        return value

    def marker_live(self, pk, ck, now) -> bool:
        versions = self.markers.get((pk, ck))
        if not versions:
            return False
        ts, _ttl, expiry = max(versions, key=lambda v: (v[0], v[1] == 0, v[2]))
        return now < expiry and ts > self.deleted_at(pk, ck)

    def collection(self, pk, ck) -> list[bytes]:
        shadow = max(self.deleted_at(pk, ck), self.collection_deletions.get((pk, ck), -math.inf))
        live = []
        for path in PATHS:
            versions = self.elements.get((pk, ck, path))
            if not versions:
                continue
            ts, value = max(versions, key=lambda v: (v[0], v[1] is None, v[1] or b""))
            if value is not None and ts > shadow:
                live.append(path)
        return live

    def partition(self, pk, now):
        rows = {}
        for ck in CKS:
            cells = {c: self.cell(pk, ck, c, now) for c in COLUMNS}
            cells = {c: v for c, v in cells.items() if v is not None}
            tags = self.collection(pk, ck)
            if tags:
                cells["tags"] = tags
            if cells or self.marker_live(pk, ck, now):
                rows[ck] = cells
        static = self.cell(pk, STATIC, "name", now)
        return rows, static


def observed(result):
    if result is None:
        return {}, None
    rows = {}
    for r in result.rows:
        rows[r.clustering] = {c: cell.value for c, cell in r.cells.items()}
        if "tags" in r.complex_cells:
            rows[r.clustering]["tags"] = [path for path, _ in r.complex_cells["tags"]]
    static = result.static_row.cells["name"].value if result.static_row is not None else None
    return rows, static


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.fs = FaultInjectingFileSystem()
        self.model = Model()
        self.base = 1000
        self.engine = self._open()
        setup(self.engine, gc_grace_seconds=GC_GRACE, compaction=dict(COMPACTION))

    def _open(self) -> StorageEngine:
        return StorageEngine.open(
            "/db",
            fs=self.fs,
            commitlog_sync="batch",
            clock=self.clock,
            background=False,
            memtable_flush_threshold=3000,
            commitlog_segment_size=4096,
        )

    def _ts(self, jitter: int) -> int:
        self.base += 1
        return self.base + jitter

    def _now(self) -> int:
        return int(self.clock())

    @rule(
        pk=st.sampled_from(PKS),
        ck=st.sampled_from(CKS),
        cells=st.dictionaries(
            st.sampled_from(COLUMNS), st.none() | st.binary(max_size=3), min_size=1
        ),
        marker=st.booleans(),
        ttl=st.sampled_from([0, 0, 3, 7]),
        jitter=st.integers(0, 3),
    )
    def write(self, pk, ck, cells, marker, ttl, jitter):
        ts = self._ts(jitter)
        now = self._now()
        row = RowUpdate(ck)
        if marker:
            row.liveness = LivenessInfo(ts, ttl)
            self.model.write_marker(pk, ck, ts, ttl, now + ttl if ttl else math.inf)
        for column, value in cells.items():
            cell_ttl = ttl if value is not None else 0
            row.cells[column] = Cell(value, ts, cell_ttl)
            expiry = now + cell_ttl if cell_ttl else math.inf
            self.model.write_cell(pk, ck, column, ts, value, expiry)
        self.engine.apply(Mutation("ks", "t", pk, rows=[row]))

    @rule(
        pk=st.sampled_from(PKS),
        ck=st.sampled_from(CKS),
        added=st.dictionaries(st.sampled_from(PATHS), st.booleans(), min_size=1),
        overwrite=st.booleans(),
        jitter=st.integers(0, 3),
    )
    def update_collection(self, pk, ck, added, overwrite, jitter):
        """Add/remove set elements without reading; ``overwrite`` replaces the whole set."""
        ts = self._ts(jitter)
        model = self.model
        row = RowUpdate(ck)
        if overwrite:
            # Cassandra overwrites a collection with a deletion just below the new elements.
            row.complex_deletions["tags"] = DeletionTime(ts - 1, self._now())
            previous = model.collection_deletions.get((pk, ck), -math.inf)
            model.collection_deletions[(pk, ck)] = max(previous, ts - 1)
        row.complex_cells["tags"] = {}
        for path, present in added.items():
            row.complex_cells["tags"][path] = Cell(b"" if present else None, ts)
            model.elements.setdefault((pk, ck, path), []).append((ts, b"" if present else None))
        self.engine.apply(Mutation("ks", "t", pk, rows=[row]))

    @rule(
        pk=st.sampled_from(PKS), value=st.none() | st.binary(max_size=3), jitter=st.integers(0, 3)
    )
    def write_static(self, pk, value, jitter):
        ts = self._ts(jitter)
        self.engine.apply(
            Mutation("ks", "t", pk, rows=[RowUpdate(STATIC, cells={"name": Cell(value, ts)})])
        )
        self.model.write_cell(pk, STATIC, "name", ts, value, math.inf)

    @rule(pk=st.sampled_from(PKS), ck=st.sampled_from(CKS), jitter=st.integers(0, 3))
    def delete_row(self, pk, ck, jitter):
        ts = self._ts(jitter)
        deletion = DeletionTime(ts, self._now())
        self.engine.apply(Mutation("ks", "t", pk, rows=[RowUpdate(ck, deletion=deletion)]))
        self.model.deletions.append((pk, Slice(Bound(ck, True), Bound(ck, True)), ts))

    @rule(pk=st.sampled_from(PKS), start=bounds, end=bounds, jitter=st.integers(0, 3))
    def delete_range(self, pk, start, end, jitter):
        ts = self._ts(jitter)
        rt = RangeTombstone(start, end, DeletionTime(ts, self._now()))
        self.engine.apply(Mutation("ks", "t", pk, range_tombstones=[rt]))
        self.model.deletions.append((pk, Slice(start, end), ts))

    @rule(pk=st.sampled_from(PKS), jitter=st.integers(0, 3))
    def delete_partition(self, pk, jitter):
        ts = self._ts(jitter)
        self.engine.apply(Mutation("ks", "t", pk, partition_deletion=DeletionTime(ts, self._now())))
        self.model.deletions.append((pk, None, ts))

    @rule()
    def flush(self):
        self.engine.flush()

    @rule()
    def compact(self):
        self.engine.compact("ks", "t")

    @rule(seconds=st.integers(1, 8))
    def advance_clock(self, seconds):
        self.clock.advance(seconds)
        # Writes older than a purgeable tombstone may resurrect data in
        # Cassandra too (the gc_grace contract); keep new writes newer.
        self.base += 10

    @rule()
    def restart(self):
        self.engine.close()
        self.engine = self._open()

    @rule(torn=st.booleans(), seed=st.integers(0, 100))
    def power_cut(self, torn, seed):
        """Every write was acknowledged in batch mode: all must survive."""
        self.engine.kill()
        self.fs = self.fs.crash(torn=torn, seed=seed)
        self.engine = self._open()

    @invariant()
    def reads_match_the_model(self):
        now = self._now()
        for pk in PKS:
            assert observed(self.engine.read("ks", "t", pk)) == self.model.partition(pk, now), pk

    @invariant()
    def slices_and_scans_match_the_model(self):
        now = self._now()
        pk = PKS[0]
        rows, _ = self.model.partition(pk, now)
        sl = Slice(Bound(b"b", True), Bound(b"d", False))
        want = [ck for ck in sorted(rows, reverse=True) if sl.contains(ck)][:2]
        got = self.engine.read("ks", "t", pk, slices=[sl], reverse=True, limit=2)
        assert ([r.clustering for r in got.rows] if got else []) == want
        scanned = {p.partition_key: observed(p) for p in self.engine.scan("ks", "t")}
        expected = {}
        for key in PKS:
            part = self.model.partition(key, now)
            if part[0] or part[1] is not None:
                expected[key] = part
        assert scanned == expected
        ordered = [
            p.token for p in self.engine.scan("ks", "t", start=TokenBound(token(PKS[1]), None))
        ]
        assert ordered == sorted(token(k) for k in expected if token(k) >= token(PKS[1]))

    def teardown(self):
        self.engine.close()


EngineMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=35, deadline=None)
test_engine_matches_model = EngineMachine.TestCase
