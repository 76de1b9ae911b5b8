"""HTTP routes of the live leaderboard; included at ``leaderboard/``."""

from django.urls import path

from blog import leaderboard_views

urlpatterns = [
    path("", leaderboard_views.page, name="leaderboard"),
    path("simulate/", leaderboard_views.simulate, name="leaderboard-simulate"),
]
