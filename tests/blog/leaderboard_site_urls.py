"""The site's URLs plus the leaderboard's, wired as the lead will wire them."""

from django.urls import include, path

from kvsite.urls import urlpatterns as site_urlpatterns

urlpatterns = [
    path("leaderboard/", include("blog.leaderboard_urls")),
    *site_urlpatterns,
]
