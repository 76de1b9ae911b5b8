"""The live value bytes of one column across a read's rows, without Cell objects.

Owns ``column_values``: for the rows a read returned, the raw value of one
simple column per row (None where the row holds no live cell of it), what
``row.cells.get(name).value`` gives, but read straight from the stored
bytes of a LazyRow whose cells were never decoded, so no Cell and no dict
is built for it. Rows of any other kind (merged rows, row-cache rows,
decoded LazyRows) answer through their ``cells``. Reads a LazyRow's slots
directly, as ``blockrows`` does: the point is one call per page of rows,
not one per row, so the byte layout (docs/wide/storage.md, "Rows and
deletions") is read here too and the cell rules are those of
``codec.decode_live_cells``. Never reads files and never changes a row.
"""

from __future__ import annotations

from .blockrows import LazyRow
from .cells import NO_DELETION
from .codec import encoded_name
from .format import CELL_DELETION_TIME, CELL_TOMBSTONE, CELL_TTL, I64, U32
from .read import Row

_unpack_u32 = U32.unpack_from
_unpack_i64 = I64.unpack_from


def column_values(rows: list[Row], name: str) -> list[bytes | None]:
    """Return, row by row, the live value bytes of simple column ``name`` (None if none).

    Equal to ``[None if (c := row.cells.get(name)) is None else c.value for
    row in rows]`` for every kind of Row, and leaves the rows as they were
    (a LazyRow stays undecoded).
    """
    encoded = encoded_name(name)
    if encoded is None:  # no row holds such a name: let ``cells`` say so
        return [None if (c := row.cells.get(name)) is None else c.value for row in rows]
    lazy = LazyRow
    out: list[bytes | None] = []
    append = out.append
    for row in rows:
        if type(row) is not lazy or row._cells is not None:
            cell = row.cells.get(name)
            append(None if cell is None else cell.value)
            continue
        columns = row._columns
        if columns is not None and name not in columns:
            append(None)
            continue
        buf = row._buf
        # The cells follow the flags, the clustering (u16 length), the
        # 20-byte marker and the cell count (u16).
        pos = row._pos + 25 + len(row.clustering)
        count = (buf[pos - 2] << 8) | buf[pos - 1]
        if count and buf.startswith(encoded, pos):
            at = pos + 1 + buf[pos]
            if buf[at] == 0:
                # The column's cell comes first and is plain (flags 0): a
                # live value after the timestamp and its u32 length.
                (length,) = _unpack_u32(buf, at + 9)
                append(buf[at + 13 : at + 13 + length])
                continue
        append(_scan(buf, pos, count, encoded, row._now))
    return out


def _scan(buf: bytes, pos: int, count: int, encoded: bytes, now: int) -> bytes | None:
    """Return the live value of the cell named ``encoded`` among ``count`` cells at ``pos``.

    The rule of ``codec.decode_live_cells``: a tombstone, or a TTL cell
    expired at ``now``, has no live value.
    """
    for _ in range(count):
        at = pos + 1 + buf[pos]
        flags = buf[at]
        found = buf.startswith(encoded, pos)
        at += 9
        ttl = 0
        expiry = NO_DELETION
        if flags & CELL_TTL:
            (ttl,) = _unpack_u32(buf, at)
            at += 4
        if flags & CELL_DELETION_TIME:
            (expiry,) = _unpack_i64(buf, at)
            at += 8
        if flags & CELL_TOMBSTONE:
            if found:
                return None
            pos = at
            continue
        (length,) = _unpack_u32(buf, at)
        if found:
            if ttl and now >= expiry:
                return None
            return buf[at + 4 : at + 4 + length]
        pos = at + 4 + length
    return None
