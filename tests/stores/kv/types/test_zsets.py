"""Sorted set commands, identical on real Redis and the embedded engine."""

import pytest

from tests.stores.kv.compat import NOT_INT, SYNTAX, WRONGTYPE, error_of


@pytest.fixture
def z(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    return r


def test_zadd_options(r):
    assert r.zadd("z", {"a": 1, "b": 2}) == 2
    assert r.zadd("z", {"a": 5, "c": 3}) == 1
    assert r.zadd("z", {"a": 6, "d": 1}, ch=True) == 2
    assert r.zadd("z", {"a": 0, "e": 1}, nx=True) == 1
    assert r.zscore("z", "a") == 6.0
    assert r.zadd("z", {"a": 7, "f": 1}, xx=True) == 0
    assert r.zscore("z", "a") == 7.0 and r.zscore("z", "f") is None
    assert r.zadd("z", {"a": 3}, gt=True, ch=True) == 0
    assert r.zadd("z", {"a": 9}, gt=True, ch=True) == 1
    assert r.zadd("z", {"a": 10}, lt=True, ch=True) == 0
    assert r.zadd("z", {"a": 2, "new": 1}, lt=True, ch=True) == 2
    assert r.zadd("z", {"a": 1.5}, incr=True) == 3.5
    assert r.zadd("z", {"a": 1}, incr=True, nx=True) is None
    assert r.zadd("zz", {"a": 1}, xx=True) == 0
    assert r.exists("zz") == 0
    assert (
        error_of(r.execute_command, "ZADD", "z", "NX", "XX", "1", "a")
        == "XX and NX options at the same time are not compatible"
    )
    assert (
        error_of(r.execute_command, "ZADD", "z", "GT", "LT", "1", "a")
        == "GT, LT, and/or NX options at the same time are not compatible"
    )
    assert (
        error_of(r.execute_command, "ZADD", "z", "INCR", "1", "a", "2", "b")
        == "INCR option supports a single increment-element pair"
    )
    assert error_of(r.execute_command, "ZADD", "z", "1", "a", "2") == SYNTAX
    assert error_of(r.execute_command, "ZADD", "z", "x", "a") == "value is not a valid float"
    assert error_of(r.execute_command, "ZADD", "z", "nan", "a") == "value is not a valid float"
    r.zadd("inf", {"a": "inf"})
    assert (
        error_of(r.zadd, "inf", {"a": "-inf"}, incr=True) == "resulting score is not a number (NaN)"
    )


def test_zincrby_zscore_formatting(r):
    assert r.zincrby("z", 1.1, "a") == 1.1
    assert r.execute_command("ZSCORE", "z", "a") == 1.1
    r.zadd("raw", {"a": 1.1, "b": 0.1 + 0.2, "c": 1e20, "d": "inf", "e": 3, "f": "-inf"})
    raw = dict(r.zrange("raw", 0, -1, withscores=True, score_cast_func=lambda text: text))
    assert raw == {
        b"f": b"-inf",
        b"b": b"0.30000000000000004",
        b"a": b"1.1000000000000001",
        b"e": b"3",
        b"c": b"1e+20",
        b"d": b"inf",
    }
    assert r.zincrby("raw", 0.5, "e") == 3.5
    assert r.zmscore("raw", ["a", "missing", "e"]) == [1.1, None, 3.5]
    assert r.zmscore("missing", ["a"]) == [None]
    assert error_of(r.zincrby, "raw", "x", "a") == "value is not a valid float"


def test_zcard_zcount_zlexcount(z):
    assert z.zcard("z") == 5 and z.zcard("missing") == 0
    assert z.zcount("z", 2, 4) == 3
    assert z.zcount("z", "(2", "(4") == 1
    assert z.zcount("z", "-inf", "+inf") == 5
    assert z.zcount("z", 10, 20) == 0
    assert error_of(z.zcount, "z", "x", 1) == "min or max is not a float"
    z.zadd("lex", {m: 0 for m in "abcdefg"})
    assert z.zlexcount("lex", "-", "+") == 7
    assert z.zlexcount("lex", "[b", "[d") == 3
    assert z.zlexcount("lex", "(b", "(d") == 1
    assert z.zlexcount("lex", "[x", "+") == 0
    assert error_of(z.zlexcount, "lex", "b", "[d") == "min or max not valid string range item"


def test_zrange_by_rank(z):
    assert z.zrange("z", 0, -1) == [b"a", b"b", b"c", b"d", b"e"]
    assert z.zrange("z", 1, 2, withscores=True) == [(b"b", 2.0), (b"c", 3.0)]
    assert z.zrange("z", -2, -1) == [b"d", b"e"]
    assert z.zrange("z", 3, 1) == []
    assert z.zrange("z", 10, 20) == []
    assert z.zrange("z", 0, 1, desc=True) == [b"e", b"d"]
    assert z.zrevrange("z", 0, 9, withscores=True) == [
        (b"e", 5.0),
        (b"d", 4.0),
        (b"c", 3.0),
        (b"b", 2.0),
        (b"a", 1.0),
    ]
    assert z.zrevrange("z", -2, -1) == [b"b", b"a"]
    assert z.zrevrange("missing", 0, 9) == []
    assert z.zrange("z", 0, 1, withscores=True, score_cast_func=int) == [(b"a", 1), (b"b", 2)]


def test_zrange_byscore_bylex_rev_limit(z):
    assert z.zrange("z", 2, 4, byscore=True) == [b"b", b"c", b"d"]
    assert z.zrange("z", "(2", "+inf", byscore=True) == [b"c", b"d", b"e"]
    assert z.zrange("z", 4, 2, byscore=True, desc=True) == [b"d", b"c", b"b"]
    assert z.zrange("z", "+inf", "-inf", byscore=True, desc=True, offset=1, num=2) == [b"d", b"c"]
    assert z.zrange("z", "-inf", "+inf", byscore=True, offset=1, num=2, withscores=True) == [
        (b"b", 2.0),
        (b"c", 3.0),
    ]
    assert z.zrange("z", "-inf", "+inf", byscore=True, offset=4, num=10) == [b"e"]
    assert z.zrange("z", "-inf", "+inf", byscore=True, offset=0, num=-1) == [
        b"a",
        b"b",
        b"c",
        b"d",
        b"e",
    ]
    assert z.zrange("z", "-inf", "+inf", byscore=True, offset=9, num=1) == []
    z.zadd("lex", {m: 0 for m in "abcdefg"})
    assert z.zrange("lex", "[b", "(e", bylex=True) == [b"b", b"c", b"d"]
    assert z.zrange("lex", "(e", "[b", bylex=True, desc=True) == [b"d", b"c", b"b"]
    assert z.zrange("lex", "-", "+", bylex=True, offset=2, num=2) == [b"c", b"d"]
    assert z.zrange("lex", "+", "-", bylex=True, desc=True, offset=1, num=3) == [b"f", b"e", b"d"]
    assert error_of(z.execute_command, "ZRANGE", "z", "0", "1", "LIMIT", "0", "1") == (
        "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    )
    assert error_of(z.execute_command, "ZRANGE", "lex", "-", "+", "BYLEX", "WITHSCORES") == (
        "syntax error, WITHSCORES not supported in combination with BYLEX"
    )
    assert error_of(z.execute_command, "ZRANGE", "z", "0", "1", "BOGUS") == SYNTAX
    assert error_of(z.execute_command, "ZRANGE", "z", "a", "1") == NOT_INT


def test_old_range_variants(z):
    assert z.zrangebyscore("z", 2, 3) == [b"b", b"c"]
    assert z.zrangebyscore("z", "-inf", "+inf", start=1, num=2, withscores=True) == [
        (b"b", 2.0),
        (b"c", 3.0),
    ]
    assert z.zrevrangebyscore("z", 4, 2) == [b"d", b"c", b"b"]
    assert z.zrevrangebyscore("z", "+inf", "-inf", start=0, num=2) == [b"e", b"d"]
    z.zadd("lex", {m: 0 for m in "abcde"})
    assert z.zrangebylex("lex", "[b", "[d") == [b"b", b"c", b"d"]
    assert z.zrangebylex("lex", "-", "+", start=1, num=2) == [b"b", b"c"]
    assert z.zrevrangebylex("lex", "[d", "[b") == [b"d", b"c", b"b"]
    assert z.zrevrangebylex("lex", "+", "-", start=0, num=1) == [b"e"]
    assert (
        error_of(z.execute_command, "ZRANGEBYSCORE", "z", "1", "2", "WITHSCORES", "FOO") == SYNTAX
    )


def test_zrangestore(z):
    assert z.zrangestore("dst", "z", 0, 1) == 2
    assert z.zrange("dst", 0, -1, withscores=True) == [(b"a", 1.0), (b"b", 2.0)]
    assert z.zrangestore("dst", "z", 4, 2, byscore=True, desc=True) == 3
    assert z.zrangestore("dst", "z", 10, 20) == 0
    assert z.exists("dst") == 0


def test_zrank_zrem(z):
    assert z.zrank("z", "a") == 0 and z.zrank("z", "e") == 4
    assert z.zrevrank("z", "a") == 4
    assert z.zrank("z", "zz") is None and z.zrank("missing", "a") is None
    assert z.zrem("z", "a", "zz") == 1
    assert z.zrank("z", "b") == 0
    assert z.zremrangebyrank("z", 0, 0) == 1
    assert z.zremrangebyscore("z", "(3", 4) == 1
    assert z.zrange("z", 0, -1) == [b"c", b"e"]
    z.zadd("lex", {m: 0 for m in "abcde"})
    assert z.zremrangebylex("lex", "[b", "(d") == 2
    assert z.zrange("lex", 0, -1) == [b"a", b"d", b"e"]
    assert z.zremrangebyrank("lex", 0, -1) == 3
    assert z.exists("lex") == 0


def test_zpop(z):
    assert z.zpopmin("z") == [(b"a", 1.0)]
    assert z.zpopmax("z", 2) == [(b"e", 5.0), (b"d", 4.0)]
    assert z.zpopmin("z", 10) == [(b"b", 2.0), (b"c", 3.0)]
    assert z.exists("z") == 0
    assert z.zpopmin("z") == []
    assert error_of(z.zpopmin, "z", -1) == "value is out of range, must be positive"
    z.zadd("y", {"a": 1})
    assert z.bzpopmin(["missing", "y"], timeout=1) == (b"y", b"a", 1.0)
    assert z.bzpopmax(["y"], timeout=0.01) is None


def test_zunion_zinter_zdiff(r):
    r.zadd("a", {"x": 1, "y": 2, "z": 3})
    r.zadd("b", {"y": 10, "z": 20, "w": 30})
    r.sadd("s", "x", "w")
    assert r.zunion(["a", "b"], withscores=True) == [
        (b"x", 1.0),
        (b"y", 12.0),
        (b"z", 23.0),
        (b"w", 30.0),
    ]
    assert r.zinter(["a", "b"], withscores=True) == [(b"y", 12.0), (b"z", 23.0)]
    assert r.zinter(["a", "b"], aggregate="MIN", withscores=True) == [(b"y", 2.0), (b"z", 3.0)]
    assert r.zinter(["a", "b"], aggregate="MAX", withscores=True) == [(b"y", 10.0), (b"z", 20.0)]
    assert r.zinter({"a": 2, "b": 0.5}, withscores=True) == [(b"y", 9.0), (b"z", 16.0)]
    assert r.zdiff(["a", "b"], withscores=True) == [b"x", b"1"]
    assert r.zdiff(["a", "missing"]) == [b"x", b"y", b"z"]
    assert r.zunion(["a", "s"], withscores=True) == [
        (b"w", 1.0),
        (b"x", 2.0),
        (b"y", 2.0),
        (b"z", 3.0),
    ]
    assert r.zunionstore("dst", {"a": 1, "b": 2}) == 4
    assert r.zrange("dst", 0, -1, withscores=True) == [
        (b"x", 1.0),
        (b"y", 22.0),
        (b"z", 43.0),
        (b"w", 60.0),
    ]
    assert r.zinterstore("dst", ["a", "b"], aggregate="MAX") == 2
    assert r.zdiffstore("dst", ["a", "b"]) == 1
    assert r.zinterstore("dst", ["a", "missing"]) == 0
    assert r.exists("dst") == 0
    assert (
        error_of(r.execute_command, "ZUNIONSTORE", "dst", "0", "a")
        == "at least 1 input key is needed for 'zunionstore' command"
    )
    assert error_of(r.execute_command, "ZUNION", "3", "a") == SYNTAX
    assert error_of(r.execute_command, "ZUNION", "1", "a", "AGGREGATE", "AVG") == SYNTAX
    assert (
        error_of(r.execute_command, "ZUNION", "1", "a", "WEIGHTS", "x")
        == "weight value is not a float"
    )
    assert error_of(r.execute_command, "ZDIFF", "1", "a", "WEIGHTS", "1") == SYNTAX
    r.set("str", "v")
    assert error_of(r.zunion, ["a", "str"]) == WRONGTYPE


def test_zunionstore_inf_weights(r):
    r.zadd("a", {"x": "inf"})
    r.zadd("b", {"x": "-inf"})
    assert r.zunionstore("dst", ["a", "b"]) == 1
    assert r.zscore("dst", "x") == 0.0
    assert r.zunionstore("dst", {"a": 0}) == 1
    assert r.zscore("dst", "x") == 0.0


def test_zrandmember_zscan(z):
    assert z.zrandmember("missing") is None
    assert z.zrandmember("missing", 2) == []
    assert z.zrandmember("z") in [b"a", b"b", b"c", b"d", b"e"]
    assert sorted(z.zrandmember("z", 10)) == [b"a", b"b", b"c", b"d", b"e"]
    assert len(z.zrandmember("z", -8)) == 8
    pairs = z.zrandmember("z", 5, withscores=True)
    assert len(pairs) == 10
    cursor, data = z.zscan("z")
    assert cursor == 0 and sorted(data) == [
        (b"a", 1.0),
        (b"b", 2.0),
        (b"c", 3.0),
        (b"d", 4.0),
        (b"e", 5.0),
    ]
    z.zadd("big", {f"m{i}": i for i in range(300)})
    assert dict(z.zscan_iter("big", count=20)) == {f"m{i}".encode(): float(i) for i in range(300)}


def test_wrong_types(r):
    r.set("s", "v")
    for call in (
        lambda: r.zadd("s", {"a": 1}),
        lambda: r.zscore("s", "a"),
        lambda: r.zrange("s", 0, 1),
        lambda: r.zincrby("s", 1, "a"),
        lambda: r.zrevrange("s", 0, 1),
    ):
        assert error_of(call) == WRONGTYPE


def test_decoded_zrange(rd):
    rd.zadd("z", {"ä": 1.5})
    assert rd.zrange("z", 0, -1, withscores=True) == [("ä", 1.5)]
    assert rd.zrevrange("z", 0, 9, withscores=True) == [("ä", 1.5)]
    assert rd.zscore("z", "ä") == 1.5


def test_large_sorted_set_past_the_flat_limit(r):
    r.zadd("big", {f"m{i:05d}": i % 1000 for i in range(5000)})
    assert r.zcard("big") == 5000
    assert r.zrange("big", 0, 2) == [b"m00000", b"m01000", b"m02000"]
    assert r.zrevrange("big", 0, 1, withscores=True) == [(b"m04999", 999.0), (b"m03999", 999.0)]
    assert r.zrank("big", "m01000") == 1
    assert r.zcount("big", 10, "(12") == 10
    assert r.zincrby("big", 5000, "m00000") == 5000.0
    assert r.zrevrank("big", "m00000") == 0
    assert r.zremrangebyscore("big", 0, 9) == 49
    assert r.zrangebyscore("big", 10, 10, start=0, num=2) == [b"m00010", b"m01010"]
    assert r.zpopmax("big") == [(b"m00000", 5000.0)]
    assert r.zremrangebyrank("big", 0, 99) == 100
    assert r.zcard("big") == 4850


def test_zincrby_keeps_ranks_and_ties_in_order(r):
    # Small increments keep a member's rank (updated in place), larger ones
    # move it; equal scores order by member either way.
    r.zadd("lb", {f"m{i:02d}": i for i in range(20)})
    steps = [(5, 1), (5, 0.5), (7, 1), (0, 30), (19, -25), (3, 2), (4, 1), (10, 0)]
    for member, amount in steps * 3:
        r.zincrby("lb", amount, f"m{member:02d}")
        ranked = r.zrange("lb", 0, -1, withscores=True)
        assert ranked == sorted(ranked, key=lambda pair: (pair[1], pair[0]))
    assert r.zrevrange("lb", 0, 2, withscores=True) == r.zrange("lb", -3, -1, withscores=True)[::-1]
    assert r.zrank("lb", "m05") == [m for m, _ in r.zrange("lb", 0, -1, withscores=True)].index(
        b"m05"
    )


def test_zincrby_new_member_and_zero(r):
    assert r.zincrby("nz", 0, "m") == 0.0
    assert r.zincrby("nz", 2, "n") == 2.0
    assert r.zincrby("nz", -2, "n") == 0.0
    assert r.zrange("nz", 0, -1, withscores=True) == [(b"m", 0.0), (b"n", 0.0)]


def test_zrevrange_index_edges(z):
    cases = [(0, 0), (0, 4), (0, 99), (2, 1), (5, 9), (4, 4), (-1, -1), (-99, 1), (1, -2), (-3, 99)]
    expected_members = [b"e", b"d", b"c", b"b", b"a"]
    for start, stop in cases:
        members = z.zrevrange("z", start, stop)
        size = len(expected_members)
        lo = max(start + size if start < 0 else start, 0)
        hi = min(stop + size if stop < 0 else stop, size - 1)
        assert members == expected_members[lo : hi + 1], (start, stop)
        scored = z.zrevrange("z", start, stop, withscores=True)
        assert [m for m, _ in scored] == members


def test_zincrby_after_other_writes_shift_the_ranks(r):
    # Round-robin steps (ranks kept, so the embedded engine remembers where
    # each member is), then inserts and removals shift every rank: each
    # later step must still find its member and keep the order.
    model = {f"m{i:03d}": float(i) for i in range(60)}
    r.zadd("lb", model)
    for round_number in range(3):
        for i in range(0, 60, 3):
            member = f"m{i:03d}"
            model[member] += 1
            assert r.zincrby("lb", 1, member) == model[member]
        low = {f"a{round_number}{i}": -1.0 - i for i in range(5)}
        r.zadd("lb", low)
        model.update(low)
        gone = [f"m{i:03d}" for i in range(round_number, 60, 7)]
        r.zrem("lb", *gone)
        for member in gone:
            del model[member]
        for member in gone:  # removed members come back as new ones
            assert r.zincrby("lb", 2, member) == 2.0
            model[member] = 2.0
    expected = sorted(((m.encode(), s) for m, s in model.items()), key=lambda p: (p[1], p[0]))
    assert r.zrange("lb", 0, -1, withscores=True) == expected


def test_zincrby_to_zero_nan_and_on_a_volatile_key(r):
    r.zadd("z", {"a": 1, "b": 2})
    assert r.zincrby("z", -1, "a") == 0.0
    assert r.zscore("z", "a") == 0.0
    r.zadd("inf", {"x": float("inf")})
    assert error_of(r.zincrby, "inf", float("-inf"), "x").startswith("resulting score is not a")
    assert r.zscore("inf", "x") == float("inf")
    r.expire("z", 100)
    assert r.zincrby("z", 1.5, "b") == 3.5
    assert 99 <= r.ttl("z") <= 100
    r.set("s", "x")
    assert error_of(r.zincrby, "s", 1, "a") == WRONGTYPE


def test_zincrby_rank_hints_stay_bounded_and_are_only_hints():
    import stores.kv

    client = stores.kv.connect("memory:", background=False)
    try:
        client.zadd("lb", {f"m{i:03d}": i * 10 for i in range(100)})
        for i in range(100):
            client.zincrby("lb", 1, f"m{i:03d}")
        zset = client.engine.databases[0].data[b"lb"]
        assert zset.rank_hints and all(
            zset.sl[index][1] == member for member, index in zset.rank_hints.items()
        )
        client.zrem("lb", *[f"m{i:03d}" for i in range(0, 100, 2)])
        client.zadd("lb", {f"n{i:03d}": -i for i in range(30)})  # shifts every hint
        for i in range(1, 100, 2):
            assert client.zincrby("lb", 1, f"m{i:03d}") == i * 10 + 2
        assert len(zset.rank_hints) <= len(zset.members)
        pairs = client.zrange("lb", 0, -1, withscores=True)
        assert pairs == sorted(pairs, key=lambda p: (p[1], p[0]))
    finally:
        client.close()
