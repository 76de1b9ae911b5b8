"""Edge cases across types, identical on real Redis and the embedded engine."""

from tests.stores.kv.compat import NOT_INT, SYNTAX, WRONGTYPE, error_of


def test_string_edges(r):
    assert r.set("k", "v", exat=4102444800) is True
    assert r.expiretime("k") == 4102444800
    assert r.set("k", "v", pxat=4102444800123) is True
    assert r.pexpiretime("k") == 4102444800123
    assert r.getex("k", exat=4102444801) == b"v"
    assert r.expiretime("k") == 4102444801
    assert r.msetnx({"x": "1"}) is True
    assert r.execute_command("MSETNX", "y", "1", "y", "2") == 1
    assert r.get("y") == b"2"
    r.set("e", "1e3")
    assert r.incrbyfloat("e", 0) == 1000.0
    assert r.get("e") == b"1000"
    r.set("neg", "-0.5")
    assert r.incrbyfloat("neg", 0.5) == 0.0
    assert r.get("neg") == b"0"
    assert r.getrange("k", 9223372036854775806, 9223372036854775807) == b""
    assert (
        error_of(r.execute_command, "GETRANGE", "k", "0")
        == "wrong number of arguments for 'getrange' command"
    )
    assert error_of(r.execute_command, "ECHO") == "wrong number of arguments for 'echo' command"
    assert (
        error_of(r.setrange, "k", 536870912, "x")
        == "string exceeds maximum allowed size (proto-max-bulk-len)"
    )


def test_key_edges(r):
    r.set("a", "1")
    assert r.delete("a", "a") == 1
    r.set("t", "1")
    r.set("keep", "1")
    assert r.pexpireat("t", 1) is True
    assert r.type("t") == b"none"
    assert r.exists("t", "keep") == 1
    r.set("k", "v", ex=100)
    r.set("k", "w", keepttl=True)
    assert r.ttl("k") == 100
    assert r.copy("k", "other", destination_db=2) is True
    assert r.copy("k", "other", destination_db=2) is False
    assert r.persist("missing") is False


def test_list_edges(r):
    r.rpush("l", *"abc")
    assert r.lrange("l", -1, -1) == [b"c"]
    assert r.lrange("l", 0, 9223372036854775807) == [b"a", b"b", b"c"]
    assert r.lrange("l", -9223372036854775808, 0) == [b"a"]
    assert r.lindex("l", 9223372036854775807) is None
    r.set("s", "v")
    assert error_of(r.linsert, "s", "before", "a", "x") == WRONGTYPE
    assert error_of(r.blmove, "s", "l", 0.01, "LEFT", "RIGHT") == WRONGTYPE
    assert error_of(r.rpoplpush, "l", "s") == WRONGTYPE
    assert r.lrange("l", 0, -1) == [b"a", b"b", b"c"]
    assert error_of(r.execute_command, "LRANGE", "l", "0", "x") == NOT_INT
    assert r.lrem("l", 0, "b") == 1
    assert r.lpos("l", "c", rank=-1, maxlen=1) == 1


def test_set_edges(r):
    r.sadd("a", "1", "2")
    r.set("str", "v")
    assert error_of(r.smove, "a", "str", "missing") == WRONGTYPE
    assert r.sinterstore("a", ["a", "a"]) == 2
    assert r.smembers("a") == {b"1", b"2"}
    assert r.sunionstore("a", ["a", "missing"]) == 2
    assert r.sdiffstore("a", ["a"]) == 2
    assert r.sismember("missing", "x") == 0


def test_zset_edges(r):
    assert r.zadd("z", {"a": 5}, gt=True) == 1
    assert r.zadd("z", {"b": 1}, lt=True) == 1
    assert r.zadd("z", {"a": "+inf", "c": "-inf"}) == 1
    assert r.zrangebyscore("z", "(-inf", "(+inf") == [b"b"]
    assert r.zrangebyscore("z", "-inf", "+inf", withscores=True) == [
        (b"c", float("-inf")),
        (b"b", 1.0),
        (b"a", float("inf")),
    ]
    assert r.zrangebyscore("z", "-inf", "+inf", start=1, num=-1) == [b"b", b"a"]
    assert r.zrangebyscore("z", "-inf", "+inf", start=-1, num=1) == []
    assert r.zremrangebyrank("z", -1, -1) == 1
    assert r.zpopmin("z", 0) == []
    assert r.zrandmember("z", 0) == []
    assert r.zscore("z", "a") is None
    r.zadd("lex", {m: 0 for m in "abcd"})
    assert r.zrangestore("dst", "lex", "[b", "[c", bylex=True) == 2
    assert r.zrange("dst", 0, -1) == [b"b", b"c"]
    assert r.zrangebylex("lex", "(a", "(a") == []
    assert r.zrangebylex("lex", "+", "-") == []
    assert r.zlexcount("lex", "-", "-") == 0
    r.sadd("set", "a", "x")
    assert r.zinterstore("out", {"lex": 2, "set": 3}) == 1
    assert r.zscore("out", "a") == 3.0
    assert r.zunionstore("out", ["set"], aggregate="min") == 2
    assert (
        error_of(r.execute_command, "ZRANGE", "z", "0", "-1", "REV", "BYSCORE", "BYLEX") == SYNTAX
    )
    assert r.zrange("lex", 0, -1, desc=True) == [b"d", b"c", b"b", b"a"]
    assert r.zrange("lex", "[c", "-", bylex=True, desc=True) == [b"c", b"b", b"a"]


def test_hash_edges(r):
    r.hset("h", mapping={"a": "1"})
    pairs = r.hrandfield("h", -3, withvalues=True)
    assert pairs == [b"a", b"1"] * 3
    assert r.hincrbyfloat("h", "a", -1) == 0.0
    assert r.hget("h", "a") == b"0"
    assert r.hexists("missing", "a") is False
    assert r.hstrlen("missing", "a") == 0


def test_random_counts_cannot_size_a_huge_reply(kv):
    import pytest
    import redis

    kv.sadd("s", "a")
    kv.hset("h", "f", "v")
    kv.zadd("z", {"m": 1})
    for call in (
        lambda: kv.srandmember("s", -(10**12)),
        lambda: kv.hrandfield("h", -(10**12)),
        lambda: kv.zrandmember("z", -(10**12)),
    ):
        with pytest.raises(redis.exceptions.ResponseError, match="value is out of range"):
            call()
    assert len(kv.srandmember("s", -1000)) == 1000
