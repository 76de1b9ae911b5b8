"""The leaderboard page, rendered on the server."""

from __future__ import annotations

import pytest
from django.test import Client

from blog import leaderboard
from tests.blog import leaderboard_stores

kv_store = leaderboard_stores.kv_store

pytestmark = [pytest.mark.redis_server]


def test_page_renders_the_boards_without_javascript(kv_store, client):
    for _ in range(3):
        leaderboard.record_view("p1", "Popular post", notify=False)
    leaderboard.record_view("p2", "Quiet post", notify=False)
    leaderboard.record_comment("ada", notify=False)
    response = client.get("/leaderboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Most viewed today" in html and "Most active commenters this week" in html
    assert '<tr data-member="p1" data-rank="1" data-score="3">' in html
    assert '<tr data-member="p2" data-rank="2" data-score="1">' in html
    assert '<tr data-member="ada" data-rank="1" data-score="1">' in html
    assert 'aria-live="polite"' in html
    assert 'data-ws-path="/ws/leaderboard/"' in html
    assert "js/leaderboard.js" in html and "css/leaderboard.css" in html


def test_page_with_empty_boards(kv_store, client):
    response = client.get("/leaderboard/")
    assert response.status_code == 200
    assert response.content.decode().count("Nothing yet.") == 3


def test_titles_are_escaped(kv_store, client):
    leaderboard.record_view("p1", "<script>alert(1)</script>", notify=False)
    html = client.get("/leaderboard/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_simulate_records_a_view_and_returns_to_the_page(kv_store, client, settings):
    settings.LEADERBOARD_SIMULATE = True
    response = client.post(
        "/leaderboard/simulate/", {"kind": "view", "member": "p9", "title": "Nine"}
    )
    assert response.status_code == 302 and response["Location"] == "/leaderboard/"
    response = client.post("/leaderboard/simulate/", {"kind": "comment", "member": "bob"})
    assert response.status_code == 302
    assert leaderboard.standing(leaderboard.VIEWS_ALL_TIME, "p9").label == "Nine"
    assert leaderboard.standing(leaderboard.COMMENTERS_WEEK, "bob").score == 1


def test_simulate_refuses_bad_input(kv_store, client, settings):
    settings.LEADERBOARD_SIMULATE = True
    assert client.get("/leaderboard/simulate/").status_code == 405
    assert client.post("/leaderboard/simulate/", {"kind": "delete"}).status_code == 400
    assert (
        client.post("/leaderboard/simulate/", {"kind": "view", "member": "x" * 200}).status_code
        == 400
    )
    assert kv_store.dbsize() == 0


def test_simulate_needs_a_csrf_token(kv_store, settings):
    settings.LEADERBOARD_SIMULATE = True
    response = Client(enforce_csrf_checks=True).post("/leaderboard/simulate/", {"kind": "view"})
    assert response.status_code == 403


def test_simulate_is_off_in_production(kv_store, client, settings):
    settings.LEADERBOARD_SIMULATE = False
    assert client.post("/leaderboard/simulate/", {"kind": "view"}).status_code == 404
    assert b"simulate/" not in client.get("/leaderboard/").content
