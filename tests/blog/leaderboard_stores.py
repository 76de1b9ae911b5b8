"""Fixtures that put the leaderboard tests on a real key-value store.

Until the embedded engine lands, the key-value handle is redis-py on the
session's real redis-server, and the channel layer is this project's own
layer (stores.channel_layer) on that handle.
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


@pytest.fixture
def kv_store(redis_server, settings):
    """Point KV_URL and the channel layer at a clean store; yield its handle."""
    settings.KV_URL = redis_server.url
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
    consumers.open_connections.clear()
    try:
        yield handle
    finally:
        _close_layers()
        clients.reset()
