"""Response messages and their body encoding (RESULT, ERROR, SUPPORTED, ...).

Each response class knows its opcode and writes its own body with
``encode_body()``. Row values arrive already serialized (bytes or None):
serializing CQL values is the CQL layer's job. Nothing here does I/O.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from stores.wide.protocol import format as fmt
from stores.wide.protocol.primitives import BodyWriter
from stores.wide.protocol.type_options import TypeSpec, write_type

_INT = struct.Struct(">i")
_NULL = _INT.pack(fmt.VALUE_NULL)
_FLAGS_AND_COUNT = struct.Struct(">ii")
_ROWS_KIND = _INT.pack(fmt.RESULT_ROWS)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column of result or bind-variable metadata."""

    keyspace: str
    table: str
    name: str
    type: TypeSpec


def _write_column_specs(writer: BodyWriter, columns: list[ColumnSpec], flags: int) -> None:
    if flags & fmt.METADATA_GLOBAL_TABLES_SPEC:
        writer.write_string(columns[0].keyspace).write_string(columns[0].table)
        for column in columns:
            writer.write_string(column.name)
            write_type(writer, column.type)
    else:
        for column in columns:
            writer.write_string(column.keyspace).write_string(column.table)
            writer.write_string(column.name)
            write_type(writer, column.type)


def _global_spec_flag(columns: list[ColumnSpec]) -> int:
    if columns and all(
        c.keyspace == columns[0].keyspace and c.table == columns[0].table for c in columns
    ):
        return fmt.METADATA_GLOBAL_TABLES_SPEC
    return 0


def encode_column_specs(columns: list[ColumnSpec]) -> tuple[int, bytes]:
    """Return the global-tables-spec flag and the column spec bytes of Rows metadata.

    They depend on the columns only, so a server can compute them once per
    statement (``RowsMetadata.encoded``).
    """
    flag = _global_spec_flag(columns)
    writer = BodyWriter()
    _write_column_specs(writer, columns, flag)
    return flag, writer.getvalue()


@dataclass(slots=True)
class RowsMetadata:
    """The metadata of a Rows result (also a Prepared result's result metadata).

    ``encoded``, when given, is ``encode_column_specs(columns)`` computed
    earlier; it is written instead of encoding the columns again.
    """

    columns: list[ColumnSpec]
    paging_state: bytes | None = None
    no_metadata: bool = False
    encoded: tuple[int, bytes] | None = None

    def write(self, writer: BodyWriter) -> None:
        if self.encoded is not None or self.no_metadata:
            writer.write_raw(self.encode())
            return
        flags = _global_spec_flag(self.columns)
        if self.paging_state is not None:
            flags |= fmt.METADATA_HAS_MORE_PAGES
        writer.write_int(flags).write_int(len(self.columns))
        if self.paging_state is not None:
            writer.write_bytes(self.paging_state)
        _write_column_specs(writer, self.columns, flags)

    def encode(self) -> bytes:
        """Return the metadata's bytes (from ``encoded`` when given)."""
        paging_state = self.paging_state
        flags = 0 if paging_state is None else fmt.METADATA_HAS_MORE_PAGES
        if self.no_metadata:
            flags |= fmt.METADATA_NO_METADATA
            specs = b""
        elif self.encoded is not None:
            flags |= self.encoded[0]
            specs = self.encoded[1]
        else:
            writer = BodyWriter()
            self.write(writer)
            return writer.getvalue()
        head = _FLAGS_AND_COUNT.pack(flags, len(self.columns))
        if paging_state is None:
            return head + specs
        return b"".join((head, _INT.pack(len(paging_state)), paging_state, specs))


@dataclass(slots=True)
class Error:
    """ERROR: a code, a message and the code's extra fields."""

    code: int
    message: str
    keyspace: str = ""  # ALREADY_EXISTS
    table: str = ""  # ALREADY_EXISTS
    statement_id: bytes = b""  # UNPREPARED
    consistency: int = fmt.CONSISTENCY_ONE  # UNAVAILABLE and timeouts

    opcode = fmt.ERROR

    def encode_body(self) -> bytes:
        writer = BodyWriter().write_int(self.code).write_string(self.message[:65000])
        if self.code == fmt.ERR_ALREADY_EXISTS:
            writer.write_string(self.keyspace).write_string(self.table)
        elif self.code == fmt.ERR_UNPREPARED:
            writer.write_short_bytes(self.statement_id)
        elif self.code == fmt.ERR_UNAVAILABLE:
            writer.write_consistency(self.consistency).write_int(1).write_int(0)
        elif self.code == fmt.ERR_WRITE_TIMEOUT:
            writer.write_consistency(self.consistency).write_int(0).write_int(1)
            writer.write_string("SIMPLE")
        elif self.code == fmt.ERR_READ_TIMEOUT:
            writer.write_consistency(self.consistency).write_int(0).write_int(1)
            writer.write_byte(0)
        return writer.getvalue()


@dataclass(slots=True)
class Ready:
    opcode = fmt.READY

    def encode_body(self) -> bytes:
        return b""


@dataclass(slots=True)
class Authenticate:
    authenticator: str
    opcode = fmt.AUTHENTICATE

    def encode_body(self) -> bytes:
        return BodyWriter().write_string(self.authenticator).getvalue()


@dataclass(slots=True)
class AuthChallenge:
    token: bytes | None
    opcode = fmt.AUTH_CHALLENGE

    def encode_body(self) -> bytes:
        return BodyWriter().write_bytes(self.token).getvalue()


@dataclass(slots=True)
class AuthSuccess:
    token: bytes | None = None
    opcode = fmt.AUTH_SUCCESS

    def encode_body(self) -> bytes:
        return BodyWriter().write_bytes(self.token).getvalue()


@dataclass(slots=True)
class Supported:
    options: dict[str, list[str]]
    opcode = fmt.SUPPORTED

    def encode_body(self) -> bytes:
        return BodyWriter().write_string_multimap(self.options).getvalue()


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """What a DDL statement changed: the body of a Schema_change result or event."""

    change: str  # CREATED, UPDATED, DROPPED
    target: str  # KEYSPACE, TABLE, TYPE, FUNCTION, AGGREGATE
    keyspace: str
    name: str = ""
    argument_types: tuple[str, ...] = ()

    def write(self, writer: BodyWriter) -> None:
        writer.write_string(self.change).write_string(self.target).write_string(self.keyspace)
        if self.target in (fmt.TARGET_TABLE, fmt.TARGET_TYPE):
            writer.write_string(self.name)
        elif self.target in (fmt.TARGET_FUNCTION, fmt.TARGET_AGGREGATE):
            writer.write_string(self.name).write_string_list(list(self.argument_types))


@dataclass(slots=True)
class SchemaChangeEvent:
    change: SchemaChange
    opcode = fmt.EVENT

    def encode_body(self) -> bytes:
        writer = BodyWriter().write_string(fmt.EVENT_SCHEMA_CHANGE)
        self.change.write(writer)
        return writer.getvalue()


_VOID_BODY = _INT.pack(fmt.RESULT_VOID)


@dataclass(slots=True)
class VoidResult:
    opcode = fmt.RESULT

    def encode_body(self) -> bytes:
        return _VOID_BODY


@dataclass(slots=True)
class RowsResult:
    """Rows: metadata, then each row's values.

    Values are serialized bytes (or None), unless ``serializers`` gives one
    callable per column that turns a value into bytes; then the values are
    serialized while the body is written, with no intermediate lists. When
    ``wire_rows`` is given (the values as bytes, already), the body is
    written from it and ``rows`` is only a view of the same rows as values.
    When ``wire_body`` is given (``row_count`` rows, every value as a [value]
    cell, back to back), it is the rows' part of the body as it is.
    """

    metadata: RowsMetadata
    rows: Sequence = field(default_factory=list)
    serializers: list | None = None
    wire_rows: list | None = None
    wire_body: bytes | None = None
    row_count: int = 0
    opcode = fmt.RESULT

    def encode_body(self) -> bytes:
        if self.wire_body is not None:
            return b"".join(
                (_ROWS_KIND, self.metadata.encode(), _INT.pack(self.row_count), self.wire_body)
            )
        rows, serializers = self.rows, self.serializers
        if self.wire_rows is not None:
            rows, serializers = self.wire_rows, None
        writer = BodyWriter().write_int(fmt.RESULT_ROWS)
        self.metadata.write(writer)
        writer.write_int(len(rows))
        width = len(self.metadata.columns)
        parts = [writer.getvalue()]
        append = parts.append
        pack = _INT.pack
        for row in rows:
            if len(row) != width:
                raise ValueError(f"row has {len(row)} values for {width} columns")
            if serializers is None:
                values = row
            else:
                values = [None if v is None else f(v) for f, v in zip(serializers, row)]  # noqa: B905
            for value in values:
                if value is None:
                    append(_NULL)
                else:
                    append(pack(len(value)))
                    append(value)
        return b"".join(parts)


@dataclass(slots=True)
class EncodedResult:
    """A RESULT whose body was encoded already (a point read's Rows, written in one go)."""

    body: bytes
    opcode = fmt.RESULT

    def encode_body(self) -> bytes:
        return self.body


@dataclass(slots=True)
class SetKeyspaceResult:
    keyspace: str
    opcode = fmt.RESULT

    def encode_body(self) -> bytes:
        return (
            BodyWriter().write_int(fmt.RESULT_SET_KEYSPACE).write_string(self.keyspace).getvalue()
        )


@dataclass(slots=True)
class PreparedResult:
    """Prepared: the id, the bind variables (with partition key indexes) and result metadata."""

    statement_id: bytes
    variables: list[ColumnSpec]
    pk_indexes: list[int]
    result_columns: list[ColumnSpec]
    opcode = fmt.RESULT

    def encode_body(self) -> bytes:
        writer = BodyWriter().write_int(fmt.RESULT_PREPARED).write_short_bytes(self.statement_id)
        flags = _global_spec_flag(self.variables)
        writer.write_int(flags).write_int(len(self.variables)).write_int(len(self.pk_indexes))
        for index in self.pk_indexes:
            writer.write_short(index)
        if self.variables:
            _write_column_specs(writer, self.variables, flags)
        RowsMetadata(self.result_columns, no_metadata=not self.result_columns).write(writer)
        return writer.getvalue()


@dataclass(slots=True)
class SchemaChangeResult:
    change: SchemaChange
    opcode = fmt.RESULT

    def encode_body(self) -> bytes:
        writer = BodyWriter().write_int(fmt.RESULT_SCHEMA_CHANGE)
        self.change.write(writer)
        return writer.getvalue()


Response = (
    Error
    | Ready
    | Authenticate
    | AuthChallenge
    | AuthSuccess
    | Supported
    | SchemaChangeEvent
    | VoidResult
    | RowsResult
    | EncodedResult
    | SetKeyspaceResult
    | PreparedResult
    | SchemaChangeResult
)
