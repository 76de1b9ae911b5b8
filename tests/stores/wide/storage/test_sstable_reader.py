"""SSTable reader: slices by row index, ordered iteration, checksum failures."""

import random
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stores.wide.storage.blockrows import BlockRowData
from stores.wide.storage.cells import Cell
from stores.wide.storage.errors import CorruptionError
from stores.wide.storage.format import (
    INDEX_ENTRY_HEAD,
    INDEX_ENTRY_TAIL,
    ROW_INDEX_TAIL,
    U16,
    U32,
)
from stores.wide.storage.fs import MemoryFileSystem
from stores.wide.storage.mutation import Bound, Slice, range_may_intersect, slice_range
from stores.wide.storage.partition import RowData
from stores.wide.storage.read import ReadTrace
from stores.wide.storage.sstable_reader import (
    FixedRowIndex,
    SSTableReader,
    _first_key_at_least,
    _header_footprint,
    _parse_entries,
    _parse_row_index,
    _row_offsets,
)
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
    parsed = _parse_row_index(head, len(prefix), len(widths))
    assert len(parsed) == len(entries)
    assert list(parsed) == entries
    assert [parsed[i] for i in range(len(entries))] == entries
    assert list(reversed(parsed)) == entries[::-1]
    with pytest.raises(ValueError):  # a byte too many after the index
        _parse_row_index(head + b"\x00", len(prefix), len(widths))


def test_a_long_partition_with_fixed_width_keys_reads_every_slice():
    fs = MemoryFileSystem()
    _, reader = write_sstable(fs, [partition(b"p", make_rows(3000))])
    header = reader.header(token(b"p"), b"p")
    assert len(header[5]) > 20  # many row blocks: the one-pass parse
    assert type(header[5]) is FixedRowIndex
    # Kept as bytes, such a header is estimated smaller in the key cache.
    as_list = (*header[:5], list(header[5]))
    assert _header_footprint(1000, header) < _header_footprint(1000, as_list)
    for low, high in ((0, 5), (1234, 1299), (2990, 2999), (0, 2999)):
        sl = [Slice(Bound(b"%06d" % low, True), Bound(b"%06d" % high, True))]
        rows = list(reader.view(token(b"p"), b"p", sl, False).rows)
        assert [r.clustering for r in rows] == [b"%06d" % i for i in range(low, high + 1)]


def _expected(keys, sl):
    low, high = slice_range(sl)
    return [k for k in keys if (low is None or k >= low) and (high is None or k < high)]


_bounds = st.one_of(st.none(), st.tuples(st.binary(min_size=0, max_size=9), st.booleans()))


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(1, 600),
    seed=st.integers(0, 2**32),
    fixed=st.booleans(),
    value_width=st.integers(1, 300),
    data=st.data(),
)
def test_slices_read_exactly_their_rows_from_fixed_and_mixed_width_row_indexes(
    count, seed, fixed, value_width, data
):
    # Fixed-width keys (a one-width row index, searched over its bytes) or
    # keys of 1 to 3 bytes (a parsed one), over one or many row blocks.
    numbers = random.Random(seed).sample(range(1, 1 << 20), count)
    if fixed:
        keys = sorted(n.to_bytes(3, "big") for n in numbers)
    else:
        keys = sorted(n.to_bytes(3, "big").lstrip(b"\x00") for n in numbers)
    rows = [RowData(k, None, None, {"v": Cell(b"x" * value_width, 1)}) for k in keys]
    fs = MemoryFileSystem()
    _, reader = write_sstable(fs, [partition(b"p", rows)])
    # A bound is a key of the partition, a prefix of one, or any bytes.
    prefixes = st.sampled_from(keys).flatmap(lambda k: st.integers(0, len(k)).map(lambda n: k[:n]))
    bound = st.one_of(
        st.none(),
        st.tuples(st.one_of(st.sampled_from(keys), prefixes, st.binary(max_size=4)), st.booleans()),
    )
    for _ in range(8):
        start, end, reverse = data.draw(st.tuples(bound, bound, st.booleans()))
        sl = Slice(
            None if start is None else Bound(start[0], start[1]),
            None if end is None else Bound(end[0], end[1]),
        )
        expected = _expected(keys, sl)
        if reverse:
            expected.reverse()
        view = reader.view(token(b"p"), b"p", [sl], reverse)
        assert [r.clustering for r in view.rows] == expected
        got = [r.clustering for r in reader.rows(token(b"p"), b"p", [sl], reverse)]
        assert got == expected


@settings(max_examples=100, deadline=None)
@given(
    firsts=st.sets(st.binary(min_size=4, max_size=4), min_size=4, max_size=40),
    reverse=st.booleans(),
    data=st.data(),
)
def test_fixed_row_index_finds_the_blocks_a_range_overlaps(firsts, reverse, data):
    # Blocks [first, last] sorted and apart: each ends one key before the next starts.
    ordered = sorted(firsts)
    entries = []
    for n, first in enumerate(ordered):
        following = ordered[n + 1] if n + 1 < len(ordered) else b"\xff" * 4
        last = max(first, (int.from_bytes(following, "big") - 1).to_bytes(4, "big"))
        entries.append((first, last, 100 * n, 10 + n, n + 1))
    head = b"".join(
        U16.pack(4) + first + U16.pack(4) + last + ROW_INDEX_TAIL.pack(offset, size, rows)
        for first, last, offset, size, rows in entries
    )
    index = _parse_row_index(head, 0, len(entries))
    # Bounds on a block's first or last key, next to one, or anywhere.
    edges = [key for e in entries for key in e[:2]]
    near = st.sampled_from(edges).flatmap(
        lambda k: st.sampled_from([k, k[:3], k + b"\x00", k[:3] + bytes([max(k[3] - 1, 0)])])
    )
    low, high = data.draw(st.tuples(*[st.one_of(st.none(), near, st.binary(max_size=5))] * 2))
    assert type(index) is FixedRowIndex and list(index) == entries
    expected = [
        e for e in entries if (high is None or e[0] < high) and (low is None or e[1] >= low)
    ]
    if reverse:
        expected.reverse()
    assert index.overlapping(low, high, reverse) == expected


@settings(max_examples=200, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 12), min_size=0, max_size=20),
    fixed=st.booleans(),
    trailing=st.binary(max_size=3),
)
def test_index_entries_parse_the_same_with_fixed_and_mixed_key_lengths(lengths, fixed, trailing):
    if fixed and lengths:
        lengths = [lengths[0]] * len(lengths)
    entries = [(n - 7, bytes([n]) * length, 1000 * n, 40 + n) for n, length in enumerate(lengths)]
    payload = U32.pack(len(entries)) + b"".join(
        INDEX_ENTRY_HEAD.pack(t, len(k)) + k + INDEX_ENTRY_TAIL.pack(o, s) for t, k, o, s in entries
    )
    assert _parse_entries(payload + trailing) == entries


def test_fixed_length_partition_keys_are_found_by_key_and_token():
    fs = MemoryFileSystem()
    keys = [b"user-%05d" % i for i in range(700)]  # several index blocks
    _, reader = write_sstable(fs, [partition(k, make_rows(2)) for k in keys])
    for key in keys:
        # A wrong token finds nothing (asked before the key cache knows the key).
        assert reader.find(token(key) + 1, key) is None
        assert reader.header(token(key) + 1, key) is None
        assert reader.find(token(key), key) is not None
        assert reader.header(token(key), key)[0] == key
    for key in (b"user-99999", b"user-0000", b"nobody"):
        assert reader.find(token(key), key) is None
        assert reader.header(token(key), key) is None
    ordered = [(t, k) for t, k, _, _ in reader.iter_entries(None, True, None, True)]
    assert ordered == sorted((token(k), k) for k in keys)


_prefixes = st.binary(max_size=3)


@settings(max_examples=500, deadline=None)
@given(
    bounds=st.tuples(_prefixes, _prefixes).map(sorted),
    slices=st.lists(
        st.tuples(
            st.one_of(st.none(), st.builds(Bound, _prefixes, st.booleans())),
            st.one_of(st.none(), st.builds(Bound, _prefixes, st.booleans())),
        ).map(lambda ends: Slice(*ends)),
        max_size=3,
    ),
)
def test_may_intersect_agrees_with_range_may_intersect(bounds, slices):
    low, high = bounds
    sstable = SimpleNamespace(min_clustering=low, max_clustering=high)
    expected = any(range_may_intersect(sl, low, high) for sl in slices)
    assert SSTableReader.may_intersect(sstable, slices) is expected
    sstable.min_clustering = None  # no rows at all
    assert SSTableReader.may_intersect(sstable, slices) is False


def test_a_point_read_caches_its_row_block_on_the_second_read():
    from stores.wide.storage.cache import BLOCKS

    fs = MemoryFileSystem()
    _, reader = write_sstable(fs, [partition(b"p", make_rows(2000))], generation=11)

    def cached_row_blocks():
        return {key for key in BLOCKS._entries if key[0] == reader._number}

    point = [Slice(Bound(b"000700", True), Bound(b"000700", True))]
    for expected_cached in (0, 1, 1):
        trace = ReadTrace()
        rows = list(reader.view(token(b"p"), b"p", point, False, trace).rows)
        assert [r.clustering for r in rows] == [b"000700"]
        assert len(cached_row_blocks()) == expected_cached
    # The trace counts the row block read from the cache as read.
    assert trace.blocks_read == 1
    # A read of several rows from a block caches it at once.
    narrow = [Slice(Bound(b"001500", True), Bound(b"001503", True))]
    rows = list(reader.view(token(b"p"), b"p", narrow, True).rows)
    assert [r.clustering for r in rows] == [b"%06d" % i for i in range(1503, 1499, -1)]
    assert len(cached_row_blocks()) == 2
    # A head read (the whole partition) too: every row block is then cached.
    assert len(list(reader.view(token(b"p"), b"p", [Slice()], False).rows)) == 2000
    assert len(cached_row_blocks()) == len(reader.header(token(b"p"), b"p")[5])


def _row_block(keys: list[bytes], row_length: int | None) -> bytes:
    """Return a row block payload of rows [flags][key length][key][padding]."""
    rows = []
    for key in keys:
        row = b"\x00" + U16.pack(len(key)) + key
        rows.append(row + b"\xee" * ((row_length or len(row) + len(rows) % 2) - len(row)))
    offsets = [4 + 4 * len(rows)]
    for row in rows[:-1]:
        offsets.append(offsets[-1] + len(row))
    return U32.pack(len(rows)) + b"".join(U32.pack(o) for o in offsets) + b"".join(rows)


@settings(max_examples=300, deadline=None)
@given(
    keys=st.lists(st.binary(min_size=0, max_size=6), min_size=1, max_size=60, unique=True),
    width=st.one_of(st.none(), st.integers(0, 6)),
    uniform=st.booleans(),
    probes=st.lists(st.binary(max_size=7), max_size=12),
)
def test_row_offsets_of_rows_of_one_length_are_a_range(keys, width, uniform, probes):
    if width is not None:  # fixed-width keys (timestamps)
        keys = list(dict.fromkeys(k.rjust(width, b"\x00")[:width] for k in keys))
    keys.sort()
    payload = _row_block(keys, 3 + 6 + 2 if uniform else None)
    offsets = _row_offsets(payload)
    count = len(keys)
    expected = (*(U32.unpack_from(payload, 4 + 4 * i)[0] for i in range(count)), len(payload))
    assert tuple(offsets) == expected
    # Rows of one length give a range (no int per row); others a tuple.
    lengths = {b - a for a, b in zip(expected[:-1], expected[1:], strict=True)}
    assert (type(offsets) is range) is (len(lengths) == 1 and count > 1)
    for probe in [*probes, *keys, *(k + b"\x00" for k in keys)]:
        want = _first_key_at_least(payload, expected, 0, count, probe)
        assert want == sum(1 for k in keys if k < probe)
        assert _first_key_at_least(payload, offsets, 0, count, probe) == want
