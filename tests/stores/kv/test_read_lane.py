"""The read lane: a read's fast path while WATCH, key waiters or maxmemory close the write lane.

Reads change nothing WATCH, key waiters, memory accounting or persistence
must see, so ``Session.execute`` runs GET's and ZREVRANGE's fast paths even
while those close the write lane; under maxmemory only while
``make_room()`` would have nothing to do. These tests compare it with the
handlers (random streams on persisted engines), with real Redis, and check
statistics, LRU access, the slow log, expiry and eviction.
"""

from __future__ import annotations

import random

import pytest

import stores.kv
from stores.kv.commands import COMMANDS, FALLBACK
from stores.kv.errors import CommandError
from stores.kv.expiry import ManualClock
from stores.kv.hooks import NoPersistence
from tests.stores.kv.compat import second_client
from tests.stores.kv.test_fast_lane import (
    contents,
    incr_files,
    persisted,
    random_command,
    reads_only_by_handlers,
)


@pytest.fixture
def reads(monkeypatch):
    """Count the GETs and ZREVRANGEs their fast path answered."""
    counts: dict[bytes, int] = {}
    for name in (b"GET", b"ZREVRANGE"):
        cmd = COMMANDS[name]

        def spy(s, argv, log, original=cmd.fast, name=name):
            reply = original(s, argv, log)
            if reply is not FALLBACK:
                counts[name] = counts.get(name, 0) + 1
            return reply

        monkeypatch.setattr(cmd, "fast", spy)
    return counts


def random_step(rng: random.Random) -> list[bytes]:
    """Return a command of the fast lane's streams, a GET or a TTL change."""
    roll = rng.random()
    key = rng.choice([b"s0", b"s1", b"l0", b"z0"])
    if roll < 0.3:
        return [b"GET", key]
    if roll < 0.4:
        return [b"PEXPIRE", key, rng.choice([b"5", b"50", b"100000"])]
    if roll < 0.45:
        return [b"ZREVRANGE", b"z0", b"0", b"9", b"WITHSCORES"]
    return random_command(rng)


@pytest.mark.parametrize("seed", range(6))
def test_the_read_lane_matches_the_handlers(tmp_path, reads, monkeypatch, seed):
    rng = random.Random(seed)
    clock = ManualClock()
    # Both lanes closed on both engines: a WATCH on each.
    lane = persisted(tmp_path / "lane", clock, maxmemory="64mb", maxmemory_policy="allkeys-lru")
    general = persisted(
        tmp_path / "general", clock, maxmemory="64mb", maxmemory_policy="allkeys-lru"
    )
    watchers = [client.engine.new_session() for client in (lane, general)]
    for watcher in watchers:
        watcher.execute([b"WATCH", b"never-written"])
    reads_only_by_handlers(monkeypatch, general.engine)
    for step in range(500):
        argv = random_step(rng)
        replies = [client.session.execute(list(argv)) for client in (lane, general)]
        assert replies[0] == replies[1], (step, argv)
        if rng.random() < 0.08:
            clock.advance(rng.choice([10, 100, 10_000]))
    assert contents(lane.engine) == contents(general.engine)
    for section in ("stats", "persistence"):
        info = [client.info(section) for client in (lane, general)]
        for field in (
            "keyspace_hits",
            "keyspace_misses",
            "expired_keys",
            "total_commands_processed",
            "rdb_changes_since_last_save",
        ):
            assert info[0].get(field) == info[1].get(field), field
    for client in (lane, general):
        client.close()
    assert incr_files(tmp_path / "lane") == incr_files(tmp_path / "general")
    assert reads.get(b"GET", 0) >= 20


def test_get_of_a_key_with_a_ttl_takes_the_read_lane_until_it_expires(tmp_path, reads):
    clock = ManualClock()
    client = persisted(tmp_path, clock, maxmemory="64mb", maxmemory_policy="allkeys-lru")
    client.set("page", "html", px=100)
    ks = client.engine.databases[0]
    before = ks.access[b"page"]
    assert client.get("page") == b"html"
    assert reads == {b"GET": 1}
    assert ks.access[b"page"] >= before  # LRU access time refreshed
    clock.advance(100)
    assert client.get("page") is None  # the handler expires it
    assert reads == {b"GET": 1}
    stats = client.info("stats")
    assert (stats["keyspace_hits"], stats["keyspace_misses"], stats["expired_keys"]) == (1, 1, 1)
    client.close()
    assert incr_files(tmp_path).endswith(b"*2\r\n$3\r\nDEL\r\n$4\r\npage\r\n")


def test_over_maxmemory_a_read_evicts_first_as_before(reads):
    client = stores.kv.connect(
        "memory:", background=False, maxmemory=20_000, maxmemory_policy="allkeys-lru"
    )
    for i in range(10):
        client.set(f"k{i}", "x" * 1000)
    engine = client.engine
    assert engine.memory.used <= engine.maxmemory
    # A write no command made room for (replay never does): over the limit.
    engine.replay(0, [b"SET", b"big", b"y" * 30_000])
    assert engine.memory.used > engine.maxmemory
    assert engine.stats["evicted_keys"] == 0  # (INFO would make room itself)
    client.get("k9")
    assert reads == {}  # the general path made room first
    assert engine.stats["evicted_keys"] > 0
    assert engine.memory.used <= engine.maxmemory
    client.get("k9")
    assert reads == {b"GET": 1}  # under the limit again: the read lane
    client.close()


def test_the_slow_log_times_lane_reads_below_a_millisecond(reads):
    client = stores.kv.connect("memory:", background=False)
    watcher = client.engine.new_session()
    watcher.execute([b"WATCH", b"w"])
    client.config_set("slowlog-log-slower-than", 0)
    client.slowlog_reset()
    client.set("k", "v")
    assert client.get("k") == b"v"
    assert reads == {b"GET": 1}
    assert [entry["command"] for entry in client.slowlog_get(2)] == [b"GET k", b"SET k v"]
    client.close()


class BusyPersistence(NoPersistence):
    """Persistence whose after_command always has work (no write_lane) and counts calls."""

    enabled = True

    def __init__(self, refuse: bool = False) -> None:
        super().__init__()
        self.calls = 0
        self.refuse = refuse

    def after_command(self) -> None:
        self.calls += 1
        if self.refuse:
            raise CommandError("MISCONF the disk refused")


def test_a_lane_read_runs_after_command_when_it_has_work(reads):
    client = stores.kv.connect("memory:", background=False)
    client.set("k", "v")
    busy = BusyPersistence()
    client.engine.set_persistence(busy)
    client.engine.new_session().execute([b"WATCH", b"w"])
    busy.calls = 0
    assert client.get("k") == b"v"
    assert reads == {b"GET": 1} and busy.calls == 1
    busy.refuse = True
    with pytest.raises(Exception, match="MISCONF the disk refused"):
        client.get("k")
    client.close()


def test_watch_is_not_disturbed_by_reads_as_on_redis(r):
    other = second_client(r)
    r.set("k", "1")
    r.expire("k", 1000)
    pipe = r.pipeline()
    pipe.watch("k")
    assert other.get("k") == b"1"
    assert other.zrevrange("nothing", 0, 9) == []
    pipe.multi()
    pipe.incr("k")
    assert pipe.execute() == [2]
    assert r.ttl("k") > 0
    other.close()
