"""Reads one immutable SSTable written by sstable_writer.

Owns lookups (bloom filter, sparse summary, partition index), partition
views whose rows are read block by block through the row index so that a
slice reads only the blocks it overlaps, and ordered iteration for scans and
compactions. Every block read is checksummed; a mismatch raises
CorruptionError naming the file and offset. Never writes.
"""

from __future__ import annotations

import bisect
import json
import struct
from collections.abc import Iterable, Iterator
from operator import itemgetter

from .blockrows import BlockRowData, LazyRow, LiveContext
from .blocks import read_block, read_blocks, unframe
from .bloom import BloomFilter
from .cache import BLOCKS, HEADERS, INDEX_BLOCKS, KEYS, next_reader_number
from .codec import decode_deletion, decode_range_tombstone, decode_row
from .errors import CorruptionError
from .format import (
    FRAME_SIZE,
    INDEX_ENTRY_HEAD,
    INDEX_ENTRY_TAIL,
    LIVENESS,
    ROW_DELETION,
    ROW_INDEX_TAIL,
    ROW_LIVENESS,
    ROW_STATIC,
    SSTABLE_FORMAT_VERSION,
    U16,
    U32,
)
from .fs import FileSystem
from .merge import collect_live
from .mutation import Slice, slice_range
from .pagevalues import page_values, value_tuples
from .partition import PartitionView, RowData
from .read import ReadTrace
from .sstable_writer import component_path

# A row index entry: (first clustering, last clustering, block offset, block
# size, row count). Plain tuples: a partition header holds one per row block,
# and a cold read parses the whole header.
RowBlock = tuple[bytes, bytes, int, int, int]
# The row block of a partition of one block, read with its header (format 2):
# a RowBlock followed by the block's payload and row offsets (closed by its end).
InlineRowBlock = tuple[bytes, bytes, int, int, int, bytes, tuple[int, ...]]

_TOKEN_FLAGS = struct.Struct(">qB").unpack_from  # a header's token and flags byte
# Row index entries of fixed-width clustering keys, parsed in one pass (by
# width; a few widths per process).
_ROW_INDEX_LAYOUTS: dict[int, struct.Struct] = {}
_FIXED_WIDTH_MIN_ENTRIES = 4
_unpack_liveness = LIVENESS.unpack_from
# Estimated memory of parsed structures per byte of their block (Python
# objects: a tuple, two bytes and two ints per 36-byte row index entry; a
# FixedRowIndex keeps the bytes alone; an index block, a tuple of four per
# entry and a dict).
_HEADER_BYTES = 6
_FIXED_HEADER_BYTES = 1
_INDEX_BLOCK_BYTES = 8


def _header_footprint(block_size: int, header: tuple) -> int:
    """Return the estimated bytes the parsed ``header`` of a ``block_size``-byte block holds.

    ``block_size`` is the index entry's span: for a partition of one row
    block read with its header, the row block is counted at its size
    (bytes, and a tuple of offsets).
    """
    blocks = header[5]
    if type(blocks) is FixedRowIndex:
        return 500 + _FIXED_HEADER_BYTES * block_size
    if len(blocks) == 1 and len(blocks[0]) > 5:
        payload = blocks[0][5]
        inline = len(payload) + 8 * len(blocks[0][6])
        return 500 + inline + _HEADER_BYTES * (block_size - len(payload))
    return 500 + _HEADER_BYTES * block_size


# A row a LazyRow may stand for: a row marker, no row deletion, not static.
_LIVE_FLAGS = ROW_LIVENESS | ROW_DELETION | ROW_STATIC

# A row's head (flags, clustering length, clustering, row marker) in one
# unpack, by clustering width (timestamps, uuids: one width a block).
_ROW_HEADS: dict[int, object] = {}


def _row_head(width: int):
    """Return the unpack_from of a row head whose clustering is ``width`` bytes."""
    head = _ROW_HEADS.get(width)
    if head is None:
        head = struct.Struct(f">BH{width}sqIq").unpack_from
        if len(_ROW_HEADS) < 64:
            _ROW_HEADS[width] = head
    return head


_FIRST_KEY = itemgetter(0)
_LAST_KEY = itemgetter(1)
_ENTRY_KEY = itemgetter(1)  # an index entry's partition key


class FixedRowIndex:
    """A row index whose clustering keys all have one width, kept as its bytes.

    Entries (``">2x{w}s2x{w}sQII"``: first and last clustering, block
    offset, block size, row count) sit at a fixed stride, so an entry is
    built as a RowBlock only when a read asks for it, and the blocks a
    slice overlaps are found by binary search over the bytes: a point read
    of a partition of many row blocks builds one entry, not all of them.
    Indexing and iteration give RowBlock tuples, as a list would.
    """

    __slots__ = ("_raw", "_count", "_width", "_size", "_layout")

    def __init__(self, raw: bytes, count: int, width: int, layout: struct.Struct) -> None:
        self._raw = raw
        self._count = count
        self._width = width
        self._size = layout.size
        self._layout = layout

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: int) -> RowBlock:
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError("row index entry out of range")
        return self._layout.unpack_from(self._raw, index * self._size)

    def __iter__(self) -> Iterator[RowBlock]:
        return self._layout.iter_unpack(self._raw)

    def __reversed__(self) -> Iterator[RowBlock]:
        unpack = self._layout.unpack_from
        raw = self._raw
        size = self._size
        for index in range(self._count - 1, -1, -1):
            yield unpack(raw, index * size)

    def overlapping(self, low: bytes | None, high: bytes | None, reverse: bool) -> list[RowBlock]:
        """Return the entries of the blocks that overlap [low, high), in read order."""
        raw = self._raw
        size = self._size
        width = self._width
        count = self._count
        first = 0
        if low is not None:
            # The first block whose last key is >= low.
            at = 4 + width
            hi = count
            while first < hi:
                mid = (first + hi) >> 1
                pos = mid * size + at
                if raw[pos : pos + width] < low:
                    first = mid + 1
                else:
                    hi = mid
        # Then every block whose first key is < high: a run that is read
        # whole, so walking it costs little next to its block reads.
        unpack = self._layout.unpack_from
        pos = first * size
        end = count * size
        chosen = []
        while pos < end and (high is None or raw[pos + 2 : pos + 2 + width] < high):
            chosen.append(unpack(raw, pos))
            pos += size
        if reverse:
            chosen.reverse()
        return chosen


def _chosen_blocks(
    blocks: tuple[RowBlock, ...] | FixedRowIndex, sl: Slice, reverse: bool
) -> tuple[bytes | None, bytes | None, Iterable[RowBlock]]:
    """Return the slice's clustering range [low, high) and the row blocks it overlaps, in read order.

    Row blocks are sorted and do not overlap, so the blocks a range
    overlaps are a run of them, found by binary search; a long
    partition's point read builds the one RowBlock it reads.
    """
    if sl.start is None and sl.end is None:  # the whole partition (a head read)
        return None, None, reversed(blocks) if reverse else blocks
    low, high = slice_range(sl)
    if low is None and high is None:
        return None, None, reversed(blocks) if reverse else blocks
    if type(blocks) is FixedRowIndex:
        return low, high, blocks.overlapping(low, high, reverse)
    first = 0 if low is None else bisect.bisect_left(blocks, low, key=_LAST_KEY)
    stop = len(blocks) if high is None else bisect.bisect_left(blocks, high, first, key=_FIRST_KEY)
    chosen = blocks[first:stop]
    return low, high, chosen[::-1] if reverse else chosen


def _block_rows(payload: bytes, offsets: tuple[int, ...], indexes: range) -> Iterator[BlockRowData]:
    """Yield the rows ``indexes`` of a block, undecoded but for their clustering keys."""
    for index in indexes:
        at = offsets[index]
        length = (payload[at + 1] << 8) | payload[at + 2]
        yield BlockRowData(payload[at + 3 : at + 3 + length], payload, at, offsets[index + 1])


def _first_key_at_least(
    payload: bytes, offsets: tuple[int, ...], lo: int, hi: int, key: bytes
) -> int:
    """Return the first row index in [lo, hi) whose clustering is >= ``key`` (``hi`` if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        at = offsets[mid]
        if payload[at + 3 : at + 3 + ((payload[at + 1] << 8) | payload[at + 2])] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


# A row block's row offsets (u32 each) by row count: one unpack each.
_OFFSETS: dict[int, object] = {}


def _offsets_unpack(count: int):
    """Return the unpack_from of ``count`` row offsets (kept for the first 1,024 counts met)."""
    unpack = struct.Struct(f">{count}I").unpack_from
    if len(_OFFSETS) < 1024:
        _OFFSETS[count] = unpack
    return unpack


# The offsets' bytes of a block whose rows all have one length, by (row
# count, row length); at most 256 of them (a few KiB each at most).
_UNIFORM: dict[tuple[int, int], bytes] = {}


def _row_offsets(payload: bytes) -> tuple[int, ...] | range:
    """Return a row block's row offsets, closed by its end (row ``i`` ends at ``offsets[i + 1]``).

    When every row of the block has one length (fixed-width clustering
    keys and values: a time series, a counter), the offsets are a
    ``range``, indexed like the tuple but built without an int per row:
    the offsets' bytes are checked, in one comparison, to be exactly that
    progression.
    """
    (count,) = U32.unpack_from(payload, 0)
    first = 4 + 4 * count
    if count > 1:
        length, rest = divmod(len(payload) - first, count)
        if not rest and length > 0:
            uniform = _UNIFORM.get((count, length))
            if uniform is None and len(_UNIFORM) < 256:
                uniform = struct.pack(f">{count}I", *range(first, first + count * length, length))
                _UNIFORM[(count, length)] = uniform
            if uniform is not None and payload[4:first] == uniform:
                return range(first, len(payload) + 1, length)
    unpack = _OFFSETS.get(count)
    if unpack is None:
        unpack = _offsets_unpack(count)
    return (*unpack(payload, 4), len(payload))


# Index entries of fixed-width partition keys, parsed in one pass (by width).
_ENTRY_LAYOUTS: dict[int, struct.Struct] = {}


def _parse_entries(payload: bytes) -> list[tuple[int, bytes, int, int]]:
    """Return the (token, key, offset, size) entries of an index or summary block.

    When every partition key in the block has one length (fixed-format
    keys: the common case), every entry has one size, and one
    ``iter_unpack`` parses them all once the length fields are checked
    (strided byte slices compared in C), as ``_parse_row_index`` does.
    """
    (count,) = U32.unpack_from(payload, 0)
    if count >= _FIXED_WIDTH_MIN_ENTRIES and len(payload) >= 14:
        width = (payload[12] << 8) | payload[13]
        size = 22 + width
        if 4 + count * size == len(payload):
            if (
                payload[12::size] == bytes((width >> 8,)) * count
                and payload[13::size] == bytes((width & 0xFF,)) * count
            ):
                layout = _ENTRY_LAYOUTS.get(width)
                if layout is None:
                    layout = struct.Struct(f">q2x{width}sQI")
                    if len(_ENTRY_LAYOUTS) < 64:
                        _ENTRY_LAYOUTS[width] = layout
                return list(layout.iter_unpack(payload[4:]))
    pos = 4
    entries = []
    head = INDEX_ENTRY_HEAD.unpack_from
    tail = INDEX_ENTRY_TAIL.unpack_from
    for _ in range(count):
        token, length = head(payload, pos)
        pos += 10
        key = payload[pos : pos + length]
        pos += length
        offset, size = tail(payload, pos)
        pos += 12
        entries.append((token, key, offset, size))
    return entries


def _parse_row_index(head: bytes, pos: int, count: int) -> tuple[RowBlock, ...] | FixedRowIndex:
    """Return the ``count`` row index entries at ``pos``, the end of a partition header.

    When every clustering key in them has one width (timestamps, uuids: the
    common case), every entry has one size, and a single ``iter_unpack``
    parses them all, once each entry's two length fields are checked to
    hold that width (strided byte slices compared in C, no Python loop).
    A partition of many row blocks (a long time series) then costs a cold
    read little more than a short one.
    """
    if count >= _FIXED_WIDTH_MIN_ENTRIES:
        width = (head[pos] << 8) | head[pos + 1]
        size = 20 + 2 * width
        end = pos + count * size
        if end == len(head):
            region = head[pos:end]
            high = bytes((width >> 8,)) * count
            low = bytes((width & 0xFF,)) * count
            if (
                region[0::size] == high
                and region[1::size] == low
                and region[2 + width :: size] == high
                and region[3 + width :: size] == low
            ):
                layout = _ROW_INDEX_LAYOUTS.get(width)
                if layout is None:
                    layout = struct.Struct(f">2x{width}s2x{width}sQII")
                    if len(_ROW_INDEX_LAYOUTS) < 64:
                        _ROW_INDEX_LAYOUTS[width] = layout
                return FixedRowIndex(region, count, width, layout)
    blocks = []
    unpack_tail = ROW_INDEX_TAIL.unpack_from
    for _ in range(count):
        length = (head[pos] << 8) | head[pos + 1]
        first = head[pos + 2 : pos + 2 + length]
        pos += 2 + length
        length = (head[pos] << 8) | head[pos + 1]
        last = head[pos + 2 : pos + 2 + length]
        pos += 2 + length
        block_offset, block_size, rows = unpack_tail(head, pos)
        pos += 16
        blocks.append((first, last, block_offset, block_size, rows))
    if pos != len(head):
        raise ValueError("bytes left after the row index")
    return tuple(blocks)


class SSTableReader:
    """One live SSTable: its statistics in memory, its data read on demand."""

    def __init__(self, fs: FileSystem, directory: str, generation: int) -> None:
        self.fs = fs
        self.directory = directory
        self.generation = generation
        self.name = f"{generation:08d}"
        self.data_path = component_path(directory, generation, "Data.db")
        self.index_path = component_path(directory, generation, "Index.db")
        stats_path = component_path(directory, generation, "Statistics.db")
        self.stats = json.loads(unframe(fs.read_bytes(stats_path), stats_path))
        if self.stats.get("format_version") not in (1, SSTABLE_FORMAT_VERSION):
            raise CorruptionError(
                stats_path, 0, f"unknown SSTable format {self.stats.get('format_version')!r}"
            )
        filter_path = component_path(directory, generation, "Filter.db")
        try:
            self.bloom = BloomFilter.from_bytes(unframe(fs.read_bytes(filter_path), filter_path))
        except ValueError as exc:
            raise CorruptionError(filter_path, 0, str(exc)) from None
        summary_path = component_path(directory, generation, "Summary.db")
        summary = _parse_entries(unframe(fs.read_bytes(summary_path), summary_path))
        self._summary_keys = [(token, key) for token, key, _, _ in summary]
        self._summary_blocks = [(offset, size) for _, _, offset, size in summary]
        self._data = fs.open_read_immutable(self.data_path)
        self._index = fs.open_read_immutable(self.index_path)
        self._number = next_reader_number()
        self.min_token = self.stats["min_token"]
        self.max_token = self.stats["max_token"]
        self.min_timestamp = self.stats["min_timestamp"]
        self.max_timestamp = self.stats["max_timestamp"]
        mc = self.stats["min_clustering"]
        xc = self.stats["max_clustering"]
        self.min_clustering = bytes.fromhex(mc) if mc is not None else None
        self.max_clustering = bytes.fromhex(xc) if xc is not None else None
        self.data_size = self.stats["data_size"]
        self.size = self.data_size + self.stats["index_size"]
        self.has_partition_level_data = (
            self.stats["has_partition_deletions"]
            or self.stats["has_range_tombstones"]
            or self.stats["has_static"]
        )
        self.bloom_checks = 0
        self.bloom_negatives = 0
        self.refs = 1
        self.obsolete = False
        self.compacting = False

    def prefault(self) -> int:
        """Map the pages of Data.db and Index.db now (see ``ReadableFile.prefault``).

        Return the bytes mapped. A read's first touch of a page otherwise
        takes a page fault (several µs here), which in a data set larger
        than the caches is most reads' first touch.
        """
        return self._data.prefault() + self._index.prefault()

    def close(self) -> None:
        self._data.close()
        self._index.close()

    # -- lookups -------------------------------------------------------------

    def may_contain_token(self, token: int) -> bool:
        return self.min_token is not None and self.min_token <= token <= self.max_token

    def may_contain(self, partition_key: bytes) -> bool:
        """Ask the bloom filter (counted for the bloom statistics)."""
        self.bloom_checks += 1
        if self.bloom.may_contain(partition_key):
            return True
        self.bloom_negatives += 1
        return False

    def may_intersect(self, slices: list[Slice]) -> bool:
        """Return False if no row of this SSTable can be in ``slices``."""
        low = self.min_clustering
        if low is None:
            return False
        # range_may_intersect inlined: every read asks each SSTable whose
        # tokens it falls in, and most SSTables of a point read stop here.
        high = self.max_clustering
        for sl in slices:
            start = sl.start
            if start is not None:
                prefix = start.prefix
                if start.inclusive:
                    if high < prefix:
                        continue
                elif high <= prefix or high.startswith(prefix):
                    continue
            end = sl.end
            if end is not None:
                prefix = end.prefix
                if end.inclusive:
                    if low > prefix and not low.startswith(prefix):
                        continue
                elif low >= prefix:
                    continue
            return True
        return False

    def _index_block(self, number: int) -> tuple[list, dict]:
        """Return index block ``number``: its entries, and each entry by its partition key.

        A partition key has one token, so the key alone finds its entry
        (a lookup still checks the token); the mapping is built in C.
        """
        cached = INDEX_BLOCKS.get((self._number, number))
        if cached is not None:
            return cached
        offset, size = self._summary_blocks[number]
        entries = _parse_entries(read_block(self._index, self.index_path, offset, size))
        block = (entries, dict(zip(map(_ENTRY_KEY, entries), entries, strict=True)))
        INDEX_BLOCKS.put((self._number, number), block, _INDEX_BLOCK_BYTES * size)
        return block

    def find(self, token: int, partition_key: bytes) -> tuple[int, int] | None:
        """Return (offset, size) of the partition's header block, or None."""
        number = bisect.bisect_right(self._summary_keys, (token, partition_key)) - 1
        if number < 0:
            return None
        entry = self._index_block(number)[1].get(partition_key)
        if entry is None or entry[0] != token:
            return None
        return entry[2], entry[3]

    def iter_entries(
        self, start: tuple | None, start_inclusive: bool, end: tuple | None, end_inclusive: bool
    ) -> Iterator[tuple[int, bytes, int, int]]:
        """Yield index entries (token, key, offset, size) with keys in the range, in order."""
        number = 0
        if start is not None:
            number = max(0, bisect.bisect_right(self._summary_keys, start) - 1)
        for block_number in range(number, len(self._summary_blocks)):
            entries = self._index_block(block_number)[0]
            for entry in entries:
                key = (entry[0], entry[1])
                if start is not None and (key < start or (key == start and not start_inclusive)):
                    continue
                if end is not None and (key > end or (key == end and not end_inclusive)):
                    return
                yield entry

    # -- partitions ----------------------------------------------------------

    def view_at(
        self,
        offset: int,
        size: int,
        slices: list[Slice],
        reverse: bool,
        trace: ReadTrace | None = None,
        lazy: bool | LiveContext = False,
    ) -> PartitionView:
        """Return the partition whose header block is at ``offset``.

        ``lazy`` rows are BlockRowData (decoded on demand, for reads); the
        default decodes every row whole (for compaction, which needs it all).
        """
        return self._view(self._header(offset, size, trace), slices, reverse, trace, lazy)

    def _header(self, offset: int, size: int, trace: ReadTrace | None) -> tuple:
        header = HEADERS.get((self._number, offset))
        if header is None:
            header = self._parse_header(offset, size, trace)
            HEADERS.put((self._number, offset), header, _header_footprint(size, header))
        return header

    def _view(
        self,
        header: tuple,
        slices: list[Slice],
        reverse: bool,
        trace: ReadTrace | None,
        lazy: bool | LiveContext,
    ) -> PartitionView:
        key, token, deletion, rts, static, blocks = header
        return PartitionView(
            key,
            token,
            deletion,
            rts,
            static,
            self._iter_rows(blocks, slices, reverse, trace, lazy),
            self.name,
        )

    def _parse_header(self, offset: int, size: int, trace: ReadTrace | None) -> tuple:
        """Return the parsed header of the partition whose index entry spans ``size`` bytes at ``offset``.

        The span is the header block, or (format 2) a partition's one row
        block and then its header: both come in one read, and the row
        block rides in the header's row index (``InlineRowBlock``).
        """
        if trace is not None:
            trace.blocks_read += 1
        payloads = read_blocks(self._data, self.data_path, offset, size)
        if len(payloads) == 1:
            return self._parse_header_block(payloads[0], offset)
        if len(payloads) != 2:
            raise CorruptionError(self.data_path, offset, "partition spans more than two blocks")
        rows, head = payloads
        at = offset + FRAME_SIZE + len(rows)
        header = self._parse_header_block(head, at)
        blocks = header[5]
        if type(blocks) is not tuple or len(blocks) != 1 or blocks[0][2:4] != (offset, at - offset):
            raise CorruptionError(self.data_path, at, "row index does not name the block before it")
        try:
            offsets = _row_offsets(rows)
        except Exception as exc:
            raise CorruptionError(self.data_path, offset, f"bad row block: {exc}") from None
        return (*header[:5], ((*blocks[0], rows, offsets),))

    def _parse_header_block(self, head: bytes, offset: int) -> tuple:
        """Return the parsed partition header held in ``head`` (the block at ``offset``)."""
        try:
            (length,) = U16.unpack_from(head, 0)
            key = head[2 : 2 + length]
            pos = 2 + length
            token, flags = _TOKEN_FLAGS(head, pos)
            pos += 9
            deletion = None
            if flags & 1:
                deletion, pos = decode_deletion(head, pos)
            (count,) = U32.unpack_from(head, pos)
            pos += 4
            rts = []
            for _ in range(count):
                rt, pos = decode_range_tombstone(head, pos)
                rts.append(rt)
            static = None
            if flags & 2:
                static, pos = decode_row(head, pos)
            (count,) = U32.unpack_from(head, pos)
            pos += 4
            blocks = _parse_row_index(head, pos, count)
        except Exception as exc:  # a verified block that does not parse is still corrupt
            raise CorruptionError(self.data_path, offset, f"bad partition header: {exc}") from None
        # Tuples, not lists: a cached header of atomic parts only is then
        # untracked by the cyclic GC, which no longer walks the key cache.
        return key, token, deletion, tuple(rts) if rts else (), static, blocks

    def header(self, token: int, partition_key: bytes) -> tuple | None:
        """Return the partition's parsed header, or None if this SSTable has no such partition.

        The read path's lookup: the key cache first; then the summary names
        the index block. When that index block is already in memory, the
        lookup there is exact and cheaper than the bloom filter, so the
        filter is asked only when the index block would have to be read
        (what it is for). The header block is read and checksummed but
        not kept in the block cache: its parsed form goes to the key cache.
        """
        header = KEYS.get((self._number, partition_key))
        if header is not None:
            return header
        number = bisect.bisect_right(self._summary_keys, (token, partition_key)) - 1
        if number < 0:
            return None
        block = INDEX_BLOCKS.get((self._number, number))
        if block is None:
            if not self.may_contain(partition_key):
                return None
            block = self._index_block(number)
        entry = block[1].get(partition_key)
        if entry is None or entry[0] != token:
            return None
        offset = entry[2]
        size = entry[3]
        header = HEADERS.get((self._number, offset))
        if header is None:
            header = self._parse_header(offset, size, None)
        KEYS.put((self._number, partition_key), header, _header_footprint(size, header))
        return header

    def open_view(
        self,
        token: int,
        partition_key: bytes,
        slices: list[Slice],
        reverse: bool,
        context: LiveContext | None = None,
    ) -> PartitionView | None:
        """Return the partition's lazily decoded view, or None if absent (reads without a trace)."""
        header = self.header(token, partition_key)
        if header is None:
            return None
        return self._view(header, slices, reverse, None, context or True)

    def view(
        self,
        token: int,
        partition_key: bytes,
        slices: list[Slice],
        reverse: bool,
        trace: ReadTrace | None = None,
        context: LiveContext | None = None,
    ) -> PartitionView | None:
        """Return the partition's data restricted to ``slices``, or None if absent.

        Rows come lazily decoded (BlockRowData, or LazyRow when ``context``
        allows it): this is the read path.
        """
        header = KEYS.get((self._number, partition_key))
        if header is None:
            found = self.find(token, partition_key)
            if found is None:
                return None
            header = self._header(found[0], found[1], trace)
            KEYS.put((self._number, partition_key), header, _header_footprint(found[1], header))
        return self._view(header, slices, reverse, trace, context or True)

    def cached_view(
        self,
        partition_key: bytes,
        slices: list[Slice],
        reverse: bool,
        trace: ReadTrace | None = None,
        context: LiveContext | None = None,
    ) -> PartitionView | None:
        """Return the partition's view if the key cache knows it, else None.

        A key cache hit proves the partition is here: the caller may skip
        the bloom filter (None says nothing either way).
        """
        header = KEYS.get((self._number, partition_key))
        if header is None:
            return None
        return self._view(header, slices, reverse, trace, context or True)

    def _block_span(
        self, block: RowBlock, low: bytes | None, high: bytes | None, trace: ReadTrace | None
    ) -> tuple[bytes, tuple[int, ...], int, int]:
        """Return the block's payload, row offsets (and its end), the index range of rows in [low, high).

        The row offsets at the head of the block allow a binary search on
        clustering keys, so only the rows returned are decoded.
        """
        if trace is not None:
            trace.blocks_read += 1
        fresh = None  # the cache key of a block just read, not yet cached
        if len(block) > 5:  # read with the partition's header (InlineRowBlock)
            payload = block[5]
            offsets = block[6]
        else:
            key = (self._number, block[2])
            payload = BLOCKS.get(key)
            if payload is None:
                payload = read_block(self._data, self.data_path, block[2], block[3])
                fresh = key
            offsets = None
        try:
            if offsets is None:
                offsets = _row_offsets(payload)
            count = len(offsets) - 1
            if low is None and high is None:  # a whole block (a head read): no search
                if fresh is not None:
                    BLOCKS.put(fresh, payload)
                return payload, offsets, 0, count
            start = 0
            if low is not None:
                start = _first_key_at_least(payload, offsets, 0, count, low)
            stop = count
            if high is not None:
                # Gallop from ``start`` (probes 0, 1, 2, 4... rows on): a
                # point or a narrow slice ends a row or two on, found in one
                # or two probes instead of a second full binary search.
                lo = start
                hi = count
                probe = start
                gap = 1
                while probe < count:
                    at = offsets[probe]
                    if (
                        payload[at + 3 : at + 3 + ((payload[at + 1] << 8) | payload[at + 2])]
                        >= high
                    ):
                        hi = probe
                        break
                    lo = probe + 1
                    probe = start + gap
                    gap <<= 1
                stop = _first_key_at_least(payload, offsets, lo, hi, high) if lo < hi else lo
        except Exception as exc:
            raise CorruptionError(self.data_path, block[2], f"bad row block: {exc}") from None
        if fresh is not None:
            # A block that gives the read one row or none (a point read) is
            # cached on its second such read: see BlockCache.
            if stop - start > 1:
                BLOCKS.put(fresh, payload)
            else:
                BLOCKS.offer(fresh, payload)
        return payload, offsets, start, stop

    def rows(
        self,
        token: int,
        partition_key: bytes,
        slices: list[Slice],
        reverse: bool,
        context: LiveContext | None = None,
    ) -> Iterator[RowData]:
        """Return the partition's rows inside ``slices``, looked up on the first ``next``.

        For SSTables without partition-level data (no partition deletion,
        range tombstone or static row), read without a trace: nothing but
        rows can come from them, and a LIMIT read may never start this one.
        """
        return self._iter_rows(None, slices, reverse, None, context or True, (token, partition_key))

    def _iter_rows(
        self,
        blocks: list[RowBlock] | None,
        slices: list[Slice],
        reverse: bool,
        trace: ReadTrace | None,
        lazy: bool | LiveContext,
        lookup: tuple[int, bytes] | None = None,
    ) -> Iterator[RowData]:
        """Yield the rows of ``blocks`` inside ``slices``, in the read's order.

        One generator for every block (rows are the hot loop of a read: a
        nested generator per block would cost a frame switch per row).
        ``lazy`` may be a LiveContext (lazy, and LazyRows when it says so).
        With ``lookup`` (token, key) instead of ``blocks``, the partition is
        looked up when the first row is asked for (see ``rows``).
        """
        if blocks is None:
            assert lookup is not None
            header = self.header(*lookup)
            if header is None:
                return
            blocks = header[5]
        context = lazy if type(lazy) is LiveContext else None
        for sl in reversed(slices) if reverse else slices:
            low, high, chosen = _chosen_blocks(blocks, sl, reverse)
            for block in chosen:
                payload, offsets, start, stop = self._block_span(block, low, high, trace)
                indexes = range(stop - 1, start - 1, -1) if reverse else range(start, stop)
                try:
                    # The merge sets ``context.fast`` (or never does) before it
                    # takes the first row, so it is read once per block.
                    if context is not None and context.fast:
                        now = context.now
                        columns = context.columns
                        # The width of the first row's clustering: a row of
                        # that width (with a marker) parses its head in one
                        # unpack; any other takes the general parse below.
                        width = -1
                        if start < stop:
                            at = offsets[start]
                            width = (payload[at + 1] << 8) | payload[at + 2]
                        head = _row_head(max(width, 0))
                        for index in indexes:
                            at = offsets[index]
                            # blockrows.live_in_block, inlined (the hot loop).
                            if payload[at] & _LIVE_FLAGS == ROW_LIVENESS:
                                try:
                                    _, length, clustering, stamp, ttl, expires = head(payload, at)
                                except struct.error:  # a shorter key at the block's end
                                    length = -1
                                if length == width:
                                    if not ttl or now < expires:
                                        yield LazyRow(
                                            clustering,
                                            payload,
                                            at,
                                            (stamp, ttl, expires),
                                            now,
                                            columns,
                                            offsets[index + 1],
                                        )
                                        continue
                                    yield BlockRowData(clustering, payload, at, offsets[index + 1])
                                    continue
                            length = (payload[at + 1] << 8) | payload[at + 2]
                            clustering = payload[at + 3 : at + 3 + length]
                            flags = payload[at]
                            if flags & _LIVE_FLAGS == ROW_LIVENESS:
                                marker = _unpack_liveness(payload, at + 3 + length)
                                if not marker[1] or now < marker[2]:
                                    yield LazyRow(
                                        clustering,
                                        payload,
                                        at,
                                        marker,
                                        now,
                                        columns,
                                        offsets[index + 1],
                                    )
                                    continue
                            yield BlockRowData(clustering, payload, at, offsets[index + 1])
                    elif lazy:
                        for index in indexes:
                            at = offsets[index]
                            length = (payload[at + 1] << 8) | payload[at + 2]
                            yield BlockRowData(
                                payload[at + 3 : at + 3 + length], payload, at, offsets[index + 1]
                            )
                    else:
                        for index in indexes:
                            yield decode_row(payload, offsets[index])[0]
                except Exception as exc:
                    raise CorruptionError(
                        self.data_path, block[2], f"bad row block: {exc}"
                    ) from None

    def value_rows(
        self,
        token: int,
        partition_key: bytes,
        slices: list[Slice],
        reverse: bool,
        limit: int | None,
        names: tuple[str, ...],
        now: int,
        out: list[tuple],
    ) -> None:
        """Append ``(clustering, *values)`` of the partition's live rows in ``slices`` to ``out``.

        Up to ``limit`` tuples in ``out`` in all. For SSTables without
        partition-level data (no partition deletion, range tombstone or
        static row), as ``rows``: each row is judged on its own. A run of
        plain rows is read by its shape (``pagevalues``); any other run
        as LazyRows and BlockRowData, through ``collect_live``.
        """
        header = self.header(token, partition_key)
        if header is None:
            return
        blocks = header[5]
        for sl in reversed(slices) if reverse else slices:
            low, high, chosen = _chosen_blocks(blocks, sl, reverse)
            for block in chosen:
                want = None if limit is None else limit - len(out)
                if want is not None and want <= 0:
                    return
                payload, offsets, start, stop = self._block_span(block, low, high, None)
                try:
                    if want is not None and want < stop - start:
                        # Every row of a page is live: the limit cuts it exactly.
                        first, last = (stop - want, stop) if reverse else (start, start + want)
                        page = page_values(payload, offsets, first, last, reverse, names)
                    else:
                        page = page_values(payload, offsets, start, stop, reverse, names)
                    if page is None:
                        indexes = range(stop - 1, start - 1, -1) if reverse else range(start, stop)
                        rows: list = []
                        collect_live(
                            _block_rows(payload, offsets, indexes),
                            rows,
                            want,
                            now,
                            frozenset(names),
                        )
                        page = value_tuples(rows, names)
                except CorruptionError:
                    raise
                except Exception as exc:
                    raise CorruptionError(
                        self.data_path, block[2], f"bad row block: {exc}"
                    ) from None
                out += page

    def iter_partitions(self) -> Iterator[PartitionView]:
        """Yield every partition, whole, in (token, key) order (for compaction)."""
        everything = [Slice()]
        for _token, _key, offset, size in self.iter_entries(None, True, None, True):
            yield self.view_at(offset, size, everything, False)
