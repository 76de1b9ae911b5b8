"""Staff pages for the key-value store: permissions, content and actions."""

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.redis_server]

PAGES = [
    "/admin/stores/kv/",
    "/admin/stores/kv/keys/",
    "/admin/stores/kv/key/?key=greeting",
    "/admin/stores/kv/memory/",
    "/admin/stores/kv/slowlog/",
    "/admin/stores/kv/pubsub/",
    "/admin/stores/kv/console/",
]
ACTIONS = [
    "/admin/stores/kv/action/delete/?key=greeting",
    "/admin/stores/kv/action/expire/?key=greeting&seconds=100",
    "/admin/stores/kv/action/persist/?key=ticket:abc",
    "/admin/stores/kv/action/flush-page-cache/",
]


@pytest.mark.parametrize("url", PAGES + ACTIONS)
def test_anonymous_is_sent_to_login(kv, user_clients, url):
    response = user_clients("anonymous").get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


@pytest.mark.parametrize("url", PAGES + ACTIONS)
def test_signed_in_non_staff_gets_403(kv, user_clients, url):
    assert user_clients("user").get(url).status_code == 403


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("role", ["staff", "superuser"])
def test_staff_see_every_page(kv, user_clients, url, role):
    assert user_clients(role).get(url).status_code == 200


@pytest.mark.parametrize("url", ACTIONS)
def test_staff_cannot_act_but_superusers_are_asked_to_confirm(kv, user_clients, url):
    assert user_clients("staff").get(url).status_code == 403
    response = user_clients("superuser").get(url)
    assert response.status_code == 200
    assert b'name="confirm" value="yes"' in response.content


def test_overview_reports_the_store(kv, user_clients):
    response = user_clients("staff").get("/admin/stores/kv/")
    stats = response.context["stats"]
    assert any(db["name"] == "db0" and db["keys"] == kv.dbsize() for db in stats["databases"])
    live = user_clients("staff").get("/admin/stores/kv/?format=json").json()
    assert live["connected_clients"] >= 1
    assert "used_memory" in live and "hit_ratio" in live


def test_key_browser_pages_through_the_whole_keyspace(kv, user_clients):
    c = user_clients("staff")
    seen, url = set(), "/admin/stores/kv/keys/"
    for _ in range(50):
        response = c.get(url)
        seen |= {row.name for row in response.context["rows"]}
        if not response.context["next_url"]:
            break
        url = "/admin/stores/kv/keys/" + response.context["next_url"]
    assert seen == {k.decode() for k in kv.scan_iter(count=1000)}


def test_key_browser_filters_by_pattern_and_type(kv, user_clients):
    c = user_clients("staff")
    rows = c.get("/admin/stores/kv/keys/", {"match": "post:1*"}).context["rows"]
    assert {r.name for r in rows} == {f"post:{i}:title" for i in [1, *range(10, 20)]}
    zsets = c.get("/admin/stores/kv/keys/", {"type": "zset"}).context["rows"]
    assert [(r.name, r.type) for r in zsets] == [("board:views", "zset")]


def test_key_browser_shows_ttl_memory_and_namespace_tree(kv, user_clients):
    response = user_clients("staff").get("/admin/stores/kv/keys/", {"match": "ticket:*"})
    (row,) = response.context["rows"]
    assert 0 < row.ttl_seconds <= 30
    assert row.memory > 0
    tree = user_clients("staff").get("/admin/stores/kv/keys/", {"match": "post:*"}).context["tree"]
    assert tree[0]["name"] == "post" and tree[0]["count"] == 60


def test_key_detail_per_type(kv, user_clients):
    c = user_clients("staff")
    assert (
        c.get("/admin/stores/kv/key/", {"key": "greeting"}).context["detail"].value_text == "hello"
    )
    blob = c.get("/admin/stores/kv/key/", {"key": "blob"}).context["detail"]
    assert blob.value_text is None and blob.value_hex.startswith("00 ff 10")
    assert c.get("/admin/stores/kv/key/", {"key": "user:1"}).context["detail"].items == [
        ("lang", "en"),
        ("name", "ada"),
    ]
    first = c.get("/admin/stores/kv/key/", {"key": "queue:jobs"})
    assert first.context["detail"].items[0] == (0, "job0") and first.context["next_start"] == 50
    second = c.get("/admin/stores/kv/key/", {"key": "queue:jobs", "start": 100}).context["detail"]
    assert second.items[-1] == (119, "job119") and len(second.items) == 20
    board = c.get("/admin/stores/kv/key/", {"key": "board:views"}).context["detail"]
    assert board.items == [("post:1", 10.0), ("post:3", 20.0), ("post:2", 30.0)]
    assert {
        m for m, _ in c.get("/admin/stores/kv/key/", {"key": "tags"}).context["detail"].items
    } == {"redis", "cassandra"}
    assert c.get("/admin/stores/kv/key/", {"key": "missing"}).status_code == 404


def test_values_are_escaped(kv, user_clients):
    kv.set("xss", "<script>alert(1)</script>")
    response = user_clients("staff").get("/admin/stores/kv/key/", {"key": "xss"})
    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content


def test_memory_analysis_samples_in_steps(kv, user_clients):
    c = user_clients("staff")
    assert c.post("/admin/stores/kv/memory/").status_code == 200
    data = {"done": False}
    for _ in range(20):
        data = c.get("/admin/stores/kv/memory/", {"step": "1", "format": "json"}).json()
        if data["done"]:
            break
    assert data["done"] and data["sampled"] == kv.dbsize()
    report = c.get("/admin/stores/kv/memory/").context["report"]
    biggest = report.biggest_sorted()
    assert biggest[0][1] == "queue:jobs"
    prefixes = dict(report.prefixes_sorted())
    assert prefixes["post:"][0] == 60
    assert report.no_ttl == sum(1 for key in kv.scan_iter(count=500) if kv.ttl(key) == -1)
    assert [name for _, name in report.expiring_soon] == ["ticket:abc"]


def test_memory_analysis_without_javascript(kv, user_clients):
    response = user_clients("staff").get("/admin/stores/kv/memory/", {"run": "1"})
    assert response.context["report"].done
    assert b"queue:jobs" in response.content


def test_console_runs_read_only_commands(kv, user_clients):
    c = user_clients("staff")
    response = c.post(
        "/admin/stores/kv/console/", {"command": "ZRANGE board:views 0 -1 WITHSCORES"}
    )
    output = response.context["output"]
    assert output.index('"post:1"') < output.index('"post:3"') < output.index('"post:2"')
    assert (
        c.post("/admin/stores/kv/console/", {"command": "GET greeting"}).context["output"]
        == '"hello"'
    )
    refused = c.post("/admin/stores/kv/console/", {"command": "FLUSHALL"})
    assert "not allowed" in refused.context["error"]
    assert kv.dbsize() > 0
    bad = c.post("/admin/stores/kv/console/", {"command": "GET"})
    assert bad.context["error"].startswith("(error)")
    quotes = c.post("/admin/stores/kv/console/", {"command": 'GET "unterminated'})
    assert "Cannot parse" in quotes.context["error"]
    assert c.post("/admin/stores/kv/console/", {"command": "SLOWLOG RESET"}).context["error"]


def test_console_needs_csrf(kv, django_user_model):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(django_user_model.objects.create_user("s", password="pw", is_staff=True))
    assert c.post("/admin/stores/kv/console/", {"command": "GET greeting"}).status_code == 403


def test_superuser_actions_need_confirmation(kv, user_clients):
    c = user_clients("superuser")
    c.post("/admin/stores/kv/action/delete/", {"key": "greeting"})
    assert kv.exists("greeting") == 1, "no change without confirm=yes"
    c.post("/admin/stores/kv/action/delete/", {"key": "greeting", "confirm": "yes"})
    assert kv.exists("greeting") == 0
    c.post("/admin/stores/kv/action/expire/", {"key": "tags", "seconds": "100", "confirm": "yes"})
    assert 0 < kv.ttl("tags") <= 100
    c.post("/admin/stores/kv/action/persist/", {"key": "tags", "confirm": "yes"})
    assert kv.ttl("tags") == -1
    response = c.post(
        "/admin/stores/kv/action/expire/", {"key": "tags", "seconds": "-5", "confirm": "yes"}
    )
    assert response.status_code == 302 and kv.ttl("tags") == -1


def test_flush_page_cache_keeps_other_keys(kv, user_clients):
    from django.core.cache import caches

    caches["default"].set("staff-test-page", "<p>cached</p>")
    before = kv.dbsize()
    user_clients("superuser").post("/admin/stores/kv/action/flush-page-cache/", {"confirm": "yes"})
    assert caches["default"].get("staff-test-page") is None
    assert kv.get("greeting") == b"hello"
    assert kv.dbsize() <= before


def test_unreachable_store_gives_503(monkeypatch, user_clients, db):
    import redis

    from stores.staff import kv_views
    from tests.support.ports import free_port

    dead = redis.Redis(port=free_port(), socket_connect_timeout=1)
    monkeypatch.setattr(kv_views, "_handle", lambda request: dead)
    response = user_clients("staff").get("/admin/stores/kv/")
    assert response.status_code == 503
    assert b"The store did not answer" in response.content


def test_admin_index_links_to_the_store_pages(kv, user_clients):
    response = user_clients("staff").get("/admin/")
    assert b'href="/admin/stores/kv/"' in response.content


def test_embedded_page_cache_store_can_be_browsed(settings, user_clients, db):
    from django.core.cache import caches

    from stores import clients

    settings.KV_URL = "memory:"
    clients.reset()
    try:
        caches["default"].set("staff-switch-test", "<p>page</p>")
        staff = user_clients("staff")
        main = staff.get("/admin/stores/kv/keys/")
        assert [name for name, _, current in main.context["kv_stores"] if current] == ["main"]
        assert not any("staff-switch-test" in row.name for row in main.context["rows"])
        pages = staff.get("/admin/stores/kv/keys/", {"store": "pages"})
        assert any("staff-switch-test" in row.name for row in pages.context["rows"])
        again = staff.get("/admin/stores/kv/keys/")
        assert any("staff-switch-test" in row.name for row in again.context["rows"])
    finally:
        clients.reset()


def test_cached_page_html_is_shown_safely(settings, user_clients, db):
    from django.core.cache import caches

    from stores import clients

    settings.KV_URL = "memory:"
    clients.reset()
    try:
        caches["default"].set(
            "blog:post:x:whole", {"html": "<h1>Cached</h1><script>alert(1)</script>"}
        )
        (key,) = [k.decode() for k in clients.kv_pages().scan_iter(match="*blog:post:x:whole")]
        response = user_clients("staff").get(
            "/admin/stores/kv/key/", {"key": key, "store": "pages"}
        )
        assert response.context["cached_html"] == "<h1>Cached</h1><script>alert(1)</script>"
        assert b"<script>alert(1)</script>" not in response.content
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content
        assert b'<iframe class="cached-page" sandbox srcdoc=' in response.content
    finally:
        clients.reset()
