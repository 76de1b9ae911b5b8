"""Request tracing: the ``system_traces`` sessions and events of traced requests.

A request frame with the tracing flag gets a trace session: a time-based
session id (returned in the response frame), the request's parameters, its
duration and events with their elapsed microseconds — for a SELECT, one per
memtable and SSTable the storage engine read or skipped (and why). Sessions
are kept in memory, the newest ``MAX_SESSIONS`` only, and answered when a
client selects columns from ``system_traces.sessions`` or
``system_traces.events`` (Cassandra 5's columns; the queries
cassandra-driver's ``get_query_trace()`` sends), restricted by
``session_id`` or not at all. Never writes to the storage engine.
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from stores.wide.cql import ast
from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.results import ColumnSpec, Rows
from stores.wide.cql.types import parse_type

KEYSPACE = "system_traces"
MAX_SESSIONS = 1000
COORDINATOR = "127.0.0.1"
PORT = 9043

_COLUMNS = {
    "sessions": [
        ("session_id", "uuid"),
        ("client", "inet"),
        ("command", "text"),
        ("coordinator", "inet"),
        ("coordinator_port", "int"),
        ("duration", "int"),
        ("parameters", "map<text, text>"),
        ("request", "text"),
        ("started_at", "timestamp"),
    ],
    "events": [
        ("session_id", "uuid"),
        ("event_id", "timeuuid"),
        ("activity", "text"),
        ("source", "inet"),
        ("source_elapsed", "int"),
        ("source_port", "int"),
        ("thread", "text"),
    ],
}
SPECS = {
    table: [ColumnSpec(KEYSPACE, table, name, parse_type(type_name)) for name, type_name in columns]
    for table, columns in _COLUMNS.items()
}


@dataclass
class TraceSession:
    """One traced request while it runs and after."""

    session_id: uuid.UUID
    command: str
    request: str
    parameters: dict[str, str]
    client: str
    started_at: datetime.datetime
    start: float = field(default_factory=time.perf_counter)
    duration: int | None = None
    events: list[tuple[uuid.UUID, str, int, str]] = field(default_factory=list)

    def event(self, activity: str) -> None:
        """Record an activity with the microseconds elapsed since the request began."""
        elapsed = int((time.perf_counter() - self.start) * 1_000_000)
        self.events.append((uuid.uuid1(), activity, elapsed, threading.current_thread().name))

    def storage_events(self, trace: dict) -> None:
        """Record what the storage engine read for a SELECT (its ReadTrace summary)."""
        for _ in range(trace.get("memtables_consulted", 0)):
            self.event("Merging memtable contents")
        for name in trace.get("sstables_consulted", ()):
            self.event(f"Reading SSTable {name}")
        for name, reason in trace.get("sstables_skipped", ()):
            self.event(f"Skipped SSTable {name}: {reason}")
        self.event(
            "Read {partitions_read} partitions, {rows_read} rows ({live_rows} live), "
            "{cells_read} cells, {tombstones_read} tombstones, {blocks_read} blocks".format(
                **{
                    key: trace.get(key, 0)
                    for key in (
                        "partitions_read",
                        "rows_read",
                        "live_rows",
                        "cells_read",
                        "tombstones_read",
                        "blocks_read",
                    )
                }
            )
        )


class TraceStore:
    """The newest traced sessions, and SELECTs over them."""

    def __init__(
        self, max_sessions: int = MAX_SESSIONS, *, address: str = COORDINATOR, port: int = PORT
    ):
        self.max_sessions = max_sessions
        self.address = address
        self.port = port
        self._sessions: OrderedDict[uuid.UUID, TraceSession] = OrderedDict()
        self._lock = threading.Lock()
        self._running = threading.local()
        # Sessions begun and not finished, on any thread: while there are
        # none, ``current`` skips the thread-local lookup (every untraced
        # request asks).
        self._open = 0

    def current(self) -> TraceSession | None:
        """Return the session being traced on this thread, if any."""
        if not self._open:
            return None
        return getattr(self._running, "session", None)

    def begin(
        self, request: str, parameters: dict[str, str], client: str = COORDINATOR
    ) -> TraceSession:
        """Start tracing a request."""
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        session = TraceSession(uuid.uuid1(), "QUERY", request, parameters, client, now)
        session.event(f"{request} received")
        self._running.session = session
        with self._lock:
            self._open += 1
            self._sessions[session.session_id] = session
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return session

    def finish(self, session: TraceSession) -> None:
        """Mark a traced request complete (its duration makes it visible as done)."""
        self._running.session = None
        with self._lock:
            self._open -= 1
        session.event("Request complete")
        session.duration = int((time.perf_counter() - session.start) * 1_000_000)

    def answer(self, statement, values=()) -> Rows | None:
        """Return rows for a SELECT on system_traces, or None for any other statement.

        ``values`` are the bound values of a prepared statement's markers.
        """
        if not isinstance(statement, ast.Select) or statement.table.keyspace != KEYSPACE:
            return None
        table = statement.table.name
        if table not in SPECS:
            raise InvalidRequest(f"table {table} does not exist")
        specs, picks = self._selection(table, statement.selectors)
        wanted = self._session_filter(statement, values)
        with self._lock:
            sessions = [
                s for s in self._sessions.values() if wanted is None or s.session_id == wanted
            ]
        rows = []
        for s in sessions:
            if table == "sessions":
                full = [
                    (
                        s.session_id,
                        s.client,
                        s.command,
                        self.address,
                        self.port,
                        s.duration,
                        dict(s.parameters),
                        s.request,
                        s.started_at,
                    )
                ]
            else:
                full = [
                    (s.session_id, event_id, activity, self.address, elapsed, self.port, thread)
                    for event_id, activity, elapsed, thread in list(s.events)
                ]
            rows.extend(tuple(row[i] for i in picks) for row in full)
        return Rows(specs, rows)

    @staticmethod
    def _selection(table: str, selectors) -> tuple[list[ColumnSpec], list[int]]:
        """Return the result specs and the column positions a selection picks."""
        specs = SPECS[table]
        if selectors is None:
            return list(specs), list(range(len(specs)))
        names = [spec.name for spec in specs]
        out, picks = [], []
        for selector in selectors:
            name = getattr(selector.expr, "name", None)
            if not isinstance(selector.expr, ast.ColumnRef):
                raise InvalidRequest("Only columns can be selected from system_traces tables")
            if name not in names:
                raise InvalidRequest(f"Undefined column name {name} in table {KEYSPACE}.{table}")
            index = names.index(name)
            spec = specs[index]
            if selector.alias:
                spec = ColumnSpec(spec.keyspace, spec.table, selector.alias, spec.cql_type)
            out.append(spec)
            picks.append(index)
        return out, picks

    @staticmethod
    def _session_filter(statement, values=()) -> uuid.UUID | None:
        wanted = None
        for relation in statement.where:
            column = getattr(relation.lhs, "name", None)
            rhs = relation.rhs
            if column != "session_id" or relation.op != "=":
                raise InvalidRequest(
                    "system_traces tables can only be restricted by session_id = <uuid>"
                )
            if isinstance(rhs, ast.BindMarker):
                value = values[rhs.index] if rhs.index < len(values) else None
                if not isinstance(value, uuid.UUID):
                    raise InvalidRequest("Invalid null or unset value for column session_id")
                wanted = value
                continue
            if not isinstance(rhs, ast.Literal):
                raise InvalidRequest(
                    "system_traces tables can only be restricted by session_id = <uuid>"
                )
            try:
                wanted = uuid.UUID(rhs.text)
            except ValueError:
                raise InvalidRequest(f"Invalid UUID constant ({rhs.text})") from None
        return wanted
