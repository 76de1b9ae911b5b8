"""A run of plain rows in a data block, read as value tuples in one unpack.

Owns the row-shape cache, ``page_values`` and ``value_tuples``. A read
that wants values, not Row objects (``StorageEngine.read_values``), asks
for ``(clustering, value of each named column...)`` per row: what a
database cursor's ``fetchall`` hands back. Most rows of a table are of one
kind: a row marker with no TTL, no row deletion, only plain cells (live,
no TTL, no deletion time) and no collection. Such a row is live at any
``now``, and its bytes (docs/wide/storage.md, "Rows and deletions") are
laid out by its clustering width, cell names and value lengths alone. A
run of rows of one layout is then one precompiled ``struct`` unpack of
clustering keys and values alone, and its every layout byte (flags,
clustering length, marker TTL, cell count, names, cell flags, value
lengths, collection count) is checked at once, as one big integer under a
mask; the values come out of the flat field tuple by slices, with no
Python step per row. A run with any other row gives None and the
caller reads it the ordinary way, so a shape only speeds a read up, never
changes what it returns. Layouts are learnt from a row length's second
sighting (a length met once costs a set insert). Pure functions over
bytes; never reads files.
"""

from __future__ import annotations

import struct
from itertools import repeat

from .cellshapes import plain_cells_layout, seen_before
from .codec import column_name
from .format import ROW_LIVENESS
from .read import Row

_SHAPES_PER_LENGTH = 4
_MAX_LENGTHS = 4096
# Unpacks kept per shape (one per run length met: at most a block's rows).
_MAX_PAGES = 256


class RowShape:
    """The layout of one plain row: clustering width, cell names and value lengths."""

    __slots__ = ("size", "fields", "body", "mask", "template", "names", "_pages", "_at")

    def __init__(self, width: int, names: list[bytes], lengths: list[int], size: int) -> None:
        # A row of the shape is fixed bytes (flags, clustering length,
        # marker TTL, cell count, each cell's name length, name and flags,
        # value lengths, the collection count) around the bytes that vary
        # (clustering, timestamps, the marker's expiry, values). ``mask``
        # has 0xff at the fixed bytes and ``template`` holds them: a run of
        # rows fits the shape when its bytes, as one big integer, ANDed
        # with the mask repeated give the template repeated. The unpack
        # skips the fixed bytes and the timestamps: a row gives its
        # clustering and its values alone.
        template = bytearray()
        mask = bytearray()

        def fixed(raw: bytes) -> None:
            template.extend(raw)
            mask.extend(b"\xff" * len(raw))

        def varying(n: int) -> None:
            template.extend(bytes(n))
            mask.extend(bytes(n))

        fixed(bytes((ROW_LIVENESS,)) + width.to_bytes(2, "big"))
        varying(width + 8)  # clustering, marker timestamp
        fixed(bytes(4))  # marker TTL: none
        varying(8)  # marker expiry
        parts = [f"3x{width}s20x"]
        run = len(names).to_bytes(2, "big")
        at: dict[str, int] = {}
        for index, (raw, length) in enumerate(zip(names, lengths, strict=True)):
            run += bytes((len(raw),)) + raw + b"\x00"
            fixed(run)
            varying(8)  # cell timestamp
            fixed(length.to_bytes(4, "big"))
            varying(length)
            parts.append(f"{len(run) + 12}x{length}s")
            at[column_name(raw)] = 1 + index
            run = b""
        fixed(run + b"\x00\x00")  # no collection
        parts.append(f"{len(run) + 2}x")
        if len(template) != size:
            raise ValueError("the layout does not fill the row")
        self.size = size
        self.fields = 1 + len(names)
        self.body = "".join(parts)
        self.mask = bytes(mask)
        self.template = bytes(template)
        self.names = at  # column name -> the field of its value within a row
        self._pages: dict[int, tuple] = {}
        self._at: dict[tuple[str, ...], tuple] = {}

    def page(self, count: int) -> tuple:
        """Return (unpack_from, mask, template) for ``count`` rows in a row (masks as integers)."""
        page = self._pages.get(count)
        if page is None:
            page = (
                struct.Struct(">" + self.body * count).unpack_from,
                int.from_bytes(self.mask * count, "big"),
                int.from_bytes(self.template * count, "big"),
            )
            if len(self._pages) < _MAX_PAGES:
                self._pages[count] = page
        return page

    def value_fields(self, names: tuple[str, ...]) -> tuple:
        """Return, per name, the field of its value within a row (None: the row has no such cell)."""
        at = self._at.get(names)
        if at is None:
            at = tuple(self.names.get(name) for name in names)
            if len(self._at) < 64:
                self._at[names] = at
        return at


_SHAPES: dict[int, tuple[RowShape, ...]] = {}
# Row lengths met once with no shape (and, negated, lengths whose shapes a
# row did not fit): learn a layout only when it recurs.
_SEEN: set[int] = set()


def page_values(
    payload: bytes,
    offsets: tuple[int, ...] | range,
    start: int,
    stop: int,
    reverse: bool,
    names: tuple[str, ...],
) -> list[tuple] | None:
    """Return ``(clustering, *values)`` for rows ``start:stop`` of a block, or None.

    ``offsets`` are the block's row offsets closed by its end (row ``i``
    is ``payload[offsets[i]:offsets[i + 1]]``). A value is the bytes of
    the row's cell of that name, None if the row has none. Rows come in
    read order (last first when ``reverse``). None unless every row of the
    run is a plain row of a learnt shape: the caller then reads the run
    the ordinary way. Every row such a run holds is live, whatever ``now``.
    """
    if start >= stop:
        return []
    at = offsets[start]
    length = offsets[start + 1] - at
    count = stop - start
    if (
        count == 1
        or type(offsets) is range  # a block of rows of one length
        or (
            offsets[stop] - at == length * count
            and offsets[start : stop + 1] == tuple(range(at, offsets[stop] + 1, length))
        )
    ):
        # Every row has the first one's length (fixed-width values): one run.
        out = _run_values(payload, at, length, count, names)
        if out is not None and reverse:
            out.reverse()
        return out
    out = []
    index = start
    while index < stop:
        # A run of rows of one length.
        at = offsets[index]
        length = offsets[index + 1] - at
        end = index + 1
        while end < stop and offsets[end + 1] - offsets[end] == length:
            end += 1
        run = _run_values(payload, at, length, end - index, names)
        if run is None:
            return None
        out += run
        index = end
    if reverse:
        out.reverse()
    return out


def _run_values(
    payload: bytes, at: int, length: int, count: int, names: tuple[str, ...]
) -> list[tuple] | None:
    """Return the tuples of ``count`` rows of ``length`` bytes from ``at``, or None."""
    shapes = _SHAPES.get(length)
    if shapes is None:
        if not seen_before(_SEEN, length):
            return None
        shapes = _learn(payload, at, length)
    for shape in shapes:
        page = shape._pages.get(count)
        if page is None:
            page = shape.page(count)
        unpack, mask, template = page
        if int.from_bytes(payload[at : at + length * count], "big") & mask != template:
            continue
        fields = unpack(payload, at)
        step = shape.fields
        value_fields = shape._at.get(names)
        if value_fields is None:
            value_fields = shape.value_fields(names)
        columns = [fields[0::step]]
        for field in value_fields:
            columns.append(repeat(None, count) if field is None else fields[field::step])
        return list(zip(*columns, strict=True))
    if count > 1:
        # Rows of one length but more than one layout: row by row (each
        # row's own layout is then learnt too).
        out: list[tuple] = []
        for row in range(count):
            one = _run_values(payload, at + row * length, length, 1, names)
            if one is None:
                return None
            out += one
        return out
    if shapes and len(shapes) < _SHAPES_PER_LENGTH and seen_before(_SEEN, -length):
        # Another layout of a known length, met a second time.
        _learn(payload, at, length)
    return None


def _learn(buf: bytes, pos: int, length: int) -> tuple[RowShape, ...]:
    """Add the shape of the row at ``pos`` if it is plain; return the shapes of its length.

    A row that is not plain, or does not end ``length`` bytes on, adds no
    shape (its length is then read the ordinary way until another row of
    that length is learnt).
    """
    shapes = _SHAPES.get(length)
    if len(_SHAPES) >= _MAX_LENGTHS:
        _SHAPES.clear()
    end = pos + length
    try:
        if buf[pos] != ROW_LIVENESS:
            raise ValueError("not a row with a marker only")
        width = (buf[pos + 1] << 8) | buf[pos + 2]
        at = pos + 3 + width
        if int.from_bytes(buf[at + 8 : at + 12], "big"):
            raise ValueError("a marker with a TTL")
        names, lengths = plain_cells_layout(buf, at + 20, end)
        shape = RowShape(width, names, lengths, length)
    except (IndexError, ValueError):
        shapes = () if shapes is None else shapes
    else:
        shapes = (*(shapes or ()), shape)[-_SHAPES_PER_LENGTH:]
    _SHAPES[length] = shapes
    return shapes


class _Absent:
    """What a row without a cell of the asked name gives: a value of None."""

    __slots__ = ()
    value = None


_ABSENT = _Absent()


def value_tuples(rows: list[Row], names: tuple[str, ...]) -> list[tuple]:
    """Return ``(clustering, *values)`` per row, from Row objects (the general path).

    One and two names (most reads) are one comprehension each, with no
    per-value test (a missing cell gives ``_ABSENT``, whose value is None).
    """
    absent = _ABSENT
    if len(names) == 2:
        a, b = names
        return [
            (r.clustering, r.cells.get(a, absent).value, r.cells.get(b, absent).value) for r in rows
        ]
    if len(names) == 1:
        (a,) = names
        return [(r.clustering, r.cells.get(a, absent).value) for r in rows]
    out = []
    for row in rows:
        get = row.cells.get
        values = [row.clustering]
        for name in names:
            values.append(get(name, absent).value)
        out.append(tuple(values))
    return out
