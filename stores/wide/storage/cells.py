"""Cells, deletion times and row markers, and how two versions reconcile.

Owns the last-write-wins rules (Cassandra's): the higher timestamp wins; on a
tie a tombstone beats a live cell, then the greater value wins, then the later
expiry. A deletion at timestamp ``t`` shadows everything written at ``<= t``.
Never does I/O and never reads the clock: callers pass ``now`` (seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

NO_DELETION = 2**63 - 1
"""``local_deletion_time`` of a cell that is neither a tombstone nor expiring."""

NO_TIMESTAMP = -(2**63)
"""Timestamp below every real one (an absent deletion)."""


# Not frozen: a frozen dataclass costs ~1 µs per instance, and cells are
# created for every decoded row. Treat instances as immutable all the same.
@dataclass(slots=True)
class Cell:
    """One column value (``None`` = tombstone) with its write timestamp (µs).

    ``local_deletion_time`` is the expiry (seconds) of a TTL cell, the deletion
    time of a tombstone, and ``NO_DELETION`` otherwise.
    """

    value: bytes | None
    timestamp: int
    ttl: int = 0
    local_deletion_time: int = NO_DELETION

    @property
    def is_tombstone(self) -> bool:
        return self.value is None

    def is_live(self, now: int) -> bool:
        """Return True if the cell holds a value at ``now`` (seconds)."""
        return self.value is not None and (self.ttl == 0 or now < self.local_deletion_time)

    def purge_time(self) -> int:
        """Return when the cell became (or becomes) garbage: its deletion or expiry time."""
        return self.local_deletion_time


@dataclass(slots=True, order=True)
class DeletionTime:
    """A deletion at ``marked_for_delete_at`` (µs), made at ``local_deletion_time`` (s)."""

    marked_for_delete_at: int
    local_deletion_time: int

    def deletes(self, timestamp: int) -> bool:
        """Return True if data written at ``timestamp`` is shadowed by this deletion."""
        return timestamp <= self.marked_for_delete_at

    def supersedes(self, other: DeletionTime | None) -> bool:
        """Return True if this deletion wins over ``other``."""
        if other is None:
            return True
        if self.marked_for_delete_at != other.marked_for_delete_at:
            return self.marked_for_delete_at > other.marked_for_delete_at
        return self.local_deletion_time > other.local_deletion_time


@dataclass(slots=True)
class LivenessInfo:
    """The row marker an INSERT writes: the row exists at ``timestamp``."""

    timestamp: int
    ttl: int = 0
    local_expiration_time: int = NO_DELETION

    def is_live(self, now: int) -> bool:
        return self.ttl == 0 or now < self.local_expiration_time

    def supersedes(self, other: LivenessInfo | None) -> bool:
        """Return True if this marker wins over ``other`` (Cassandra's rules)."""
        if other is None:
            return True
        if self.timestamp != other.timestamp:
            return self.timestamp > other.timestamp
        if (self.ttl != 0) != (other.ttl != 0):
            return self.ttl == 0
        return self.local_expiration_time > other.local_expiration_time


def reconcile(left: Cell | None, right: Cell | None) -> Cell | None:
    """Return the winning version of one cell (either argument may be None)."""
    if left is None:
        return right
    if right is None:
        return left
    if left.timestamp != right.timestamp:
        return left if left.timestamp > right.timestamp else right
    left_dead = left.value is None
    right_dead = right.value is None
    if left_dead != right_dead:
        return left if left_dead else right
    if not left_dead and left.value != right.value:
        return left if left.value > right.value else right
    return left if left.local_deletion_time >= right.local_deletion_time else right


def max_deletion(left: DeletionTime | None, right: DeletionTime | None) -> DeletionTime | None:
    """Return the deletion that wins of two (either may be None)."""
    if left is None:
        return right
    if right is None:
        return left
    return left if left.supersedes(right) else right


def expired_as_tombstone(cell: Cell, now: int) -> Cell:
    """Return ``cell`` itself, or a tombstone if its TTL has run out.

    As in Cassandra, the tombstone's deletion time is the write time
    (expiry - ttl), so gc grace counts from when the cell was written.
    """
    if cell.ttl and cell.value is not None and now >= cell.local_deletion_time:
        return Cell(None, cell.timestamp, 0, cell.local_deletion_time - cell.ttl)
    return cell
