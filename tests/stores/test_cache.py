"""stores.cache.KVCache: Django's cache API on the stores.clients handles."""

import pytest
from django.core.cache.backends.base import InvalidCacheBackendError  # noqa: F401

from stores import clients
from stores.cache import KVCache


@pytest.fixture(params=["memory", "redis"])
def kv_url(request, settings):
    if request.param == "redis":
        settings.KV_URL = request.getfixturevalue("redis_server").url
    else:
        settings.KV_URL = "memory:"
    clients.reset()
    if request.param == "redis":
        clients.kv().flushall()
    yield request.param
    clients.reset()


def _cache(location="main", prefix="t"):
    return KVCache(location, {"KEY_PREFIX": prefix, "TIMEOUT": 60})


def test_get_set_delete_and_types(kv_url):
    cache = _cache()
    assert cache.get("missing") is None
    cache.set("k", {"html": "<p>x</p>", "n": [1, 2]})
    assert cache.get("k") == {"html": "<p>x</p>", "n": [1, 2]}
    cache.set("n", 5)
    assert cache.incr("n", 2) == 7
    assert cache.add("k", "other") is False
    assert cache.get_many(["k", "n", "nope"]) == {"k": {"html": "<p>x</p>", "n": [1, 2]}, "n": 7}
    cache.delete_many(["k", "n"])
    assert cache.get("k") is None
    with pytest.raises(ValueError):
        cache.incr("absent")


def test_get_honours_default_version_and_integers_as_djangos_does(kv_url):
    cache = _cache()
    assert cache.get("missing", "fallback") == "fallback"
    cache.set("v", "one", version=1)
    cache.set("v", "two", version=2)
    assert (cache.get("v", version=1), cache.get("v", version=2), cache.get("v")) == (
        "one",
        "two",
        "one",
    )
    cache.set("n", 41)
    cache.incr("n")
    assert cache.get("n") == 42 and type(cache.get("n")) is int
    cache.set("zero", 0)
    assert cache.get("zero", "fallback") == 0


@pytest.mark.parametrize("location", ["main", "pages"])
def test_a_cache_follows_the_handles_after_clients_reset(kv_url, location):
    cache = _cache(location)
    cache.set("k", "before")
    clients.reset()
    # A fresh embedded store is empty; a real Redis keeps its data.
    assert cache.get("k") == ("before" if kv_url == "redis" else None)
    cache.set("k2", "after")
    handle = clients.kv() if location == "main" else clients.kv_pages()
    assert handle.exists(cache.make_key("k2")) == 1


def test_timeouts_become_key_ttls(kv_url):
    cache = _cache()
    cache.set("t", "v", timeout=30)
    raw_key = cache.make_key("t")
    assert 0 < clients.kv().ttl(raw_key) <= 30
    cache.set("forever", "v", timeout=None)
    assert clients.kv().ttl(cache.make_key("forever")) == -1
    cache.set("gone", "v", timeout=0)
    assert cache.get("gone") is None


def test_clear_removes_only_its_own_prefix(kv_url):
    mine, theirs = _cache(prefix="mine"), _cache(prefix="theirs")
    mine.set_many({f"k{i}": i for i in range(1200)})
    theirs.set("keep", 1)
    clients.kv().set("unrelated", b"1")
    mine.clear()
    assert mine.get("k1") is None
    assert theirs.get("keep") == 1
    assert clients.kv().get("unrelated") == b"1"


def test_glob_characters_in_prefix_are_literal(kv_url):
    starred, plain = _cache(prefix="a*"), _cache(prefix="ab")
    plain.set("x", 1)
    starred.set("x", 2)
    starred.clear()
    assert plain.get("x") == 1


def test_pages_handle_is_separate_from_sessions_when_embedded(kv_url):
    pages, sessions = _cache("pages", "page"), _cache("main", "session")
    pages.set("p", "html")
    sessions.set("s", "data")
    if kv_url == "memory":
        assert clients.kv_pages() is not clients.kv()
        assert clients.kv().get(pages.make_key("p")) is None
    else:
        assert clients.kv_pages() is clients.kv()
    assert pages.get("p") == "html" and sessions.get("s") == "data"


def test_unknown_location_is_refused(kv_url):
    with pytest.raises(ValueError, match="LOCATION must be one of"):
        _cache("elsewhere").get("x")


@pytest.mark.parametrize(
    "value", [0, 7, -12, 2**70, True, 1.5, "text", b"\x80bytes", {"html": "<p>"}, None]
)
def test_serializer_reads_what_djangos_writes(value):
    from django.core.cache.backends.redis import RedisSerializer

    from stores.cache import KVSerializer

    stored = RedisSerializer().dumps(value)
    raw = str(stored).encode() if isinstance(stored, int) else stored
    assert KVSerializer().loads(raw) == value
    assert type(KVSerializer().loads(raw)) is type(value)


def test_page_cache_pressure_evicts_pages_never_sessions(settings):
    settings.KV_URL = "memory:"
    settings.KV_PAGE_CACHE_MAXMEMORY = 128 * 1024
    clients.reset()
    try:
        pages, sessions = _cache("pages", "page"), _cache("main", "session")
        for i in range(50):
            sessions.set(f"s{i}", {"user": i})
        page = "<p>" + "x" * 20_000 + "</p>"
        for i in range(60):
            pages.set(f"p{i}", page)
        assert clients.kv_pages().dbsize() < 60
        assert pages.get("p59") == page
        assert all(sessions.get(f"s{i}") == {"user": i} for i in range(50))
    finally:
        clients.reset()


@pytest.mark.parametrize(
    "value",
    [b"<html>", b"plain", b"\x00\x01", b"", b"\x80x", b"12", b"-1", b"+1", b" 5", b"\t", b"\xff"],
)
def test_bytes_round_trip_raw_only_when_unambiguous(kv_url, value):
    cache = _cache("pages", "p")
    cache.set("b", value)
    assert cache.get("b") == value and type(cache.get("b")) is bytes
    stored = clients.kv_pages().get(cache.make_key("b"))
    first = value[:1]
    raw = bool(value) and first != b"\x80" and first not in b"+-0123456789 \t\n\r\x0b\x0c"
    assert (stored == value) is raw
    assert cache.get_many(["b"]) == {"b": value}


def test_get_records_one_get_on_the_trace(kv_url):
    from stores import tracing

    cache = _cache("pages", "page")
    cache.set("k", b"<p>v</p>")
    with tracing.tracing() as trace:
        assert cache.get("k") == b"<p>v</p>"
        assert cache.get("absent", "d") == "d"
    label = clients.kv_pages().trace_label  # "main" when KV_URL is a Redis
    assert [(e.store, e.label, e.text, e.outcome, e.failed) for e in trace.events] == [
        ("kv", label, "GET page:1:k", "value", False),
        ("kv", label, "GET page:1:absent", "nil", False),
    ]
    assert all(e.seconds >= 0 for e in trace.events)


def test_get_of_a_key_of_another_type_raises_and_is_traced(kv_url):
    from redis.exceptions import ResponseError

    from stores import tracing

    cache = _cache("pages", "page")
    clients.kv_pages().rpush(cache.make_key("list"), b"x")
    with tracing.tracing() as trace, pytest.raises(ResponseError, match="WRONGTYPE"):
        cache.get("list")
    assert trace.events[-1].failed and "WRONGTYPE" in trace.events[-1].outcome
    assert trace.is_store_error(trace.errors[-1])


def test_get_counts_keyspace_hits_and_misses_on_the_engine(settings):
    settings.KV_URL = "memory:"
    clients.reset()
    try:
        cache = _cache("pages", "page")
        cache.set("k", "v")
        before = clients.kv_pages().info("stats")
        cache.get("k")
        cache.get("nope")
        after = clients.kv_pages().info("stats")
        assert after["keyspace_hits"] == before["keyspace_hits"] + 1
        assert after["keyspace_misses"] == before["keyspace_misses"] + 1
    finally:
        clients.reset()


def test_get_expires_keys_and_honours_versions_and_odd_keys(kv_url):
    cache = _cache("pages", "page")
    cache.set("v", "one", version=2)
    cache.set("v", "default")
    assert (cache.get("v"), cache.get("v", version=2), cache.get("v", version=3)) == (
        "default",
        "one",
        None,
    )
    cache.set(42, "int key")
    assert cache.get(42) == "int key"
    cache.set("short", "v", timeout=1)
    clients.kv_pages().pexpire(cache.make_key("short"), 1)
    import time

    time.sleep(0.01)
    assert cache.get("short") is None


def test_key_memo_is_bounded(kv_url, monkeypatch):
    import stores.cache

    monkeypatch.setattr(stores.cache, "KEY_MEMO_SIZE", 8)
    cache = _cache("pages", "page")
    for i in range(50):
        cache.get(f"k{i}")
    assert len(cache._keys) <= 8


def test_get_passes_gets_command_to_the_engine_session(settings):
    # The read skips the command lookup as the client's hot methods do, and
    # still answers as the session's general entry point does.
    from stores.kv.commands import COMMANDS

    settings.KV_URL = "memory:"
    clients.reset()
    try:
        cache = _cache("pages", "page")
        cache.set("page", b"<html>")
        cache.set("n", 7)
        client = cache._cache
        seen = []
        run = client._session_run
        client._session_run = lambda argv, *cmd: (seen.append((argv, cmd)), run(argv, *cmd))[1]
        assert (cache.get("page"), cache.get("n"), cache.get("nope", "d")) == (b"<html>", 7, "d")
        assert [cmd for _, cmd in seen] == [(COMMANDS[b"GET"],)] * 3
        assert [argv for argv, _ in seen] == [
            [b"GET", cache.make_key(k).encode()] for k in ("page", "n", "nope")
        ]
        session = client._session
        assert [session.execute(argv) for argv, _ in seen] == [b"<html>", b"7", None]
    finally:
        clients.reset()
