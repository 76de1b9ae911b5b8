import pytest

import stores.wide
from stores.wide.cql.errors import InvalidRequest, SyntaxException, Unprepared
from stores.wide.cql.types import INT, TEXT
from stores.wide.protocol import format as fmt
from stores.wide.protocol.cql_backend import CQLBackend
from stores.wide.protocol.primitives import UNSET
from stores.wide.protocol.requests import Batch, BatchChild, QueryParameters
from stores.wide.protocol.responses import (
    PreparedResult,
    RowsResult,
    SchemaChangeResult,
    SetKeyspaceResult,
    VoidResult,
)


@pytest.fixture
def backend():
    session = stores.wide.connect("memory:")
    backend = CQLBackend(session.executor)
    backend.query(
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
        QueryParameters(),
        None,
    )
    backend.query(
        "CREATE TABLE ks.t (k int, c int, v text, PRIMARY KEY (k, c))", QueryParameters(), None
    )
    yield backend
    session.shutdown()


def rows(backend, text, keyspace="ks", **params):
    result = backend.query(text, QueryParameters(**params), keyspace)
    assert isinstance(result, RowsResult)
    return [[None if v is None else v for v in row] for row in result.rows], result


def test_results_of_each_kind(backend):
    assert isinstance(backend.query("USE ks", QueryParameters(), None), SetKeyspaceResult)
    change = backend.query("CREATE TABLE ks.u (k int PRIMARY KEY)", QueryParameters(), None)
    assert isinstance(change, SchemaChangeResult)
    assert (change.change.target, change.change.name) == ("TABLE", "u")
    assert isinstance(
        backend.query("INSERT INTO t (k, c) VALUES (1, 1)", QueryParameters(), "ks"), VoidResult
    )


def test_named_values_bind_by_marker_name(backend):
    backend.query(
        "INSERT INTO t (k, c, v) VALUES (:k, :c, :v)",
        QueryParameters(
            values=[TEXT.serialize("x"), INT.serialize(2), INT.serialize(1)], names=["v", "c", "k"]
        ),
        "ks",
    )
    found, _ = rows(backend, "SELECT k, c, v FROM t")
    assert found == [[1, 2, "x"]]


def test_unset_leaves_the_column_alone(backend):
    backend.query("INSERT INTO t (k, c, v) VALUES (1, 1, 'keep')", QueryParameters(), "ks")
    backend.query(
        "INSERT INTO t (k, c, v) VALUES (?, ?, ?)",
        QueryParameters(values=[INT.serialize(1), INT.serialize(1), UNSET]),
        "ks",
    )
    found, _ = rows(backend, "SELECT v FROM t")
    assert found == [["keep"]]


def test_prepare_execute_paging_and_skip_metadata(backend):
    for c in range(5):
        backend.query(f"INSERT INTO t (k, c, v) VALUES (1, {c}, 'v{c}')", QueryParameters(), "ks")
    prepared = backend.prepare("SELECT c FROM t WHERE k = ?", "ks")
    assert isinstance(prepared, PreparedResult)
    assert prepared.pk_indexes == [0]
    assert [c.name for c in prepared.result_columns] == ["c"]
    params = QueryParameters(values=[INT.serialize(1)], page_size=2, skip_metadata=True)
    first = backend.execute(prepared.statement_id, params, None)
    assert first.metadata.no_metadata and first.metadata.paging_state is not None
    assert [r[0] for r in first.rows] == [0, 1]
    params.paging_state = first.metadata.paging_state
    second = backend.execute(prepared.statement_id, params, None)
    assert [r[0] for r in second.rows] == [2, 3]


def test_unknown_ids_and_errors_are_raised_with_codes(backend):
    with pytest.raises(Unprepared) as info:
        backend.execute(b"\x00" * 16, QueryParameters(), "ks")
    assert info.value.code == fmt.ERR_UNPREPARED and info.value.statement_id == b"\x00" * 16
    with pytest.raises(SyntaxException):
        backend.query("SELEC 1", QueryParameters(), "ks")
    with pytest.raises(InvalidRequest):
        backend.query("INSERT INTO t (k, c) VALUES (?, ?)", QueryParameters(values=[b"\x01"]), "ks")


def test_batch_mixes_text_and_prepared_children(backend):
    prepared = backend.prepare("INSERT INTO t (k, c, v) VALUES (?, ?, ?)", "ks")
    batch = Batch(
        fmt.BATCH_LOGGED,
        [
            BatchChild(
                None,
                prepared.statement_id,
                [INT.serialize(2), INT.serialize(1), TEXT.serialize("p")],
            ),
            BatchChild("INSERT INTO t (k, c, v) VALUES (2, 2, 'q')", None, []),
        ],
    )
    assert isinstance(backend.batch(batch, "ks"), VoidResult)
    found, _ = rows(backend, "SELECT v FROM t WHERE k = 2")
    assert found == [["p"], ["q"]]
    with pytest.raises(Unprepared):
        backend.batch(Batch(fmt.BATCH_LOGGED, [BatchChild(None, b"nope", [])]), "ks")


def test_execute_if_quick_answers_quick_statements_as_execute_does(backend):
    for c in range(6):
        backend.query(f"INSERT INTO t (k, c, v) VALUES (3, {c}, 'v{c}')", QueryParameters(), "ks")
    newest = backend.prepare("SELECT c, v FROM t WHERE k = ? LIMIT ?", "ks").statement_id
    insert = backend.prepare("INSERT INTO t (k, c, v) VALUES (?, ?, ?)", "ks").statement_id
    scan = backend.prepare("SELECT c FROM t", "ks").statement_id
    lwt = backend.prepare("INSERT INTO t (k, c) VALUES (?, ?) IF NOT EXISTS", "ks").statement_id
    for values, page_size, skip in (
        ([INT.serialize(3), INT.serialize(4)], 5000, False),
        ([INT.serialize(3), INT.serialize(5)], 2, True),
        ([INT.serialize(3), UNSET], 4, False),
        ([INT.serialize(9), INT.serialize(4)], None, False),
    ):

        def params(values=values, page_size=page_size, skip=skip):
            return QueryParameters(values=values, page_size=page_size, skip_metadata=skip)

        quick = backend.execute_if_quick(newest, params(), None)
        assert quick.encode_body() == backend.execute(newest, params(), None).encode_body()
    assert backend.execute_if_quick(scan, QueryParameters(page_size=10), None) is None
    assert backend.execute_if_quick(lwt, QueryParameters(values=[b"", b""]), None) is None
    write = QueryParameters(values=[INT.serialize(4), INT.serialize(1), TEXT.serialize("w")])
    assert isinstance(backend.execute_if_quick(insert, write, None), VoidResult)
    found, _ = rows(backend, "SELECT v FROM t WHERE k = 4")
    assert found == [["w"]]
    with pytest.raises(Unprepared):
        backend.execute_if_quick(b"\x01" * 16, QueryParameters(), "ks")
    with pytest.raises(InvalidRequest):
        backend.execute_if_quick(newest, QueryParameters(values=[INT.serialize(3)]), None)
