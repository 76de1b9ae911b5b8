"""Approximate memory accounting and maxmemory eviction with Redis's eight policies.

``estimate_value`` gives a key's approximate footprint the way Redis's
``MEMORY USAGE`` does: exact-ish for strings, and for collections a per
element overhead plus the average size of a few sampled elements. When
``maxmemory`` is set, ``MemoryTracker`` keeps a running total (re-estimating
each key a write touches) and ``make_room`` evicts keys chosen by the
policy from a small pool of sampled candidates, as Redis's
``performEvictions`` does. With ``maxmemory`` 0 nothing is tracked and INFO
computes the total on demand. This module never decides whether a command
may run: the session does, from ``make_room``'s answer.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from stores.kv.types.zsets import ZSet

if TYPE_CHECKING:
    from stores.kv.engine import Engine
    from stores.kv.keyspace import Keyspace

KEY_OVERHEAD = 56
EXPIRE_OVERHEAD = 32
STRING_OVERHEAD = 16
ELEMENT_OVERHEAD = {dict: 64, deque: 24, set: 48, ZSet: 96}
CONTAINER_OVERHEAD = {dict: 96, deque: 64, set: 96, ZSet: 192}
DEFAULT_SAMPLES = 5
POOL_SIZE = 16
EVICTION_BUDGET_SECONDS = 0.005
BASELINE_BYTES = 0
EXACT_SUM_LIMIT = 2000
INFO_SAMPLE = 200


def _element_size(value: Any, element: Any) -> int:
    if type(value) is dict:
        return len(element) + len(value[element])
    return len(element)


def estimate_value(value: Any, samples: int = DEFAULT_SAMPLES) -> int:
    """Return the approximate bytes used by ``value`` (without its key)."""
    kind = type(value)
    if kind is bytes:
        return STRING_OVERHEAD + len(value)
    size = len(value)
    if not size:
        return CONTAINER_OVERHEAD[kind]
    members = value.members if kind is ZSet else value
    if samples <= 0 or samples >= size:
        picked = list(members)
    else:
        picked = list(itertools.islice(iter(members), samples))
    if kind is dict:
        total = sum(len(f) + len(value[f]) for f in picked)
    else:
        total = sum(len(e) for e in picked)
    average = total / len(picked)
    return int(CONTAINER_OVERHEAD[kind] + size * (ELEMENT_OVERHEAD[kind] + average))


def estimate_key(ks: Keyspace, key: bytes, samples: int = DEFAULT_SAMPLES) -> int:
    """Return the approximate bytes of ``key`` and its value (MEMORY USAGE)."""
    value = ks.data.get(key)
    if value is None:
        return 0
    size = KEY_OVERHEAD + len(key) + estimate_value(value, samples)
    if key in ks.expires:
        size += EXPIRE_OVERHEAD
    return size


class MemoryTracker:
    """The running memory total and the eviction loop of one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.enabled = False
        self.used = BASELINE_BYTES
        self.sizes: list[dict[bytes, int]] = [{} for _ in engine.databases]
        self.peak = 0

    def set_enabled(self, enabled: bool) -> None:
        """Start (with a full recount) or stop keeping the running total."""
        if enabled and not self.enabled:
            self.sizes = [{} for _ in self.engine.databases]
            self.used = BASELINE_BYTES
            for ks, sizes in zip(self.engine.databases, self.sizes, strict=True):
                for key in ks.data:
                    size = estimate_key(ks, key)
                    sizes[key] = size
                    self.used += size
        self.enabled = enabled
        if not enabled:
            self.sizes = [{} for _ in self.engine.databases]

    def account(self, ks: Keyspace, key: bytes) -> None:
        """Re-estimate ``key`` after a write."""
        sizes = self.sizes[ks.index]
        new = estimate_key(ks, key)
        old = sizes.get(key, 0)
        if new:
            sizes[key] = new
        elif old:
            del sizes[key]
        self.used += new - old
        if self.used > self.peak:
            self.peak = self.used

    def forget(self, ks: Keyspace, key: bytes) -> None:
        """Drop a deleted key from the total."""
        old = self.sizes[ks.index].pop(key, 0)
        self.used -= old

    def database_cleared(self) -> None:
        """Recount after FLUSHDB, FLUSHALL or SWAPDB."""
        if self.enabled:
            self.enabled = False
            self.set_enabled(True)

    def used_memory(self) -> int:
        """Return the current total (estimated now if not tracking).

        Without a running total, small databases are summed key by key and
        large ones extrapolated from a random sample, so INFO stays cheap on
        a big keyspace.
        """
        if self.enabled:
            return self.used
        total = BASELINE_BYTES
        for ks in self.engine.databases:
            size = len(ks.data)
            if size <= EXACT_SUM_LIMIT:
                total += sum(estimate_key(ks, key) for key in ks.data)
            else:
                sample = ks.random_keys(INFO_SAMPLE)
                if sample:
                    average = sum(estimate_key(ks, key) for key in sample) / len(sample)
                    total += int(average * size)
        self.peak = max(self.peak, total)
        return total

    # -- eviction ------------------------------------------------------------

    def make_room(self) -> bool:
        """Evict keys until under maxmemory; return False if that is impossible."""
        engine = self.engine
        limit = engine.maxmemory
        if not limit or self.used <= limit:
            return True
        policy = engine.config.get("maxmemory-policy")
        if policy == "noeviction":
            return False
        deadline = time.perf_counter() + EVICTION_BUDGET_SECONDS
        while self.used > limit:
            victim = self._pick(policy)
            if victim is None:
                return False
            ks, key = victim
            ks.delete(key)
            engine.stats["evicted_keys"] += 1
            engine.key_expired(ks.index, key)
            if time.perf_counter() > deadline:
                return True
        return True

    def _pick(self, policy: str) -> tuple[Keyspace, bytes] | None:
        volatile = policy.startswith("volatile")
        databases = [ks for ks in self.engine.databases if (ks.expires if volatile else ks.data)]
        if not databases:
            return None
        if policy.endswith("random"):
            ks = random.choice(databases)
            keys = ks.random_keys(1, volatile)
            return (ks, keys[0]) if keys else None
        samples = self.engine.config.get("maxmemory-samples")
        pool: list[tuple[float, int, Keyspace, bytes]] = []
        now = time.monotonic()
        for ks in databases:
            for key in ks.random_keys(samples, volatile):
                if key not in ks.data:
                    continue
                if policy.endswith("lru"):
                    score = now - ks.access.get(key, now)
                elif policy.endswith("lfu"):
                    score = 255 - ks.lfu_counter(key)
                else:
                    score = -ks.expires.get(key, 0)
                pool.append((score, id(key), ks, key))
        if not pool:
            return None
        pool.sort(key=lambda item: item[0], reverse=True)
        best = pool[:POOL_SIZE][0]
        return best[2], best[3]
