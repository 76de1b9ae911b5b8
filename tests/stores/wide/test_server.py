"""The server's connection handling, over real sockets, with a fake CQL backend."""

import struct

import pytest
from cassandra.auth import PlainTextAuthenticator
from cassandra.protocol import (
    AuthResponseMessage,
    ExecuteMessage,
    OptionsMessage,
    PrepareMessage,
    QueryMessage,
    RegisterMessage,
    StartupMessage,
)

from stores.wide.protocol import format as fmt
from tests.stores.wide.fake_backend import FakeAuthenticator, FakeBackend
from tests.stores.wide.live_server import RawClient, ServerThread
from tests.stores.wide.protocol.driver_codec import driver_decode, driver_frame


@pytest.fixture
def backend():
    return FakeBackend()


@pytest.fixture
def server(backend):
    thread = ServerThread(backend, workers=4, max_in_flight=8).start()
    yield thread
    backend.release.set()
    thread.stop()


def connect(server, startup=True):
    client = RawClient(server.port)
    if startup:
        client.send(driver_frame(StartupMessage("3.4.7", {}), stream=0))
        assert driver_decode(client.read_frame()).opcode == fmt.READY
    return client


def ask(client, message, stream=1):
    client.send(driver_frame(message, stream=stream))
    return driver_decode(client.read_frame())


def test_options_before_and_after_startup(server):
    client = connect(server, startup=False)
    supported = ask(client, OptionsMessage())
    assert supported.cql_versions == [fmt.CQL_VERSION]
    assert "COMPRESSION" in supported.options
    client.send(driver_frame(StartupMessage("3.4.7", {}), stream=5))
    assert driver_decode(client.read_frame()).stream_id == 5
    assert ask(client, OptionsMessage(), stream=6).opcode == fmt.SUPPORTED


def test_query_before_startup_is_a_protocol_error(server):
    client = connect(server, startup=False)
    error = ask(client, QueryMessage("SELECT 1", 1))
    assert error.code == fmt.ERR_PROTOCOL
    assert "STARTUP" in error.message


def test_rows_paging_and_stream_ids_echoed(server):
    client = connect(server)
    result = ask(client, QueryMessage("SELECT 5", 1, fetch_size=2), stream=77)
    assert result.stream_id == 77
    assert result.parsed_rows == [(0,), (1,)]
    result = ask(
        client, QueryMessage("SELECT 5", 1, fetch_size=2, paging_state=result.paging_state)
    )
    assert result.parsed_rows == [(2,), (3,)]


def test_use_sets_the_connections_keyspace(server):
    client = connect(server)
    assert ask(client, QueryMessage("USE blog", 1)).new_keyspace == "blog"
    assert ask(client, QueryMessage("KEYSPACE", 1)).parsed_rows == [("blog",)]
    other = connect(server)
    assert ask(other, QueryMessage("KEYSPACE", 1)).parsed_rows == [("",)]


def test_errors_are_mapped_and_the_connection_survives(server):
    client = connect(server)
    syntax = ask(client, QueryMessage("GARBAGE", 1))
    assert syntax.code == fmt.ERR_SYNTAX
    exists = ask(client, QueryMessage("EXISTS", 1))
    assert exists.code == fmt.ERR_ALREADY_EXISTS
    assert exists.info == {"keyspace": "ks", "table": "t"}
    crash = ask(client, QueryMessage("CRASH", 1))
    assert crash.code == fmt.ERR_SERVER
    assert "unexpected" in crash.message
    assert ask(client, QueryMessage("SELECT 1", 1)).parsed_rows == [(0,)]


def test_prepare_execute_and_unprepared(server):
    client = connect(server)
    prepared = ask(client, PrepareMessage("SELECT 3"))
    result = ask(client, ExecuteMessage(prepared.query_id, [], 1))
    assert result.parsed_rows == [(0,), (1,), (2,)]
    unknown = ask(client, ExecuteMessage(b"\xde\xad", [], 1))
    assert unknown.code == fmt.ERR_UNPREPARED
    assert unknown.info == b"\xde\xad"


def test_replies_come_in_any_order(server, backend):
    client = connect(server)
    client.send(driver_frame(QueryMessage("WAIT", 1), stream=10))
    assert backend.waiting.wait(10)
    client.send(driver_frame(QueryMessage("SELECT 1", 1), stream=11))
    first = driver_decode(client.read_frame())
    assert first.stream_id == 11
    backend.release.set()
    assert driver_decode(client.read_frame()).stream_id == 10


def test_in_flight_bound_pauses_reading_without_losing_requests(server, backend):
    client = connect(server)
    frames = b"".join(driver_frame(QueryMessage("WAIT", 1), stream=s) for s in range(20))
    frames += driver_frame(OptionsMessage(), stream=99)
    client.send(frames)
    backend.release.set()
    streams = sorted(driver_decode(client.read_frame()).stream_id for _ in range(21))
    assert streams == list(range(20)) + [99]


def test_schema_change_events_reach_registered_clients(server):
    listener = connect(server)
    assert ask(listener, RegisterMessage(["SCHEMA_CHANGE"])).opcode == fmt.READY
    client = connect(server)
    result = ask(client, QueryMessage("CREATE blog", 1))
    assert result.schema_change_event["keyspace"] == "blog"
    event = driver_decode(listener.read_frame())
    assert event.stream_id == -1
    assert event.event_type == "SCHEMA_CHANGE"
    assert event.event_args == {
        "change_type": "CREATED",
        "target_type": "KEYSPACE",
        "keyspace": "blog",
    }


@pytest.mark.parametrize("version", [3, 5])
def test_other_protocol_versions_are_refused_and_closed(server, version):
    client = connect(server, startup=False)
    client.send(driver_frame(StartupMessage("3.4.7", {}), stream=3, version=version))
    frame = client.read_frame()
    assert frame[0] == 0x80 | version
    error = driver_decode(frame)
    assert "unsupported protocol version" in error.message
    assert error.stream_id == 3
    assert client.is_closed()


def test_malformed_header_closes_only_that_connection(server):
    good = connect(server)
    bad = connect(server)
    bad.send(struct.pack(">BBhBi", 0x84, 0, 1, fmt.QUERY, 0))
    error = driver_decode(bad.read_frame())
    assert error.code == fmt.ERR_PROTOCOL
    assert "direction" in error.message
    assert bad.is_closed()
    assert ask(good, QueryMessage("SELECT 2", 1)).parsed_rows == [(0,), (1,)]


def test_oversized_frame_is_skipped_and_refused_on_its_stream_like_cassandra(backend):
    """Cassandra 5 (v4) discards a frame over the cap and answers Invalid; the connection lives."""
    server = ServerThread(backend, workers=2, max_frame_length=1024).start()
    try:
        client = connect(server)
        body = b"x" * 5000
        client.send(struct.pack(">BBhBi", 4, 0, 5, fmt.QUERY, len(body)) + body[:100])
        client.send(body[100:] + driver_frame(QueryMessage("SELECT 1", 1), stream=6))
        error = driver_decode(client.read_frame())
        assert (error.code, error.stream_id) == (fmt.ERR_INVALID, 5)
        assert error.message.startswith("Request is too big: length 5009")
        answer = driver_decode(client.read_frame())
        assert (answer.stream_id, answer.parsed_rows) == (6, [(0,)])
    finally:
        backend.release.set()
        server.stop()


@pytest.mark.parametrize(
    "body",
    [
        b"abc",  # a [long string] cut short
        struct.pack(">i", 8) + b"SELECT 1",  # no consistency
        struct.pack(">i", 8) + b"SELECT 1" + struct.pack(">HB", 1, 0x01),  # no values
        struct.pack(">i", -5),  # negative string length
    ],
)
def test_malformed_body_gets_an_error_on_its_stream_and_the_connection_stays(server, body):
    """As Cassandra 5 does for v4: a body that fails to decode is answered, not fatal."""
    client = connect(server)
    client.send(struct.pack(">BBhBi", 4, 0, 4, fmt.QUERY, len(body)) + body)
    client.send(driver_frame(QueryMessage("SELECT 1", 1), stream=5))
    error = driver_decode(client.read_frame())
    assert (error.code, error.stream_id) == (fmt.ERR_PROTOCOL, 4)
    answer = driver_decode(client.read_frame())
    assert (answer.stream_id, answer.parsed_rows) == (5, [(0,)])
    assert ask(client, QueryMessage("SELECT 1", 1)).parsed_rows == [(0,)]


@pytest.mark.parametrize("workers", [4, 0])
def test_password_authentication(workers):
    thread = ServerThread(FakeBackend(), authenticator=FakeAuthenticator(), workers=workers).start()
    try:
        client = RawClient(thread.port)
        challenge = ask(client, StartupMessage("3.4.7", {}))
        assert challenge.authenticator == "org.apache.cassandra.auth.PasswordAuthenticator"
        early = ask(client, QueryMessage("SELECT 1", 1))
        assert early.code == fmt.ERR_PROTOCOL
        wrong = PlainTextAuthenticator("cassandra", "nope").initial_response()
        assert ask(client, AuthResponseMessage(wrong)).code == fmt.ERR_BAD_CREDENTIALS
        right = PlainTextAuthenticator("cassandra", "cassandra").initial_response()
        assert ask(client, AuthResponseMessage(right)).opcode == fmt.AUTH_SUCCESS
        assert ask(client, QueryMessage("SELECT 1", 1)).parsed_rows == [(0,)]
    finally:
        thread.stop()


def test_inline_mode_without_worker_threads():
    backend = FakeBackend()
    thread = ServerThread(backend, workers=0, max_in_flight=4).start()
    try:
        client = connect(thread)
        frames = b"".join(driver_frame(QueryMessage("SELECT 2", 1), stream=s) for s in range(10))
        client.send(frames)
        replies = [driver_decode(client.read_frame()) for _ in range(10)]
        assert sorted(r.stream_id for r in replies) == list(range(10))
        assert all(r.parsed_rows == [(0,), (1,)] for r in replies)
    finally:
        thread.stop()


def test_a_client_that_never_reads_cannot_grow_server_memory(server):
    import socket
    import time

    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    sock.sendall(driver_frame(StartupMessage("3.4.7", {}), stream=0))
    frame = driver_frame(QueryMessage("SELECT 5000", 1), stream=1)  # ~45 kB answers
    chunk = frame * 100
    sent = 0
    deadline = time.monotonic() + 10
    # Keep sending queries with large answers until the server stops reading:
    # the kernel buffers fill and send() would block.
    stalled = 0
    while time.monotonic() < deadline and sent < 50 * 1024 * 1024 and stalled < 20:
        try:
            sent += sock.send(chunk)
            stalled = 0
        except BlockingIOError:
            stalled += 1
            time.sleep(0.05)
    connections = [c for c in server.server.connections if c.transport is not None]
    assert connections
    for connection in connections:
        assert connection.transport.get_write_buffer_size() < 1024 * 1024
        assert connection.protocol.buffered < 1024 * 1024
    assert stalled >= 20, f"the server kept reading from a client that never reads ({sent} bytes)"
    sock.close()


def test_a_slow_password_check_does_not_stall_the_event_loop():
    import threading

    release = threading.Event()
    started = threading.Event()

    class SlowAuthenticator:
        def authenticate(self, username, password):
            started.set()
            release.wait(10)
            return True

    thread = ServerThread(FakeBackend(), authenticator=SlowAuthenticator()).start()
    try:
        slow = RawClient(thread.port)
        assert ask(slow, StartupMessage("3.4.7", {})).opcode == fmt.AUTHENTICATE
        slow.send(driver_frame(AuthResponseMessage(b"\x00u\x00p"), stream=2))
        assert started.wait(10)
        other = RawClient(thread.port)
        assert ask(other, OptionsMessage()).opcode == fmt.SUPPORTED
        release.set()
        assert driver_decode(slow.read_frame()).opcode == fmt.AUTH_SUCCESS
    finally:
        release.set()
        thread.stop()


class QuickBackend(FakeBackend):
    """A FakeBackend that calls every prepared statement but WAIT quick, and says which
    thread ran each EXECUTE."""

    def __init__(self):
        super().__init__()
        self.threads = []

    def is_quick(self, message):
        return not self.prepared.get(message.query_id, "").startswith("WAIT")

    def execute(self, query_id, parameters, keyspace):
        import threading

        self.threads.append((self.prepared.get(query_id), threading.current_thread().name))
        return super().execute(query_id, parameters, keyspace)


def test_quick_executes_run_on_the_loop_and_never_jump_a_connections_queue():
    backend = QuickBackend()
    thread = ServerThread(backend, workers=2, quick_inline=True).start()
    try:
        a, b = connect(thread), connect(thread)
        select = ask(a, PrepareMessage("SELECT 1")).query_id
        wait = ask(a, PrepareMessage("WAIT")).query_id
        assert ask(b, ExecuteMessage(select, [], 1), stream=3).parsed_rows == [(0,)]
        assert backend.threads[-1][1] == thread._thread.name  # on the event loop

        # A's WAIT blocks a worker; A's next quick EXECUTE queues behind it
        # (to the workers), while B is still answered on the loop.
        a.send(driver_frame(ExecuteMessage(wait, [], 1), stream=1))
        assert backend.waiting.wait(10)
        a.send(driver_frame(ExecuteMessage(select, [], 1), stream=2))
        # OPTIONS is answered at once, so when its answer is back the
        # EXECUTE sent before it has been dispatched.
        assert ask(a, OptionsMessage(), stream=5).opcode == fmt.SUPPORTED
        assert ask(b, ExecuteMessage(select, [], 1), stream=4).parsed_rows == [(0,)]
        backend.release.set()
        answers = {driver_decode(a.read_frame()).stream_id for _ in range(2)}
        assert answers == {1, 2}
        # B has nothing in the workers: its SELECT ran on the loop; A's went
        # to a worker (the free one, while WAIT still held the other).
        ran = sorted(backend.threads[-3:])
        assert [text for text, _ in ran] == ["SELECT 1", "SELECT 1", "WAIT"]
        assert ran[2][1].startswith("cql-worker")
        assert sorted(name.startswith("cql-worker") for _, name in ran[:2]) == [False, True]
        assert thread._thread.name in {name for _, name in ran[:2]}
    finally:
        backend.release.set()
        thread.stop()


@pytest.mark.parametrize("quick_inline", [None, True, False])
def test_quick_inline_is_on_by_default_and_can_be_turned_off(quick_inline):
    backend = QuickBackend()
    options = {} if quick_inline is None else {"quick_inline": quick_inline}
    thread = ServerThread(backend, workers=1, **options).start()
    try:
        client = connect(thread)
        select = ask(client, PrepareMessage("SELECT 1")).query_id
        assert ask(client, ExecuteMessage(select, [], 1)).parsed_rows == [(0,)]
        on_loop = backend.threads[-1][1] == thread._thread.name
        assert on_loop is (quick_inline is not False)
    finally:
        thread.stop()
