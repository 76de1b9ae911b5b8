"""Fixtures for the blog tests: fresh stores for each test, on both key-value targets.

Every test that asks for ``stores`` runs twice: with the embedded key-value
engine (``memory:``) and with redis-py against a real redis-server (the
session's ``redis_server`` fixture, flushed before each test). The
wide-column store is always a fresh embedded ``memory:`` store, whose schema
the blog applies on first use.
"""

from __future__ import annotations

import pytest
from django.core.cache import caches

from stores import clients

KV_TARGETS = ["memory", "redis"]


@pytest.fixture(params=KV_TARGETS)
def stores(request, settings):
    """Point KV_URL at a fresh store (memory: or a real Redis) and WIDE_URL at memory:."""
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        settings.KV_URL = server.url
    else:
        settings.KV_URL = "memory:"
    settings.WIDE_URL = "memory:"
    settings.BLOG_MEMORY_SEED = ""
    clients.reset()
    if request.param == "redis":
        clients.kv().flushall()
    for cache in caches.all(initialized_only=True):
        cache.__dict__.pop("_cache", None)
    yield request.param
    clients.reset()


@pytest.fixture
def wide_store(settings):
    """Point WIDE_URL at a fresh memory: store (the key-value store is left alone)."""
    settings.WIDE_URL = "memory:"
    settings.BLOG_MEMORY_SEED = ""
    clients.reset()
    yield
    clients.reset()


@pytest.fixture
def repo(wide_store):
    """Return the blog repository on a fresh wide-column store."""
    from blog.repositories import repository

    return repository()


@pytest.fixture
def reader(db, django_user_model):
    """Return a signed-up, non-staff user."""
    return django_user_model.objects.create_user("ada", password="pw-for-tests-1")


@pytest.fixture
def editor(db, django_user_model):
    """Return a staff user."""
    return django_user_model.objects.create_user("grace", password="pw-for-tests-2", is_staff=True)
