"""Parsing of KV_URL and WIDE_URL."""

import pytest

from stores.config import StoreURLError, parse_kv_url, parse_wide_url


@pytest.mark.parametrize(
    ("value", "kind", "path", "db"),
    [
        ("embedded:var/kv", "embedded", "var/kv", 0),
        ("embedded:///srv/kv", "embedded", "/srv/kv", 0),
        ("memory:", "memory", None, 0),
        ("redis://127.0.0.1:6380/0", "redis", None, 0),
        ("redis://:secret@localhost/3", "redis", None, 3),
        ("rediss://cache.example:6380", "redis", None, 0),
    ],
)
def test_kv_urls(value, kind, path, db):
    target = parse_kv_url(value)
    assert (target.kind, target.path, target.db) == (kind, path, db)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "expected a URL"),
        ("var/kv", "expected a URL"),
        ("postgres://x/1", "unknown scheme 'postgres'"),
        ("embedded:", "needs a data directory"),
        ("memory:/x", "takes no path"),
        ("redis://", "needs a host"),
        ("redis://host:notaport/0", "bad port"),
        ("redis://host:6379/db", "database must be a number"),
    ],
)
def test_bad_kv_urls_name_setting_and_value(value, reason):
    with pytest.raises(StoreURLError) as info:
        parse_kv_url(value)
    message = str(info.value)
    assert message.startswith(f"KV_URL={value!r}")
    assert reason in message


def test_wide_urls():
    target = parse_wide_url("cassandra://h1,h2:9043/blog")
    assert target.kind == "cassandra"
    assert target.hosts == ("h1", "h2")
    assert target.port == 9043
    assert target.keyspace == "blog"
    assert parse_wide_url("cassandra://127.0.0.1").port == 9042
    user = parse_wide_url("cassandra://alice:p%40ss@db1/blog")
    assert (user.username, user.password, user.hosts) == ("alice", "p@ss", ("db1",))
    assert parse_wide_url("embedded:var/wide").path == "var/wide"
    assert parse_wide_url("memory:").kind == "memory"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("mysql://db/blog", "unknown scheme 'mysql'"),
        ("cassandra:db/blog", "expected cassandra://"),
        ("cassandra://h1,,h2/blog", "empty host"),
        ("cassandra://h1:99999/blog", "bad port"),
        ("cassandra://h1/bad-name", "bad keyspace name"),
    ],
)
def test_bad_wide_urls(value, reason):
    with pytest.raises(StoreURLError) as info:
        parse_wide_url(value)
    assert str(info.value).startswith(f"WIDE_URL={value!r}")
    assert reason in str(info.value)
