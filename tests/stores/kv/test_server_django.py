"""The site's Redis users against our server and against a real redis-server:
Django's RedisCache, the cache session engine, channels_redis's pub/sub
channel layer, and the whole site started with ``KV_URL=redis://...``."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings

from tests.stores.kv.server_backends import OurServer

pytestmark = pytest.mark.redis_server


@pytest.fixture(scope="module")
def ours():
    server = OurServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["redis", "ours"])
def target(request, redis_server, ours):
    server = redis_server if request.param == "redis" else ours
    client = redis.Redis(host=server.host, port=server.port)
    client.flushall()
    client.close()
    return server


def test_django_redis_cache(target):
    cache = RedisCache(target.url, {"KEY_PREFIX": "t"})
    try:
        cache.set("page:/", "<html>", timeout=60)
        assert cache.get("page:/") == "<html>"
        assert cache.add("page:/", "other") is False
        assert cache.add("fresh", {"a": [1, 2]}) is True
        assert cache.get("fresh") == {"a": [1, 2]}
        cache.set("hits", 1)
        assert cache.incr("hits", 5) == 6
        assert cache.decr("hits") == 5
        cache.set_many({"x": 1, "y": 2})
        assert cache.get_many(["x", "y", "z"]) == {"x": 1, "y": 2}
        assert cache.touch("x", 100) is True
        assert cache.has_key("y")
        cache.delete_many(["x", "y"])
        assert cache.get("x") is None
        cache.set("short", "v", timeout=0.01)
        time.sleep(0.05)
        assert cache.get("short") is None
        cache.clear()
        assert cache.get("page:/") is None
    finally:
        cache.close()


def test_cache_session_engine(target):
    caches = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "sessions": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": target.url,
        },
    }
    with override_settings(
        CACHES=caches,
        SESSION_ENGINE="django.contrib.sessions.backends.cache",
        SESSION_CACHE_ALIAS="sessions",
    ):
        from django.contrib.sessions.backends.cache import SessionStore
        from django.core.cache import caches as cache_handler

        try:
            session = SessionStore()
            session["user"] = "ada"
            session.save()
            key = session.session_key
            loaded = SessionStore(session_key=key)
            assert loaded["user"] == "ada"
            loaded.delete()
            assert SessionStore(session_key=key).get("user") is None
        finally:
            cache_handler["sessions"].close()


def test_channels_redis_pubsub_layer(target):
    from channels_redis.pubsub import RedisPubSubChannelLayer

    async def scenario():
        layer = RedisPubSubChannelLayer(hosts=[target.url])
        try:
            channel = await layer.new_channel()
            await layer.group_add("leaderboard", channel)
            await asyncio.sleep(0.05)
            await layer.group_send("leaderboard", {"type": "score.update", "post": 7})
            message = await asyncio.wait_for(layer.receive(channel), 10)
            assert message == {"type": "score.update", "post": 7}
            await layer.send(channel, {"type": "direct", "n": 1})
            assert await asyncio.wait_for(layer.receive(channel), 10) == {"type": "direct", "n": 1}
            await layer.group_discard("leaderboard", channel)
        finally:
            await layer.flush()

    asyncio.run(scenario())


def test_the_site_runs_with_kv_url_pointing_at_the_server(target):
    from tests.support.live_site import start_live_site

    site = start_live_site(KV_URL=target.url)
    try:
        import urllib.request

        with urllib.request.urlopen(site.url + "/", timeout=30) as response:
            assert response.status == 200
        done = site.manage(
            "shell",
            "-c",
            "from django.core.cache import cache; cache.set('through-the-site', 42); "
            "print(cache.get('through-the-site'))",
        )
        assert done.stdout.strip().splitlines()[-1] == "42"
    finally:
        site.stop()
    client = redis.Redis(host=target.host, port=target.port)
    try:
        assert any(b"through-the-site" in key for key in client.scan_iter())
    finally:
        client.close()
