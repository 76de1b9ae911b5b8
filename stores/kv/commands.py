"""The one command table: every command's name, arity, flags, key positions and handler.

Dispatch, arity checks, MULTI queuing, OOM checks, WATCH invalidation,
persistence propagation and COMMAND INFO all read this table; nothing else
in the engine keeps its own list of commands. Handlers live in the data
type modules (``stores/kv/types/``) and the modules for transactions,
pub/sub and server commands; each registers itself with ``@command``.

Arity follows Redis: a positive number is the exact argument count
(command name included), a negative one the minimum.

A few hot commands also register a fast path (``@fast_path``): a function
that does the whole command in one step for its common case, used by
``Session.execute`` only while nothing else needs to see the command
(docs/kv/engine.md, "The fast lane").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Command:
    """One row of the command table."""

    __slots__ = (
        "name",
        "arity",
        "flags",
        "first",
        "last",
        "step",
        "handler",
        "keys_fn",
        "fast",
        "write",
        "readonly",
        "denyoom",
        "blocking",
        "in_multi",
        "queueable",
        "pubsub_context",
        "group",
        "summary",
    )

    def __init__(
        self,
        name: str,
        arity: int,
        flags: tuple[str, ...],
        first: int,
        last: int,
        step: int,
        handler: Callable[..., Any],
        keys_fn: Callable[[list[bytes]], list[bytes]] | None,
        group: str,
        summary: str,
    ) -> None:
        self.name = name
        self.arity = arity
        self.flags = frozenset(flags)
        self.first = first
        self.last = last
        self.step = step
        self.handler = handler
        self.keys_fn = keys_fn
        self.fast: Callable[..., Any] | None = None
        self.write = "write" in self.flags
        self.readonly = "readonly" in self.flags
        self.denyoom = "denyoom" in self.flags
        self.blocking = "blocking" in self.flags
        self.in_multi = name in ("exec", "discard", "multi", "watch", "unwatch", "quit", "reset")
        # May be queued after MULTI (EXEC's queue check reads this, not the flags).
        self.queueable = "no_multi" not in self.flags
        self.pubsub_context = name in (
            "subscribe",
            "unsubscribe",
            "psubscribe",
            "punsubscribe",
            "ssubscribe",
            "sunsubscribe",
            "ping",
            "quit",
            "reset",
        )
        self.group = group
        self.summary = summary

    def keys(self, argv: list[bytes]) -> list[bytes]:
        """Return the key arguments of ``argv`` (COMMAND GETKEYS, WATCH, persistence)."""
        if self.keys_fn is not None:
            return self.keys_fn(argv)
        if not self.first:
            return []
        last = self.last
        if last < 0:
            last = len(argv) + last
        return argv[self.first : last + 1 : self.step]


COMMANDS: dict[bytes, Command] = {}


def command(
    name: str,
    arity: int,
    flags: str = "",
    first: int = 0,
    last: int = 0,
    step: int = 0,
    keys: Callable[[list[bytes]], list[bytes]] | None = None,
    group: str = "generic",
    summary: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the handler of command ``name``.

    The handler is called as ``handler(session, argv)`` under the engine
    lock and returns a reply value or raises ``CommandError``.
    """

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        entry = Command(
            name.lower(),
            arity,
            tuple(flags.split()),
            first,
            last,
            step,
            handler,
            keys,
            group,
            summary or (handler.__doc__ or "").strip().split("\n")[0],
        )
        COMMANDS[name.lower().encode()] = entry
        COMMANDS[name.upper().encode()] = entry
        return handler

    return register


# What a fast path returns when its common case does not apply: the command
# then runs through its handler, as if the fast path did not exist.
FALLBACK = object()


def no_log(db: int, argv: list[bytes]) -> None:
    """Log nothing: the fast lane's log on an engine that does not persist.

    Handlers that run their fast path on the general path pass it too, then
    set ``session.dirty`` so that ``execute`` propagates as usual.
    """


def fast_path(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the fast path of command ``name``.

    It is called as ``fast(session, argv, log)`` under the engine lock,
    after the arity check, and only while no WATCH, key waiter, memory
    limit, transaction, rewrite or write refusal needs to see the command
    (``Session.execute`` checks). It either returns ``FALLBACK`` having
    changed nothing, raises ``CommandError`` having changed nothing, or does
    the whole command exactly as the handler would and returns its reply;
    a write then hands ``argv`` to ``log(db, argv)`` (the persistence
    lane) once, in place of ``session.dirty`` and propagation.
    """

    def register(fast: Callable[..., Any]) -> Callable[..., Any]:
        COMMANDS[name.lower().encode()].fast = fast
        return fast

    return register


def lookup(name: bytes) -> Command | None:
    """Return the command called ``name`` in any letter case, or None."""
    entry = COMMANDS.get(name)
    if entry is None:
        entry = COMMANDS.get(name.lower())
    return entry


def all_commands() -> list[Command]:
    """Return every registered command once, sorted by name."""
    seen = {id(c): c for c in COMMANDS.values()}
    return sorted(seen.values(), key=lambda c: c.name)


def numkeys_at(position: int, extra: int = 0) -> Callable[[list[bytes]], list[bytes]]:
    """Return a key extractor for commands whose key count is at ``argv[position]``.

    ``extra`` adds a destination key at ``argv[1]`` (the ``*STORE`` variants).
    """

    def keys(argv: list[bytes]) -> list[bytes]:
        try:
            count = int(argv[position])
        except (IndexError, ValueError):
            return argv[1:2] if extra else []
        found = argv[position + 1 : position + 1 + max(count, 0)]
        return (argv[1:2] + found) if extra else found

    return keys
