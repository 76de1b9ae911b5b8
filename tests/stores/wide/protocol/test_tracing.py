import uuid

import pytest

from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.parser import parse
from stores.wide.protocol.tracing import TraceStore


def select(store, text):
    return store.answer(parse(text).statement)


def test_sessions_and_events_by_id():
    store = TraceStore()
    session = store.begin("Execute CQL3 query", {"query": "SELECT 1"})
    other = store.begin("Preparing CQL3 query", {"query": "x"})
    store.finish(session)
    rows = select(
        store, f"SELECT * FROM system_traces.sessions WHERE session_id = {session.session_id}"
    )
    assert len(rows.rows) == 1
    row = dict(zip(rows.column_names, rows.rows[0], strict=True))
    assert row["request"] == "Execute CQL3 query"
    assert row["duration"] is not None and row["parameters"] == {"query": "SELECT 1"}
    events = select(
        store, f"SELECT * FROM system_traces.events WHERE session_id = {session.session_id}"
    )
    assert [r[2] for r in events.rows][-1] == "Request complete"
    unfinished = select(
        store, f"SELECT * FROM system_traces.sessions WHERE session_id = {other.session_id}"
    )
    assert unfinished.rows[0][5] is None
    assert len(select(store, "SELECT * FROM system_traces.sessions").rows) == 2
    assert rows.serialized_rows()


def test_other_statements_are_not_answered():
    assert TraceStore().answer(parse("SELECT * FROM ks.t").statement) is None


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * FROM system_traces.nope",
        "SELECT session_id FROM system_traces.sessions",
        "SELECT * FROM system_traces.sessions WHERE request = 'x'",
        "SELECT * FROM system_traces.sessions WHERE session_id = 'zz'",
    ],
)
def test_unsupported_trace_queries_are_invalid(text):
    with pytest.raises(InvalidRequest):
        select(TraceStore(), text)


def test_store_is_bounded():
    store = TraceStore(max_sessions=3)
    ids = [store.begin("r", {}).session_id for _ in range(5)]
    kept = [r[0] for r in select(store, "SELECT * FROM system_traces.sessions").rows]
    assert kept == ids[2:]
    assert isinstance(kept[0], uuid.UUID)
