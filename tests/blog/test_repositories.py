"""The blog's CQL on the embedded wide-column engine."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from blog.repositories import FrontCursor, day_of, summary_of, to_millis

BASE = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _posts(repo, count, hours_apart=7):
    made = []
    for i in range(count):
        made.append(
            repo.create_post(
                title=f"Post {i}",
                body=f"Body of post {i}\n\nmore",
                author="grace",
                tags=["redis", "cassandra"] if i % 2 else [],
                created_at=BASE - timedelta(hours=i * hours_apart),
            )
        )
    return made


def test_create_and_get_post(repo):
    post = repo.create_post(
        title="Hello", body="**Hi** there", author="grace", tags=["b", "a", "a"]
    )
    got = repo.get_post(post.post_id)
    assert got.title == "Hello"
    assert got.body == "**Hi** there"
    assert got.tags == ["a", "b"]
    assert got.day == day_of(got.created_at)
    assert got.created_at == post.created_at
    assert got.created_at.tzinfo is not None
    assert repo.has_posts()


def test_unknown_post_is_none(repo):
    assert repo.get_post(uuid.uuid4()) is None
    assert not repo.has_posts()


def test_latest_posts_walk_day_buckets_newest_first_without_gaps(repo):
    made = _posts(repo, 23)
    seen = []
    cursor = None
    pages = 0
    while True:
        page = repo.latest_posts(5, cursor)
        pages += 1
        assert len(page.items) <= 5
        seen.extend(page.items)
        if page.next_cursor is None:
            break
        assert isinstance(page.next_cursor, FrontCursor)
        cursor = page.next_cursor
        assert pages < 10
    assert [p.post_id for p in seen] == [p.post_id for p in made]
    times = [p.created_at for p in seen]
    assert times == sorted(times, reverse=True)


def test_latest_posts_page_stops_mid_day_with_paging_state(repo):
    for i in range(6):
        repo.create_post(
            title=f"Same day {i}",
            body="x",
            author="a",
            tags=[],
            created_at=BASE - timedelta(minutes=i),
        )
    first = repo.latest_posts(4)
    assert [p.title for p in first.items] == [f"Same day {i}" for i in range(4)]
    assert first.next_cursor.day == day_of(BASE)
    assert first.next_cursor.paging_state
    second = repo.latest_posts(4, first.next_cursor)
    assert [p.title for p in second.items] == ["Same day 4", "Same day 5"]
    assert second.next_cursor is None


def test_comments_newest_first_and_paged(repo):
    post = repo.create_post(title="T", body="b", author="a", tags=[])
    for i in range(7):
        repo.add_comment(post, author=f"u{i}", body=f"c{i}", created_at=BASE + timedelta(minutes=i))
    first = repo.comments(post.post_id, 3)
    assert [c.body for c in first.items] == ["c6", "c5", "c4"]
    second = repo.comments(post.post_id, 3, first.next_cursor)
    third = repo.comments(post.post_id, 3, second.next_cursor)
    assert [c.body for c in second.items + third.items] == ["c3", "c2", "c1", "c0"]
    assert repo.stats(post.post_id) == (7, 0)


def test_edit_updates_every_denormalised_copy(repo):
    post = repo.create_post(title="Old", body="old body", author="a", tags=["x"])
    repo.add_comment(post, author="u", body="hi")
    repo.update_post(post, title="New", body="new body\n\nsecond", tags=["y"])
    got = repo.get_post(post.post_id)
    assert (got.title, got.body, got.tags) == ("New", "new body\n\nsecond", ["y"])
    listed = repo.latest_posts(10).items[0]
    assert (listed.title, listed.tags, listed.summary) == ("New", ["y"], "new body")
    from stores import clients

    row = (
        clients.wide()
        .execute(
            "SELECT post_title FROM blog.comments_by_post WHERE post_id = %s LIMIT 1",
            (post.post_id,),
        )
        .one()
    )
    assert row.post_title == "New"


def test_counters_add_up(repo):
    post_id = uuid.uuid4()
    repo.add_views(post_id)
    repo.add_views(post_id, 4)
    repo.add_comment_count(post_id, 2)
    assert repo.stats(post_id) == (2, 5)
    assert repo.stats(uuid.uuid4()) == (0, 0)


def test_history_newest_first_with_ttl(repo):
    posts = _posts(repo, 3)
    for i, post in enumerate(posts):
        repo.record_view(
            42,
            post.post_id,
            post.title,
            3600,
            viewed_at=datetime.now(UTC) - timedelta(minutes=10 - i),
        )
    page = repo.history(42, 10)
    assert [e.post_title for e in page.items] == ["Post 2", "Post 1", "Post 0"]
    assert all(0 < e.expires_in <= 3600 for e in page.items)
    assert repo.history(43, 10).items == []


def test_user_text_is_bound_not_formatted(repo):
    nasty = "'); DROP TABLE posts; --"
    post = repo.create_post(title=nasty, body=nasty, author=nasty, tags=[nasty])
    repo.add_comment(post, author=nasty, body=nasty)
    assert repo.get_post(post.post_id).title == nasty
    assert repo.comments(post.post_id, 5).items[0].body == nasty


@pytest.mark.parametrize(
    "body, summary",
    [
        ("# Heading\n\nFirst para", "Heading"),
        ("```\ncode\n```\n\nText here", "Text here"),
        ("", ""),
    ],
)
def test_summary_of(body, summary):
    assert summary_of(body) == summary


def test_to_millis_truncates_and_makes_aware():
    moment = to_millis(datetime(2026, 1, 1, 0, 0, 0, 123456))
    assert moment.microsecond == 123000
    assert moment.tzinfo is UTC
