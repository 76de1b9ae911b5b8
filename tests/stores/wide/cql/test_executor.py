"""The lower-level executor API the native protocol server uses."""

from __future__ import annotations

import pytest

from stores.wide.cql.errors import InvalidRequest, SyntaxException
from stores.wide.cql.executor import Executor
from stores.wide.cql.results import UNSET, PagingState, Rows, SchemaChange, SetKeyspace, Void
from stores.wide.cql.types import INT, TEXT
from stores.wide.storage import StorageEngine


@pytest.fixture
def executor():
    engine = StorageEngine.open(None)
    ex = Executor(engine)
    ex.execute_query(
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    yield ex
    ex.close()
    engine.close()


def test_results_kinds(executor):
    assert isinstance(executor.execute_query("USE ks"), SetKeyspace)
    change = executor.execute_query(
        "CREATE TABLE t (k int, c int, v text, PRIMARY KEY (k, c))", keyspace="ks"
    )
    assert change == SchemaChange("CREATED", "TABLE", "ks", "t")
    assert isinstance(executor.execute_query("INSERT INTO ks.t (k, c, v) VALUES (1, 1, 'a')"), Void)


def test_prepared_metadata_and_serialized_values(executor):
    executor.execute_query("CREATE TABLE ks.t (k int, c int, v text, PRIMARY KEY (k, c))")
    insert = executor.prepare("INSERT INTO t (k, c, v) VALUES (?, ?, :v)", "ks")
    assert [(s.keyspace, s.table, s.name, s.cql_type) for s in insert.bind_specs] == [
        ("ks", "t", "k", INT),
        ("ks", "t", "c", INT),
        ("ks", "t", "v", TEXT),
    ]
    assert insert.pk_indexes == [0]
    assert insert.result_columns is None
    for c in range(5):
        executor.execute(
            insert, [INT.serialize(1), INT.serialize(c), TEXT.serialize(f"v{c}")], serialized=True
        )
    executor.execute(insert, [INT.serialize(1), INT.serialize(0), UNSET], serialized=True)
    select = executor.prepare("SELECT c, v FROM ks.t WHERE k = ?")
    assert [c.name for c in select.result_columns] == ["c", "v"]
    page = executor.execute(select, [INT.serialize(1)], serialized=True, page_size=3)
    assert isinstance(page, Rows) and page.paging_state is not None
    assert page.serialized_rows()[0] == [INT.serialize(0), TEXT.serialize("v0")]
    rest = executor.execute(
        select, [INT.serialize(1)], serialized=True, page_size=3, paging_state=page.paging_state
    )
    assert [r[0] for r in rest.rows] == [3, 4] and rest.paging_state is None
    assert executor.prepared_by_id(select.id) is select


def test_bad_serialized_values_are_invalid_requests(executor):
    executor.execute_query("CREATE TABLE ks.t (k int PRIMARY KEY)")
    select = executor.prepare("SELECT * FROM ks.t WHERE k = ?")
    with pytest.raises(InvalidRequest):
        executor.execute(select, [b"\x00\x01"], serialized=True)
    with pytest.raises(InvalidRequest):
        executor.execute(select, [], serialized=True)


def test_errors_are_raised_at_prepare(executor):
    with pytest.raises(SyntaxException):
        executor.prepare("SELEC")
    with pytest.raises(InvalidRequest, match="table nope does not exist"):
        executor.prepare("SELECT * FROM ks.nope")


def test_paging_state_codec_rejects_garbage():
    state = PagingState(b"pk", b"ck", 5, 2, 0)
    assert PagingState.decode(state.encode()) == state
    for garbage in (b"", b"\x01", b"\x02" + state.encode()[1:], state.encode() + b"x"):
        with pytest.raises(Exception) as info:
            PagingState.decode(garbage)
        assert type(info.value).__name__ == "ProtocolError"


def test_schema_version_changes_on_every_schema_change(executor):
    versions = {executor.schema_version}
    executor.execute_query("CREATE TABLE ks.a (k int PRIMARY KEY)")
    versions.add(executor.schema_version)
    executor.execute_query("ALTER TABLE ks.a ADD v int")
    versions.add(executor.schema_version)
    executor.execute_query("DROP TABLE ks.a")
    versions.add(executor.schema_version)
    assert len(versions) == 4
    local = executor.execute_query("SELECT schema_version FROM system.local")
    assert local.rows[0][0] == executor.schema_version


CQL_WORDS = (
    "SELECT INSERT UPDATE DELETE FROM WHERE AND IN INTO VALUES SET IF EXISTS NOT CREATE TABLE "
    "KEYSPACE DROP ALTER ADD WITH PRIMARY KEY LIMIT ORDER BY BEGIN APPLY BATCH USING TTL "
    "TIMESTAMP token count ks.t t k v ( ) , ; = < > ? :n * [ ] { } : 1 -1 1.5 'x' 0xff "
    "null true list<int> map<text,int> frozen< > CONTAINS ALLOW FILTERING DISTINCT JSON"
).split()


def test_random_statements_only_raise_cql_errors(executor):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from stores.wide.cql.errors import CQLError

    executor.execute_query("CREATE TABLE ks.t (k int, c int, v int, PRIMARY KEY (k, c))")

    @settings(max_examples=200, deadline=None)
    @given(
        st.one_of(
            st.lists(st.sampled_from(CQL_WORDS), max_size=14).map(" ".join), st.text(max_size=40)
        )
    )
    def check(query):
        try:
            prepared = executor.prepare(query, "ks")
            executor.execute(
                prepared, [None] * len(prepared.bind_specs), keyspace="ks", page_size=10
            )
        except CQLError:
            pass

    check()


def test_quick_statements(executor):
    executor.execute_query("CREATE TABLE ks.q (k int, c int, v int, PRIMARY KEY (k, c))")
    executor.execute_query("CREATE TABLE ks.n (k int PRIMARY KEY, n counter)")
    executor.execute_query("CREATE TABLE ks.l (k int PRIMARY KEY, xs list<int>)")

    def quick(text, page_size=5000):
        return executor.is_quick(executor.prepare(text, "ks"), page_size)

    assert quick("INSERT INTO q (k, c, v) VALUES (?, ?, ?)")
    assert quick("UPDATE q SET v = ? WHERE k = ? AND c = ?")
    assert quick("DELETE FROM q WHERE k = ?")
    assert quick("SELECT c, v FROM q WHERE k = ? LIMIT 20")
    assert quick("SELECT * FROM q WHERE k = ? AND c > ?")
    assert quick("SELECT * FROM q WHERE k = ? LIMIT 3", page_size=None)
    assert not quick("SELECT * FROM q WHERE k = ?", page_size=None)  # unbounded
    assert not quick("INSERT INTO q (k, c, v) VALUES (?, ?, ?) IF NOT EXISTS")
    assert not quick("UPDATE n SET n = n + 1 WHERE k = ?")
    assert not quick("UPDATE l SET xs[0] = ? WHERE k = ?")  # reads the list first
    assert not quick("SELECT * FROM q")
    assert not quick("SELECT * FROM q WHERE k IN (1, 2)")
    assert not quick("SELECT count(*) FROM q WHERE k = ?")
    assert not quick("SELECT * FROM q WHERE k = ? AND v = 1 ALLOW FILTERING")
    assert not quick("SELECT * FROM system.local")
    assert not quick("CREATE TABLE IF NOT EXISTS q2 (k int PRIMARY KEY)")
    assert not quick("BEGIN BATCH INSERT INTO q (k, c, v) VALUES (1, 1, 1) APPLY BATCH")
    # A statement whose table is gone answers with an error: quick.
    dropped = executor.prepare("SELECT * FROM q WHERE k = ?", "ks")
    executor.execute_query("DROP TABLE ks.q")
    assert executor.is_quick(dropped, 10)


def test_writes_are_not_quick_when_they_wait_for_an_fsync(tmp_path):
    engine = StorageEngine.open(str(tmp_path / "data"), commitlog_sync="batch")
    ex = Executor(engine)
    try:
        ex.execute_query(
            "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', "
            "'replication_factor': 1}"
        )
        ex.execute_query("CREATE TABLE ks.q (k int PRIMARY KEY, v int)")
        assert not ex.is_quick(ex.prepare("INSERT INTO ks.q (k, v) VALUES (?, ?)"), None)
        assert ex.is_quick(ex.prepare("SELECT v FROM ks.q WHERE k = ?"), 100)
    finally:
        ex.close()
        engine.close()
