import itertools
import struct

import pytest
from cassandra.cqltypes import Int32Type
from cassandra.cqltypes import ListType as DriverListType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stores.wide
from stores.wide.cql.results import (
    ColumnSpec,
    Rows,
    SchemaChange,
    SetKeyspace,
    StoredRows,
    Void,
)
from stores.wide.cql.types import parse_type
from stores.wide.protocol.cql_results import _result_serializer, to_response
from stores.wide.protocol.responses import (
    RowsMetadata,
    RowsResult,
    SchemaChangeResult,
    SetKeyspaceResult,
    VoidResult,
)


def test_null_elements_in_list_results_are_written_with_length_minus_one():
    serialize = _result_serializer(parse_type("list<int>"))
    raw = serialize([None, 5])
    assert raw == struct.pack(">ii", 2, -1) + struct.pack(">ii", 4, 5)
    assert DriverListType.apply_parameters([Int32Type]).deserialize(raw, 4) == [None, 5]
    assert serialize([1, 2]) == parse_type("list<int>").serialize([1, 2])


def test_each_result_kind():
    columns = [ColumnSpec("ks", "t", "a", parse_type("int"))]
    rows = to_response(Rows(columns, [(1,), (None,)]))
    assert isinstance(rows, RowsResult)
    body = rows.encode_body()
    assert body.endswith(struct.pack(">iii", 2, 4, 1) + struct.pack(">i", -1))
    assert isinstance(to_response(Void()), VoidResult)
    assert to_response(SetKeyspace("ks")) == SetKeyspaceResult("ks")
    change = to_response(SchemaChange("CREATED", "TABLE", "ks", "t"))
    assert isinstance(change, SchemaChangeResult) and change.change.name == "t"


_TABLE = (
    "CREATE TABLE ks.t (k int, c text, i int, b bigint, s text, a ascii, x blob, d double,"
    " f frozen<list<int>>, st int static, PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)"
)
_PLAIN = "SELECT k, c, i, b, s, a, x, d, st FROM ks.t WHERE k = ? LIMIT ?"
_ROW = st.fixed_dictionaries(
    {
        "c": st.text(max_size=4),
        "i": st.none() | st.integers(-(2**31), 2**31 - 1),
        "b": st.none() | st.integers(-(2**63), 2**63 - 1),
        "s": st.none() | st.text(max_size=5),
        "a": st.none() | st.text("abc", max_size=3),
        "x": st.none() | st.binary(max_size=4),
        "d": st.none() | st.floats(allow_nan=False),
        "f": st.none() | st.lists(st.integers(-5, 5), max_size=3),
    }
)


@pytest.fixture(scope="module")
def wide_session():
    session = stores.wide.connect("memory:")
    session.execute(
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    session.execute(_TABLE)
    yield session
    session.shutdown()


_partitions = itertools.count()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(_ROW, max_size=6),
    static=st.none() | st.integers(0, 9),
    limit=st.integers(1, 8),
    page_size=st.none() | st.integers(1, 4),
)
def test_stored_rows_write_the_bytes_the_general_path_writes(
    wide_session, rows, static, limit, page_size
):
    k = next(_partitions)
    executor = wide_session.executor
    insert = executor.prepare(
        "INSERT INTO ks.t (k, c, i, b, s, a, x, d, f) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", None
    )
    for row in rows:
        executor.execute(insert, [k, *(row[n] for n in "cibsaxdf")], keyspace=None)
    if static is not None:
        wide_session.execute(f"INSERT INTO ks.t (k, st) VALUES ({k}, {static})")
    for text, stored in (
        (_PLAIN, True),
        ("SELECT i, s, k FROM ks.t WHERE k = ? LIMIT ?", True),
        (_PLAIN.replace("st FROM", "st, f FROM"), False),
    ):
        prepared = executor.prepare(text, None)

        def run(prepared=prepared):
            return executor.execute(prepared, [k, limit], keyspace=None, page_size=page_size)

        fast = run()
        if rows:
            assert isinstance(fast, StoredRows) is stored
        fast_body = to_response(fast).encode_body()
        general = run()
        values = list(general.rows)
        general_body = to_response(
            Rows(general.columns, values, general.paging_state)
        ).encode_body()
        assert fast_body == general_body
        assert fast == Rows(general.columns, values, general.paging_state)


def test_result_metadata_is_encoded_once_per_columns_and_written_the_same():
    columns = [
        ColumnSpec("ks", "t", "a", parse_type("int")),
        ColumnSpec("ks", "t", "b", parse_type("map<text, frozen<list<int>>>")),
    ]
    first = to_response(Rows(columns, [(1, {"x": [2]})], b"\x01"))
    again = to_response(Rows(list(columns), [(1, {"x": [2]})], b"\x01"))
    assert again.metadata.encoded is first.metadata.encoded
    fresh = RowsResult(
        RowsMetadata(first.metadata.columns, paging_state=b"\x01"), first.rows, first.serializers
    )
    assert first.encode_body() == again.encode_body() == fresh.encode_body()
    other_tables = [columns[0], ColumnSpec("ks", "u", "c", parse_type("text"))]
    mixed = to_response(Rows(other_tables, [(1, "z")]))
    plain = RowsResult(RowsMetadata(mixed.metadata.columns), mixed.rows, mixed.serializers)
    assert mixed.encode_body() == plain.encode_body()
    skipped = to_response(Rows(columns, [(1, None)]), skip_metadata=True)
    assert (
        skipped.encode_body()
        == RowsResult(
            RowsMetadata(skipped.metadata.columns, no_metadata=True),
            skipped.rows,
            skipped.serializers,
        ).encode_body()
    )
