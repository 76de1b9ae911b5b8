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
    assert len(cache) == 2 and cache.hits == 3 and cache.misses == 1 and cache.evictions == 1


def test_reader_numbers_are_unique():
    assert len({next_reader_number() for _ in range(100)}) == 100


def test_block_cache_is_bounded_in_bytes():
    cache = BlockCache(800)
    for i in range(20):
        cache.put(i, b"x" * 90)
    assert cache.size <= 800 and cache.get(19) == b"x" * 90 and cache.get(0) is None
    cache.put("huge", b"x" * 500)  # more than an eighth of the cache: not kept
    assert cache.get("huge") is None


def test_lru_cache_is_bounded_in_estimated_bytes_too():
    cache = LRUCache(100, max_bytes=800)
    for i in range(20):
        cache.put(i, str(i), 90)
    assert cache.size <= 800 and len(cache) == 8
    assert cache.get(19) == "19" and cache.get(0) is None
    cache.put(19, "again", 10)  # replacing an entry replaces its size
    assert cache.size == 7 * 90 + 10
    cache.put("huge", "x", 500)  # more than an eighth of the cache: not kept
    assert cache.get("huge") is None
    cache.clear()
    assert len(cache) == 0 and cache.size == 0


def test_block_cache_admits_an_offered_block_on_its_second_offer():
    cache = BlockCache(8000, doorkeeper_keys=4)
    assert cache.offer("a", b"x" * 10) is False and cache.get("a") is None
    assert cache.offer("a", b"x" * 10) is True and cache.get("a") == b"x" * 10
    # The doorkeeper is bounded: when full, it starts afresh.
    for key in "bcde":
        assert cache.offer(key, b"y") is False
    assert len(cache._seen) == 4
    assert cache.offer("f", b"y") is False and len(cache._seen) == 1
    assert cache.offer("b", b"y") is False  # forgotten: a first offer again
    assert cache.offer("f", b"y") is True
    assert cache.size == 11
