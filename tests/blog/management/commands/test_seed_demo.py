"""manage.py seed_demo."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from blog.repositories import repository

pytestmark = pytest.mark.django_db


def test_seed_demo_with_progress_and_if_empty(wide_store):
    out = StringIO()
    call_command("seed_demo", posts=8, comments=20, users=3, views=10, days=5, stdout=out)
    text = out.getvalue()
    assert "Seeded 8 posts, 20 comments, 3 users, 10 views" in text
    assert "[##############################] 8/8" in text
    assert len(repository().latest_posts(20).items) == 8
    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert "already has posts" in out.getvalue()


def test_seed_demo_rejects_negative_sizes(wide_store):
    with pytest.raises(CommandError):
        call_command("seed_demo", posts=-1)


def test_seed_demo_fills_the_leaderboards_once(stores):
    from datetime import UTC, datetime

    from blog import demo_seed, leaderboard

    sizes = {"posts": 6, "comments": 60, "users": 4, "views": 300, "days": 2}
    call_command("seed_demo", stdout=StringIO(), **sizes)
    anchor = repository().seed_record(1).anchor.replace(tzinfo=UTC)
    data = demo_seed.plan(1, demo_seed.SeedSizes(**sizes), anchor)
    today = datetime.now(UTC).date()
    this_week = leaderboard.week_key(today)
    expected_today = sum(1 for _, _, moment in data.views() if moment.date() == today)
    expected_week = sum(
        1
        for _, _, moment, _, _ in data.comments()
        if leaderboard.week_key(moment.date()) == this_week
    )

    all_time = leaderboard.top(leaderboard.VIEWS_ALL_TIME)
    assert sum(e.score for e in all_time) == 300
    assert all(e.label and e.label != e.member for e in all_time)
    assert sum(e.score for e in leaderboard.top(leaderboard.VIEWS_TODAY)) == expected_today
    assert sum(e.score for e in leaderboard.top(leaderboard.COMMENTERS_WEEK)) == expected_week
    before = [(e.member, e.score) for e in all_time]
    call_command("seed_demo", stdout=StringIO(), **sizes)
    assert [(e.member, e.score) for e in leaderboard.top(leaderboard.VIEWS_ALL_TIME)] == before
