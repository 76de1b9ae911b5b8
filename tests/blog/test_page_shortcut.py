"""The cached-page shortcut in front of Django: same answers, fewer steps.

Each test drives ASGI applications directly: Django's own (``django_app``)
and the shortcut in front of it, whose inner application records every
request it passes on, so a test can tell which of the two answered.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.core.asgi import get_asgi_application

from blog import leaderboard, page_shortcut, pagecache
from blog.page_shortcut import CachedPageShortcut
from blog.repositories import repository

pytestmark = pytest.mark.django_db

HOST = [(b"host", b"127.0.0.1")]

django_app = get_asgi_application()


class Recorder:
    """An ASGI app that notes each path it is given and passes it to Django."""

    def __init__(self, app=django_app):
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope, receive, send):
        self.paths.append(scope["path"])
        await self.app(scope, receive, send)


@pytest.fixture
def shortcut():
    recorder = Recorder()
    app = CachedPageShortcut(recorder)
    app.recorder = recorder
    yield app
    page_shortcut.setting_changed.disconnect(app._forget_plan)


@pytest.fixture
def post(stores):
    return repository().create_post(title="Shortcut", body="Fast **pages**.", author="g", tags=[])


def get(app, path, headers=HOST, method="GET", query=b"", scheme="http", root_path=""):
    """Return (status, headers as a dict of lists, body) for one request to app."""
    return async_to_sync(_call)(app, path, headers, method, query, scheme, root_path)


async def _call(app, path, headers, method, query, scheme, root_path):
    messages = []
    received = False

    async def receive():
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}
        # The client stays connected: Django cancels this wait once it has answered.
        await asyncio.Event().wait()

    async def send(message):
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": root_path,
        "headers": list(headers),
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    found: dict[str, list[str]] = {}
    for name, value in start["headers"]:
        found.setdefault(name.decode().lower(), []).append(value.decode())
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], found, body.decode()


def without_panel(html: str) -> str:
    return re.sub(r'<details class="trace-panel".*?</details>', "PANEL", html, flags=re.S)


def without_length(headers: dict) -> dict:
    # The panel's timings differ from one request to the next, and so the length.
    return {name: value for name, value in headers.items() if name != "content-length"}


def panel(html: str) -> str:
    return html.split('id="store-trace"', 1)[1]


def test_the_shortcut_answers_like_django(shortcut, post):
    paths = ["/", f"/posts/{post.post_id}/"]
    for path in paths:
        get(django_app, path)  # fill the cache
    for path in paths:
        status, headers, body = get(shortcut, path)
        d_status, d_headers, d_body = get(django_app, path)
        assert (status, without_panel(body)) == (d_status, without_panel(d_body))
        assert without_length(headers) == without_length(d_headers)
        assert headers["content-length"] == [str(len(body.encode()))]
        assert "csrfmiddlewaretoken" not in body and "set-cookie" not in headers
        assert "page cache hit" in panel(body)
        assert "GET page:" in panel(body)
    assert shortcut.recorder.paths == []


def test_a_post_view_served_by_the_shortcut_is_counted_once(shortcut, post):
    path = f"/posts/{post.post_id}/"
    get(django_app, path)
    views_before = repository().stats(post.post_id)[1]
    board_before = leaderboard.top(leaderboard.VIEWS_ALL_TIME)[0].score
    body = get(shortcut, path)[2]
    assert shortcut.recorder.paths == []
    assert repository().stats(post.post_id)[1] == views_before + 1
    assert leaderboard.top(leaderboard.VIEWS_ALL_TIME)[0].score == board_before + 1
    trace = panel(body)
    assert "UPDATE blog.post_stats SET views = views + ?" in trace
    assert "PIPELINE" in trace and "ZINCRBY" in trace


def test_a_miss_goes_to_django_which_fills_the_cache(shortcut, post):
    path = f"/posts/{post.post_id}/"
    status, _, body = get(shortcut, path)
    assert status == 200 and shortcut.recorder.paths == [path]
    assert "page cache miss" in panel(body)
    get(shortcut, path)
    assert shortcut.recorder.paths == [path]


def test_a_change_shows_on_the_very_next_request(shortcut, post):
    path = f"/posts/{post.post_id}/"
    get(shortcut, path)
    get(shortcut, "/")
    repository().update_post(post, title="Renamed", body=post.body, tags=[])
    pagecache.invalidate_post(post.post_id)
    shortcut.recorder.paths.clear()
    assert "Renamed" in get(shortcut, path)[2]
    assert "Renamed" in get(shortcut, "/")[2]
    assert shortcut.recorder.paths == [path, "/"]


@pytest.mark.parametrize(
    ("headers", "method", "query", "root_path"),
    [
        (HOST + [(b"cookie", b"sessionid=abc")], "GET", b"", ""),
        (HOST + [(b"cookie", b"messages=abc")], "GET", b"", ""),
        (HOST, "HEAD", b"", ""),
        (HOST, "POST", b"", ""),
        (HOST, "GET", b"after=x", ""),
        (HOST, "GET", b"", "/blog"),
        (HOST + [(b"x_forwarded_proto", b"https")], "GET", b"", ""),
        (HOST + [(b"host", b"127.0.0.1")], "GET", b"", ""),
        ([], "GET", b"", ""),
    ],
    ids=[
        "session",
        "messages",
        "head",
        "post",
        "query",
        "root-path",
        "underscore-header",
        "repeated-host",
        "no-host",
    ],
)
def test_anything_but_a_plain_signed_out_get_goes_to_django(
    shortcut, post, headers, method, query, root_path
):
    path = f"/posts/{post.post_id}/"
    get(django_app, path)
    get(shortcut, path, headers=headers, method=method, query=query, root_path=root_path)
    assert shortcut.recorder.paths == [path]


def test_a_disallowed_host_gets_djangos_400(shortcut, post):
    get(django_app, "/")
    status, _, _ = get(shortcut, "/", headers=[(b"host", b"evil.example")])
    assert status == 400 and shortcut.recorder.paths == ["/"]


@pytest.mark.parametrize(
    "path",
    [
        "/posts/{id}",
        "/posts/{ID}/",
        "/posts/{id}/comments/",
        "/posts/not-a-uuid/",
        "/leaderboard/",
    ],
)
def test_other_paths_go_to_django(shortcut, post, path):
    get(django_app, f"/posts/{post.post_id}/")
    path = path.format(id=post.post_id, ID=str(post.post_id).upper())
    get(shortcut, path)
    assert shortcut.recorder.paths == [path]


def test_an_unknown_post_is_djangos_404(shortcut, stores):
    path = f"/posts/{uuid.uuid4()}/"
    status, _, _ = get(shortcut, path)
    assert status == 404 and shortcut.recorder.paths == [path]


def test_a_store_error_goes_to_django_and_its_503(shortcut, post, monkeypatch):
    path = f"/posts/{post.post_id}/"
    get(django_app, path)

    def broken(*args, **kwargs):
        raise ConnectionError("kv down")

    monkeypatch.setattr(pagecache.page_cache(), "get", broken)
    get(shortcut, path)
    assert shortcut.recorder.paths == [path]


def test_it_stands_aside_when_the_middleware_or_the_cache_setting_changes(shortcut, post, settings):
    get(django_app, "/")
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]
    get(shortcut, "/")
    assert shortcut.recorder.paths == ["/"]
    settings.MIDDLEWARE = settings.MIDDLEWARE[:-1]
    settings.BLOG_PAGE_CACHE_ENABLED = False
    get(shortcut, "/")
    assert shortcut.recorder.paths == ["/", "/"]


def test_the_plan_runs_in_the_loop_only_with_in_process_stores(shortcut, stores):
    assert shortcut.plan().in_loop is (stores == "memory")


def test_with_production_settings_https_gets_hsts_and_http_the_redirect(shortcut, post, settings):
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Django's middleware reads these settings once, when it is loaded.
    production = get_asgi_application()
    shortcut.recorder.app = production
    proxied = HOST + [(b"x-forwarded-proto", b"https")]
    get(production, "/", headers=proxied)
    status, headers, body = get(shortcut, "/", headers=proxied)
    d_status, d_headers, d_body = get(production, "/", headers=proxied)
    assert shortcut.recorder.paths == []
    assert (status, without_panel(body)) == (d_status, without_panel(d_body))
    assert without_length(headers) == without_length(d_headers)
    assert headers["strict-transport-security"] == ["max-age=3600; includeSubDomains"]
    status, headers, _ = get(shortcut, "/", headers=HOST)
    assert status == 301 and shortcut.recorder.paths == ["/"]


@pytest.mark.parametrize("in_process", [True, False], ids=["in-process", "network"])
def test_the_answer_runs_on_the_loop_only_for_in_process_stores(
    shortcut, post, monkeypatch, in_process
):
    path = f"/posts/{post.post_id}/"
    get(django_app, path)
    on_loop = []
    real = page_shortcut.answer

    def noting(*args):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            on_loop.append(False)
        else:
            on_loop.append(True)
        return real(*args)

    monkeypatch.setattr(page_shortcut, "answer", noting)
    monkeypatch.setattr(page_shortcut, "_in_process", lambda cache: in_process)
    shortcut._forget_plan()
    status, _, body = get(shortcut, path)
    assert status == 200 and "page cache hit" in panel(body)
    assert shortcut.recorder.paths == []
    assert on_loop == [in_process]


def _untimed(html: str) -> str:
    return re.sub(r"\d+\.\d+", "T", html)


def test_repeated_answers_match_djangos_full_path_panel_and_all(shortcut, post):
    # The second and later answers come from what the shortcut remembers
    # (the page read in place, the panel's layout): still Django's page.
    paths = ["/", f"/posts/{post.post_id}/"]
    for path in paths:
        get(django_app, path)
    for _ in range(3):
        for path in paths:
            status, headers, body = get(shortcut, path)
            d_status, d_headers, d_body = get(django_app, path)
            assert (status, _untimed(body)) == (d_status, _untimed(d_body))
            assert without_length(headers) == without_length(d_headers)
            assert headers["content-length"] == [str(len(body.encode()))]
            assert re.search(r"GET page:\S+</code></td><td>value</td><td class=\"num\">\d", body)
    assert shortcut.recorder.paths == []


def test_a_host_is_judged_the_same_every_time(shortcut, post):
    get(django_app, "/")
    for _ in range(2):
        assert get(shortcut, "/", headers=[(b"host", b"evil.example")])[0] == 400
        assert get(shortcut, "/")[0] == 200
    assert shortcut.recorder.paths == ["/", "/"]


def test_the_panel_setting_is_read_with_the_plan(shortcut, post, settings):
    get(django_app, "/")
    assert 'id="store-trace"' in get(shortcut, "/")[2]
    settings.BLOG_TRACE_PANEL = False
    body = get(shortcut, "/")[2]
    assert 'id="store-trace"' not in body and body == get(django_app, "/")[2]
    assert shortcut.recorder.paths == []


def test_matched_paths_are_remembered_within_bounds(shortcut, monkeypatch):
    monkeypatch.setattr(page_shortcut, "POST_MEMO_SIZE", 3)
    plan = shortcut.plan()
    post_id = uuid.uuid4()
    for _ in range(2):
        assert page_shortcut.match_page(plan, f"/posts/{post_id}/") == ("post", post_id)
        assert page_shortcut.match_page(plan, f"/posts/{post_id}") is None
        assert page_shortcut.match_page(plan, "/") == ("front", None)
    for index in range(10):
        assert page_shortcut.match_page(plan, f"/other/{index}/") is None
    assert len(plan.posts) <= 3
