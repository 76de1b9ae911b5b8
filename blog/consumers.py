"""WebSocket consumers of the demo blog.

``LeaderboardConsumer`` speaks a small JSON protocol (docs/leaderboard.md):
the server sends ``{"type": "boards", "seq", "version", "boards"}``; the
client acknowledges the newest it handled with ``{"type": "ack", "seq"}``
(an ack covers every earlier update) and may send ``{"type": "ping"}``. The
server never has more than a few unacked updates out per client: a client
that stops reading gets no more and is dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from blog import leaderboard

logger = logging.getLogger(__name__)

MAX_ECHO_BYTES = 4096

# WebSocket close codes (RFC 6455, section 7.4.1).
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_INVALID_PAYLOAD = 1007
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011


class EchoConsumer(AsyncWebsocketConsumer):
    """Send every text frame back; close with 1009 on frames over the size cap."""

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is None:
            await self.close(code=CLOSE_UNSUPPORTED_DATA)
            return
        if len(text_data.encode()) > MAX_ECHO_BYTES:
            await self.close(code=CLOSE_TOO_BIG)
            return
        await self.send(text_data=text_data)


def _setting(name: str, default):
    return getattr(settings, name, default)


# Open leaderboard sockets per client address, in this process.
open_connections: Counter[str] = Counter()


class LeaderboardConsumer(AsyncWebsocketConsumer):
    """Push the leaderboards to a browser as they change, coalesced."""

    clock = staticmethod(time.monotonic)

    async def dispatch(self, message):
        # Channels' dispatch first closes stale database connections through
        # a thread hop, per message and per consumer; this consumer never
        # touches the database, and that hop dominated the fan-out time.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def __call__(self, scope, receive, send):
        self.counted = False
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the consumer ends (disconnect, crash, cancellation),
            # its address must not stay counted or the cap would lock it out.
            self._release()

    def _release(self) -> None:
        if self.counted:
            self.counted = False
            open_connections[self.address] -= 1
            if open_connections[self.address] <= 0:
                del open_connections[self.address]

    async def connect(self):
        self.address = (self.scope.get("client") or ["unknown"])[0]
        self.closing = False
        self.flusher: asyncio.Task | None = None
        self.seq = 0  # the last update sent
        self.acked = 0  # the last update the client acknowledged
        self.unacked_since = 0.0  # when the oldest unacked update was sent
        self.sent_version = -1
        self.wanted_version = 0
        self.last_sent_at = float("-inf")
        self.inbound: list[float] = []
        cap = _setting("LEADERBOARD_MAX_CONNECTIONS_PER_ADDRESS", 10)
        if open_connections[self.address] >= cap:
            await self.accept()
            await self._close(CLOSE_POLICY_VIOLATION)
            return
        open_connections[self.address] += 1
        self.counted = True
        await self.channel_layer.group_add(leaderboard.GROUP, self.channel_name)
        await self.accept()
        try:
            self.wanted_version = await asyncio.to_thread(leaderboard.current_version)
        except Exception:
            logger.exception("leaderboard: reading the boards' version failed")
            await self._close(CLOSE_INTERNAL_ERROR)
            return
        self._schedule()

    async def disconnect(self, code):
        self.closing = True
        if self.flusher is not None:
            self.flusher.cancel()
        if self.counted:
            self._release()
            await self.channel_layer.group_discard(leaderboard.GROUP, self.channel_name)

    async def _close(self, code: int) -> None:
        self.closing = True
        await self.close(code=code)

    # From the browser ------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.closing:
            return
        if text_data is None:
            await self._close(CLOSE_UNSUPPORTED_DATA)
            return
        limit = _setting("LEADERBOARD_MAX_MESSAGE_BYTES", 256)
        # Characters never outnumber UTF-8 bytes, so the cheap check goes first.
        if len(text_data) > limit or len(text_data.encode("utf-8", "surrogatepass")) > limit:
            await self._close(CLOSE_TOO_BIG)
            return
        if self._flooding():
            await self._close(CLOSE_POLICY_VIOLATION)
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            await self._close(CLOSE_INVALID_PAYLOAD)
            return
        if not isinstance(message, dict):
            await self._close(CLOSE_INVALID_PAYLOAD)
            return
        kind = message.get("type")
        if kind == "ping":
            await self.send(text_data='{"type": "pong"}')
        elif kind == "ack":
            self._on_ack(message.get("seq"))
        # Anything else is ignored: newer clients may speak more.

    def _flooding(self) -> bool:
        now = self.clock()
        window = _setting("LEADERBOARD_INBOUND_WINDOW_SECONDS", 10.0)
        self.inbound = [t for t in self.inbound if t > now - window]
        self.inbound.append(now)
        return len(self.inbound) > _setting("LEADERBOARD_MAX_INBOUND_PER_WINDOW", 50)

    def _on_ack(self, seq) -> None:
        if type(seq) is not int or not self.acked < seq <= self.seq:
            return
        self.acked = seq
        if self.acked < self.seq:
            self.unacked_since = self.clock()
        self._schedule()

    # From the channel layer ------------------------------------------------

    async def leaderboard_changed(self, event):
        version = event.get("version")
        if type(version) is int and version > self.wanted_version:
            self.wanted_version = version
        self._schedule()

    def _schedule(self) -> None:
        """Start the flusher unless it runs or the client is behind."""
        if self.closing or (self.flusher is not None and not self.flusher.done()):
            return
        if self.wanted_version <= self.sent_version:
            return
        if self.seq - self.acked >= _setting("LEADERBOARD_MAX_UNACKED", 4):
            stalled = self.clock() - self.unacked_since
            if stalled > _setting("LEADERBOARD_STALL_SECONDS", 20.0):
                self.flusher = asyncio.ensure_future(self._close(CLOSE_POLICY_VIOLATION))
            return
        interval = _setting("LEADERBOARD_MIN_INTERVAL_SECONDS", 0.25)
        delay = max(0.0, self.last_sent_at + interval - self.clock())
        self.flusher = asyncio.ensure_future(self._flush_after(delay))

    async def _flush_after(self, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        try:
            board = await leaderboard.shared_snapshots.get(self.wanted_version)
        except Exception:
            logger.exception("leaderboard: reading the boards failed")
            return
        if board.version < self.wanted_version:
            # Even a fresh read is older: the announced version came from a
            # store that was since emptied. Trust the store, or we would poll.
            self.wanted_version = board.version
        if board.version > self.sent_version:
            if self.seq == self.acked:
                self.unacked_since = self.clock()
            self.seq += 1
            self.sent_version = board.version
            self.last_sent_at = self.clock()
            await self.send(text_data=board.message(type="boards", seq=self.seq))
        self.flusher = None
        self._schedule()
