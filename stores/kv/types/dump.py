"""Commands that recreate a stored value exactly, for AOF rewrite and snapshots.

``dump_commands`` turns one value into a short list of write commands
(chunked so that none is huge); the engine adds the PEXPIREAT. Never reads
the keyspace: the caller passes the value under the engine lock.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import Any

from stores.kv.types.zsets import ZSet, dump_zset

CHUNK = 64


def _chunks(items: Any, size: int) -> list[list]:
    iterator = iter(items)
    out = []
    while True:
        batch = list(islice(iterator, size))
        if not batch:
            return out
        out.append(batch)


def dump_commands(key: bytes, value: Any, chunk: int = CHUNK) -> list[list[bytes]]:
    """Return write commands that recreate ``value`` at ``key`` (no TTL)."""
    kind = type(value)
    if kind is bytes:
        return [[b"SET", key, value]]
    if kind is dict:
        commands = []
        for batch in _chunks(value.items(), chunk):
            argv = [b"HSET", key]
            for field, item in batch:
                argv += [field, item]
            commands.append(argv)
        return commands
    if kind is deque:
        return [[b"RPUSH", key, *batch] for batch in _chunks(value, chunk)]
    if kind is set:
        return [[b"SADD", key, *batch] for batch in _chunks(value, chunk)]
    if kind is ZSet:
        return dump_zset(key, value, chunk)
    raise TypeError(f"cannot dump a {kind.__name__}")
