"""The in-memory, sorted write buffer of one table.

Owns partitions sorted by (token, partition key), rows inside each sorted by
clustering bytes and kept as their encoded bytes (immutable, and nothing
for the cyclic GC to scan), and an estimate of the memory they use. Writers mutate it
under the engine's write lock; readers take the same lock only to copy small
chunks out, so a long read never blocks writers for its whole length. Never
touches files: flushing is the engine's job.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from itertools import islice

from .blockrows import BlockRowData, LiveContext, live_in_block
from .cells import NO_TIMESTAMP, max_deletion
from .codec import decode_row, encode_row, encode_simple_row
from .mutation import STATIC, Mutation, RowUpdate, Slice, slice_range
from .partition import PartitionData, PartitionView, RowData, merge_rows, row_footprint
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

    def apply(self, mutation: Mutation, token: int, encoded_rows: list[bytes] | None = None) -> int:
        """Merge ``mutation`` in (caller holds the write lock); return bytes added.

        ``encoded_rows``, when given, holds each row of ``mutation.rows`` as
        ``codec.encode_mutation_rows`` returns it (the commit log's bytes and
        the row's timestamp range), so rows are not encoded twice.
        """
        key = (token, mutation.partition_key)
        partition = self.partitions.get(key)
        if partition is None:
            partition = PartitionData(mutation.partition_key, token)
            self.partitions[key] = partition
            self.size += 64 + len(mutation.partition_key)
        if (
            encoded_rows is not None
            and len(encoded_rows) == 1
            and encoded_rows[0][1] is not None
            and mutation.partition_deletion is None
            and not mutation.range_tombstones
            and mutation.rows[0].clustering not in partition.rows
        ):
            # One new clustered row (a time-series insert): what _apply_to
            # does for it, without its general loop.
            encoded, low, high = encoded_rows[0]
            clustering = mutation.rows[0].clustering
            partition.rows[clustering] = encoded
            added = 96 + len(clustering) + len(encoded)
            if low < partition.min_timestamp:
                partition.min_timestamp = low
            if high > partition.max_timestamp:
                partition.max_timestamp = high
        else:
            added = _apply_to(partition, mutation, encoded_rows)
        self.size += added
        self.operations += 1
        if partition.min_timestamp < self.min_timestamp:
            self.min_timestamp = partition.min_timestamp
        if partition.max_timestamp > self.max_timestamp:
            self.max_timestamp = partition.max_timestamp
        return added

    def get(self, token: int, partition_key: bytes) -> PartitionData | None:
        return self.partitions.get((token, partition_key))

    def holds(self, token: int, partition_key: bytes) -> bool:
        """Return True if the memtable has the partition (one lookup, no lock)."""
        return (token, partition_key) in self.partitions

    def view(
        self,
        token: int,
        partition_key: bytes,
        slices: list[Slice],
        reverse: bool,
        context: LiveContext | None = None,
    ) -> PartitionView | None:
        """Return the partition's data for a read, rows restricted to ``slices``.

        With ``context``, rows come as final LazyRows while it says ``fast``
        (as from ``SSTableReader.view``), else as BlockRowData.
        """
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
            self._iter_rows(partition, slices, reverse, context),
        )

    def _iter_rows(
        self,
        partition: PartitionData,
        slices: list[Slice],
        reverse: bool,
        context: LiveContext | None,
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
                    stored = partition.rows.mapping()
                    # Read at each chunk: the merge sets it before the first row.
                    if context is not None and context.fast:
                        now = context.now
                        columns = context.columns
                        rows = [
                            live_in_block(k, row, 0, now, columns, len(row))
                            or BlockRowData(k, row, 0, len(row))
                            for k in keys
                            for row in (stored[k],)
                        ]
                    else:
                        rows = [
                            BlockRowData(k, row, 0, len(row)) for k in keys for row in (stored[k],)
                        ]
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


def stored_rows(partition: PartitionData) -> Iterator[RowData]:
    """Yield the partition's rows (not the static row) in clustering order."""
    stored = partition.rows
    for clustering in stored.keys():
        yield BlockRowData(clustering, stored[clustering], 0)


def _apply_to(partition: PartitionData, mutation: Mutation, encoded_rows: list | None) -> int:
    """Merge ``mutation`` into ``partition``; return an estimate of the bytes it added."""
    added = 0
    low = partition.min_timestamp
    high = partition.max_timestamp
    deletion = mutation.partition_deletion
    if deletion is not None:
        partition.deletion = max_deletion(partition.deletion, deletion)
        low = min(low, deletion.marked_for_delete_at)
        high = max(high, deletion.marked_for_delete_at)
        added += 24
    if mutation.range_tombstones:
        partition.range_tombstones = partition.range_tombstones + list(mutation.range_tombstones)
        for rt in mutation.range_tombstones:
            low = min(low, rt.deletion.marked_for_delete_at)
            high = max(high, rt.deletion.marked_for_delete_at)
            added += 48 + len(rt.start.prefix if rt.start else b"")
            added += len(rt.end.prefix if rt.end else b"")
    rows = partition.rows
    for index, update in enumerate(mutation.rows):
        clustering = update.clustering
        if clustering is STATIC:
            row = RowData.from_update(update)
            size, row_low, row_high = row_footprint(row)
            partition.static = (
                row if partition.static is None else merge_rows(partition.static, row)
            )
        else:
            if encoded_rows is not None:
                encoded, row_low, row_high = encoded_rows[index]
            elif update.complex_cells or update.complex_deletions:
                encoded, row_low, row_high = _encode(update), None, None
            else:
                encoded, row_low, row_high = encode_simple_row(update)
            if row_low is None:
                _, row_low, row_high = row_footprint(RowData.from_update(update))
            # The bytes object, its key and its slots in the map and key list.
            size = 96 + len(clustering) + len(encoded)
            old = rows.get(clustering)
            if old is not None:
                # An overwrite of a row still in the memtable (rare for
                # time series): decode, reconcile and store the result.
                encoded = _encode(merge_rows(decode_row(old, 0)[0], RowData.from_update(update)))
            # Kept as bytes, not objects: a row costs the cyclic GC nothing.
            rows[clustering] = encoded
        added += size
        if row_low < low:
            low = row_low
        if row_high > high:
            high = row_high
    partition.min_timestamp = low
    partition.max_timestamp = high
    return added


def _encode(row: RowData | RowUpdate) -> bytes:
    out: list = []
    encode_row(row, out)
    return b"".join(out)
