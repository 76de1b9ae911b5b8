"""Channels' layer spec, run against this project's layer and its anchors.

The behaviour every layer must share (send/receive, groups, flush, several
processes, several event loops) runs against ``KVChannelLayer`` on the
embedded engine and on redis-py with a real redis-server, and against
channels_redis's ``RedisPubSubChannelLayer`` on that redis-server. The parts
of the spec that channels_redis's pub/sub layer does not implement
(capacity, expiry, name validation) run against ``KVChannelLayer`` and
Channels' own ``InMemoryChannelLayer``, the spec's reference.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
import pytest_asyncio
import redis
from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

from stores import kv as kv_engine
from stores.channel_layer import KVChannelLayer
from stores.kv.client import Client

pytestmark = [pytest.mark.asyncio, pytest.mark.redis_server]

RECEIVE_TIMEOUT = 5


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class RedisStore:
    """A real redis-server reached through redis-py."""

    def __init__(self, redis_server):
        self.server = redis_server

    def client(self):
        return redis.Redis(host=self.server.host, port=self.server.port)

    def close(self):
        pass


class EmbeddedStore:
    """The in-process engine; each layer gets its own client, as a process would."""

    def __init__(self):
        self.first = kv_engine.connect("memory:")

    def client(self):
        return Client(self.first.engine)

    def close(self):
        self.first.close()


STORES = {"redis": RedisStore, "embedded": lambda redis_server: EmbeddedStore()}


def kv_layer(store, prefix, **config):
    return KVChannelLayer(client=store.client(), prefix=prefix, **config)


def redis_pubsub_layer(store, prefix, **config):
    return RedisPubSubChannelLayer(hosts=[store.server.url], prefix=prefix, **config)


SHARED = {
    "kv-embedded": ("embedded", kv_layer),
    "kv-redis": ("redis", kv_layer),
    "channels_redis": ("redis", redis_pubsub_layer),
}


async def close_layer(layer):
    await layer.flush()
    if isinstance(layer, KVChannelLayer):
        await layer.close()


@pytest_asyncio.fixture(params=sorted(SHARED))
async def make_layer(request, redis_server):
    """Return a factory of layers of one kind sharing one store (processes)."""
    store_kind, factory = SHARED[request.param]
    store = STORES[store_kind](redis_server)
    prefix = "t" + uuid.uuid4().hex[:8]
    made = []

    def make(**config):
        layer = factory(store, prefix, **config)
        made.append(layer)
        return layer

    yield make
    for layer in made:
        await close_layer(layer)
    store.close()


@pytest_asyncio.fixture
async def layer(make_layer):
    return make_layer()


async def receive(layer, channel):
    return await asyncio.wait_for(layer.receive(channel), RECEIVE_TIMEOUT)


# The behaviour both layers share ------------------------------------------


async def test_send_then_receive(layer):
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "test.message", "text": "hello"})
    assert await receive(layer, channel) == {"type": "test.message", "text": "hello"}


async def test_receive_waits_for_a_later_send(layer):
    channel = await layer.new_channel()
    waiting = asyncio.ensure_future(receive(layer, channel))
    await asyncio.sleep(0)
    await layer.send(channel, {"type": "late"})
    assert await waiting == {"type": "late"}


async def test_messages_keep_their_order(layer):
    channel = await layer.new_channel()
    for i in range(20):
        await layer.send(channel, {"type": "n", "i": i})
    assert [(await receive(layer, channel))["i"] for _ in range(20)] == list(range(20))


async def test_messages_keep_their_types(layer):
    channel = await layer.new_channel()
    message = {
        "type": "t",
        "text": "héllo ✓",
        "n": -3,
        "f": 1.5,
        "raw": b"\x00\xff",
        "nested": {"a": [1, None, True]},
    }
    await layer.send(channel, message)
    assert await receive(layer, channel) == message


async def test_new_channel_names_are_distinct_and_valid(layer):
    names = {await layer.new_channel() for _ in range(50)}
    assert len(names) == 50
    reference = InMemoryChannelLayer()
    for name in names:
        assert reference.require_valid_channel_name(name)


async def test_group_send_reaches_members_only(layer):
    a, b, outsider = [await layer.new_channel() for _ in range(3)]
    await layer.group_add("board", a)
    await layer.group_add("board", b)
    await layer.group_send("board", {"type": "board.update", "n": 1})
    assert await receive(layer, a) == {"type": "board.update", "n": 1}
    assert await receive(layer, b) == {"type": "board.update", "n": 1}
    await layer.send(outsider, {"type": "direct"})
    assert await receive(layer, outsider) == {"type": "direct"}


async def test_group_add_twice_delivers_once(layer):
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.group_add("g", channel)
    await layer.group_send("g", {"type": "once"})
    await layer.send(channel, {"type": "marker"})
    assert await receive(layer, channel) == {"type": "once"}
    assert await receive(layer, channel) == {"type": "marker"}


async def test_group_discard_stops_delivery(layer):
    stays, leaves = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("g", stays)
    await layer.group_add("g", leaves)
    await layer.group_discard("g", leaves)
    await layer.group_discard("g", leaves)  # a second discard is harmless
    await layer.group_discard("never-joined", stays)
    await layer.group_send("g", {"type": "after.discard"})
    assert await receive(layer, stays) == {"type": "after.discard"}
    await layer.send(leaves, {"type": "marker"})
    assert await receive(layer, leaves) == {"type": "marker"}


async def test_group_send_to_an_empty_group_is_harmless(layer):
    await layer.group_send("nobody-here", {"type": "lost"})


async def test_flush_forgets_groups(layer):
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.flush()
    fresh = await layer.new_channel()
    await layer.group_send("g", {"type": "after.flush"})
    await layer.send(fresh, {"type": "marker"})
    assert await receive(layer, fresh) == {"type": "marker"}


async def test_send_across_processes(make_layer):
    here, there = make_layer(), make_layer()
    channel = await here.new_channel()
    await there.send(channel, {"type": "from.there"})
    assert await receive(here, channel) == {"type": "from.there"}


async def test_group_send_across_processes(make_layer):
    first, second, sender = make_layer(), make_layer(), make_layer()
    a, b = await first.new_channel(), await second.new_channel()
    await first.group_add("everyone", a)
    await second.group_add("everyone", b)
    await sender.group_send("everyone", {"type": "hi"})
    assert await receive(first, a) == {"type": "hi"}
    assert await receive(second, b) == {"type": "hi"}


async def test_group_send_from_a_member_process_reaches_every_process(make_layer):
    first, second = make_layer(), make_layer()
    a, b = await first.new_channel(), await second.new_channel()
    await first.group_add("everyone", a)
    await second.group_add("everyone", b)
    await first.group_send("everyone", {"type": "hi"})
    assert await receive(first, a) == {"type": "hi"}
    assert await receive(second, b) == {"type": "hi"}
    await first.send(a, {"type": "marker"})
    assert await receive(first, a) == {"type": "marker"}


async def test_group_add_of_another_process_channel_is_refused(make_layer):
    here, there = make_layer(), make_layer()
    theirs = await there.new_channel()
    with pytest.raises(RuntimeError):
        await here.group_add("g", theirs)
    await there.group_add("g", theirs)
    await here.group_send("g", {"type": "reaches.them"})
    assert await receive(there, theirs) == {"type": "reaches.them"}


async def test_send_from_another_thread_and_event_loop(layer):
    """A sync view sends through async_to_sync: another thread, another loop."""
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    waiting = asyncio.ensure_future(receive(layer, channel))
    await asyncio.sleep(0)

    def sync_view():
        asyncio.run(layer.send(channel, {"type": "from.thread"}))
        asyncio.run(layer.group_send("g", {"type": "group.from.thread"}))

    thread = threading.Thread(target=sync_view)
    thread.start()
    await asyncio.get_running_loop().run_in_executor(None, thread.join)
    assert await waiting == {"type": "from.thread"}
    assert await receive(layer, channel) == {"type": "group.from.thread"}


async def test_each_message_reaches_one_receiver(layer):
    channel = await layer.new_channel()
    receivers = [asyncio.ensure_future(layer.receive(channel)) for _ in range(3)]
    await asyncio.sleep(0.05)
    for i in range(3):
        await layer.send(channel, {"type": "n", "i": i})
    done = await asyncio.wait_for(asyncio.gather(*receivers), RECEIVE_TIMEOUT)
    assert sorted(m["i"] for m in done) == [0, 1, 2]


# The parts of the spec channels_redis's pub/sub layer leaves out -----------

FULL_SPEC = ["kv-embedded", "kv-redis", "inmemory"]


@pytest_asyncio.fixture(params=FULL_SPEC)
async def make_full_layer(request, redis_server, monkeypatch):
    """Return a factory of layers with a hand-moved clock, and the clock."""
    clock = FakeClock()
    monkeypatch.setattr(time, "time", clock)  # InMemoryChannelLayer reads time.time
    prefix = "f" + uuid.uuid4().hex[:8]
    store = None if request.param == "inmemory" else STORES[request.param[3:]](redis_server)
    made = []

    def make(**config):
        if store is None:
            layer = InMemoryChannelLayer(**config)
        else:
            layer = kv_layer(store, prefix, clock=clock, **config)
        made.append(layer)
        return layer

    yield make, clock
    monkeypatch.undo()
    for layer in made:
        await close_layer(layer)
    if store is not None:
        store.close()


@pytest.fixture(params=sorted(STORES))
def store(request, redis_server):
    """Yield a store of each kind for the tests of what crosses it."""
    made = STORES[request.param](redis_server)
    yield made
    made.close()


BAD_NAMES = ["", "has space", "ümlaut", "x" * 100, "a:b", 42, None, b"bytes"]


@pytest.mark.parametrize("bad", BAD_NAMES)
async def test_invalid_channel_names_are_refused(make_full_layer, bad):
    layer = make_full_layer[0]()
    with pytest.raises(TypeError):
        await layer.send(bad, {"type": "x"})
    with pytest.raises(TypeError):
        await layer.receive(bad)
    with pytest.raises(TypeError):
        await layer.group_add("g", bad)


@pytest.mark.parametrize("bad", [*BAD_NAMES, "a!b"])
async def test_invalid_group_names_are_refused(make_full_layer, bad):
    layer = make_full_layer[0]()
    channel = await layer.new_channel()
    with pytest.raises(TypeError):
        await layer.group_add(bad, channel)
    with pytest.raises(TypeError):
        await layer.group_discard(bad, channel)
    with pytest.raises(TypeError):
        await layer.group_send(bad, {"type": "x"})


async def test_send_beyond_capacity_raises_channel_full(make_full_layer):
    layer = make_full_layer[0](capacity=3)
    channel = await layer.new_channel()
    for i in range(3):
        await layer.send(channel, {"type": "n", "i": i})
    with pytest.raises(ChannelFull):
        await layer.send(channel, {"type": "n", "i": 3})
    assert (await receive(layer, channel))["i"] == 0
    await layer.send(channel, {"type": "n", "i": 4})
    assert [(await receive(layer, channel))["i"] for _ in range(3)] == [1, 2, 4]


async def test_channel_capacity_patterns(store):
    # InMemoryChannelLayer never compiles channel_capacity, so only ours runs this.
    layer = kv_layer(store, "p" + uuid.uuid4().hex[:8], capacity=50, channel_capacity={"tiny.*": 1})
    try:
        tiny, roomy = await layer.new_channel("tiny."), await layer.new_channel("roomy.")
        await layer.send(tiny, {"type": "x"})
        with pytest.raises(ChannelFull):
            await layer.send(tiny, {"type": "x"})
        for _ in range(10):
            await layer.send(roomy, {"type": "x"})
    finally:
        await close_layer(layer)


async def test_group_send_skips_full_channels(make_full_layer):
    layer = make_full_layer[0](capacity=1)
    full, free = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("g", full)
    await layer.group_add("g", free)
    await layer.send(full, {"type": "first"})
    await layer.group_send("g", {"type": "group"})
    assert await receive(layer, free) == {"type": "group"}
    assert await receive(layer, full) == {"type": "first"}


async def test_unread_messages_expire(make_full_layer):
    make, clock = make_full_layer
    layer = make(expiry=10)
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "stale"})
    clock.now += 11
    await layer.send(channel, {"type": "fresh"})
    assert await receive(layer, channel) == {"type": "fresh"}


async def test_expired_channel_leaves_its_groups(make_full_layer):
    make, clock = make_full_layer
    layer = make(expiry=10)
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    await layer.send(channel, {"type": "unread"})
    clock.now += 11
    await layer.group_send("g", {"type": "group"})
    await layer.send(channel, {"type": "marker"})
    assert await receive(layer, channel) == {"type": "marker"}


async def test_group_membership_expires(make_full_layer):
    make, clock = make_full_layer
    layer = make(group_expiry=100)
    channel = await layer.new_channel()
    await layer.group_add("g", channel)
    clock.now += 101
    await layer.group_send("g", {"type": "group"})
    await layer.send(channel, {"type": "marker"})
    assert await receive(layer, channel) == {"type": "marker"}


async def test_messages_must_be_dicts(make_full_layer):
    layer = make_full_layer[0]()
    channel = await layer.new_channel()
    for bad in (["type", "x"], "text", None):
        with pytest.raises((TypeError, AssertionError)):
            await layer.send(channel, bad)
        with pytest.raises((TypeError, AssertionError)):
            await layer.group_send("g", bad)


# KVChannelLayer only: what crosses the store --------------------------------


async def test_remote_sender_cannot_overfill_a_channel(store):
    prefix = "r" + uuid.uuid4().hex[:8]
    here, there = kv_layer(store, prefix, capacity=2), kv_layer(store, prefix)
    try:
        channel, marker = await here.new_channel(), await here.new_channel()
        for i in range(5):
            await there.send(channel, {"type": "n", "i": i})
        # One pub/sub connection keeps order: once the marker is in, so are all five.
        await there.send(marker, {"type": "marker"})
        assert await receive(here, marker) == {"type": "marker"}
        assert [(await receive(here, channel))["i"] for _ in range(2)] == [0, 1]
        await there.send(channel, {"type": "n", "i": 5})
        assert (await receive(here, channel))["i"] == 5
    finally:
        await close_layer(here)
        await close_layer(there)


async def test_a_cancelled_receive_drops_the_subscription(store):
    prefix = "c" + uuid.uuid4().hex[:8]
    layer = kv_layer(store, prefix)
    probe = store.client()
    try:
        channel = await layer.new_channel()
        await layer.group_add("g", channel)
        store_channel, store_group = f"{prefix}:{channel}", f"{prefix}:group:g"
        assert dict(probe.pubsub_numsub(store_channel, store_group)) == {
            store_channel.encode(): 1,
            store_group.encode(): 1,
        }
        waiting = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert dict(probe.pubsub_numsub(store_channel, store_group)) == {
            store_channel.encode(): 0,
            store_group.encode(): 0,
        }
    finally:
        probe.close()
        await close_layer(layer)


async def test_a_garbage_frame_on_the_store_is_ignored(store):
    prefix = "g" + uuid.uuid4().hex[:8]
    layer = kv_layer(store, prefix)
    probe = store.client()
    try:
        channel = await layer.new_channel()
        probe.publish(f"{prefix}:{channel}", b"\x01garbage")
        probe.publish(f"{prefix}:{channel}", b"")
        other = kv_layer(store, prefix)
        await other.send(channel, {"type": "ok"})
        assert await receive(layer, channel) == {"type": "ok"}
        await close_layer(other)
    finally:
        probe.close()
        await close_layer(layer)
