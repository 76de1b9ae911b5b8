"""String commands, identical on real Redis and the embedded engine."""

import pytest

from tests.stores.kv.compat import NOT_INT, SYNTAX, WRONGTYPE, error_of


def test_get_set_basic(r):
    assert r.get("missing") is None
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.set("k", b"\x00\xff") is True
    assert r.get("k") == b"\x00\xff"
    assert r.set("n", 12) and r.get("n") == b"12"
    assert r.set("f", 1.5) and r.get("f") == b"1.5"


def test_set_options(r):
    assert r.set("k", "1", nx=True) is True
    assert r.set("k", "2", nx=True) is None
    assert r.set("k", "3", xx=True) is True
    assert r.set("other", "3", xx=True) is None
    assert r.get("k") == b"3"
    assert r.set("k", "4", get=True) == b"3"
    assert r.set("new", "x", get=True) is None
    assert r.get("new") == b"x"
    assert r.set("k", "5", ex=100) is True
    assert 99 <= r.ttl("k") <= 100
    assert r.set("k", "6", keepttl=True) is True
    assert 99 <= r.ttl("k") <= 100
    assert r.set("k", "7") is True
    assert r.ttl("k") == -1
    assert r.set("k", "8", px=50000) and 49000 < r.pttl("k") <= 50000
    assert r.set("k", "9", nx=True, get=True) == b"8"


def test_set_errors(r):
    r.lpush("list", "a")
    assert error_of(r.set, "list", "x", get=True) == WRONGTYPE
    assert r.set("list", "x") is True
    assert error_of(r.execute_command, "SET", "k", "v", "NX", "XX") == SYNTAX
    assert error_of(r.execute_command, "SET", "k", "v", "EX", "10", "PX", "100") == SYNTAX
    assert error_of(r.execute_command, "SET", "k", "v", "EX") == SYNTAX
    assert error_of(r.execute_command, "SET", "k", "v", "BOGUS") == SYNTAX
    assert (
        error_of(r.execute_command, "SET", "k", "v", "EX", "0")
        == "invalid expire time in 'set' command"
    )
    assert (
        error_of(r.execute_command, "SET", "k", "v", "EX", "-5")
        == "invalid expire time in 'set' command"
    )
    assert error_of(r.execute_command, "SET", "k", "v", "EX", "abc") == NOT_INT
    assert error_of(r.execute_command, "SET", "k") == "wrong number of arguments for 'set' command"
    assert error_of(r.execute_command, "GET") == "wrong number of arguments for 'get' command"
    assert error_of(r.execute_command, "SET", "k", "v", "KEEPTTL", "EX", "5") == SYNTAX


def test_set_exat_in_the_past_deletes(r):
    r.set("k", "v")
    assert r.execute_command("SET", "k", "v2", "PXAT", "1") is True
    assert r.get("k") is None


def test_setnx_setex_psetex(r):
    assert r.setnx("k", "a") is True
    assert r.setnx("k", "b") is False
    assert r.setex("e", 100, "v") is True
    assert r.ttl("e") == 100
    assert r.psetex("p", 100000, "v") is True
    assert 99000 < r.pttl("p") <= 100000
    assert error_of(r.setex, "e", 0, "v") == "invalid expire time in 'setex' command"
    assert error_of(r.psetex, "e", -1, "v") == "invalid expire time in 'psetex' command"


def test_mget_mset_msetnx(r):
    assert r.mset({"a": "1", "b": "2"}) is True
    r.lpush("l", "x")
    assert r.mget("a", "b", "missing", "l") == [b"1", b"2", None, None]
    assert r.msetnx({"c": "3", "a": "9"}) is False
    assert r.get("c") is None
    assert r.msetnx({"c": "3", "d": "4"}) is True
    assert (
        error_of(r.execute_command, "MSET", "a", "1", "b")
        == "wrong number of arguments for 'mset' command"
    )


def test_getset_getdel_getex(r):
    assert r.getset("k", "1") is None
    assert r.getset("k", "2") == b"1"
    assert r.getdel("k") == b"2"
    assert r.getdel("k") is None
    r.set("k", "v")
    assert r.getex("k", ex=100) == b"v"
    assert r.ttl("k") == 100
    assert r.getex("k", persist=True) == b"v"
    assert r.ttl("k") == -1
    assert r.getex("k", px=5000) == b"v" and 4000 < r.pttl("k") <= 5000
    assert r.getex("missing", ex=10) is None
    r.hset("h", "f", "v")
    assert error_of(r.getex, "h") == WRONGTYPE
    assert error_of(r.getdel, "h") == WRONGTYPE
    assert error_of(r.execute_command, "GETEX", "k", "EX", "10", "PERSIST") == SYNTAX
    assert (
        error_of(r.execute_command, "GETEX", "k", "EX", "0")
        == "invalid expire time in 'getex' command"
    )


def test_append_strlen(r):
    assert r.append("k", "ab") == 2
    assert r.append("k", "cd") == 4
    assert r.get("k") == b"abcd"
    assert r.strlen("k") == 4
    assert r.strlen("missing") == 0
    r.sadd("s", "x")
    assert error_of(r.append, "s", "x") == WRONGTYPE
    assert error_of(r.strlen, "s") == WRONGTYPE


def test_incr_family(r):
    assert r.incr("c") == 1
    assert r.incr("c", 10) == 11
    assert r.decr("c") == 10
    assert r.decr("c", 20) == -10
    assert r.incrby("c", 5) == -5
    assert r.decrby("c", 5) == -10
    r.set("big", str(2**63 - 1))
    assert error_of(r.incr, "big") == "increment or decrement would overflow"
    r.set("small", str(-(2**63)))
    assert error_of(r.decr, "small") == "increment or decrement would overflow"
    for bad in ("abc", "1.5", " 1", "01", "+1", "", "99999999999999999999"):
        r.set("bad", bad)
        assert error_of(r.incr, "bad") == NOT_INT, bad
    r.lpush("l", "x")
    assert error_of(r.incr, "l") == WRONGTYPE
    assert error_of(r.execute_command, "INCRBY", "c", "x") == NOT_INT
    assert error_of(r.execute_command, "DECRBY", "c", str(-(2**63))) == "decrement would overflow"


def test_incr_keeps_ttl(r):
    r.set("c", "1", ex=100)
    r.incr("c")
    assert r.ttl("c") == 100


def test_incrbyfloat(r):
    assert r.incrbyfloat("f", 10.5) == 10.5
    assert r.get("f") == b"10.5"
    r.set("f", "10")
    assert r.incrbyfloat("f", 0.5) == 10.5
    assert r.get("f") == b"10.5"
    r.set("g", "0.1")
    r.incrbyfloat("g", 0.2)
    assert r.get("g") == b"0.3"
    r.set("h", "3")
    assert r.execute_command("INCRBYFLOAT", "h", "1.5e1") == 18.0
    assert r.get("h") == b"18"
    r.set("i", "5.0e3")
    r.incrbyfloat("i", 2)
    assert r.get("i") == b"5002"
    r.set("bad", "x")
    assert error_of(r.incrbyfloat, "bad", 1) == "value is not a valid float"
    assert error_of(r.execute_command, "INCRBYFLOAT", "f", "abc") == "value is not a valid float"
    assert (
        error_of(r.execute_command, "INCRBYFLOAT", "f", "inf")
        == "increment would produce NaN or Infinity"
    )
    r.lpush("l", "x")
    assert error_of(r.incrbyfloat, "l", 1) == WRONGTYPE


def test_getrange_setrange(r):
    r.set("k", "Hello World")
    assert r.getrange("k", 0, 4) == b"Hello"
    assert r.getrange("k", -5, -1) == b"World"
    assert r.getrange("k", 0, -1) == b"Hello World"
    assert r.getrange("k", 5, 2) == b""
    assert r.getrange("k", 0, 1000) == b"Hello World"
    assert r.getrange("k", -100, 2) == b"Hel"
    assert r.getrange("k", -1, -5) == b""
    assert r.getrange("missing", 0, 5) == b""
    assert r.setrange("k", 6, "Redis") == 11
    assert r.get("k") == b"Hello Redis"
    assert r.setrange("pad", 3, "x") == 4
    assert r.get("pad") == b"\x00\x00\x00x"
    assert r.setrange("empty", 5, "") == 0
    assert r.exists("empty") == 0
    assert r.setrange("k", 0, "") == 11
    assert error_of(r.setrange, "k", -1, "x") == "offset is out of range"
    r.sadd("s", "x")
    assert error_of(r.getrange, "s", 0, 1) == WRONGTYPE


@pytest.mark.parametrize(
    ("value", "encoding"),
    [
        ("0", b"int"),
        ("-1", b"int"),
        ("9223372036854775807", b"int"),
        ("01", b"embstr"),
        ("abc", b"embstr"),
        ("x" * 45, b"raw"),
    ],
)
def test_object_encoding_of_strings(r, value, encoding):
    r.set("k", value)
    assert r.object("encoding", "k") == encoding


def test_decode_responses(rd):
    rd.set("k", "välue")
    assert rd.get("k") == "välue"
    assert rd.mget("k", "x") == ["välue", None]
    assert rd.incrbyfloat("f", 1.5) == 1.5
    assert rd.set("k", "new", get=True) == "välue"


def test_incr_parses_every_stored_integer_form(r):
    for stored, expected in [
        ("9999", 10000),
        ("10000", 10001),
        ("-1025", -1024),
        ("-99999", -99998),
        ("123456789012345678", 123456789012345679),
        ("1234567890123456789", 1234567890123456790),
        ("-9223372036854775807", -9223372036854775806),
    ]:
        r.set("n", stored)
        assert r.incr("n") == expected, stored
        assert r.get("n") == str(expected).encode()
    for bad in ("-0", "007", "1e3", "12345678901234567890"):
        r.set("n", bad)
        assert error_of(r.incr, "n") == NOT_INT, bad
        assert r.get("n") == bad.encode()


def test_one_key_writes_touch_lru_and_lfu_data():
    # INCR, HSET, LPUSH and ZINCRBY on existing keys take a short path
    # under an LRU policy; both policies must still see the access.
    import stores.kv

    client = stores.kv.connect("memory:", background=False)
    try:
        client.set("n", "1")
        client.hset("h", "f", "v")
        client.lpush("l", "x")
        client.zadd("z", {"a": 1, "b": 2})
        ks = client.engine.databases[0]
        writes = [
            (b"n", lambda: client.incr("n")),
            (b"h", lambda: client.hset("h", "f", "w")),
            (b"l", lambda: client.lpush("l", "y")),
            (b"z", lambda: client.zincrby("z", 0.5, "a")),
        ]
        for key, write in writes:
            ks.access[key] = 0.0
            write()
            assert ks.access[key] > 0.0, key
        client.config_set("maxmemory-policy", "allkeys-lfu")
        for key, write in writes:
            before = ks.lfu_counter(key)
            for _ in range(200):
                write()
            assert ks.lfu_counter(key) > before, key
        assert client.incr("n") == 203
        assert client.llen("l") == 202
        assert client.zscore("z", "a") == 1 + 0.5 * 201
    finally:
        client.close()


def test_incr_of_interleaved_counters_and_copied_values(r):
    for i in range(1, 30):
        assert r.incr("a") == i
        assert r.incrby("b", 20000) == 20000 * i
    r.set("c", r.get("b"))  # the very text INCR stored last, on another key
    assert r.incr("c") == 20000 * 29 + 1
    assert r.incr("b") == 20000 * 29 + 1
    r.set("b", "x")
    assert error_of(r.incr, "b") == NOT_INT
    r.set("e", "")
    assert error_of(r.incr, "e") == NOT_INT
    assert r.decr("a") == 28
    assert r.mget("a", "b", "c") == [b"28", b"x", b"580001"]
