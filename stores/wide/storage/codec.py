"""Binary encoding of rows, deletions and mutations (docs/wide/storage.md).

Owns the byte form shared by the commit log (mutations) and SSTable data
blocks (rows, partition headers). Pure functions over bytes: never frames,
checksums or touches files.
"""

from __future__ import annotations

import struct
import uuid

from .cells import NO_DELETION, NO_TIMESTAMP, Cell, DeletionTime, LivenessInfo
from .format import (
    BOUND_END,
    BOUND_END_INCLUSIVE,
    BOUND_START,
    BOUND_START_INCLUSIVE,
    CELL_DELETION_TIME,
    CELL_HEAD,
    CELL_TOMBSTONE,
    CELL_TTL,
    DELETION,
    I64,
    LIVENESS,
    MUTATION_PARTITION_DELETION,
    ROW_DELETION,
    ROW_LIVENESS,
    ROW_STATIC,
    U8,
    U16,
    U32,
)
from .mutation import STATIC, Bound, Mutation, RangeTombstone, RowUpdate
from .partition import PlainRowData, RowData

_pack_u8 = U8.pack
_pack_u16 = U16.pack
_pack_u32 = U32.pack
_pack_i64 = I64.pack
_unpack_u8 = U8.unpack_from
_unpack_u16 = U16.unpack_from
_unpack_u32 = U32.unpack_from
_cell_head = CELL_HEAD.pack
_unpack_cell_head = CELL_HEAD.unpack_from


_pack_live_cell = struct.Struct(">BqI").pack  # flags 0, timestamp, value length


def encode_cell(cell: Cell, out: list) -> None:
    value = cell.value
    if value is not None and not cell.ttl and cell.local_deletion_time == NO_DELETION:
        # The common live cell: flags 0, so the head and the length pack at once.
        out.append(_pack_live_cell(0, cell.timestamp, len(value)))
        out.append(value)
        return
    flags = 0
    if cell.value is None:
        flags |= CELL_TOMBSTONE
    if cell.ttl:
        flags |= CELL_TTL
    if cell.local_deletion_time != NO_DELETION:
        flags |= CELL_DELETION_TIME
    out.append(_cell_head(flags, cell.timestamp))
    if flags & CELL_TTL:
        out.append(_pack_u32(cell.ttl))
    if flags & CELL_DELETION_TIME:
        out.append(_pack_i64(cell.local_deletion_time))
    if cell.value is not None:
        out.append(_pack_u32(len(cell.value)))
        out.append(cell.value)


def decode_cell(buf: bytes, pos: int) -> tuple[Cell, int]:
    flags, timestamp = _unpack_cell_head(buf, pos)
    pos += 9
    ttl = 0
    ldt = NO_DELETION
    if flags & CELL_TTL:
        (ttl,) = _unpack_u32(buf, pos)
        pos += 4
    if flags & CELL_DELETION_TIME:
        (ldt,) = I64.unpack_from(buf, pos)
        pos += 8
    value = None
    if not flags & CELL_TOMBSTONE:
        (length,) = _unpack_u32(buf, pos)
        pos += 4
        value = buf[pos : pos + length]
        pos += length
    return Cell(value, timestamp, ttl, ldt), pos


_ENCODED_NAMES: dict[str, bytes] = {}
_ENCODED_NAMES_MAX = 4096


def _encode_name(name: str, out: list) -> None:
    encoded = _ENCODED_NAMES.get(name)
    if encoded is None:
        raw = name.encode()
        encoded = _pack_u8(len(raw)) + raw
        if len(_ENCODED_NAMES) < _ENCODED_NAMES_MAX:  # column names: a small, schema-bound set
            _ENCODED_NAMES[name] = encoded
    out.append(encoded)


def encoded_name(name: str) -> bytes | None:
    """Return a column name as rows store it: a u8 length, then its UTF-8 bytes.

    None for a name longer than 255 bytes, which no stored row can hold.
    """
    encoded = _ENCODED_NAMES.get(name)
    if encoded is None:
        if len(name.encode()) > 255:
            return None
        out: list = []
        _encode_name(name, out)
        encoded = out[0]
    return encoded


def _decode_name(buf: bytes, pos: int) -> tuple[str, int]:
    length = buf[pos]
    return buf[pos + 1 : pos + 1 + length].decode(), pos + 1 + length


def encode_deletion(deletion: DeletionTime, out: list) -> None:
    out.append(DELETION.pack(deletion.marked_for_delete_at, deletion.local_deletion_time))


def decode_deletion(buf: bytes, pos: int) -> tuple[DeletionTime, int]:
    mfda, ldt = DELETION.unpack_from(buf, pos)
    return DeletionTime(mfda, ldt), pos + 16


def encode_row(row: RowData | RowUpdate, out: list) -> None:
    """Append the encoding of a row (or a row update, same shape) to ``out``."""
    flags = 0
    static = row.clustering is STATIC
    if static:
        flags |= ROW_STATIC
    if row.liveness is not None:
        flags |= ROW_LIVENESS
    if row.deletion is not None:
        flags |= ROW_DELETION
    out.append(_pack_u8(flags))
    if not static:
        out.append(_pack_u16(len(row.clustering)))
        out.append(row.clustering)
    if row.liveness is not None:
        li = row.liveness
        out.append(LIVENESS.pack(li.timestamp, li.ttl, li.local_expiration_time))
    if row.deletion is not None:
        encode_deletion(row.deletion, out)
    out.append(_pack_u16(len(row.cells)))
    names = _ENCODED_NAMES
    for name, cell in row.cells.items():
        encoded = names.get(name)
        if encoded is None:
            _encode_name(name, out)
        else:
            out.append(encoded)
        value = cell.value
        if value is not None and not cell.ttl and cell.local_deletion_time == NO_DELETION:
            out += (_pack_live_cell(0, cell.timestamp, len(value)), value)
        else:
            encode_cell(cell, out)
    if not row.complex_deletions and not row.complex_cells:
        out.append(b"\x00\x00")
        return
    names = set(row.complex_deletions) | set(row.complex_cells)
    out.append(_pack_u16(len(names)))
    for name in sorted(names):
        _encode_name(name, out)
        deletion = row.complex_deletions.get(name)
        if deletion is None:
            out.append(b"\x00")
        else:
            out.append(b"\x01")
            encode_deletion(deletion, out)
        elements = row.complex_cells.get(name, {})
        out.append(_pack_u32(len(elements)))
        for path, cell in elements.items():
            out.append(_pack_u32(len(path)))
            out.append(path)
            encode_cell(cell, out)


_NAMES: dict[bytes, str] = {}
_unpack_liveness = LIVENESS.unpack_from
_unpack_plain_cell = struct.Struct(">BqI").unpack_from
_new_cell = Cell.__new__
_unpack_i64 = I64.unpack_from


def _name(raw: bytes) -> str:
    name = _NAMES.get(raw)
    if name is None:
        name = raw.decode()
        if len(_NAMES) < 4096:
            _NAMES[raw] = name
    return name


def column_name(raw: bytes) -> str:
    """Return the column name whose UTF-8 bytes are ``raw`` (one shared str per name)."""
    return _NAMES.get(raw) or _name(raw)


def decode_row(buf: bytes, pos: int) -> tuple[RowData, int]:
    """Decode one row at ``pos``; return it and the position after it.

    The hottest function of the read path: cells are decoded inline.
    """
    flags = buf[pos]
    pos += 1
    if flags & ROW_STATIC:
        clustering = STATIC
    else:
        length = (buf[pos] << 8) | buf[pos + 1]
        clustering = buf[pos + 2 : pos + 2 + length]
        pos += 2 + length
    liveness = None
    if flags & ROW_LIVENESS:
        liveness = LivenessInfo(*_unpack_liveness(buf, pos))
        pos += 20
    deletion = None
    if flags & ROW_DELETION:
        deletion, pos = decode_deletion(buf, pos)
    count = (buf[pos] << 8) | buf[pos + 1]
    pos += 2
    cells = {}
    names = _NAMES
    plain = deletion is None
    for _ in range(count):
        length = buf[pos]
        raw = buf[pos + 1 : pos + 1 + length]
        name = names.get(raw) or _name(raw)
        pos += 1 + length
        cell_flags = buf[pos]
        if cell_flags == 0:
            # A plain live cell: flags, timestamp and value length in one unpack.
            _, timestamp, length = _unpack_plain_cell(buf, pos)
            pos += 13
            cells[name] = Cell(buf[pos : pos + length], timestamp)
            pos += length
            continue
        plain = False
        _, timestamp = _unpack_cell_head(buf, pos)
        pos += 9
        ttl = 0
        ldt = NO_DELETION
        if cell_flags & CELL_TTL:
            (ttl,) = _unpack_u32(buf, pos)
            pos += 4
        if cell_flags & CELL_DELETION_TIME:
            (ldt,) = _unpack_i64(buf, pos)
            pos += 8
        value = None
        if not cell_flags & CELL_TOMBSTONE:
            (length,) = _unpack_u32(buf, pos)
            value = buf[pos + 4 : pos + 4 + length]
            pos += 4 + length
        cells[name] = Cell(value, timestamp, ttl, ldt)
    count = (buf[pos] << 8) | buf[pos + 1]
    pos += 2
    if not count:
        if plain:
            return PlainRowData(clustering, liveness, None, cells), pos
        return RowData(clustering, liveness, deletion, cells), pos
    complex_deletions = {}
    complex_cells = {}
    for _ in range(count):
        name, pos = _decode_name(buf, pos)
        if buf[pos]:
            complex_deletions[name], pos = decode_deletion(buf, pos + 1)
        else:
            pos += 1
        (elements,) = _unpack_u32(buf, pos)
        pos += 4
        if elements:
            items = {}
            for _ in range(elements):
                (length,) = _unpack_u32(buf, pos)
                path = buf[pos + 4 : pos + 4 + length]
                items[path], pos = decode_cell(buf, pos + 4 + length)
            complex_cells[name] = items
    return RowData(clustering, liveness, deletion, cells, complex_deletions, complex_cells), pos


def decode_live_cells(
    buf: bytes, pos: int, now: int, columns: frozenset[str] | None
) -> tuple[dict[str, Cell], bool]:
    """Decode the simple cells at ``pos`` (their count) keeping those live at ``now``.

    Keep only names in ``columns`` unless it is None. Return the cells and
    whether the row goes on with complex columns (left undecoded here). The
    live-cell rule is ``merge.live_row``'s for a row no deletion covers
    (``rowvalues.column_values`` applies it to one cell in place).
    """
    count = (buf[pos] << 8) | buf[pos + 1]
    pos += 2
    cells = {}
    names = _NAMES
    new_cell = _new_cell
    for _ in range(count):
        length = buf[pos]
        raw = buf[pos + 1 : pos + 1 + length]
        name = names.get(raw) or _name(raw)
        pos += 1 + length
        cell_flags = buf[pos]
        if cell_flags == 0:
            _, timestamp, length = _unpack_plain_cell(buf, pos)
            pos += 13
            if columns is None or name in columns:
                # Cell's generated __init__ costs ~40% more than these stores:
                # two cells a row is the hot loop of a slice that reads values.
                cell = new_cell(Cell)
                cell.value = buf[pos : pos + length]
                cell.timestamp = timestamp
                cell.ttl = 0
                cell.local_deletion_time = NO_DELETION
                cells[name] = cell
            pos += length
            continue
        _, timestamp = _unpack_cell_head(buf, pos)
        pos += 9
        ttl = 0
        ldt = NO_DELETION
        if cell_flags & CELL_TTL:
            (ttl,) = _unpack_u32(buf, pos)
            pos += 4
        if cell_flags & CELL_DELETION_TIME:
            (ldt,) = _unpack_i64(buf, pos)
            pos += 8
        if cell_flags & CELL_TOMBSTONE:
            continue
        (length,) = _unpack_u32(buf, pos)
        start = pos + 4
        pos = start + length
        if ttl and now >= ldt:
            continue
        if columns is None or name in columns:
            cells[name] = Cell(buf[start:pos], timestamp, ttl, ldt)
    return cells, bool(buf[pos] or buf[pos + 1])


def encode_range_tombstone(rt: RangeTombstone, out: list) -> None:
    flags = 0
    if rt.start is not None:
        flags |= BOUND_START | (BOUND_START_INCLUSIVE if rt.start.inclusive else 0)
    if rt.end is not None:
        flags |= BOUND_END | (BOUND_END_INCLUSIVE if rt.end.inclusive else 0)
    out.append(_pack_u8(flags))
    for bound in (rt.start, rt.end):
        if bound is not None:
            out.append(_pack_u16(len(bound.prefix)))
            out.append(bound.prefix)
    encode_deletion(rt.deletion, out)


def decode_range_tombstone(buf: bytes, pos: int) -> tuple[RangeTombstone, int]:
    flags = buf[pos]
    pos += 1
    bounds = []
    for present, inclusive in (
        (BOUND_START, BOUND_START_INCLUSIVE),
        (BOUND_END, BOUND_END_INCLUSIVE),
    ):
        if flags & present:
            (length,) = _unpack_u16(buf, pos)
            bounds.append(Bound(buf[pos + 2 : pos + 2 + length], bool(flags & inclusive)))
            pos += 2 + length
        else:
            bounds.append(None)
    deletion, pos = decode_deletion(buf, pos)
    return RangeTombstone(bounds[0], bounds[1], deletion), pos


def encode_mutation(table_id: uuid.UUID | bytes, mutation: Mutation) -> bytes:
    """Return the commit-log form of one mutation (table named by id, or its 16 bytes)."""
    if not mutation.range_tombstones and mutation.partition_deletion is None:
        return encode_mutation_rows(table_id, mutation)[0]
    raw_id = table_id if isinstance(table_id, bytes) else table_id.bytes
    out: list = [raw_id, _pack_u16(len(mutation.partition_key)), mutation.partition_key]
    if mutation.partition_deletion is not None:
        out.append(_pack_u8(MUTATION_PARTITION_DELETION))
        encode_deletion(mutation.partition_deletion, out)
    else:
        out.append(b"\x00")
    out.append(_pack_u16(len(mutation.range_tombstones)))
    for rt in mutation.range_tombstones:
        encode_range_tombstone(rt, out)
    out.append(_pack_u32(len(mutation.rows)))
    for row in mutation.rows:
        encode_row(row, out)
    return b"".join(out)


def encode_mutation_rows(
    table_id: uuid.UUID | bytes, mutation: Mutation
) -> tuple[bytes, list[tuple[bytes, int | None, int | None]]]:
    """Return ``encode_mutation``'s bytes and, per row, (its encoding, min ts, max ts).

    The memtable keeps a row as the bytes the commit log already holds, so
    a write encodes each row once. The timestamps are None for a static row
    or one with a complex column (the memtable works them out).
    """
    raw_id = table_id if isinstance(table_id, bytes) else table_id.bytes
    key = mutation.partition_key
    head: list = [raw_id, _pack_u16(len(key)), key]
    if mutation.partition_deletion is not None:
        head.append(_pack_u8(MUTATION_PARTITION_DELETION))
        encode_deletion(mutation.partition_deletion, head)
    else:
        head.append(b"\x00")
    head.append(_pack_u16(len(mutation.range_tombstones)))
    for rt in mutation.range_tombstones:
        encode_range_tombstone(rt, head)
    rows = mutation.rows
    head.append(_pack_u32(len(rows)))
    encoded_rows = []
    for row in rows:
        if row.complex_cells or row.complex_deletions or row.clustering is STATIC:
            out: list = []
            encode_row(row, out)
            encoded = b"".join(out)
            encoded_rows.append((encoded, None, None))
        else:
            item = encode_simple_row(row)
            encoded = item[0]
            encoded_rows.append(item)
        head.append(encoded)
    return b"".join(head), encoded_rows


def encode_simple_row(row: RowData | RowUpdate) -> tuple[bytes, int, int]:
    """Return (``encode_row`` bytes, min timestamp, max timestamp) of a row.

    For a clustered row with no complex column (the write path's common
    case): the memtable needs the row's timestamp range, and gathering it
    while encoding saves a second pass over the cells.
    """
    low = 2**63 - 1
    high = NO_TIMESTAMP
    clustering = row.clustering
    liveness = row.liveness
    deletion = row.deletion
    flags = 0 if liveness is None else ROW_LIVENESS
    if deletion is not None:
        flags |= ROW_DELETION
    cells = row.cells
    out = [_pack_u8(flags), _pack_u16(len(clustering)), clustering]
    if liveness is not None:
        low = high = liveness.timestamp
        out.append(LIVENESS.pack(low, liveness.ttl, liveness.local_expiration_time))
    if deletion is not None:
        ts = deletion.marked_for_delete_at
        low = min(low, ts)
        high = max(high, ts)
        out.append(DELETION.pack(ts, deletion.local_deletion_time))
    out.append(_pack_u16(len(cells)))
    names = _ENCODED_NAMES
    for name, cell in cells.items():
        encoded = names.get(name)
        if encoded is None:
            _encode_name(name, out)
        else:
            out.append(encoded)
        value = cell.value
        ts = cell.timestamp
        if ts < low:
            low = ts
        if ts > high:
            high = ts
        if value is not None and not cell.ttl and cell.local_deletion_time == NO_DELETION:
            out += (_pack_live_cell(0, ts, len(value)), value)
        else:
            encode_cell(cell, out)
    out.append(b"\x00\x00")
    return b"".join(out), low, high


def decode_mutation(buf: bytes) -> tuple[uuid.UUID, bytes, Mutation]:
    """Return (table id, partition key, mutation without keyspace/table names)."""
    table_id = uuid.UUID(bytes=bytes(buf[:16]))
    (length,) = _unpack_u16(buf, 16)
    pos = 18
    key = bytes(buf[pos : pos + length])
    pos += length
    deletion = None
    if buf[pos] & MUTATION_PARTITION_DELETION:
        deletion, pos = decode_deletion(buf, pos + 1)
    else:
        pos += 1
    (count,) = _unpack_u16(buf, pos)
    pos += 2
    rts = []
    for _ in range(count):
        rt, pos = decode_range_tombstone(buf, pos)
        rts.append(rt)
    (count,) = _unpack_u32(buf, pos)
    pos += 4
    rows = []
    for _ in range(count):
        row, pos = decode_row(buf, pos)
        rows.append(
            RowUpdate(
                row.clustering,
                row.liveness,
                row.deletion,
                row.cells,
                row.complex_deletions,
                row.complex_cells,
            )
        )
    if pos != len(buf):
        raise ValueError(f"{len(buf) - pos} trailing bytes after a mutation")
    return table_id, key, Mutation("", "", key, deletion, rts, rows)


def encode_batch(encoded_mutations: list[bytes]) -> bytes:
    """Return one commit-log record payload holding several mutations."""
    out = [_pack_u32(len(encoded_mutations))]
    for item in encoded_mutations:
        out.append(_pack_u32(len(item)))
        out.append(item)
    return b"".join(out)


def decode_batch(buf: bytes) -> list[bytes]:
    (count,) = _unpack_u32(buf, 0)
    pos = 4
    items = []
    for _ in range(count):
        (length,) = _unpack_u32(buf, pos)
        items.append(buf[pos + 4 : pos + 4 + length])
        pos += 4 + length
    if pos != len(buf):
        raise ValueError("trailing bytes after a commit log batch")
    return items
