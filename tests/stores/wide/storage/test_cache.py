"""The shared LRU cache keeps its bound and its most recent entries."""

from stores.wide.storage.cache import BlockCache, LRUCache, next_reader_number


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


def test_block_cache_is_bounded_in_bytes():
    cache = BlockCache(800)
    for i in range(20):
        cache.put(i, b"x" * 90)
    assert cache.size <= 800 and cache.get(19) == b"x" * 90 and cache.get(0) is None
    cache.put("huge", b"x" * 500)  # more than an eighth of the cache: not kept
    assert cache.get("huge") is None
