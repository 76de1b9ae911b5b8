"""UNPREPARED (0x2500) with the real CQL layer: cassandra-driver re-prepares and retries."""

import stores.wide
from stores.wide.protocol.cql_backend import CQLBackend
from tests.stores.wide.live_server import ServerThread
from tests.stores.wide.server_process import driver_cluster


def test_driver_reprepares_after_the_server_forgets_a_statement():
    session = stores.wide.connect("memory:")
    executor = session.executor
    server = ServerThread(CQLBackend(executor)).start()
    cluster = driver_cluster(server.port, protocol_version=4)
    try:
        client = cluster.connect()
        client.execute(
            "CREATE KEYSPACE rp WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        client.execute("CREATE TABLE rp.t (k int PRIMARY KEY, v int)")
        insert = client.prepare("INSERT INTO rp.t (k, v) VALUES (?, ?)")
        client.execute(insert, (1, 1))
        # Forget every prepared statement, as a restart or cache eviction would.
        executor._by_id.clear()
        executor._prepared.clear()
        client.execute(insert, (2, 4))
        assert executor.prepared_by_id(insert.query_id) is not None
        rows = sorted(tuple(r) for r in client.execute("SELECT k, v FROM rp.t"))
        assert rows == [(1, 1), (2, 4)]
    finally:
        cluster.shutdown()
        server.stop()
        session.shutdown()
