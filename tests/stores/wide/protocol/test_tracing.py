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
        "SELECT count(*) FROM system_traces.sessions",
        "SELECT nope FROM system_traces.sessions",
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


def test_columns_can_be_selected_with_aliases():
    store = TraceStore(address="127.0.0.9", port=9999)
    session = store.begin("Execute CQL3 query", {"query": "SELECT 1"})
    store.finish(session)
    rows = select(
        store,
        "SELECT coordinator, coordinator_port AS port, request FROM system_traces.sessions",
    )
    assert rows.column_names == ["coordinator", "port", "request"]
    assert rows.rows == [("127.0.0.9", 9999, "Execute CQL3 query")]
    events = select(store, "SELECT activity, source, source_port FROM system_traces.events")
    assert events.rows[0] == ("Execute CQL3 query received", "127.0.0.9", 9999)


def test_bound_session_id_restricts_a_prepared_select():
    store = TraceStore()
    first = store.begin("a", {})
    store.begin("b", {})
    statement = parse("SELECT request FROM system_traces.sessions WHERE session_id = ?")
    assert select_bound(store, statement, [first.session_id]) == [("a",)]
    with pytest.raises(InvalidRequest):
        select_bound(store, statement, [None])


def select_bound(store, parsed, values):
    return store.answer(parsed.statement, values).rows


def test_storage_events_name_sstables_read_and_skipped():
    store = TraceStore()
    session = store.begin("Execute CQL3 query", {})
    session.storage_events(
        {
            "memtables_consulted": 1,
            "sstables_consulted": ["nb-2-big"],
            "sstables_skipped": [["nb-1-big", "bloom filter"]],
            "partitions_read": 1,
            "rows_read": 3,
            "live_rows": 2,
            "cells_read": 6,
            "tombstones_read": 1,
            "blocks_read": 1,
        }
    )
    store.finish(session)
    activities = [r[0] for r in select(store, "SELECT activity FROM system_traces.events").rows]
    assert "Reading SSTable nb-2-big" in activities
    assert "Skipped SSTable nb-1-big: bloom filter" in activities
    assert "Merging memtable contents" in activities
    assert any("3 rows (2 live)" in a and "1 tombstones" in a for a in activities)


def test_current_session_is_per_request():
    store = TraceStore()
    assert store.current() is None
    session = store.begin("r", {})
    assert store.current() is session
    store.finish(session)
    assert store.current() is None


def test_current_session_is_per_thread_while_others_run():
    import threading

    store = TraceStore()
    session = store.begin("r", {})
    seen = []
    other = threading.Thread(target=lambda: seen.append(store.current()))
    other.start()
    other.join()
    assert seen == [None] and store.current() is session
    second = store.begin("s", {})
    store.finish(second)
    store.finish(session)
    assert store.current() is None
