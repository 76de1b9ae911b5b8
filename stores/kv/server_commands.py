"""Server commands: PING, ECHO, TIME, INFO, CONFIG, SLOWLOG, COMMAND and the save family.

INFO prints Redis's section and field names so tools that parse Redis's
INFO (redis-py's ``info()``, dashboards) read ours. SAVE, BGSAVE,
BGREWRITEAOF and LASTSAVE delegate to the persistence hook object. These
commands read engine state; only CONFIG SET and SLOWLOG RESET change it.
"""

from __future__ import annotations

import os
import platform
from typing import TYPE_CHECKING, Any

from stores.kv.arguments import parse_int
from stores.kv.commands import COMMANDS, Command, all_commands, command, lookup
from stores.kv.errors import CommandError, ConfigError, subcommand_error
from stores.kv.replies import OK, PONG, Map, SimpleString, Verbatim

if TYPE_CHECKING:
    from stores.kv.engine import Engine, Session

REDIS_VERSION = "7.0.15"
DEFAULT_SECTIONS = (
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "keyspace",
)


KNOWN_SUBCOMMANDS = {
    "CONFIG": (b"get", b"set", b"resetstat", b"rewrite", b"help"),
    "SLOWLOG": (b"get", b"len", b"reset", b"help"),
    "COMMAND": (b"count", b"list", b"info", b"docs", b"getkeys", b"help"),
}


def _unknown_subcommand(argv: list[bytes], name: str) -> CommandError:
    return subcommand_error(argv[1], name, KNOWN_SUBCOMMANDS[name])


@command("ping", -1, "fast stale", group="connection")
def ping(s: Session, argv: list[bytes]) -> Any:
    """Return PONG, or the given message."""
    if len(argv) > 2:
        raise CommandError("ERR wrong number of arguments for 'ping' command")
    if s.channels or s.patterns:
        if s.protocol == 2:
            return [b"pong", argv[1] if len(argv) == 2 else b""]
    return argv[1] if len(argv) == 2 else PONG


@command("echo", 2, "fast", group="connection")
def echo(s: Session, argv: list[bytes]) -> bytes:
    """Return the message."""
    return argv[1]


@command("time", 1, "random loading stale fast", group="server")
def time_(s: Session, argv: list[bytes]) -> list:
    """Return the server time as [seconds, microseconds]."""
    now_ms = s.engine.clock()
    return [b"%d" % (now_ms // 1000), b"%d" % ((now_ms % 1000) * 1000)]


@command("quit", -1, "noscript loading stale fast", group="connection")
def quit_(s: Session, argv: list[bytes]) -> Any:
    """Acknowledge a client's goodbye (the caller closes the connection)."""
    return OK


def bytes_to_human(size: int) -> str:
    """Return ``size`` as Redis's INFO prints memory (``1.50M``)."""
    for unit, scale in (
        ("P", 1 << 50),
        ("T", 1 << 40),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
    ):
        if size >= scale:
            return f"{size / scale:.2f}{unit}"
    return f"{size}B"


def info_sections(engine: Engine) -> dict[str, dict[str, Any]]:
    """Return every INFO section as {section: {field: value}}."""
    config = engine.config
    uptime = int(engine.clock() / 1000 - engine.started) if engine.clock() else 0
    uptime = max(uptime, 0)
    used = engine.memory.used_memory()
    blocked = len({id(w) for waiters in engine.waiters.values() for w in waiters})
    persistence = {}
    info = getattr(engine.persistence, "info", None) or getattr(
        engine.persistence, "info_fields", None
    )
    if info is not None:
        persistence = dict(info())
    hits = sum(ks.hits for ks in engine.databases)
    misses = sum(ks.misses for ks in engine.databases)
    keyspace = {}
    now = engine.clock()
    for ks in engine.databases:
        if ks.data:
            ttls = [when - now for when in ks.expires.values() if when > now]
            avg = int(sum(ttls) / len(ttls)) if ttls else 0
            keyspace[f"db{ks.index}"] = (
                f"keys={len(ks.data)},expires={len(ks.expires)},avg_ttl={avg}"
            )
    maxmemory = config.get("maxmemory")
    return {
        "server": {
            "redis_version": REDIS_VERSION,
            "redis_mode": "standalone",
            "kvsite_engine": "stores.kv",
            "os": f"{platform.system()} {platform.release()} {platform.machine()}",
            "arch_bits": 64,
            "python_version": platform.python_version(),
            "process_id": os.getpid(),
            "tcp_port": config.get("port"),
            "uptime_in_seconds": uptime,
            "uptime_in_days": uptime // 86400,
            "hz": config.get("hz"),
        },
        "clients": {
            "connected_clients": len(engine.sessions),
            "maxclients": config.get("maxclients"),
            "blocked_clients": blocked,
            "pubsub_clients": sum(1 for s in engine.sessions.values() if s.channels or s.patterns),
            "watching_clients": len({id(x) for xs in engine.watched.values() for x in xs}),
        },
        "memory": {
            "used_memory": used,
            "used_memory_human": bytes_to_human(used),
            "used_memory_peak": max(engine.memory.peak, used),
            "used_memory_peak_human": bytes_to_human(max(engine.memory.peak, used)),
            "used_memory_dataset": used,
            "maxmemory": maxmemory,
            "maxmemory_human": bytes_to_human(maxmemory),
            "maxmemory_policy": config.get("maxmemory-policy"),
            "mem_allocator": "python",
        },
        "persistence": persistence,
        "stats": {
            "total_connections_received": engine.stats["total_connections_received"],
            "total_commands_processed": engine.commands_processed,
            "rejected_connections": engine.stats["rejected_connections"],
            "expired_keys": engine.stats["expired_keys"],
            "evicted_keys": engine.stats["evicted_keys"],
            "keyspace_hits": hits,
            "keyspace_misses": misses,
            "pubsub_channels": len(engine.pubsub.channels),
            "pubsub_patterns": len(engine.pubsub.patterns),
        },
        "replication": {"role": "master", "connected_slaves": 0},
        "cpu": _cpu(),
        "keyspace": keyspace,
    }


def _cpu() -> dict[str, str]:
    times = os.times()
    return {
        "used_cpu_sys": f"{times.system:.6f}",
        "used_cpu_user": f"{times.user:.6f}",
    }


def render_info(engine: Engine, wanted: list[str]) -> bytes:
    """Return INFO's text for the requested sections (Redis's layout)."""
    sections = info_sections(engine)
    if not wanted or any(w in ("all", "everything", "default") for w in wanted):
        names = list(DEFAULT_SECTIONS)
    else:
        names = [w for w in sections if w in wanted]
    chunks = []
    for name in names:
        lines = [f"# {name.capitalize()}"]
        lines += [f"{field}:{value}" for field, value in sections[name].items()]
        chunks.append("\r\n".join(lines) + "\r\n")
    return "\r\n".join(chunks).encode()


@command("info", -1, "loading stale", group="server")
def info(s: Session, argv: list[bytes]) -> Verbatim:
    """Return server information and statistics."""
    wanted = [a.decode("utf-8", "replace").lower() for a in argv[1:]]
    return Verbatim(render_info(s.engine, wanted))


@command("config", -2, "admin noscript loading stale", group="server")
def config(s: Session, argv: list[bytes]) -> Any:
    """CONFIG GET pattern... | SET name value... | RESETSTAT | REWRITE | HELP."""
    sub = argv[1].lower()
    settings = s.engine.config
    if sub == b"get" and len(argv) >= 3:
        out: dict[bytes, bytes] = {}
        for raw in argv[2:]:
            for name in settings.match(raw.decode("utf-8", "replace")):
                out[name.encode()] = settings.render(name).encode()
        if s.protocol == 3:
            return Map(out)
        flat: list[bytes] = []
        for name, value in out.items():
            flat += [name, value]
        return flat
    if sub == b"set" and len(argv) >= 4 and len(argv) % 2 == 0:
        pairs = [(argv[i].decode("utf-8", "replace"), argv[i + 1]) for i in range(2, len(argv), 2)]
        for name, value in pairs:
            try:
                settings.set(name, value)
            except ConfigError as exc:
                if exc.message.startswith("Unknown option"):
                    raise CommandError(f"ERR {exc.message}") from None
                raise CommandError(
                    f"ERR CONFIG SET failed (possibly related to argument '{name}') - {exc.message}"
                ) from None
        return OK
    if sub == b"resetstat" and len(argv) == 2:
        engine = s.engine
        for key in engine.stats:
            engine.stats[key] = 0
        engine.commands_processed = 0
        for ks in engine.databases:
            ks.hits = ks.misses = 0
        return OK
    if sub == b"rewrite" and len(argv) == 2:
        raise CommandError("ERR The server is running without a config file")
    if sub == b"help" and len(argv) == 2:
        return [
            b"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            b"GET <pattern>",
            b"SET <directive> <value>",
            b"RESETSTAT",
            b"HELP",
        ]
    raise _unknown_subcommand(argv, "CONFIG")


@command("slowlog", -2, "admin random loading stale", group="server")
def slowlog(s: Session, argv: list[bytes]) -> Any:
    """SLOWLOG GET [count] | LEN | RESET | HELP."""
    sub = argv[1].lower()
    log = s.engine.slowlog
    if sub == b"get" and len(argv) <= 3:
        count = 10
        if len(argv) == 3:
            count = parse_int(argv[2], "ERR count should be greater than or equal to -1")
            if count < -1:
                raise CommandError("ERR count should be greater than or equal to -1")
        return log.get(count)
    if sub == b"len" and len(argv) == 2:
        return len(log.entries)
    if sub == b"reset" and len(argv) == 2:
        log.reset()
        return OK
    if sub == b"help" and len(argv) == 2:
        return [
            b"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            b"GET [<count>]",
            b"LEN",
            b"RESET",
            b"HELP",
        ]
    raise _unknown_subcommand(argv, "SLOWLOG")


def _persistence_call(s: Session, name: str, *args: Any) -> Any:
    method = getattr(s.engine.persistence, name, None)
    if method is None:
        raise CommandError(f"ERR {name.upper()} is not supported by this persistence")
    try:
        return method(*args)
    except CommandError:
        raise
    except Exception as exc:
        raise CommandError(f"ERR {exc}") from None


@command("save", 1, "admin noscript", group="server")
def save(s: Session, argv: list[bytes]) -> Any:
    """Write a snapshot now."""
    _persistence_call(s, "save")
    return OK


@command("bgsave", -1, "admin noscript", group="server")
def bgsave(s: Session, argv: list[bytes]) -> Any:
    """Write a snapshot in the background."""
    if len(argv) > 2 or (len(argv) == 2 and argv[1].upper() != b"SCHEDULE"):
        raise CommandError("ERR syntax error")
    schedule = len(argv) == 2
    return SimpleString(_persistence_call(s, "bgsave", schedule) or "Background saving started")


@command("bgrewriteaof", 1, "admin noscript", group="server")
def bgrewriteaof(s: Session, argv: list[bytes]) -> Any:
    """Rewrite the append-only file in the background."""
    return SimpleString(
        _persistence_call(s, "bgrewriteaof") or "Background append only file rewriting started"
    )


@command("lastsave", 1, "random loading stale fast", group="server")
def lastsave(s: Session, argv: list[bytes]) -> int:
    """Return the Unix time of the last successful save."""
    return int(_persistence_call(s, "lastsave"))


def command_info(cmd: Command) -> list:
    """Return COMMAND INFO's entry for ``cmd`` (Redis 7 shape)."""
    return [
        cmd.name.encode(),
        cmd.arity,
        [SimpleString(f) for f in sorted(cmd.flags)],
        cmd.first,
        cmd.last,
        cmd.step,
        [SimpleString("@" + cmd.group)],
        [],
        [],
        [],
    ]


@command("command", -1, "random loading stale", group="server")
def command_(s: Session, argv: list[bytes]) -> Any:
    """COMMAND | COUNT | INFO name... | DOCS [name...] | GETKEYS argv... | LIST."""
    if len(argv) == 1:
        return [command_info(c) for c in all_commands()]
    sub = argv[1].lower()
    if sub == b"count" and len(argv) == 2:
        return len(all_commands())
    if sub == b"list" and len(argv) == 2:
        return [c.name.encode() for c in all_commands()]
    if sub == b"info":
        names = argv[2:]
        if not names:
            return [command_info(c) for c in all_commands()]
        out = []
        for name in names:
            found = lookup(name)
            out.append(command_info(found) if found is not None else None)
        return out
    if sub == b"docs":
        chosen = [lookup(n) for n in argv[2:]] if len(argv) > 2 else all_commands()
        docs: dict[bytes, Any] = {}
        for cmd in chosen:
            if cmd is None:
                continue
            docs[cmd.name.encode()] = Map(
                {b"summary": cmd.summary.encode(), b"since": b"1.0.0", b"group": cmd.group.encode()}
            )
        if s.protocol == 3:
            return Map(docs)
        flat: list[Any] = []
        for name, doc in docs.items():
            flat.append(name)
            inner: list[Any] = []
            for k, v in doc.items():
                inner += [k, v]
            flat.append(inner)
        return flat
    if sub == b"getkeys" and len(argv) >= 4:
        found = COMMANDS.get(argv[2].lower())
        if found is None:
            raise CommandError("ERR Invalid command specified")
        count = len(argv) - 2
        if (found.arity > 0 and count != found.arity) or count < -found.arity:
            raise CommandError("ERR Invalid number of arguments specified for command")
        keys = found.keys(argv[2:])
        if not keys:
            raise CommandError("ERR The command has no key arguments")
        return keys
    if sub == b"help" and len(argv) == 2:
        return [
            b"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            b"COUNT",
            b"INFO [<command-name> ...]",
            b"DOCS [<command-name> ...]",
            b"GETKEYS <full-command>",
            b"LIST",
            b"HELP",
        ]
    raise _unknown_subcommand(argv, "COMMAND")
