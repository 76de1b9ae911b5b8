"""The command table: every command of issue 3, with Redis 7.0's arity and key positions."""

import pytest

from stores.kv.commands import COMMANDS, all_commands, lookup

ISSUE_COMMANDS = """
GET SET SETNX SETEX PSETEX MGET MSET MSETNX GETSET GETDEL GETEX APPEND STRLEN INCR INCRBY
INCRBYFLOAT DECR DECRBY GETRANGE SETRANGE
DEL UNLINK EXISTS TYPE EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME
PERSIST KEYS SCAN RENAME RENAMENX RANDOMKEY DBSIZE FLUSHDB FLUSHALL SELECT SWAPDB COPY TOUCH
OBJECT MEMORY
HSET HSETNX HGET HMGET HMSET HGETALL HDEL HEXISTS HLEN HKEYS HVALS HSTRLEN HINCRBY
HINCRBYFLOAT HSCAN HRANDFIELD
LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE
RPOPLPUSH BLPOP BRPOP BLMOVE
SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE SINTER SUNION SDIFF
SINTERSTORE SUNIONSTORE SDIFFSTORE SINTERCARD SSCAN
ZADD ZINCRBY ZSCORE ZMSCORE ZCARD ZCOUNT ZLEXCOUNT ZRANGE ZRANGESTORE ZREVRANGE
ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX ZRANK ZREVRANK ZREM
ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX ZPOPMIN ZPOPMAX ZUNION ZINTER ZDIFF
ZUNIONSTORE ZINTERSTORE ZDIFFSTORE ZRANDMEMBER ZSCAN BZPOPMIN BZPOPMAX
MULTI EXEC DISCARD WATCH UNWATCH PUBLISH SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBSUB
PING ECHO TIME INFO CONFIG SLOWLOG SAVE BGSAVE BGREWRITEAOF LASTSAVE COMMAND
""".split()

CONTAINERS = {"object", "memory", "config", "slowlog", "command", "pubsub"}


def test_every_issue_command_is_registered():
    missing = [name for name in ISSUE_COMMANDS if lookup(name.encode()) is None]
    assert missing == []


def test_lookup_ignores_case():
    assert lookup(b"zRevRange") is COMMANDS[b"zrevrange"]
    assert lookup(b"nope") is None


def test_write_commands_are_flagged():
    for name in (
        "set",
        "del",
        "lpush",
        "zadd",
        "hset",
        "sadd",
        "expire",
        "flushall",
        "incrbyfloat",
    ):
        assert COMMANDS[name.encode()].write, name
    for name in ("get", "zrange", "hgetall", "smembers", "ttl", "scan"):
        assert not COMMANDS[name.encode()].write, name
    assert COMMANDS[b"set"].denyoom and not COMMANDS[b"del"].denyoom


def test_key_positions():
    assert COMMANDS[b"mset"].keys([b"MSET", b"a", b"1", b"b", b"2"]) == [b"a", b"b"]
    assert COMMANDS[b"blpop"].keys([b"BLPOP", b"a", b"b", b"0"]) == [b"a", b"b"]
    assert COMMANDS[b"zunionstore"].keys(
        [b"ZUNIONSTORE", b"d", b"2", b"x", b"y", b"WEIGHTS", b"1", b"2"]
    ) == [b"d", b"x", b"y"]
    assert COMMANDS[b"sintercard"].keys([b"SINTERCARD", b"2", b"x", b"y", b"LIMIT", b"1"]) == [
        b"x",
        b"y",
    ]
    assert COMMANDS[b"ping"].keys([b"PING"]) == []


@pytest.mark.redis_server
def test_arity_and_key_positions_match_redis(real_redis):
    reference = real_redis.command()
    mismatches = []
    compared = 0
    for cmd in all_commands():
        theirs = reference.get(cmd.name)
        if theirs is None:
            continue
        compared += 1
        ours = (cmd.arity, cmd.first, cmd.last, cmd.step)
        expected = (
            theirs["arity"],
            theirs["first_key_pos"],
            theirs["last_key_pos"],
            theirs["step_count"],
        )
        if cmd.name in CONTAINERS or cmd.keys_fn is not None:
            ours, expected = ours[:1], expected[:1]
        if ours != expected:
            mismatches.append((cmd.name, ours, expected))
    assert mismatches == []
    assert compared >= len(ISSUE_COMMANDS)
