"""Hypothesis: random value bytes bound to every CQL type, through the live server.

Every answer must be a RESULT or a client error (Invalid, 0x2200): a value
the CQL types cannot decode is the client's mistake, never a server error,
and the connection keeps working.
"""

import pytest
from cassandra.protocol import ExecuteMessage, PrepareMessage, QueryMessage, StartupMessage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stores.wide
from stores.wide.protocol import format as fmt
from stores.wide.protocol.cql_backend import CQLBackend
from tests.stores.wide.live_server import RawClient, ServerThread
from tests.stores.wide.protocol.driver_codec import driver_decode, driver_frame

TYPES = [
    "ascii", "bigint", "blob", "boolean", "date", "decimal", "double", "duration", "float",
    "inet", "int", "smallint", "text", "time", "timestamp", "timeuuid", "tinyint", "uuid",
    "varint", "list<int>", "set<text>", "map<text, bigint>", "frozen<tuple<int, text>>",
]  # fmt: skip


@pytest.fixture(scope="module")
def live():
    session = stores.wide.connect("memory:")
    server = ServerThread(CQLBackend(session.executor)).start()
    client = RawClient(server.port)
    client.send(driver_frame(StartupMessage("3.4.7", {}), stream=0))
    assert driver_decode(client.read_frame()).opcode == fmt.READY

    def ask(message, raw=False):
        client.send(driver_frame(message, stream=1))
        frame = client.read_frame()
        return frame if raw else driver_decode(frame)

    ask(
        QueryMessage(
            "CREATE KEYSPACE fz WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
            1,
        )
    )
    columns = ", ".join(f"c{i} {t}" for i, t in enumerate(TYPES))
    ask(QueryMessage(f"CREATE TABLE fz.t (k int PRIMARY KEY, {columns})", 1))
    ids = {}
    for i in range(len(TYPES)):
        ids[i] = ask(PrepareMessage(f"INSERT INTO fz.t (k, c{i}) VALUES (?, ?)")).query_id
    ids["select"] = ask(PrepareMessage("SELECT * FROM fz.t WHERE k = ?")).query_id
    yield ask, ids
    client.close()
    server.stop()
    session.shutdown()


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(column=st.integers(0, len(TYPES) - 1), raw=st.binary(max_size=40), key=st.integers(0, 5))
def test_random_value_bytes_are_invalid_or_stored(live, column, raw, key):
    ask, ids = live
    answer = ask(ExecuteMessage(ids[column], [key.to_bytes(4, "big"), raw], 1))
    if answer.opcode == fmt.ERROR:
        assert answer.code == fmt.ERR_INVALID, (
            f"{TYPES[column]} {raw!r}: {answer.code:#x} {answer.message}"
        )
    else:
        assert answer.opcode == fmt.RESULT
    # Only the opcode is checked: cassandra-driver itself cannot turn some
    # stored values into Python (a timestamp past year 9999, say).
    read = ask(ExecuteMessage(ids["select"], [key.to_bytes(4, "big")], 1), raw=True)
    assert read[4] == fmt.RESULT, f"reading back {TYPES[column]} {raw!r}: {driver_decode(read)}"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(state=st.binary(min_size=1, max_size=60), size=st.integers(1, 10))
def test_random_paging_states_are_refused_cleanly(live, state, size):
    ask, ids = live
    answer = ask(
        ExecuteMessage(
            ids["select"], [(1).to_bytes(4, "big")], 1, fetch_size=size, paging_state=state
        )
    )
    if answer.opcode == fmt.ERROR:
        assert answer.code in (fmt.ERR_PROTOCOL, fmt.ERR_INVALID), answer.message
    else:
        assert answer.opcode == fmt.RESULT


@pytest.mark.parametrize(
    ("type_name", "raw", "message"),
    [
        ("duration", b"\x00", "Truncated variable-length integer"),
        ("frozen<tuple<int, text>>", b"\x00", "Not enough bytes to read size of 0th component"),
        ("time", (86400 * 10**9).to_bytes(8, "big"), "Time must be between"),
        ("decimal", b"\x00\x01", "fewer than 4 bytes"),
    ],
)
def test_bad_value_bytes_get_the_cql_layers_invalid_error(live, type_name, raw, message):
    ask, ids = live
    answer = ask(ExecuteMessage(ids[TYPES.index(type_name)], [(1).to_bytes(4, "big"), raw], 1))
    assert answer.code == fmt.ERR_INVALID
    assert message in answer.message
