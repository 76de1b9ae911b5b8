"""Request tracing: the ``system_traces`` sessions and events of traced requests.

A request frame with the tracing flag gets a trace session: a time-based
session id (returned in the response frame), the request's parameters, its
duration and a few events with their elapsed microseconds. Sessions are kept
in memory, the newest ``MAX_SESSIONS`` only, and answered when a client
selects from ``system_traces.sessions`` or ``system_traces.events`` (the
queries cassandra-driver's ``get_query_trace()`` sends), restricted by
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


class TraceStore:
    """The newest traced sessions, and SELECTs over them."""

    def __init__(self, max_sessions: int = MAX_SESSIONS):
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[uuid.UUID, TraceSession] = OrderedDict()
        self._lock = threading.Lock()

    def begin(
        self, request: str, parameters: dict[str, str], client: str = COORDINATOR
    ) -> TraceSession:
        """Start tracing a request."""
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        session = TraceSession(uuid.uuid1(), "QUERY", request, parameters, client, now)
        session.event(f"{request} received")
        with self._lock:
            self._sessions[session.session_id] = session
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return session

    def finish(self, session: TraceSession) -> None:
        """Mark a traced request complete (its duration makes it visible as done)."""
        session.event("Request complete")
        session.duration = int((time.perf_counter() - session.start) * 1_000_000)

    def answer(self, statement) -> Rows | None:
        """Return rows for a SELECT on system_traces, or None for any other statement."""
        if not isinstance(statement, ast.Select) or statement.table.keyspace != KEYSPACE:
            return None
        table = statement.table.name
        if table not in SPECS:
            raise InvalidRequest(f"table {table} does not exist")
        if statement.selectors is not None:
            raise InvalidRequest("Only SELECT * is supported on system_traces tables")
        wanted = self._session_filter(statement)
        with self._lock:
            sessions = [
                s for s in self._sessions.values() if wanted is None or s.session_id == wanted
            ]
        rows = []
        for s in sessions:
            if table == "sessions":
                rows.append(
                    (
                        s.session_id,
                        s.client,
                        s.command,
                        COORDINATOR,
                        None,
                        s.duration,
                        dict(s.parameters),
                        s.request,
                        s.started_at,
                    )
                )
            else:
                for event_id, activity, elapsed, thread in list(s.events):
                    rows.append(
                        (s.session_id, event_id, activity, COORDINATOR, elapsed, None, thread)
                    )
        return Rows(SPECS[table], rows)

    @staticmethod
    def _session_filter(statement) -> uuid.UUID | None:
        wanted = None
        for relation in statement.where:
            column = getattr(relation.lhs, "name", None)
            rhs = relation.rhs
            if column != "session_id" or relation.op != "=" or not isinstance(rhs, ast.Literal):
                raise InvalidRequest(
                    "system_traces tables can only be restricted by session_id = <uuid>"
                )
            try:
                wanted = uuid.UUID(rhs.text)
            except ValueError:
                raise InvalidRequest(f"Invalid UUID constant ({rhs.text})") from None
        return wanted
