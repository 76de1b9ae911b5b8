"""Leaderboards in sorted sets: ranks, scores, period keys and their TTLs."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from channels.layers import get_channel_layer

from blog import leaderboard
from blog.leaderboard import COMMENTERS_WEEK, VIEWS_ALL_TIME, VIEWS_TODAY
from tests.blog import leaderboard_stores

kv_store = leaderboard_stores.kv_store

pytestmark = pytest.mark.redis_server

THURSDAY = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)


def views(*post_ids, now=THURSDAY):
    for post_id in post_ids:
        leaderboard.record_view(post_id, f"Title of {post_id}", now=now, notify=False)


def test_views_rank_posts_highest_first(kv_store):
    views("a", "b", "b", "c", "c", "c")
    assert [(e.rank, e.member, e.score) for e in leaderboard.top(VIEWS_TODAY, now=THURSDAY)] == [
        (1, "c", 3),
        (2, "b", 2),
        (3, "a", 1),
    ]
    assert leaderboard.top(VIEWS_TODAY, now=THURSDAY)[0].label == "Title of c"


def test_top_is_capped(kv_store):
    views(*[f"p{i}" for i in range(15)])
    assert len(leaderboard.top(VIEWS_ALL_TIME)) == leaderboard.TOP_N
    assert len(leaderboard.top(VIEWS_ALL_TIME, 3)) == 3


def test_days_have_their_own_board_but_all_time_adds_up(kv_store):
    views("a", "a", now=THURSDAY)
    views("b", now=THURSDAY + timedelta(days=1))
    assert [e.member for e in leaderboard.top(VIEWS_TODAY, now=THURSDAY)] == ["a"]
    assert [e.member for e in leaderboard.top(VIEWS_TODAY, now=THURSDAY + timedelta(days=1))] == [
        "b"
    ]
    assert [(e.member, e.score) for e in leaderboard.top(VIEWS_ALL_TIME)] == [("a", 2), ("b", 1)]


def test_day_board_expires_a_day_after_its_day(kv_store):
    views("a")
    key = leaderboard.day_key(THURSDAY.date())
    assert key == "leaderboard:views:day:2026-11-26"
    expected = datetime(2026, 11, 28, tzinfo=UTC).timestamp()
    assert kv_store.expiretime(key) == int(expected)
    assert kv_store.ttl(leaderboard.VIEWS_ALL_TIME_KEY) == -1


def test_week_board_expires_a_week_after_its_week(kv_store):
    leaderboard.record_comment("ada", now=THURSDAY, notify=False)
    key = leaderboard.week_key(THURSDAY.date())
    assert key == "leaderboard:commenters:week:2026-W48"
    # The ISO week ends on Sunday 29 November; the board lives 7 days more.
    assert kv_store.expiretime(key) == int(datetime(2026, 12, 7, tzinfo=UTC).timestamp())


def test_an_expired_period_leaves_the_board(kv_store):
    views("a")
    key = leaderboard.day_key(THURSDAY.date())
    kv_store.pexpireat(key, 1)  # the period is over: as if its TTL ran out
    assert leaderboard.top(VIEWS_TODAY, now=THURSDAY) == []
    assert [e.member for e in leaderboard.top(VIEWS_ALL_TIME)] == ["a"]


def test_commenters_this_week(kv_store):
    monday = datetime(2026, 11, 23, 9, tzinfo=UTC)
    for name, when in [
        ("ada", monday),
        ("bob", THURSDAY),
        ("bob", THURSDAY),
        ("cy", monday - timedelta(days=1)),
    ]:
        leaderboard.record_comment(name, now=when, notify=False)
    assert [
        (e.member, e.score, e.label) for e in leaderboard.top(COMMENTERS_WEEK, now=THURSDAY)
    ] == [
        ("bob", 2, "bob"),
        ("ada", 1, "ada"),
    ]


def test_standing_gives_rank_and_score(kv_store):
    views("a", "b", "b")
    assert leaderboard.standing(VIEWS_TODAY, "a", now=THURSDAY) == leaderboard.Entry(
        2, "a", "Title of a", 1
    )
    assert leaderboard.standing(VIEWS_TODAY, "b", now=THURSDAY).rank == 1
    assert leaderboard.standing(VIEWS_TODAY, "nobody", now=THURSDAY) is None


def test_equal_scores_rank_by_member_descending_like_zrevrange(kv_store):
    views("a", "b")
    assert [e.member for e in leaderboard.top(VIEWS_TODAY, now=THURSDAY)] == ["b", "a"]


def test_bad_members_are_refused(kv_store):
    for bad in ("", "   ", "x" * 151):
        with pytest.raises(ValueError):
            leaderboard.record_view(bad, "t", notify=False)
        with pytest.raises(ValueError):
            leaderboard.record_comment(bad, notify=False)
    assert kv_store.dbsize() == 0


def test_titles_are_stored_as_given_and_capped(kv_store):
    leaderboard.record_view("p", "<script>alert(1)</script>" + "x" * 500, notify=False)
    label = leaderboard.top(VIEWS_ALL_TIME)[0].label
    assert label.startswith("<script>") and len(label) == leaderboard.MAX_LABEL_CHARS


def test_every_change_bumps_the_version(kv_store):
    assert leaderboard.current_version() == 0
    first = leaderboard.record_view("p", "t", notify=False)
    second = leaderboard.record_comment("ada", notify=False)
    assert (first, second) == (1, 2)
    assert leaderboard.snapshot()["version"] == 2


def test_snapshot_lists_every_board(kv_store):
    views("a")
    snap = leaderboard.snapshot()
    assert [b["name"] for b in snap["boards"]] == [
        "views_today",
        "views_all_time",
        "commenters_week",
    ]
    assert snap["boards"][1]["entries"] == [
        {"rank": 1, "member": "a", "label": "Title of a", "score": 1}
    ]


@pytest.mark.asyncio
async def test_record_view_tells_the_group(kv_store):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(leaderboard.GROUP, channel)
    # Sync code (a view) announces through async_to_sync: another thread and loop.
    version = await asyncio.to_thread(leaderboard.record_view, "p", "t")
    message = await asyncio.wait_for(layer.receive(channel), 5)
    assert message == {"type": "leaderboard.changed", "version": version}


@pytest.mark.asyncio
async def test_record_view_on_the_event_loop_thread_tells_the_group(kv_store):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(leaderboard.GROUP, channel)
    leaderboard.announcer.reset()
    # Sync code on the loop's own thread (the cached-page shortcut): no async_to_sync.
    version = leaderboard.record_view("p", "t")
    message = await asyncio.wait_for(layer.receive(channel), 5)
    assert message == {"type": "leaderboard.changed", "version": version}


@pytest.mark.asyncio
async def test_shared_snapshots_read_once_per_version(kv_store, monkeypatch):
    reads = []
    real = leaderboard.snapshot

    def counting_snapshot(**kwargs):
        reads.append(1)
        return real(**kwargs)

    monkeypatch.setattr(leaderboard, "snapshot", counting_snapshot)
    shared = leaderboard.SharedSnapshots()
    version = leaderboard.record_view("p", "t", notify=False)
    results = await asyncio.gather(*(shared.get(version) for _ in range(200)))
    assert len(reads) == 1
    assert all(r.version == version for r in results)
    await shared.get(version)
    assert len(reads) == 1
    newer = leaderboard.record_view("p", "t", notify=False)
    assert (await shared.get(newer)).version == newer
    assert len(reads) == 2


def test_a_shared_snapshot_encodes_once_with_per_client_fields():
    shared = leaderboard.SharedSnapshot.of({"version": 3, "boards": [{"name": "x", "entries": []}]})
    assert json.loads(shared.message(type="boards", seq=7)) == {
        "type": "boards",
        "seq": 7,
        "version": 3,
        "boards": [{"name": "x", "entries": []}],
    }
    assert json.loads(shared.message()) == shared.data


def test_announcements_are_folded_but_the_last_one_is_never_lost():
    sent = []
    done = threading.Event()

    def send(version):
        sent.append(version)
        if version == 100:
            done.set()

    announcer = leaderboard.ChangeAnnouncer(interval=0.2, send=send)
    for version in range(1, 101):
        announcer.announce(version)
    assert done.wait(5)
    # The first at once, the other 99 folded into one at the interval's end.
    assert sent == [1, 100]


def test_record_view_keeps_the_title_when_none_is_given(kv_store):
    leaderboard.record_view("p", "Known title", notify=False)
    leaderboard.record_view("p", notify=False)
    assert leaderboard.top(VIEWS_ALL_TIME)[0].label == "Known title"
    assert leaderboard.top(VIEWS_ALL_TIME)[0].score == 2


def test_a_thread_uses_one_pipeline_for_its_views(kv_store):
    first = leaderboard._transaction()
    views("a", "b")
    assert leaderboard._transaction() is first
    seen = []
    thread = threading.Thread(target=lambda: seen.append(leaderboard._transaction()))
    thread.start()
    thread.join()
    assert seen[0] is not first
    assert [(e.member, e.score) for e in leaderboard.top(VIEWS_ALL_TIME)] == [("b", 1), ("a", 1)]


def test_a_failed_view_leaves_nothing_queued_for_the_next(kv_store, monkeypatch):
    pipe = leaderboard._transaction()

    def broken(*args, **kwargs):
        raise ConnectionError("kv down")

    monkeypatch.setattr(pipe, "execute", broken)
    with pytest.raises(ConnectionError):
        views("a")
    monkeypatch.undo()
    assert len(pipe) == 0
    views("b")
    assert [(e.member, e.score) for e in leaderboard.top(VIEWS_ALL_TIME)] == [("b", 1)]


def test_a_new_handle_gets_a_new_pipeline(kv_store):
    from stores import clients

    before = leaderboard._transaction()
    clients.reset()
    after = leaderboard._transaction()
    assert after is not before
    views("c")
    assert leaderboard.top(VIEWS_ALL_TIME)[0].member == "c"


def test_a_view_that_fails_while_queueing_leaves_nothing_queued(kv_store, monkeypatch):
    pipe = leaderboard._transaction()
    real = pipe.expireat

    def broken(*args, **kwargs):
        raise ConnectionError("kv down")

    monkeypatch.setattr(pipe, "expireat", broken)
    with pytest.raises(ConnectionError):
        views("a")
    monkeypatch.setattr(pipe, "expireat", real)
    assert len(pipe) == 0
    views("b")
    assert [(e.member, e.score) for e in leaderboard.top(VIEWS_ALL_TIME)] == [("b", 1)]
