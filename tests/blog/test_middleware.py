"""The "What this page did" panel and the 503 page for store failures."""

import pytest

from blog.repositories import repository
from stores import clients
from tests.support.ports import free_port

pytestmark = pytest.mark.django_db


def test_panel_lists_both_stores_with_timings(client, stores):
    post = repository().create_post(title="Traced", body="b", author="a", tags=[])
    html = client.get(f"/posts/{post.post_id}/").content.decode()
    panel = html.split('id="store-trace"', 1)[1]
    assert "What this page did" in html
    assert "<!--store-trace-->" not in html
    assert "FROM blog.posts WHERE post_id = ?" in panel
    assert "UPDATE blog.post_stats SET views = views + ?" in panel
    assert "GET page:" in panel
    assert " ms" in panel
    assert "page cache miss" in panel


def test_panel_is_not_added_to_non_html(client, stores):
    response = client.get("/static/css/site.css")
    assert (
        b"store-trace" not in b"".join(response.streaming_content)
        if response.streaming
        else b"store-trace" not in response.content
    )


def test_panel_can_be_switched_off(client, stores, settings):
    settings.BLOG_TRACE_PANEL = False
    html = client.get("/").content.decode()
    assert "What this page did" not in html


def test_wide_store_failure_gives_503(client, stores, monkeypatch):
    session = clients.wide()
    repository()

    def broken(*args, **kwargs):
        raise ConnectionError("wide store is down")

    monkeypatch.setattr(session.wrapped, "execute", broken)
    response = client.get("/")
    assert response.status_code == 503
    html = response.content.decode()
    assert "wide-column store is not answering" in html
    assert "Traceback" not in html


def test_kv_store_failure_gives_503(client, settings):
    settings.KV_URL = f"redis://127.0.0.1:{free_port()}/0"
    settings.WIDE_URL = "memory:"
    clients.reset()
    try:
        response = client.get("/")
        assert response.status_code == 503
        assert "key-value store is not answering" in response.content.decode()
    finally:
        clients.reset()


def test_other_errors_are_not_reported_as_store_errors(client, stores, monkeypatch):
    import blog.views

    def boom(*args, **kwargs):
        raise ValueError("not a store problem")

    monkeypatch.setattr(blog.views, "_build_front", boom)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 500
