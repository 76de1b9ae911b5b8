"""Differential test: random command streams give identical raw replies on Redis and the engine.

A seeded stream of a few thousand commands over three keys and a handful
of values (so types collide and WRONGTYPE, empty keys and overflow happen
often) runs against a real redis-server and the embedded engine, with
redis-py's response callbacks removed so the raw RESP2 replies compare.
"""

import random

import pytest
import redis
from redis.exceptions import ResponseError

import stores.kv

KEYS = ["a", "b", "c"]
VALUES = ["1", "x", "-2", "3.5", "", "0", "10"]


def _stream(rng):
    def k():
        return rng.choice(KEYS)

    def v():
        return rng.choice(VALUES)

    def i():
        return str(rng.randint(-4, 4))

    generators = [
        lambda: ["SET", k(), v()], lambda: ["GET", k()], lambda: ["INCR", k()],
        lambda: ["INCRBYFLOAT", k(), v()], lambda: ["APPEND", k(), v()],
        lambda: ["GETRANGE", k(), i(), i()], lambda: ["SETRANGE", k(), str(rng.randint(0, 5)), v()],
        lambda: ["LPUSH", k(), v()], lambda: ["RPUSH", k(), v(), v()], lambda: ["LPOP", k()],
        lambda: ["RPOP", k(), str(rng.randint(0, 3))], lambda: ["LRANGE", k(), i(), i()],
        lambda: ["LINDEX", k(), i()], lambda: ["LSET", k(), i(), v()], lambda: ["LREM", k(), i(), v()],
        lambda: ["LTRIM", k(), i(), i()], lambda: ["LINSERT", k(), rng.choice(["BEFORE", "AFTER"]), v(), v()],
        lambda: ["LPOS", k(), v(), "RANK", rng.choice(["1", "-1", "2"]), "COUNT", str(rng.randint(0, 3))],
        lambda: ["LMOVE", k(), k(), rng.choice(["LEFT", "RIGHT"]), rng.choice(["LEFT", "RIGHT"])],
        lambda: ["HSET", k(), v(), v()], lambda: ["HGET", k(), v()], lambda: ["HDEL", k(), v()],
        lambda: ["HINCRBY", k(), v(), i()], lambda: ["HINCRBYFLOAT", k(), v(), v()], lambda: ["HLEN", k()],
        lambda: ["HSTRLEN", k(), v()], lambda: ["HMGET", k(), v(), v()],
        lambda: ["SADD", k(), v(), v()], lambda: ["SREM", k(), v()], lambda: ["SCARD", k()],
        lambda: ["SISMEMBER", k(), v()], lambda: ["SMOVE", k(), k(), v()],
        lambda: ["SINTERSTORE", k(), k(), k()], lambda: ["SUNIONSTORE", k(), k(), k()],
        lambda: ["SDIFFSTORE", k(), k(), k()], lambda: ["SINTERCARD", "2", k(), k()],
        lambda: ["ZADD", k(), v() or "1", v()],
        lambda: ["ZADD", k(), rng.choice(["GT", "LT", "NX", "XX", "CH"]), i(), v()],
        lambda: ["ZINCRBY", k(), v(), v()], lambda: ["ZSCORE", k(), v()], lambda: ["ZRANK", k(), v()],
        lambda: ["ZREVRANK", k(), v()], lambda: ["ZRANGE", k(), i(), i(), "WITHSCORES"],
        lambda: ["ZRANGE", k(), rng.choice(["-inf", "(0", "1", "-2"]), rng.choice(["+inf", "(3", "2"]), "BYSCORE", "LIMIT", str(rng.randint(0, 2)), i()],
        lambda: ["ZRANGE", k(), rng.choice(["-", "[1", "(x"]), rng.choice(["+", "[x", "(3"]), "BYLEX"],
        lambda: ["ZRANGE", k(), rng.choice(["+", "[x"]), rng.choice(["-", "[1"]), "BYLEX", "REV"],
        lambda: ["ZRANGE", k(), rng.choice(["+inf", "(3", "2"]), rng.choice(["-inf", "(0", "1"]), "BYSCORE", "REV", "WITHSCORES"],
        lambda: ["ZCOUNT", k(), rng.choice(["-inf", "(0", "1"]), rng.choice(["+inf", "(3", "2"])],
        lambda: ["ZLEXCOUNT", k(), "-", "+"], lambda: ["ZREM", k(), v()],
        lambda: ["ZREMRANGEBYRANK", k(), i(), i()], lambda: ["ZREMRANGEBYSCORE", k(), "-inf", i()],
        lambda: ["ZPOPMIN", k(), str(rng.randint(0, 2))], lambda: ["ZPOPMAX", k()],
        lambda: ["ZUNIONSTORE", k(), "2", k(), k(), "WEIGHTS", i(), i(), "AGGREGATE", rng.choice(["SUM", "MIN", "MAX"])],
        lambda: ["ZINTERSTORE", k(), "2", k(), k()], lambda: ["ZDIFFSTORE", k(), "2", k(), k()],
        lambda: ["ZUNION", "2", k(), k(), "WITHSCORES"], lambda: ["ZINTER", "2", k(), k(), "WITHSCORES"],
        lambda: ["ZDIFF", "2", k(), k(), "WITHSCORES"], lambda: ["ZRANGESTORE", k(), k(), i(), i()],
        lambda: ["ZMSCORE", k(), v(), v()],
        lambda: ["DEL", k()], lambda: ["EXISTS", k(), k()], lambda: ["TYPE", k()],
        lambda: ["RENAME", k(), k()], lambda: ["RENAMENX", k(), k()], lambda: ["COPY", k(), k()],
        lambda: ["EXPIRE", k(), str(rng.randint(50, 100)), rng.choice(["NX", "XX", "GT", "LT"])],
        lambda: ["TTL", k()], lambda: ["PERSIST", k()], lambda: ["STRLEN", k()], lambda: ["GETDEL", k()],
        lambda: ["GETSET", k(), v()], lambda: ["MSETNX", k(), v(), k(), v()], lambda: ["SETNX", k(), v()],
        lambda: ["DECRBY", k(), i()], lambda: ["LLEN", k()],
    ]  # fmt: skip
    while True:
        yield rng.choice(generators)()


@pytest.mark.redis_server
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_command_streams_match_redis(redis_server, seed):
    real_redis = redis.Redis(host=redis_server.host, port=redis_server.port, protocol=2)
    real_redis.flushall()
    real_redis.response_callbacks.clear()
    ours = stores.kv.connect("memory:", background=False)
    ours.response_callbacks.clear()
    mismatches = []
    try:
        stream = _stream(random.Random(seed))
        for _ in range(3000):
            args = next(stream)
            replies = []
            for client in (real_redis, ours):
                try:
                    replies.append(("ok", client.execute_command(*args)))
                except ResponseError as exc:
                    replies.append(("error", str(exc)))
            if replies[0] != replies[1]:
                mismatches.append((args, replies))
    finally:
        real_redis.flushall()
        real_redis.close()
        ours.close()
    assert mismatches[:5] == []
