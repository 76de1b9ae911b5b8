"""A Channels layer carried by the key-value store's pub/sub.

It owns the process's side of the layer: an inbox per channel received in
this process, the local members of each group, and one pub/sub subscription
(with one reader thread) that brings in messages other processes publish.
Group membership is kept where the channel is received, so ``group_add``
takes only channels received in this process, as channels_redis's pub/sub
layer does.
It implements the whole layer spec: ``send``, ``receive``, ``new_channel``,
``group_add``, ``group_discard``, ``group_send``, ``flush``, capacity
(``ChannelFull``), message expiry, group expiry and name validation.

The design follows channels_redis's ``RedisPubSubChannelLayer``: a channel's
messages are buffered in the process that receives it, never in the store,
and a group is one pub/sub channel that each process with members subscribes
to. Unlike it, this layer is not bound to one event loop: Django's sync views
send through ``async_to_sync`` (a new loop per call) while consumers receive
on the server's loop, and the in-process engine calls its pub/sub handlers
from the publisher's thread. So the inboxes are guarded by one
``threading.Lock`` and a message reaches a waiting receiver through
``loop.call_soon_threadsafe`` on the receiver's own loop. A message for a
channel that has its inbox in this process is delivered directly (exactly
once, with an exact capacity check); everything else crosses the store.

It must never block an event loop on the network: with a networked store
(redis-py against Redis or the project's RESP server) store commands run on
one I/O thread, in order; with the in-process engine they run inline, since
they touch no socket. It never buffers more than ``capacity`` messages per
channel, and a message that waited longer than ``expiry`` seconds is dropped
(its channel leaves every group, as its consumer is gone).
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgpack
from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer

logger = logging.getLogger(__name__)

# A frame published to the store: 16-byte origin id, the expiry time as a
# big-endian double (seconds since the epoch), then the msgpack payload.
FRAME_HEADER = struct.Struct(">16sd")
READER_POLL_SECONDS = 0.2
READER_RETRY_SECONDS = 1.0


def serialize(message: dict) -> bytes:
    """Return ``message`` packed as msgpack, the format channels_redis uses."""
    return msgpack.packb(message, use_bin_type=True)


def deserialize(payload: bytes) -> dict:
    """Return the message packed in ``payload``."""
    return msgpack.unpackb(payload, raw=False)


class _Inbox:
    """The buffered messages and waiting receivers of one local channel."""

    __slots__ = ("name", "capacity", "messages", "waiters")

    def __init__(self, name: str, capacity: int):
        self.name = name
        self.capacity = capacity
        self.messages: deque[tuple[float, bytes]] = deque()
        self.waiters: deque[asyncio.Future] = deque()


def _wall_clock() -> float:
    return time.time()


def _is_networked(client: Any) -> bool:
    # redis-py clients talk to a socket; the engine's in-process client does not.
    return hasattr(client, "connection_pool")


class KVChannelLayer(BaseChannelLayer):
    """Channels layer on the key-value store's pub/sub (see the module doc)."""

    extensions = ["groups", "flush"]

    def __init__(
        self,
        expiry: float = 60,
        group_expiry: float = 86400,
        capacity: int = 100,
        channel_capacity: dict | None = None,
        prefix: str = "asgi",
        client: Any = None,
        clock: Callable[[], float] | None = None,
    ):
        super().__init__(expiry=expiry, capacity=capacity)
        self.channel_capacity = self.compile_capacities(channel_capacity or {})
        self.group_expiry = group_expiry
        self.prefix = prefix
        self.clock = clock or _wall_clock
        self._client = client
        self._origin = uuid.uuid4().bytes
        self._lock = threading.Lock()
        self._inboxes: dict[str, _Inbox] = {}
        self._groups: dict[str, dict[str, float]] = {}
        self._subscribed: set[bytes] = set()
        self._pubsub = None
        self._pubsub_lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._stopping = threading.Event()
        self._io: ThreadPoolExecutor | None = None
        self._dropped = 0  # remote messages dropped for full channels, not yet logged
        self._dropped_logged_at = float("-inf")

    # Store access ----------------------------------------------------------

    @property
    def client(self):
        """Return the redis-py shaped handle this layer publishes through."""
        if self._client is None:
            from stores import clients

            self._client = clients.kv()
        return self._client

    async def _store_call(self, function: Callable, *args: Any) -> Any:
        if not _is_networked(self.client):
            return function(*args)
        if self._io is None:
            self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kv-layer-io")
        return await asyncio.get_running_loop().run_in_executor(self._io, function, *args)

    def _store_channel(self, name: str) -> bytes:
        return f"{self.prefix}:{name}".encode()

    def _store_group(self, group: str) -> bytes:
        return f"{self.prefix}:group:{group}".encode()

    async def _subscribe(self, store_channel: bytes) -> None:
        with self._lock:
            if store_channel in self._subscribed:
                return
            self._subscribed.add(store_channel)
        # Not under self._lock: the in-process engine runs its push handlers
        # under its own lock and they then take ours, so ours is never held
        # while calling into the engine.
        with self._pubsub_lock:
            if self._pubsub is None:
                self._pubsub = self.client.pubsub()
        await self._store_call(self._pubsub.subscribe, store_channel)
        self._ensure_reader()

    async def _unsubscribe(self, store_channel: bytes) -> None:
        with self._lock:
            if store_channel not in self._subscribed:
                return
            self._subscribed.discard(store_channel)
        await self._store_call(self._pubsub.unsubscribe, store_channel)

    def _ensure_reader(self) -> None:
        with self._pubsub_lock:
            if self._reader is not None and self._reader.is_alive():
                return
            self._stopping.clear()
            self._reader = threading.Thread(
                target=self._read_forever, name="kv-layer-reader", daemon=True
            )
            self._reader.start()

    def _read_forever(self) -> None:
        pubsub = self._pubsub
        while not self._stopping.is_set():
            try:
                message = pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=READER_POLL_SECONDS
                )
            except Exception:
                if self._stopping.is_set():
                    return
                logger.exception("channel layer: pub/sub read failed; retrying")
                self._stopping.wait(READER_RETRY_SECONDS)
                continue
            if message is not None and message.get("type") == "message":
                try:
                    self._on_published(message["channel"], message["data"])
                except (struct.error, UnicodeDecodeError, TypeError, AttributeError):
                    # Someone else published on our prefix: not a crash, not a flood of tracebacks.
                    logger.warning(
                        "channel layer: dropped a malformed frame on %r", message["channel"]
                    )

    def _on_published(self, store_channel: bytes | str, frame: bytes) -> None:
        if isinstance(store_channel, str):
            store_channel = store_channel.encode()
        if isinstance(frame, str):
            frame = frame.encode()
        origin, expires_at = FRAME_HEADER.unpack_from(frame)
        if origin == self._origin:
            return  # delivered locally when it was sent
        payload = frame[FRAME_HEADER.size :]
        name = store_channel.decode()[len(self.prefix) + 1 :]
        with self._lock:
            if name.startswith("group:"):
                members = list(self._groups.get(name[len("group:") :], ()))
            else:
                members = [name]
            dropped = 0
            for channel in members:
                inbox = self._inboxes.get(channel)
                if inbox is not None and not self._deliver(inbox, expires_at, payload):
                    dropped += 1
        if dropped:
            self._dropped += dropped
            now = time.monotonic()
            # One line a second at most, however fast a full channel is fed.
            if now - self._dropped_logged_at >= 1.0:
                logger.warning(
                    "channel layer: %d messages dropped for full channels", self._dropped
                )
                self._dropped, self._dropped_logged_at = 0, now

    # Inboxes (all called with self._lock held) ------------------------------

    def _inbox(self, channel: str) -> _Inbox:
        inbox = self._inboxes.get(channel)
        if inbox is None:
            inbox = self._inboxes[channel] = _Inbox(channel, self.get_capacity(channel))
        return inbox

    def _deliver(self, inbox: _Inbox, expires_at: float, payload: bytes) -> bool:
        """Hand a message to a waiting receiver or buffer it; False if full."""
        if expires_at < self.clock():
            return True  # expired on the way: dropped, as if read too late
        while inbox.waiters:
            waiter = inbox.waiters.popleft()
            if waiter.done():
                continue
            try:
                waiter.get_loop().call_soon_threadsafe(
                    self._resolve, inbox, waiter, expires_at, payload
                )
            except RuntimeError:
                continue  # the receiver's loop is closed
            return True
        if len(inbox.messages) >= inbox.capacity:
            return False
        inbox.messages.append((expires_at, payload))
        return True

    def _resolve(self, inbox: _Inbox, waiter: asyncio.Future, expires_at: float, payload: bytes):
        # Runs on the receiver's loop. A receiver cancelled in the meantime
        # must not lose the message: it goes back to the channel.
        if waiter.done():
            with self._lock:
                if self._inboxes.get(inbox.name) is inbox:
                    self._deliver(inbox, expires_at, payload)
            return
        waiter.set_result((expires_at, payload))

    def _expire(self, inbox: _Inbox, now: float) -> None:
        expired = False
        while inbox.messages and inbox.messages[0][0] < now:
            inbox.messages.popleft()
            expired = True
        if expired:
            # Nobody read the channel in time: its consumer is gone.
            for members in self._groups.values():
                members.pop(inbox.name, None)

    def _frame(self, message: dict) -> tuple[float, bytes]:
        if not isinstance(message, dict):
            raise TypeError("message must be a dict")
        if "__asgi_channel__" in message:
            raise TypeError("message must not carry __asgi_channel__")
        return self.clock() + self.expiry, serialize(message)

    # Channel layer API -----------------------------------------------------

    async def send(self, channel: str, message: dict) -> None:
        """Send ``message`` to ``channel``; raise ChannelFull if it is full."""
        self.require_valid_channel_name(channel)
        expires_at, payload = self._frame(message)
        with self._lock:
            inbox = self._inboxes.get(channel)
            if inbox is not None:
                self._expire(inbox, self.clock())
                if not self._deliver(inbox, expires_at, payload):
                    raise ChannelFull(channel)
                return
        frame = FRAME_HEADER.pack(self._origin, expires_at) + payload
        await self._store_call(self.client.publish, self._store_channel(channel), frame)

    async def new_channel(self, prefix: str = "specific.") -> str:
        """Return a new channel name that is received in this process."""
        channel = f"{prefix}{self.prefix}!{uuid.uuid4().hex}"
        self.require_valid_channel_name(channel)
        with self._lock:
            self._inbox(channel)
        await self._subscribe(self._store_channel(channel))
        return channel

    async def receive(self, channel: str) -> dict:
        """Return the next message sent to ``channel``, waiting for one.

        Cancelling a receive (a consumer exiting) drops the channel from this
        process: its buffered messages, its groups and its subscription.
        """
        self.require_valid_channel_name(channel)
        loop = asyncio.get_running_loop()
        with self._lock:
            known = channel in self._inboxes
            inbox = self._inbox(channel)
        if not known:
            await self._subscribe(self._store_channel(channel))
        with self._lock:
            self._expire(inbox, self.clock())
            if inbox.messages:
                _, payload = inbox.messages.popleft()
                return deserialize(payload)
            waiter = loop.create_future()
            inbox.waiters.append(waiter)
        try:
            _, payload = await waiter
        except (asyncio.CancelledError, GeneratorExit):
            await self._forget_channel(channel)
            raise
        return deserialize(payload)

    async def _forget_channel(self, channel: str) -> None:
        emptied = []
        with self._lock:
            self._inboxes.pop(channel, None)
            for group, members in list(self._groups.items()):
                if members.pop(channel, None) is not None and not members:
                    del self._groups[group]
                    emptied.append(group)
        try:
            await self._unsubscribe(self._store_channel(channel))
            for group in emptied:
                await self._unsubscribe(self._store_group(group))
        except Exception:
            logger.exception("channel layer: cleaning up %s failed", channel)

    # Groups extension ------------------------------------------------------

    async def group_add(self, group: str, channel: str) -> None:
        """Add ``channel`` (received in this process) to ``group``.

        As with channels_redis's pub/sub layer, group membership lives in the
        process that receives the channel: adding another process's channel
        raises RuntimeError rather than silently never delivering.
        """
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        with self._lock:
            if channel not in self._inboxes:
                raise RuntimeError(
                    f"group_add({group!r}, {channel!r}): the channel is not received in this "
                    "process; call group_add from its consumer (self.channel_name)"
                )
            self._groups.setdefault(group, {})[channel] = self.clock()
        await self._subscribe(self._store_group(group))

    async def group_discard(self, group: str, channel: str) -> None:
        """Remove ``channel`` from ``group``; do nothing if it is not in it."""
        self.require_valid_group_name(group)
        self.require_valid_channel_name(channel)
        with self._lock:
            members = self._groups.get(group)
            if not members or members.pop(channel, None) is None or members:
                return
            del self._groups[group]
        await self._unsubscribe(self._store_group(group))

    async def group_send(self, group: str, message: dict) -> None:
        """Send ``message`` to every channel in ``group``, skipping full ones."""
        self.require_valid_group_name(group)
        expires_at, payload = self._frame(message)
        now = self.clock()
        with self._lock:
            members = self._groups.get(group, {})
            for channel, joined in list(members.items()):
                if joined < now - self.group_expiry:
                    del members[channel]
                    continue
                inbox = self._inboxes.get(channel)
                if inbox is None:
                    continue
                self._expire(inbox, now)
                if channel in members:
                    self._deliver(inbox, expires_at, payload)
        frame = FRAME_HEADER.pack(self._origin, expires_at) + payload
        await self._store_call(self.client.publish, self._store_group(group), frame)

    # Flush extension -------------------------------------------------------

    async def flush(self) -> None:
        """Forget every channel and group of this process, as if new."""
        with self._lock:
            self._inboxes.clear()
            self._groups.clear()
        for store_channel in list(self._subscribed):
            await self._unsubscribe(store_channel)

    async def close(self) -> None:
        """Flush, stop the reader thread and release the store connection."""
        await self.flush()
        self._stopping.set()
        reader, self._reader = self._reader, None
        if reader is not None and reader is not threading.current_thread():
            await asyncio.get_running_loop().run_in_executor(None, reader.join, 5)
        if self._pubsub is not None:
            self._pubsub.close()
            self._pubsub = None
        if self._io is not None:
            self._io.shutdown(wait=False)
            self._io = None

    def __repr__(self) -> str:
        return f"<KVChannelLayer prefix={self.prefix!r} pid={os.getpid()}>"
