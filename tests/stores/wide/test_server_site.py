"""WIDE_URL=cassandra://127.0.0.1:PORT/blog: the site's handle is cassandra-driver on our server."""

import pytest

from stores import clients
from tests.stores.wide.server_process import ServerProcess, driver_cluster


@pytest.fixture
def server():
    process = ServerProcess()
    cluster = driver_cluster(process.port, protocol_version=4)
    try:
        cluster.connect().execute(
            "CREATE KEYSPACE blog WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
    finally:
        cluster.shutdown()
    yield process
    clients.reset()
    code, output = process.stop()
    assert code == 0, output


def test_site_handle_runs_cql_through_the_driver(settings, server):
    settings.WIDE_URL = f"cassandra://127.0.0.1:{server.port}/blog"
    clients.reset()
    clients.check_reachable()
    session = clients.wide()
    assert type(session.wrapped).__module__.startswith("cassandra")
    session.execute(
        "CREATE TABLE comments_by_post (post_id int, at timeuuid, body text, title text static, "
        "PRIMARY KEY (post_id, at)) WITH CLUSTERING ORDER BY (at DESC)"
    )
    insert = session.prepare(
        "INSERT INTO comments_by_post (post_id, at, body) VALUES (?, now(), ?)"
    )
    for n in range(3):
        session.execute(insert, (1, f"comment {n}"))
    session.execute("UPDATE comments_by_post SET title = 'Hello' WHERE post_id = 1")
    rows = list(session.execute("SELECT title, body FROM comments_by_post WHERE post_id = 1"))
    assert [r.body for r in rows] == ["comment 2", "comment 1", "comment 0"]
    assert {r.title for r in rows} == {"Hello"}


def test_the_blog_runs_through_the_driver_on_our_server(settings, server, client, db):
    from django.core.management import call_command

    from blog.repositories import repository

    settings.WIDE_URL = f"cassandra://127.0.0.1:{server.port}/blog"
    settings.BLOG_MEMORY_SEED = ""
    clients.reset()
    call_command("apply_schema", verbosity=0)
    assert type(clients.wide().wrapped).__module__.startswith("cassandra")
    post = repository().create_post(
        title="Over the wire", body="Served by *cassandra-driver*.", author="grace", tags=["cql"]
    )
    front = client.get("/")
    assert front.status_code == 200 and b"Over the wire" in front.content
    page = client.get(f"/posts/{post.post_id}/")
    assert page.status_code == 200
    assert b"<em>cassandra-driver</em>" in page.content
