"""A sorted map cheap to create and to fill in order, for memtable contents.

Owns a dict plus a sorted list of its keys. Creating one costs a few
hundred nanoseconds (a SortedDict costs tens of microseconds, which matters
with one map per partition); once it holds many keys the key list becomes
a SortedList so inserts stay logarithmic. Never locks: the memtable does.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator
from typing import Any

from sortedcontainers import SortedList

_PROMOTE_AT = 4096


class SortedRows:
    """Keys in sorted order mapped to values."""

    __slots__ = ("_map", "_keys", "_big")

    def __init__(self) -> None:
        self._map: dict = {}
        self._keys: list | SortedList = []
        self._big = False

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, key: Any) -> bool:
        return key in self._map

    def __getitem__(self, key: Any) -> Any:
        return self._map[key]

    def get(self, key: Any, default: Any = None) -> Any:
        return self._map.get(key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        if key not in self._map:
            keys = self._keys
            if self._big:
                keys.add(key)
            elif not keys or keys[-1] < key:
                keys.append(key)
            else:
                insort(keys, key)
                if len(keys) > _PROMOTE_AT:
                    self._keys = SortedList(keys)
                    self._big = True
        self._map[key] = value

    def keys(self) -> Iterator:
        return iter(self._keys)

    def values(self) -> Iterator:
        values = self._map
        return (values[k] for k in self._keys)

    def items(self) -> Iterator:
        values = self._map
        return ((k, values[k]) for k in self._keys)

    def _position(self, key: Any, right: bool) -> int:
        if self._big:
            return self._keys.bisect_right(key) if right else self._keys.bisect_left(key)
        return bisect_right(self._keys, key) if right else bisect_left(self._keys, key)

    def irange(
        self,
        minimum: Any = None,
        maximum: Any = None,
        inclusive: tuple[bool, bool] = (True, True),
        reverse: bool = False,
    ) -> Iterator:
        """Yield keys between ``minimum`` and ``maximum`` (None = unbounded)."""
        start = 0 if minimum is None else self._position(minimum, not inclusive[0])
        stop = len(self._keys) if maximum is None else self._position(maximum, inclusive[1])
        if start >= stop:
            return iter(())
        if self._big:
            return self._keys.islice(start, stop, reverse)
        if reverse:
            return reversed(self._keys[start:stop])
        return iter(self._keys[start:stop])
