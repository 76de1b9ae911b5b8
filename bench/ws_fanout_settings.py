"""Settings for bench/ws_fanout.py: the site's settings, the layer chosen by env.

BENCH_LAYER=kv uses this project's layer (stores.channel_layer) on KV_URL's
store; BENCH_LAYER=channels_redis uses channels_redis's pub/sub layer on the
redis-server named by BENCH_REDIS_URL.
"""

import os

from kvsite.settings import *  # noqa: F403

LEADERBOARD_MAX_CONNECTIONS_PER_ADDRESS = 10_000  # every bench client is 127.0.0.1

if os.environ.get("BENCH_LAYER") == "channels_redis":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [os.environ["BENCH_REDIS_URL"]]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "stores.channel_layer.KVChannelLayer"}}
