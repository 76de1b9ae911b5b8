"""Key commands (DEL, EXPIRE, SCAN, RENAME, COPY ...), identical on Redis and the engine."""

import pytest

from tests.stores.kv.compat import NOT_INT, SYNTAX, WRONGTYPE, error_of


def test_del_unlink_exists_type(r):
    r.mset({"a": "1", "b": "2", "c": "3"})
    r.lpush("l", "x")
    r.hset("h", "f", "v")
    r.sadd("s", "m")
    r.zadd("z", {"m": 1})
    assert r.exists("a", "a", "missing") == 2
    assert [r.type(k) for k in ("a", "l", "h", "s", "z", "nope")] == [
        b"string",
        b"list",
        b"hash",
        b"set",
        b"zset",
        b"none",
    ]
    assert r.delete("a", "b", "missing") == 2
    assert r.unlink("c", "l") == 2
    assert r.exists("a", "b", "c", "l") == 0
    assert error_of(r.execute_command, "DEL") == "wrong number of arguments for 'del' command"


def test_expire_ttl_persist(r):
    assert r.expire("missing", 10) is False
    assert r.ttl("missing") == -2
    assert r.pttl("missing") == -2
    r.set("k", "v")
    assert r.ttl("k") == -1
    assert r.expire("k", 100) is True
    assert r.ttl("k") == 100
    assert 99000 < r.pttl("k") <= 100000
    assert r.pexpire("k", 50000) is True
    assert 49000 < r.pttl("k") <= 50000
    assert r.persist("k") is True
    assert r.persist("k") is False
    assert r.ttl("k") == -1
    assert r.expireat("k", 4102444800) is True
    assert r.expiretime("k") == 4102444800
    assert r.pexpiretime("k") == 4102444800000
    assert r.pexpireat("k", 4102444800123) is True
    assert r.pexpiretime("k") == 4102444800123
    assert r.expiretime("k") == 4102444800
    assert r.expiretime("missing") == -2
    r.set("p", "v")
    assert r.expiretime("p") == -1


def test_expire_in_the_past_deletes(r):
    r.set("k", "v")
    assert r.expire("k", -1) is True
    assert r.exists("k") == 0
    r.set("k", "v")
    assert r.expireat("k", 1) is True
    assert r.get("k") is None


def test_expire_options(r):
    r.set("k", "v")
    assert r.expire("k", 100, xx=True) is False
    assert r.expire("k", 100, gt=True) is False
    assert r.expire("k", 100, lt=True) is True
    assert r.expire("k", 200, nx=True) is False
    assert r.expire("k", 200, gt=True) is True
    assert r.ttl("k") == 200
    assert r.expire("k", 50, gt=True) is False
    assert r.expire("k", 50, lt=True) is True
    assert r.expire("k", 60, xx=True) is True
    assert r.ttl("k") == 60
    assert error_of(r.execute_command, "EXPIRE", "k", "10", "NX", "XX") == (
        "NX and XX, GT or LT options at the same time are not compatible"
    )
    assert error_of(r.execute_command, "EXPIRE", "k", "10", "GT", "LT") == (
        "GT and LT options at the same time are not compatible"
    )
    assert error_of(r.execute_command, "EXPIRE", "k", "10", "FOO") == "Unsupported option FOO"
    assert error_of(r.execute_command, "EXPIRE", "k", "ten") == NOT_INT
    assert (
        error_of(r.execute_command, "EXPIRE", "k", str(2**62))
        == "invalid expire time in 'expire' command"
    )
    assert (
        error_of(r.execute_command, "PEXPIRE", "k", str(2**63 - 1))
        == "invalid expire time in 'pexpire' command"
    )


def test_keys_and_patterns(r):
    r.mset({"user:1": "a", "user:2": "b", "user:10": "c", "post:1": "d", "h[x]": "e", "a*b": "f"})
    assert sorted(r.keys("*")) == sorted(
        [b"user:1", b"user:2", b"user:10", b"post:1", b"h[x]", b"a*b"]
    )
    assert sorted(r.keys("user:?")) == [b"user:1", b"user:2"]
    assert sorted(r.keys("user:*")) == [b"user:1", b"user:10", b"user:2"]
    assert sorted(r.keys("user:[12]")) == [b"user:1", b"user:2"]
    assert sorted(r.keys("user:[^1]")) == [b"user:2"]
    assert sorted(r.keys("user:[0-1]*")) == [b"user:1", b"user:10"]
    assert r.keys("h\\[x\\]") == [b"h[x]"]
    assert r.keys("a\\*b") == [b"a*b"]
    assert r.keys("nothing*") == []


def test_scan_terminates_and_covers_everything(r):
    names = {f"key:{i}".encode() for i in range(300)}
    r.mset({n: "v" for n in names})
    r.lpush("alist", "x")
    seen = []
    cursor = 0
    calls = 0
    while True:
        cursor, keys = r.scan(cursor, count=17)
        seen += keys
        calls += 1
        assert calls < 1000
        if cursor == 0:
            break
    assert set(seen) == names | {b"alist"}
    assert set(r.scan_iter(match="key:1*")) == {n for n in names if n.startswith(b"key:1")}
    assert set(r.scan_iter(_type="list")) == {b"alist"}
    assert set(r.scan_iter(_type="string", count=1000)) == names


def test_scan_errors(r):
    assert error_of(r.execute_command, "SCAN", "abc") == "invalid cursor"
    assert error_of(r.execute_command, "SCAN", "0", "COUNT", "0") == SYNTAX
    assert error_of(r.execute_command, "SCAN", "0", "COUNT", "x") == NOT_INT
    assert error_of(r.execute_command, "SCAN", "0", "BOGUS") == SYNTAX
    assert r.scan(0) == (0, [])


def test_rename_renamenx(r):
    assert error_of(r.rename, "missing", "x") == "no such key"
    r.set("a", "1", ex=100)
    r.set("b", "2")
    assert r.rename("a", "c") is True
    assert r.get("c") == b"1" and r.ttl("c") == 100 and r.exists("a") == 0
    assert r.renamenx("c", "b") is False
    assert r.renamenx("c", "d") is True
    assert r.rename("d", "b") is True
    assert r.get("b") == b"1"
    assert r.rename("b", "b") is True
    assert r.renamenx("b", "b") is False
    assert error_of(r.renamenx, "missing", "x") == "no such key"


def test_randomkey_dbsize_flush(r):
    assert r.randomkey() is None
    assert r.dbsize() == 0
    r.set("only", "1")
    assert r.randomkey() == b"only"
    r.mset({"a": "1", "b": "2"})
    assert r.dbsize() == 3
    assert r.randomkey() in (b"only", b"a", b"b")
    assert r.flushdb() is True
    assert r.dbsize() == 0
    r.set("x", "1")
    assert r.flushall(asynchronous=True) is True
    assert r.dbsize() == 0
    assert error_of(r.execute_command, "FLUSHDB", "LATER") == SYNTAX


def test_select_swapdb(r):
    assert error_of(r.execute_command, "SELECT", "16") == "DB index is out of range"
    assert error_of(r.execute_command, "SELECT", "x") == NOT_INT
    r.set("k", "in0")
    assert r.swapdb(0, 1) is True
    assert r.get("k") is None
    assert r.swapdb(0, 1) is True
    assert r.get("k") == b"in0"
    assert error_of(r.swapdb, 0, 99) == "DB index is out of range"
    assert error_of(r.execute_command, "SWAPDB", "x", "1") == "invalid first DB index"
    assert error_of(r.execute_command, "SWAPDB", "0", "y") == "invalid second DB index"


def test_copy(r):
    r.set("a", "1", ex=100)
    assert r.copy("a", "b") is True
    assert r.get("b") == b"1" and r.ttl("b") == 100
    assert r.copy("a", "b") is False
    r.set("a", "2")
    assert r.copy("a", "b", replace=True) is True
    assert r.get("b") == b"2" and r.ttl("b") == -1
    assert r.copy("missing", "c") is False
    r.rpush("l", "x", "y")
    assert r.copy("l", "l2") is True
    r.rpush("l2", "z")
    assert r.lrange("l", 0, -1) == [b"x", b"y"]
    assert r.copy("a", "a", destination_db=1) is True
    assert error_of(r.copy, "a", "a") == "source and destination objects are the same"
    r.zadd("z", {"m": 1})
    assert r.copy("z", "z2") is True
    r.zadd("z2", {"n": 2})
    assert r.zcard("z") == 1


def test_touch_object_memory(r):
    r.set("a", "1")
    assert r.touch("a", "b") == 1
    assert r.object("idletime", "a") == 0
    assert r.object("encoding", "missing") is None
    assert error_of(r.object, "freq", "a").startswith("An LFU maxmemory policy is not selected")
    assert error_of(r.execute_command, "OBJECT", "bogus", "a") == (
        "unknown subcommand 'bogus'. Try OBJECT HELP."
    )
    assert r.memory_usage("missing") is None
    small = r.memory_usage("a")
    r.set("b", "x" * 10000)
    assert isinstance(small, int) and small > 0
    assert r.memory_usage("b") > small + 9000
    r.hset("h", mapping={f"f{i}": "v" * 10 for i in range(200)})
    assert r.memory_usage("h", samples=0) > 200 * 10


@pytest.mark.parametrize(
    ("setup", "encoding"),
    [
        (lambda r: r.hset("k", "f", "v"), b"listpack"),
        (lambda r: r.hset("k", "f", "v" * 65), b"hashtable"),
        (lambda r: r.rpush("k", "a"), b"quicklist"),
        (lambda r: r.sadd("k", 1, 2), b"intset"),
        (lambda r: r.sadd("k", "a"), b"hashtable"),
        (lambda r: r.zadd("k", {"a": 1}), b"listpack"),
        (lambda r: r.zadd("k", {f"m{i}": i for i in range(129)}), b"skiplist"),
    ],
)
def test_object_encoding_of_collections(r, setup, encoding):
    setup(r)
    assert r.object("encoding", "k") == encoding


def test_wrongtype_is_never_silent(r):
    r.set("s", "v")
    for call in (
        lambda: r.lpush("s", "x"),
        lambda: r.hget("s", "f"),
        lambda: r.sadd("s", "m"),
        lambda: r.zadd("s", {"m": 1}),
    ):
        assert error_of(call) == WRONGTYPE


def test_unknown_command(r):
    assert error_of(r.execute_command, "NOSUCH", "a", "b") == (
        "unknown command 'NOSUCH', with args beginning with: 'a' 'b' "
    )
