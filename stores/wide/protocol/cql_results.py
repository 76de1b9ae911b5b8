"""Turn the CQL layer's results and column specs into protocol messages.

The CQL layer returns ``Rows``/``Void``/``SetKeyspace``/``SchemaChange`` with
Python values and CQL types; this module builds the RESULT responses, asking
the CQL types (``stores.wide.cql.types``) to serialize values; the only
encoding it does itself is a null element inside a list or set result
(``_result_serializer``). ``StoredRows`` come with their bytes already
(``wire_body()``, mostly the stored cell bytes as they are); ``rows_body``
writes a Rows body around such cells directly. It never executes statements.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import lru_cache

from stores.wide.cql import results as cql_results
from stores.wide.cql.types import ListType, SetType
from stores.wide.protocol.format import RESULT_ROWS
from stores.wide.protocol.responses import (
    ColumnSpec,
    Response,
    RowsMetadata,
    RowsResult,
    SchemaChange,
    SchemaChangeResult,
    SetKeyspaceResult,
    VoidResult,
    encode_column_specs,
)
from stores.wide.protocol.type_options import TypeSpec, parse_type

_INT = struct.Struct(">i")
_NULL_ITEM = _INT.pack(-1)


def _result_serializer(cql_type):
    """Return the function that serializes a result value of ``cql_type``.

    The CQL types' ``serialize`` refuses null elements inside collections, as
    Cassandra does for values a client sends. Results may hold them (Cassandra
    5's ``writetime()``/``ttl()`` of a collection return lists with nulls),
    and the native protocol writes such an element with length -1; this is the
    one piece of value encoding this package does itself, only for that case.
    """
    serialize = cql_type.serialize
    if not isinstance(cql_type, ListType | SetType):
        return serialize
    element = cql_type.subtypes[0].serialize

    def serialize_allowing_null_elements(value):
        if not any(v is None for v in value):
            return serialize(value)
        parts = [_INT.pack(len(value))]
        for item in value:
            if item is None:
                parts.append(_NULL_ITEM)
            else:
                raw = element(item)
                parts.append(_INT.pack(len(raw)))
                parts.append(raw)
        return b"".join(parts)

    return serialize_allowing_null_elements


class _RowValues(Sequence):
    """The Python values of ``StoredRows``, built only if someone reads them."""

    __slots__ = ("_stored",)

    def __init__(self, stored: cql_results.StoredRows) -> None:
        self._stored = stored

    def __len__(self) -> int:
        return len(self._stored.rows)

    def __getitem__(self, index):
        return self._stored.rows[index]


@lru_cache(maxsize=4096)
def _type_spec(cql_name: str) -> TypeSpec:
    return parse_type(cql_name)


def wire_columns(specs) -> list[ColumnSpec]:
    """Return protocol column specs for the CQL layer's ColumnSpec list."""
    return [
        ColumnSpec(spec.keyspace, spec.table, spec.name, _type_spec(spec.cql_type.cql()))
        for spec in specs
    ]


# Result columns -> (the columns, their protocol specs, encode_column_specs()).
# Keyed by the identity of the CQL layer's ColumnSpec objects: a prepared
# statement's plan keeps the same ones, and each entry holds its columns, so
# an id in a key cannot be reused while the entry lives. Bounded: cleared
# when full (statements built per call, e.g. system tables, only churn it).
_COLUMNS_CACHE: dict[tuple[int, ...], tuple] = {}
_COLUMNS_CACHE_SIZE = 1024


def _result_metadata(columns: list) -> tuple[list[ColumnSpec], tuple[int, bytes]]:
    """Return protocol specs and their encoded bytes for result columns, computed once."""
    key = tuple(map(id, columns))
    entry = _COLUMNS_CACHE.get(key)
    if entry is None:
        specs = wire_columns(columns)
        entry = (tuple(columns), specs, encode_column_specs(specs))
        if len(_COLUMNS_CACHE) >= _COLUMNS_CACHE_SIZE:
            _COLUMNS_CACHE.clear()
        _COLUMNS_CACHE[key] = entry
    return entry[1], entry[2]


# A column list's Rows body heads without a paging state, by the identity of
# the list (held by each entry, as in _COLUMNS_CACHE): (with the metadata,
# skipping it).
_HEADS_CACHE: dict[int, tuple] = {}
_ROWS_KIND = _INT.pack(RESULT_ROWS)


def rows_body(
    columns: list, count: int, cells: bytes, paging_state: bytes | None, skip_metadata: bool
) -> bytes:
    """Return the body of a Rows RESULT from its rows as [value] cells back to back.

    The bytes ``to_response`` writes for a ``StoredRows`` of the same
    columns, rows and paging state; the head (kind and metadata) of a page
    without a paging state is built once per column list.
    """
    if paging_state is None:
        entry = _HEADS_CACHE.get(id(columns))
        if entry is None or entry[0] is not columns:
            specs, encoded = _result_metadata(columns)
            entry = (
                columns,
                _ROWS_KIND + RowsMetadata(specs, None, False, encoded).encode(),
                _ROWS_KIND + RowsMetadata(specs, None, True, encoded).encode(),
            )
            if len(_HEADS_CACHE) >= _COLUMNS_CACHE_SIZE:
                _HEADS_CACHE.clear()
            _HEADS_CACHE[id(columns)] = entry
        head = entry[2] if skip_metadata else entry[1]
        return b"".join((head, _INT.pack(count), cells))
    specs, encoded = _result_metadata(columns)
    metadata = RowsMetadata(specs, paging_state, skip_metadata, encoded)
    return b"".join((_ROWS_KIND, metadata.encode(), _INT.pack(count), cells))


def to_response(result, *, skip_metadata: bool = False) -> Response:
    """Return the RESULT response for a CQL layer result."""
    kind = result.__class__
    if kind is cql_results.StoredRows:
        # Stored cell bytes are already native-protocol values.
        wire = result.wire_body()
        if wire is not None:
            specs, encoded = _result_metadata(result.columns)
            metadata = RowsMetadata(specs, result.paging_state, skip_metadata, encoded)
            count, body = wire
            return RowsResult(metadata, _RowValues(result), wire_body=body, row_count=count)
    if kind is cql_results.Void:
        return VoidResult()
    if isinstance(result, cql_results.Rows):
        specs, encoded = _result_metadata(result.columns)
        metadata = RowsMetadata(
            specs,
            paging_state=result.paging_state,
            no_metadata=skip_metadata,
            encoded=encoded,
        )
        serializers = [_result_serializer(column.cql_type) for column in result.columns]
        return RowsResult(metadata, result.rows, serializers)
    if isinstance(result, cql_results.SetKeyspace):
        return SetKeyspaceResult(result.keyspace)
    if isinstance(result, cql_results.SchemaChange):
        arguments = tuple(result.options.get("argument_types", ())) if result.options else ()
        return SchemaChangeResult(
            SchemaChange(
                result.change, result.target, result.keyspace, result.name or "", arguments
            )
        )
    if isinstance(result, cql_results.Void) or result is None:
        return VoidResult()
    raise TypeError(f"unknown CQL result {type(result).__name__}")
