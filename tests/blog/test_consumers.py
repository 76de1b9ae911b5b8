"""The leaderboard WebSocket, through Channels' WebsocketCommunicator."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from blog import consumers, leaderboard
from blog.consumers import LeaderboardConsumer
from kvsite.asgi import application
from tests.blog import leaderboard_stores

kv_store = leaderboard_stores.kv_store

pytestmark = [pytest.mark.asyncio, pytest.mark.redis_server]

ORIGIN = [(b"origin", b"http://127.0.0.1")]


def from_address(app, address):
    async def with_client(scope, receive, send):
        return await app({**scope, "client": [address, 50000]}, receive, send)

    return with_client


async def open_board(address="10.0.0.1"):
    app = from_address(LeaderboardConsumer.as_asgi(), address)
    communicator = WebsocketCommunicator(app, "/ws/leaderboard/")
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def next_boards(communicator, timeout=5):
    message = json.loads(await communicator.receive_from(timeout=timeout))
    assert message["type"] == "boards"
    return message


async def ack(communicator, message):
    await communicator.send_to(text_data=json.dumps({"type": "ack", "seq": message["seq"]}))


def scores(message, board="views_all_time"):
    (found,) = [b for b in message["boards"] if b["name"] == board]
    return [(e["member"], e["score"]) for e in found["entries"]]


async def record_view(post_id, title="t"):
    # Views are sync Django code: they announce through async_to_sync.
    return await asyncio.to_thread(leaderboard.record_view, post_id, title)


async def test_routed_at_ws_leaderboard(kv_store):
    communicator = WebsocketCommunicator(application, "/ws/leaderboard/", headers=ORIGIN)
    connected, _ = await communicator.connect()
    assert connected
    first = await next_boards(communicator)
    assert first["seq"] == 1 and first["version"] == 0
    await communicator.disconnect()


async def test_a_view_reaches_the_open_board(kv_store):
    communicator = await open_board()
    await ack(communicator, await next_boards(communicator))
    version = await record_view("p1", "First post")
    update = await next_boards(communicator)
    assert update["version"] == version
    assert scores(update) == [("p1", 1)]
    assert update["boards"][0]["entries"][0]["label"] == "First post"
    await communicator.disconnect()


async def test_a_comment_reaches_every_open_board(kv_store):
    boards = [await open_board(f"10.0.0.{i}") for i in range(3)]
    for communicator in boards:
        await ack(communicator, await next_boards(communicator))
    await asyncio.to_thread(leaderboard.record_comment, "ada")
    for communicator in boards:
        assert scores(await next_boards(communicator), "commenters_week") == [("ada", 1)]
        await communicator.disconnect()


async def test_updates_are_coalesced(kv_store, settings):
    settings.LEADERBOARD_MIN_INTERVAL_SECONDS = 1.0
    communicator = await open_board()
    await ack(communicator, await next_boards(communicator))
    layer = get_channel_layer()
    for _ in range(30):
        version = leaderboard.record_view("p", "t", notify=False)
        await layer.group_send(leaderboard.GROUP, leaderboard.changed_event(version))
    received = []
    while not received or received[-1]["version"] < version:
        received.append(await next_boards(communicator))
        await ack(communicator, received[-1])
    # 30 changes in a burst: at most one update now and one after the interval.
    assert len(received) <= 2
    assert scores(received[-1]) == [("p", 30)]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_client_that_stops_reading_gets_nothing_more_then_is_dropped(
    kv_store, settings, monkeypatch
):
    settings.LEADERBOARD_MIN_INTERVAL_SECONDS = 0
    settings.LEADERBOARD_MAX_UNACKED = 2
    settings.LEADERBOARD_STALL_SECONDS = 20
    now = [1000.0]
    monkeypatch.setattr(LeaderboardConsumer, "clock", staticmethod(lambda: now[0]))
    communicator = await open_board()
    await next_boards(communicator)  # never acknowledged
    await record_view("p")
    await next_boards(communicator)  # never acknowledged: the window is full
    await record_view("p")
    assert await communicator.receive_nothing(timeout=0.3)
    now[0] += 21
    await record_view("p")
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 1008}


async def test_an_ack_reopens_the_window(kv_store, settings):
    settings.LEADERBOARD_MIN_INTERVAL_SECONDS = 0
    settings.LEADERBOARD_MAX_UNACKED = 1
    communicator = await open_board()
    first = await next_boards(communicator)
    await record_view("p")
    assert await communicator.receive_nothing(timeout=0.3)
    await ack(communicator, first)
    update = await next_boards(communicator)
    assert scores(update) == [("p", 1)]
    await communicator.disconnect()


async def test_ping_gets_pong_and_unknown_messages_are_ignored(kv_store):
    communicator = await open_board()
    await next_boards(communicator)
    for ignored in (
        {"type": "subscribe", "board": "x"},
        {"no": "type"},
        {"type": "ack", "seq": "1"},
        {"type": "ack", "seq": 99},
    ):
        await communicator.send_to(text_data=json.dumps(ignored))
    await communicator.send_to(text_data='{"type": "ping"}')
    assert json.loads(await communicator.receive_from()) == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"bytes_data": b"\x00\x01"}, 1003),
        ({"text_data": "{not json"}, 1007),
        ({"text_data": "[1, 2]"}, 1007),
        ({"text_data": '"ack"'}, 1007),
        ({"text_data": json.dumps({"type": "ping", "pad": "x" * 300})}, 1009),
    ],
)
async def test_malformed_messages_close_with_a_proper_code(kv_store, frame, code):
    communicator = await open_board()
    await next_boards(communicator)
    await communicator.send_to(**frame)
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": code}


async def test_a_flooding_client_is_closed(kv_store, settings):
    settings.LEADERBOARD_MAX_INBOUND_PER_WINDOW = 5
    communicator = await open_board()
    await next_boards(communicator)
    for _ in range(6):
        await communicator.send_to(text_data='{"type": "noop"}')
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 1008}


async def test_connections_per_address_are_capped(kv_store, settings):
    settings.LEADERBOARD_MAX_CONNECTIONS_PER_ADDRESS = 2
    first, second = await open_board("10.1.1.1"), await open_board("10.1.1.1")
    third = await open_board("10.1.1.1")
    assert await third.receive_output(timeout=5) == {"type": "websocket.close", "code": 1008}
    elsewhere = await open_board("10.2.2.2")
    await next_boards(elsewhere)
    await first.disconnect()
    again = await open_board("10.1.1.1")
    await next_boards(again)
    for communicator in (second, elsewhere, again):
        await communicator.disconnect()


async def test_disconnect_leaves_the_group(kv_store):
    communicator = await open_board()
    await next_boards(communicator)
    await communicator.disconnect()
    layer = get_channel_layer()
    assert leaderboard.GROUP not in layer._groups


async def test_a_version_from_an_emptied_store_does_not_keep_the_board_polling(
    kv_store, monkeypatch
):
    communicator = await open_board()
    await ack(communicator, await next_boards(communicator))
    reads = []
    real = leaderboard.snapshot
    monkeypatch.setattr(leaderboard, "snapshot", lambda **kw: reads.append(1) or real(**kw))
    await get_channel_layer().group_send(leaderboard.GROUP, leaderboard.changed_event(999))
    assert await communicator.receive_nothing(timeout=0.8)
    assert len(reads) <= 2
    await communicator.disconnect()


async def test_a_store_failure_on_connect_closes_with_1011_and_frees_the_slot(
    kv_store, monkeypatch
):
    def broken():
        raise ConnectionError("store down")

    monkeypatch.setattr(leaderboard, "current_version", broken)
    communicator = await open_board("10.9.9.9")
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 1011}
    await communicator.disconnect()
    assert "10.9.9.9" not in consumers.open_connections


async def test_a_crashed_consumer_frees_its_slot(kv_store, monkeypatch):
    async def crash(self, event):
        raise RuntimeError("bug")

    monkeypatch.setattr(LeaderboardConsumer, "leaderboard_changed", crash)
    communicator = await open_board("10.8.8.8")
    await next_boards(communicator)
    assert consumers.open_connections["10.8.8.8"] == 1
    await get_channel_layer().group_send(leaderboard.GROUP, leaderboard.changed_event(1))
    with pytest.raises(RuntimeError):
        await communicator.wait(timeout=5)
    assert "10.8.8.8" not in consumers.open_connections


async def test_the_same_consumer_runs_on_channels_redis(kv_store, settings, request):
    """With KV_URL=redis://, settings.py picks channels_redis; the board still moves."""
    redis_server = request.getfixturevalue("redis_server")
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [redis_server.url]},
        }
    }
    boards = [await open_board(f"10.3.0.{i}") for i in range(2)]
    for communicator in boards:
        await ack(communicator, await next_boards(communicator))
    await record_view("p1", "On channels_redis")
    for communicator in boards:
        assert scores(await next_boards(communicator)) == [("p1", 1)]
        await communicator.disconnect()
    await get_channel_layer().flush()
