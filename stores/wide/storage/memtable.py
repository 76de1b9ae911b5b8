"""The in-memory, sorted write buffer of one table.

Owns partitions sorted by (token, partition key), rows inside each sorted by
clustering bytes, and an estimate of the memory they use. Writers mutate it
under the engine's write lock; readers take the same lock only to copy small
chunks out, so a long read never blocks writers for its whole length. Never
touches files: flushing is the engine's job.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from itertools import islice

from .cells import NO_TIMESTAMP
from .mutation import Mutation, Slice, slice_range
from .partition import PartitionData, PartitionView, RowData
from .sortedrows import SortedRows

_CHUNK = 64


class Memtable:
    """Partitions of one table not yet flushed to an SSTable."""

    def __init__(self, lock: threading.RLock | None = None) -> None:
        self.partitions = SortedRows()
        self.size = 0
        self.operations = 0
        self.min_timestamp = 2**63 - 1
        self.max_timestamp = NO_TIMESTAMP
        self.lock = lock or threading.RLock()

    def __len__(self) -> int:
        return len(self.partitions)

    def apply(self, mutation: Mutation, token: int) -> int:
        """Merge ``mutation`` in (caller holds the write lock); return bytes added."""
        key = (token, mutation.partition_key)
        partition = self.partitions.get(key)
        if partition is None:
            partition = PartitionData(mutation.partition_key, token)
            self.partitions[key] = partition
            self.size += 64 + len(mutation.partition_key)
        added = partition.apply(mutation)
        self.size += added
        self.operations += 1
        if partition.min_timestamp < self.min_timestamp:
            self.min_timestamp = partition.min_timestamp
        if partition.max_timestamp > self.max_timestamp:
            self.max_timestamp = partition.max_timestamp
        return added

    def get(self, token: int, partition_key: bytes) -> PartitionData | None:
        return self.partitions.get((token, partition_key))

    def view(
        self, token: int, partition_key: bytes, slices: list[Slice], reverse: bool
    ) -> PartitionView | None:
        """Return the partition's data for a read, rows restricted to ``slices``."""
        with self.lock:
            partition = self.partitions.get((token, partition_key))
            if partition is None:
                return None
            deletion = partition.deletion
            range_tombstones = list(partition.range_tombstones)
            static = partition.static
        return PartitionView(
            partition_key,
            token,
            deletion,
            range_tombstones,
            static,
            self._iter_rows(partition, slices, reverse),
        )

    def _iter_rows(
        self, partition: PartitionData, slices: list[Slice], reverse: bool
    ) -> Iterator[RowData]:
        for sl in reversed(slices) if reverse else slices:
            low, high = slice_range(sl)
            if low is not None and high is not None and low >= high:
                continue
            low_inclusive = True
            high_inclusive = False
            while True:
                with self.lock:
                    keys = list(
                        islice(
                            partition.rows.irange(
                                low, high, (low_inclusive, high_inclusive), reverse=reverse
                            ),
                            _CHUNK,
                        )
                    )
                    rows = [partition.rows[k] for k in keys]
                yield from rows
                if len(keys) < _CHUNK:
                    break
                if reverse:
                    high, high_inclusive = keys[-1], False
                else:
                    low, low_inclusive = keys[-1], False

    def iter_keys(
        self, start: tuple | None, start_inclusive: bool, end: tuple | None, end_inclusive: bool
    ) -> Iterator[tuple[int, bytes]]:
        """Yield (token, key) of partitions in the range, in order, in small locked chunks."""
        inclusive = (start_inclusive, end_inclusive)
        while True:
            with self.lock:
                keys = list(islice(self.partitions.irange(start, end, inclusive), _CHUNK))
            yield from keys
            if len(keys) < _CHUNK:
                return
            start, inclusive = keys[-1], (False, end_inclusive)

    def min_timestamp_of(self, token: int, partition_key: bytes) -> int:
        """Return the oldest timestamp held for the partition (max int if absent)."""
        partition = self.partitions.get((token, partition_key))
        return partition.min_timestamp if partition is not None else 2**63 - 1
