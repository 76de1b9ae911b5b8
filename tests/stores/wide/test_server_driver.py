"""cassandra-driver against our server, as a client of a Cassandra 5 node.

Only 127.0.0.1 is ever contacted: the contact point is loopback and the
server's system.peers is empty, so the driver learns of no other host.
"""

import datetime
import decimal
import uuid

import pytest
from cassandra import AlreadyExists, InvalidRequest
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster
from cassandra.protocol import SyntaxException
from cassandra.query import BatchStatement, SimpleStatement, dict_factory

from tests.stores.wide.server_process import ServerProcess, driver_cluster


@pytest.fixture(scope="module")
def server():
    process = ServerProcess()
    yield process
    code, output = process.stop()
    assert code == 0, output


def cluster_for(server, **options):
    return driver_cluster(server.port, **options)


@pytest.fixture(scope="module")
def cluster(server):
    cluster = cluster_for(server, protocol_version=4)
    yield cluster
    cluster.shutdown()


@pytest.fixture(scope="module")
def session(cluster):
    session = cluster.connect()
    session.execute(
        "CREATE KEYSPACE IF NOT EXISTS drv WITH replication = "
        "{'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    session.set_keyspace("drv")
    return session


def test_default_settings_negotiate_v4_and_read_system_tables(server):
    cluster = Cluster(contact_points=["127.0.0.1"], port=server.port, connect_timeout=10)
    try:
        session = cluster.connect()
        assert cluster.protocol_version == 4
        assert "system" in cluster.metadata.keyspaces
        assert [h.address for h in cluster.metadata.all_hosts()] == ["127.0.0.1"]
        assert cluster.metadata.token_map is not None
        local = session.execute("SELECT release_version FROM system.local").one()
        assert local.release_version.startswith("5.0")
        assert list(session.execute("SELECT * FROM system.peers")) == []
    finally:
        cluster.shutdown()


def test_ddl_insert_select_and_schema_metadata(session, cluster):
    session.execute("CREATE TABLE posts (id int PRIMARY KEY, title text, tags set<text>)")
    assert "posts" in cluster.metadata.keyspaces["drv"].tables
    session.execute("INSERT INTO posts (id, title, tags) VALUES (1, 'hello', {'a', 'b'})")
    session.execute("INSERT INTO posts (id, title) VALUES (%s, %s)", (2, "second"))
    row = session.execute("SELECT id, title, tags FROM posts WHERE id = 1").one()
    assert (row.id, row.title, sorted(row.tags)) == (1, "hello", ["a", "b"])
    assert session.execute("SELECT tags FROM posts WHERE id = 2").one().tags is None


def test_prepared_statements_round_trip_every_type(session):
    session.execute(
        "CREATE TABLE typed (k text, c timeuuid, i int, b bigint, d double, f float, "
        "dec decimal, v varint, bo boolean, u uuid, ts timestamp, bl blob, "
        "l list<int>, m map<text, int>, t frozen<tuple<int, text>>, "
        "PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)"
    )
    insert = session.prepare(
        "INSERT INTO typed (k, c, i, b, d, f, dec, v, bo, u, ts, bl, l, m, t) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    assert insert.routing_key_indexes == [0]
    stamp = datetime.datetime(2024, 5, 6, 7, 8, 9, 123000)
    values = (
        "key",
        uuid.uuid1(),
        -5,
        2**40,
        1.5,
        2.5,
        decimal.Decimal("12.345"),
        10**30,
        True,
        uuid.uuid4(),
        stamp,
        b"\x00\xff",
        [1, 2, 3],
        {"x": 1},
        (7, "seven"),
    )
    session.execute(insert, values)
    select = session.prepare("SELECT * FROM typed WHERE k = ?")
    row = session.execute(select, ["key"]).one()
    assert row.i == -5 and row.b == 2**40 and row.d == 1.5 and row.f == 2.5
    assert row.dec == decimal.Decimal("12.345") and row.v == 10**30 and row.bo is True
    assert row.ts == stamp and row.bl == b"\x00\xff"
    assert row.l == [1, 2, 3] and dict(row.m) == {"x": 1} and row.t == (7, "seven")
    session.execute(insert, ("key2",) + values[1:2] + (None,) * 13)
    row = session.execute(select, ["key2"]).one()
    assert row.i is None and row.l is None


def test_paging_with_fetch_size(session):
    session.execute(
        "CREATE TABLE history (u text, n int, PRIMARY KEY (u, n)) WITH CLUSTERING ORDER BY (n DESC)"
    )
    insert = session.prepare("INSERT INTO history (u, n) VALUES (?, ?)")
    for n in range(25):
        session.execute(insert, ("ann", n))
    statement = SimpleStatement("SELECT n FROM history WHERE u = 'ann'", fetch_size=7)
    result = session.execute(statement)
    assert len(result.current_rows) == 7
    assert result.has_more_pages
    assert [r.n for r in result] == list(range(24, -1, -1))
    prepared = session.prepare("SELECT n FROM history WHERE u = ?")
    prepared.fetch_size = 10
    first = session.execute(prepared, ["ann"])
    assert [r.n for r in first.current_rows] == list(range(24, 14, -1))
    second = session.execute(prepared, ["ann"], paging_state=first.paging_state)
    assert [r.n for r in second.current_rows] == list(range(14, 4, -1))


def test_batches(session):
    session.execute("CREATE TABLE pairs (k int, c int, v text, PRIMARY KEY (k, c))")
    insert = session.prepare("INSERT INTO pairs (k, c, v) VALUES (?, ?, ?)")
    batch = BatchStatement()
    for c in range(5):
        batch.add(insert, (1, c, f"v{c}"))
    batch.add(SimpleStatement("INSERT INTO pairs (k, c, v) VALUES (2, 0, 'plain')"))
    session.execute(batch)
    assert [r.c for r in session.execute("SELECT c FROM pairs WHERE k = 1")] == [0, 1, 2, 3, 4]
    assert session.execute("SELECT v FROM pairs WHERE k = 2 AND c = 0").one().v == "plain"
    session.execute(
        "BEGIN BATCH INSERT INTO pairs (k, c, v) VALUES (3, 1, 'a'); "
        "DELETE FROM pairs WHERE k = 1 AND c = 0; APPLY BATCH"
    )
    assert session.execute("SELECT count(*) FROM pairs WHERE k = 1").one()[0] == 4


def test_errors_map_to_driver_exceptions(session):
    with pytest.raises(SyntaxException):
        session.execute("SELEKT * FROM pairs")
    with pytest.raises(InvalidRequest):
        session.execute("SELECT * FROM no_such_table")
    with pytest.raises(AlreadyExists) as info:
        session.execute("CREATE TABLE pairs (k int PRIMARY KEY)")
    assert (info.value.keyspace, info.value.table) == ("drv", "pairs")
    with pytest.raises(AlreadyExists):
        session.execute(
            "CREATE KEYSPACE drv WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
    with pytest.raises(InvalidRequest):
        session.execute("SELECT * FROM pairs WHERE v = 'x'")


def test_dict_rows_and_async_pipelining(session):
    session.execute("CREATE TABLE IF NOT EXISTS many (k int PRIMARY KEY, v int)")
    insert = session.prepare("INSERT INTO many (k, v) VALUES (?, ?)")
    futures = [session.execute_async(insert, (k, k * k)) for k in range(200)]
    for future in futures:
        future.result()
    select = session.prepare("SELECT v FROM many WHERE k = ?")
    futures = [session.execute_async(select, (k,)) for k in range(200)]
    assert [f.result().one().v for f in futures] == [k * k for k in range(200)]
    profile = session.execution_profile_clone_update(EXEC_PROFILE_DEFAULT, row_factory=dict_factory)
    assert session.execute(
        "SELECT k, v FROM many WHERE k = 3", execution_profile=profile
    ).one() == {
        "k": 3,
        "v": 9,
    }


def test_schema_change_event_reaches_another_client(server, session):
    watcher = cluster_for(server, protocol_version=4)
    try:
        watcher.connect()
        session.execute("CREATE TABLE announced (k int PRIMARY KEY)")
        # the driver refreshes its metadata when the SCHEMA_CHANGE event lands
        import time

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if "announced" in watcher.metadata.keyspaces["drv"].tables:
                break
            time.sleep(0.05)
        assert "announced" in watcher.metadata.keyspaces["drv"].tables
    finally:
        watcher.shutdown()


def test_tracing_returns_a_session_and_system_traces_rows(session):
    session.execute("CREATE TABLE IF NOT EXISTS traced (k int PRIMARY KEY, v int)")
    result = session.execute("INSERT INTO traced (k, v) VALUES (1, 2)", trace=True)
    trace = result.get_query_trace(max_wait_sec=10)
    assert trace.trace_id.version == 1
    assert trace.request_type == "Execute CQL3 query"
    assert trace.parameters["query"] == "INSERT INTO traced (k, v) VALUES (1, 2)"
    assert trace.duration is not None
    assert [e.description for e in trace.events][-1] == "Request complete"
    prepared = session.prepare("SELECT v FROM traced WHERE k = ?")
    result = session.execute(prepared, (1,), trace=True)
    assert result.one().v == 2
    assert result.get_query_trace(max_wait_sec=10).request_type == "Execute CQL3 prepared query"
    rows = list(session.execute("SELECT * FROM system_traces.sessions"))
    assert len(rows) >= 2


def test_remaining_types_and_unset_values(session):
    from cassandra.query import UNSET_VALUE
    from cassandra.util import Date, Duration, Time

    session.execute(
        "CREATE TABLE more_types (k int PRIMARY KEY, a ascii, si smallint, ti tinyint, "
        "dt date, tm time, du duration, ip inet, s set<int>, fm map<text, frozen<list<int>>>, "
        "n text)"
    )
    insert = session.prepare(
        "INSERT INTO more_types (k, a, si, ti, dt, tm, du, ip, s, fm, n) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    values = (
        1,
        "plain",
        -300,
        7,
        Date(datetime.date(2024, 2, 29)),
        Time(datetime.time(13, 14, 15, 16)),
        Duration(1, 2, 3_000_000_000),
        "::1",
        {3, 1, 2},
        {"a": [1, 2]},
        "kept",
    )
    session.execute(insert, values)
    session.execute(insert, (1,) + (UNSET_VALUE,) * 10)
    row = session.execute("SELECT * FROM more_types WHERE k = 1").one()
    assert (row.a, row.si, row.ti) == ("plain", -300, 7)
    assert row.dt == Date(datetime.date(2024, 2, 29))
    assert row.tm == Time(datetime.time(13, 14, 15, 16))
    assert row.du == Duration(1, 2, 3_000_000_000)
    assert row.ip == "::1"
    assert sorted(row.s) == [1, 2, 3]
    assert dict(row.fm) == {"a": [1, 2]}
    assert row.n == "kept"
    named = session.prepare("SELECT k FROM more_types WHERE k = :key")
    assert session.execute(named, {"key": 1}).one().k == 1


def test_compression_is_negotiated_when_offered(session, cluster):
    from stores.wide.protocol.compression import available_compressions

    offered = available_compressions()
    connection = cluster.control_connection._connection
    if offered:
        # the driver prefers lz4, then snappy, among what the server offers
        assert connection._compression_type in offered
        assert connection.compressor is not None
    else:
        assert connection._compression_type is None
    assert session.execute("SELECT key FROM system.local").one().key == "local"
