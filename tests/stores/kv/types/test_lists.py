"""List commands, identical on real Redis and the embedded engine."""

from tests.stores.kv.compat import NOT_INT, SYNTAX, WRONGTYPE, error_of


def test_push_pop(r):
    assert r.lpush("l", "a", "b") == 2
    assert r.rpush("l", "c") == 3
    assert r.lrange("l", 0, -1) == [b"b", b"a", b"c"]
    assert r.lpushx("missing", "x") == 0
    assert r.rpushx("missing", "x") == 0
    assert r.exists("missing") == 0
    assert r.lpushx("l", "z") == 4
    assert r.rpushx("l", "y") == 5
    assert r.lpop("l") == b"z"
    assert r.rpop("l") == b"y"
    assert r.lpop("l", 2) == [b"b", b"a"]
    assert r.rpop("l", 5) == [b"c"]
    assert r.exists("l") == 0
    assert r.lpop("l") is None
    assert r.lpop("l", 2) is None
    r.rpush("l", "a")
    assert r.lpop("l", 0) == []
    assert error_of(r.lpop, "l", -1) == "value is out of range, must be positive"


def test_llen_lrange_lindex(r):
    r.rpush("l", *"abcdef")
    assert r.llen("l") == 6
    assert r.llen("missing") == 0
    assert r.lrange("l", 1, 2) == [b"b", b"c"]
    assert r.lrange("l", -2, -1) == [b"e", b"f"]
    assert r.lrange("l", -100, 100) == [bytes([c]) for c in b"abcdef"]
    assert r.lrange("l", 4, 2) == []
    assert r.lrange("l", 10, 20) == []
    assert r.lrange("missing", 0, -1) == []
    assert r.lindex("l", 0) == b"a"
    assert r.lindex("l", -1) == b"f"
    assert r.lindex("l", 6) is None
    assert r.lindex("l", -7) is None
    assert error_of(r.lindex, "l", "x") == NOT_INT


def test_lset_linsert(r):
    assert error_of(r.lset, "missing", 0, "x") == "no such key"
    r.rpush("l", "a", "b", "c")
    assert r.lset("l", 1, "B") is True
    assert r.lset("l", -1, "C") is True
    assert error_of(r.lset, "l", 3, "x") == "index out of range"
    assert r.linsert("l", "before", "B", "x") == 4
    assert r.linsert("l", "AFTER", "C", "y") == 5
    assert r.linsert("l", "after", "zz", "y") == -1
    assert r.linsert("missing", "after", "a", "y") == 0
    assert r.lrange("l", 0, -1) == [b"a", b"x", b"B", b"C", b"y"]
    assert error_of(r.execute_command, "LINSERT", "l", "MIDDLE", "a", "b") == SYNTAX


def test_lrem_ltrim(r):
    r.rpush("l", *"abacada")
    assert r.lrem("l", 2, "a") == 2
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a", b"d", b"a"]
    assert r.lrem("l", -1, "a") == 1
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a", b"d"]
    assert r.lrem("l", 0, "zz") == 0
    assert r.lrem("l", 0, "a") == 1
    assert r.ltrim("l", 1, -1) is True
    assert r.lrange("l", 0, -1) == [b"c", b"d"]
    assert r.ltrim("l", 5, 10) is True
    assert r.exists("l") == 0
    assert r.ltrim("missing", 0, 1) is True
    r.rpush("m", *"abcdef")
    r.ltrim("m", -3, -2)
    assert r.lrange("m", 0, -1) == [b"d", b"e"]


def test_lpos(r):
    r.rpush("l", *"abcbcbd")
    assert r.lpos("l", "b") == 1
    assert r.lpos("l", "b", rank=2) == 3
    assert r.lpos("l", "b", rank=-1) == 5
    assert r.lpos("l", "b", rank=-2) == 3
    assert r.lpos("l", "b", count=0) == [1, 3, 5]
    assert r.lpos("l", "b", count=2) == [1, 3]
    assert r.lpos("l", "b", count=2, rank=-1) == [5, 3]
    assert r.lpos("l", "b", maxlen=1) is None
    assert r.lpos("l", "b", maxlen=2) == 1
    assert r.lpos("l", "b", count=0, maxlen=4) == [1, 3]
    assert r.lpos("l", "zz") is None
    assert r.lpos("l", "zz", count=3) == []
    assert r.lpos("missing", "a") is None
    assert r.lpos("missing", "a", count=1) == []
    assert error_of(r.lpos, "l", "b", rank=0).startswith("RANK can't be zero")
    assert error_of(r.lpos, "l", "b", count=-1) == "COUNT can't be negative"
    assert error_of(r.lpos, "l", "b", maxlen=-1) == "MAXLEN can't be negative"
    assert error_of(r.execute_command, "LPOS", "l", "b", "RANK") == SYNTAX


def test_lmove_rpoplpush(r):
    r.rpush("a", "1", "2", "3")
    assert r.lmove("a", "b", "LEFT", "RIGHT") == b"1"
    assert r.lmove("a", "b", "RIGHT", "LEFT") == b"3"
    assert r.lrange("b", 0, -1) == [b"3", b"1"]
    assert r.rpoplpush("a", "b") == b"2"
    assert r.exists("a") == 0
    assert r.rpoplpush("a", "b") is None
    assert r.lmove("b", "b", "LEFT", "RIGHT") == b"2"
    assert r.lrange("b", 0, -1) == [b"3", b"1", b"2"]
    r.set("s", "x")
    assert error_of(r.lmove, "b", "s") == WRONGTYPE
    assert r.lrange("b", 0, -1) == [b"3", b"1", b"2"]
    assert error_of(r.execute_command, "LMOVE", "b", "c", "UP", "LEFT") == SYNTAX


def test_blocking_pops_when_data_is_there(r):
    r.rpush("l", "a", "b")
    assert r.blpop(["empty", "l"], timeout=1) == (b"l", b"a")
    assert r.brpop(["l"], timeout=1) == (b"l", b"b")
    assert r.blpop(["l"], timeout=0.01) is None
    r.rpush("l", "x")
    assert r.blmove("l", "m", 1, "LEFT", "RIGHT") == b"x"
    assert r.blmove("l", "m", 0.01, "LEFT", "RIGHT") is None
    assert r.brpoplpush("m", "n", 1) == b"x"
    assert error_of(r.blpop, ["l"], timeout=-1) == "timeout is negative"
    assert (
        error_of(r.execute_command, "BLPOP", "l", "abc") == "timeout is not a float or out of range"
    )


def test_wrong_types(r):
    r.set("s", "v")
    for call in (
        lambda: r.lpush("s", "a"),
        lambda: r.lrange("s", 0, 1),
        lambda: r.llen("s"),
        lambda: r.lpop("s"),
        lambda: r.lpos("s", "a"),
    ):
        assert error_of(call) == WRONGTYPE


def test_lpush_one_element_on_existing_volatile_and_wrong_keys(r):
    assert r.lpush("l", "a") == 1
    assert r.lpush("l", "b") == 2
    r.expire("l", 100)
    assert r.lpush("l", "c") == 3
    assert 99 <= r.ttl("l") <= 100
    assert r.lrange("l", 0, -1) == [b"c", b"b", b"a"]
    r.set("s", "x")
    assert error_of(r.lpush, "s", "y") == WRONGTYPE
    r.hset("h", "f", "v")
    assert error_of(r.lpush, "h", "y") == WRONGTYPE
    assert r.lpush("l", "d", "e") == 5
    assert r.lrange("l", 0, 1) == [b"e", b"d"]
