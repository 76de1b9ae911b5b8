"""K-way merge of one partition's versions from several sources.

Owns reconciliation across sources: rows from each source arrive in
clustering order and are merged by clustering key; partition deletions,
range tombstones, row deletions and TTL expiry are applied on the way out.
Two outputs: the live view a read returns, and the compacted view a flush or
compaction writes (tombstones kept unless purgeable). Never does I/O itself:
sources hand it iterators.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

from .blockrows import BlockRowData, LazyRow, LiveContext
from .cells import Cell, DeletionTime, expired_as_tombstone, max_deletion
from .mutation import RangeTombstone
from .partition import PartitionView, RowData, merge_rows
from .read import PartitionResult, ReadTrace, Row


class _Descending:
    """A clustering key that sorts backwards, for reverse merges on a min-heap."""

    __slots__ = ("key",)

    def __init__(self, key: bytes) -> None:
        self.key = key

    def __lt__(self, other: _Descending) -> bool:
        return self.key > other.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.key == other.key


def iter_merged_rows(
    sources: list[Iterator[RowData]],
    reverse: bool = False,
    bounds: list[bytes | None] | None = None,
) -> Iterator[RowData]:
    """Yield rows from clustering-ordered ``sources``, versions of a key merged.

    ``bounds[i]``, when not None, is a key no row of source ``i`` comes
    before (in the merge's direction): the source is not started until the
    merge reaches it, so a read that hits its limit first never opens it
    (Cassandra's lazily initialised SSTable iterators).
    """
    if len(sources) == 1:
        yield from sources[0]
        return
    wrap = _Descending if reverse else None
    heap: list = []

    def advance(index: int) -> None:
        row = next(sources[index], None)
        if row is not None:
            key = row.clustering
            heapq.heappush(heap, (wrap(key) if wrap else key, 1, index, row))

    for index in range(len(sources)):
        bound = bounds[index] if bounds is not None else None
        if bound is None:
            advance(index)
        else:
            heapq.heappush(heap, (wrap(bound) if wrap else bound, 0, index, None))
    pending: RowData | None = None
    while heap:
        _key, kind, index, row = heapq.heappop(heap)
        advance(index)
        if kind == 0:
            continue
        if pending is None:
            pending = row
        elif pending.clustering == row.clustering:
            pending = merge_rows(pending, row)
        else:
            yield pending
            pending = row
    if pending is not None:
        yield pending


_first = itemgetter(0)


def chain_disjoint(views: list[PartitionView], reverse: bool) -> Iterator[RowData] | None:
    """Return the views' rows one source after another, or None if they may overlap.

    Sources whose clustering ranges (``bound`` to ``last``) are disjoint
    need no merge: sorted by range they can be read end to end, each
    started only when the one before is exhausted (a time series' newest
    SSTable holds only its newest rows, so a LIMIT read stops inside it).
    """
    ranges = []
    for view in views:
        if view.bound is None or view.last is None:
            return None
        ranges.append((view.bound, view.last, view.rows))
    ranges.sort(key=_first, reverse=reverse)
    previous = None
    for bound, last, _rows in ranges:
        if previous is not None and (bound >= previous if reverse else bound <= previous):
            return None
        previous = last
    return chain.from_iterable([rows for _bound, _last, rows in ranges])


def covering_deletion(
    clustering: bytes, base: DeletionTime | None, range_tombstones: list[RangeTombstone]
) -> DeletionTime | None:
    """Return the strongest deletion among ``base`` and the tombstones covering ``clustering``."""
    deletion = base
    for rt in range_tombstones:
        if rt.slice.contains(clustering):
            deletion = max_deletion(deletion, rt.deletion)
    return deletion


def _count(row: RowData, trace: ReadTrace) -> None:
    trace.rows_read += 1
    if row.deletion is not None:
        trace.tombstones_read += 1
    trace.tombstones_read += len(row.complex_deletions)
    for cell in row.cells.values():
        trace.cells_read += 1
        if cell.value is None:
            trace.tombstones_read += 1
    for elements in row.complex_cells.values():
        for cell in elements.values():
            trace.cells_read += 1
            if cell.value is None:
                trace.tombstones_read += 1


def live_row(
    row: RowData, deletion: DeletionTime | None, now: int, columns: frozenset[str] | None
) -> Row | None:
    """Return the live part of ``row`` under ``deletion``, or None if nothing is live."""
    if type(row) is BlockRowData:
        if deletion is None:
            result = row.live(now, columns)
            if result is not False:
                return result
        row = row.decoded()
    if row.plain and deletion is None and columns is None:
        # Decoded without a tombstone or TTL cell: every cell is live.
        liveness = row.liveness
        if liveness is not None and liveness.ttl and now >= liveness.local_expiration_time:
            liveness = None
        if liveness is None and not row.cells:
            return None
        return Row(row.clustering, dict(row.cells), {}, liveness)
    if (
        deletion is None
        and row.deletion is None
        and columns is None
        and not row.complex_cells
        and not row.complex_deletions
    ):
        # The common case (no tombstone in sight): only TTLs can hide data.
        liveness = row.liveness
        if liveness is not None and liveness.ttl and now >= liveness.local_expiration_time:
            liveness = None
        cells = {
            name: cell
            for name, cell in row.cells.items()
            if cell.value is not None and (cell.ttl == 0 or now < cell.local_deletion_time)
        }
        if liveness is None and not cells:
            return None
        return Row(row.clustering, cells, {}, liveness)
    row_deletion = max_deletion(deletion, row.deletion)
    shadow = row_deletion.marked_for_delete_at if row_deletion is not None else None
    live = False
    liveness = row.liveness
    if liveness is not None:
        if (shadow is not None and liveness.timestamp <= shadow) or not liveness.is_live(now):
            liveness = None
        else:
            live = True
    cells: dict[str, Cell] = {}
    for name, cell in row.cells.items():
        if cell.value is None or (shadow is not None and cell.timestamp <= shadow):
            continue
        if cell.ttl and now >= cell.local_deletion_time:
            continue
        live = True
        if columns is None or name in columns:
            cells[name] = cell
    complex_cells: dict[str, list[tuple[bytes, Cell]]] = {}
    for name, elements in row.complex_cells.items():
        col_deletion = max_deletion(row_deletion, row.complex_deletions.get(name))
        col_shadow = col_deletion.marked_for_delete_at if col_deletion is not None else None
        kept = []
        for path in sorted(elements):
            cell = elements[path]
            if cell.value is None or (col_shadow is not None and cell.timestamp <= col_shadow):
                continue
            if cell.ttl and now >= cell.local_deletion_time:
                continue
            kept.append((path, cell))
        if kept:
            live = True
            if columns is None or name in columns:
                complex_cells[name] = kept
    if not live:
        return None
    return Row(row.clustering, cells, complex_cells, liveness)


def collect_live(
    rows_in: Iterable[RowData],
    rows: list[Row],
    limit: int | None,
    now: int,
    columns: frozenset[str] | None,
) -> None:
    """Append the live rows of ``rows_in`` to ``rows``, up to ``limit`` in all.

    For rows nothing outside them can delete (no partition deletion, no
    range tombstone): the common case, kept tight. ``rows_in`` is left
    where the limit stopped it.
    """
    for row in rows_in:
        if type(row) is LazyRow:
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                return
            continue
        if type(row) is BlockRowData:
            result = row.live(now, columns)
            if result is False:
                result = live_row(row.decoded(), None, now, columns)
        else:
            result = live_row(row, None, now, columns)
        if result is not None:
            rows.append(result)
            if limit is not None and len(rows) >= limit:
                return


def read_partition(
    views: list[PartitionView],
    *,
    reverse: bool,
    limit: int | None,
    columns: frozenset[str] | None,
    now: int,
    trace: ReadTrace | None,
    context: LiveContext | None = None,
) -> PartitionResult | None:
    """Merge one partition's ``views`` into its live result, or None if nothing is live.

    ``context``, when the views' SSTable sources were opened with it, is
    told before the first row whether they may hand out final LazyRows.
    """
    if not views:
        return None
    first = views[0]
    partition_deletion = None
    range_tombstones: list[RangeTombstone] = []
    static: RowData | None = None
    for view in views:
        if view.deletion is not None:
            partition_deletion = max_deletion(partition_deletion, view.deletion)
        if view.range_tombstones:
            range_tombstones.extend(view.range_tombstones)
        if view.static is not None:
            static = view.static if static is None else merge_rows(static, view.static)
    if trace is not None:
        trace.partitions_read += 1
        trace.tombstones_read += len(range_tombstones) + (partition_deletion is not None)
    if partition_deletion is not None:
        # A range tombstone no newer than the partition deletion changes nothing.
        range_tombstones = [
            rt
            for rt in range_tombstones
            if rt.deletion.marked_for_delete_at > partition_deletion.marked_for_delete_at
        ]
    static_row = None
    if static is not None:
        if trace is not None:
            _count(static, trace)
        static_row = live_row(static, partition_deletion, now, columns)
    rows: list[Row] = []
    if limit is None or limit > 0:
        merged = False
        if len(views) == 1:
            rows_in = first.rows
        else:
            rows_in = chain_disjoint(views, reverse)
            if rows_in is None:
                merged = True
                rows_in = iter_merged_rows(
                    [v.rows for v in views], reverse, [v.bound for v in views]
                )
        if trace is None and partition_deletion is None and not range_tombstones:
            # Nothing outside the rows can delete them: the common case, kept tight.
            if context is not None and not merged:
                # No two versions of a row meet: a source may hand out a row
                # its marker proves live as the final LazyRow.
                context.now = now
                context.columns = columns
                context.fast = True
            collect_live(rows_in, rows, limit, now, columns)
            rows_in = ()
        for row in rows_in:
            if trace is not None:
                _count(row, trace)
            if range_tombstones:
                deletion = covering_deletion(row.clustering, partition_deletion, range_tombstones)
            else:
                deletion = partition_deletion
            result = live_row(row, deletion, now, columns)
            if result is not None:
                rows.append(result)
                if limit is not None and len(rows) >= limit:
                    break
    if trace is not None:
        trace.live_rows += len(rows)
    if not rows and static_row is None:
        return None
    return PartitionResult(first.partition_key, first.token, static_row, rows)


@dataclass(slots=True)
class Purger:
    """Decides which tombstones a compaction may drop for good.

    A tombstone goes only once gc grace has passed (``local_deletion_time <
    gc_before``) and it is older than any data for the partition that
    survives outside the compaction (``timestamp < max_purgeable``).
    """

    gc_before: int
    max_purgeable: int

    def can_purge(self, timestamp: int, local_deletion_time: int) -> bool:
        return local_deletion_time < self.gc_before and timestamp < self.max_purgeable


@dataclass(slots=True)
class CompactedPartition:
    """A partition ready to be written: tombstones kept, shadowed data gone."""

    partition_key: bytes
    token: int
    deletion: DeletionTime | None
    range_tombstones: list[RangeTombstone]
    static: RowData | None
    rows: Iterator[RowData]


def _compact_row(
    row: RowData, deletion: DeletionTime | None, now: int, purger: Purger | None
) -> RowData | None:
    row_deletion = row.deletion
    if row_deletion is not None and deletion is not None and not row_deletion.supersedes(deletion):
        row_deletion = None
    if row_deletion is not None and purger is not None:
        if purger.can_purge(row_deletion.marked_for_delete_at, row_deletion.local_deletion_time):
            row_deletion = None
    active = max_deletion(deletion, row.deletion)
    shadow = active.marked_for_delete_at if active is not None else None
    liveness = row.liveness
    if liveness is not None and shadow is not None and liveness.timestamp <= shadow:
        liveness = None
    if liveness is not None and liveness.ttl and not liveness.is_live(now):
        # An expired marker is a dead marker; keep it until it could shadow nothing.
        if purger is not None and purger.can_purge(
            liveness.timestamp, liveness.local_expiration_time - liveness.ttl
        ):
            liveness = None
    cells: dict[str, Cell] = {}
    for name, cell in row.cells.items():
        if shadow is not None and cell.timestamp <= shadow:
            continue
        cell = expired_as_tombstone(cell, now)
        if (
            cell.value is None
            and purger is not None
            and purger.can_purge(cell.timestamp, cell.local_deletion_time)
        ):
            continue
        cells[name] = cell
    complex_deletions: dict[str, DeletionTime] = {}
    complex_cells: dict[str, dict[bytes, Cell]] = {}
    for name in set(row.complex_deletions) | set(row.complex_cells):
        col_deletion = row.complex_deletions.get(name)
        if col_deletion is not None and active is not None and not col_deletion.supersedes(active):
            col_deletion = None
        effective = max_deletion(active, col_deletion)
        col_shadow = effective.marked_for_delete_at if effective is not None else None
        if col_deletion is not None and not (
            purger is not None
            and purger.can_purge(
                col_deletion.marked_for_delete_at, col_deletion.local_deletion_time
            )
        ):
            complex_deletions[name] = col_deletion
        kept: dict[bytes, Cell] = {}
        for path, cell in row.complex_cells.get(name, {}).items():
            if col_shadow is not None and cell.timestamp <= col_shadow:
                continue
            cell = expired_as_tombstone(cell, now)
            if (
                cell.value is None
                and purger is not None
                and purger.can_purge(cell.timestamp, cell.local_deletion_time)
            ):
                continue
            kept[path] = cell
        if kept:
            complex_cells[name] = kept
    result = RowData(
        row.clustering, liveness, row_deletion, cells, complex_deletions, complex_cells
    )
    return None if result.is_empty() else result


def compact_partition(
    views: list[PartitionView], *, now: int, purger: Purger | None
) -> CompactedPartition | None:
    """Merge ``views`` into what a flush or compaction writes, or None if nothing remains.

    Shadowed data is dropped (its shadowing tombstone is written with it);
    expired TTL cells become tombstones; tombstones go only if ``purger``
    allows it (flushes pass None: they never purge).
    """
    first = views[0]
    deletion = None
    range_tombstones: list[RangeTombstone] = []
    static = None
    for view in views:
        deletion = max_deletion(deletion, view.deletion)
        range_tombstones.extend(view.range_tombstones)
        if view.static is not None:
            static = view.static if static is None else merge_rows(static, view.static)
    if deletion is not None:
        range_tombstones = [
            rt
            for rt in range_tombstones
            if rt.deletion.marked_for_delete_at > deletion.marked_for_delete_at
        ]
    range_tombstones = _dedupe(range_tombstones)
    # Purged range tombstones still drop the data they shadow inside this merge.
    all_rts = list(range_tombstones)
    if purger is not None:
        range_tombstones = [
            rt
            for rt in range_tombstones
            if not purger.can_purge(
                rt.deletion.marked_for_delete_at, rt.deletion.local_deletion_time
            )
        ]
    compacted_static = _compact_row(static, deletion, now, purger) if static is not None else None
    row_deletion_base = deletion
    kept_deletion = deletion
    if kept_deletion is not None and purger is not None:
        if purger.can_purge(kept_deletion.marked_for_delete_at, kept_deletion.local_deletion_time):
            kept_deletion = None

    def rows() -> Iterator[RowData]:
        for row in iter_merged_rows([v.rows for v in views]):
            active = (
                covering_deletion(row.clustering, row_deletion_base, all_rts)
                if all_rts
                else row_deletion_base
            )
            out = _compact_row(row, active, now, purger)
            if out is not None:
                yield out

    return CompactedPartition(
        first.partition_key, first.token, kept_deletion, range_tombstones, compacted_static, rows()
    )


def _dedupe(range_tombstones: Iterable[RangeTombstone]) -> list[RangeTombstone]:
    seen = {}
    for rt in range_tombstones:
        key = (rt.start, rt.end)
        old = seen.get(key)
        if old is None or rt.deletion.supersedes(old.deletion):
            seen[key] = rt
    return list(seen.values())
