"""Fixtures for the key-value engine tests.

``r`` is the compatibility fixture: the same test body runs once against
redis-py talking to a real redis-server (the reference, Redis 7.0) and once
against ``stores.kv.connect("memory:")``. Both must pass.
"""

from __future__ import annotations

import pytest
import redis

import stores.kv
from stores.kv.commands import COMMANDS, FALLBACK
from stores.kv.engine import Engine
from stores.kv.expiry import ManualClock
from tests.stores.kv.server_backends import kill_leftover_servers


@pytest.fixture(autouse=True)
def _no_leftover_server_processes():
    """Kill any ``python -m stores.kv`` child a test started and left running (a failed test)."""
    yield
    kill_leftover_servers()


@pytest.fixture(scope="session")
def real_redis(redis_server):
    client = redis.Redis(host=redis_server.host, port=redis_server.port)
    yield client
    client.close()


@pytest.fixture(params=["redis", "kv"])
def r(request):
    """Yield a flushed client: real Redis first, then the embedded engine."""
    if request.param == "redis":
        client = request.getfixturevalue("real_redis")
        client.flushall()
        client.config_set("maxmemory", 0)
        client.config_set("maxmemory-policy", "noeviction")
        yield client
        client.flushall()
    else:
        client = stores.kv.connect("memory:", background=False)
        yield client
        client.close()


@pytest.fixture(params=["redis", "kv"])
def rd(request):
    """Like ``r`` but with decode_responses=True."""
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        client = redis.Redis(host=server.host, port=server.port, decode_responses=True)
        client.flushall()
        yield client
        client.flushall()
        client.close()
    else:
        client = stores.kv.connect("memory:", background=False, decode_responses=True)
        yield client
        client.close()


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def engine(clock):
    eng = Engine(clock=clock, background=False)
    yield eng
    eng.close()


@pytest.fixture
def session(engine):
    return engine.new_session()


@pytest.fixture
def kv(clock):
    """Yield an embedded client whose engine runs on a manual clock."""
    client = stores.kv.connect("memory:", clock=clock, background=False)
    yield client
    client.close()


# The fast lane's test fixtures (test_fast_lane.py, test_run_transaction.py).
FAST = [
    b"GET",
    b"SET",
    b"INCR",
    b"DECR",
    b"INCRBY",
    b"DECRBY",
    b"HSET",
    b"LPUSH",
    b"RPUSH",
    b"ZINCRBY",
    b"ZREVRANGE",
    b"EXPIREAT",
    b"PEXPIREAT",
]


@pytest.fixture
def taken(monkeypatch):
    """Count, per command, the fast paths that did the whole command."""
    counts: dict[bytes, int] = {}
    for name in FAST:
        cmd = COMMANDS[name]

        def spy(s, argv, log, original=cmd.fast, name=name):
            reply = original(s, argv, log)
            if reply is not FALLBACK:
                counts[name] = counts.get(name, 0) + 1
            return reply

        monkeypatch.setattr(cmd, "fast", spy)
    return counts


@pytest.fixture
def handlers_without_fast_paths(monkeypatch):
    """Make the handlers skip the fast paths they share, so they run only their general code.

    The lane keeps calling the real fast paths (``Command.fast``); an engine
    whose lane is closed then runs an independent implementation.
    """
    from stores.kv.types import hashes, lists, strings, zsets

    def never(*args):
        return FALLBACK

    for module, name in [
        (lists, "lpush_fast"),
        (hashes, "hset_fast"),
        (strings, "incr_fast"),
        (strings, "_incr_fast"),
        (zsets, "zincrby_fast"),
    ]:
        assert callable(getattr(module, name))
        monkeypatch.setattr(module, name, never)
