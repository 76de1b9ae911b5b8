"""The server as a process: --auth with cassandra-driver, SIGTERM, restart with --dir."""

import pytest
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import NoHostAvailable

from tests.stores.wide.server_process import ServerProcess, driver_cluster


def cluster_for(port, **options):
    return driver_cluster(port, protocol_version=4, **options)


def test_password_authenticator_with_the_driver(tmp_path):
    server = ServerProcess("--auth", directory=str(tmp_path / "data"))
    try:
        good = cluster_for(
            server.port, auth_provider=PlainTextAuthProvider("cassandra", "cassandra")
        )
        try:
            session = good.connect()
            assert session.execute("SELECT key FROM system.local").one().key == "local"
        finally:
            good.shutdown()
        for provider in (PlainTextAuthProvider("cassandra", "wrong"), None):
            bad = cluster_for(server.port, auth_provider=provider)
            try:
                with pytest.raises(NoHostAvailable) as info:
                    bad.connect()
                assert "127.0.0.1" in str(info.value)
            finally:
                bad.shutdown()
    finally:
        code, output = server.stop()
    assert code == 0, output


def test_sigterm_shuts_down_cleanly_and_data_survives_a_restart(tmp_path):
    data = str(tmp_path / "data")
    server = ServerProcess("--commitlog-sync", "batch", directory=data)
    try:
        cluster = cluster_for(server.port)
        session = cluster.connect()
        session.execute(
            "CREATE KEYSPACE kept WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        session.execute("CREATE TABLE kept.t (k int PRIMARY KEY, v text)")
        insert = session.prepare("INSERT INTO kept.t (k, v) VALUES (?, ?)")
        for k in range(50):
            session.execute(insert, (k, f"v{k}"))
        cluster.shutdown()
    finally:
        code, output = server.stop()
    assert code == 0, output
    assert "CQL server stopped" in output

    again = ServerProcess(directory=data)
    try:
        cluster = cluster_for(again.port)
        session = cluster.connect("kept")
        rows = {r.k: r.v for r in session.execute("SELECT k, v FROM t")}
        assert rows == {k: f"v{k}" for k in range(50)}
        cluster.shutdown()
    finally:
        code, output = again.stop()
    assert code == 0, output


def test_manage_py_cqlserver_serves_the_same_protocol():
    server = ServerProcess(command=["manage.py", "cqlserver"])
    try:
        cluster = cluster_for(server.port)
        try:
            session = cluster.connect()
            assert session.execute("SELECT cluster_name FROM system.local").one() is not None
        finally:
            cluster.shutdown()
    finally:
        code, output = server.stop()
    assert code == 0, output
    assert "listening on 127.0.0.1" in output
