"""maxmemory with each of Redis's eight policies, and memory accounting."""

import pytest
import redis

import stores.kv
from stores.kv.eviction import estimate_key

VALUE = "x" * 100


def _client(policy, keys=20, samples=64):
    client = stores.kv.connect("memory:", background=False)
    per_key = estimate_key_for(client)
    client.config_set("maxmemory-samples", samples)
    client.config_set("maxmemory-policy", policy)
    client.config_set("maxmemory", per_key * keys)
    return client


def estimate_key_for(client):
    client.set("k000", VALUE)
    size = estimate_key(client.engine.databases[0], b"k000")
    client.delete("k000")
    return size + 40


def _fill(client, count, ttl=None):
    for i in range(count):
        client.set(f"k{i:03d}", VALUE, ex=ttl)


def test_noeviction_rejects_writes_but_reads_work():
    client = _client("noeviction")
    with pytest.raises(redis.exceptions.OutOfMemoryError) as info:
        _fill(client, 100)
    assert str(info.value) == "command not allowed when used memory > 'maxmemory'."
    count = client.dbsize()
    assert 10 < count < 30
    assert client.get("k000") == VALUE.encode()
    assert client.delete("k000") == 1
    assert client.set("again", "x") is True
    assert client.info("stats")["evicted_keys"] == 0
    client.close()


def test_noeviction_error_is_raw_oom_on_the_session():
    client = _client("noeviction", keys=5)
    session = client.engine.new_session()
    replies = [session.execute([b"SET", b"k%d" % i, VALUE.encode()]) for i in range(20)]
    assert replies[-1].message == "OOM command not allowed when used memory > 'maxmemory'."
    client.close()


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random"])
def test_allkeys_policies_stay_under_the_limit(policy):
    client = _client(policy)
    _fill(client, 200)
    engine = client.engine
    engine.cron()
    assert engine.memory.used <= engine.maxmemory
    assert client.info("stats")["evicted_keys"] > 0
    assert client.dbsize() < 200
    client.close()


def test_allkeys_lru_keeps_recently_used_keys():
    client = _client("allkeys-lru", keys=30)
    _fill(client, 10)
    for _ in range(3):
        for i in range(5):
            client.get(f"k{i:03d}")
    for i in range(100, 130):
        client.set(f"k{i:03d}", VALUE)
        for j in range(5):
            client.get(f"k{j:03d}")
    assert all(client.exists(f"k{i:03d}") for i in range(5))
    client.close()


def test_allkeys_lfu_keeps_frequently_used_keys():
    client = _client("allkeys-lfu", keys=30)
    _fill(client, 10)
    for _ in range(200):
        for i in range(5):
            client.get(f"k{i:03d}")
    for i in range(100, 160):
        client.set(f"k{i:03d}", VALUE)
    assert sum(client.exists(f"k{i:03d}") for i in range(5)) == 5
    assert client.object("freq", "k000") > 5
    client.close()


@pytest.mark.parametrize(
    "policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"]
)
def test_volatile_policies_only_evict_keys_with_ttl(policy):
    client = _client(policy, keys=30)
    for i in range(10):
        client.set(f"keep{i}", VALUE)
    for i in range(60):
        client.set(f"tmp{i}", VALUE, ex=1000 + i)
    assert all(client.exists(f"keep{i}") for i in range(10))
    assert client.info("stats")["evicted_keys"] > 0
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        for i in range(100):
            client.set(f"more{i}", VALUE)
    client.close()


def test_volatile_ttl_evicts_soonest_expiry_first():
    client = _client("volatile-ttl", keys=20)
    for i in range(15):
        client.set(f"t{i:02d}", VALUE, ex=100 + i * 100)
    for i in range(15, 30):
        client.set(f"t{i:02d}", VALUE, ex=100 + i * 100)
    survivors = sorted(int(k[1:]) for k in client.keys("t*"))
    assert survivors and survivors[-1] == 29
    assert 0 not in survivors
    client.close()


def test_memory_accounting_follows_writes_and_deletes():
    client = _client("noeviction", keys=1000)
    engine = client.engine
    before = engine.memory.used
    client.rpush("l", *[VALUE] * 50)
    grown = engine.memory.used
    assert grown > before + 50 * 100
    client.delete("l")
    assert engine.memory.used == before
    client.hset("h", mapping={f"f{i}": VALUE for i in range(20)})
    assert client.memory_usage("h") > 20 * 100
    assert client.info("memory")["used_memory"] == engine.memory.used
    client.flushall()
    assert engine.memory.used == 0
    client.close()


def test_turning_maxmemory_off_stops_tracking():
    client = _client("allkeys-lru")
    client.config_set("maxmemory", 0)
    _fill(client, 100)
    assert client.dbsize() == 100
    assert client.info("memory")["used_memory"] > 100 * 100
    client.close()


def test_info_estimates_a_large_keyspace_from_a_sample():
    client = stores.kv.connect("memory:", background=False)
    client.mset({f"k{i:05d}": VALUE for i in range(5000)})
    exact = sum(estimate_key(client.engine.databases[0], f"k{i:05d}".encode()) for i in range(5000))
    reported = client.info("memory")["used_memory"]
    assert abs(reported - exact) <= exact * 0.05
    client.close()
