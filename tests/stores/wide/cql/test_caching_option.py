"""WITH caching: Cassandra's table option reaches the storage engine's row cache."""

from __future__ import annotations

import pytest

from stores.wide import connect
from stores.wide.cql.errors import ConfigurationException


@pytest.fixture
def session():
    session = connect("memory:")
    session.execute(
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    session.set_keyspace("ks")
    yield session
    session.shutdown()


def caching_of(session, table: str) -> dict:
    row = session.execute(
        "SELECT caching FROM system_schema.tables WHERE keyspace_name = 'ks' AND table_name = %s",
        (table,),
    ).one()
    return dict(row.caching)


def engine_of(session):
    return session.engine


CREATE = (
    "CREATE TABLE history (user text, viewed_at timestamp, post int,"
    " PRIMARY KEY (user, viewed_at)) WITH CLUSTERING ORDER BY (viewed_at DESC)"
)


def test_rows_per_partition_sets_the_storage_option(session):
    session.execute(CREATE + " AND caching = {'keys': 'ALL', 'rows_per_partition': '20'}")
    assert caching_of(session, "history") == {"keys": "ALL", "rows_per_partition": "20"}
    options = engine_of(session).table("ks", "history").options
    assert options.rows_per_partition == 20


def test_a_left_out_sub_option_is_off_as_in_cassandra(session):
    session.execute(CREATE + " AND caching = {'rows_per_partition': '20'}")
    assert caching_of(session, "history") == {"keys": "NONE", "rows_per_partition": "20"}


def test_default_caches_no_rows(session):
    session.execute(CREATE)
    assert caching_of(session, "history") == {"keys": "ALL", "rows_per_partition": "NONE"}
    assert engine_of(session).table("ks", "history").options.rows_per_partition == 0


@pytest.mark.parametrize(
    ("given", "stored"),
    [("all", "ALL"), ("none", "NONE"), ("0", "NONE"), ("2147483647", "ALL"), ("7", "7")],
)
def test_rows_per_partition_values_are_normalised(session, given, stored):
    session.execute(CREATE + f" AND caching = {{'keys': 'all', 'rows_per_partition': '{given}'}}")
    assert caching_of(session, "history") == {"keys": "ALL", "rows_per_partition": stored}


@pytest.mark.parametrize(
    ("caching", "message"),
    [
        ("{'rows_per_partition': '-1'}", "Invalid value '-1' for caching sub-option"),
        ("{'rows_per_partition': 'some'}", "Invalid value 'some' for caching sub-option"),
        ("{'rows_per_partition': '99999999999'}", "Invalid value '99999999999'"),
        ("{'keys': 'maybe'}", "Invalid value 'maybe' for caching sub-option 'keys'"),
        ("{'rows': '10'}", "Invalid caching sub-options [rows]"),
    ],
)
def test_bad_caching_values_are_refused(session, caching, message):
    with pytest.raises(ConfigurationException, match=message.replace("[", r"\[")):
        session.execute(CREATE + f" AND caching = {caching}")


def test_alter_turns_the_row_cache_on_and_reads_stay_correct(session):
    session.execute(CREATE)
    insert = session.prepare("INSERT INTO history (user, viewed_at, post) VALUES (?, ?, ?)")
    for i in range(30):
        session.execute(insert, ("ann", 1_700_000_000_000 + i * 1000, i))
    session.execute("ALTER TABLE history WITH caching = {'keys': 'ALL', 'rows_per_partition': '5'}")
    assert engine_of(session).table("ks", "history").options.rows_per_partition == 5
    select = session.prepare("SELECT post FROM history WHERE user = ? LIMIT 5")
    first = [r.post for r in session.execute(select, ("ann",))]
    again = [r.post for r in session.execute(select, ("ann",))]  # cached on the second miss
    third = [r.post for r in session.execute(select, ("ann",))]
    assert first == again == third == [29, 28, 27, 26, 25]
    assert engine_of(session).row_cache_stats()["hits"] >= 1
    session.execute(insert, ("ann", 1_700_000_000_000 + 99_000, 99))
    assert [r.post for r in session.execute(select, ("ann",))] == [99, 29, 28, 27, 26]
    everything = [r.post for r in session.execute("SELECT post FROM history WHERE user = 'ann'")]
    assert everything == [99, *range(29, -1, -1)]
