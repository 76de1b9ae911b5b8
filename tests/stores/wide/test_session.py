"""The cassandra-driver shaped Session: statements, binding, paging, row factories."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

import pytest

import stores.wide
from stores.wide import (
    BatchStatement,
    BatchType,
    InvalidRequest,
    SimpleStatement,
    SyntaxException,
    dict_factory,
    tuple_factory,
)
from stores.wide.cql.values import Date, Duration, Time


@pytest.fixture
def session():
    s = stores.wide.connect("memory:")
    s.execute(
        "CREATE KEYSPACE app WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    s.set_keyspace("app")
    s.execute(
        "CREATE TABLE history (user text, viewed_at timestamp, post uuid, PRIMARY KEY (user, viewed_at)) "
        "WITH CLUSTERING ORDER BY (viewed_at DESC)"
    )
    yield s
    s.shutdown()


def fill(session, count=25):
    insert = session.prepare("INSERT INTO history (user, viewed_at, post) VALUES (?, ?, ?)")
    base = datetime.datetime(2024, 1, 1)
    for i in range(count):
        session.execute(insert, ["ann", base + datetime.timedelta(minutes=i), uuid.UUID(int=i)])
    return base


def test_connect_with_keyspace_and_keyspace_errors():
    with pytest.raises(InvalidRequest, match="Keyspace 'nope' does not exist"):
        stores.wide.connect("memory:", keyspace="nope")
    with pytest.raises(ValueError):
        stores.wide.connect("memory:", commitlog_sync="sometimes")
    s = stores.wide.connect("memory:")
    try:
        with pytest.raises(InvalidRequest, match="Keyspace 'nope' does not exist"):
            s.set_keyspace("nope")
        assert s.keyspace is None
    finally:
        s.shutdown()


def test_simple_statement_placeholders(session):
    base = fill(session, 3)
    rows = session.execute(
        "SELECT post FROM history WHERE user = %s AND viewed_at > %s", ["ann", base]
    ).all()
    assert [r.post for r in rows] == [uuid.UUID(int=2), uuid.UUID(int=1)]
    row = session.execute(
        "SELECT post FROM history WHERE user = %(u)s LIMIT %(n)s", {"u": "ann", "n": 1}
    ).one()
    assert row.post == uuid.UUID(int=2)
    rows = session.execute(
        "SELECT viewed_at FROM history WHERE user = %s AND viewed_at IN %s", ("ann", (base,))
    ).all()
    assert rows[0].viewed_at == base


def test_prepared_named_markers_and_bound_statements(session):
    fill(session, 2)
    select = session.prepare("SELECT post FROM history WHERE user = :user LIMIT :n")
    assert [s.name for s in select.column_metadata] == ["user", "n"]
    assert session.execute(select, {"user": "ann", "n": 1}).one().post == uuid.UUID(int=1)
    bound = select.bind(["ann", 2])
    assert len(session.execute(bound).all()) == 2
    assert select.routing_key_indexes == [0]


def test_prepared_statements_skip_parsing(session, monkeypatch):
    fill(session, 1)
    select = session.prepare("SELECT post FROM history WHERE user = ?")
    from stores.wide.cql import executor as executor_module

    def boom(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(executor_module, "parse", boom)
    for _ in range(3):
        assert session.execute(select, ["ann"]).one() is not None
    assert session.execute("SELECT post FROM history WHERE user = %s", ["ann"]).one() is not None


def test_prepared_statement_survives_schema_change(session):
    fill(session, 1)
    select = session.prepare("SELECT * FROM history WHERE user = ?")
    session.execute("ALTER TABLE history ADD note text")
    assert session.execute(select, ["ann"]).column_names == ["user", "viewed_at", "note", "post"]


def test_paging_is_transparent(session):
    fill(session, 25)
    statement = SimpleStatement("SELECT viewed_at FROM history WHERE user = 'ann'", fetch_size=10)
    result = session.execute(statement)
    assert len(result.current_rows) == 10 and result.has_more_pages
    first_page = list(result.current_rows)
    state = result.paging_state
    everything = result.all()
    assert len(everything) == 25
    assert everything == sorted(everything, key=lambda r: r.viewed_at, reverse=True)
    resumed = session.execute(statement, paging_state=state)
    assert resumed.current_rows[0].viewed_at < first_page[-1].viewed_at
    assert len(list(session.execute(SimpleStatement("SELECT * FROM history", fetch_size=7)))) == 25


def test_paging_across_partitions_and_bad_state(session):
    insert = session.prepare("INSERT INTO history (user, viewed_at, post) VALUES (?, ?, ?)")
    for user in ("a", "b", "c", "d"):
        for i in range(3):
            session.execute(insert, [user, datetime.datetime(2024, 1, 1, 0, i), uuid.uuid4()])
    rows = session.execute(
        SimpleStatement("SELECT user, viewed_at FROM history", fetch_size=2)
    ).all()
    assert len(rows) == 12 and len(set(rows)) == 12
    with pytest.raises(stores.wide.CQLError):
        session.execute("SELECT * FROM history", paging_state=b"\x07garbage")


def test_row_factories(session):
    fill(session, 1)
    session.row_factory = dict_factory
    assert set(session.execute("SELECT * FROM history").one()) == {"user", "viewed_at", "post"}
    session.row_factory = tuple_factory
    assert isinstance(session.execute("SELECT user FROM history").one(), tuple)
    session.row_factory = stores.wide.named_tuple_factory
    row = session.execute("SELECT count(*), max(viewed_at) FROM history").one()
    assert row.count == 1 and row.system_max_viewed_at == datetime.datetime(2024, 1, 1)


def test_lwt_was_applied(session):
    result = session.execute("INSERT INTO history (user, viewed_at) VALUES ('x', 0) IF NOT EXISTS")
    assert result.was_applied
    result = session.execute("INSERT INTO history (user, viewed_at) VALUES ('x', 0) IF NOT EXISTS")
    assert not result.was_applied
    assert result.one().user == "x"


def test_batch_statement(session):
    insert = session.prepare("INSERT INTO history (user, viewed_at, post) VALUES (?, ?, ?)")
    batch = BatchStatement(BatchType.UNLOGGED)
    batch.add(insert, ["b", datetime.datetime(2024, 1, 1), uuid.UUID(int=1)])
    batch.add(
        "INSERT INTO history (user, viewed_at) VALUES (%s, %s)",
        ["b", datetime.datetime(2024, 1, 2)],
    )
    batch.add(SimpleStatement("DELETE FROM history WHERE user = 'zzz'"))
    session.execute(batch)
    assert len(session.execute("SELECT * FROM history WHERE user = 'b'").all()) == 2


def test_execute_async(session):
    future = session.execute_async("SELECT * FROM system.local")
    assert future.result().one().cluster_name == "kvsite"
    failing = session.execute_async("SELEC 1")
    with pytest.raises(SyntaxException):
        failing.result()


def test_driver_value_types_round_trip(session):
    session.execute(
        "CREATE TABLE vals (k int PRIMARY KEY, ts timestamp, d date, t time, du duration, dec decimal, "
        "vi varint, b blob, ip inet, s set<int>, m map<text, frozen<list<int>>>, tu tuple<int, text>)"
    )
    aware = datetime.datetime(
        2024, 5, 6, 7, 8, 9, 123000, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )
    values = [
        1,
        aware,
        Date(datetime.date(2024, 2, 29)),
        Time(datetime.time(1, 2, 3)),
        Duration(1, 2, 3),
        Decimal("3.14"),
        10**30,
        b"\x00\x01",
        "::1",
        {3, 1},
        {"a": [1, 2]},
        (1, "x"),
    ]
    session.execute(
        session.prepare(
            "INSERT INTO vals (k, ts, d, t, du, dec, vi, b, ip, s, m, tu) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
        ),
        values,
    )
    row = session.execute("SELECT * FROM vals WHERE k = 1").one()
    assert row.ts == datetime.datetime(2024, 5, 6, 5, 8, 9, 123000) and row.ts.tzinfo is None
    assert row.d == Date(datetime.date(2024, 2, 29)) and row.d.date() == datetime.date(2024, 2, 29)
    assert row.t == Time(datetime.time(1, 2, 3)) and row.du == Duration(1, 2, 3)
    assert row.dec == Decimal("3.14") and row.vi == 10**30 and row.b == b"\x00\x01"
    assert (
        row.ip == "::1" and list(row.s) == [1, 3] and row.m == {"a": [1, 2]} and row.tu == (1, "x")
    )


def test_wrong_python_types_are_invalid_requests(session):
    insert = session.prepare("INSERT INTO history (user, viewed_at) VALUES (?, ?)")
    with pytest.raises(InvalidRequest):
        session.execute(insert, [1, datetime.datetime(2024, 1, 1)])
    with pytest.raises(ValueError, match="Too many arguments"):
        session.execute(session.prepare("SELECT * FROM history WHERE user = ?"), ["a", "b"])
    with pytest.raises(TypeError):
        session.execute("SELECT * FROM history WHERE user = %s", ["a", "b"])


def test_directory_target_persists_schema_and_data(tmp_path):
    s = stores.wide.connect(str(tmp_path), commitlog_sync="batch")
    s.execute(
        "CREATE KEYSPACE k WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    s.execute("CREATE TABLE k.t (a int PRIMARY KEY, b list<text>)")
    s.execute("INSERT INTO k.t (a, b) VALUES (1, ['x'])")
    s.execute("UPDATE k.t SET b = b + ['y'] WHERE a = 1")
    s.shutdown()
    s = stores.wide.connect(str(tmp_path), keyspace="k")
    try:
        assert s.execute("SELECT b FROM t WHERE a = 1").one().b == ["x", "y"]
    finally:
        s.shutdown()


def test_trace_reports_the_storage_read(session):
    fill(session, 3)
    result = session.execute("SELECT * FROM history WHERE user = 'ann'", trace=True)
    trace = result.get_query_trace()
    assert trace["partitions_read"] >= 1 and trace["live_rows"] >= 3
    assert session.execute("SELECT * FROM history WHERE user = 'ann'").get_query_trace() is None


def test_threads_share_one_session(session):
    import threading

    insert = session.prepare("INSERT INTO history (user, viewed_at, post) VALUES (?, ?, ?)")
    counter = session.execute("CREATE TABLE hits (page text PRIMARY KEY, n counter)")
    assert counter.one() is None
    errors = []

    def work(worker: int) -> None:
        try:
            for i in range(100):
                session.execute(
                    insert,
                    [
                        f"w{worker}",
                        datetime.datetime(2024, 1, 1) + datetime.timedelta(seconds=i),
                        uuid.uuid4(),
                    ],
                )
                session.execute("UPDATE hits SET n = n + 1 WHERE page = 'home'")
                assert (
                    len(
                        session.execute(
                            "SELECT * FROM history WHERE user = %s LIMIT 5", [f"w{worker}"]
                        ).all()
                    )
                    <= 5
                )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert session.execute("SELECT count(*) FROM history").one().count == 400
    assert session.execute("SELECT n FROM hits WHERE page = 'home'").one().n == 400
