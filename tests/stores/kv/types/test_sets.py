"""Set commands, identical on real Redis and the embedded engine."""

from tests.stores.kv.compat import NOT_INT, SYNTAX, WRONGTYPE, error_of


def test_sadd_srem_smembers(r):
    assert r.sadd("s", "a", "b", "a") == 2
    assert r.sadd("s", "b", "c") == 1
    assert r.smembers("s") == {b"a", b"b", b"c"}
    assert r.smembers("missing") == set()
    assert r.srem("s", "a", "zz") == 1
    assert r.scard("s") == 2
    assert r.sismember("s", "b") == 1
    assert r.sismember("s", "a") == 0
    assert r.smismember("s", ["a", "b", "c"]) == [0, 1, 1]
    assert r.smismember("missing", "a") == [0]
    assert r.srem("s", "b", "c") == 2
    assert r.exists("s") == 0
    assert r.scard("s") == 0


def test_spop_srandmember(r):
    assert r.spop("missing") is None
    assert r.spop("missing", 2) == []
    assert r.srandmember("missing") is None
    assert r.srandmember("missing", 2) == []
    r.sadd("s", *"abcde")
    popped = r.spop("s")
    assert popped in {b"a", b"b", b"c", b"d", b"e"}
    assert r.scard("s") == 4
    two = r.spop("s", 2)
    assert len(two) == 2 and r.scard("s") == 2
    assert popped not in r.smembers("s")
    assert r.spop("s", 0) == []
    assert len(r.spop("s", 10)) == 2
    assert r.exists("s") == 0
    r.sadd("t", *"abc")
    assert r.srandmember("t") in (b"a", b"b", b"c")
    assert sorted(r.srandmember("t", 5)) == [b"a", b"b", b"c"]
    assert len(r.srandmember("t", -6)) == 6
    assert r.srandmember("t", 0) == []
    assert error_of(r.spop, "t", -1) == "value is out of range, must be positive"
    assert error_of(r.execute_command, "SRANDMEMBER", "t", "x") == NOT_INT


def test_smove(r):
    r.sadd("a", "x", "y")
    assert r.smove("a", "b", "x") is True
    assert r.smove("a", "b", "zz") is False
    assert r.smove("missing", "b", "x") is False
    assert r.smembers("b") == {b"x"}
    assert r.smove("a", "a", "y") is True
    assert r.smove("a", "b", "y") is True
    assert r.exists("a") == 0
    r.set("str", "v")
    assert error_of(r.smove, "b", "str", "x") == WRONGTYPE


def test_set_algebra(r):
    r.sadd("a", "1", "2", "3")
    r.sadd("b", "2", "3", "4")
    r.sadd("c", "3", "5")
    assert r.sinter("a", "b") == {b"2", b"3"}
    assert r.sinter("a", "b", "c") == {b"3"}
    assert r.sinter("a", "missing") == set()
    assert r.sunion("a", "c") == {b"1", b"2", b"3", b"5"}
    assert r.sdiff("a", "b") == {b"1"}
    assert r.sdiff("a", "missing") == {b"1", b"2", b"3"}
    assert r.sdiff("missing", "a") == set()
    assert r.sinterstore("d", ["a", "b"]) == 2
    assert r.smembers("d") == {b"2", b"3"}
    assert r.sunionstore("d", ["a", "b"]) == 4
    assert r.sdiffstore("d", ["a", "b", "c"]) == 1
    assert r.sinterstore("d", ["a", "missing"]) == 0
    assert r.exists("d") == 0
    assert r.sintercard(2, ["a", "b"]) == 2
    assert r.sintercard(2, ["a", "b"], limit=1) == 1
    assert r.sintercard(1, ["missing"]) == 0
    assert error_of(r.execute_command, "SINTERCARD", "0", "a") == "numkeys should be greater than 0"
    assert (
        error_of(r.execute_command, "SINTERCARD", "3", "a")
        == "Number of keys can't be greater than number of args"
    )
    assert (
        error_of(r.execute_command, "SINTERCARD", "1", "a", "LIMIT", "-1")
        == "LIMIT can't be negative"
    )
    assert error_of(r.execute_command, "SINTERCARD", "1", "a", "FOO") == SYNTAX
    r.set("str", "v")
    assert error_of(r.sinter, "a", "str") == WRONGTYPE
    assert error_of(r.sunionstore, "d", ["str"]) == WRONGTYPE


def test_sscan(r):
    r.sadd("small", 1, 2, 3)
    assert r.sscan("small") == (0, [b"1", b"2", b"3"]) or set(r.sscan("small")[1]) == {
        b"1",
        b"2",
        b"3",
    }
    members = {f"m{i}".encode() for i in range(400)}
    r.sadd("big", *members)
    assert set(r.sscan_iter("big", count=50)) == members
    assert set(r.sscan_iter("big", match="m1?")) == {f"m1{i}".encode() for i in range(10)}
