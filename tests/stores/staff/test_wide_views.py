"""Staff pages for the wide-column store: permissions, content and actions."""

import uuid

import pytest

from stores import clients

pytestmark = pytest.mark.django_db

POST_ID = uuid.UUID("11111111-2222-3333-4444-555555555555")


@pytest.fixture
def wide(settings):
    """An embedded store with a keyspace, a clustered table and some data."""
    settings.WIDE_URL = "memory:"
    clients.reset()
    session = clients.wide()
    session.execute(
        "CREATE KEYSPACE staffdemo WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    session.execute(
        "CREATE TABLE staffdemo.comments (post_id uuid, at int, author text, body text, "
        "title text static, PRIMARY KEY (post_id, at)) WITH CLUSTERING ORDER BY (at DESC) "
        "AND gc_grace_seconds = 3600"
    )
    insert = session.prepare(
        "INSERT INTO staffdemo.comments (post_id, at, author, body) VALUES (?, ?, ?, ?) USING TTL 5000"
    )
    for i in range(5):
        session.execute(insert, (POST_ID, i, f"user{i}", f"comment {i}"))
    session.execute(
        "UPDATE staffdemo.comments SET title = %s WHERE post_id = %s", ("Hello", POST_ID)
    )
    for n in range(60):
        session.execute(insert, (uuid.UUID(int=n + 1), 0, "x", "<script>alert(1)</script>"))
    yield session
    clients.reset()


@pytest.fixture
def as_role(django_user_model):
    from django.test import Client

    users = {
        "user": django_user_model.objects.create_user("plain", password="pw"),
        "staff": django_user_model.objects.create_user("staffer", password="pw", is_staff=True),
        "superuser": django_user_model.objects.create_superuser("root", password="pw"),
    }

    def make(role):
        c = Client()
        if role != "anonymous":
            c.force_login(users[role])
        return c

    return make


def partition_token(session):
    row = session.execute(
        "SELECT token(post_id) FROM staffdemo.comments WHERE post_id = %s LIMIT 1", (POST_ID,)
    ).one()
    return row[0]


PAGES = [
    "/admin/stores/wide/",
    "/admin/stores/wide/staffdemo/comments/",
    "/admin/stores/wide/staffdemo/comments/partitions/",
    "/admin/stores/wide/locate/",
    "/admin/stores/wide/console/",
]
ACTIONS = [
    "/admin/stores/wide/staffdemo/comments/action/flush/",
    "/admin/stores/wide/staffdemo/comments/action/compact/",
]


@pytest.mark.parametrize("url", PAGES + ACTIONS)
def test_permissions(wide, as_role, url):
    anonymous = as_role("anonymous").get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/admin/login/")
    assert as_role("user").get(url).status_code == 403
    if url in ACTIONS:
        assert as_role("staff").get(url).status_code == 403
        assert as_role("superuser").get(url).status_code == 200
    else:
        assert as_role("staff").get(url).status_code == 200


def test_overview_lists_keyspaces_and_tables(wide, as_role):
    response = as_role("staff").get("/admin/stores/wide/")
    (demo,) = [ks for ks in response.context["keyspaces"] if ks["name"] == "staffdemo"]
    assert demo["tables"][0]["name"] == "comments"
    assert demo["tables"][0]["gc_grace_seconds"] == 3600
    assert demo["tables"][0]["compaction"] == "SizeTieredCompactionStrategy"
    assert any(ks["system"] for ks in response.context["keyspaces"])


def test_table_page_shows_schema_and_storage(wide, as_role):
    response = as_role("staff").get("/admin/stores/wide/staffdemo/comments/")
    info = response.context["info"]
    assert [c.name for c in info.partition_key] == ["post_id"]
    assert [(c.name, c.clustering_order) for c in info.clustering] == [("at", "desc")]
    assert info.create_statement.startswith("CREATE TABLE staffdemo.comments")
    assert response.context["engine"]["sstables"] == []
    assert response.context["engine"]["stats"]


def test_flush_and_compact_need_confirmation_and_create_sstables(wide, as_role):
    c = as_role("superuser")
    c.post("/admin/stores/wide/staffdemo/comments/action/flush/")
    assert wide.engine.sstables("staffdemo", "comments") == []
    c.post("/admin/stores/wide/staffdemo/comments/action/flush/", {"confirm": "yes"})
    assert len(wide.engine.sstables("staffdemo", "comments")) == 1
    wide.execute("DELETE FROM staffdemo.comments WHERE post_id = %s AND at = 4", (POST_ID,))
    c.post("/admin/stores/wide/staffdemo/comments/action/flush/", {"confirm": "yes"})
    assert len(wide.engine.sstables("staffdemo", "comments")) == 2
    c.post("/admin/stores/wide/staffdemo/comments/action/compact/", {"confirm": "yes"})
    wide.engine.wait_for_background()
    assert len(wide.engine.sstables("staffdemo", "comments")) == 1
    page = as_role("staff").get("/admin/stores/wide/staffdemo/comments/")
    assert page.context["engine"]["history"]


def test_partitions_are_paged_in_token_order(wide, as_role):
    c = as_role("staff")
    first = c.get("/admin/stores/wide/staffdemo/comments/partitions/")
    tokens = [p["token"] for p in first.context["page"]]
    assert len(tokens) == 50 and tokens == sorted(tokens)
    second = c.get(
        "/admin/stores/wide/staffdemo/comments/partitions/", {"after": first.context["next_after"]}
    )
    more = [p["token"] for p in second.context["page"]]
    assert len(more) == 11 and min(more) > max(tokens)
    assert second.context["next_after"] is None


def test_partition_shows_rows_in_clustering_order_with_writetime_and_ttl(wide, as_role):
    token = partition_token(wide)
    response = as_role("staff").get(f"/admin/stores/wide/staffdemo/comments/partitions/{token}/")
    rows = response.context["result"].rows
    assert [r["at"]["value"] for r in rows] == [4, 3, 2, 1, 0]
    assert rows[0]["author"]["writetime"] > 0
    assert 0 < rows[0]["author"]["ttl"] <= 5000
    static = response.context["result"].static
    assert static["title"]["value"] == "Hello" and static["title"]["ttl"] is None
    assert "title" not in rows[0]
    assert rows[0]["author"]["written_at"].year >= 2026
    assert (
        as_role("staff").get("/admin/stores/wide/staffdemo/comments/partitions/12345/").status_code
        == 404
    )
    assert (
        as_role("staff")
        .get("/admin/stores/wide/staffdemo/comments/partitions/notatoken/")
        .status_code
        == 404
    )


def test_values_are_escaped(wide, as_role):
    row = wide.execute(
        "SELECT token(post_id) FROM staffdemo.comments WHERE post_id = %s LIMIT 1",
        (uuid.UUID(int=1),),
    ).one()
    response = as_role("staff").get(f"/admin/stores/wide/staffdemo/comments/partitions/{row[0]}/")
    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;" in response.content


def test_locate_gives_the_token_the_store_uses(wide, as_role):
    response = as_role("staff").get(
        "/admin/stores/wide/locate/", {"table": "staffdemo.comments", "key_post_id": str(POST_ID)}
    )
    answer = response.context["answer"]
    assert answer["token"] == partition_token(wide)
    assert answer["exists"] is True
    assert answer["key_hex"] == POST_ID.bytes.hex()
    bad = as_role("staff").get(
        "/admin/stores/wide/locate/", {"table": "staffdemo.comments", "key_post_id": "nope"}
    )
    assert "not a valid uuid" in bad.context["error"]
    assert (
        as_role("staff").get("/admin/stores/wide/locate/", {"table": "nope.nope"}).status_code
        == 404
    )


def test_console_runs_select_only(wide, as_role):
    c = as_role("staff")
    ok = c.post(
        "/admin/stores/wide/console/",
        {"query": f"SELECT at, author FROM staffdemo.comments WHERE post_id = {POST_ID}"},
    )
    assert ok.context["result"]["columns"] == ["at", "author"]
    assert [r[0] for r in ok.context["result"]["rows"]] == [4, 3, 2, 1, 0]
    refused = c.post("/admin/stores/wide/console/", {"query": "DROP KEYSPACE staffdemo"})
    assert "Only SELECT" in refused.context["error"]
    two = c.post(
        "/admin/stores/wide/console/",
        {"query": "SELECT * FROM staffdemo.comments; DROP KEYSPACE staffdemo"},
    )
    assert "One statement" in two.context["error"]
    assert wide.execute("SELECT count(*) FROM staffdemo.comments").one()[0] > 0
    invalid = c.post(
        "/admin/stores/wide/console/",
        {"query": "SELECT * FROM staffdemo.comments WHERE author = 'x'"},
    )
    assert "ALLOW FILTERING" in invalid.context["error"]


def test_console_needs_csrf(wide, django_user_model):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(django_user_model.objects.create_user("s", password="pw", is_staff=True))
    assert (
        c.post("/admin/stores/wide/console/", {"query": "SELECT * FROM system.local"}).status_code
        == 403
    )


def test_console_trace_names_sstables_read_and_skipped(wide, as_role):
    engine = wide.engine
    engine.flush("staffdemo", "comments")
    wide.execute(
        "INSERT INTO staffdemo.comments (post_id, at, author, body) VALUES (%s, 9, 'late', 'x')",
        (uuid.UUID(int=999),),
    )
    engine.flush("staffdemo", "comments")
    response = as_role("staff").post(
        "/admin/stores/wide/console/",
        {"query": f"SELECT * FROM staffdemo.comments WHERE post_id = {POST_ID}"},
    )
    summary = response.context["result"]["trace"]["summary"]
    read = set(summary["sstables_consulted"])
    skipped = {name for name, _ in summary["sstables_skipped"]}
    assert len(read) == 1 and len(read | skipped) == 2
    assert b"SSTables skipped" in response.content


def test_partition_page_shows_tombstones_as_stored(wide, as_role):
    wide.execute("DELETE FROM staffdemo.comments WHERE post_id = %s AND at = 3", (POST_ID,))
    wide.execute("DELETE body FROM staffdemo.comments WHERE post_id = %s AND at = 2", (POST_ID,))
    wide.execute("DELETE FROM staffdemo.comments WHERE post_id = %s AND at < 1", (POST_ID,))
    response = as_role("staff").get(
        f"/admin/stores/wide/staffdemo/comments/partitions/{partition_token(wide)}/"
    )
    live = [r["at"]["value"] for r in response.context["result"].rows]
    assert live == [4, 2, 1]
    stored = response.context["stored"]
    assert [row["clustering"] for row in stored["rows"]] == [(4,), (3,), (2,), (1,), (0,)]
    (deleted,) = [row for row in stored["rows"] if row["deletion"]]
    assert deleted["clustering"] == (3,)
    two = next(row for row in stored["rows"] if row["clustering"] == (2,))
    assert two["cells"]["body"]["state"] == "tombstone"
    assert two["cells"]["author"]["state"] == "live" and two["cells"]["author"]["ttl"]
    (rt,) = stored["range_tombstones"]
    # at is DESC: in clustering order "at < 1" starts after 1 and runs to the end.
    assert rt["start"] == "(1) exclusive" and rt["end"] == "(open)"
    assert stored["static"]["cells"]["title"]["value"] == "Hello"
    assert b"tombstone" in response.content and b"Range tombstones" in response.content
