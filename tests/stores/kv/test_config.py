"""Config: Redis names, memory notation, validation texts, listeners."""

import pytest

from stores.kv.config import Config, parse_memory
from stores.kv.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("100", 100),
        ("1k", 1000),
        ("1kb", 1024),
        ("2mb", 2 * 1024**2),
        ("1gb", 1024**3),
        ("3M", 3_000_000),
        (5, 5),
    ],
)
def test_parse_memory(text, size):
    assert parse_memory(text) == size


@pytest.mark.parametrize("text", ["", "1x", "-5", "mb", "1.5mb"])
def test_parse_memory_rejects(text):
    with pytest.raises(ConfigError):
        parse_memory(text)


def test_set_get_match_and_listeners():
    config = Config(maxmemory_policy="allkeys-lfu")
    seen = []
    config.on_change(lambda name, value: seen.append((name, value)))
    config.set("maxmemory", "10mb")
    assert config.get("maxmemory") == 10 * 1024**2
    assert config.render("maxmemory") == str(10 * 1024**2)
    assert config.get("maxmemory-policy") == "allkeys-lfu"
    assert seen == [("maxmemory", 10 * 1024**2)]
    assert config.match("maxmemory*") == ["maxmemory", "maxmemory-policy", "maxmemory-samples"]
    assert config.get("hash-max-ziplist-entries") == 128
    with pytest.raises(ConfigError, match="must be one of"):
        config.set("maxmemory-policy", "sometimes")
    with pytest.raises(ConfigError, match="immutable"):
        config.set("databases", "4")
    with pytest.raises(ConfigError, match="yes"):
        config.set("appendonly", "maybe")
