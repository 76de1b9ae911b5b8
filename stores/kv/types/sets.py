"""Set commands: a set value is a Python ``set`` of member bytes.

SPOP is propagated as SREM of the members it chose, so replay removes the
same ones. An emptied set is deleted. Never reaches outside the session's
keyspace.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from stores.kv.arguments import parse_count, parse_int, parse_random_count
from stores.kv.commands import command, numkeys_at
from stores.kv.errors import SYNTAX, CommandError, wrongtype
from stores.kv.replies import SetReply

if TYPE_CHECKING:
    from stores.kv.engine import Session


def _set(s: Session, key: bytes) -> set | None:
    value = s.keyspace.get(key)
    if value is not None and type(value) is not set:
        raise wrongtype()
    return value


def _set_for_write(s: Session, key: bytes) -> set | None:
    value = s.keyspace.get_for_write(key)
    if value is not None and type(value) is not set:
        raise wrongtype()
    return value


@command("sadd", -3, "write denyoom fast", 1, 1, 1, group="set")
def sadd(s: Session, argv: list[bytes]) -> int:
    """Add members; return how many were new."""
    value = _set_for_write(s, argv[1])
    if value is None:
        value = set()
        s.keyspace.set(argv[1], value)
    size = len(value)
    value.update(argv[2:])
    added = len(value) - size
    if added:
        s.dirty = added
    return added


@command("srem", -3, "write fast", 1, 1, 1, group="set")
def srem(s: Session, argv: list[bytes]) -> int:
    """Remove members; return how many existed."""
    value = _set_for_write(s, argv[1])
    if value is None:
        return 0
    size = len(value)
    value.difference_update(argv[2:])
    removed = size - len(value)
    if removed:
        if not value:
            s.keyspace.delete(argv[1])
        s.dirty = removed
    return removed


@command("smembers", 2, "readonly", 1, 1, 1, group="set")
def smembers(s: Session, argv: list[bytes]) -> SetReply:
    """Return every member."""
    value = _set(s, argv[1])
    return SetReply() if value is None else SetReply(value)


@command("sismember", 3, "readonly fast", 1, 1, 1, group="set")
def sismember(s: Session, argv: list[bytes]) -> int:
    """Return 1 if a member is in the set."""
    value = _set(s, argv[1])
    return int(value is not None and argv[2] in value)


@command("smismember", -3, "readonly fast", 1, 1, 1, group="set")
def smismember(s: Session, argv: list[bytes]) -> list:
    """Return 1 or 0 for each member."""
    value = _set(s, argv[1]) or set()
    return [int(m in value) for m in argv[2:]]


@command("scard", 2, "readonly fast", 1, 1, 1, group="set")
def scard(s: Session, argv: list[bytes]) -> int:
    """Return the number of members."""
    value = _set(s, argv[1])
    return 0 if value is None else len(value)


@command("spop", -2, "write random fast", 1, 1, 1, group="set")
def spop(s: Session, argv: list[bytes]) -> Any:
    """Remove and return random members."""
    if len(argv) > 3:
        raise CommandError(SYNTAX)
    count = parse_count(argv[2]) if len(argv) == 3 else None
    key = argv[1]
    value = _set_for_write(s, key)
    if value is None:
        return None if count is None else SetReply()
    if count == 0:
        return SetReply()
    wanted = 1 if count is None else count
    if wanted >= len(value):
        picked = list(value)
    else:
        picked = random.sample(list(value), wanted)
    value.difference_update(picked)
    if not value:
        s.keyspace.delete(key)
        s.prop = [[b"DEL", key]]
    else:
        s.prop = [[b"SREM", key, *picked]]
    s.dirty = len(picked)
    return picked[0] if count is None else SetReply(picked)


@command("srandmember", -2, "readonly random", 1, 1, 1, group="set")
def srandmember(s: Session, argv: list[bytes]) -> Any:
    """Return random members, with repeats when the count is negative."""
    if len(argv) > 3:
        raise CommandError(SYNTAX)
    count = parse_random_count(argv[2]) if len(argv) == 3 else None
    value = _set(s, argv[1])
    if count is None:
        return None if not value else random.choice(list(value))
    if not value or count == 0:
        return []
    members = list(value)
    if count > 0:
        return members if count >= len(members) else random.sample(members, count)
    return [random.choice(members) for _ in range(-count)]


@command("smove", 4, "write fast", 1, 2, 1, group="set")
def smove(s: Session, argv: list[bytes]) -> int:
    """Move a member from one set to another."""
    source_key, target_key, member = argv[1], argv[2], argv[3]
    source = _set_for_write(s, source_key)
    target = _set_for_write(s, target_key)
    if source is None or member not in source:
        return 0
    if source_key == target_key:
        return 1
    source.discard(member)
    if not source:
        s.keyspace.delete(source_key)
    if target is None:
        target = set()
        s.keyspace.set(target_key, target)
    target.add(member)
    s.dirty = 1
    return 1


def _sources(s: Session, keys: list[bytes]) -> list[set]:
    return [_set_for_write(s, key) or set() for key in keys]


def _combine(op: str, sources: list[set]) -> set:
    if op == "inter":
        if any(not src for src in sources):
            return set()
        ordered = sorted(sources, key=len)
        return ordered[0].intersection(*ordered[1:])
    if op == "union":
        return set().union(*sources)
    return sources[0].difference(*sources[1:])


def _store(s: Session, key: bytes, result: set) -> int:
    ks = s.keyspace
    existed = ks.get_for_write(key) is not None
    if result:
        ks.set(key, set(result))
        s.dirty = 1
    elif existed:
        ks.delete(key)
        s.dirty = 1
    return len(result)


@command("sinter", -2, "readonly", 1, -1, 1, group="set")
def sinter(s: Session, argv: list[bytes]) -> SetReply:
    """Return the intersection of sets."""
    return SetReply(_combine("inter", _sources(s, argv[1:])))


@command("sunion", -2, "readonly", 1, -1, 1, group="set")
def sunion(s: Session, argv: list[bytes]) -> SetReply:
    """Return the union of sets."""
    return SetReply(_combine("union", _sources(s, argv[1:])))


@command("sdiff", -2, "readonly", 1, -1, 1, group="set")
def sdiff(s: Session, argv: list[bytes]) -> SetReply:
    """Return the members of the first set not in the others."""
    return SetReply(_combine("diff", _sources(s, argv[1:])))


@command("sinterstore", -3, "write denyoom", 1, -1, 1, group="set")
def sinterstore(s: Session, argv: list[bytes]) -> int:
    """Store the intersection of sets."""
    return _store(s, argv[1], _combine("inter", _sources(s, argv[2:])))


@command("sunionstore", -3, "write denyoom", 1, -1, 1, group="set")
def sunionstore(s: Session, argv: list[bytes]) -> int:
    """Store the union of sets."""
    return _store(s, argv[1], _combine("union", _sources(s, argv[2:])))


@command("sdiffstore", -3, "write denyoom", 1, -1, 1, group="set")
def sdiffstore(s: Session, argv: list[bytes]) -> int:
    """Store the difference of sets."""
    return _store(s, argv[1], _combine("diff", _sources(s, argv[2:])))


@command("sintercard", -3, "readonly", keys=numkeys_at(1), group="set")
def sintercard(s: Session, argv: list[bytes]) -> int:
    """Return the size of the intersection, optionally stopping at LIMIT."""
    numkeys = parse_int(argv[1])
    if numkeys <= 0:
        raise CommandError("ERR numkeys should be greater than 0")
    keys = argv[2 : 2 + numkeys]
    if len(keys) < numkeys:
        raise CommandError("ERR Number of keys can't be greater than number of args")
    limit = 0
    i = 2 + numkeys
    while i < len(argv):
        if argv[i].upper() == b"LIMIT" and i + 1 < len(argv):
            limit = parse_int(argv[i + 1])
            if limit < 0:
                raise CommandError("ERR LIMIT can't be negative")
            i += 2
        else:
            raise CommandError(SYNTAX)
    size = len(_combine("inter", _sources(s, keys)))
    return min(size, limit) if limit else size


@command("sscan", -3, "readonly", 1, 1, 1, group="set")
def sscan(s: Session, argv: list[bytes]) -> list:
    """Iterate a set's members with a cursor."""
    from stores.kv.types.collection_scan import scan_collection

    value = _set(s, argv[1]) or set()
    cursor, found = scan_collection(s, argv, value, "set")
    return [cursor, found]
