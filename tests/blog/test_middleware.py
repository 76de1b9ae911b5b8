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


def test_panel_is_only_added_to_html(rf, stores):
    from django.http import HttpResponse

    from blog.middleware import StoreTraceMiddleware

    text = StoreTraceMiddleware(
        lambda r: HttpResponse("<!--store-trace-->", content_type="text/plain")
    )
    html = StoreTraceMiddleware(lambda r: HttpResponse("<p><!--store-trace--></p>"))
    assert text(rf.get("/")).content == b"<!--store-trace-->"
    response = html(rf.get("/"))
    assert b"What this page did" in response.content
    assert (
        response["Content-Length"] == str(len(response.content))
        if response.has_header("Content-Length")
        else True
    )


def test_panel_can_be_switched_off(client, stores, settings):
    settings.BLOG_TRACE_PANEL = False
    html = client.get("/").content.decode()
    assert 'id="store-trace"' not in html


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


def test_missing_schema_on_a_persistent_store_is_a_503_with_the_hint(client, settings, tmp_path):
    settings.WIDE_URL = f"embedded:{tmp_path / 'wide'}"
    settings.KV_URL = "memory:"
    settings.DEBUG = True
    clients.reset()
    try:
        response = client.get("/")
        html = response.content.decode()
        assert response.status_code == 503
        assert "keyspace blog does not exist" in html
        assert "manage.py apply_schema" in html
    finally:
        clients.reset()
