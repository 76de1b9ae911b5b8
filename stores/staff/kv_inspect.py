"""Read-only views of a key-value store, through redis-py's API only.

Every function takes a handle shaped like ``redis.Redis`` (the embedded
engine's client or a real Redis connection) and does bounded work: SCAN in
small batches, never KEYS, and per-key look-ups pipelined. Nothing here
changes the store; the actions live in ``kv_actions``.
"""

from __future__ import annotations

import heapq
import shlex
from dataclasses import dataclass, field

PAGE_SIZE = 50
SCAN_BATCH = 200
MAX_SCAN_CALLS_PER_PAGE = 50
STRING_PREVIEW_BYTES = 64 * 1024
SAMPLE_LIMIT = 10_000
SAMPLE_STEP = 1_000
TOP_KEYS = 20
TOP_PREFIXES = 200
EXPIRING_SOON_MS = 60_000

KEY_TYPES = ("string", "hash", "list", "set", "zset", "stream")

READONLY_COMMANDS = frozenset(
    """
    get mget strlen getrange exists type ttl pttl expiretime pexpiretime object memory
    hget hmget hgetall hkeys hvals hlen hexists hstrlen hscan hrandfield
    lrange llen lindex lpos
    smembers scard sismember smismember sscan srandmember sinter sunion sdiff sintercard
    zrange zrangebyscore zrevrangebyscore zrangebylex zrevrangebylex zrevrange zscore
    zmscore zcard zcount zlexcount zrank zrevrank zscan zrandmember
    scan dbsize info time ping echo randomkey slowlog pubsub lastsave
    """.split()
)
# Subcommands that would change state or leak secrets even under a read-only name.
FORBIDDEN_SUBCOMMANDS = {
    "slowlog": {"reset"},
    "object": set(),
    "memory": {"purge", "malloc-stats", "doctor"},
}


def text(value) -> str:
    """Return bytes as text, escaping what is not UTF-8."""
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            return value.decode("latin-1").encode("unicode_escape").decode("ascii")
    return str(value)


def to_key(value: str) -> bytes:
    """Return the key bytes for a key given as text in a URL or form."""
    return value.encode()


@dataclass
class KeyRow:
    """One key as the key browser lists it."""

    key: bytes
    type: str
    ttl_ms: int  # -1 no TTL, -2 gone
    memory: int | None
    encoding: str | None

    @property
    def name(self) -> str:
        return text(self.key)

    @property
    def ttl_seconds(self) -> float | None:
        return None if self.ttl_ms < 0 else self.ttl_ms / 1000


def overview(handle) -> dict:
    """Return the numbers of the overview page, from INFO."""
    info = handle.info()
    hits = int(info.get("keyspace_hits", 0))
    misses = int(info.get("keyspace_misses", 0))
    databases = []
    for name, value in info.items():
        if name.startswith("db") and name[2:].isdigit() and isinstance(value, dict):
            databases.append({"name": name, **value})
    databases.sort(key=lambda db: int(db["name"][2:]))
    maxmemory = int(info.get("maxmemory", 0))
    used = int(info.get("used_memory", 0))
    return {
        "version": info.get("redis_version", ""),
        "uptime_seconds": int(info.get("uptime_in_seconds", 0)),
        "used_memory": used,
        "used_memory_human": info.get("used_memory_human", ""),
        "maxmemory": maxmemory,
        "maxmemory_policy": info.get("maxmemory_policy", ""),
        "memory_ratio": (used / maxmemory) if maxmemory else None,
        "keyspace_hits": hits,
        "keyspace_misses": misses,
        "hit_ratio": (hits / (hits + misses)) if hits + misses else None,
        "ops_per_sec": int(info.get("instantaneous_ops_per_sec", 0)),
        "total_commands": int(info.get("total_commands_processed", 0)),
        "evicted_keys": int(info.get("evicted_keys", 0)),
        "expired_keys": int(info.get("expired_keys", 0)),
        "connected_clients": int(info.get("connected_clients", 0)),
        "aof_enabled": bool(int(info.get("aof_enabled", 0))),
        "aof_current_size": int(info.get("aof_current_size", 0) or 0),
        "aof_rewrite_in_progress": bool(int(info.get("aof_rewrite_in_progress", 0))),
        "rdb_bgsave_in_progress": bool(int(info.get("rdb_bgsave_in_progress", 0))),
        "rdb_last_save_time": int(info.get("rdb_last_save_time", 0)),
        "rdb_changes_since_last_save": int(info.get("rdb_changes_since_last_save", 0)),
        "databases": databases,
    }


def _describe(handle, keys: list[bytes]) -> list[KeyRow]:
    if not keys:
        return []
    pipe = handle.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
        pipe.pttl(key)
        pipe.memory_usage(key)
        pipe.object("encoding", key)
    replies = pipe.execute(raise_on_error=False)
    rows = []
    for i, key in enumerate(keys):
        type_, ttl, memory, encoding = replies[4 * i : 4 * i + 4]
        if isinstance(type_, Exception) or text(type_) == "none":
            continue
        rows.append(
            KeyRow(
                key=key,
                type=text(type_),
                ttl_ms=ttl if isinstance(ttl, int) else -1,
                memory=memory if isinstance(memory, int) else None,
                encoding=text(encoding) if isinstance(encoding, (bytes, str)) else None,
            )
        )
    return rows


def scan_page(
    handle,
    cursor: int = 0,
    match: str | None = None,
    type_: str | None = None,
    page_size: int = PAGE_SIZE,
) -> tuple[int, list[KeyRow]]:
    """Return the next cursor and up to about page_size keys from SCAN.

    SCAN may return few keys per call when a filter is sparse, so it is called
    again until the page is full, the iteration ends, or a bounded number of
    calls is reached; the returned cursor continues from there.
    """
    keys: list[bytes] = []
    calls = 0
    while calls < MAX_SCAN_CALLS_PER_PAGE:
        kwargs = {"cursor": cursor, "count": SCAN_BATCH}
        if match:
            kwargs["match"] = match
        if type_:
            kwargs["_type"] = type_
        cursor, batch = handle.scan(**kwargs)
        cursor = int(cursor)
        keys.extend(batch)
        calls += 1
        if cursor == 0 or len(keys) >= page_size:
            break
    rows = _describe(handle, keys)
    rows.sort(key=lambda row: row.key)
    return cursor, rows


def namespace_tree(rows: list[KeyRow], separator: str = ":", depth: int = 3) -> list[dict]:
    """Fold key names on the separator into a tree of prefixes with key counts."""
    root: dict = {"children": {}, "count": 0}
    for row in rows:
        parts = row.name.split(separator)
        node = root
        node["count"] += 1
        for level, part in enumerate(parts[:-1][:depth]):
            prefix = separator.join(parts[: level + 1]) + separator
            node = node["children"].setdefault(part, {"prefix": prefix, "children": {}, "count": 0})
            node["count"] += 1

    def flatten(node: dict) -> list[dict]:
        return [
            {
                "name": name,
                "prefix": child["prefix"],
                "count": child["count"],
                "children": flatten(child),
            }
            for name, child in sorted(node["children"].items())
        ]

    return flatten(root)


@dataclass
class KeyDetail:
    """One key with a page of its contents."""

    row: KeyRow
    length: int
    items: list = field(default_factory=list)  # (field, value) / (index, value) / (member, score)
    value_text: str | None = None
    value_hex: str | None = None
    truncated: bool = False
    next_cursor: int | None = None
    start: int = 0
    page_size: int = PAGE_SIZE


def key_detail(
    handle, key: bytes, start: int = 0, cursor: int = 0, page_size: int = PAGE_SIZE
) -> KeyDetail | None:
    """Return a key's type, TTL, memory and one page of its contents."""
    rows = _describe(handle, [key])
    if not rows:
        return None
    row = rows[0]
    detail = KeyDetail(row=row, length=0, start=start, page_size=page_size)
    kind = row.type
    if kind == "string":
        detail.length = handle.strlen(key)
        value = handle.getrange(key, 0, STRING_PREVIEW_BYTES - 1)
        detail.truncated = detail.length > len(value)
        try:
            detail.value_text = value.decode()
        except UnicodeDecodeError:
            detail.value_hex = value.hex(" ")
    elif kind == "hash":
        detail.length = handle.hlen(key)
        next_cursor, mapping = handle.hscan(key, cursor=cursor, count=page_size)
        detail.items = sorted((text(f), text(v)) for f, v in mapping.items())
        detail.next_cursor = int(next_cursor) or None
    elif kind == "list":
        detail.length = handle.llen(key)
        values = handle.lrange(key, start, start + page_size - 1)
        detail.items = [(start + i, text(v)) for i, v in enumerate(values)]
    elif kind == "set":
        detail.length = handle.scard(key)
        next_cursor, members = handle.sscan(key, cursor=cursor, count=page_size)
        detail.items = sorted((text(m), None) for m in members)
        detail.next_cursor = int(next_cursor) or None
    elif kind == "zset":
        detail.length = handle.zcard(key)
        pairs = handle.zrange(key, start, start + page_size - 1, withscores=True)
        detail.items = [(text(m), s) for m, s in pairs]
    return detail


@dataclass
class MemoryReport:
    """What a bounded SCAN sample says about memory use."""

    cursor: int = 0
    sampled: int = 0
    total_bytes: int = 0
    done: bool = False
    biggest: list = field(default_factory=list)  # min-heap of (bytes, key text, type)
    prefixes: dict = field(default_factory=dict)  # prefix -> [keys, bytes]
    no_ttl: int = 0
    no_ttl_examples: list = field(default_factory=list)
    expiring_soon: list = field(default_factory=list)  # (ttl ms, key text)

    def add(self, row: KeyRow) -> None:
        size = row.memory or 0
        self.sampled += 1
        self.total_bytes += size
        entry = (size, row.name, row.type)
        if len(self.biggest) < TOP_KEYS:
            heapq.heappush(self.biggest, entry)
        elif entry > self.biggest[0]:
            heapq.heapreplace(self.biggest, entry)
        prefix = row.name.split(":", 1)[0] + ":" if ":" in row.name else "(no prefix)"
        if prefix in self.prefixes or len(self.prefixes) < TOP_PREFIXES:
            bucket = self.prefixes.setdefault(prefix, [0, 0])
            bucket[0] += 1
            bucket[1] += size
        else:
            bucket = self.prefixes.setdefault("(other prefixes)", [0, 0])
            bucket[0] += 1
            bucket[1] += size
        if row.ttl_ms == -1:
            self.no_ttl += 1
            if len(self.no_ttl_examples) < TOP_KEYS:
                self.no_ttl_examples.append(row.name)
        elif 0 <= row.ttl_ms <= EXPIRING_SOON_MS and len(self.expiring_soon) < TOP_KEYS:
            self.expiring_soon.append((row.ttl_ms, row.name))

    def as_dict(self) -> dict:
        return {
            "cursor": self.cursor,
            "sampled": self.sampled,
            "total_bytes": self.total_bytes,
            "done": self.done,
            "biggest": [list(e) for e in self.biggest],
            "prefixes": self.prefixes,
            "no_ttl": self.no_ttl,
            "no_ttl_examples": self.no_ttl_examples,
            "expiring_soon": [list(e) for e in self.expiring_soon],
        }

    @classmethod
    def from_dict(cls, data: dict) -> MemoryReport:
        report = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        report.biggest = [tuple(e) for e in report.biggest]
        heapq.heapify(report.biggest)
        report.expiring_soon = [tuple(e) for e in report.expiring_soon]
        return report

    def biggest_sorted(self) -> list:
        return sorted(self.biggest, reverse=True)

    def prefixes_sorted(self) -> list:
        return sorted(self.prefixes.items(), key=lambda item: item[1][1], reverse=True)


def memory_step(
    handle, report: MemoryReport, step: int = SAMPLE_STEP, limit: int = SAMPLE_LIMIT
) -> MemoryReport:
    """Sample up to `step` more keys into the report; mark it done at the end or the limit."""
    if report.done:
        return report
    want = min(step, limit - report.sampled)
    keys: list[bytes] = []
    cursor = report.cursor
    calls = 0
    while len(keys) < want and calls < MAX_SCAN_CALLS_PER_PAGE:
        cursor, batch = handle.scan(cursor=cursor, count=SCAN_BATCH)
        cursor = int(cursor)
        keys.extend(batch)
        calls += 1
        if cursor == 0:
            break
    for row in _describe(handle, keys[:want]):
        report.add(row)
    report.cursor = cursor
    report.done = cursor == 0 or report.sampled >= limit
    return report


class ConsoleError(ValueError):
    """A console line that is refused before it reaches the store."""


def parse_console_line(line: str) -> list[str]:
    """Split a console line like redis-cli does and refuse commands that write."""
    try:
        args = shlex.split(line)
    except ValueError as exc:
        raise ConsoleError(f"Cannot parse the line: {exc}.") from None
    if not args:
        raise ConsoleError("Type a command, e.g. GET key or SCAN 0 MATCH user:*.")
    name = args[0].lower()
    if name not in READONLY_COMMANDS:
        raise ConsoleError(
            f"{args[0].upper()} is not allowed here: the console runs read-only commands only."
        )
    forbidden = FORBIDDEN_SUBCOMMANDS.get(name)
    if forbidden is not None and len(args) > 1 and args[1].lower() in forbidden:
        raise ConsoleError(f"{args[0].upper()} {args[1].upper()} is not allowed here.")
    return args


def format_reply(reply, indent: int = 0) -> str:
    """Format a reply the way redis-cli prints it."""
    pad = " " * indent
    if reply is None:
        return pad + "(nil)"
    if isinstance(reply, bool):
        return pad + ("(integer) 1" if reply else "(integer) 0")
    if isinstance(reply, int):
        return f"{pad}(integer) {reply}"
    if isinstance(reply, float):
        return f'{pad}"{reply!r}"'
    if isinstance(reply, (bytes, str)):
        return f'{pad}"{text(reply)}"'
    if isinstance(reply, dict):
        if not reply:
            return pad + "(empty hash)"
        lines = []
        for i, (k, v) in enumerate(reply.items(), 1):
            lines.append(f"{pad}{i}) {text(k)}: " + format_reply(v).lstrip())
        return "\n".join(lines)
    if isinstance(reply, (list, tuple, set)):
        if not reply:
            return pad + "(empty array)"
        lines = []
        for i, item in enumerate(reply, 1):
            body = format_reply(item, indent + 3)
            lines.append(f"{pad}{i}) " + body.lstrip())
        return "\n".join(lines)
    return pad + text(reply)
