"""Views and comments on the blog move the leaderboards."""

import pytest

from blog import leaderboard
from blog.repositories import repository

pytestmark = pytest.mark.django_db


def test_post_views_and_comments_move_the_boards(stores, client, reader):
    repo = repository()
    post = repo.create_post(title="Sorted sets", body="b", author="grace", tags=[])
    other = repo.create_post(title="Wide rows", body="b", author="grace", tags=[])
    for _ in range(3):
        assert client.get(f"/posts/{post.post_id}/").status_code == 200
    client.get(f"/posts/{other.post_id}/")
    top = leaderboard.top(leaderboard.VIEWS_TODAY)
    assert [(e.rank, e.label, e.score) for e in top] == [(1, "Sorted sets", 3), (2, "Wide rows", 1)]
    assert leaderboard.top(leaderboard.VIEWS_ALL_TIME)[0].score == 3

    client.force_login(reader)
    client.get(f"/posts/{other.post_id}/")
    response = client.post(f"/posts/{other.post_id}/comments/", {"body": "Nice"})
    assert response.status_code == 302
    (commenter,) = leaderboard.top(leaderboard.COMMENTERS_WEEK)
    assert (commenter.member, commenter.score) == ("ada", 1)
    assert client.get("/leaderboard/").status_code == 200
