"""Raw bytes, byte-for-byte: what our server answers to well-formed, odd and
malformed requests is exactly what redis-server 7 answers, including the
protocol errors and whether the connection is closed."""

from __future__ import annotations

import re
import socket
import time

import pytest

from tests.stores.kv.server_backends import OurServer

pytestmark = pytest.mark.redis_server

END = b"$12\r\n--the-end--!\r\n"
# Client ids differ between servers; HELLO shows them.
ID = re.compile(rb"(\$2\r\nid\r\n):\d+")


@pytest.fixture(scope="module")
def ours():
    server = OurServer()
    try:
        yield server
    finally:
        server.stop()


def exchange(port: int, data: bytes, expect_close: bool) -> tuple[bytes, bool]:
    """Send data; return what came back and whether the server closed the socket."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        if not expect_close:
            # End with a marker so that we know when every reply has arrived.
            sock.sendall(b"*2\r\n$4\r\nECHO\r\n" + END)
        received = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                return ID.sub(rb"\1:<id>", received), True
            if not chunk:
                return ID.sub(rb"\1:<id>", received), True
            received += chunk
            if not expect_close and received.endswith(END):
                return ID.sub(rb"\1:<id>", received), False
        raise TimeoutError(f"no complete answer to {data[:60]!r}")


CASES = [
    # (request bytes, whether the connection ends closed)
    (b"*1\r\n$4\r\nPING\r\n", False),
    (b"PING\r\n", False),
    (b"PING\n", False),
    (b"\r\n\n   \r\nPING\r\n", False),
    (b"ECHO \"a\\x41\\n\" 'b\\'c'\r\n", False),
    (b'ECHO a"b c"\r\n', False),
    (b"*-1\r\n*0\r\n", False),
    (b"*1\r\n$4\r\nPINGxx", False),
    (b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", False),
    (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\na\r\nb\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", False),
    (b"*1\r\nfoo\r\n", True),
    (b"*1\r\n\xc8\r\n", True),
    (b"*1\r\n\r\r\n", True),
    (b"*01\r\n", True),
    (b"*+1\r\n", True),
    (b"*x\r\n", True),
    (b"*2147483648\r\n", True),
    (b"*1\r\n$-1\r\n", True),
    (b"*2\r\n$4\r\nECHO\r\n$01\r\na\r\n", True),
    (b"*2\r\n$4\r\nECHO\r\n$+1\r\na\r\n", True),
    (b"*1\r\n$536870913\r\n", True),
    (b"PING\r\n*2\r\n:1\r\n", True),
    (b'PING "a\r\n', True),
    (b'ECHO "a"b\r\n', True),
    (b"ECHO 'ab'c\r\n", True),
    (b"X" * 70000, True),
    (b"*" + b"1" * 70000, True),
    (b"*1\r\n$" + b"1" * 70000, True),
    (b"PING\r\nQUIT\r\nPING\r\n", True),
    (b"POST / HTTP/1.1\r\nHost: x\r\n\r\n", True),
    (b"MULTI\r\nSET a 1\r\nQUIT\r\n", True),
    (b"HELLO 3\r\nGET missing\r\nHELLO 2\r\nGET missing\r\n", False),
    (b"HELLO 4\r\nHELLO x\r\nHELLO 3 FOO\r\n", False),
    (b"CLIENT SETNAME\r\nCLIENT SETNAME a\x01b\r\nCLIENT GETNAME\r\n", False),
    (b"SUBSCRIBE a b\r\nGET x\r\nUNSUBSCRIBE b\r\nUNSUBSCRIBE\r\n", False),
    (b"AUTH x\r\nAUTH a b c\r\n", False),
    (b"RESET\r\n", False),
    (b"BLPOP nothing 0.01\r\nHELLO 3\r\nBRPOP nothing 0.01\r\n", False),
    (b"BZPOPMIN nothing 0.01\r\nBLMOVE a b LEFT RIGHT 0.01\r\n", False),
    (b"MULTI\r\nBLPOP nothing 0\r\nEXEC\r\n", False),
    (b"SELECT 99\r\nSELECT 1\r\nSET k v\r\nSELECT 0\r\nGET k\r\n", False),
    (b"RPUSH q a\r\nBLPOP q 0\r\nDEL q\r\n", False),
    (b"HELLO 3\r\nSUBSCRIBE c\r\nPUBLISH c hi\r\nPING\r\nRESET\r\n", False),
]


@pytest.mark.parametrize("data, closes", CASES, ids=[repr(c[0][:30]) for c in CASES])
def test_same_bytes_as_redis(redis_server, ours, data, closes):
    theirs = exchange(redis_server.port, data, closes)
    mine = exchange(ours.port, data, closes)
    assert mine == theirs
