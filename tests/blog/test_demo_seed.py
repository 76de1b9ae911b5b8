"""Demo data: deterministic for a seed, idempotent, sized by options."""

from datetime import UTC, datetime

import pytest

from blog.demo_seed import SeedSizes, plan, seed

SMALL = SeedSizes(posts=12, comments=60, users=4, views=40, days=10)
ANCHOR = datetime(2026, 5, 1, tzinfo=UTC)


def test_plan_is_deterministic_for_a_seed():
    a, b = plan(3, SMALL, ANCHOR), plan(3, SMALL, ANCHOR)
    assert [p.post_id for p in a.posts] == [p.post_id for p in b.posts]
    assert list(a.comments()) == list(b.comments()) and list(a.views()) == list(b.views())
    assert list(a.comments()) == list(a.comments())
    assert [p.post_id for p in plan(4, SMALL, ANCHOR).posts] != [p.post_id for p in a.posts]


def test_plan_sizes_and_times():
    data = plan(1, SMALL, ANCHOR)
    comments, views = list(data.comments()), list(data.views())
    sizes = (len(data.posts), len(comments), len(views), len(data.usernames))
    assert sizes == (12, 60, 40, 4)
    for index, _, moment, _, _ in comments:
        assert data.posts[index].created_at <= moment <= ANCHOR
    for _, index, moment in views:
        assert data.posts[index].created_at <= moment <= ANCHOR
    assert all((ANCHOR - p.created_at).days <= 10 for p in data.posts)


@pytest.mark.django_db
def test_seed_twice_changes_nothing(repo, django_user_model):
    first = seed(repo, 5, SMALL, 90 * 86400, progress=False)
    titles = [p.title for p in repo.latest_posts(50).items]
    counts = {p.post_id: p.comment_count for p in repo.latest_posts(50).items}
    second = seed(repo, 5, SMALL, 90 * 86400, progress=False)
    assert first["anchor"] == second["anchor"]
    assert [p.title for p in repo.latest_posts(50).items] == titles
    assert {p.post_id: p.comment_count for p in repo.latest_posts(50).items} == counts
    assert len(titles) == 12
    assert sum(counts.values()) == 60
    assert django_user_model.objects.count() == 5
    assert django_user_model.objects.get(username="editor").is_staff
