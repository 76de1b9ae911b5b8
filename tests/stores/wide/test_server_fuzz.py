"""Hypothesis fuzz of the live server: garbage on one connection harms no other."""

import socket
import struct

import pytest
from cassandra.protocol import QueryMessage, StartupMessage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stores.wide.protocol import format as fmt
from tests.stores.wide.fake_backend import FakeBackend
from tests.stores.wide.live_server import RawClient, ServerThread
from tests.stores.wide.protocol.driver_codec import driver_decode, driver_frame

MAX_FRAME = 64 * 1024


@pytest.fixture(scope="module")
def server():
    thread = ServerThread(FakeBackend(), max_frame_length=MAX_FRAME, max_in_flight=16).start()
    yield thread
    thread.stop()


@st.composite
def hostile_streams(draw):
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["raw", "frame", "startup", "huge"]))
        if kind == "raw":
            parts.append(draw(st.binary(max_size=200)))
        elif kind == "startup":
            parts.append(driver_frame(StartupMessage("3.4.7", {}), stream=draw(st.integers(0, 99))))
        elif kind == "huge":
            parts.append(
                struct.pack(
                    ">BBhBi", 4, 0, 1, fmt.QUERY, draw(st.integers(MAX_FRAME + 1, 2**31 - 1))
                )
            )
        else:
            body = draw(st.binary(max_size=100))
            opcode = draw(st.sampled_from(sorted(fmt.REQUEST_OPCODES) + [0x08, 0x33]))
            header = struct.pack(
                ">BBhBi",
                4,
                draw(st.integers(0, 255)),
                draw(st.integers(-5, 500)),
                opcode,
                len(body),
            )
            parts.append(header + body)
    return b"".join(parts)


def _drain(sock: socket.socket) -> None:
    sock.settimeout(0.2)
    try:
        while sock.recv(65536):
            pass
    except (TimeoutError, ConnectionError, OSError):
        pass


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=hostile_streams())
def test_random_bytes_never_hurt_other_connections(server, data):
    good = RawClient(server.port)
    good.send(driver_frame(StartupMessage("3.4.7", {}), stream=0))
    assert driver_decode(good.read_frame()).opcode == fmt.READY

    bad = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        bad.sendall(data)
    except OSError:
        pass
    _drain(bad)

    good.send(driver_frame(QueryMessage("SELECT 3", 1), stream=42))
    reply = driver_decode(good.read_frame())
    assert reply.stream_id == 42
    assert reply.parsed_rows == [(0,), (1,), (2,)]
    for connection in list(server.server.connections):
        assert connection.protocol.buffered <= MAX_FRAME + 9 + 256 * 1024
    bad.close()
    good.close()


def test_a_flood_of_partial_frames_stays_bounded(server):
    bad = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    header = struct.pack(">BBhBi", 4, 0, 1, fmt.OPTIONS, MAX_FRAME)
    bad.sendall(header + b"x" * (MAX_FRAME - 10))
    good = RawClient(server.port)
    good.send(driver_frame(StartupMessage("3.4.7", {}), stream=0))
    assert driver_decode(good.read_frame()).opcode == fmt.READY
    for connection in list(server.server.connections):
        assert connection.protocol.buffered <= MAX_FRAME + 9
    bad.close()
    good.close()
