"""redis-py over the wire: the same assertions against a real redis-server and
against our server, in RESP2 and RESP3 (redis-py's ``protocol=3``)."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.stores.kv.server_backends import OurServer
from tests.stores.kv.wire import WireClient

pytestmark = pytest.mark.redis_server

NO_RETRY = Retry(NoBackoff(), 0)


@pytest.fixture(scope="module")
def ours():
    server = OurServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["redis", "ours"])
def target(request, redis_server, ours):
    return redis_server if request.param == "redis" else ours


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request):
    return request.param


@pytest.fixture
def r(target, protocol):
    client = redis.Redis(host=target.host, port=target.port, protocol=protocol)
    client.flushall()
    try:
        yield client
    finally:
        client.close()


def other(r: redis.Redis, **kwargs) -> redis.Redis:
    kwargs = {
        "host": r.connection_pool.connection_kwargs["host"],
        "port": r.connection_pool.connection_kwargs["port"],
        "protocol": r.connection_pool.connection_kwargs.get("protocol", 2),
        **kwargs,
    }
    return redis.Redis(**kwargs)


def pairs(items) -> list[tuple]:
    """Return (member, score) pairs as tuples (redis-py gives lists in RESP3)."""
    return [tuple(item) for item in items]


def error_of(call, *args, **kwargs) -> str:
    with pytest.raises(redis.ResponseError) as info:
        call(*args, **kwargs)
    return str(info.value)


def test_strings_and_errors(r):
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.set("k", "w", nx=True) is None
    assert r.set("k", "w", xx=True, get=True) == b"v"
    assert r.incr("n") == 1
    assert r.incrby("n", 41) == 42
    assert r.incrbyfloat("f", 1.5) == 1.5
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "missing") == [b"1", b"2", None]
    assert r.append("a", "x") == 2
    assert r.getrange("a", 0, 0) == b"1"
    assert r.strlen("a") == 2
    assert error_of(r.incr, "k") == "value is not an integer or out of range"
    r.rpush("list", "x")
    assert error_of(r.get, "list") == (
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    )
    assert error_of(r.execute_command, "SET", "k") == (
        "wrong number of arguments for 'set' command"
    )
    assert error_of(r.execute_command, "NOSUCHCOMMAND", "a").startswith(
        "unknown command 'NOSUCHCOMMAND', with args beginning with: 'a'"
    )


def test_expiry(r):
    r.set("k", "v", ex=100)
    assert 99 <= r.ttl("k") <= 100
    assert r.pttl("k") > 98000
    assert r.persist("k") is True
    assert r.ttl("k") == -1
    assert r.ttl("missing") == -2
    r.set("gone", "v", px=1)
    time.sleep(0.01)
    assert r.get("gone") is None


def test_hashes_lists_sets_and_sorted_sets(r):
    assert r.hset("h", mapping={"a": "1", "b": "2"}) == 2
    assert r.hgetall("h") == {b"a": b"1", b"b": b"2"}
    assert r.hincrby("h", "a", 5) == 6
    assert sorted(r.hkeys("h")) == [b"a", b"b"]
    assert r.lpush("l", "a", "b") == 2
    assert r.rpush("l", "c") == 3
    assert r.lrange("l", 0, -1) == [b"b", b"a", b"c"]
    assert r.lpop("l", 2) == [b"b", b"a"]
    assert r.sadd("s", "a", "b", "c") == 3
    assert r.smembers("s") == {b"a", b"b", b"c"}
    assert r.sismember("s", "a") == 1
    assert r.zadd("z", {"a": 1, "b": 2.5, "c": 3}) == 3
    assert r.zscore("z", "b") == 2.5
    assert pairs(r.zrange("z", 0, -1, withscores=True)) == [(b"a", 1.0), (b"b", 2.5), (b"c", 3.0)]
    assert r.zrevrange("z", 0, 0) == [b"c"]
    assert r.zincrby("z", 1.1, "a") == pytest.approx(2.1)
    popped = r.zpopmin("z")
    if r.get_connection_kwargs().get("protocol") == 3:
        assert popped == [b"a", pytest.approx(2.1)]
    else:
        assert popped == [(b"a", pytest.approx(2.1))]
    assert r.zrank("z", "c") == 1


def test_keys_scan_and_databases(r, target, protocol):
    for i in range(50):
        r.set(f"key:{i}", i)
    assert r.dbsize() == 50
    assert sorted(r.scan_iter(match="key:1*", count=7)) == sorted(
        f"key:{i}".encode() for i in range(50) if str(i).startswith("1")
    )
    assert r.exists("key:1", "key:2", "nope") == 2
    assert r.type("key:1") == b"string"
    db1 = redis.Redis(host=target.host, port=target.port, db=1, protocol=protocol)
    try:
        assert db1.dbsize() == 0
        db1.set("only-in-1", "x")
        assert r.get("only-in-1") is None
    finally:
        db1.close()


def test_pipelines_and_transactions(r):
    with r.pipeline(transaction=False) as pipe:
        for i in range(100):
            pipe.set(f"p{i}", i)
        pipe.get("p99")
        pipe.incr("p0")
        results = pipe.execute()
    assert results[-2:] == [b"99", 1]
    with r.pipeline() as pipe:
        pipe.incr("counter").incr("counter").get("counter")
        assert pipe.execute() == [1, 2, b"2"]


def test_watch_aborts_on_a_concurrent_write(r):
    r.set("balance", 10)
    spoiler = other(r)
    try:
        with r.pipeline() as pipe:
            pipe.watch("balance")
            spoiler.set("balance", 0)
            pipe.multi()
            pipe.set("balance", 20)
            with pytest.raises(redis.WatchError):
                pipe.execute()
    finally:
        spoiler.close()
    assert r.get("balance") == b"0"


def test_transaction_errors(r):
    with r.pipeline() as pipe:
        pipe.set("a", "1")
        pipe.lpush("a", "x")
        results = pipe.execute(raise_on_error=False)
    assert results[0] is True
    assert str(results[1]) == "WRONGTYPE Operation against a key holding the wrong kind of value"


def test_pubsub(r):
    pubsub = r.pubsub()
    try:
        pubsub.subscribe("news")
        pubsub.psubscribe("sport.*")
        assert pubsub.get_message(timeout=5)["type"] == "subscribe"
        assert pubsub.get_message(timeout=5)["type"] == "psubscribe"
        assert r.publish("news", "hello") == 1
        assert r.publish("sport.tennis", "ace") == 1
        message = pubsub.get_message(timeout=5)
        assert (message["type"], message["channel"], message["data"]) == (
            "message",
            b"news",
            b"hello",
        )
        message = pubsub.get_message(timeout=5)
        assert (message["type"], message["pattern"], message["channel"], message["data"]) == (
            "pmessage",
            b"sport.*",
            b"sport.tennis",
            b"ace",
        )
        assert r.pubsub_numpat() == 1
        pubsub.unsubscribe("news")
        assert pubsub.get_message(timeout=5)["type"] == "unsubscribe"
        assert r.publish("news", "nobody") == 0
    finally:
        pubsub.close()


def test_pubsub_numsub(r):
    pubsub = r.pubsub()
    try:
        pubsub.subscribe("news")
        assert pubsub.get_message(timeout=5)["type"] == "subscribe"
        assert r.pubsub_numsub("news", "other") == [(b"news", 1), (b"other", 0)]
    finally:
        pubsub.close()


def _push_later(r: redis.Redis, delay: float, *commands) -> threading.Thread:
    def run():
        client = other(r)
        try:
            time.sleep(delay)
            for command in commands:
                client.execute_command(*command)
        finally:
            client.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_blocking_commands(r):
    r.rpush("ready", "now")
    assert list(r.blpop(["empty", "ready"], timeout=1)) == [b"ready", b"now"]
    assert r.brpop(["empty"], timeout=0.1) is None
    thread = _push_later(r, 0.05, ("RPUSH", "jobs", "j1"))
    popped = r.blpop(["jobs"], timeout=10)
    thread.join()
    assert list(popped) == [b"jobs", b"j1"]
    thread = _push_later(r, 0.05, ("RPUSH", "src", "x"))
    assert r.blmove("src", "dst", 10, "LEFT", "RIGHT") == b"x"
    thread.join()
    assert r.lrange("dst", 0, -1) == [b"x"]
    thread = _push_later(r, 0.05, ("ZADD", "zq", "5", "m"))
    popped = r.bzpopmin(["zq"], timeout=10)
    thread.join()
    assert list(popped) == [b"zq", b"m", 5.0]
    assert r.bzpopmax(["zq"], timeout=0.1) is None


def test_blocked_clients_served_in_arrival_order(r):
    results = {}

    def wait(name: str, started: threading.Event) -> None:
        client = other(r)
        try:
            started.set()
            results[name] = client.blpop(["fifo"], timeout=10)
        finally:
            client.close()

    threads = []
    for name in ("first", "second"):
        started = threading.Event()
        thread = threading.Thread(target=wait, args=(name, started))
        thread.start()
        started.wait()
        deadline = time.monotonic() + 10
        while int(r.info("clients")["blocked_clients"]) < len(threads) + 1:
            assert time.monotonic() < deadline, "client did not block"
            time.sleep(0.01)
        threads.append(thread)
    r.rpush("fifo", "1", "2")
    for thread in threads:
        thread.join()
    assert list(results["first"]) == [b"fifo", b"1"]
    assert list(results["second"]) == [b"fifo", b"2"]


def test_client_commands(r):
    assert r.client_setname("worker-1") is True
    assert r.client_getname() in ("worker-1", b"worker-1")
    my_id = r.client_id()
    assert isinstance(my_id, int)
    clients = r.client_list()
    mine = [c for c in clients if c["id"] == str(my_id)]
    assert mine and mine[0]["name"] == "worker-1"
    assert r.client_info()["name"] == "worker-1"
    victim = other(r)
    victim.ping()
    victim_id = victim.client_id()
    assert r.client_kill_filter(_id=victim_id) == 1
    victim.close()


def test_hello_replies_alike(redis_server, ours):
    def hello(port: int) -> tuple:
        with WireClient(port) as c:
            resp3, resp2 = c.command("HELLO", "3"), c.command("HELLO", "2")
        return resp3, resp2

    theirs, mine = hello(redis_server.port), hello(ours.port)
    for their_reply, my_reply in zip(theirs, mine, strict=True):
        assert type(their_reply) is type(my_reply)
        assert len(their_reply) == len(my_reply)
    assert mine[0][b"proto"] == 3 and mine[0][b"server"] == b"redis"
    assert mine[1][mine[1].index(b"proto") + 1] == 2


def test_large_values_round_trip(r):
    value = bytes(range(256)) * 8192  # 2 MiB
    r.set("big", value)
    assert r.get("big") == value
    assert r.strlen("big") == len(value)


def test_info_and_server_commands(r):
    info = r.info()
    assert "redis_version" in info
    assert "connected_clients" in info
    assert r.ping() is True
    assert r.echo("hi") == b"hi"
    assert isinstance(r.time()[0], int)
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}


@pytest.mark.parametrize("which", ["redis", "ours"])
def test_requirepass(which, tmp_path):
    if which == "redis":
        from tests.support.redis_server import start_redis_server

        server = start_redis_server("--requirepass", "s3cret")
    else:
        server = OurServer(requirepass="s3cret")
    try:
        anonymous = redis.Redis(host="127.0.0.1", port=server.port, retry=NO_RETRY)
        with pytest.raises(redis.AuthenticationError):
            anonymous.get("k")
        anonymous.close()
        for protocol in (2, 3):
            with pytest.raises(redis.AuthenticationError):
                redis.Redis(
                    port=server.port, password="wrong", protocol=protocol, retry=NO_RETRY
                ).ping()
            client = redis.Redis(port=server.port, password="s3cret", protocol=protocol)
            assert client.set("k", "v") is True
            client.close()
    finally:
        server.stop()
