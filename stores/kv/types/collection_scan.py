"""HSCAN, SSCAN and ZSCAN's shared cursor walk over one collection.

Small collections (those Redis keeps in a compact encoding) are returned
whole with cursor 0, as Redis does; larger ones are walked in hash order so
that a member present for the whole scan is returned exactly once. Never
modifies the collection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stores.kv.glob import compile_glob
from stores.kv.keyspace import key_hash
from stores.kv.types.generic import parse_scan_cursor, parse_scan_options

if TYPE_CHECKING:
    from stores.kv.engine import Session

COMPACT_LIMIT = {
    "hash": "hash-max-listpack-entries",
    "zset": "zset-max-listpack-entries",
    "set": "set-max-intset-entries",
}


def scan_collection(
    s: Session, argv: list[bytes], members: Any, kind: str
) -> tuple[bytes, list[bytes]]:
    """Return (next cursor, members) for an xSCAN command over ``members``."""
    cursor = parse_scan_cursor(argv[2])
    pattern, count, _, _ = parse_scan_options(argv, 3, False)
    match = compile_glob(pattern).fullmatch if pattern not in (None, b"*") else None
    limit = s.engine.config.get(COMPACT_LIMIT[kind])
    if len(members) <= min(limit, 128):
        found = list(members)
        next_cursor = 0
    else:
        ordered = sorted((key_hash(m), m) for m in members)
        position = 0
        if cursor:
            from bisect import bisect_left

            position = bisect_left(ordered, (cursor - 1, b""))
        found = [m for _, m in ordered[position : position + count]]
        position += len(found)
        while position < len(ordered) and found and ordered[position][0] == key_hash(found[-1]):
            found.append(ordered[position][1])
            position += 1
        next_cursor = 0 if position >= len(ordered) else ordered[position][0] + 1
    if match is not None:
        found = [m for m in found if match(m)]
    return b"%d" % next_cursor, found
