"""SSTable reader: slices by row index, ordered iteration, checksum failures."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stores.wide.storage.blockrows import BlockRowData
from stores.wide.storage.errors import CorruptionError
from stores.wide.storage.format import ROW_INDEX_TAIL, U16
from stores.wide.storage.fs import MemoryFileSystem
from stores.wide.storage.mutation import Bound, Slice
from stores.wide.storage.read import ReadTrace
from stores.wide.storage.sstable_reader import SSTableReader, _parse_row_index
from stores.wide.storage.sstable_writer import component_path
from stores.wide.storage.token import token

from .test_sstable_writer import DIR, make_rows, partition, write_sstable


def test_slice_reads_only_the_blocks_it_needs():
    fs = MemoryFileSystem()
    _, reader = write_sstable(fs, [partition(b"p", make_rows(2000))])
    whole = ReadTrace()
    assert len(list(reader.view(token(b"p"), b"p", [Slice()], False, whole).rows)) == 2000
    narrow = ReadTrace()
    sl = [Slice(Bound(b"001000", True), Bound(b"001010", True))]
    rows = list(reader.view(token(b"p"), b"p", sl, False, narrow).rows)
    assert [r.clustering for r in rows] == [b"%06d" % i for i in range(1000, 1011)]
    assert whole.blocks_read > 10
    assert narrow.blocks_read <= 3  # header + one or two row blocks
    backward = list(reader.view(token(b"p"), b"p", sl, True).rows)
    assert backward == rows[::-1]


def test_iteration_in_token_order_and_ranges():
    fs = MemoryFileSystem()
    keys = [b"key-%d" % i for i in range(300)]
    _, reader = write_sstable(fs, [partition(k, make_rows(1)) for k in keys])
    ordered = [(t, k) for t, k, _, _ in reader.iter_entries(None, True, None, True)]
    assert ordered == sorted((token(k), k) for k in keys)
    middle = ordered[100]
    after = [(t, k) for t, k, _, _ in reader.iter_entries(middle, False, None, True)]
    assert after == ordered[101:]
    for key in keys:
        assert reader.may_contain(key)
        assert reader.find(token(key), key) is not None


@pytest.mark.parametrize(
    "component", ["Data.db", "Index.db", "Summary.db", "Statistics.db", "Filter.db"]
)
def test_flipped_byte_is_reported_with_file_and_offset(component):
    fs = MemoryFileSystem()
    keys = [b"key-%d" % i for i in range(300)]
    write_sstable(fs, [partition(k, make_rows(20)) for k in keys])
    path = component_path(DIR, 1, component)
    offset = fs.file_size(path) // 2
    fs.corrupt(path, offset)
    with pytest.raises(CorruptionError) as info:
        reader = SSTableReader(fs, DIR, 1)
        for key in keys:
            list(reader.view(token(key), key, [Slice()], False).rows)
    assert info.value.path == path
    assert 0 <= info.value.offset <= offset


def test_read_rows_are_lazy_and_compaction_rows_are_decoded():
    fs = MemoryFileSystem()
    _, reader = write_sstable(fs, [partition(b"p", make_rows(5))])
    lazy = list(reader.view(token(b"p"), b"p", [Slice()], False).rows)
    eager = [view.rows for view in reader.iter_partitions()]
    eager = list(eager[0])
    assert all(type(r) is BlockRowData for r in lazy)
    assert not any(type(r) is BlockRowData for r in eager)
    assert lazy == eager


def test_key_cache_knows_a_partition_once_read():
    fs = MemoryFileSystem()
    _, reader = write_sstable(fs, [partition(b"p", make_rows(3))], generation=7)
    assert reader.cached_view(b"p", [Slice()], False) is None
    first = list(reader.view(token(b"p"), b"p", [Slice()], False).rows)
    cached = reader.cached_view(b"p", [Slice()], False)
    assert cached is not None and list(cached.rows) == first
    # Another reader (a new SSTable, or this one reopened) starts with nothing cached.
    other = SSTableReader(fs, DIR, 7)
    assert other.cached_view(b"p", [Slice()], False) is None
    assert reader.cached_view(b"q", [Slice()], False) is None


@settings(max_examples=200, deadline=None)
@given(
    widths=st.lists(st.integers(0, 12), min_size=0, max_size=12),
    fixed=st.booleans(),
    prefix=st.binary(max_size=5),
)
def test_row_index_parses_the_same_with_fixed_and_mixed_key_widths(widths, fixed, prefix):
    if fixed and widths:
        widths = [widths[0]] * len(widths)
    entries = []
    raw = []
    for n, width in enumerate(widths):
        first, last = bytes([n % 256]) * width, bytes([255 - n % 256]) * width
        entries.append((first, last, 1000 * n, 40 + n, n + 1))
        raw.append(U16.pack(width) + first + U16.pack(width) + last)
        raw.append(ROW_INDEX_TAIL.pack(1000 * n, 40 + n, n + 1))
    head = prefix + b"".join(raw)
    assert _parse_row_index(head, len(prefix), len(widths)) == entries
    with pytest.raises(ValueError):  # a byte too many after the index
        _parse_row_index(head + b"\x00", len(prefix), len(widths))


def test_a_long_partition_with_fixed_width_keys_reads_every_slice():
    fs = MemoryFileSystem()
    _, reader = write_sstable(fs, [partition(b"p", make_rows(3000))])
    header = reader.header(token(b"p"), b"p")
    assert len(header[5]) > 20  # many row blocks: the one-pass parse
    for low, high in ((0, 5), (1234, 1299), (2990, 2999), (0, 2999)):
        sl = [Slice(Bound(b"%06d" % low, True), Bound(b"%06d" % high, True))]
        rows = list(reader.view(token(b"p"), b"p", sl, False).rows)
        assert [r.clustering for r in rows] == [b"%06d" % i for i in range(low, high + 1)]
