"""A sorted map cheap to create and to fill, for memtable contents.

Owns a dict plus a sorted list of its keys. A key that does not sort after
every other one waits in a pending list and is merged in by the next
ordered access (a sort, or a binary-search insert each when only a few
wait), so a write never pays for ordering that only reads and flushes
need: memtable writes land in random token order, and DESC clustering
columns arrive in descending key order. Creating one costs a few hundred nanoseconds (a
SortedDict costs tens of microseconds, which matters with one map per
partition). Never locks: the memtable does, and ordered reads happen under
its lock like writes.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator
from typing import Any


class SortedRows:
    """Keys in sorted order mapped to values."""

    __slots__ = ("_map", "_keys", "_pending")

    def __init__(self) -> None:
        self._map: dict = {}
        self._keys: list = []
        self._pending: list = []

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, key: Any) -> bool:
        return key in self._map

    def __getitem__(self, key: Any) -> Any:
        return self._map[key]

    def mapping(self) -> dict:
        """Return the key -> value dict itself (readers only: never mutate it).

        Lookups through it skip a method call each (the memtable's read loop).
        """
        return self._map

    def get(self, key: Any, default: Any = None) -> Any:
        return self._map.get(key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        if key not in self._map:
            keys = self._keys
            if not self._pending and (not keys or keys[-1] < key):
                keys.append(key)
            else:
                self._pending.append(key)
        self._map[key] = value

    def _sorted_keys(self) -> list:
        """Return the key list with every pending key merged in."""
        pending = self._pending
        keys = self._keys
        if pending:
            self._pending = []
            if len(pending) * 8 < len(keys):
                # A few keys into a long list (reads interleaved with writes):
                # a binary search each, not a sort that compares every key.
                pending.sort()
                for key in pending:
                    insort(keys, key)
            else:
                keys += pending
                keys.sort()
        return keys

    def keys(self) -> Iterator:
        return iter(self._sorted_keys())

    def values(self) -> Iterator:
        values = self._map
        return (values[k] for k in self._sorted_keys())

    def items(self) -> Iterator:
        values = self._map
        return ((k, values[k]) for k in self._sorted_keys())

    def irange(
        self,
        minimum: Any = None,
        maximum: Any = None,
        inclusive: tuple[bool, bool] = (True, True),
        reverse: bool = False,
    ) -> Iterator:
        """Yield keys between ``minimum`` and ``maximum`` (None = unbounded)."""
        keys = self._sorted_keys()
        if minimum is None:
            start = 0
        elif inclusive[0]:
            start = bisect_left(keys, minimum)
        else:
            start = bisect_right(keys, minimum)
        if maximum is None:
            stop = len(keys)
        elif inclusive[1]:
            stop = bisect_right(keys, maximum)
        else:
            stop = bisect_left(keys, maximum)
        if start >= stop:
            return iter(())
        # Index lazily: callers take a small chunk of a possibly long range.
        if reverse:
            return map(keys.__getitem__, range(stop - 1, start - 1, -1))
        return map(keys.__getitem__, range(start, stop))
