"""SSTable writer and reader: round trips, row index, checksums, temp files."""

import struct

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
    assert small.deletion == DeletionTime(0, 5) and list(small.range_tombstones) == [rt]
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


def format_parts():
    static = RowData(STATIC, None, None, {"s": Cell(b"st", 3)})
    return [
        partition(b"one-block", make_rows(5)),
        partition(b"one-block-static", make_rows(2), DeletionTime(0, 5), (), static),
        partition(b"many-blocks", make_rows(400)),
        partition(b"no-rows", [], DeletionTime(7, 9)),
    ]


def entries_by_key(reader):
    return {
        key: (offset, size) for _, key, offset, size in reader.iter_entries(None, True, None, True)
    }


@pytest.mark.parametrize("version", [1, 2])
def test_a_partition_of_one_row_block_is_read_with_its_header_from_format_2(version):
    from stores.wide.storage.cache import BLOCKS
    from stores.wide.storage.read import ReadTrace

    fs = MemoryFileSystem()
    fs.makedirs(DIR)
    parts = format_parts()
    writer = SSTableWriter(fs, DIR, 1, expected_partitions=4, format_version=version)
    for p in sorted(parts, key=lambda p: (p.token, p.partition_key)):
        writer.add(p)
    assert writer.finish()["format_version"] == version
    reader = SSTableReader(fs, DIR, 1)
    entries = entries_by_key(reader)
    for key in (b"one-block", b"one-block-static", b"many-blocks", b"no-rows"):
        offset, size = entries[key]
        header = reader._parse_header(offset, size, None)
        blocks = header[5]
        spans_rows = version == 2 and key.startswith(b"one-block")
        # From format 2 the entry of a one-block partition starts at its row
        # block, which comes with the header; otherwise it is the header alone.
        assert (len(blocks) == 1 and blocks[0][2] == offset) is spans_rows
        assert all(len(block) == (7 if spans_rows else 5) for block in blocks)
    # Either way the reads give the same rows, and a trace counts two blocks.
    for key, n in ((b"one-block", 5), (b"one-block-static", 2), (b"many-blocks", 400)):
        trace = ReadTrace()
        view = reader.view(token(key), key, [Slice()], False, trace)
        assert [r.clustering for r in view.rows] == [b"%06d" % i for i in range(n)]
        if n < 10:
            assert trace.blocks_read == 2
    one = reader.view(token(b"one-block-static"), b"one-block-static", [Slice()], False)
    assert one.static.cells["s"].value == b"st" and one.deletion == DeletionTime(0, 5)
    point = Slice(Bound(b"000003", True), Bound(b"000003", True))
    rows = list(reader.view(token(b"one-block"), b"one-block", [point], True).rows)
    assert [r.clustering for r in rows] == [b"000003"]
    offset, size = entries[b"one-block"]
    row_block = reader._parse_header(offset, size, None)[5][0]
    # Format 2: the row block came with the header, never through the block cache.
    assert ((reader._number, row_block[2]) in BLOCKS._entries) is (version == 1)
    assert reader.view(token(b"no-rows"), b"no-rows", [Slice()], False).deletion == DeletionTime(
        7, 9
    )


def test_unknown_formats_are_refused():
    fs = MemoryFileSystem()
    fs.makedirs(DIR)
    with pytest.raises(ValueError):
        SSTableWriter(fs, DIR, 1, expected_partitions=1, format_version=3)


def test_a_flipped_byte_in_a_one_block_partition_names_the_block_it_is_in():
    from stores.wide.storage.errors import CorruptionError

    for target in ("rows", "header"):
        fs = MemoryFileSystem()
        _, reader = write_sstable(fs, [partition(b"k", make_rows(5))])
        offset, size = entries_by_key(reader)[b"k"]
        path = component_path(DIR, 1, "Data.db")
        data = bytearray(fs.read_bytes(path))
        (rows_length,) = struct.unpack_from(">I", data, offset)
        header_at = offset + 8 + rows_length
        at = offset + 20 if target == "rows" else header_at + 10
        data[at] ^= 0x40
        handle = fs.create(path)
        handle.write(bytes(data))
        handle.sync()
        handle.close()
        reader = SSTableReader(fs, DIR, 1)
        with pytest.raises(CorruptionError) as caught:
            reader.view(token(b"k"), b"k", [Slice()], False)
        assert caught.value.offset == (offset if target == "rows" else header_at)
        assert caught.value.path == path
