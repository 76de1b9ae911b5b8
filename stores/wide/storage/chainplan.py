"""Which SSTables a partition read may chain end to end, worked out once per SSTable set.

Owns the read plan of a table whose SSTables hold rows only (no partition
deletion, range tombstone or static row) and whose clustering ranges do
not overlap, as a time series' flushes and compactions do. A read of a
partition no memtable holds then needs no merge: each SSTable's rows, one
SSTable after another in clustering order, each looked up only when the
one before is exhausted (a LIMIT read stops inside the first). This is
what ``merge.chain_disjoint`` finds per read from the partition's views;
here it is found once, when the SSTable set changes, and the engine's
read walks the plan's order instead of building views. Never reads files.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from itertools import pairwise

from .mutation import Slice, slice_range
from .sstable_reader import SSTableReader

# (min token, max token, reader) in the read's clustering order.
Order = tuple[tuple[int, int, SSTableReader], ...]


@dataclass(frozen=True, slots=True)
class ChainPlan:
    """The row-only SSTables in clustering order: ``forward`` and ``reverse``.

    ``mins`` and ``maxes`` are their clustering bounds in ``forward``
    order; the ranges do not overlap, so both ascend.
    """

    forward: Order
    reverse: Order
    mins: tuple[bytes, ...]
    maxes: tuple[bytes, ...]

    def order(self, slices: list[Slice], reverse: bool) -> tuple[Order, bool]:
        """Return the SSTables a read of ``slices`` walks, and whether each must still be checked.

        For one slice, the SSTables whose clustering bounds meet it are
        found by binary search (a point read of a long time series lands
        on one of many), and need no ``may_intersect``: the search asked
        what it asks. Otherwise every SSTable, each to be checked.
        """
        if len(slices) != 1:
            return (self.reverse if reverse else self.forward), True
        sl = slices[0]
        if sl.start is None and sl.end is None:  # the whole partition
            return (self.reverse if reverse else self.forward), False
        low, high = slice_range(sl)
        if low is not None and high is not None and low >= high:
            return (), False  # an empty range
        first = 0 if low is None else bisect_left(self.maxes, low)
        stop = len(self.mins) if high is None else bisect_left(self.mins, high, first)
        chosen = self.forward[first:stop]
        return (chosen[::-1] if reverse else chosen), False


def chain_plan(readers: list[SSTableReader]) -> ChainPlan | None:
    """Return the plan for ``readers``, or None if some reads of them need a merge.

    None when an SSTable holds partition-level data (its deletions may
    shadow other SSTables' rows, its static row needs reading) or when two
    SSTables' clustering ranges meet. SSTables without rows are left out:
    every read skips them (by token range or clustering bounds).
    """
    usable = []
    for reader in readers:
        if reader.has_partition_level_data:
            return None
        if reader.min_token is None or reader.min_clustering is None:
            continue
        usable.append(reader)
    usable.sort(key=lambda r: r.min_clustering)
    for before, after in pairwise(usable):
        if after.min_clustering <= before.max_clustering:
            return None
    forward = tuple((r.min_token, r.max_token, r) for r in usable)
    return ChainPlan(
        forward,
        forward[::-1],
        tuple(r.min_clustering for r in usable),
        tuple(r.max_clustering for r in usable),
    )
