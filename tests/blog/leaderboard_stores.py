"""Fixtures that run the leaderboard tests on each key-value store.

Every test runs twice: on the embedded engine (``KV_URL=memory:``) and on
redis-py against the session's real redis-server. The channel layer is this
project's own (stores.channel_layer) on that same handle.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from channels.layers import channel_layers

from blog import consumers, leaderboard
from stores import clients
from stores.channel_layer import KVChannelLayer


def _close_layers() -> None:
    for layer in list(channel_layers.backends.values()):
        if isinstance(layer, KVChannelLayer):
            asyncio.run(layer.close())
    channel_layers.backends.clear()


@pytest.fixture(params=["memory", "redis"])
def kv_store(request, settings):
    """Point KV_URL and the channel layer at a clean store; yield its handle."""
    if request.param == "redis":
        settings.KV_URL = request.getfixturevalue("redis_server").url
    else:
        settings.KV_URL = "memory:"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "stores.channel_layer.KVChannelLayer",
            "CONFIG": {"prefix": "t" + uuid.uuid4().hex[:8]},
        }
    }
    clients.reset()
    handle = clients.kv()
    handle.flushdb()
    leaderboard.shared_snapshots.clear()
    leaderboard.announcer.reset()
    consumers.open_connections.clear()
    try:
        yield handle
    finally:
        leaderboard.announcer.reset()
        _close_layers()
        clients.reset()
