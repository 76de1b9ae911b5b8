"""cassandra-driver against ``python -m stores.wide``, quick EXECUTEs on the loop or not.

The same prepared statements give the same answers whether the server runs
them on its event loop (the default, ``--inline``) or in a worker
(``--no-inline``); statements that are not quick (conditional writes,
counters, scans) still work beside them.
"""

import pytest
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.query import SimpleStatement

from tests.stores.wide.server_process import ServerProcess, driver_cluster


@pytest.fixture(scope="module", params=["--inline", "--no-inline"])
def session(request):
    process = ServerProcess(request.param)
    cluster = driver_cluster(process.port, protocol_version=4)
    session = cluster.connect()
    session.execute(
        "CREATE KEYSPACE inl WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    session.execute(
        "CREATE TABLE inl.h (u text, ts bigint, p int, PRIMARY KEY (u, ts)) "
        "WITH CLUSTERING ORDER BY (ts DESC)"
    )
    session.execute("CREATE TABLE inl.c (k int PRIMARY KEY, n counter)")
    yield session
    cluster.shutdown()
    code, output = process.stop()
    assert code == 0, output


def test_prepared_writes_and_newest_n_reads_pipelined(session):
    insert = session.prepare("INSERT INTO inl.h (u, ts, p) VALUES (?, ?, ?)")
    rows = [(f"user{i % 7}", i, i * 10) for i in range(300)]
    results = execute_concurrent_with_args(session, insert, rows, concurrency=50)
    assert all(ok for ok, _ in results)
    newest = session.prepare("SELECT ts, p FROM inl.h WHERE u = ? LIMIT 5")
    for n in range(7):
        got = [tuple(r) for r in session.execute(newest, [f"user{n}"])]
        expected = sorted(((ts, p) for u, ts, p in rows if u == f"user{n}"), reverse=True)
        assert got == expected[:5]


def test_paging_and_nulls_through_the_quick_path(session):
    insert = session.prepare("INSERT INTO inl.h (u, ts, p) VALUES (?, ?, ?)")
    for ts in range(12):
        session.execute(insert, ["paged", ts, None if ts % 3 == 0 else ts])
    statement = session.prepare("SELECT ts, p FROM inl.h WHERE u = ?")
    statement.fetch_size = 5
    got = [tuple(r) for r in session.execute(statement, ["paged"])]
    assert got == [(ts, None if ts % 3 == 0 else ts) for ts in reversed(range(12))]


def test_statements_that_are_not_quick_still_run(session):
    lwt = session.prepare("INSERT INTO inl.h (u, ts, p) VALUES (?, ?, ?) IF NOT EXISTS")
    assert session.execute(lwt, ["lwt", 1, 424242]).one()[0] is True
    assert session.execute(lwt, ["lwt", 1, 2]).one()[0] is False
    bump = session.prepare("UPDATE inl.c SET n = n + ? WHERE k = ?")
    for _ in range(3):
        session.execute(bump, [2, 1])
    assert session.execute("SELECT n FROM inl.c WHERE k = 1").one()[0] == 6
    scan = SimpleStatement("SELECT u FROM inl.h WHERE p = 424242 ALLOW FILTERING")
    assert [r[0] for r in session.execute(scan)] == ["lwt"]


def test_an_invalid_value_is_an_error_not_a_dead_connection(session):
    from cassandra import InvalidRequest

    insert = session.prepare("INSERT INTO inl.h (u, ts, p) VALUES (?, ?, ?)")
    with pytest.raises((InvalidRequest, TypeError, ValueError)):
        session.execute(insert, ["x", "not a number", 1])
    newest = session.prepare("SELECT ts FROM inl.h WHERE u = ? LIMIT 1")
    session.execute(insert, ["x", 5, 1])
    assert session.execute(newest, ["x"]).one()[0] == 5
