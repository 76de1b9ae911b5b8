"""The dispatcher's Backend over the CQL layer's Executor.

Prepares statement text (the Executor caches by keyspace and text, so a
repeated simple QUERY is parsed once), binds the client's value bytes with
``serialized=True`` so each value is decoded once by the bind marker's own CQL
type, and turns results into RESULT messages (``cql_results``). SELECTs on
``system_traces`` are answered from the trace store (``tracing``). EXECUTE and
BATCH children with an id the Executor no longer knows raise ``Unprepared``,
and drivers re-prepare. Never touches sockets or frames.
"""

from __future__ import annotations

from stores.wide.cql.errors import Unprepared
from stores.wide.cql.parser import parse
from stores.wide.cql.results import UNSET as CQL_UNSET
from stores.wide.protocol import format as fmt
from stores.wide.protocol.cql_results import to_response, wire_columns
from stores.wide.protocol.primitives import UNSET as WIRE_UNSET
from stores.wide.protocol.requests import Batch, QueryParameters
from stores.wide.protocol.responses import PreparedResult, Response
from stores.wide.protocol.tracing import KEYSPACE as TRACES_KEYSPACE
from stores.wide.protocol.tracing import TraceStore

BATCH_KINDS = {
    fmt.BATCH_LOGGED: "logged",
    fmt.BATCH_UNLOGGED: "unlogged",
    fmt.BATCH_COUNTER: "counter",
}


def _values(prepared, values, names) -> list:
    """Return wire values in bind-marker order, UNSET mapped to the CQL layer's."""
    values = list(values or ())
    if names is not None:
        by_name = {}
        for name, value in zip(names, values, strict=True):
            by_name[name.lower()] = value
        ordered = []
        for marker_name, spec in zip(prepared.marker_names, prepared.bind_specs, strict=True):
            key = (marker_name or spec.name).lower()
            # A named value that is not given is unset, as in Cassandra.
            ordered.append(by_name.get(key, WIRE_UNSET))
        values = ordered
    return [CQL_UNSET if v is WIRE_UNSET else v for v in values]


class CQLBackend:
    """Run QUERY, PREPARE, EXECUTE and BATCH with an ``Executor``."""

    def __init__(self, executor, traces: TraceStore | None = None):
        self.executor = executor
        self.traces = TraceStore() if traces is None else traces

    def _run(self, prepared, parameters: QueryParameters, keyspace, *, skip_metadata: bool):
        result = self.executor.execute(
            prepared,
            _values(prepared, parameters.values, parameters.names),
            keyspace=keyspace,
            page_size=parameters.page_size,
            paging_state=parameters.paging_state,
            timestamp=parameters.timestamp,
            serialized=True,
        )
        return to_response(result, skip_metadata=skip_metadata)

    def query(self, text: str, parameters: QueryParameters, keyspace: str | None) -> Response:
        if TRACES_KEYSPACE in text.lower():
            rows = self.traces.answer(parse(text).statement)
            if rows is not None:
                return to_response(rows)
        prepared = self.executor.prepare(text, keyspace)
        return self._run(prepared, parameters, keyspace, skip_metadata=False)

    def prepare(self, text: str, keyspace: str | None) -> Response:
        prepared = self.executor.prepare(text, keyspace)
        return PreparedResult(
            prepared.id,
            wire_columns(prepared.bind_specs),
            list(prepared.pk_indexes),
            wire_columns(prepared.result_columns or []),
        )

    def _prepared(self, query_id: bytes):
        prepared = self.executor.prepared_by_id(query_id)
        if prepared is None:
            raise Unprepared(query_id)
        return prepared

    def execute(
        self, query_id: bytes, parameters: QueryParameters, keyspace: str | None
    ) -> Response:
        prepared = self._prepared(query_id)
        return self._run(
            prepared,
            parameters,
            prepared.keyspace or keyspace,
            skip_metadata=parameters.skip_metadata,
        )

    def batch(self, batch: Batch, keyspace: str | None) -> Response:
        items = []
        for child in batch.statements:
            if child.query_id is not None:
                prepared = self._prepared(child.query_id)
            else:
                prepared = self.executor.prepare(child.query, keyspace)
            items.append((prepared, _values(prepared, child.values, None)))
        result = self.executor.execute_batch(
            BATCH_KINDS[batch.batch_type],
            items,
            keyspace=keyspace,
            timestamp=batch.timestamp,
            serialized=True,
        )
        return to_response(result)
