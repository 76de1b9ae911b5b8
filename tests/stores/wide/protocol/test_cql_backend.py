import pytest

import stores.wide
from stores.wide.cql.errors import InvalidRequest, SyntaxException, Unprepared
from stores.wide.cql.types import INT, TEXT
from stores.wide.protocol import format as fmt
from stores.wide.protocol.cql_backend import CQLBackend
from stores.wide.protocol.primitives import UNSET
from stores.wide.protocol.requests import Batch, BatchChild, QueryParameters
from stores.wide.protocol.responses import (
    EncodedResult,
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


def _outcome(run):
    try:
        return ("ok", run().encode_body())
    except Exception as exc:  # the CQL layer's errors carry their protocol code
        return ("error", type(exc), str(exc))


def test_quick_point_reads_are_written_directly_as_execute_writes_them(backend):
    """A quick one-partition SELECT's first page skips the Rows objects, same bytes."""
    backend.query(
        "CREATE TABLE ks.d (k text, c bigint, v int, b blob, s int static, "
        "PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)",
        QueryParameters(),
        None,
    )
    backend.query(
        "CREATE TABLE ks.l (k int, c int, l list<int>, PRIMARY KEY (k, c))", QueryParameters(), None
    )
    for c in range(7):
        v = "null" if c == 3 else str(c * 10)
        backend.query(
            f"INSERT INTO ks.d (k, c, v, b, s) VALUES ('a', {c}, {v}, 0x0{c}, 5)",
            QueryParameters(),
            None,
        )
        backend.query(f"INSERT INTO ks.l (k, c, l) VALUES (1, {c}, [{c}])", QueryParameters(), None)
    texts = [
        "SELECT c, v FROM ks.d WHERE k = ? LIMIT ?",
        "SELECT * FROM ks.d WHERE k = ? LIMIT ?",
        "SELECT k, s, b FROM ks.d WHERE k = ? AND c < ? LIMIT ?",
    ]
    text_value = TEXT.serialize
    bigint = stores.wide.cql.types.BIGINT.serialize
    cases = [
        [text_value("a"), INT.serialize(20)],
        [text_value("a"), INT.serialize(3)],
        [text_value("a"), UNSET],
        [text_value("zz"), INT.serialize(3)],
        [text_value("a"), INT.serialize(0)],
        [text_value("a"), None],
        [None, INT.serialize(3)],
        [UNSET, INT.serialize(3)],
        [b"\xff\xfe", INT.serialize(3)],
        [text_value("a"), b"\x00"],
        [text_value("a")],
    ]
    for text in texts:
        statement = backend.prepare(text, None).statement_id
        for values in cases:
            if text.count("?") == 3 and len(values) == 2:
                values = [values[0], bigint(5), values[1]]
            for page_size in (None, 2, 5000):
                for skip in (False, True):

                    def params(values=values, page_size=page_size, skip=skip):
                        return QueryParameters(
                            values=list(values), page_size=page_size, skip_metadata=skip
                        )

                    quick = _outcome(
                        lambda s=statement: backend.execute_if_quick(s, params(), None)
                    )
                    general = _outcome(lambda s=statement: backend.execute(s, params(), None))
                    assert quick == general, (text, values, page_size, skip)
    newest = backend.prepare(texts[0], None).statement_id
    quick = backend.execute_if_quick(
        newest, QueryParameters(values=[text_value("a"), INT.serialize(5)]), None
    )
    assert isinstance(quick, EncodedResult)
    # Named values, a list column (no cells from stored bytes) and a paging
    # state take the general way, with the same answers.
    named = QueryParameters(values=[INT.serialize(2), text_value("a")], names=["[limit]", "k"])
    assert (
        backend.execute_if_quick(newest, named, None).encode_body()
        == backend.execute(newest, named, None).encode_body()
    )
    lists = backend.prepare("SELECT c, l FROM ks.l WHERE k = ? LIMIT 4", None).statement_id
    listed = QueryParameters(values=[INT.serialize(1)], page_size=3)
    answer = backend.execute_if_quick(lists, listed, None)
    assert isinstance(answer, RowsResult)
    assert answer.encode_body() == backend.execute(lists, listed, None).encode_body()
    paged = backend.execute(
        newest, QueryParameters(values=[text_value("a"), UNSET], page_size=2), None
    )
    state = paged.metadata.paging_state
    assert state is not None
    more = QueryParameters(values=[text_value("a"), UNSET], page_size=2, paging_state=state)
    assert (
        backend.execute_if_quick(newest, more, None).encode_body()
        == backend.execute(newest, more, None).encode_body()
    )


def test_quick_point_reads_follow_schema_changes(backend):
    backend.query("INSERT INTO ks.t (k, c, v) VALUES (1, 1, 'x')", QueryParameters(), None)
    newest = backend.prepare("SELECT * FROM ks.t WHERE k = ? LIMIT 3", None).statement_id
    params = QueryParameters(values=[INT.serialize(1)])
    before = backend.execute_if_quick(newest, params, None).encode_body()
    backend.query("ALTER TABLE ks.t ADD w int", QueryParameters(), None)
    after = backend.execute_if_quick(newest, params, None)
    assert after.encode_body() == backend.execute(newest, params, None).encode_body()
    assert after.encode_body() != before
    backend.query("DROP TABLE ks.t", QueryParameters(), None)
    with pytest.raises(InvalidRequest):
        backend.execute_if_quick(newest, params, None)
