"""Row and partition data as the engine holds it between reads and writes.

Owns RowData (every version-carrying part of one row, tombstones included),
PartitionData (one partition inside a memtable) and PartitionView (what any
source, memtable or SSTable, hands the merge for one partition). RowData is
treated as immutable once published: writers replace rows, never edit them,
so a reader iterating a memtable never sees a row change under it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .cells import NO_TIMESTAMP, Cell, DeletionTime, LivenessInfo, max_deletion, reconcile
from .mutation import STATIC, RangeTombstone, RowUpdate
from .sortedrows import SortedRows


class RowData:
    """One row with every live and dead part of it (or the static row).

    ``plain`` is True only on a PlainRowData: a row known to hold no
    tombstone, no TTL cell and no complex column, so a read may skip the
    per-cell liveness checks (only its row marker can expire).
    """

    plain = False

    __slots__ = (
        "clustering",
        "liveness",
        "deletion",
        "cells",
        "complex_deletions",
        "complex_cells",
    )

    def __init__(
        self,
        clustering,
        liveness: LivenessInfo | None = None,
        deletion: DeletionTime | None = None,
        cells: dict[str, Cell] | None = None,
        complex_deletions: dict[str, DeletionTime] | None = None,
        complex_cells: dict[str, dict[bytes, Cell]] | None = None,
    ) -> None:
        self.clustering = clustering
        self.liveness = liveness
        self.deletion = deletion
        self.cells = cells if cells is not None else {}
        self.complex_deletions = complex_deletions if complex_deletions is not None else {}
        self.complex_cells = complex_cells if complex_cells is not None else {}

    @classmethod
    def from_update(cls, update: RowUpdate) -> RowData:
        complex_cells = update.complex_cells
        if (
            cls is RowData
            and update.deletion is None
            and not complex_cells
            and not update.complex_deletions
            and all(c.value is not None and not c.ttl for c in update.cells.values())
        ):
            cls = PlainRowData
        return cls(
            update.clustering,
            update.liveness,
            update.deletion,
            dict(update.cells),
            dict(update.complex_deletions) if update.complex_deletions else {},
            {name: dict(elements) for name, elements in complex_cells.items()}
            if complex_cells
            else {},
        )

    def is_empty(self) -> bool:
        return (
            self.liveness is None
            and self.deletion is None
            and not self.cells
            and not self.complex_deletions
            and not any(self.complex_cells.values())
        )

    def timestamps(self) -> Iterator[int]:
        """Yield every timestamp the row carries (for min/max statistics)."""
        if self.liveness is not None:
            yield self.liveness.timestamp
        if self.deletion is not None:
            yield self.deletion.marked_for_delete_at
        for cell in self.cells.values():
            yield cell.timestamp
        for deletion in self.complex_deletions.values():
            yield deletion.marked_for_delete_at
        for elements in self.complex_cells.values():
            for cell in elements.values():
                yield cell.timestamp

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RowData):
            return NotImplemented
        return all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __repr__(self) -> str:
        return (
            f"RowData({self.clustering!r}, liveness={self.liveness}, deletion={self.deletion}, "
            f"cells={self.cells}, complex_deletions={self.complex_deletions}, "
            f"complex_cells={self.complex_cells})"
        )


class PlainRowData(RowData):
    """A RowData the SSTable decoder found to be plain (see RowData.plain)."""

    __slots__ = ()
    plain = True


def merge_rows(left: RowData, right: RowData) -> RowData:
    """Return a new row reconciling two versions of the same row."""
    if left.liveness is None:
        liveness = right.liveness
    elif right.liveness is None or left.liveness.supersedes(right.liveness):
        liveness = left.liveness
    else:
        liveness = right.liveness
    cells = dict(left.cells)
    for name, cell in right.cells.items():
        cells[name] = reconcile(cells.get(name), cell)
    complex_deletions = dict(left.complex_deletions)
    for name, deletion in right.complex_deletions.items():
        complex_deletions[name] = max_deletion(complex_deletions.get(name), deletion)
    complex_cells = {name: dict(elements) for name, elements in left.complex_cells.items()}
    for name, elements in right.complex_cells.items():
        target = complex_cells.setdefault(name, {})
        for path, cell in elements.items():
            target[path] = reconcile(target.get(path), cell)
    return RowData(
        left.clustering,
        liveness,
        max_deletion(left.deletion, right.deletion),
        cells,
        complex_deletions,
        complex_cells,
    )


@dataclass(slots=True)
class PartitionView:
    """One source's data for one partition, rows restricted to the read's slices."""

    partition_key: bytes
    token: int
    deletion: DeletionTime | None
    range_tombstones: list[RangeTombstone]
    static: RowData | None
    rows: Iterator[RowData]
    source: str = "memtable"
    bound: bytes | None = None  # set: ``rows`` is not started until the merge reaches it
    last: bytes | None = None  # set with ``bound``: no row of ``rows`` comes after it


@dataclass(slots=True)
class PartitionData:
    """One partition inside a memtable: rows sorted by clustering bytes.

    ``rows`` maps a clustering key to the row's ``codec.encode_row`` bytes
    (see ``memtable.py``); ``static`` is a RowData.
    """

    partition_key: bytes
    token: int
    deletion: DeletionTime | None = None
    range_tombstones: list[RangeTombstone] = field(default_factory=list)
    static: RowData | None = None
    rows: SortedRows = field(default_factory=SortedRows)
    min_timestamp: int = 2**63 - 1
    max_timestamp: int = NO_TIMESTAMP


def row_footprint(row: RowData) -> tuple[int, int, int]:
    """Return (rough byte size, min timestamp, max timestamp) of a row."""
    size = 32 + (len(row.clustering) if row.clustering is not STATIC else 0)
    low = 2**63 - 1
    high = NO_TIMESTAMP
    if row.liveness is not None:
        low = high = row.liveness.timestamp
    if row.deletion is not None:
        ts = row.deletion.marked_for_delete_at
        low = min(low, ts)
        high = max(high, ts)
    for name, cell in row.cells.items():
        size += 40 + len(name) + (len(cell.value) if cell.value is not None else 0)
        ts = cell.timestamp
        if ts < low:
            low = ts
        if ts > high:
            high = ts
    if row.complex_cells or row.complex_deletions:
        for deletion in row.complex_deletions.values():
            size += 24
            low = min(low, deletion.marked_for_delete_at)
            high = max(high, deletion.marked_for_delete_at)
        for name, elements in row.complex_cells.items():
            size += len(name)
            for path, cell in elements.items():
                size += 40 + len(path) + (len(cell.value) if cell.value is not None else 0)
                low = min(low, cell.timestamp)
                high = max(high, cell.timestamp)
    return size, low, high
