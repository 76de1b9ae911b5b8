"""One logical database: its keys, their values, expiry times and access data.

A ``Keyspace`` maps byte-string keys to values of five Python types, one per
Redis type (``bytes`` string, ``dict`` hash, ``deque`` list, ``set`` set,
``ZSet`` sorted set), keeps absolute expiry times in milliseconds in a
second dict (Redis's ``expires`` dict), and the access time or LFU counter
each eviction policy needs. Lookups expire keys lazily. It never takes the
engine lock (callers hold it) and never writes to disk.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sortedcontainers import SortedList

from stores.kv.lazyfree import LAZY_THRESHOLD
from stores.kv.types.zsets import ZSet

if TYPE_CHECKING:
    from stores.kv.engine import Engine

TYPE_NAMES = {bytes: b"string", dict: b"hash", deque: b"list", set: b"set", ZSet: b"zset"}
HASH_MASK = (1 << 63) - 1
SMALL_SAMPLE = 64
LFU_INIT_VAL = 5

_monotonic = time.monotonic


def key_hash(key: bytes) -> int:
    """Return the unsigned 64-bit hash that orders SCAN cursors."""
    return hash(key) & HASH_MASK


class Keyspace:
    """A logical database (``SELECT`` index ``index``)."""

    __slots__ = (
        "index",
        "engine",
        "data",
        "expires",
        "access",
        "freq",
        "hits",
        "misses",
        "scan_index",
        "scan_used",
        "_snapshot",
        "_volatile_snapshot",
        "_expire_cursor",
    )

    def __init__(self, index: int, engine: Engine) -> None:
        self.index = index
        self.engine = engine
        self.data: dict[bytes, Any] = {}
        self.expires: dict[bytes, int] = {}
        self.access: dict[bytes, float] = {}
        self.freq: dict[bytes, list] | None = None
        self.hits = 0
        self.misses = 0
        self.scan_index: SortedList | None = None
        self.scan_used = 0.0
        self._snapshot: list[bytes] | None = None
        self._volatile_snapshot: list[bytes] | None = None
        self._expire_cursor: Iterator[bytes] | None = None

    def __len__(self) -> int:
        return len(self.data)

    def keys(self) -> list[bytes]:
        """Return a snapshot list of the keys (safe to walk in chunks)."""
        return list(self.data)

    # -- lookups -----------------------------------------------------------

    def get(self, key: bytes) -> Any:
        """Return the value of ``key`` for a read (None if missing or expired)."""
        expires = self.expires
        if expires and key in expires and expires[key] <= self.engine.clock():
            self.expire_now(key)
            self.misses += 1
            return None
        value = self.data.get(key)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        if self.freq is None:
            self.access[key] = _monotonic()
        else:
            self._touch_lfu(key)
        return value

    def get_for_write(self, key: bytes) -> Any:
        """Return the value of ``key`` for a write (no hit/miss accounting)."""
        expires = self.expires
        if expires and key in expires and expires[key] <= self.engine.clock():
            self.expire_now(key)
            return None
        value = self.data.get(key)
        if value is not None:
            if self.freq is None:
                self.access[key] = _monotonic()
            else:
                self._touch_lfu(key)
        return value

    def peek(self, key: bytes) -> Any:
        """Return the value without touching access data or expiring it."""
        return self.data.get(key)

    def exists(self, key: bytes) -> bool:
        """Return True if ``key`` exists and is not expired."""
        expires = self.expires
        if expires and key in expires and expires[key] <= self.engine.clock():
            self.expire_now(key)
            return False
        return key in self.data

    # -- writes ------------------------------------------------------------

    def set(self, key: bytes, value: Any, keep_ttl: bool = False) -> None:
        """Store ``value`` at ``key``; drop any TTL unless ``keep_ttl``."""
        data = self.data
        if self.scan_index is not None and key not in data:
            self.scan_index.add((key_hash(key), key))
        data[key] = value
        if not keep_ttl and self.expires:
            self.expires.pop(key, None)
        if self.freq is None:
            self.access[key] = _monotonic()
        elif key not in self.freq:
            self.freq[key] = [LFU_INIT_VAL, self.engine.clock() // 60000]

    def delete(self, key: bytes, free: bool = True) -> bool:
        """Remove ``key``; return True if it existed.

        A large value is emptied in the background unless ``free`` is False
        (the caller keeps using the value, as RENAME does).
        """
        value = self.data.pop(key, None)
        if value is None:
            return False
        if free and type(value) is not bytes and len(value) > LAZY_THRESHOLD:
            self.engine.lazyfree.submit(value)
        if self.expires:
            self.expires.pop(key, None)
        self.access.pop(key, None)
        if self.freq is not None:
            self.freq.pop(key, None)
        if self.scan_index is not None:
            self.scan_index.discard((key_hash(key), key))
        self.engine.forget_key_memory(self, key)
        return True

    def expire_now(self, key: bytes) -> None:
        """Delete an expired key and propagate its deletion as ``DEL``."""
        if not self.delete(key):
            self.expires.pop(key, None)
            return
        engine = self.engine
        engine.stats["expired_keys"] += 1
        engine.key_expired(self.index, key)

    def set_expire(self, key: bytes, when_ms: int) -> None:
        """Set the absolute expiry time of an existing key."""
        self.expires[key] = when_ms

    def persist(self, key: bytes) -> bool:
        """Remove the TTL of ``key``; return True if it had one."""
        return self.expires.pop(key, None) is not None

    def ttl_ms(self, key: bytes) -> int | None:
        """Return the absolute expiry of ``key`` in ms, or None."""
        return self.expires.get(key)

    def clear(self) -> None:
        """Remove every key (a large keyspace is freed in the background)."""
        if len(self.data) > LAZY_THRESHOLD:
            self.engine.lazyfree.submit(self.data)
            self.engine.lazyfree.submit(self.access)
        self.data = {}
        self.expires = {}
        self.access = {}
        if self.freq is not None:
            self.freq = {}
        self.scan_index = None
        self._snapshot = None
        self._volatile_snapshot = None
        self._expire_cursor = None

    def swap_contents(self, other: Keyspace) -> None:
        """Exchange every key with ``other`` (SWAPDB)."""
        for name in ("data", "expires", "access", "freq", "scan_index"):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, theirs)
            setattr(other, name, mine)
        for ks in (self, other):
            ks._snapshot = ks._volatile_snapshot = ks._expire_cursor = None

    # -- access data (LRU clock, LFU counters) -------------------------------

    def enable_lfu(self, enabled: bool) -> None:
        """Track LFU counters instead of access times (LFU policies)."""
        if enabled and self.freq is None:
            minute = self.engine.clock() // 60000
            self.freq = {key: [LFU_INIT_VAL, minute] for key in self.data}
        elif not enabled and self.freq is not None:
            self.freq = None
            now = _monotonic()
            self.access = dict.fromkeys(self.data, now)

    def _touch_lfu(self, key: bytes) -> None:
        entry = self.freq.get(key)
        minute = self.engine.clock() // 60000
        if entry is None:
            self.freq[key] = [LFU_INIT_VAL, minute]
            return
        self._decay(entry, minute)
        counter = entry[0]
        if counter < 255:
            factor = self.engine.config_lfu_log_factor
            base = max(counter - LFU_INIT_VAL, 0)
            if random.random() < 1.0 / (base * factor + 1):
                entry[0] = counter + 1
        entry[1] = minute

    def _decay(self, entry: list, minute: int) -> None:
        period = self.engine.config_lfu_decay_time
        if period and minute > entry[1]:
            entry[0] = max(0, entry[0] - (minute - entry[1]) // period)

    def lfu_counter(self, key: bytes) -> int:
        """Return the decayed LFU counter of ``key`` (OBJECT FREQ)."""
        entry = self.freq.get(key) if self.freq is not None else None
        if entry is None:
            return 0
        copy = list(entry)
        self._decay(copy, self.engine.clock() // 60000)
        return copy[0]

    def idle_seconds(self, key: bytes) -> int:
        """Return seconds since ``key`` was last accessed (OBJECT IDLETIME)."""
        last = self.access.get(key)
        return 0 if last is None else int(_monotonic() - last)

    # -- sampling (eviction, RANDOMKEY, active expiry) -----------------------

    def random_keys(self, count: int, volatile: bool = False) -> list[bytes]:
        """Return up to ``count`` existing keys picked at random."""
        source = self.expires if volatile else self.data
        size = len(source)
        if not size:
            return []
        if size <= SMALL_SAMPLE:
            pool = list(source)
            return random.sample(pool, min(count, size))
        snapshot = self._volatile_snapshot if volatile else self._snapshot
        if snapshot is None or abs(len(snapshot) - size) > len(snapshot) // 4:
            snapshot = list(source)
        picked: list[bytes] = []
        misses = 0
        while len(picked) < count and misses < 4 * count:
            key = snapshot[random.randrange(len(snapshot))]
            if key in source:
                picked.append(key)
            else:
                misses += 1
        if misses >= 4 * count:
            snapshot = None
        if volatile:
            self._volatile_snapshot = snapshot
        else:
            self._snapshot = snapshot
        return picked

    def next_volatile_keys(self, count: int) -> list[bytes]:
        """Return the next ``count`` keys with a TTL, walking the expires dict in rounds."""
        if not self.expires:
            self._expire_cursor = None
            return []
        picked: list[bytes] = []
        for _ in range(2):
            if self._expire_cursor is None:
                self._expire_cursor = iter(list(self.expires))
            for key in self._expire_cursor:
                if key in self.expires:
                    picked.append(key)
                    if len(picked) >= count:
                        return picked
            self._expire_cursor = None
            if picked:
                break
        return picked

    # -- SCAN ----------------------------------------------------------------

    def scan(self, cursor: int, count: int) -> tuple[int, list[bytes]]:
        """Return (next cursor, keys) walking keys in hash order from ``cursor``.

        Keys present for the whole scan are returned exactly once: the cursor
        is one more than the hash of the next key to return, and a key's hash
        never changes.
        """
        index = self.scan_index
        if index is None:
            index = SortedList((key_hash(k), k) for k in self.data)
            self.scan_index = index
        self.scan_used = _monotonic()
        start = index.bisect_left((cursor - 1, b"")) if cursor else 0
        found: list[bytes] = []
        total = len(index)
        position = start
        while position < total and len(found) < count:
            found.append(index[position][1])
            position += 1
        while position < total and found and index[position][0] == key_hash(found[-1]):
            found.append(index[position][1])
            position += 1
        if position >= total:
            return 0, found
        return index[position][0] + 1, found

    def drop_idle_scan_index(self, idle_seconds: float) -> None:
        """Forget the SCAN index if no SCAN used it for ``idle_seconds``."""
        if self.scan_index is not None and _monotonic() - self.scan_used > idle_seconds:
            self.scan_index = None
