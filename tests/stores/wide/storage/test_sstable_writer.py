"""SSTable writer and reader: round trips, row index, checksums, temp files."""

import pytest

from stores.wide.storage.cells import Cell, DeletionTime
from stores.wide.storage.format import COMPONENTS
from stores.wide.storage.fs import MemoryFileSystem
from stores.wide.storage.merge import CompactedPartition
from stores.wide.storage.mutation import STATIC, Bound, RangeTombstone, Slice
from stores.wide.storage.partition import RowData
from stores.wide.storage.sstable_reader import SSTableReader
from stores.wide.storage.sstable_writer import SSTableWriter, component_path
from stores.wide.storage.token import token

DIR = "/t"


def partition(key, rows, deletion=None, rts=(), static=None):
    return CompactedPartition(key, token(key), deletion, list(rts), static, iter(rows))


def make_rows(n, width=40, ts=1):
    return [RowData(b"%06d" % i, None, None, {"v": Cell(b"x" * width, ts + i)}) for i in range(n)]


def write_sstable(fs, partitions, generation=1):
    fs.makedirs(DIR)
    writer = SSTableWriter(fs, DIR, generation, expected_partitions=len(partitions), table_id="t")
    for p in sorted(partitions, key=lambda p: (p.token, p.partition_key)):
        writer.add(p)
    stats = writer.finish()
    return stats, SSTableReader(fs, DIR, generation)


def test_round_trip_and_statistics():
    fs = MemoryFileSystem()
    static = RowData(STATIC, None, None, {"s": Cell(b"st", 3)})
    rt = RangeTombstone(Bound(b"a", True), None, DeletionTime(2, 10))
    parts = [
        partition(b"big", make_rows(500)),
        partition(b"small", make_rows(3), DeletionTime(0, 5), [rt], static),
    ]
    stats, reader = write_sstable(fs, parts)
    assert stats["partitions"] == 2 and stats["rows"] == 503
    assert stats["tombstones"] == 2
    assert (
        stats["has_static"] and stats["has_partition_deletions"] and stats["has_range_tombstones"]
    )
    assert stats["min_token"] == min(token(b"big"), token(b"small"))
    assert stats["min_timestamp"] == 0 and stats["max_timestamp"] == 500
    assert reader.min_clustering == b"000000" and reader.max_clustering == b"000499"
    small = reader.view(token(b"small"), b"small", [Slice()], False)
    assert small.deletion == DeletionTime(0, 5) and small.range_tombstones == [rt]
    assert small.static.cells["s"].value == b"st"
    assert [r.clustering for r in small.rows] == [b"000000", b"000001", b"000002"]
    assert reader.view(token(b"nope"), b"nope", [Slice()], False) is None
    assert all(fs.exists(component_path(DIR, 1, c)) for c in COMPONENTS)
    assert not any(name.startswith("tmp-") for name in fs.listdir(DIR))


def test_rows_must_come_in_key_order():
    fs = MemoryFileSystem()
    fs.makedirs(DIR)
    writer = SSTableWriter(fs, DIR, 1, expected_partitions=2)
    a, b = sorted([b"a", b"b"], key=token)
    writer.add(partition(b, make_rows(1)))
    with pytest.raises(ValueError):
        writer.add(partition(a, make_rows(1)))
    writer.abort()
    assert fs.listdir(DIR) == []
