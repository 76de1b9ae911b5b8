"""A plain row's cells decoded with one struct unpack, by the shape of its bytes.

Owns the cell-shape cache. A row whose simple cells are all plain (flags 0:
live, no TTL, no deletion time) and that has no complex column is laid out
by its cell names and value lengths alone, so one precompiled
``struct.Struct`` unpacks all of its cells at once instead of a loop of
slices and small unpacks per cell (the hot loop of a slice that reads
values). Shapes are kept by the byte length of the row's cells (a few per
length), learnt from the second row of each length (a length met once
costs a set insert, not a learning), and every unpack is
checked field by field (the cell count, each name's length and bytes,
flags and value length, the complex count) against its shape: a row that
does not match decodes the ordinary way (``codec.decode_live_cells``), so
a shape can only speed a row up, never change what it decodes to. Pure
functions over bytes; never reads files.
"""

from __future__ import annotations

import struct
from operator import itemgetter

from .cells import NO_DELETION, Cell
from .codec import column_name

_SHAPES_PER_LENGTH = 4
_MAX_LENGTHS = 4096

_new_cell = Cell.__new__


class CellShape:
    """The layout of one plain row's cells: names in order and value lengths."""

    __slots__ = ("unpack", "structure", "expected", "cells")

    def __init__(self, names: list[bytes], lengths: list[int]) -> None:
        # A cell is its name's length, the name, flags, timestamp, value
        # length and value. The bytes from one value's end to the next
        # timestamp (the count or the previous cell's end, name length, name,
        # flags) never vary within a shape, so each run is one bytes field,
        # checked at once; then the timestamp, the value length and the value.
        parts = [">"]
        structure = []
        expected: list = []
        cells = []
        run = len(names).to_bytes(2, "big")
        for index, (raw, length) in enumerate(zip(names, lengths, strict=True)):
            run += bytes((len(raw),)) + raw + b"\x00"
            parts.append(f"{len(run)}sqI{length}s")
            base = 4 * index
            structure += [base, base + 2]
            expected += [run, length]
            cells.append((column_name(raw), base + 1, base + 3))
            run = b""
        # The last run (the count, if no cells): no complex column after it.
        run += b"\x00\x00"
        parts.append(f"{len(run)}s")
        structure.append(4 * len(names))
        expected.append(run)
        self.unpack = struct.Struct("".join(parts)).unpack_from
        self.structure = itemgetter(*structure)
        # itemgetter of one index gives the field itself, not a 1-tuple.
        self.expected = tuple(expected) if len(expected) > 1 else expected[0]
        self.cells = tuple(cells)


_SHAPES: dict[int, tuple[CellShape, ...]] = {}
# Lengths met once with no shape (and, negated, lengths whose shapes a row
# did not fit): the doorkeeper that learns a layout only when it recurs.
_SEEN: set[int] = set()
_MAX_SEEN = 16384


def decode_plain_cells(
    buf: bytes, pos: int, end: int, columns: frozenset[str] | None
) -> dict[str, Cell] | None:
    """Return the cells at ``pos`` (up to the row's ``end``) if they are plain, else None.

    Equal to ``codec.decode_live_cells(buf, pos, now, columns)[0]`` for a
    row whose cells are all plain and that has no complex column (nothing
    in it can be dead at any ``now``); None for any other row, which the
    caller then decodes the ordinary way.
    """
    length = end - pos
    shapes = _SHAPES.get(length)
    if shapes is None:
        # Learn a length on its second row only: learning costs ~5 µs, and
        # values of many lengths (text) make many lengths seen just once.
        if not seen_before(_SEEN, length):
            return None
        shapes = _learn(buf, pos, end)
    for shape in shapes:
        # The shape's size is the cells' length, so the unpack stays in the row.
        fields = shape.unpack(buf, pos)
        if shape.structure(fields) != shape.expected:
            continue
        cells = {}
        new_cell = _new_cell
        for name, timestamp, value in shape.cells:
            if columns is None or name in columns:
                # Cell's generated __init__ costs ~40% more than these stores.
                cell = new_cell(Cell)
                cell.value = fields[value]
                cell.timestamp = fields[timestamp]
                cell.ttl = 0
                cell.local_deletion_time = NO_DELETION
                cells[name] = cell
        return cells
    if shapes and len(shapes) < _SHAPES_PER_LENGTH and seen_before(_SEEN, -length):
        # Another layout of a known length (another table, another split of
        # the bytes between values), met a second time.
        _learn(buf, pos, end)
    return None


def seen_before(seen: set[int], key: int) -> bool:
    """Return True if ``key`` is in ``seen`` (taking it out), else note it there.

    The doorkeeper of a shape cache (also ``pagevalues``'): a layout is
    learnt when its length recurs; ``seen`` is cleared when full.
    """
    if key in seen:
        seen.discard(key)
        return True
    if len(seen) >= _MAX_SEEN:
        seen.clear()
    seen.add(key)
    return False


def plain_cells_layout(buf: bytes, pos: int, end: int) -> tuple[list[bytes], list[int]]:
    """Return the names and value lengths of the plain cells at ``pos`` (a row's cell count).

    Raise ValueError (or IndexError) unless every cell is plain (flags 0),
    no collection follows them and they end at ``end``.
    """
    count = (buf[pos] << 8) | buf[pos + 1]
    at = pos + 2
    names = []
    lengths = []
    for _ in range(count):
        size = buf[at]
        names.append(buf[at + 1 : at + 1 + size])
        at += 1 + size
        if buf[at] != 0:
            raise ValueError("not a plain cell")
        value_length = int.from_bytes(buf[at + 9 : at + 13], "big")
        lengths.append(value_length)
        at += 13 + value_length
    if buf[at] or buf[at + 1] or at + 2 != end:
        raise ValueError("not plain cells only")
    return names, lengths


def _learn(buf: bytes, pos: int, end: int) -> tuple[CellShape, ...]:
    """Add the shape of the cells at ``pos`` if plain; return the shapes of their length.

    Cells that are not plain, have a complex column after them or do not
    end at ``end`` add no shape; the first such row of a length marks the
    length as one to decode the ordinary way, with no more learning.
    """
    length = end - pos
    shapes = _SHAPES.get(length)
    if len(_SHAPES) >= _MAX_LENGTHS:
        _SHAPES.clear()
    try:
        names, lengths = plain_cells_layout(buf, pos, end)
    except (IndexError, ValueError):
        shapes = () if shapes is None else shapes
    else:
        shapes = (*(shapes or ()), CellShape(names, lengths))[-_SHAPES_PER_LENGTH:]
    _SHAPES[length] = shapes
    return shapes
