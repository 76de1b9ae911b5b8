"""The fast lane: hot writes done in one step, checked against the general path and Redis.

``Session.execute`` runs a command's fast path (``@fast_path``) only while
nothing but persistence needs to see the command. These tests run the same
commands on two persisted engines, one with the lane open and one with it
closed (another session WATCHes an unrelated key, which sends every command
through its handler, and the handlers are kept off the fast paths they
share), and require the same replies, the same data and the same AOF bytes;
then they compare the edge cases with real Redis and check each thing that
must close the lane.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import redis

import stores.kv
from stores.kv.commands import COMMANDS, FALLBACK
from stores.kv.errors import OOM
from stores.kv.expiry import ManualClock
from stores.kv.replies import NULL_ARRAY, OK, ErrorReply
from stores.kv.types.zsets import ZSet
from tests.stores.kv.compat import NOT_INT, WRONGTYPE, error_of
from tests.stores.kv.conftest import FAST


def persisted(directory: Path, clock: ManualClock, **options):
    return stores.kv.connect(
        directory, appendonly=True, appendfsync="everysec", clock=clock, background=False, **options
    )


def contents(engine) -> list:
    """Return every database's data (values made comparable) and expiry times."""
    out = []
    for ks in engine.databases:
        data = {}
        for key, value in ks.data.items():
            if type(value) is ZSet:
                value = (dict(value.members), list(value.sl))
            elif not isinstance(value, (bytes, dict, set)):
                value = list(value)
            data[key] = value
        out.append((data, dict(ks.expires)))
    return out


def incr_files(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(directory.glob("appendonlydir/*.incr.*")))


# Keys by the type they mostly hold; one of each is longer than the cached
# length prefixes of the AOF encoding.
POOLS = {
    "string": [b"s0", b"s1", b"S" * 1500],
    "list": [b"l0", b"l1", b"L" * 1500],
    "hash": [b"h0", b"h1", b"H" * 1500],
    "zset": [b"z0", b"z1", b"Z" * 1500],
}
ALL_KEYS = [key for keys in POOLS.values() for key in keys]
MEMBERS = [b"m0", b"m1", b"m2", b"m10", b"m9"]
NUMBERS = [
    b"1",
    b"-3",
    b"0",
    b"100000",
    b"9223372036854775806",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"-9223372036854775807",
    b"012",
    b"1.5",
    b"x",
    b" 1",
    b"",
]
INCREMENTS = [b"1", b"1", b"-1", b"2.5", b"0", b"-0", b"inf", b"-inf", b"nan", b"1e308", b"x", b"3"]


def random_command(rng: random.Random) -> list[bytes]:
    """Return a command: mostly a fast path's common case, sometimes its edge cases."""
    family = rng.choice(list(POOLS))
    key = rng.choice(POOLS[family] if rng.random() < 0.9 else ALL_KEYS)
    roll = rng.random()
    if roll < 0.04:
        return [b"DEL", key]
    if roll < 0.06:
        return [b"PEXPIRE", key, rng.choice([b"5", b"50", b"100000"])]
    if roll < 0.09:
        return expireat_command(rng, key)
    if roll < 0.1:
        return [b"PERSIST", key]
    if roll < 0.11:
        return [b"SELECT", rng.choice([b"0", b"1"])]
    lower = rng.random() < 0.1  # lower-case names are logged as sent
    if family == "string":
        kind = rng.random()
        if kind < 0.3:
            argv = [b"SET", key, rng.choice(NUMBERS + [b"v", b"w" * 1200])]
        elif kind < 0.35:
            argv = [b"SET", key, b"v", b"PX", rng.choice([b"5", b"100000"])]
        elif kind < 0.7:
            argv = [b"INCR", key]
        elif kind < 0.8:
            argv = [b"DECR", key]
        elif kind < 0.95:
            argv = [rng.choice([b"INCRBY", b"DECRBY"]), key, rng.choice(NUMBERS)]
        else:
            argv = [b"GET", key]
    elif family == "list":
        kind = rng.random()
        if kind < 0.85:
            argv = [rng.choice([b"LPUSH", b"RPUSH"]), key, rng.choice(MEMBERS)]
        elif kind < 0.9:
            argv = [b"LPUSH", key, b"a", b"b"]
        else:
            argv = [b"LRANGE", key, b"0", b"-1"]
    elif family == "hash":
        kind = rng.random()
        if kind < 0.85:
            argv = [b"HSET", key, rng.choice(MEMBERS), rng.choice(NUMBERS)]
        elif kind < 0.9:
            argv = [b"HSET", key, b"f1", b"1", b"f2", b"2"]
        else:
            argv = [b"HGETALL", key]
    else:
        kind = rng.random()
        if kind < 0.8:
            argv = [b"ZINCRBY", key, rng.choice(INCREMENTS), rng.choice(MEMBERS)]
        elif kind < 0.9:
            argv = [b"ZADD", key, rng.choice([b"1", b"5", b"-2"]), rng.choice(MEMBERS)]
        elif kind < 0.95:
            start = rng.choice([b"0", b"1", b"3", b"-1", b"01"])
            argv = [b"ZREVRANGE", key, start, rng.choice([b"0", b"2", b"9", b"-1", b"200"])]
            argv += rng.choice([[], [b"WITHSCORES"], [b"withscores"], [b"BAD"]])
        else:
            argv = [b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]
    if lower:
        argv[0] = argv[0].lower()
    return argv


# EXPIREAT/PEXPIREAT times, relative to the test clock's start (ManualClock:
# 1_700_000_000_000 ms): in the past, near (the PEXPIRE range), far, and
# out of range or not integers (errors).
EXPIRE_OPTIONS = [b"NX", b"XX", b"GT", b"LT", b"nx", b"gt", b"BAD"]


def expireat_command(rng: random.Random, key: bytes) -> list[bytes]:
    """Return an EXPIREAT or PEXPIREAT of ``key``: mostly plain, sometimes with options or errors."""
    base_ms = 1_700_000_000_000
    delta_ms = rng.choice([-5000, -1, 0, 20, 3000, 200_000, 86_400_000, 86_400_000, 900_000])
    if rng.random() < 0.5:
        argv = [b"EXPIREAT", key, b"%d" % ((base_ms + delta_ms) // 1000)]
        bad = [b"x", b"9223372036854775807", b"-9223372036854775808", b"1.5"]
    else:
        argv = [b"PEXPIREAT", key, b"%d" % (base_ms + delta_ms)]
        bad = [b"x", b"9223372036854775807", b"01"]
    roll = rng.random()
    if roll < 0.05:
        argv[2] = rng.choice(bad)
    elif roll < 0.45:
        argv += rng.sample(EXPIRE_OPTIONS, rng.choice([1, 1, 1, 2]))
    return argv


def reads_only_by_handlers(monkeypatch, engine) -> None:
    """Keep ``engine``'s reads off their fast paths (the read lane runs them whatever WATCHes)."""
    for name in (b"GET", b"ZREVRANGE"):
        cmd = COMMANDS[name]

        def fast(s, argv, log, original=cmd.fast):
            return FALLBACK if s.engine is engine else original(s, argv, log)

        monkeypatch.setattr(cmd, "fast", fast)


@pytest.mark.parametrize("seed", range(12))
def test_the_fast_lane_matches_the_general_path(
    tmp_path, taken, handlers_without_fast_paths, monkeypatch, seed
):
    rng = random.Random(seed)
    clock = ManualClock()
    fast = persisted(tmp_path / "fast", clock)
    general = persisted(tmp_path / "general", clock)
    watcher = general.engine.new_session()
    watcher.execute([b"WATCH", b"never-written"])  # closes the lane on that engine
    reads_only_by_handlers(monkeypatch, general.engine)
    if seed % 4 == 0:
        # A sorted set past the flat-list size: ZINCRBY falls back on it.
        big = [b"ZADD", b"z1"] + [x for i in range(2100) for x in (b"%d" % i, b"b%d" % i)]
        assert fast.session.execute(big) == general.session.execute(big) == 2100
    for step in range(600):
        argv = random_command(rng)
        replies = [client.session.execute(list(argv)) for client in (fast, general)]
        assert replies[0] == replies[1], (step, argv)
        if rng.random() < 0.05:
            clock.advance(rng.choice([10, 100, 10_000]))
    assert contents(fast.engine) == contents(general.engine)
    assert (
        fast.info("persistence")["rdb_changes_since_last_save"]
        == (general.info("persistence")["rdb_changes_since_last_save"])
    )
    watcher.close()
    fast.close()
    general.close()
    assert incr_files(tmp_path / "fast") == incr_files(tmp_path / "general")
    assert min(taken.get(name, 0) for name in (b"INCR", b"LPUSH", b"HSET", b"ZINCRBY")) >= 5, taken
    assert taken.get(b"EXPIREAT", 0) + taken.get(b"PEXPIREAT", 0) >= 5, taken


def flat(value):
    """Return ``value`` with nesting and number types flattened (RESP2 and RESP3 shapes)."""
    if isinstance(value, (list, tuple)):
        return [item for part in value for item in flat(part)]
    if isinstance(value, dict):
        return sorted(flat(list(value.items())), key=repr)
    if isinstance(value, bytes):
        try:
            return [float(value)]
        except ValueError:
            return [value]
    return [float(value) if type(value) in (int, float) else value]


def outcome(client, argv):
    """Return redis-py's value for ``argv`` flattened, or the text of its error."""
    try:
        return flat(client.execute_command(argv[0].decode(), *argv[1:]))
    except redis.exceptions.ResponseError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize("seed", range(4))
def test_the_fast_lane_matches_real_redis(real_redis, taken, seed):
    rng = random.Random(seed)
    real_redis.flushall()
    ours = stores.kv.connect("memory:", background=False)
    for _ in range(500):
        argv = random_command(rng)
        if argv[0].upper() in (b"SELECT", b"PEXPIRE") or b"PX" in argv:
            continue  # one pooled connection per command; no clock to share
        assert outcome(ours, argv) == outcome(real_redis, argv), argv
    for key in ALL_KEYS:
        for argv in ([b"TYPE", key], [b"TTL", key], [b"EXISTS", key]):
            assert outcome(ours, argv) == outcome(real_redis, argv), argv
        kind = outcome(ours, [b"TYPE", key])[0]
        read = {
            b"string": [b"GET", key],
            b"list": [b"LRANGE", key, b"0", b"-1"],
            b"hash": [b"HGETALL", key],
            b"zset": [b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"],
        }.get(kind)
        if read:
            assert outcome(ours, read) == outcome(real_redis, read), read
    assert min(taken.get(name, 0) for name in (b"INCR", b"LPUSH", b"HSET", b"ZINCRBY")) >= 5
    real_redis.flushall()
    ours.close()


def test_every_fast_path_is_taken_on_its_common_case(tmp_path, taken):
    client = persisted(tmp_path, ManualClock())
    client.set("s", "1")
    client.hset("h", "f", "v")
    client.lpush("l", "a")
    client.zadd("z", {"m": 1})
    taken.clear()
    assert client.get("s") == b"1"
    assert client.set("s", "2") is True
    assert client.incr("s") == 3
    assert client.execute_command("DECR", "s") == 2  # redis-py's decr() sends DECRBY
    assert client.incrby("s", 5) == 7
    assert client.decrby("s", 2) == 5
    assert client.hset("h", "f", "w") == 0
    assert client.lpush("l", "b") == 2
    assert client.rpush("l", "c") == 3
    assert client.zincrby("z", 2, "m") == 3.0
    assert client.zrevrange("z", 0, 9, withscores=True) == [(b"m", 3.0)]
    assert client.expireat("z", 2_000_000_000) is True
    assert client.pexpireat("z", 2_000_000_000_001) is True
    assert taken == dict.fromkeys(FAST, 1)
    client.close()


# Each fast path's error and edge cases, the same on real Redis and the engine
# (whose lane is open in the ``r`` fixture: memory engine, nothing watched).


def test_fast_writes_on_the_wrong_type(r):
    r.set("s", "1")
    r.lpush("l", "a")
    for call, args in [
        (r.lpush, ("s", "x")),
        (r.rpush, ("s", "x")),
        (r.hset, ("s", "f", "v")),
        (r.zincrby, ("s", 1, "m")),
        (r.incr, ("l",)),
        (r.decr, ("l",)),
        (r.incrby, ("l", 2)),
        (r.decrby, ("l", 2)),
    ]:
        assert error_of(call, *args) == WRONGTYPE
    assert r.set("l", "now a string") is True  # SET replaces any type
    assert r.get("l") == b"now a string"


def test_fast_get_counts_hits_and_misses_and_refuses_other_types(r):
    r.set("s", "v")
    r.lpush("l", "a")
    r.config_resetstat()
    assert r.get("s") == b"v"
    assert r.get("missing") is None
    assert error_of(r.get, "l") == WRONGTYPE  # a hit, then the type check, as in Redis
    stats = r.info("stats")
    assert (stats["keyspace_hits"], stats["keyspace_misses"]) == (2, 1)
    assert r.object("idletime", "l") == 0


def test_fast_counters_refuse_non_integers_and_overflow(r):
    for text in ["abc", "1.5", " 1", "012", "", "99999999999999999999"]:
        r.set("n", text)
        assert error_of(r.incr, "n") == NOT_INT
        assert r.get("n") == text.encode()
    r.set("n", "9223372036854775807")
    assert error_of(r.incr, "n") == "increment or decrement would overflow"
    assert error_of(r.incrby, "n", 1) == "increment or decrement would overflow"
    r.set("n", "-9223372036854775808")
    assert error_of(r.decr, "n") == "increment or decrement would overflow"
    assert error_of(r.decrby, "n", 1) == "increment or decrement would overflow"
    assert error_of(r.decrby, "n", -9223372036854775808) == "decrement would overflow"
    assert error_of(r.incrby, "n", "x") == NOT_INT
    assert r.get("n") == b"-9223372036854775808"
    r.set("n", "41")
    assert r.incr("n") == 42 and r.incr("n") == 43  # the second from the cached text
    r.set("other", "43")
    assert r.incr("other") == 44 and r.get("n") == b"43"


def test_fast_zincrby_edge_cases(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.zincrby("z", -1, "a") == 0.0  # to zero: stored as 0
    assert r.zincrby("z", 5, "a") == 5.0  # moves past both neighbours
    assert r.zrange("z", 0, -1, withscores=True) == [(b"b", 2.0), (b"c", 3.0), (b"a", 5.0)]
    assert r.zincrby("z", -4.5, "a") == 0.5  # and back down
    assert r.zincrby("z", "inf", "c") == float("inf")
    assert error_of(r.zincrby, "z", "-inf", "c") == "resulting score is not a number (NaN)"
    assert error_of(r.zincrby, "z", "x", "c") == "value is not a valid float"
    assert r.zincrby("z", 1, "new") == 1.0
    assert r.zrange("z", 0, -1, withscores=True) == [
        (b"a", 0.5),
        (b"new", 1.0),
        (b"b", 2.0),
        (b"c", float("inf")),
    ]


def test_fast_zrevrange_ranges(r):
    r.zadd("z", {f"m{i}": i for i in range(300)})
    r.set("s", "v")
    assert r.zrevrange("z", 0, 2) == [b"m299", b"m298", b"m297"]
    assert r.zrevrange("z", 0, 1, withscores=True) == [(b"m299", 299.0), (b"m298", 298.0)]
    assert r.zrevrange("z", 298, 1000) == [b"m1", b"m0"]
    assert r.zrevrange("z", 300, 310) == []
    assert r.zrevrange("z", 3, 2) == []
    assert r.zrevrange("z", -2, -1) == [b"m1", b"m0"]
    assert len(r.zrevrange("z", 0, 200)) == 201  # past the fast range: the handler
    assert r.zrevrange("missing", 0, 9) == []
    assert error_of(r.zrevrange, "s", 0, 9) == WRONGTYPE
    assert r.execute_command("ZREVRANGE", "z", "0", "0", "withscores") in (
        [b"m299", b"299"],
        [[b"m299", 299.0]],
    )
    assert error_of(r.execute_command, "ZREVRANGE", "z", "0", "0", "BAD") == "syntax error"


@pytest.mark.parametrize("protocol", [2, 3])
def test_fast_zrevrange_replies_as_the_handler_in_each_protocol(protocol, taken, monkeypatch):
    engines = [stores.kv.connect("memory:", background=False) for _ in range(2)]
    reads_only_by_handlers(monkeypatch, engines[1].engine)  # the second engine runs the handler
    replies = []
    for client in engines:
        session = client.session
        session.protocol = protocol
        session.execute([b"ZADD", b"z", b"1", b"a", b"2", b"b", b"2", b"c"])
        replies.append(
            [
                session.execute([b"ZREVRANGE", b"z", b"0", b"9", b"WITHSCORES"]),
                session.execute([b"ZREVRANGE", b"z", b"1", b"1"]),
            ]
        )
    assert replies[0] == replies[1]
    assert taken == {b"ZREVRANGE": 2}
    for client in engines:
        client.close()


def test_fast_writes_on_expired_keys_start_afresh(tmp_path):
    clock = ManualClock()
    client = persisted(tmp_path, clock)
    client.set("s", "5")
    client.lpush("l", "a")
    client.hset("h", "f", "v")
    client.zadd("z", {"m": 1})
    for key in ("s", "l", "h", "z"):
        client.pexpire(key, 10)
    clock.advance(11)
    assert client.incr("s") == 1
    assert client.lpush("l", "b") == 1
    assert client.hset("h", "g", "v") == 1
    assert client.zincrby("z", 2, "m") == 2.0
    assert [client.ttl(key) for key in ("s", "l", "h", "z")] == [-1] * 4
    client.close()
    data = incr_files(tmp_path)
    for key in (b"s", b"l", b"h", b"z"):  # lazily expired, propagated as DEL first
        assert b"*2\r\n$3\r\nDEL\r\n$1\r\n" + key + b"\r\n" in data


def test_the_lane_is_closed_under_maxmemory(taken):
    client = stores.kv.connect("memory:", background=False, maxmemory="1mb")
    client.lpush("l", "a")
    client.config_set("maxmemory-policy", "noeviction")
    client.set("big", "x" * 2_000_000)  # over the limit now
    assert error_of(client.lpush, "l", "b") == OOM.split(" ", 1)[1]
    assert error_of(client.set, "s", "v") == OOM.split(" ", 1)[1]
    assert client.lrange("l", 0, -1) == [b"a"]
    assert taken == {}
    client.close()


def test_the_lane_is_closed_while_a_key_is_watched(taken):
    client = stores.kv.connect("memory:", background=False)
    client.lpush("l", "a")
    client.set("n", "1")
    taken.clear()
    pipe = client.pipeline(True)
    pipe.watch("l", "n")
    second = client.engine.new_session()
    assert second.execute([b"LPUSH", b"l", b"b"]) == 2
    pipe.multi()
    pipe.incr("n")
    with pytest.raises(Exception, match="Watched variable changed"):
        pipe.execute()
    assert taken == {}
    pipe.reset()
    assert client.get("n") == b"1"
    assert client.incr("n") == 2 and taken == {b"GET": 1, b"INCR": 1}  # open after UNWATCH
    client.close()


def test_a_transaction_runs_fast_paths_inside_exec_and_logs_multi_exec(tmp_path, taken):
    client = persisted(tmp_path, ManualClock())
    client.set("n", "1")
    client.lpush("l", "a")
    taken.clear()
    pipe = client.pipeline(True)
    pipe.incr("n").lpush("l", "b").zincrby("z", 1, "m")
    assert pipe.execute() == [2, 2, 1.0]
    # Inside EXEC the fast paths log into the transaction's buffer (a
    # ZINCRBY creating its key takes the handler).
    assert taken == {b"INCRBY": 1, b"LPUSH": 1}
    client.close()
    assert incr_files(tmp_path).endswith(
        b"*1\r\n$5\r\nMULTI\r\n"
        b"*3\r\n$6\r\nINCRBY\r\n$1\r\nn\r\n$1\r\n1\r\n"  # redis-py's incr()
        b"*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\nb\r\n"
        b"*4\r\n$7\r\nZINCRBY\r\n$1\r\nz\r\n$1\r\n1\r\n$1\r\nm\r\n"
        b"*1\r\n$4\r\nEXEC\r\n"
    )


def test_a_key_waiter_closes_the_lane_and_is_woken(taken):
    client = stores.kv.connect("memory:", background=False)
    client.lpush("l", "a")
    engine = client.engine
    woken = []
    engine.add_key_waiter(0, [b"l"], lambda: woken.append(True))
    assert client.lpush("l", "b") == 2
    assert woken == [True] and taken == {}
    assert client.lpush("l", "c") == 3 and taken == {b"LPUSH": 1}
    client.close()


def test_a_rewrite_closes_the_lane_so_old_values_are_saved_first(tmp_path, taken):
    client = persisted(tmp_path, ManualClock())
    client.lpush("l", "a")
    p = client.engine.persistence

    class Walk:
        def __init__(self):
            self.keys = []

        def before_write(self, db, keys):
            self.keys.append((db, list(keys)))

    walk = Walk()
    p._walks = (walk,)
    p.rewriting = True
    try:
        assert client.lpush("l", "b") == 2
    finally:
        p._walks = ()
        p.rewriting = False
    assert walk.keys == [(0, [b"l"])] and taken == {}
    client.close()


def test_a_write_refusal_closes_the_lane(tmp_path, taken):
    client = persisted(tmp_path, ManualClock())
    client.lpush("l", "a")
    p = client.engine.persistence
    p.write_error = "MISCONF test refusal"
    assert error_of(client.lpush, "l", "b") == "MISCONF test refusal"
    p.write_error = None
    assert client.lrange("l", 0, -1) == [b"a"] and taken == {}
    client.close()


def test_a_full_disk_under_a_fast_write_is_misconf_and_not_acknowledged(tmp_path, monkeypatch):
    import errno

    from stores.kv.persistence import mapped_tail

    monkeypatch.setattr(mapped_tail, "WINDOW", 4096)
    client = persisted(tmp_path, ManualClock())
    client.lpush("l", "a")
    p = client.engine.persistence
    assert p.write_lane is not None
    real = mapped_tail.os.posix_fallocate

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", full)
    with pytest.raises(Exception, match="MISCONF"):
        client.lpush("l", "x" * 10_000)  # needs a bigger window: the disk refuses
    assert p.write_lane is None
    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", real)
    p.cron()
    assert p.write_lane is not None
    assert client.lpush("l", "c") == 3
    client.close()
    again = persisted(tmp_path, ManualClock())
    assert again.lrange("l", 0, -1) == [b"c", b"x" * 10_000, b"a"]
    again.close()


def test_slow_log_times_fast_paths_below_a_millisecond_threshold(taken):
    client = stores.kv.connect("memory:", background=False)
    client.lpush("l", "a")
    client.config_set("slowlog-log-slower-than", 0)
    client.slowlog_reset()
    client.lpush("l", "b")
    logged = [entry["command"] for entry in client.slowlog_get()]
    assert b"LPUSH l b" in logged
    assert taken == {b"LPUSH": 1}
    client.close()


def test_an_error_from_a_fast_path_counts_as_a_processed_command():
    client = stores.kv.connect("memory:", background=False)
    client.set("n", "x")
    before = client.info("stats")["total_commands_processed"]
    assert error_of(client.incr, "n") == NOT_INT
    assert client.info("stats")["total_commands_processed"] == before + 2  # INCR, then INFO
    client.close()


def test_a_fast_reply_is_what_the_general_path_returns_for_every_client_shape(tmp_path):
    # The in-process client's own methods and the generic execute_command agree.
    client = persisted(tmp_path, ManualClock())
    client.set("n", "1")
    assert client.execute_command("INCR", "n") == 2 and client.incr("n") == 3
    client.lpush("l", "a")
    assert client.execute_command("LPUSH", "l", "b") == 2 and client.lpush("l", "c") == 3
    client.zadd("z", {"m": 1})
    assert client.execute_command("ZINCRBY", "z", 1, "m") == 2.0
    assert client.zincrby("z", 1, "m") == 3.0
    assert isinstance(client.session.execute([b"GET", b"n"]), bytes)
    assert client.session.execute([b"INCR", b"l"]) == ErrorReply(WRONGTYPE)
    client.close()


def test_the_lane_opens_and_closes_with_what_needs_to_see_writes():
    client = stores.kv.connect("memory:", background=False)
    engine = client.engine
    assert engine.fast_lane_open
    second = engine.new_session()

    def watch_then(finish):
        assert second.execute([b"WATCH", b"k"]) == OK
        assert not engine.fast_lane_open
        finish()
        assert engine.fast_lane_open

    watch_then(lambda: second.execute([b"UNWATCH"]))
    watch_then(lambda: (second.execute([b"MULTI"]), second.execute([b"EXEC"])))
    watch_then(lambda: (second.execute([b"MULTI"]), second.execute([b"DISCARD"])))
    third = engine.new_session()
    third.execute([b"WATCH", b"k"])
    assert not engine.fast_lane_open
    third.close()
    assert engine.fast_lane_open
    client.config_set("maxmemory", "100mb")
    assert not engine.fast_lane_open
    client.config_set("maxmemory", 0)
    assert engine.fast_lane_open

    def waiter():
        pass

    engine.add_key_waiter(0, [b"a", b"b"], waiter)
    assert not engine.fast_lane_open
    engine.remove_key_waiter(0, [b"a", b"b"], waiter)
    assert engine.fast_lane_open
    engine.add_key_waiter(0, [b"a"], waiter)
    client.lpush("a", "x")  # wakes it
    assert engine.fast_lane_open and not engine.waiters
    client.close()


def test_a_watch_sees_every_fast_command_of_another_session():
    client = stores.kv.connect("memory:", background=False)
    client.set("s", "1")
    client.lpush("l", "a")
    client.hset("h", "f", "v")
    client.zadd("z", {"m": 1})
    for argv in (
        [b"SET", b"s", b"2"],
        [b"INCR", b"s"],
        [b"DECR", b"s"],
        [b"INCRBY", b"s", b"2"],
        [b"DECRBY", b"s", b"2"],
        [b"LPUSH", b"l", b"b"],
        [b"RPUSH", b"l", b"c"],
        [b"HSET", b"h", b"f", b"w"],
        [b"ZINCRBY", b"z", b"1", b"m"],
    ):
        watcher = client.engine.new_session()
        key = argv[1]
        assert watcher.execute([b"WATCH", key]) == OK
        client.session.execute(argv)
        watcher.execute([b"MULTI"])
        watcher.execute([b"GET", b"unrelated"])
        assert watcher.execute([b"EXEC"]) is NULL_ARRAY, argv  # the transaction was aborted
        watcher.close()
    client.close()


def test_fast_zincrby_keeps_a_ttl_until_it_passes(tmp_path, taken):
    clock = ManualClock()
    client = persisted(tmp_path, clock)
    client.zadd("day", {"m": 1})
    client.pexpire("day", 100)
    taken.clear()
    assert client.zincrby("day", 1, "m") == 2.0
    assert taken == {b"ZINCRBY": 1}
    assert client.pttl("day") == 100  # the TTL is kept
    clock.advance(99)
    assert client.zincrby("day", 1, "m") == 3.0
    assert taken == {b"ZINCRBY": 2}
    clock.advance(1)  # exactly at the TTL: expired
    assert client.zincrby("day", 1, "m") == 1.0
    assert taken == {b"ZINCRBY": 2}  # the handler expired it and made a new set
    assert client.pttl("day") == -1
    client.close()
    assert incr_files(tmp_path).endswith(
        b"*4\r\n$7\r\nZINCRBY\r\n$3\r\nday\r\n$1\r\n1\r\n$1\r\nm\r\n"
        b"*2\r\n$3\r\nDEL\r\n$3\r\nday\r\n"
        b"*4\r\n$7\r\nZINCRBY\r\n$3\r\nday\r\n$1\r\n1\r\n$1\r\nm\r\n"
    )


def test_zincrby_on_a_key_with_a_ttl_as_on_redis(r):
    r.zadd("day", {"m": 1})
    r.expire("day", 1000)
    assert r.zincrby("day", 1, "m") == 2.0
    assert 0 < r.ttl("day") <= 1000
    assert r.zrevrange("day", 0, 9, withscores=True) == [(b"m", 2.0)]


def test_fast_expireat_options_and_errors(r):
    r.set("k", "v")
    assert r.expireat("missing", 4_000_000_000) is False
    assert r.expireat("k", 4_000_000_000, xx=True) is False  # no TTL yet
    assert r.expireat("k", 4_000_000_000, gt=True) is False  # no TTL counts as infinite
    assert r.expireat("k", 4_000_000_000, nx=True) is True
    assert r.expireat("k", 4_000_000_100, nx=True) is False
    assert r.expireat("k", 3_999_999_999, gt=True) is False
    assert r.expireat("k", 4_000_000_100, gt=True) is True
    assert r.expireat("k", 4_000_000_100, gt=True) is False  # not greater
    assert r.expireat("k", 4_000_000_200, lt=True) is False
    assert r.expireat("k", 4_000_000_050, lt=True) is True
    assert r.expireat("k", 4_000_000_050, lt=True) is False  # not less
    assert r.expireat("k", 4_000_000_060, xx=True) is True
    assert r.expiretime("k") == 4_000_000_060
    assert r.pexpireat("k", 4_000_000_060_123) is True
    assert r.pexpiretime("k") == 4_000_000_060_123
    assert r.execute_command("EXPIREAT", "k", "4000000070", "xx", "gt") == 1
    assert r.expiretime("k") == 4_000_000_070
    for argv, message in [
        (("EXPIREAT", "k", "x"), "value is not an integer or out of range"),
        (("EXPIREAT", "k", "1.5"), "value is not an integer or out of range"),
        (("EXPIREAT", "k", "9223372036854775807"), "invalid expire time in 'expireat' command"),
        (
            ("EXPIREAT", "k", "4000000000", "NX", "XX"),
            "NX and XX, GT or LT options at the same time are not compatible",
        ),
        (
            ("EXPIREAT", "k", "4000000000", "GT", "LT"),
            "GT and LT options at the same time are not compatible",
        ),
        (("EXPIREAT", "k", "4000000000", "BAD"), "Unsupported option BAD"),
        (
            ("PEXPIREAT", "k", "4000000000000", "NX", "GT"),
            "NX and XX, GT or LT options at the same time are not compatible",
        ),
    ]:
        assert error_of(r.execute_command, *argv) == message, argv
    assert r.expiretime("k") == 4_000_000_070  # the errors changed nothing
    r.set("s", "1")
    assert r.expireat("s", 1_000_000_000) is True  # a past time deletes the key
    assert r.exists("s") == 0
    assert r.expireat("s", 1_000_000_000) is False


def test_fast_expireat_logs_pexpireat_and_a_past_time_del(tmp_path, taken):
    clock = ManualClock()
    client = persisted(tmp_path, clock)
    client.set("k", "v")
    client.set("gone", "v")
    client.set("short", "v")
    client.pexpire("short", 10)
    taken.clear()
    now_s = clock() // 1000
    assert client.expireat("k", now_s + 60) is True
    assert client.pexpireat("k", clock() + 5000, gt=True) is False
    assert client.expireat("missing", now_s + 60) is False
    assert taken == {b"EXPIREAT": 2, b"PEXPIREAT": 1}
    assert client.expireat("gone", now_s - 1) is True  # falls back: deleted, DEL logged
    clock.advance(11)
    assert client.expireat("short", now_s + 60) is False  # falls back: expired first
    assert taken == {b"EXPIREAT": 2, b"PEXPIREAT": 1}
    assert client.pttl("k") == 60_000 - 11
    client.close()
    data = incr_files(tmp_path)
    when = b"%d" % ((now_s + 60) * 1000)
    assert b"*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nk\r\n$13\r\n" + when + b"\r\n" in data
    assert b"*2\r\n$3\r\nDEL\r\n$4\r\ngone\r\n" in data
    assert b"*2\r\n$3\r\nDEL\r\n$5\r\nshort\r\n" in data
    assert data.count(b"PEXPIREAT") == 2  # PEXPIRE short, EXPIREAT k: misses log nothing


@pytest.mark.parametrize("seed", range(3))
def test_fast_zincrby_moves_past_ties_as_the_general_path(
    tmp_path, taken, handlers_without_fast_paths, seed
):
    # A leaderboard whose scores even out: most increments pass neighbours
    # of the same score (ordered by name), up or down, near or far.
    rng = random.Random(seed)
    clock = ManualClock()
    fast = persisted(tmp_path / "fast", clock)
    general = persisted(tmp_path / "general", clock)
    watcher = general.engine.new_session()
    watcher.execute([b"WATCH", b"never-written"])
    names = [b"p%d" % i for i in range(60)]
    for client in (fast, general):
        client.zadd("board", dict.fromkeys(names, 1))
    for _ in range(1500):
        member = rng.choice(names[:10] if rng.random() < 0.5 else names)
        increment = rng.choice([b"1", b"1", b"1", b"-1", b"2", b"-3", b"0.5", b"7"])
        argv = [b"ZINCRBY", b"board", increment, member]
        replies = [client.session.execute(list(argv)) for client in (fast, general)]
        assert replies[0] == replies[1], argv
        if rng.random() < 0.01:
            # Removals leave hints behind: later moves must not trust them.
            gone = [b"ZREM", b"board", rng.choice(names)]
            assert fast.session.execute(gone) == general.session.execute(gone)
    assert contents(fast.engine) == contents(general.engine)
    assert list(fast.engine.databases[0].data[b"board"].sl) == sorted(
        (score, member) for member, score in fast.engine.databases[0].data[b"board"].members.items()
    )
    watcher.close()
    fast.close()
    general.close()
    assert incr_files(tmp_path / "fast") == incr_files(tmp_path / "general")
    assert taken[b"ZINCRBY"] > 1000
