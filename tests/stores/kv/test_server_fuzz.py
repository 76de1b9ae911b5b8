"""Property-based fuzz of the live server: random bytes on one connection never
take the server down, never disturb another connection, never leak a client
and never hold more than the query buffer limit."""

from __future__ import annotations

import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stores.kv.replies import SimpleString
from tests.stores.kv.server_backends import OurServer
from tests.stores.kv.wire import WireClient

QUERY_BUFFER_LIMIT = 64 * 1024

TOKENS = st.sampled_from(
    [b"*", b"$", b"\r\n", b"\n", b"-1", b"0", b"1", b"2", b"3", b"4", b"99999999999",
     b'"', b"'", b" ", b"\x00", b"PING", b"ECHO", b"SET", b"GET", b"k", b"HELLO", b"3",
     b"INCR", b"MULTI", b"EXEC", b"SUBSCRIBE", b"RESET"]
)  # fmt: skip
NOISE = st.lists(st.one_of(st.binary(max_size=12), TOKENS), max_size=60).map(b"".join)


@pytest.fixture(scope="module")
def ours():
    server = OurServer(client_query_buffer_limit=QUERY_BUFFER_LIMIT, proto_max_bulk_len=4096)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def witness(ours):
    with WireClient(ours.port) as client:
        # A reply proves the server has registered this client, so that the
        # client count taken by each example is already stable.
        assert client.command("PING") == SimpleString("PONG")
        yield client


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(noise=NOISE, cuts=st.lists(st.integers(0, 400), max_size=4), big=st.booleans())
def test_random_bytes_on_one_connection_leave_the_others_working(ours, witness, noise, cuts, big):
    server = ours.background.server
    before = len(server.clients)
    bad = socket.create_connection(("127.0.0.1", ours.port), timeout=5)
    try:
        data = noise + (b"x" * (QUERY_BUFFER_LIMIT + 10) if big else b"")
        last = 0
        for cut in sorted(set(cuts)) + [len(data)]:
            try:
                bad.sendall(data[last:cut])
            except OSError:
                break  # the server closed the connection: a protocol error
            last = max(last, cut)
        held = ours.background.call(
            lambda: max((c.reader.buffered for c in server.clients.values()), default=0)
        )
        assert held <= QUERY_BUFFER_LIMIT
    finally:
        bad.close()
    assert witness.command("PING") == SimpleString("PONG")
    assert witness.command("SET", "witness", "alive") == SimpleString("OK")
    assert witness.command("GET", "witness") == b"alive"
    wait_until(lambda: len(server.clients) <= before)
