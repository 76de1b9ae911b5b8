"""The dispatcher's Backend over the CQL layer's Executor.

Prepares statement text (the Executor caches by keyspace and text, so a
repeated simple QUERY is parsed once), decodes the client's value bytes once,
each with its bind marker's CQL type (bytes a type cannot decode are the
CQL layer's Invalid error, never a server error), and turns results into RESULT messages (``cql_results``). SELECTs on
``system_traces`` (tables the CQL layer declares, empty there) are answered
from the trace store (``tracing``); a traced SELECT adds the storage
engine's read trace to its trace session. EXECUTE and
BATCH children with an id the Executor no longer knows raise ``Unprepared``,
and drivers re-prepare. The first page of a quick one-partition SELECT
skips the result objects: its compiled point read writes the Rows cells
and ``cql_results.rows_body`` the body around them (``EncodedResult``).
Never touches sockets or frames.
"""

from __future__ import annotations

from stores.wide.cql.errors import InvalidRequest, Unprepared
from stores.wide.cql.results import UNSET as CQL_UNSET
from stores.wide.cql.terms import ExecContext
from stores.wide.protocol import format as fmt
from stores.wide.protocol.cql_results import rows_body, to_response, wire_columns
from stores.wide.protocol.primitives import UNSET as WIRE_UNSET
from stores.wide.protocol.requests import Batch, Execute, QueryParameters
from stores.wide.protocol.responses import EncodedResult, PreparedResult, Response
from stores.wide.protocol.tracing import TraceStore

BATCH_KINDS = {
    fmt.BATCH_LOGGED: "logged",
    fmt.BATCH_UNLOGGED: "unlogged",
    fmt.BATCH_COUNTER: "counter",
}


def _bind(prepared, values, names) -> list:
    """Return Python values for the client's value bytes, in bind-marker order.

    Each value is decoded by its marker's CQL type; bytes a type cannot
    decode raise the CQL layer's Invalid error. UNSET becomes the CQL
    layer's UNSET.
    """
    if values is None:
        values = ()
    specs = prepared.compiled.bind_specs
    if names is not None:
        by_name = {}
        for name, value in zip(names, values, strict=True):
            by_name[name.lower()] = value
        ordered = []
        for marker_name, spec in zip(prepared.marker_names, specs, strict=True):
            key = (marker_name or spec.name).lower()
            # A named value that is not given is unset, as in Cassandra.
            ordered.append(by_name.get(key, WIRE_UNSET))
        values = ordered
    if len(values) != len(specs):
        raise InvalidRequest(
            f"Invalid amount of bind variables: expected {len(specs)}, got {len(values)}"
        )
    bound = []
    for spec, raw in zip(specs, values, strict=True):
        if raw is None:
            bound.append(None)
        elif raw is WIRE_UNSET:
            bound.append(CQL_UNSET)
        else:
            # The CQL types raise their own Invalid error for bytes they
            # cannot decode (tests/stores/wide/cql/test_types_bad_bytes.py).
            bound.append(spec.cql_type.deserialize(raw))
    return bound


class CQLBackend:
    """Run QUERY, PREPARE, EXECUTE and BATCH with an ``Executor``."""

    def __init__(self, executor, traces: TraceStore | None = None):
        self.executor = executor
        self.traces = TraceStore() if traces is None else traces

    def _run(self, prepared, parameters: QueryParameters, keyspace, *, skip_metadata: bool):
        values = _bind(prepared, parameters.values, parameters.names)
        if prepared.kind == "SELECT":
            rows = self.traces.answer(prepared.parsed.statement, values)
            if rows is not None:
                return to_response(rows, skip_metadata=skip_metadata)
        session = self.traces.current()
        traced = session is not None and prepared.kind == "SELECT"
        result = self.executor.execute(
            prepared,
            values,
            keyspace=keyspace,
            page_size=parameters.page_size,
            paging_state=parameters.paging_state,
            timestamp=parameters.timestamp,
            trace=traced,
        )
        if traced and getattr(result, "trace", None) is not None:
            session.storage_events(result.trace)
        return to_response(result, skip_metadata=skip_metadata)

    def query(self, text: str, parameters: QueryParameters, keyspace: str | None) -> Response:
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

    def is_quick(self, message: Execute) -> bool:
        """Return True if an EXECUTE may run on the event loop (``Executor.is_quick``).

        An unknown id is quick: its answer is UNPREPARED.
        """
        prepared = self.executor.prepared_by_id(message.query_id)
        if prepared is None:
            return True
        return self.executor.is_quick(prepared, message.parameters.page_size)

    def execute_if_quick(
        self, query_id: bytes, parameters: QueryParameters, keyspace: str | None
    ) -> Response | None:
        """Run an EXECUTE if it is quick (``is_quick``), else return None.

        One statement lookup for both the question and the answer: the
        event loop's path. An unknown id raises ``Unprepared`` (a quick answer).
        The first page of a quick one-partition SELECT goes from the bound
        values to the compiled point read (``Executor.quick_point_read``),
        which writes the rows' cells from the stored bytes, and comes back
        as an ``EncodedResult``: ``execute``'s bytes, without the result
        objects.
        """
        prepared = self._prepared(query_id)
        executor = self.executor
        if parameters.paging_state is None:
            point = executor.quick_point_read(prepared, parameters.page_size)
            if point is not None:
                # The point-read lane: bound values straight to the Rows
                # body. Any error sends the request the general way below
                # (a read has no effects), which answers with that error.
                point_read, engine = point
                try:
                    ctx = ExecContext(
                        _bind(prepared, parameters.values, parameters.names),
                        executor.clock(),
                        prepared.keyspace or keyspace,
                    )
                    page = point_read.wire_page(engine, ctx, parameters.page_size)
                except Exception:
                    page = None
                if page is not None:
                    return EncodedResult(
                        rows_body(
                            point_read.columns, page[0], page[1], page[2], parameters.skip_metadata
                        )
                    )
        if not executor.is_quick(prepared, parameters.page_size):
            return None
        # Unlike _run: a quick statement never reads system_traces (a
        # virtual table is never quick) and a traced request is never quick.
        result = executor.execute(
            prepared,
            _bind(prepared, parameters.values, parameters.names),
            keyspace=prepared.keyspace or keyspace,
            page_size=parameters.page_size,
            paging_state=parameters.paging_state,
            timestamp=parameters.timestamp,
        )
        return to_response(result, skip_metadata=parameters.skip_metadata)

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
            items.append((prepared, _bind(prepared, child.values, None)))
        result = self.executor.execute_batch(
            BATCH_KINDS[batch.batch_type],
            items,
            keyspace=keyspace,
            timestamp=batch.timestamp,
        )
        return to_response(result)
