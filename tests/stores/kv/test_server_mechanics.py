"""The server's own behaviour over raw sockets, with a tiny fake engine.

Framing, pipelining, protocol errors, limits, the connection commands,
blocking and pub/sub delivery are the server's job whatever the engine
does; the real engine is exercised over the wire in test_server_redis_py.
"""

from __future__ import annotations

import socket
import time

import pytest

from stores.kv.replies import NULL_ARRAY, ErrorReply, Map, Push, SimpleString, Verbatim
from stores.kv.resp import encode_command, encode_pipeline
from stores.kv.server import BackgroundServer
from tests.stores.kv.fake_engine import FakeEngine
from tests.stores.kv.wire import WireClient


@pytest.fixture
def engine():
    return FakeEngine()


@pytest.fixture
def server(engine):
    with BackgroundServer(engine) as background:
        yield background


def client(server, **kwargs) -> WireClient:
    return WireClient(server.port, **kwargs)


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.01)


def client_flags(server, name: bytes) -> str:
    with client(server) as other:
        listing = other.command("CLIENT", "LIST").decode()
    for line in listing.splitlines():
        fields = dict(item.split("=", 1) for item in line.split(" "))
        if fields["name"] == name.decode():
            return fields["flags"]
    raise KeyError(name)


def test_pipeline_in_one_write_gets_replies_in_order(server):
    with client(server) as c:
        commands = [[b"SET", b"k%d" % i, b"v%d" % i] for i in range(200)]
        commands += [[b"GET", b"k%d" % i] for i in range(200)]
        c.send(encode_pipeline(commands) + b"PING\r\nECHO 'inline ok'\r\n")
        replies = c.replies(402)
    assert replies[:200] == [SimpleString("OK")] * 200
    assert replies[200:400] == [b"v%d" % i for i in range(200)]
    assert replies[400:] == [SimpleString("PONG"), b"inline ok"]


def test_pipeline_sent_one_byte_at_a_time(server):
    data = encode_pipeline([[b"SET", b"a", b"1"], [b"GET", b"a"]]) + b"PING\r\n"
    with client(server) as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            c.send(data[i : i + 1])
        assert c.replies(3) == [SimpleString("OK"), b"1", SimpleString("PONG")]


@pytest.mark.parametrize(
    "garbage, error",
    [
        (b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
        (b"*-x\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b'ECHO "open\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
        (b"x" * 70000, b"-ERR Protocol error: too big inline request\r\n"),
    ],
)
def test_protocol_error_replies_then_closes_only_that_connection(server, garbage, error):
    with client(server) as bad, client(server) as good:
        bad.send(b"PING\r\n" + garbage + b"PING\r\n")
        assert bad.read_until_closed() == b"+PONG\r\n" + error
        assert good.command("PING") == SimpleString("PONG")


def test_http_request_is_dropped_without_reply(server):
    with client(server) as c:
        c.send(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert c.read_until_closed() == b""


def test_query_buffer_limit_closes_without_reply(engine, server):
    engine.config.set("client-query-buffer-limit", 10000)
    with client(server) as c, client(server) as good:
        c.send(b"*2\r\n$4\r\nECHO\r\n$100000\r\n" + b"x" * 20000)
        assert c.read_until_closed() == b""
        assert good.command("ECHO", "fine") == b"fine"


def test_proto_max_bulk_len_applies_to_connected_clients(engine, server):
    with client(server) as c:
        assert c.command("ECHO", "x" * 100) == b"x" * 100
        engine.config.set("proto-max-bulk-len", 50)
        c.send(encode_command([b"ECHO", b"x" * 51]))
        assert c.read_until_closed() == b"-ERR Protocol error: invalid bulk length\r\n"


def test_maxclients(engine):
    engine.config.set("maxclients", 2)
    with BackgroundServer(engine) as server:
        with client(server) as a, client(server) as b:
            assert a.command("PING") == SimpleString("PONG")
            assert b.command("PING") == SimpleString("PONG")
            with client(server) as c:
                assert c.read_until_closed() == b"-ERR max number of clients reached\r\n"
        assert engine.stats["rejected_connections"] == 1
        wait_until(lambda: not server.server.clients)
        with client(server) as d:
            assert d.command("PING") == SimpleString("PONG")


def test_hello_switches_protocol_and_reports_the_server(server):
    with client(server) as c:
        reply = c.command("HELLO", "3", "SETNAME", "me")
        assert isinstance(reply, Map)
        assert reply[b"server"] == b"redis"
        assert reply[b"proto"] == 3
        assert reply[b"mode"] == b"standalone"
        assert c.command("GET", "missing") is None
        assert c.command("CLIENT", "GETNAME") == b"me"
        flat = c.command("HELLO", "2")
        assert isinstance(flat, list)  # a flat array in RESP2
        assert flat[flat.index(b"proto") + 1] == 2


def test_resp3_null_and_resp2_null_on_the_wire(server):
    with client(server) as c:
        c.send(b"GET nothing\r\nHELLO 3\r\nGET nothing\r\n")
        data = b""
        while not data.endswith(b"_\r\n"):
            data += c.sock.recv(65536)
        assert data.startswith(b"$-1\r\n%7\r\n")


@pytest.mark.parametrize(
    "argv, error",
    [
        (["HELLO", "x"], "ERR Protocol version is not an integer or out of range"),
        (["HELLO", "--3"], "ERR Protocol version is not an integer or out of range"),
        (["HELLO", "03"], "ERR Protocol version is not an integer or out of range"),
        (["HELLO", "-3"], "NOPROTO unsupported protocol version"),
        (["HELLO", "4"], "NOPROTO unsupported protocol version"),
        (["HELLO", "1"], "NOPROTO unsupported protocol version"),
        (["HELLO", "3", "FOO"], "ERR Syntax error in HELLO option 'FOO'"),
        (["HELLO", "3", "AUTH", "default"], "ERR Syntax error in HELLO option 'AUTH'"),
        (
            ["HELLO", "3", "SETNAME", "a b"],
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ),
        (
            ["AUTH", "pw"],
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ),
        (["AUTH", "a", "b", "c"], "ERR syntax error"),
        (
            ["AUTH", "someone", "pw"],
            "WRONGPASS invalid username-password pair or user is disabled.",
        ),
        (["CLIENT"], "ERR wrong number of arguments for 'client' command"),
        (["CLIENT", "FOO"], "ERR unknown subcommand 'FOO'. Try CLIENT HELP."),
        (["CLIENT", "SETNAME"], "ERR wrong number of arguments for 'client|setname' command"),
        (["CLIENT", "KILL", "1.2.3.4:5"], "ERR No such client"),
        (["CLIENT", "KILL", "ID", "x"], "ERR client-id should be greater than 0"),
        (["CLIENT", "KILL", "FOO", "bar"], "ERR syntax error"),
        (["CLIENT", "LIST", "TYPE", "foo"], "ERR Unknown client type 'foo'"),
        (["CLIENT", "LIST", "ID", "x"], "ERR Invalid client ID"),
        (["CLIENT", "SETINFO", "foo", "x"], "ERR Unrecognized option 'foo'"),
        (["CLIENT", "NO-EVICT", "maybe"], "ERR syntax error"),
    ],
)
def test_connection_command_errors(server, argv, error):
    with client(server) as c:
        assert c.command(*argv) == ErrorReply(error)


def test_hello_without_password_accepts_any_credentials_of_default(server):
    with client(server) as c:
        assert c.command("HELLO", "3", "AUTH", "default", "anything")[b"proto"] == 3


def test_requirepass(engine):
    engine.config.set("requirepass", "s3cret")
    with BackgroundServer(engine) as server:
        with client(server) as c:
            assert c.command("GET", "k") == ErrorReply("NOAUTH Authentication required.")
            assert c.command("HELLO", "3") == ErrorReply(
                "NOAUTH HELLO must be called with the client already authenticated, otherwise "
                "the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the "
                "client and select the RESP protocol version at the same time"
            )
            assert c.command("AUTH", "wrong") == ErrorReply(
                "WRONGPASS invalid username-password pair or user is disabled."
            )
            assert c.command("AUTH", "s3cret") == SimpleString("OK")
            assert c.command("SET", "k", "v") == SimpleString("OK")
            assert c.command("RESET") == SimpleString("RESET")
            assert c.command("GET", "k") == ErrorReply("NOAUTH Authentication required.")
            assert c.command("HELLO", "3", "AUTH", "default", "s3cret")[b"proto"] == 3
            assert c.command("GET", "k") == b"v"


def test_unauthenticated_clients_cannot_send_big_requests(engine):
    engine.config.set("requirepass", "pw")
    with BackgroundServer(engine) as server:
        with client(server) as c:
            c.send(encode_command([b"SET"] * 11))
            assert c.read_until_closed() == (
                b"-ERR Protocol error: unauthenticated multibulk length\r\n"
            )
        with client(server) as c:
            c.send(encode_command([b"AUTH", b"x" * 20000]))
            assert c.read_until_closed() == b"-ERR Protocol error: unauthenticated bulk length\r\n"
        with client(server) as c:
            c.send(encode_pipeline([[b"AUTH", b"pw"], [b"ECHO", b"x" * 20000]]))
            assert c.replies(2) == [SimpleString("OK"), b"x" * 20000]


def test_client_commands(server):
    with client(server) as a, client(server) as b:
        a_id = a.command("CLIENT", "ID")
        b_id = b.command("CLIENT", "ID")
        assert a_id != b_id
        assert a.command("CLIENT", "GETNAME") is None
        assert a.command("CLIENT", "SETNAME", "alpha") == SimpleString("OK")
        assert a.command("CLIENT", "SETINFO", "LIB-NAME", "mylib") == SimpleString("OK")
        assert a.command("CLIENT", "SETINFO", "lib-ver", "1.2") == SimpleString("OK")
        info = a.command("CLIENT", "INFO")
        assert isinstance(info, bytes)
        fields = dict(item.split("=", 1) for item in info.decode().split())
        assert fields["id"] == str(a_id)
        assert fields["name"] == "alpha"
        assert fields["lib-name"] == "mylib" and fields["lib-ver"] == "1.2"
        assert fields["cmd"] == "client"
        listing = b.command("CLIENT", "LIST").decode()
        assert f"id={a_id} " in listing and f"id={b_id} " in listing
        only_a = b.command("CLIENT", "LIST", "ID", str(a_id)).decode()
        assert only_a.count("\n") == 1 and "name=alpha" in only_a
        assert a.command("CLIENT", "SETNAME", "") == SimpleString("OK")
        assert a.command("CLIENT", "GETNAME") is None
        assert b.command("CLIENT", "KILL", "ID", str(a_id)) == 1
        assert a.read_until_closed() == b""
        assert b.command("CLIENT", "KILL", "ID", str(b_id)) == 0  # SKIPME yes by default
        assert b.command("CLIENT", "NO-EVICT", "on") == SimpleString("OK")
        assert isinstance(b.command("CLIENT", "HELP"), list)
        b.send(encode_command(["CLIENT", "KILL", "ID", str(b_id), "SKIPME", "no"]))
        assert b.read_until_closed() == b":1\r\n"


def test_client_kill_by_address_and_list_in_resp3(server):
    with client(server) as a, client(server) as b:
        host, port = a.sock.getsockname()
        address = f"{host}:{port}"
        b.command("HELLO", "3")
        listing = b.command("CLIENT", "LIST")
        assert isinstance(listing, Verbatim) and address.encode() in listing.text
        assert b.command("CLIENT", "KILL", address) == SimpleString("OK")
        assert a.read_until_closed() == b""


def test_quit_replies_then_closes(server):
    with client(server) as c:
        c.send(b"PING\r\nQUIT\r\nPING\r\n")
        assert c.read_until_closed() == b"+PONG\r\n+OK\r\n"


def test_reset(server):
    with client(server) as c:
        c.command("HELLO", "3", "SETNAME", "n")
        c.command("SELECT", "5")
        c.command("MULTI")
        assert c.command("RESET") == SimpleString("RESET")
        assert c.command("CLIENT", "GETNAME") is None
        info = c.command("CLIENT", "INFO").decode()
        assert " db=0 " in info and " resp=2 " in info and " multi=-1 " in info


def test_connections_have_independent_databases(server):
    with client(server) as a, client(server) as b:
        a.command("SELECT", "3")
        a.command("SET", "k", "in3")
        b.command("SET", "k", "in0")
        assert a.command("GET", "k") == b"in3"
        assert b.command("GET", "k") == b"in0"


def test_blocking_pop_is_woken_by_a_push(server):
    with client(server) as waiter, client(server) as pusher:
        waiter.command("CLIENT", "SETNAME", "waiter")
        waiter.send(encode_pipeline([[b"BLPOP", b"q", b"0"], [b"ECHO", b"after"]]))
        wait_until(lambda: "b" in client_flags(server, b"waiter"))
        assert pusher.command("RPUSH", "q", "job") == 1
        assert waiter.replies(2) == [[b"q", b"job"], b"after"]


def test_blocked_clients_are_served_in_arrival_order(server):
    waiters = [client(server) for _ in range(3)]
    try:
        for i, w in enumerate(waiters):
            w.command("CLIENT", "SETNAME", f"w{i}")
            w.send(encode_command([b"BLPOP", b"a", b"q", b"0"]))
            wait_until(lambda i=i: "b" in client_flags(server, f"w{i}".encode()))
        with client(server) as pusher:
            assert pusher.command("RPUSH", "q", "1", "2") == 2
            assert waiters[0].reply() == [b"q", b"1"]
            assert waiters[1].reply() == [b"q", b"2"]
            assert "b" in client_flags(server, b"w2")
            pusher.command("RPUSH", "a", "3")
            assert waiters[2].reply() == [b"a", b"3"]
    finally:
        for w in waiters:
            w.close()


def test_blocking_timeout_replies_null_array(server):
    with client(server) as c:
        c.send(encode_command([b"BLPOP", b"q", b"0.05"]))
        assert c.reply() is NULL_ARRAY
        c.command("HELLO", "3")
        c.send(encode_command([b"BLPOP", b"q", b"0.05"]))
        assert c.reply() is None


def test_disconnected_waiter_is_forgotten(engine, server):
    with client(server) as c:
        c.command("CLIENT", "SETNAME", "gone")
        c.send(encode_command([b"BLPOP", b"q", b"0"]))
        wait_until(lambda: "b" in client_flags(server, b"gone"))
    wait_until(lambda: not any(engine.waiters.values()))
    with client(server) as pusher:
        assert pusher.command("RPUSH", "q", "x") == 1
        assert pusher.command("BLPOP", "q", "0") == [b"q", b"x"]


def test_pubsub_resp2_and_resp3(server):
    with client(server) as sub2, client(server) as sub3, client(server) as pub:
        assert sub2.command("SUBSCRIBE", "news") == [b"subscribe", b"news", 1]
        sub3.command("HELLO", "3")
        sub3.send(encode_command([b"SUBSCRIBE", b"a", b"news"]))
        assert sub3.replies(2) == [Push([b"subscribe", b"a", 1]), Push([b"subscribe", b"news", 2])]
        assert pub.command("PUBLISH", "news", "hello") == 2
        assert sub2.reply() == [b"message", b"news", b"hello"]
        message = sub3.reply()
        assert type(message) is Push and message == [b"message", b"news", b"hello"]


def test_push_to_self_keeps_its_place_among_replies(server):
    with client(server) as c:
        c.command("HELLO", "3")
        c.command("SUBSCRIBE", "me")
        c.send(b"PUBLISH me hi\r\nPING\r\n")
        assert c.replies(3) == [Push([b"message", b"me", b"hi"]), 1, SimpleString("PONG")]


def test_slow_subscriber_is_disconnected_not_buffered_forever(engine):
    limits = (256 * 1024, 0, 0.0)
    with BackgroundServer(engine, pubsub_output_limits=limits) as server:
        with client(server) as slow, client(server) as pub:
            slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            slow.command("SUBSCRIBE", "firehose")
            payload = b"x" * 65536
            delivered = 1
            sent = 0
            # Bounded: the kernel buffers a few MB at most before the limit trips.
            while delivered and sent < 2000:
                delivered = pub.command("PUBLISH", "firehose", payload)
                sent += 1
            assert delivered == 0, "the slow subscriber was never disconnected"
            assert pub.command("PING") == SimpleString("PONG")


def test_graceful_stop_delivers_written_replies_and_closes(engine):
    server = BackgroundServer(engine).start()
    c = client(server)
    try:
        assert c.command("SET", "k", "v") == SimpleString("OK")
        server.stop()
        assert c.read_until_closed() == b""
    finally:
        c.close()
        server.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def test_connection_commands_follow_redis_checks(engine):
    engine.config.set("requirepass", "pw")
    with BackgroundServer(engine) as server:
        with client(server) as c:
            assert c.command("CLIENT", "ID") == ErrorReply("NOAUTH Authentication required.")
            assert c.command("AUTH") == ErrorReply(
                "ERR wrong number of arguments for 'auth' command"
            )
            assert c.command("RESET", "x") == ErrorReply(
                "ERR wrong number of arguments for 'reset' command"
            )
            assert c.command("AUTH", "pw") == SimpleString("OK")
            assert c.command("SUBSCRIBE", "ch") == [b"subscribe", b"ch", 1]
            assert c.command("CLIENT", "ID") == ErrorReply(
                "ERR Can't execute 'client': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                "QUIT / RESET are allowed in this context"
            )
            assert c.command("RESET") == SimpleString("RESET")


def test_a_client_that_does_not_read_is_throttled_not_buffered(engine, server):
    value = b"v" * 100_000
    with client(server) as c:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        assert c.command("SET", "big", value) == SimpleString("OK")
        c.send(b"GET big\r\n" * 400)  # 40 MB of replies for 3.6 KB of requests
        time_limit = time.monotonic() + 5
        held = 0
        while time.monotonic() < time_limit:
            held = max(
                held,
                server.call(
                    lambda: max(
                        (
                            x.transport.get_write_buffer_size()
                            for x in server.server.clients.values()
                        ),
                        default=0,
                    )
                ),
            )
            if held:
                break
            time.sleep(0.01)
        assert held < 8 * 1024 * 1024
        assert c.replies(400) == [value] * 400


def test_slow_subscriber_over_the_soft_limit_for_too_long_is_disconnected(engine):
    limits = (0, 64 * 1024, 0.0)
    with BackgroundServer(engine, pubsub_output_limits=limits) as server:
        with client(server) as slow, client(server) as pub:
            slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            slow.command("SUBSCRIBE", "firehose")
            payload = b"x" * 65536
            delivered = 1
            sent = 0
            while delivered and sent < 2000:
                delivered = pub.command("PUBLISH", "firehose", payload)
                sent += 1
            assert delivered == 0, "the slow subscriber was never disconnected"
