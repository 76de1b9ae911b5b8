"""Settings for serving the leaderboard in browser tests, before it is wired.

The test settings plus the leaderboard URLs and this project's channel layer
on whatever key-value store ``KV_URL`` names.
"""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.blog.leaderboard_site_urls"
CHANNEL_LAYERS = {"default": {"BACKEND": "stores.channel_layer.KVChannelLayer"}}
