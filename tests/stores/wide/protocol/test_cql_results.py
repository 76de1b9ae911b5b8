import struct

from cassandra.cqltypes import Int32Type
from cassandra.cqltypes import ListType as DriverListType

from stores.wide.cql.results import ColumnSpec, Rows, SchemaChange, SetKeyspace, Void
from stores.wide.cql.types import parse_type
from stores.wide.protocol.cql_results import _result_serializer, to_response
from stores.wide.protocol.responses import (
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
