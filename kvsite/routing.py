"""WebSocket URL routes, the Channels counterpart of urls.py."""

from django.urls import path

from blog import consumers

websocket_urlpatterns = [
    path("ws/echo/", consumers.EchoConsumer.as_asgi()),
    path("ws/leaderboard/", consumers.LeaderboardConsumer.as_asgi()),
]
