"""What executing a statement returns, and the paging cursor's bytes.

``Rows`` carries result metadata (keyspace, table, column name and CQL type
per column) and the rows as Python values; ``serialized_rows()`` gives the
native-protocol bytes the protocol server sends (``StoredRows`` builds both
lazily from a page of storage rows). ``Void``, ``SetKeyspace``
and ``SchemaChange`` mirror the protocol's other RESULT kinds. Never
executes anything.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Protocol

from stores.wide.cql.errors import ProtocolError
from stores.wide.cql.types import CQLType


class _Unset:
    """The protocol's "unset" value: leave the column as it is."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET_VALUE"

    def __bool__(self) -> bool:
        return False


UNSET = _Unset()


@dataclass(frozen=True)
class ColumnSpec:
    """A result or bind-marker column: where it comes from, its name and type."""

    keyspace: str
    table: str
    name: str
    cql_type: CQLType


@dataclass
class Rows:
    """A page of rows with their metadata and the cursor to the next page."""

    columns: list[ColumnSpec]
    rows: list[tuple]
    paging_state: bytes | None = None
    trace: object = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def serialized_rows(self) -> list[list[bytes | None]]:
        """Return each row's values as native-protocol bytes (None for null)."""
        types = [c.cql_type for c in self.columns]
        return [
            [None if v is None else t.serialize(v) for t, v in zip(types, row, strict=True)]
            for row in self.rows
        ]


class StoredPage(Protocol):
    """Rows still in their stored form: what ``StoredRows`` builds its views from."""

    count: int

    def values(self) -> list[tuple]:
        """Return the rows as tuples of Python values."""

    def cells(self) -> bytes:
        """Return every row's values as native-protocol [value] cells, row after row."""


class StoredRows(Rows):
    """Rows still in their stored form, built on demand.

    ``rows`` (Python values) is built on first access, for in-process users;
    until then ``wire_body()`` gives the native-protocol bytes built
    straight from the stored cell bytes (``stored_values``), so the protocol
    server skips decoding values only to re-serialize them. Both describe
    the same rows.
    """

    def __init__(
        self,
        columns: list[ColumnSpec],
        page: StoredPage,
        paging_state: bytes | None = None,
        trace: object = None,
    ) -> None:
        self.columns = columns
        self.paging_state = paging_state
        self.trace = trace
        self._rows: list[tuple] | None = None
        self._page = page

    @property
    def rows(self) -> list[tuple]:
        if self._rows is None:
            self._rows = self._page.values()
        return self._rows

    @rows.setter
    def rows(self, value: list[tuple]) -> None:
        self._rows = value

    def wire_body(self) -> tuple[int, bytes] | None:
        """Return (row count, every row's values as [value] cells back to back), or None.

        None once ``rows`` was read or replaced (then serialize ``rows``).
        """
        if self._rows is not None:
            return None
        return self._page.count, self._page.cells()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rows):
            return NotImplemented
        return (self.columns, self.rows, self.paging_state, self.trace) == (
            other.columns,
            other.rows,
            other.paging_state,
            other.trace,
        )

    __hash__ = None

    def __repr__(self) -> str:
        return (
            f"StoredRows(columns={self.columns!r}, rows={self.rows!r}, "
            f"paging_state={self.paging_state!r}, trace={self.trace!r})"
        )


@dataclass
class Void:
    """A statement that returns nothing."""

    trace: object = None


@dataclass
class SetKeyspace:
    """``USE`` changed the current keyspace."""

    keyspace: str
    trace: object = None


@dataclass
class SchemaChange:
    """A DDL statement's event: change CREATED/UPDATED/DROPPED, target KEYSPACE/TABLE."""

    change: str
    target: str
    keyspace: str
    name: str | None = None
    trace: object = None
    options: dict = field(default_factory=dict)


# Paging state: version byte, then length-prefixed fields.
_PAGING_VERSION = 1
_U32 = struct.Struct(">I")


@dataclass(frozen=True)
class PagingState:
    """Where a page stopped: last partition and clustering key, rows left."""

    partition_key: bytes
    clustering: bytes | None
    remaining: int
    partition_remaining: int
    partition_index: int = 0

    def encode(self) -> bytes:
        """Return the opaque bytes handed to the client."""
        parts = [bytes([_PAGING_VERSION])]
        parts.append(_U32.pack(len(self.partition_key)) + self.partition_key)
        if self.clustering is None:
            parts.append(b"\xff\xff\xff\xff")
        else:
            parts.append(_U32.pack(len(self.clustering)) + self.clustering)
        parts.append(
            struct.pack(">qqI", self.remaining, self.partition_remaining, self.partition_index)
        )
        return b"".join(parts)

    @classmethod
    def decode(cls, data: bytes) -> PagingState:
        """Return the state in ``data`` or raise ProtocolError if it is not ours."""
        try:
            if data[0] != _PAGING_VERSION:
                raise ValueError
            pos = 1
            (size,) = _U32.unpack_from(data, pos)
            pk = data[pos + 4 : pos + 4 + size]
            pos += 4 + size
            (size,) = _U32.unpack_from(data, pos)
            if size == 0xFFFFFFFF:
                ck = None
                pos += 4
            else:
                ck = data[pos + 4 : pos + 4 + size]
                pos += 4 + size
            remaining, partition_remaining, index = struct.unpack_from(">qqI", data, pos)
            if pos + 20 != len(data):
                raise ValueError
        except (ValueError, IndexError, struct.error):
            raise ProtocolError("Invalid value for the paging state") from None
        return cls(
            bytes(pk), None if ck is None else bytes(ck), remaining, partition_remaining, index
        )
