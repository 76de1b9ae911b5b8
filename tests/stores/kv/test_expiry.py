"""Expiry with an injected clock: lazy on access, active cycle sampling, no sleeps."""

from stores.kv.expiry import ManualClock
from tests.stores.kv.recording import RecordingPersistence


def test_lazy_expiry_at_millisecond_precision(kv, clock):
    kv.set("k", "v", px=1000)
    clock.advance(999)
    assert kv.get("k") == b"v"
    assert kv.pttl("k") == 1
    clock.advance(1)
    assert kv.get("k") is None
    assert kv.exists("k") == 0
    assert kv.info("stats")["expired_keys"] == 1


def test_ttl_counts_down_with_the_clock(kv, clock):
    kv.set("k", "v", ex=10)
    assert kv.ttl("k") == 10
    clock.advance(2600)
    assert kv.ttl("k") == 7
    assert kv.pttl("k") == 7400
    kv.expireat("k", clock.now // 1000 + 100)
    assert 99 <= kv.ttl("k") <= 100


def test_every_type_expires(kv, clock):
    kv.set("s", "v")
    kv.hset("h", "f", "v")
    kv.rpush("l", "x")
    kv.sadd("set", "m")
    kv.zadd("z", {"m": 1})
    for key in ("s", "h", "l", "set", "z"):
        kv.pexpire(key, 5)
    clock.advance(5)
    assert kv.keys("*") == []
    assert kv.hget("h", "f") is None and kv.lrange("l", 0, -1) == [] and kv.zcard("z") == 0


def test_active_cycle_removes_expired_keys_without_reads(kv, clock):
    engine = kv.engine
    for i in range(1000):
        kv.set(f"v{i}", "x", px=100)
    for i in range(100):
        kv.set(f"p{i}", "x")
    clock.advance(101)
    assert kv.dbsize() == 1100
    rounds = 0
    while engine.databases[0].expires and rounds < 200:
        engine.expiry.cycle(budget_seconds=1.0)
        rounds += 1
    assert kv.dbsize() == 100
    assert engine.stats["expired_keys"] == 1000


def test_active_cycle_stops_when_few_keys_are_stale(kv, clock):
    engine = kv.engine
    for i in range(1000):
        kv.set(f"long{i}", "x", ex=1000)
    for i in range(5):
        kv.set(f"short{i}", "x", px=10)
    clock.advance(11)
    engine.expiry.cycle(budget_seconds=1.0)
    assert engine.expiry.last_sampled < 1000


def test_keys_and_scan_skip_expired(kv, clock):
    kv.set("a", "1", px=5)
    kv.set("b", "2")
    clock.advance(5)
    assert kv.keys("*") == [b"b"]
    assert list(kv.scan_iter()) == [b"b"]
    assert kv.randomkey() == b"b"


def test_lazy_and_active_expiry_propagate_del():
    from stores.kv.engine import Engine

    clock = ManualClock()
    engine = Engine(clock=clock, background=False)
    recorder = RecordingPersistence()
    engine.set_persistence(recorder)
    session = engine.new_session()
    session.execute([b"SET", b"a", b"1", b"PX", b"10"])
    session.execute([b"SET", b"b", b"1", b"PX", b"10"])
    clock.advance(10)
    assert session.execute([b"GET", b"a"]) is None
    engine.expiry.cycle(budget_seconds=1.0)
    assert [b"DEL", b"a"] in recorder.commands()
    assert [b"DEL", b"b"] in recorder.commands()
    engine.close()


def test_watch_sees_expiry(kv, clock):
    from tests.stores.kv.compat import second_client

    kv.set("k", "v", px=10)
    with kv.pipeline() as pipe:
        pipe.watch("k")
        clock.advance(10)
        pipe.multi()
        pipe.set("k", "new")
        try:
            pipe.execute()
            aborted = False
        except Exception:
            aborted = True
    assert aborted
    second_client(kv).close()
