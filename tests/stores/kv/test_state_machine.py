"""A hypothesis state machine: the engine against a plain-Python model.

Strings, hashes, lists, sets and sorted sets, TTLs with a manual clock,
active expiry cycles, eviction under several policies and "restart" (every key dumped and replayed into a
fresh engine, as an AOF rewrite and reload would) are interleaved; after
every step the engine must agree with the model.
"""

import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import stores.kv
from stores.kv.client import Client
from stores.kv.engine import Engine
from stores.kv.expiry import ManualClock

KEYS = st.sampled_from(["a", "b", "c", "d"])
ITEMS = st.sampled_from(["x", "y", "z", "1", "2"])
SCORES = st.integers(-5, 5).map(float) | st.sampled_from([0.5, 1.25, -2.5])
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


class Model:
    def __init__(self, clock):
        self.clock = clock
        self.data = {}
        self.expires = {}

    def live(self, key):
        when = self.expires.get(key)
        if when is not None and when <= self.clock.now:
            self.data.pop(key, None)
            self.expires.pop(key, None)
        return self.data.get(key)

    def typed(self, key, kind):
        value = self.live(key)
        if value is None:
            return None
        if value[0] != kind:
            raise TypeError
        return value[1]


class EngineMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.clock = ManualClock()
        self.client = stores.kv.connect("memory:", clock=self.clock, background=False)
        self.model = Model(self.clock)

    def teardown(self):
        self.client.close()

    def check(self, kind, key, engine_call, model_call):
        try:
            expected = model_call(self.model.typed(key, kind))
        except TypeError:
            with pytest.raises(redis.exceptions.ResponseError, match="WRONGTYPE"):
                engine_call()
            return
        assert engine_call() == expected

    @rule(key=KEYS, value=ITEMS)
    def set(self, key, value):
        self.client.set(key, value)
        self.model.data[key] = ("string", value.encode())
        self.model.expires.pop(key, None)

    @rule(key=KEYS)
    def get(self, key):
        self.check("string", key, lambda: self.client.get(key), lambda v: v)

    @rule(key=KEYS)
    def incr(self, key):
        def model(value):
            if value is not None and not value.lstrip(b"-").isdigit():
                return "error"
            result = int(value or 0) + 1
            self.model.data[key] = ("string", b"%d" % result)
            return result

        try:
            self.check("string", key, lambda: self.client.incr(key), model)
        except redis.exceptions.ResponseError as exc:
            assert "not an integer" in str(exc)

    @rule(key=KEYS)
    def delete(self, key):
        existed = self.model.live(key) is not None
        assert self.client.delete(key) == int(existed)
        self.model.data.pop(key, None)
        self.model.expires.pop(key, None)

    @rule(key=KEYS, field=ITEMS, value=ITEMS)
    def hset(self, key, field, value):
        def model(h):
            h = dict(h or {})
            new = field.encode() not in h
            h[field.encode()] = value.encode()
            self.model.data[key] = ("hash", h)
            return int(new)

        self.check("hash", key, lambda: self.client.hset(key, field, value), model)

    @rule(key=KEYS, field=ITEMS)
    def hdel(self, key, field):
        def model(h):
            if not h or field.encode() not in h:
                return 0
            h = dict(h)
            del h[field.encode()]
            if h:
                self.model.data[key] = ("hash", h)
            else:
                self.model.data.pop(key)
                self.model.expires.pop(key, None)
            return 1

        self.check("hash", key, lambda: self.client.hdel(key, field), model)

    @rule(key=KEYS)
    def hgetall(self, key):
        self.check("hash", key, lambda: self.client.hgetall(key), lambda h: dict(h or {}))

    @rule(key=KEYS, value=ITEMS, left=st.booleans())
    def push(self, key, value, left):
        def model(items):
            items = list(items or [])
            if left:
                items.insert(0, value.encode())
            else:
                items.append(value.encode())
            self.model.data[key] = ("list", items)
            return len(items)

        call = self.client.lpush if left else self.client.rpush
        self.check("list", key, lambda: call(key, value), model)

    @rule(key=KEYS, left=st.booleans())
    def pop(self, key, left):
        def model(items):
            if not items:
                return None
            items = list(items)
            value = items.pop(0 if left else -1)
            if items:
                self.model.data[key] = ("list", items)
            else:
                self.model.data.pop(key)
                self.model.expires.pop(key, None)
            return value

        call = self.client.lpop if left else self.client.rpop
        self.check("list", key, lambda: call(key), model)

    @rule(key=KEYS, start=st.integers(-4, 4), stop=st.integers(-4, 4))
    def lrange(self, key, start, stop):
        def model(items):
            items = list(items or [])
            size = len(items)
            s = start + size if start < 0 else start
            e = stop + size if stop < 0 else stop
            s = max(s, 0)
            if s > e or s >= size:
                return []
            return items[s : min(e, size - 1) + 1]

        self.check("list", key, lambda: self.client.lrange(key, start, stop), model)

    @rule(key=KEYS, member=ITEMS)
    def sadd(self, key, member):
        def model(members):
            members = set(members or set())
            new = member.encode() not in members
            members.add(member.encode())
            self.model.data[key] = ("set", members)
            return int(new)

        self.check("set", key, lambda: self.client.sadd(key, member), model)

    @rule(key=KEYS, member=ITEMS)
    def srem(self, key, member):
        def model(members):
            if not members or member.encode() not in members:
                return 0
            members = set(members)
            members.discard(member.encode())
            if members:
                self.model.data[key] = ("set", members)
            else:
                self.model.data.pop(key)
                self.model.expires.pop(key, None)
            return 1

        self.check("set", key, lambda: self.client.srem(key, member), model)

    @rule(key=KEYS)
    def smembers(self, key):
        self.check("set", key, lambda: self.client.smembers(key), lambda m: set(m or set()))

    @rule(key=KEYS, member=ITEMS, score=SCORES)
    def zadd(self, key, member, score):
        def model(z):
            z = dict(z or {})
            new = member.encode() not in z
            z[member.encode()] = score
            self.model.data[key] = ("zset", z)
            return int(new)

        self.check("zset", key, lambda: self.client.zadd(key, {member: score}), model)

    @rule(key=KEYS, member=ITEMS, score=SCORES)
    def zincrby(self, key, member, score):
        def model(z):
            z = dict(z or {})
            z[member.encode()] = z.get(member.encode(), 0.0) + score
            self.model.data[key] = ("zset", z)
            return z[member.encode()]

        self.check("zset", key, lambda: self.client.zincrby(key, score, member), model)

    @rule(key=KEYS, member=ITEMS)
    def zrem(self, key, member):
        def model(z):
            if not z or member.encode() not in z:
                return 0
            z = dict(z)
            del z[member.encode()]
            if z:
                self.model.data[key] = ("zset", z)
            else:
                self.model.data.pop(key)
                self.model.expires.pop(key, None)
            return 1

        self.check("zset", key, lambda: self.client.zrem(key, member), model)

    @rule(key=KEYS, rev=st.booleans())
    def zrange(self, key, rev):
        def model(z):
            pairs = sorted(((s, m) for m, s in (z or {}).items()), reverse=rev)
            return [(m, s) for s, m in pairs]

        self.check(
            "zset", key, lambda: self.client.zrange(key, 0, -1, desc=rev, withscores=True), model
        )

    @rule(key=KEYS, ms=st.integers(1, 3000))
    def pexpire(self, key, ms):
        exists = self.model.live(key) is not None
        assert self.client.pexpire(key, ms) == exists
        if exists:
            self.model.expires[key] = self.clock.now + ms

    @rule(key=KEYS)
    def persist(self, key):
        had = self.model.live(key) is not None and key in self.model.expires
        assert self.client.persist(key) == had
        self.model.expires.pop(key, None)

    @rule(ms=st.integers(0, 2000))
    def advance(self, ms):
        self.clock.advance(ms)

    @rule()
    def active_expiry(self):
        self.client.engine.expiry.cycle(budget_seconds=1.0)

    @rule(policy=st.sampled_from(["allkeys-random", "allkeys-lru", "allkeys-lfu", "volatile-ttl"]))
    def evict(self, policy):
        engine = self.client.engine
        used = engine.memory.used_memory()
        if not used:
            return
        self.client.config_set("maxmemory-policy", policy)
        self.client.config_set("maxmemory", max(used // 2, 1))
        engine.cron()
        self.client.config_set("maxmemory", 0)
        self.client.config_set("maxmemory-policy", "noeviction")
        remaining = {k.decode() for k in self.client.keys("*")}
        live = {k for k in list(self.model.data) if self.model.live(k) is not None}
        assert remaining <= live
        if policy.startswith("allkeys"):
            assert remaining != live
        for key in live - remaining:
            self.model.data.pop(key, None)
            self.model.expires.pop(key, None)

    @rule()
    def restart(self):
        old = self.client.engine
        fresh = Engine(clock=self.clock, background=False)
        for db, ks in enumerate(old.databases):
            for key in ks.keys():
                for argv in old.dump_key(db, key):
                    fresh.replay(db, argv)
        self.client.close()
        self.client = Client(fresh, owns_engine=True)

    @invariant()
    def agrees_on_keys_and_ttls(self):
        live = sorted(k for k in list(self.model.data) if self.model.live(k) is not None)
        assert sorted(k.decode() for k in self.client.keys("*")) == live
        for key in live:
            expected = self.model.data[key][0]
            assert self.client.type(key).decode() == expected
            when = self.model.expires.get(key)
            assert self.client.pttl(key) == (-1 if when is None else when - self.clock.now)


EngineMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestEngineMachine = EngineMachine.TestCase
