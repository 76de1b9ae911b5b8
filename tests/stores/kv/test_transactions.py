"""MULTI/EXEC/WATCH through redis-py pipelines, identical on Redis and the engine."""

import pytest
import redis

from tests.stores.kv.compat import WRONGTYPE, error_of, second_client


def test_transaction_pipeline(r):
    with r.pipeline() as pipe:
        pipe.set("a", "1").incr("a").lpush("l", "x").get("a")
        assert len(pipe) == 4
        assert pipe.execute() == [True, 2, 1, b"2"]
    assert r.get("a") == b"2"


def test_pipeline_without_transaction(r):
    pipe = r.pipeline(transaction=False)
    pipe.set("a", "1")
    pipe.incr("a")
    pipe.zadd("z", {"m": 1})
    pipe.zrange("z", 0, -1, withscores=True)
    assert pipe.execute() == [True, 2, 1, [(b"m", 1.0)]]


def test_runtime_error_inside_exec_does_not_abort(r):
    r.set("s", "v")
    pipe = r.pipeline()
    pipe.set("a", "1").lpush("s", "x").incr("a")
    results = pipe.execute(raise_on_error=False)
    assert results[0] is True and results[2] == 2
    assert isinstance(results[1], redis.exceptions.ResponseError)
    assert str(results[1]) == WRONGTYPE
    pipe.lpush("s", "x").incr("a")
    with pytest.raises(redis.exceptions.ResponseError) as info:
        pipe.execute()
    assert "Command # 1 (LPUSH s x) of pipeline caused error: WRONGTYPE" in str(info.value)
    assert r.get("a") == b"3"


def test_queuing_error_discards_everything(r):
    pipe = r.pipeline()
    pipe.set("a", "1")
    pipe.execute_command("GET")
    pipe.set("b", "2")
    with pytest.raises(redis.exceptions.ResponseError) as info:
        pipe.execute()
    assert "wrong number of arguments for 'get' command" in str(info.value)
    assert r.exists("a", "b") == 0


def test_watch_detects_a_concurrent_write(r):
    other = second_client(r)
    r.set("counter", "1")
    with r.pipeline() as pipe:
        pipe.watch("counter")
        value = int(pipe.get("counter"))
        other.set("counter", "100")
        pipe.multi()
        pipe.set("counter", value + 1)
        with pytest.raises(redis.exceptions.WatchError):
            pipe.execute()
    assert r.get("counter") == b"100"
    with r.pipeline() as pipe:
        pipe.watch("counter")
        pipe.multi()
        pipe.incr("counter")
        assert pipe.execute() == [101]
    other.close()


def test_watch_unchanged_and_unwatch(r):
    r.set("k", "1")
    other = second_client(r)
    with r.pipeline() as pipe:
        pipe.watch("k")
        pipe.unwatch()
        other.set("k", "2")
        pipe.multi()
        pipe.get("k")
        assert pipe.execute() == [b"2"]
    other.close()


def test_transaction_helper_retries(r):
    r.set("n", "1")

    def double(pipe):
        current = int(pipe.get("n"))
        pipe.multi()
        pipe.set("n", current * 2)

    assert r.transaction(double, "n") == [True]
    assert r.get("n") == b"2"


def test_raw_multi_errors(r):
    other = second_client(r)
    conn_errors = []
    for args, message in (
        (("EXEC",), "EXEC without MULTI"),
        (("DISCARD",), "DISCARD without MULTI"),
    ):
        conn_errors.append(error_of(other.execute_command, *args) == message)
    assert all(conn_errors)
    other.close()


def test_raw_multi_on_one_connection(r):
    c = second_client(r)
    assert c.execute_command("MULTI") == b"OK"
    assert error_of(c.execute_command, "WATCH", "a") == "WATCH inside MULTI is not allowed"
    assert error_of(c.execute_command, "MULTI") == "MULTI calls can not be nested"
    assert c.execute_command("INCRBY", "a", "1") == b"QUEUED"
    assert c.execute_command("INCR", "a") == b"QUEUED"
    assert c.execute_command("EXEC") == [1, 2]
    assert c.execute_command("MULTI") == b"OK"
    assert c.execute_command("INCR", "a") == b"QUEUED"
    assert c.execute_command("DISCARD") == b"OK"
    assert r.get("a") == b"2"
    assert c.execute_command("MULTI") == b"OK"
    assert (
        error_of(c.execute_command, "NOSUCHCMD")
        == "unknown command 'NOSUCHCMD', with args beginning with: "
    )
    assert (
        error_of(c.execute_command, "EXEC") == "Transaction discarded because of previous errors."
    )
    c.close()
