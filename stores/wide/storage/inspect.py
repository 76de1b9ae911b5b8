"""A partition as it is stored: every cell, tombstone and TTL, for inspection.

Reads return only live data; the staff pages also want what a read hides:
cell and row tombstones, range tombstones, the partition deletion, expired
TTL cells, and which sources (memtable, SSTables) hold the partition. This
module merges the partition's versions from every source exactly as a read
does (newest timestamp wins, a tie goes to the tombstone) but drops nothing.
It never writes, and it reads at most ``limit`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .cells import NO_DELETION, Cell, DeletionTime, LivenessInfo, max_deletion
from .merge import iter_merged_rows
from .mutation import RangeTombstone
from .partition import RowData, merge_rows
from .token import token as partition_token

DEFAULT_ROW_LIMIT = 200


@dataclass
class StoredPartition:
    """Every version-carrying part of one partition, merged across its sources."""

    partition_key: bytes
    token: int
    sources: list[str]
    deletion: DeletionTime | None
    range_tombstones: list[RangeTombstone]
    static: RowData | None
    rows: list[RowData] = field(default_factory=list)
    truncated: bool = False


def stored_partition(
    engine, keyspace: str, table: str, partition_key: bytes, limit: int = DEFAULT_ROW_LIMIT
) -> StoredPartition | None:
    """Return the partition with its tombstones and expired cells, or None if no source has it."""
    from .engine import ALL_SLICES

    state = engine._table(keyspace, table)
    token = partition_token(partition_key)
    views = engine._partition_views(state, token, partition_key, ALL_SLICES, False, None)
    if not views:
        return None
    deletion = None
    static = None
    range_tombstones: list[RangeTombstone] = []
    holding: set[str] = set()
    for view in views:
        deletion = max_deletion(deletion, view.deletion)
        range_tombstones.extend(view.range_tombstones)
        if view.static is not None:
            static = view.static if static is None else merge_rows(static, view.static)
        if view.deletion is not None or view.range_tombstones or view.static is not None:
            holding.add(view.source)

    def noting(view):
        # Lazily opened SSTables may turn out not to hold the partition at all.
        for row in view.rows:
            holding.add(view.source)
            yield row

    rows = []
    truncated = False
    for row in iter_merged_rows([noting(view) for view in views]):
        if len(rows) == limit:
            truncated = True
            break
        rows.append(row)
    if not (rows or holding):
        return None
    return StoredPartition(
        partition_key=partition_key,
        token=token,
        sources=[view.source for view in views if view.source in holding],
        deletion=deletion,
        range_tombstones=range_tombstones,
        static=static,
        rows=rows,
        truncated=truncated,
    )


def cell_state(cell: Cell, now: int) -> str:
    """Return "live", "expired" (TTL passed) or "tombstone" for a cell at ``now`` (seconds)."""
    if cell.value is None:
        return "tombstone"
    if cell.ttl and cell.local_deletion_time != NO_DELETION and now >= cell.local_deletion_time:
        return "expired"
    return "live"


def liveness_state(liveness: LivenessInfo | None, now: int) -> str | None:
    """Return the state of a row marker, or None when the row has none (an UPDATE)."""
    if liveness is None:
        return None
    if liveness.ttl and now >= liveness.local_expiration_time:
        return "expired"
    return "live"
