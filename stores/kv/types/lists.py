"""List commands: a list value is a ``collections.deque`` (O(1) at both ends).

Blocking pops return ``Blocked`` when nothing can be served (the caller
waits on the engine's key waiters) and are propagated as their
non-blocking form. An emptied list is deleted. Never reaches outside the
session's keyspace.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from itertools import islice
from typing import TYPE_CHECKING, Any

from stores.kv.arguments import LLONG_MIN, normalize_range, parse_count, parse_int, parse_timeout
from stores.kv.commands import FALLBACK, command, fast_path, no_log
from stores.kv.errors import INDEX_OUT_OF_RANGE, NO_SUCH_KEY, SYNTAX, CommandError, wrongtype
from stores.kv.replies import NULL_ARRAY, OK, Blocked

if TYPE_CHECKING:
    from stores.kv.engine import Session

_monotonic = time.monotonic


def _list(s: Session, key: bytes) -> deque | None:
    value = s.keyspace.get(key)
    if value is not None and type(value) is not deque:
        raise wrongtype()
    return value


def _list_for_write(s: Session, key: bytes) -> deque | None:
    value = s.keyspace.get_for_write(key)
    if value is not None and type(value) is not deque:
        raise wrongtype()
    return value


def _push(s: Session, argv: list[bytes], left: bool, only_existing: bool) -> int:
    ks = s.keyspace
    key = argv[1]
    value = ks.get_for_write(key)
    if value is None:
        if only_existing:
            return 0
        value = deque()
        ks.set(key, value)
    elif type(value) is not deque:
        raise wrongtype()
    if left:
        value.extendleft(argv[2:])
    else:
        value.extend(argv[2:])
    s.dirty = 1
    return len(value)


@command("lpush", -3, "write denyoom fast", 1, 1, 1, group="list")
def lpush(s: Session, argv: list[bytes]) -> int:
    """Prepend elements; return the new length."""
    reply = lpush_fast(s, argv, no_log)
    if reply is FALLBACK:
        return _push(s, argv, True, False)
    s.dirty = 1
    return reply


@fast_path("lpush")
def lpush_fast(s: Session, argv: list[bytes], log: Callable[[int, list[bytes]], None]) -> Any:
    """Prepend one element to an existing list without a TTL (LRU policy), in one step."""
    # The usual queue or log push: _push with get_for_write inlined.
    if len(argv) == 3:
        ks = s.keyspace
        key = argv[1]
        expires = ks.expires
        if ks.freq is None and (not expires or key not in expires):
            value = ks.data.get(key)
            if type(value) is deque:
                value.appendleft(argv[2])
                ks.access[key] = _monotonic()
                log(s.db, argv)
                return len(value)
    return FALLBACK


@command("rpush", -3, "write denyoom fast", 1, 1, 1, group="list")
def rpush(s: Session, argv: list[bytes]) -> int:
    """Append elements; return the new length."""
    return _push(s, argv, False, False)


@fast_path("rpush")
def rpush_fast(s: Session, argv: list[bytes], log: Callable[[int, list[bytes]], None]) -> Any:
    """Append one element to an existing list without a TTL (LRU policy), in one step."""
    if len(argv) == 3:
        ks = s.keyspace
        key = argv[1]
        expires = ks.expires
        if ks.freq is None and (not expires or key not in expires):
            value = ks.data.get(key)
            if type(value) is deque:
                value.append(argv[2])
                ks.access[key] = _monotonic()
                log(s.db, argv)
                return len(value)
    return FALLBACK


@command("lpushx", -3, "write denyoom fast", 1, 1, 1, group="list")
def lpushx(s: Session, argv: list[bytes]) -> int:
    """Prepend elements only if the list exists."""
    return _push(s, argv, True, True)


@command("rpushx", -3, "write denyoom fast", 1, 1, 1, group="list")
def rpushx(s: Session, argv: list[bytes]) -> int:
    """Append elements only if the list exists."""
    return _push(s, argv, False, True)


def _pop(s: Session, argv: list[bytes], left: bool) -> Any:
    if len(argv) > 3:
        raise CommandError(SYNTAX)
    count = parse_count(argv[2]) if len(argv) == 3 else None
    key = argv[1]
    value = _list_for_write(s, key)
    if value is None:
        return None if count is None else NULL_ARRAY
    pop = value.popleft if left else value.pop
    if count is None:
        item = pop()
        popped: Any = item
    else:
        popped = [pop() for _ in range(min(count, len(value)))]
    if not value:
        s.keyspace.delete(key)
    if count != 0:
        s.dirty = 1
    return popped


@command("lpop", -2, "write fast", 1, 1, 1, group="list")
def lpop(s: Session, argv: list[bytes]) -> Any:
    """Remove and return the first elements."""
    return _pop(s, argv, True)


@command("rpop", -2, "write fast", 1, 1, 1, group="list")
def rpop(s: Session, argv: list[bytes]) -> Any:
    """Remove and return the last elements."""
    return _pop(s, argv, False)


@command("llen", 2, "readonly fast", 1, 1, 1, group="list")
def llen(s: Session, argv: list[bytes]) -> int:
    """Return the length."""
    value = _list(s, argv[1])
    return 0 if value is None else len(value)


@command("lrange", 4, "readonly", 1, 1, 1, group="list")
def lrange(s: Session, argv: list[bytes]) -> list:
    """Return a range of elements."""
    start, stop = parse_int(argv[2]), parse_int(argv[3])
    value = _list(s, argv[1])
    if value is None:
        return []
    span = normalize_range(start, stop, len(value))
    if span is None:
        return []
    start, stop = span
    if stop - start > len(value) // 2 and start > len(value) // 2:
        return list(value)[start : stop + 1]
    return list(islice(value, start, stop + 1))


@command("lindex", 3, "readonly", 1, 1, 1, group="list")
def lindex(s: Session, argv: list[bytes]) -> bytes | None:
    """Return the element at an index."""
    index = parse_int(argv[2])
    value = _list(s, argv[1])
    if value is None:
        return None
    if index < 0:
        index += len(value)
    if not 0 <= index < len(value):
        return None
    return value[index]


@command("lset", 4, "write denyoom", 1, 1, 1, group="list")
def lset(s: Session, argv: list[bytes]) -> Any:
    """Set the element at an index."""
    index = parse_int(argv[2])
    value = _list_for_write(s, argv[1])
    if value is None:
        raise CommandError(NO_SUCH_KEY)
    if index < 0:
        index += len(value)
    if not 0 <= index < len(value):
        raise CommandError(INDEX_OUT_OF_RANGE)
    value[index] = argv[3]
    s.dirty = 1
    return OK


@command("linsert", 5, "write denyoom", 1, 1, 1, group="list")
def linsert(s: Session, argv: list[bytes]) -> int:
    """Insert an element before or after a pivot."""
    where = argv[2].upper()
    if where not in (b"BEFORE", b"AFTER"):
        raise CommandError(SYNTAX)
    value = _list_for_write(s, argv[1])
    if value is None:
        return 0
    try:
        index = value.index(argv[3])
    except ValueError:
        return -1
    value.insert(index if where == b"BEFORE" else index + 1, argv[4])
    s.dirty = 1
    return len(value)


@command("lrem", 4, "write", 1, 1, 1, group="list")
def lrem(s: Session, argv: list[bytes]) -> int:
    """Remove occurrences of an element (count > 0 from head, < 0 from tail, 0 all)."""
    count = parse_int(argv[2])
    element = argv[3]
    value = _list_for_write(s, argv[1])
    if value is None:
        return 0
    items = list(value)
    if count < 0:
        items.reverse()
    kept = []
    removed = 0
    limit = abs(count)
    for item in items:
        if item == element and (limit == 0 or removed < limit):
            removed += 1
        else:
            kept.append(item)
    if removed:
        if count < 0:
            kept.reverse()
        value.clear()
        value.extend(kept)
        if not value:
            s.keyspace.delete(argv[1])
        s.dirty = removed
    return removed


@command("ltrim", 4, "write", 1, 1, 1, group="list")
def ltrim(s: Session, argv: list[bytes]) -> Any:
    """Keep only a range of elements."""
    start, stop = parse_int(argv[2]), parse_int(argv[3])
    value = _list_for_write(s, argv[1])
    if value is None:
        return OK
    span = normalize_range(start, stop, len(value))
    if span is None:
        s.keyspace.delete(argv[1])
    else:
        start, stop = span
        for _ in range(len(value) - stop - 1):
            value.pop()
        for _ in range(start):
            value.popleft()
    s.dirty = 1
    return OK


@command("lpos", -3, "readonly", 1, 1, 1, group="list")
def lpos(s: Session, argv: list[bytes]) -> Any:
    """Return the index (or indexes with COUNT) of matching elements."""
    rank = 1
    count: int | None = None
    maxlen = 0
    i = 3
    while i < len(argv):
        option = argv[i].upper()
        if i + 1 >= len(argv):
            raise CommandError(SYNTAX)
        if option == b"RANK":
            rank = parse_int(argv[i + 1])
            if rank == 0 or rank == LLONG_MIN:
                raise CommandError(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                    "second ... or use negative to start from the last match"
                )
        elif option == b"COUNT":
            count = parse_int(argv[i + 1])
            if count < 0:
                raise CommandError("ERR COUNT can't be negative")
        elif option == b"MAXLEN":
            maxlen = parse_int(argv[i + 1])
            if maxlen < 0:
                raise CommandError("ERR MAXLEN can't be negative")
        else:
            raise CommandError(SYNTAX)
        i += 2
    value = _list(s, argv[1])
    if value is None:
        return None if count is None else []
    element = argv[2]
    size = len(value)
    if rank > 0:
        indexes = range(size)
        iterator = iter(value)
    else:
        indexes = range(size - 1, -1, -1)
        iterator = reversed(value)
    skip = abs(rank) - 1
    wanted = 1 if count is None else count
    found = []
    for checked, (index, item) in enumerate(zip(indexes, iterator, strict=True)):
        if maxlen and checked >= maxlen:
            break
        if item == element:
            if skip:
                skip -= 1
                continue
            found.append(index)
            if wanted and len(found) >= wanted:
                break
    if count is None:
        return found[0] if found else None
    return found


def _move(
    s: Session, source_key: bytes, target_key: bytes, from_left: bool, to_left: bool
) -> bytes | None:
    source = _list_for_write(s, source_key)
    if source is None:
        return None
    target = _list_for_write(s, target_key)
    item = source.popleft() if from_left else source.pop()
    if target is None:
        target = deque()
        s.keyspace.set(target_key, target)
    if to_left:
        target.appendleft(item)
    else:
        target.append(item)
    if not source:
        s.keyspace.delete(source_key)
    s.dirty = 1
    s.touched = [source_key, target_key]
    return item


def _side(raw: bytes) -> bool:
    side = raw.upper()
    if side == b"LEFT":
        return True
    if side == b"RIGHT":
        return False
    raise CommandError(SYNTAX)


@command("lmove", 5, "write denyoom", 1, 2, 1, group="list")
def lmove(s: Session, argv: list[bytes]) -> bytes | None:
    """Pop from one list and push onto another."""
    return _move(s, argv[1], argv[2], _side(argv[3]), _side(argv[4]))


@command("rpoplpush", 3, "write denyoom", 1, 2, 1, group="list")
def rpoplpush(s: Session, argv: list[bytes]) -> bytes | None:
    """Pop the last element of one list and prepend it to another."""
    return _move(s, argv[1], argv[2], False, True)


def _blocking_pop(s: Session, argv: list[bytes], left: bool) -> Any:
    timeout = parse_timeout(argv[-1])
    keys = argv[1:-1]
    for key in keys:
        value = _list_for_write(s, key)
        if value:
            item = value.popleft() if left else value.pop()
            if not value:
                s.keyspace.delete(key)
            s.dirty = 1
            s.prop = [[b"LPOP" if left else b"RPOP", key]]
            s.touched = [key]
            return [key, item]
    if s.in_exec:
        return NULL_ARRAY
    return Blocked(keys, timeout)


@command("blpop", -3, "write blocking", 1, -2, 1, group="list")
def blpop(s: Session, argv: list[bytes]) -> Any:
    """Pop the first element of the first non-empty list, or block."""
    return _blocking_pop(s, argv, True)


@command("brpop", -3, "write blocking", 1, -2, 1, group="list")
def brpop(s: Session, argv: list[bytes]) -> Any:
    """Pop the last element of the first non-empty list, or block."""
    return _blocking_pop(s, argv, False)


def _blocking_move(
    s: Session, argv: list[bytes], from_left: bool, to_left: bool, timeout_raw: bytes
) -> Any:
    timeout = parse_timeout(timeout_raw)
    source = _list_for_write(s, argv[1])
    if source:
        _list_for_write(s, argv[2])
        item = _move(s, argv[1], argv[2], from_left, to_left)
        s.prop = [
            [
                b"LMOVE",
                argv[1],
                argv[2],
                b"LEFT" if from_left else b"RIGHT",
                b"LEFT" if to_left else b"RIGHT",
            ]
        ]
        return item
    if s.in_exec:
        return None
    return Blocked([argv[1]], timeout)


@command("blmove", 6, "write denyoom blocking", 1, 2, 1, group="list")
def blmove(s: Session, argv: list[bytes]) -> Any:
    """Pop from one list and push onto another, blocking while the source is empty."""
    return _blocking_move(s, argv, _side(argv[3]), _side(argv[4]), argv[5])


@command("brpoplpush", 4, "write denyoom blocking", 1, 2, 1, group="list")
def brpoplpush(s: Session, argv: list[bytes]) -> Any:
    """RPOPLPUSH that blocks while the source is empty."""
    return _blocking_move(s, argv, False, True, argv[3])
