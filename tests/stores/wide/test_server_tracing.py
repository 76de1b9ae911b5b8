"""Tracing through cassandra-driver: get_query_trace() reads system_traces as on Cassandra."""

import pytest

from tests.stores.wide.server_process import ServerProcess, driver_cluster


@pytest.fixture(scope="module")
def flushed_server(tmp_path_factory):
    """A server whose table ``drv.t`` lives in an SSTable (written, stopped, reopened)."""
    directory = str(tmp_path_factory.mktemp("traced"))
    first = ServerProcess(directory=directory)
    cluster = driver_cluster(first.port, protocol_version=4)
    try:
        session = cluster.connect()
        session.execute(
            "CREATE KEYSPACE drv WITH replication = "
            "{'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        session.execute("CREATE TABLE drv.t (k int, c int, v text, PRIMARY KEY (k, c))")
        insert = session.prepare("INSERT INTO drv.t (k, c, v) VALUES (?, ?, ?)")
        for c in range(5):
            session.execute(insert, (1, c, f"v{c}"))
    finally:
        cluster.shutdown()
    code, output = first.stop()
    assert code == 0, output
    process = ServerProcess(directory=directory)
    yield process
    code, output = process.stop()
    assert code == 0, output


@pytest.fixture(scope="module")
def session(flushed_server):
    cluster = driver_cluster(flushed_server.port, protocol_version=4)
    yield cluster.connect("drv")
    cluster.shutdown()


def activities(result):
    trace = result.get_query_trace(max_wait_sec=10)
    assert trace.coordinator == "127.0.0.1"
    assert trace.duration is not None
    return [event.description for event in trace.events]


def test_traced_select_names_the_sstables_it_read(session):
    result = session.execute("SELECT v FROM t WHERE k = 1", trace=True)
    assert [row.v for row in result] == [f"v{c}" for c in range(5)]
    events = activities(result)
    assert any(e.startswith("Reading SSTable ") for e in events), events
    assert any("5 rows (5 live)" in e for e in events), events
    assert events[-1] == "Request complete"


def test_traced_select_names_the_sstables_it_skipped_and_why(session):
    prepared = session.prepare("SELECT v FROM t WHERE k = ?")
    result = session.execute(prepared, (12345,), trace=True)
    assert list(result) == []
    events = activities(result)
    skipped = [e for e in events if e.startswith("Skipped SSTable ")]
    assert skipped and all(": " in e for e in skipped), events


def test_system_traces_is_in_the_schema_with_cassandras_columns(session):
    keyspaces = session.cluster.metadata.keyspaces
    sessions = keyspaces["system_traces"].tables["sessions"]
    assert list(sessions.columns) == [
        "session_id",
        "client",
        "command",
        "coordinator",
        "coordinator_port",
        "duration",
        "parameters",
        "request",
        "started_at",
    ]
    events = keyspaces["system_traces"].tables["events"]
    assert [c.name for c in events.primary_key] == ["session_id", "event_id"]
    assert set(events.columns) == {
        "session_id",
        "event_id",
        "activity",
        "source",
        "source_elapsed",
        "source_port",
        "thread",
    }


def test_system_traces_rows_are_queryable_like_a_table(session):
    result = session.execute("SELECT v FROM t WHERE k = 1", trace=True)
    trace_id = result.response_future.get_query_trace_ids()[0]
    prepared = session.prepare(
        "SELECT activity, source_port FROM system_traces.events WHERE session_id = ?"
    )
    rows = list(session.execute(prepared, (trace_id,)))
    assert rows[-1].activity == "Request complete"
    assert rows[0].source_port is not None
    row = session.execute(
        "SELECT request, coordinator_port FROM system_traces.sessions WHERE session_id = %s",
        (trace_id,),
    ).one()
    assert row.request == "Execute CQL3 query"
