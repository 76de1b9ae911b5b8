"""HTTP routes of the demo blog."""

from django.urls import include, path

from blog import views

app_name = "blog"

urlpatterns = [
    path("", views.front, name="front"),
    path("posts/new/", views.post_create, name="post_create"),
    path("posts/<uuid:post_id>/", views.post_detail, name="post"),
    path("posts/<uuid:post_id>/edit/", views.post_edit, name="post_edit"),
    path("posts/<uuid:post_id>/comments/", views.add_comment, name="add_comment"),
    path("history/", views.history, name="history"),
    path("redis-or-cassandra/", views.compare, name="compare"),
    path("accounts/signup/", views.signup, name="signup"),
    path("leaderboard/", include("blog.leaderboard_urls")),
]
