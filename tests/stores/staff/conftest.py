"""Fixtures for the staff pages: a store with known keys and users of each kind."""

import pytest

from stores import clients


@pytest.fixture
def kv(settings, redis_server):
    """Point the site's key-value handle at a real redis-server with a few keys."""
    settings.KV_URL = redis_server.url
    clients.reset()
    handle = clients.kv()
    handle.flushall()
    handle.set("greeting", "hello")
    handle.set("blob", b"\x00\xff\x10binary")
    handle.set("ticket:abc", "x", ex=30)
    handle.hset("user:1", mapping={"name": "ada", "lang": "en"})
    handle.rpush("queue:jobs", *[f"job{i}" for i in range(120)])
    handle.sadd("tags", "redis", "cassandra")
    handle.zadd("board:views", {"post:1": 10, "post:2": 30, "post:3": 20})
    for i in range(60):
        handle.set(f"post:{i}:title", f"Post {i}")
    yield handle
    handle.flushall()
    clients.reset()


@pytest.fixture
def user_clients(client, django_user_model):
    """Return a function giving a logged-in test client per role."""
    from django.test import Client

    users = {
        "user": django_user_model.objects.create_user("plain", password="pw"),
        "staff": django_user_model.objects.create_user("staffer", password="pw", is_staff=True),
        "superuser": django_user_model.objects.create_superuser("root", password="pw"),
    }

    def as_role(role):
        if role == "anonymous":
            return Client()
        c = Client()
        c.force_login(users[role])
        return c

    return as_role
