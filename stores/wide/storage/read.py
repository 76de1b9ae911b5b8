"""What a read returns: live rows of a partition, and the trace of how.

Owns Row, PartitionResult and ReadTrace. Only live data ever reaches a Row:
tombstones, shadowed and expired cells are filtered out by the merge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .cells import Cell, LivenessInfo


@dataclass(slots=True)
class Row:
    """A live row: its clustering key, live cells (with timestamp/TTL) and marker."""

    clustering: bytes
    cells: dict[str, Cell]
    complex_cells: dict[str, list[tuple[bytes, Cell]]]
    liveness: LivenessInfo | None


@dataclass(slots=True)
class PartitionResult:
    """The live part of one partition that a read selected."""

    partition_key: bytes
    token: int
    static_row: Row | None
    rows: list[Row]


@dataclass(slots=True)
class ReadTrace:
    """How a read was served: sources consulted and skipped, and what was read."""

    sstables_consulted: list[str] = field(default_factory=list)
    sstables_skipped: list[tuple[str, str]] = field(default_factory=list)
    memtables_consulted: int = 0
    partitions_read: int = 0
    rows_read: int = 0
    cells_read: int = 0
    tombstones_read: int = 0
    live_rows: int = 0
    blocks_read: int = 0
    events: list[str] = field(default_factory=list)
    # "hit", "miss", ... for a table with a row cache; None when not consulted.
    row_cache: str | None = None

    def skip(self, sstable: str, reason: str) -> None:
        self.sstables_skipped.append((sstable, reason))

    def summary(self) -> dict:
        """Return the trace as plain data (for the admin pages)."""
        return {
            "sstables_consulted": list(self.sstables_consulted),
            "sstables_skipped": [list(s) for s in self.sstables_skipped],
            "memtables_consulted": self.memtables_consulted,
            "partitions_read": self.partitions_read,
            "rows_read": self.rows_read,
            "cells_read": self.cells_read,
            "tombstones_read": self.tombstones_read,
            "live_rows": self.live_rows,
            "blocks_read": self.blocks_read,
            "row_cache": self.row_cache,
        }
