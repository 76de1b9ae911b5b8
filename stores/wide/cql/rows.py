"""Turn storage rows back into CQL column values, and CQL values into cells.

Reading: a storage ``Row`` (cells by column name, collection cells by cell
path) becomes a dict of Python values. Writing: a Python value for a column
becomes the cells (or, for a non-frozen collection, the element cells and
collection deletion) of a ``RowUpdate``. Both directions follow the cell
layout documented in docs/wide/cql.md. Never reads or writes storage.
"""

from __future__ import annotations

import itertools
import struct
import threading
import time

from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.keys import decode_clustering
from stores.wide.cql.results import UNSET
from stores.wide.cql.schema import ColumnInfo, TableInfo
from stores.wide.cql.types import ListType, MapType, SetType, make_set
from stores.wide.storage import NO_DELETION, Cell, DeletionTime, RowUpdate

MAX_TTL = 20 * 365 * 86400

_list_lock = threading.Lock()
_list_seq = itertools.count()
_PATH = struct.Struct(">QQ")


def list_paths(count: int, prepend: bool = False) -> list[bytes]:
    """Return ``count`` fresh list cell paths, after (or before) every earlier one."""
    with _list_lock:
        stamp = time.time_ns() // 100
        seqs = [next(_list_seq) for _ in range(count)]
    if prepend:
        base = 2**62 - stamp
        return [_PATH.pack(base, i) for i in range(count)]
    base = 2**62 + stamp
    return [_PATH.pack(base, s) for s in seqs]


def collection_value(column: ColumnInfo, items: list[tuple[bytes, Cell]]):
    """Return the Python value of a non-frozen collection from its element cells."""
    cql_type = column.cql_type
    if not items:
        return None
    if isinstance(cql_type, ListType):
        return [cql_type.element.deserialize(cell.value) for _, cell in items]
    if isinstance(cql_type, SetType):
        return make_set(cql_type.element.decode_key(path, 0)[0] for path, _ in items)
    if isinstance(cql_type, MapType):
        out = {}
        for path, cell in items:
            out[cql_type.key.decode_key(path, 0)[0]] = cql_type.value.deserialize(cell.value)
        return out
    raise InvalidRequest(f"{column.name} is not a collection")


def row_values(
    table: TableInfo, pk_values: tuple, clustering: bytes | None, row, static_row, needed=None
) -> dict:
    """Return the column values of one result row (None for missing cells).

    ``needed`` limits the static and regular columns decoded (None = all).
    """
    values = {c.name: v for c, v in zip(table.partition_key, pk_values, strict=True)}
    if table.clustering:
        decoded = decode_clustering(table.ck_types, table.ck_desc, clustering) if clustering else ()
        for i, column in enumerate(table.clustering):
            values[column.name] = decoded[i] if i < len(decoded) else None
    for source, columns in ((static_row, table.static), (row, table.regular)):
        for column in columns:
            if needed is not None and column.name not in needed:
                continue
            if source is None:
                values[column.name] = None
            elif column.cql_type.multicell:
                values[column.name] = collection_value(
                    column, source.complex_cells.get(column.name, [])
                )
            else:
                cell = source.cells.get(column.name)
                values[column.name] = (
                    None if cell is None else column.cql_type.deserialize(cell.value)
                )
    return values


def cell_of(source, column: ColumnInfo):
    """Return the live cell of a simple column in a storage row, or None."""
    if source is None:
        return None
    return source.cells.get(column.name)


class WriteParams:
    """Timestamp, TTL and deletion time shared by the cells of one statement."""

    __slots__ = ("timestamp", "ttl", "now_seconds")

    def __init__(self, timestamp: int, ttl: int, now_seconds: int):
        self.timestamp = timestamp
        self.ttl = ttl
        self.now_seconds = now_seconds

    def cell(self, value: bytes | None) -> Cell:
        if value is None:
            return Cell(None, self.timestamp, 0, self.now_seconds)
        if self.ttl:
            return Cell(value, self.timestamp, self.ttl, self.now_seconds + self.ttl)
        return Cell(value, self.timestamp, 0, NO_DELETION)

    def deletion(self, offset: int = 0) -> DeletionTime:
        return DeletionTime(self.timestamp - offset, self.now_seconds)


def check_ttl(ttl) -> int:
    """Return a valid TTL or raise Cassandra's error for it."""
    if ttl is None or ttl is UNSET:
        return 0
    if ttl < 0:
        raise InvalidRequest(f"A TTL must be greater or equal to 0, but was {ttl}")
    if ttl > MAX_TTL:
        raise InvalidRequest(f"ttl is too large. requested ({ttl}) maximum ({MAX_TTL})")
    return ttl


def set_column(update: RowUpdate, column: ColumnInfo, value, params: WriteParams) -> None:
    """Write ``column = value`` (overwrite) into a row update."""
    if value is UNSET:
        return
    cql_type = column.cql_type
    if not cql_type.multicell:
        update.cells[column.name] = params.cell(
            None if value is None else cql_type.serialize(value)
        )
        return
    update.complex_deletions[column.name] = params.deletion(1)
    if value is not None:
        add_elements(update, column, value, params)


def add_elements(
    update: RowUpdate, column: ColumnInfo, value, params: WriteParams, prepend: bool = False
) -> None:
    """Add elements to a non-frozen collection (append, set add, map put)."""
    if value is None or value is UNSET:
        return
    cql_type = column.cql_type
    cells = update.complex_cells.setdefault(column.name, {})
    if isinstance(cql_type, ListType):
        items = list(value)
        for path, item in zip(list_paths(len(items), prepend), items, strict=True):
            cells[path] = params.cell(cql_type.element.serialize(item))
    elif isinstance(cql_type, SetType):
        for item in value:
            cells[cql_type.element.encode_key(item)] = params.cell(b"")
    elif isinstance(cql_type, MapType):
        if not isinstance(value, dict):
            raise InvalidRequest(f"Invalid map literal for {column.name}")
        for k, v in value.items():
            cells[cql_type.key.encode_key(k)] = params.cell(cql_type.value.serialize(v))


def remove_elements(
    update: RowUpdate, column: ColumnInfo, value, params: WriteParams, current=None
) -> None:
    """Remove set elements or map keys (or list values, given the current cells)."""
    if value is None or value is UNSET:
        return
    cql_type = column.cql_type
    cells = update.complex_cells.setdefault(column.name, {})
    if isinstance(cql_type, SetType):
        for item in value:
            cells[cql_type.element.encode_key(item)] = params.cell(None)
    elif isinstance(cql_type, MapType):
        for key in value:
            cells[cql_type.key.encode_key(key)] = params.cell(None)
    elif isinstance(cql_type, ListType):
        doomed = {cql_type.element.serialize(v) for v in value}
        for path, cell in current or []:
            if cell.value in doomed:
                cells[path] = params.cell(None)
