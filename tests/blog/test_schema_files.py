"""Versioned schema files: splitting, ordering, idempotent application."""

import pytest

from blog.schema_files import apply_schema, check_identifier, schema_files, split_statements

REPLICATION = "{'class': 'SimpleStrategy', 'replication_factor': 1}"


def test_split_ignores_semicolons_in_strings_and_comments():
    text = """
    -- a comment; with a semicolon
    CREATE TABLE t (k int PRIMARY KEY, v text); // another; comment
    INSERT INTO t (k, v) VALUES (1, 'a;b''c');
    /* block; comment */ SELECT * FROM t
    """
    assert split_statements(text) == [
        "CREATE TABLE t (k int PRIMARY KEY, v text)",
        "INSERT INTO t (k, v) VALUES (1, 'a;b''c')",
        "SELECT * FROM t",
    ]


def test_schema_files_are_versioned_in_order():
    files = schema_files()
    assert [f.version for f in files] == sorted({f.version for f in files})
    statements = files[0].statements()
    assert all(s.upper().startswith("CREATE TABLE IF NOT EXISTS") for s in statements)
    names = {s.split()[5] for s in statements}
    assert {"posts", "posts_by_day", "comments_by_post", "history_by_user", "post_stats"} <= names


def test_schema_files_reject_bad_names(tmp_path):
    (tmp_path / "first.cql").write_text("")
    with pytest.raises(ValueError, match="NNNN_name.cql"):
        schema_files(tmp_path)


@pytest.mark.parametrize("name", ["blog; DROP", "1blog", "", "x" * 49, "bl-og"])
def test_keyspace_must_be_a_plain_identifier(name):
    with pytest.raises(ValueError):
        check_identifier(name)


def test_apply_schema_twice_applies_once(wide_store):
    from stores import clients

    session = clients.wide()
    first = apply_schema(session, "schema_test", REPLICATION, log=lambda m: None)
    second = apply_schema(session, "schema_test", REPLICATION, log=lambda m: None)
    assert [f.version for f in first] == [f.version for f in schema_files()]
    assert second == []
    versions = {
        r.version for r in session.execute("SELECT version FROM schema_test.schema_migrations")
    }
    assert versions == {f.version for f in schema_files()}
    session.execute("SELECT post_id FROM schema_test.posts LIMIT 1")


def test_history_table_caches_the_newest_rows_and_keeps_its_ttl(wide_store):
    from stores import clients

    session = clients.wide()
    apply_schema(session, "schema_test", REPLICATION, log=lambda m: None)
    row = session.execute(
        "SELECT caching, default_time_to_live FROM system_schema.tables"
        " WHERE keyspace_name = 'schema_test' AND table_name = 'history_by_user'"
    ).one()
    assert row.caching == {"keys": "ALL", "rows_per_partition": "21"}
    assert row.default_time_to_live == 7776000


def test_history_pages_are_served_from_the_row_cache(repo):
    import uuid
    from datetime import UTC, datetime, timedelta

    from stores import clients

    start = datetime.now(UTC) - timedelta(minutes=30)
    for n in range(25):
        repo.record_view(7, uuid.uuid4(), f"Post {n}", 3600, start + timedelta(seconds=n))
    engine = clients.wide().engine
    pages = [repo.history(7, 20) for _ in range(4)]
    assert all(len(p.items) == 20 for p in pages)
    assert [e.post_title for e in pages[-1].items] == [e.post_title for e in pages[0].items]
    stats = engine.table_stats(repo.keyspace, "history_by_user")
    assert stats["row_cache_hits"] >= 1, stats
    # A new view invalidates the cached head: the next page shows it first.
    repo.record_view(7, uuid.uuid4(), "Newest", 3600)
    assert repo.history(7, 20).items[0].post_title == "Newest"
