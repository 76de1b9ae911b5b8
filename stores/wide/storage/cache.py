"""Bounded caches shared by every SSTable reader of the process.

Owns the least-recently-used bookkeeping for parsed partition headers (in
the spirit of Cassandra's key cache), parsed index blocks, and verified
data blocks (Cassandra's chunk cache: a hot read costs no system call and no
second checksum). The bound is
per process, not per SSTable, so many SSTables cannot multiply it. Entries
are keyed by a reader's unique number, so a closed reader's entries simply
age out. Never reads files.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from typing import Any

_reader_numbers = itertools.count(1)


def next_reader_number() -> int:
    """Return a number no other reader of this process has had."""
    return next(_reader_numbers)


class LRUCache:
    """A thread-safe mapping that forgets its least recently used entries.

    Bounded in entries, and, when ``max_bytes`` is given, in the estimated
    bytes of the entries (each ``put`` says how big its value is): parsed
    headers and index blocks vary in size with the partitions they describe.
    """

    def __init__(self, capacity: int, max_bytes: int | None = None) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict = OrderedDict()
        self._sizes: dict = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def get(self, key: Any) -> Any:
        # No lock: each OrderedDict call is atomic under the GIL, and an
        # entry evicted between the two calls costs only its recency.
        value = self._entries.get(key)
        if value is None:
            self.misses += 1
            return None
        try:
            self._entries.move_to_end(key)
        except KeyError:
            pass
        self.hits += 1
        return value

    def put(self, key: Any, value: Any, size: int = 0) -> None:
        """Keep ``value`` under ``key``; ``size`` is its estimated footprint in bytes."""
        max_bytes = self.max_bytes
        if max_bytes is not None and size > max_bytes // 8:
            return  # one huge entry would flush everything else
        with self._lock:
            entries = self._entries
            entries[key] = value
            entries.move_to_end(key)
            sizes = self._sizes
            self.size += size - sizes.get(key, 0)
            sizes[key] = size
            while len(entries) > self.capacity or (max_bytes is not None and self.size > max_bytes):
                evicted, _ = entries.popitem(last=False)
                self.size -= sizes.pop(evicted, 0)
                self.evictions += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._sizes.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._entries)


class BlockCache:
    """Verified block payloads by (reader number, offset), bounded in bytes.

    A block read for one row (a point read) is admitted only on its second
    such read (``offer``): random point reads over a large table would
    otherwise each evict a block for a row nobody reads again, and pay
    the eviction. The keys seen once are kept in a bounded "doorkeeper",
    as in TinyLFU (the admission policy of Cassandra's chunk cache).
    """

    def __init__(self, capacity_bytes: int, doorkeeper_keys: int = 16_384) -> None:
        self.capacity = capacity_bytes
        self.size = 0
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._seen: dict[int, None] = {}
        self._doorkeeper_keys = doorkeeper_keys

    def get(self, key: Any) -> bytes | None:
        value = self._entries.get(key)
        if value is not None:
            try:
                self._entries.move_to_end(key)
            except KeyError:  # evicted meanwhile (see LRUCache.get)
                pass
        return value

    def offer(self, key: Any, value: bytes) -> bool:
        """Keep ``value`` if ``key`` was offered before (recently); return whether it was kept."""
        seen = self._seen
        tag = hash(key)
        if tag in seen:
            del seen[tag]
            self.put(key, value)
            return True
        if len(seen) >= self._doorkeeper_keys:
            # Start afresh, as TinyLFU resets its doorkeeper (dropping the
            # oldest key instead would cost a scan past the holes that
            # deletions leave at the front of a dict).
            seen.clear()
        seen[tag] = None
        return False

    def put(self, key: Any, value: bytes) -> None:
        if len(value) > self.capacity // 8:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= len(old)
            self._entries[key] = value
            self.size += len(value)
            while self.size > self.capacity:
                _, evicted = self._entries.popitem(last=False)
                self.size -= len(evicted)


# Parsed partition headers by (reader number, header offset), for scans and
# compactions; and Cassandra's key cache: (reader number, partition key) ->
# parsed header, so a hot partition skips the bloom filter, the summary and
# the index block. Bounded in entries and in estimated bytes (a header holds
# one row index entry per row block of its partition). The key cache's
# bound is Cassandra's default (key_cache_size: the smaller of 5% of the
# heap and 100 MiB): each eviction frees a header nobody has touched for
# a while, cold in the processor's caches (about 1.5 µs of a read).
HEADERS = LRUCache(50_000, 32 * 1024 * 1024)
KEYS = LRUCache(200_000, 100 * 1024 * 1024)
BLOCKS = BlockCache(64 * 1024 * 1024)
INDEX_BLOCKS = LRUCache(2_048, 64 * 1024 * 1024)
