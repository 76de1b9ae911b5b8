"""Publish/subscribe: channel and pattern subscriptions and message delivery.

``PubSub`` maps channels and patterns to the sessions listening to them and
delivers each PUBLISH as a ``Push`` through the session's ``push_handler``
(the server writes it to the socket, the in-process client queues it). The
SUBSCRIBE family returns its confirmations from ``execute``. Messages are
delivered to handlers, never stored here, so a slow subscriber cannot grow
this module's memory.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from stores.kv.commands import command
from stores.kv.errors import CommandError, subcommand_error
from stores.kv.glob import glob_match
from stores.kv.replies import Push

if TYPE_CHECKING:
    from stores.kv.engine import Engine, Session

log = logging.getLogger(__name__)


class PubSub:
    """The subscription registry of one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.channels: dict[bytes, dict[int, Session]] = {}
        self.patterns: dict[bytes, dict[int, Session]] = {}

    def subscribe(self, session: Session, channel: bytes) -> None:
        """Add ``channel`` to ``session``'s subscriptions."""
        self.channels.setdefault(channel, {})[session.id] = session
        session.channels.add(channel)
        session.refresh_guard()

    def unsubscribe(self, session: Session, channel: bytes) -> None:
        """Remove ``channel`` from ``session``'s subscriptions."""
        listeners = self.channels.get(channel)
        if listeners is not None:
            listeners.pop(session.id, None)
            if not listeners:
                del self.channels[channel]
        session.channels.discard(channel)
        session.refresh_guard()

    def psubscribe(self, session: Session, pattern: bytes) -> None:
        """Add ``pattern`` to ``session``'s pattern subscriptions."""
        self.patterns.setdefault(pattern, {})[session.id] = session
        session.patterns.add(pattern)
        session.refresh_guard()

    def punsubscribe(self, session: Session, pattern: bytes) -> None:
        """Remove ``pattern`` from ``session``'s pattern subscriptions."""
        listeners = self.patterns.get(pattern)
        if listeners is not None:
            listeners.pop(session.id, None)
            if not listeners:
                del self.patterns[pattern]
        session.patterns.discard(pattern)
        session.refresh_guard()

    def drop(self, session: Session) -> None:
        """Remove every subscription of a closing session."""
        for channel in list(session.channels):
            self.unsubscribe(session, channel)
        for pattern in list(session.patterns):
            self.punsubscribe(session, pattern)

    def publish(self, channel: bytes, message: bytes) -> int:
        """Deliver ``message`` to every subscriber; return how many received it."""
        received = 0
        for session in list(self.channels.get(channel, {}).values()):
            received += _deliver(session, Push([b"message", channel, message]))
        for pattern, listeners in list(self.patterns.items()):
            if glob_match(pattern, channel):
                for session in list(listeners.values()):
                    received += _deliver(session, Push([b"pmessage", pattern, channel, message]))
        return received


def _deliver(session: Session, push: Push) -> int:
    handler = session.push_handler
    if handler is None:
        return 1
    try:
        handler(push)
    except Exception:
        log.exception("push handler of session %s failed", session.id)
    return 1


def _confirmations(items: list[Push]) -> Any:
    return items[0] if len(items) == 1 else items


@command("subscribe", -2, "pubsub noscript loading stale", group="pubsub")
def subscribe(s: Session, argv: list[bytes]) -> Any:
    """Listen for messages published to the given channels."""
    if s.in_exec:
        raise CommandError("ERR Command not allowed inside a transaction")
    out = []
    for channel in argv[1:]:
        s.engine.pubsub.subscribe(s, channel)
        out.append(Push([b"subscribe", channel, s.subscriptions]))
    return _confirmations(out)


@command("unsubscribe", -1, "pubsub noscript loading stale", group="pubsub")
def unsubscribe(s: Session, argv: list[bytes]) -> Any:
    """Stop listening for messages posted to the given channels (all if none)."""
    channels = argv[1:] or sorted(s.channels)
    if not channels:
        return Push([b"unsubscribe", None, s.subscriptions])
    out = []
    for channel in channels:
        s.engine.pubsub.unsubscribe(s, channel)
        out.append(Push([b"unsubscribe", channel, s.subscriptions]))
    return _confirmations(out)


@command("psubscribe", -2, "pubsub noscript loading stale", group="pubsub")
def psubscribe(s: Session, argv: list[bytes]) -> Any:
    """Listen for messages published to channels matching the given patterns."""
    if s.in_exec:
        raise CommandError("ERR Command not allowed inside a transaction")
    out = []
    for pattern in argv[1:]:
        s.engine.pubsub.psubscribe(s, pattern)
        out.append(Push([b"psubscribe", pattern, s.subscriptions]))
    return _confirmations(out)


@command("punsubscribe", -1, "pubsub noscript loading stale", group="pubsub")
def punsubscribe(s: Session, argv: list[bytes]) -> Any:
    """Stop listening for messages posted to channels matching the patterns (all if none)."""
    patterns = argv[1:] or sorted(s.patterns)
    if not patterns:
        return Push([b"punsubscribe", None, s.subscriptions])
    out = []
    for pattern in patterns:
        s.engine.pubsub.punsubscribe(s, pattern)
        out.append(Push([b"punsubscribe", pattern, s.subscriptions]))
    return _confirmations(out)


@command("publish", 3, "pubsub loading stale fast", group="pubsub")
def publish(s: Session, argv: list[bytes]) -> int:
    """Post a message to a channel."""
    return s.engine.pubsub.publish(argv[1], argv[2])


@command("pubsub", -2, "pubsub loading stale", group="pubsub")
def pubsub(s: Session, argv: list[bytes]) -> Any:
    """PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT."""
    sub = argv[1].lower()
    registry = s.engine.pubsub
    if sub == b"channels" and len(argv) <= 3:
        pattern = argv[2] if len(argv) == 3 else b"*"
        return [c for c in registry.channels if glob_match(pattern, c)]
    if sub == b"numsub":
        out: list[Any] = []
        for channel in argv[2:]:
            out += [channel, len(registry.channels.get(channel, ()))]
        return out
    if sub == b"numpat" and len(argv) == 2:
        return len(registry.patterns)
    if sub == b"help":
        return [b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"]
    raise subcommand_error(argv[1], "PUBSUB", (b"channels", b"numsub", b"numpat", b"help"))
