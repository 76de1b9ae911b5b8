"""Turn the CQL layer's results and column specs into protocol messages.

The CQL layer returns ``Rows``/``Void``/``SetKeyspace``/``SchemaChange`` with
Python values and CQL types; this module builds the RESULT responses, asking
the CQL types (``stores.wide.cql.types``) to serialize values. It owns no
value encoding of its own and never executes statements.
"""

from __future__ import annotations

from functools import lru_cache

from stores.wide.cql import results as cql_results
from stores.wide.protocol.responses import (
    ColumnSpec,
    Response,
    RowsMetadata,
    RowsResult,
    SchemaChange,
    SchemaChangeResult,
    SetKeyspaceResult,
    VoidResult,
)
from stores.wide.protocol.type_options import TypeSpec, parse_type


@lru_cache(maxsize=4096)
def _type_spec(cql_name: str) -> TypeSpec:
    return parse_type(cql_name)


def wire_columns(specs) -> list[ColumnSpec]:
    """Return protocol column specs for the CQL layer's ColumnSpec list."""
    return [
        ColumnSpec(spec.keyspace, spec.table, spec.name, _type_spec(spec.cql_type.cql()))
        for spec in specs
    ]


def to_response(result, *, skip_metadata: bool = False) -> Response:
    """Return the RESULT response for a CQL layer result."""
    if isinstance(result, cql_results.Rows):
        metadata = RowsMetadata(
            wire_columns(result.columns),
            paging_state=result.paging_state,
            no_metadata=skip_metadata,
        )
        serializers = [column.cql_type.serialize for column in result.columns]
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
