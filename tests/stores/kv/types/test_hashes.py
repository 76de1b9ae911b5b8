"""Hash commands, identical on real Redis and the embedded engine."""

from tests.stores.kv.compat import NOT_INT, WRONGTYPE, error_of


def test_hset_hget_hgetall(r):
    assert r.hset("h", "a", "1") == 1
    assert r.hset("h", "a", "2") == 0
    assert r.hset("h", mapping={"b": "3", "c": "4"}) == 2
    assert r.hset("h", items=["d", "5"]) == 1
    assert r.hget("h", "a") == b"2"
    assert r.hget("h", "zz") is None
    assert r.hget("missing", "a") is None
    assert r.hgetall("h") == {b"a": b"2", b"b": b"3", b"c": b"4", b"d": b"5"}
    assert r.hgetall("missing") == {}
    assert r.hmget("h", ["a", "zz", "c"]) == [b"2", None, b"4"]
    assert r.hmget("missing", "a", "b") == [None, None]
    assert r.hmset("h", {"e": "6"}) is True
    assert (
        error_of(r.execute_command, "HSET", "h", "a")
        == "wrong number of arguments for 'hset' command"
    )
    assert (
        error_of(r.execute_command, "HSET", "h", "a", "1", "b")
        == "wrong number of arguments for 'hset' command"
    )


def test_hsetnx_hdel_hexists_hlen(r):
    assert r.hsetnx("h", "a", "1") == 1
    assert r.hsetnx("h", "a", "2") == 0
    assert r.hget("h", "a") == b"1"
    r.hset("h", "b", "2")
    assert r.hexists("h", "a") is True
    assert r.hexists("h", "zz") is False
    assert r.hlen("h") == 2
    assert r.hdel("h", "a", "zz") == 1
    assert r.hdel("h", "b") == 1
    assert r.exists("h") == 0
    assert r.hlen("h") == 0
    assert r.hdel("missing", "a") == 0


def test_hkeys_hvals_hstrlen(r):
    r.hset("h", mapping={"a": "xyz", "b": ""})
    assert sorted(r.hkeys("h")) == [b"a", b"b"]
    assert sorted(r.hvals("h")) == [b"", b"xyz"]
    assert r.hstrlen("h", "a") == 3
    assert r.hstrlen("h", "zz") == 0
    assert r.hkeys("missing") == [] and r.hvals("missing") == []


def test_hincrby_hincrbyfloat(r):
    assert r.hincrby("h", "n") == 1
    assert r.hincrby("h", "n", -11) == -10
    r.hset("h", "s", "abc")
    assert error_of(r.hincrby, "h", "s") == "hash value is not an integer"
    r.hset("h", "big", str(2**63 - 1))
    assert error_of(r.hincrby, "h", "big", 1) == "increment or decrement would overflow"
    assert error_of(r.execute_command, "HINCRBY", "h", "n", "x") == NOT_INT
    assert r.hincrbyfloat("h", "f", 10.5) == 10.5
    assert r.hincrbyfloat("h", "f", 0.1) == 10.6
    assert r.hget("h", "f") == b"10.6"
    assert error_of(r.hincrbyfloat, "h", "s", 1) == "hash value is not a float"
    assert (
        error_of(r.execute_command, "HINCRBYFLOAT", "h", "f", "x") == "value is not a valid float"
    )


def test_hrandfield(r):
    assert r.hrandfield("missing") is None
    assert r.hrandfield("missing", 3) == []
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hrandfield("h") in (b"a", b"b", b"c")
    assert sorted(r.hrandfield("h", 10)) == [b"a", b"b", b"c"]
    assert len(r.hrandfield("h", 2)) == 2
    assert len(set(r.hrandfield("h", 2))) == 2
    picked = r.hrandfield("h", -7)
    assert len(picked) == 7 and set(picked) <= {b"a", b"b", b"c"}
    pairs = r.hrandfield("h", 3, withvalues=True)
    assert len(pairs) == 6
    assert dict(zip(pairs[::2], pairs[1::2], strict=False)) == {b"a": b"1", b"b": b"2", b"c": b"3"}
    assert r.hrandfield("h", 0) == []


def test_hscan(r):
    r.hset("small", mapping={"a": "1", "b": "2"})
    cursor, data = r.hscan("small")
    assert cursor == 0 and data == {b"a": b"1", b"b": b"2"}
    big = {f"f{i}": str(i) for i in range(500)}
    r.hset("big", mapping=big)
    seen = dict(r.hscan_iter("big", count=33))
    assert seen == {k.encode(): v.encode() for k, v in big.items()}
    assert dict(r.hscan_iter("big", match="f1?")) == {
        f"f1{i}".encode(): f"1{i}".encode() for i in range(10)
    }
    assert r.hscan("missing") == (0, {})


def test_wrong_types(r):
    r.set("s", "v")
    for call in (
        lambda: r.hset("s", "a", "1"),
        lambda: r.hget("s", "a"),
        lambda: r.hgetall("s"),
        lambda: r.hlen("s"),
        lambda: r.hincrby("s", "a"),
        lambda: r.hscan("s"),
    ):
        assert error_of(call) == WRONGTYPE


def test_decoded_hash(rd):
    rd.hset("h", mapping={"ä": "ö"})
    assert rd.hgetall("h") == {"ä": "ö"}
    assert rd.hkeys("h") == ["ä"]


def test_hset_one_field_on_existing_volatile_and_wrong_keys(r):
    assert r.hset("h", "f", "1") == 1
    assert r.hset("h", "f", "2") == 0
    assert r.hset("h", "g", "3") == 1
    r.expire("h", 100)
    assert r.hset("h", "f", "4") == 0
    assert 99 <= r.ttl("h") <= 100
    assert r.hgetall("h") == {b"f": b"4", b"g": b"3"}
    r.lpush("l", "x")
    assert error_of(r.hset, "l", "f", "v") == WRONGTYPE
    assert error_of(r.execute_command, "HSET", "h", "f", "v", "odd") == (
        "wrong number of arguments for 'hset' command"
    )
