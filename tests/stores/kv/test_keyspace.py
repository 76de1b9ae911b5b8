"""Keyspace: SCAN's guarantee under concurrent writes, sampling, LFU counters."""

from stores.kv.engine import Engine
from stores.kv.expiry import ManualClock


def _keyspace():
    engine = Engine(clock=ManualClock(), background=False)
    return engine, engine.databases[0]


def test_scan_returns_every_key_present_throughout_despite_writes():
    engine, ks = _keyspace()
    for i in range(500):
        ks.set(b"stable%d" % i, b"v")
    seen = []
    cursor = 0
    step = 0
    while True:
        cursor, keys = ks.scan(cursor, 10)
        seen += keys
        ks.set(b"new%d" % step, b"v")
        ks.delete(b"new%d" % (step - 3))
        step += 1
        assert step < 10_000
        if cursor == 0:
            break
    stable = [k for k in seen if k.startswith(b"stable")]
    assert sorted(stable) == sorted(b"stable%d" % i for i in range(500))
    assert len(stable) == len(set(stable))
    engine.close()


def test_scan_index_is_dropped_when_idle():
    engine, ks = _keyspace()
    ks.set(b"a", b"1")
    ks.scan(0, 10)
    assert ks.scan_index is not None
    ks.scan_used -= 100
    ks.drop_idle_scan_index(30.0)
    assert ks.scan_index is None
    engine.close()


def test_random_keys_only_returns_existing_keys():
    engine, ks = _keyspace()
    for i in range(1000):
        ks.set(b"k%d" % i, b"v")
    for i in range(0, 1000, 2):
        ks.delete(b"k%d" % i)
    picked = ks.random_keys(50)
    assert picked and all(k in ks.data for k in picked)
    assert ks.random_keys(5, volatile=True) == []
    engine.close()


def test_lfu_counter_grows_with_use_and_decays_with_time():
    clock = ManualClock()
    engine = Engine(clock=clock, background=False)
    engine.config.set("maxmemory-policy", "allkeys-lfu")
    ks = engine.databases[0]
    ks.set(b"k", b"v")
    for _ in range(500):
        ks.get(b"k")
    high = ks.lfu_counter(b"k")
    assert high > 5
    clock.advance(10 * 60_000)
    assert ks.lfu_counter(b"k") == max(0, high - 10)
    engine.close()
