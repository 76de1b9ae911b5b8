"""Reply shapes a RESP3 session gets (the server encodes them; Redis 7.0 is the model)."""

import pytest

from stores.kv.replies import Map, SetReply


@pytest.fixture
def s3(session):
    session.protocol = 3
    return session


def run(session, *args):
    return session.execute([a if isinstance(a, bytes) else str(a).encode() for a in args])


def test_maps_sets_and_doubles(s3):
    run(s3, "HSET", "h", "f", "v")
    assert isinstance(run(s3, "HGETALL", "h"), Map)
    run(s3, "SADD", "s", "a")
    assert isinstance(run(s3, "SMEMBERS", "s"), SetReply)
    run(s3, "ZADD", "z", "1.5", "a", "2", "b")
    assert run(s3, "ZSCORE", "z", "a") == 1.5
    assert run(s3, "ZRANGE", "z", "0", "-1", "WITHSCORES") == [[b"a", 1.5], [b"b", 2.0]]
    assert run(s3, "ZREVRANGE", "z", "0", "0", "WITHSCORES") == [[b"b", 2.0]]
    assert run(s3, "ZPOPMIN", "z") == [b"a", 1.5]
    assert run(s3, "ZPOPMAX", "z", "1") == [[b"b", 2.0]]
    assert isinstance(run(s3, "CONFIG", "GET", "maxmemory"), Map)
    assert run(s3, "INCRBYFLOAT", "f", "1.5") == b"1.5"


def test_zscan_scores_are_strings_in_both_protocols(s3):
    run(s3, "ZADD", "z", "1.5", "a")
    assert run(s3, "ZSCAN", "z", "0") == [b"0", [b"a", b"1.5"]]


def test_engine_execute_uses_a_throwaway_session(engine):
    assert engine.execute([b"SET", b"k", b"v"], db=2) == "OK"
    assert engine.databases[2].data == {b"k": b"v"}
    assert len(engine.sessions) == 0
