"""Writes one immutable SSTable from partitions given in (token, key) order.

Owns the write side of the SSTable format (docs/wide/storage.md): row blocks
then a partition header per partition in Data.db, the partition index, its
sparse summary, the bloom filter and the statistics. Every component goes to
a ``tmp-`` file, is fsynced and renamed into place; the caller then records
the SSTable in the manifest. Never decides what to write: flushes and
compactions hand it compacted partitions.
"""

from __future__ import annotations

import json
import struct
import time

from .blocks import frame_block
from .bloom import BloomFilter
from .cells import NO_DELETION, NO_TIMESTAMP
from .codec import encode_deletion, encode_range_tombstone, encode_row
from .format import (
    COMPONENTS,
    I64,
    INDEX_BLOCK_ENTRIES,
    INDEX_ENTRY_HEAD,
    INDEX_ENTRY_TAIL,
    ROW_BLOCK_SIZE,
    ROW_INDEX_TAIL,
    SSTABLE_FORMAT_VERSION,
    TEMP_PREFIX,
    U8,
    U16,
    U32,
)
from .fs import FileSystem
from .merge import CompactedPartition
from .partition import RowData


def component_path(directory: str, generation: int, component: str, temp: bool = False) -> str:
    prefix = TEMP_PREFIX if temp else ""
    return f"{directory}/{prefix}{generation:08d}-{component}"


class _Stats:
    def __init__(self) -> None:
        self.min_timestamp = 2**63 - 1
        self.max_timestamp = NO_TIMESTAMP
        self.min_local_deletion_time = NO_DELETION
        self.max_local_deletion_time = 0
        self.min_clustering: bytes | None = None
        self.max_clustering: bytes | None = None
        self.partitions = 0
        self.rows = 0
        self.cells = 0
        self.tombstones = 0
        self.has_partition_deletions = False
        self.has_range_tombstones = False
        self.has_static = False

    def timestamp(self, ts: int) -> None:
        if ts < self.min_timestamp:
            self.min_timestamp = ts
        if ts > self.max_timestamp:
            self.max_timestamp = ts

    def deletion_time(self, ldt: int) -> None:
        if ldt < self.min_local_deletion_time:
            self.min_local_deletion_time = ldt
        if ldt > self.max_local_deletion_time:
            self.max_local_deletion_time = ldt

    def row(self, row: RowData) -> None:
        if row.liveness is not None:
            self.timestamp(row.liveness.timestamp)
            self.deletion_time(row.liveness.local_expiration_time)
        if row.deletion is not None:
            self.tombstones += 1
            self.timestamp(row.deletion.marked_for_delete_at)
            self.deletion_time(row.deletion.local_deletion_time)
        for deletion in row.complex_deletions.values():
            self.tombstones += 1
            self.timestamp(deletion.marked_for_delete_at)
            self.deletion_time(deletion.local_deletion_time)
        cells = list(row.cells.values())
        for elements in row.complex_cells.values():
            cells.extend(elements.values())
        for cell in cells:
            self.cells += 1
            if cell.value is None:
                self.tombstones += 1
            self.timestamp(cell.timestamp)
            self.deletion_time(cell.local_deletion_time)


class SSTableWriter:
    """Builds the components of one SSTable generation in temp files."""

    def __init__(
        self,
        fs: FileSystem,
        directory: str,
        generation: int,
        *,
        expected_partitions: int,
        fp_chance: float = 0.01,
        table_id: str = "",
        format_version: int = SSTABLE_FORMAT_VERSION,
    ) -> None:
        """Open the temp components; ``format_version`` 1 writes what older versions wrote."""
        if format_version not in (1, SSTABLE_FORMAT_VERSION):
            raise ValueError(f"cannot write SSTable format {format_version}")
        self._format_version = format_version
        self._fs = fs
        self._directory = directory
        self.generation = generation
        self._table_id = table_id
        self._data = fs.create(component_path(directory, generation, "Data.db", True))
        self._index = fs.create(component_path(directory, generation, "Index.db", True))
        self._bloom = BloomFilter.for_keys(expected_partitions, fp_chance)
        self._fp_chance = fp_chance
        self._offset = 0
        self._index_offset = 0
        self._index_entries: list[bytes] = []
        self._index_first: tuple[int, bytes] | None = None
        self._summary: list[bytes] = []
        self._stats = _Stats()
        self._min_token: int | None = None
        self._max_token: int | None = None
        self._last_key: tuple[int, bytes] | None = None

    def _write_data(self, payload: bytes) -> tuple[int, int]:
        block = frame_block(payload)
        offset = self._offset
        self._data.write(block)
        self._offset += len(block)
        return offset, len(block)

    def add(self, partition: CompactedPartition) -> bool:
        """Append one partition; return False if it turned out to be empty."""
        key = (partition.token, partition.partition_key)
        if self._last_key is not None and key <= self._last_key:
            raise ValueError("partitions must be added in increasing (token, key) order")
        stats = self._stats
        row_index: list[bytes] = []
        pending: list = []
        pending_size = 0
        first = last = None
        count = 0
        rows_written = 0
        block_offset = 0

        def emit() -> None:
            nonlocal pending, pending_size, count, block_offset
            # Row offsets let a reader binary-search the block by clustering.
            offsets = []
            position = 4 + 4 * count
            for encoded_row in pending:
                offsets.append(position)
                position += len(encoded_row)
            payload = b"".join((U32.pack(count), struct.pack(f">{count}I", *offsets), *pending))
            offset, size = self._write_data(payload)
            block_offset = offset
            row_index.append(
                b"".join(
                    (
                        U16.pack(len(first)),
                        first,
                        U16.pack(len(last)),
                        last,
                        ROW_INDEX_TAIL.pack(offset, size, count),
                    )
                )
            )
            pending = []
            pending_size = 0
            count = 0

        for row in partition.rows:
            out: list = []
            encode_row(row, out)
            encoded = b"".join(out)
            if count == 0:
                first = row.clustering
            last = row.clustering
            pending.append(encoded)
            pending_size += len(encoded)
            count += 1
            rows_written += 1
            stats.row(row)
            if stats.min_clustering is None or row.clustering < stats.min_clustering:
                stats.min_clustering = row.clustering
            if stats.max_clustering is None or row.clustering > stats.max_clustering:
                stats.max_clustering = row.clustering
            if pending_size >= ROW_BLOCK_SIZE:
                emit()
        if count:
            emit()
        if (
            not rows_written
            and partition.deletion is None
            and not partition.range_tombstones
            and partition.static is None
        ):
            return False
        stats.rows += rows_written
        flags = (1 if partition.deletion is not None else 0) | (
            2 if partition.static is not None else 0
        )
        head: list = [
            U16.pack(len(partition.partition_key)),
            partition.partition_key,
            I64.pack(partition.token),
            U8.pack(flags),
        ]
        if partition.deletion is not None:
            encode_deletion(partition.deletion, head)
            stats.has_partition_deletions = True
            stats.tombstones += 1
            stats.timestamp(partition.deletion.marked_for_delete_at)
            stats.deletion_time(partition.deletion.local_deletion_time)
        head.append(U32.pack(len(partition.range_tombstones)))
        for rt in partition.range_tombstones:
            encode_range_tombstone(rt, head)
            stats.has_range_tombstones = True
            stats.tombstones += 1
            stats.timestamp(rt.deletion.marked_for_delete_at)
            stats.deletion_time(rt.deletion.local_deletion_time)
        if partition.static is not None:
            encode_row(partition.static, head)
            stats.has_static = True
            stats.row(partition.static)
        head.append(U32.pack(len(row_index)))
        head.extend(row_index)
        offset, size = self._write_data(b"".join(head))
        if len(row_index) == 1 and self._format_version >= 2:
            # The partition's one row block sits just before its header: the
            # index entry spans both, so a read gets them in one (format 2).
            size += offset - block_offset
            offset = block_offset
        self._add_index_entry(partition.token, partition.partition_key, offset, size)
        self._bloom.add(partition.partition_key)
        stats.partitions += 1
        if self._min_token is None:
            self._min_token = partition.token
        self._max_token = partition.token
        self._last_key = key
        return True

    def _add_index_entry(self, token: int, key: bytes, offset: int, size: int) -> None:
        if not self._index_entries:
            self._index_first = (token, key)
        self._index_entries.append(
            INDEX_ENTRY_HEAD.pack(token, len(key)) + key + INDEX_ENTRY_TAIL.pack(offset, size)
        )
        if len(self._index_entries) >= INDEX_BLOCK_ENTRIES:
            self._flush_index_block()

    def _flush_index_block(self) -> None:
        if not self._index_entries:
            return
        payload = U32.pack(len(self._index_entries)) + b"".join(self._index_entries)
        block = frame_block(payload)
        self._index.write(block)
        assert self._index_first is not None
        token, key = self._index_first
        self._summary.append(
            INDEX_ENTRY_HEAD.pack(token, len(key))
            + key
            + INDEX_ENTRY_TAIL.pack(self._index_offset, len(block))
        )
        self._index_offset += len(block)
        self._index_entries = []

    @property
    def partitions(self) -> int:
        return self._stats.partitions

    def finish(self) -> dict:
        """Write the remaining components, sync and rename them; return the statistics."""
        self._flush_index_block()
        stats = self._stats
        statistics = {
            "format_version": self._format_version,
            "generation": self.generation,
            "table_id": self._table_id,
            "created_at": time.time(),
            "data_size": self._offset,
            "index_size": self._index_offset,
            "partitions": stats.partitions,
            "rows": stats.rows,
            "cells": stats.cells,
            "tombstones": stats.tombstones,
            "min_token": self._min_token,
            "max_token": self._max_token,
            "min_timestamp": stats.min_timestamp,
            "max_timestamp": stats.max_timestamp,
            "min_local_deletion_time": stats.min_local_deletion_time,
            "max_local_deletion_time": stats.max_local_deletion_time,
            "min_clustering": stats.min_clustering.hex()
            if stats.min_clustering is not None
            else None,
            "max_clustering": stats.max_clustering.hex()
            if stats.max_clustering is not None
            else None,
            "has_partition_deletions": stats.has_partition_deletions,
            "has_range_tombstones": stats.has_range_tombstones,
            "has_static": stats.has_static,
            "bloom_fp_chance": self._fp_chance,
            "bloom_bits": self._bloom.bits,
            "bloom_hashes": self._bloom.hashes,
        }
        summary = U32.pack(len(self._summary)) + b"".join(self._summary)
        extra = {
            "Summary.db": frame_block(summary),
            "Filter.db": frame_block(self._bloom.to_bytes()),
            "Statistics.db": frame_block(json.dumps(statistics, sort_keys=True).encode()),
        }
        for handle in (self._data, self._index):
            handle.sync()
            handle.close()
        for component, raw in extra.items():
            handle = self._fs.create(
                component_path(self._directory, self.generation, component, True)
            )
            handle.write(raw)
            handle.sync()
            handle.close()
        for component in COMPONENTS:
            self._fs.rename(
                component_path(self._directory, self.generation, component, True),
                component_path(self._directory, self.generation, component),
            )
        self._fs.sync_dir(self._directory)
        return statistics

    def abort(self) -> None:
        """Remove whatever temp files this writer created."""
        for component in COMPONENTS:
            path = component_path(self._directory, self.generation, component, True)
            try:
                if self._fs.exists(path):
                    self._fs.remove(path)
            except Exception:  # noqa: BLE001 - best effort on an already failing path
                pass
