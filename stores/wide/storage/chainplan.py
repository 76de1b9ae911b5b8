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

from dataclasses import dataclass
from itertools import pairwise

from .sstable_reader import SSTableReader

# (min token, max token, reader) in the read's clustering order.
Order = tuple[tuple[int, int, SSTableReader], ...]


@dataclass(frozen=True, slots=True)
class ChainPlan:
    """The row-only SSTables in clustering order: ``forward`` and ``reverse``."""

    forward: Order
    reverse: Order


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
    return ChainPlan(forward, forward[::-1])
