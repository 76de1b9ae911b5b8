"""The shared LRU cache keeps its bound and its most recent entries."""

from stores.wide.storage.cache import LRUCache, next_reader_number


def test_evicts_least_recently_used():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)
    assert len(cache) == 2 and cache.hits == 3 and cache.misses == 1


def test_reader_numbers_are_unique():
    assert len({next_reader_number() for _ in range(100)}) == 100
