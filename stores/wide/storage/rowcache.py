"""The row cache: the head of hot partitions, kept as the read API returns it.

Owns Cassandra's row cache for one engine: a byte-bounded LRU of
``CachedPartition`` entries (the live static row and the first N live rows
of a partition in clustering order, already decoded), the fill protocol that
keeps a concurrent write from leaving a stale entry behind, and the rule that
decides whether a read can be answered from an entry. Never reads memtables
or SSTables and never decides when to fill or invalidate: the engine fills
entries from its own read path and invalidates them on every write.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from .cells import NO_DELETION
from .mutation import Slice, before_end
from .pagevalues import value_tuples
from .read import PartitionResult, Row

# What a read that the cache cannot answer gets back (None is a valid answer).
MISS = object()

# How many recently missed partitions the admission filter remembers (hashes).
ADMISSION_KEYS = 32_768

# Rough per-object costs of a cached entry in CPython, for the byte bound.
_ENTRY_OVERHEAD = 400
_ROW_OVERHEAD = 250
_CELL_OVERHEAD = 150


class _Filling:
    """A placeholder for an entry being filled; a write removes it."""

    __slots__ = ()


@dataclass(slots=True, frozen=True)
class CachedPartition:
    """The head of one partition, live at ``filled_at`` and until ``expires_at``.

    ``rows`` are the first live rows in clustering order; ``complete`` says
    they are all the partition's live rows. ``keys`` are their clustering
    keys (for bisecting a slice). Rows are never handed out: a hit returns
    new Row objects over copies of their cell dicts.
    """

    token: int
    static_row: Row | None
    rows: tuple[Row, ...]
    keys: tuple[bytes, ...]
    complete: bool
    filled_at: int
    expires_at: int
    size: int


def build_entry(
    result: PartitionResult | None, rows_per_partition: int, now: int
) -> CachedPartition | None:
    """Return the cache entry for a read of the partition's first ``rows_per_partition + 1`` rows.

    ``result`` is that read's answer at ``now`` (all columns, forward
    order); None (nothing live) is not cached. Rows are copied into plain
    Rows (a LazyRow is decoded here), and the entry expires when the first
    TTL among them does.
    """
    if result is None:
        return None
    expires = NO_DELETION
    size = _ENTRY_OVERHEAD + len(result.partition_key)
    kept = []
    static = result.static_row
    head = result.rows[:rows_per_partition]
    for row in (static, *head) if static is not None else head:
        cells = row.cells
        complex_cells = row.complex_cells
        liveness = row.liveness
        clustering = row.clustering
        if liveness is not None and liveness.ttl and liveness.local_expiration_time < expires:
            expires = liveness.local_expiration_time
        size += _ROW_OVERHEAD + (len(clustering) if type(clustering) is bytes else 0)
        # Live rows hold no tombstone: every cell has a value.
        for cell in cells.values():
            size += _CELL_OVERHEAD + len(cell.value)
            if cell.ttl and cell.local_deletion_time < expires:
                expires = cell.local_deletion_time
        for elements in complex_cells.values():
            for path, cell in elements:
                size += _CELL_OVERHEAD + len(path) + len(cell.value)
                if cell.ttl and cell.local_deletion_time < expires:
                    expires = cell.local_deletion_time
        kept.append(Row(clustering, cells, complex_cells, liveness))
    static_row = kept.pop(0) if static is not None else None
    rows = tuple(kept)
    return CachedPartition(
        result.token,
        static_row,
        rows,
        tuple(r.clustering for r in rows),
        len(result.rows) <= rows_per_partition,
        now,
        expires,
        size,
    )


def _copy(row: Row, columns: frozenset[str] | None) -> Row:
    return Row(
        row.clustering,
        {n: c for n, c in row.cells.items() if n in columns},
        {n: list(e) for n, e in row.complex_cells.items() if n in columns},
        row.liveness,
    )


def _copy_rows(rows, columns: frozenset[str] | None) -> list[Row]:
    """Return new Rows over copies of ``rows``' cell dicts (a caller may change them)."""
    if columns is not None:
        return [_copy(row, columns) for row in rows]
    out = []
    append = out.append
    new = Row.__new__
    for row in rows:
        # The hot loop of a hit: Row's generated __init__ costs ~40% more.
        copied = new(Row)
        copied.clustering = row.clustering
        copied.cells = row.cells.copy()
        complex_cells = row.complex_cells
        copied.complex_cells = (
            {n: list(e) for n, e in complex_cells.items()} if complex_cells else {}
        )
        copied.liveness = row.liveness
        append(copied)
    return out


def _ends_by(end, last: bytes) -> bool:
    """Return True if no clustering key after ``last`` is before ``end``."""
    if end is None:
        return False
    if end.inclusive:
        # Keys starting with the prefix run contiguously from it: ``last``
        # past the prefix and outside that run leaves nothing after it.
        return last > end.prefix and not last.startswith(end.prefix)
    return last >= end.prefix


def _selected(entry: CachedPartition, slices: list[Slice]) -> list[int]:
    """Return the indexes of cached rows ``slices`` select, in clustering order."""
    keys = entry.keys
    picked: list[int] = []
    for sl in slices:
        start = sl.start
        if start is None:
            at = 0
        elif start.inclusive:
            at = bisect_left(keys, start.prefix)
        else:
            at = bisect_right(keys, start.prefix)
            while at < len(keys) and keys[at].startswith(start.prefix):
                at += 1
        end = sl.end
        while at < len(keys) and before_end(end, keys[at]):
            picked.append(at)
            at += 1
    return picked


def answer(
    entry: CachedPartition,
    partition_key: bytes,
    slices: list[Slice] | None,
    reverse: bool,
    limit: int | None,
    columns: frozenset[str] | None,
) -> PartitionResult | None | object:
    """Return the read's result from ``entry``, or MISS if the entry cannot prove it.

    The entry holds every live row up to its last key, so a forward read is
    answered when its limit is reached inside the cached rows, or when no
    row after them could be selected; a reverse read needs the whole
    partition cached.
    """
    chosen = _chosen(entry, slices, reverse, limit)
    if chosen is MISS:
        return MISS
    static = entry.static_row
    out = _copy_rows(chosen, columns)
    if not out and static is None:
        return None
    return PartitionResult(
        partition_key,
        entry.token,
        _copy_rows((static,), columns)[0] if static is not None else None,
        out,
    )


def answer_values(
    entry: CachedPartition,
    slices: list[Slice] | None,
    reverse: bool,
    limit: int | None,
    names: tuple[str, ...],
) -> list[tuple] | object:
    """Return ``read_values``' tuples from ``entry``, or MISS if the entry cannot prove them.

    The tuples of ``answer``'s rows (the cached rows are read in place:
    tuples hold only the values' immutable bytes, nothing a caller could
    change in the entry).
    """
    chosen = _chosen(entry, slices, reverse, limit)
    if chosen is MISS:
        return MISS
    return value_tuples(chosen, names)


def _chosen(
    entry: CachedPartition, slices: list[Slice] | None, reverse: bool, limit: int | None
) -> tuple[Row, ...] | list[Row] | object:
    """Return the cached rows a read selects, in its order, or MISS if the entry cannot prove them."""
    rows = entry.rows
    if slices is None or (len(slices) == 1 and slices[0].start is None and slices[0].end is None):
        if limit is None or limit > len(rows):
            if not entry.complete:
                return MISS
            return rows[::-1] if reverse else rows
        if reverse and not entry.complete:
            return MISS
        return rows[len(rows) - limit :][::-1] if reverse else rows[:limit]
    picked = _selected(entry, slices)
    if not entry.complete:
        if reverse:
            return MISS
        covered = limit is not None and len(picked) >= limit
        if not covered:
            last = entry.keys[-1] if rows else None
            if last is None or not all(_ends_by(sl.end, last) for sl in slices):
                return MISS
    if reverse:
        picked.reverse()
    if limit is not None:
        picked = picked[:limit]
    return [rows[i] for i in picked]


def is_head_read(slices: list[Slice] | None, reverse: bool) -> bool:
    """Return True for a read that starts at the head of the partition (worth a fill)."""
    if reverse:
        return False
    return slices is None or (bool(slices) and slices[0].start is None)


class RowCache:
    """Cached partition heads by (table id, table epoch, partition key), bounded in bytes.

    Hits take no lock (see cache.LRUCache.get); fills, invalidations and
    evictions do. A fill first puts a placeholder, the engine then reads the
    partition, and the entry replaces the placeholder only if no write
    removed it meanwhile: a write applied during the fill's read leaves
    nothing stale behind, since every write path invalidates after it
    applies.
    """

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity = capacity_bytes
        self.size = 0
        self._entries: OrderedDict = OrderedDict()
        # Hashes of partitions missed once, oldest first (the admission filter).
        self._seen: dict[int, None] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.fills = 0
        self.invalidations = 0
        self.evictions = 0

    def get(self, key: Hashable) -> CachedPartition | None:
        """Return the entry for ``key`` (None if absent or being filled)."""
        entry = self._entries.get(key)
        if entry is None or type(entry) is _Filling:
            return None
        try:
            self._entries.move_to_end(key)
        except KeyError:
            pass
        return entry

    def admit(self, key: Hashable) -> bool:
        """Return True if ``key`` should be filled now: it was missed recently.

        A partition is cached on its second miss, not its first (a
        "doorkeeper", as in TinyLFU): a fill decodes every cached row and
        may evict another entry, which reads of partitions touched once
        (uniformly random reads over many partitions) would pay for nothing.
        A partition whose entry a write removed is admitted at once.
        """
        digest = hash(key)
        with self._lock:
            seen = self._seen
            if digest in seen:
                del seen[digest]
                return True
            if len(seen) >= ADMISSION_KEYS:
                # Start afresh, as TinyLFU resets its doorkeeper: dropping
                # the oldest key instead costs a scan past the holes that
                # deletions leave at the front of a dict (microseconds).
                seen.clear()
            seen[digest] = None
            return False

    def begin_fill(self, key: Hashable) -> _Filling:
        """Put a placeholder for ``key`` and return it (for ``finish_fill``)."""
        placeholder = _Filling()
        with self._lock:
            self._drop(key)
            self._entries[key] = placeholder
        return placeholder

    def finish_fill(
        self, key: Hashable, placeholder: _Filling, entry: CachedPartition | None
    ) -> bool:
        """Store ``entry`` if ``placeholder`` is still there; return True if stored."""
        with self._lock:
            if self._entries.get(key) is not placeholder:
                return False
            del self._entries[key]
            if entry is None or entry.size > self.capacity // 4:
                return False
            self._entries[key] = entry
            self.size += entry.size
            self.fills += 1
            while self.size > self.capacity:
                _, evicted = self._entries.popitem(last=False)
                if type(evicted) is not _Filling:
                    self.size -= evicted.size
                    self.evictions += 1
            return True

    def invalidate(self, key: Hashable) -> object:
        """Forget ``key``'s entry or pending fill (a write touched the partition).

        Return what was removed (or None): freeing an entry's few hundred
        objects takes microseconds, so a caller holding a lock keeps it
        until the lock is released.
        """
        # Safe without the lock: the write is already applied, so a fill that
        # puts its placeholder after this check reads the written data.
        if key not in self._entries:
            return None
        with self._lock:
            old = self._pop(key)
            if old is not None:
                self.invalidations += 1
                # Hot enough to have been cached: refill on the next read.
                if len(self._seen) >= ADMISSION_KEYS:
                    self._seen.clear()
                self._seen[hash(key)] = None
            return old

    def invalidate_table(self, table_id: Hashable) -> None:
        """Forget every entry of one table (truncate, drop, alter)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == table_id]:
                if self._drop(key):
                    self.invalidations += 1

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._seen.clear()
            self.size = 0

    def _drop(self, key: Hashable) -> bool:
        return self._pop(key) is not None

    def _pop(self, key: Hashable) -> object:
        old = self._entries.pop(key, None)
        if old is not None and type(old) is not _Filling:
            self.size -= old.size
        return old

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self) -> dict:
        """Return the cache's counters as plain data."""
        lookups = self.hits + self.misses
        return {
            "capacity": self.capacity,
            "size": self.size,
            "entries": sum(1 for e in list(self._entries.values()) if type(e) is not _Filling),
            "hits": self.hits,
            "misses": self.misses,
            "hit_rate": self.hits / lookups if lookups else 0.0,
            "fills": self.fills,
            "invalidations": self.invalidations,
            "evictions": self.evictions,
        }
