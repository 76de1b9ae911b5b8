import struct

import pytest
from cassandra import AlreadyExists, InvalidRequest
from cassandra.protocol import (
    AuthChallengeMessage,
    AuthenticateMessage,
    AuthSuccessMessage,
    EventMessage,
    PreparedQueryNotFound,
    ProtocolException,
    ReadyMessage,
    ResultMessage,
    ServerError,
    SupportedMessage,
    SyntaxException,
)

from stores.wide.protocol import format as fmt
from stores.wide.protocol.frames import encode_frame
from stores.wide.protocol.responses import (
    AuthChallenge,
    Authenticate,
    AuthSuccess,
    ColumnSpec,
    Error,
    PreparedResult,
    Ready,
    RowsMetadata,
    RowsResult,
    SchemaChange,
    SchemaChangeEvent,
    SchemaChangeResult,
    SetKeyspaceResult,
    Supported,
    VoidResult,
)
from stores.wide.protocol.type_options import parse_type
from tests.stores.wide.protocol.driver_codec import driver_decode


def through_driver(response, stream=1):
    return driver_decode(encode_frame(4, 0, stream, response.opcode, response.encode_body()))


def col(name, type_name, table="t"):
    return ColumnSpec("ks", table, name, parse_type(type_name))


def test_simple_responses():
    assert isinstance(through_driver(Ready()), ReadyMessage)
    auth = through_driver(Authenticate("org.apache.cassandra.auth.PasswordAuthenticator"))
    assert isinstance(auth, AuthenticateMessage)
    assert auth.authenticator == "org.apache.cassandra.auth.PasswordAuthenticator"
    assert isinstance(through_driver(AuthChallenge(b"c")), AuthChallengeMessage)
    assert isinstance(through_driver(AuthSuccess()), AuthSuccessMessage)
    supported = through_driver(Supported({"CQL_VERSION": ["3.4.7"], "COMPRESSION": []}))
    assert isinstance(supported, SupportedMessage)
    assert supported.cql_versions == ["3.4.7"]


def test_void_and_set_keyspace():
    assert through_driver(VoidResult()).kind == fmt.RESULT_VOID
    result = through_driver(SetKeyspaceResult("blog"))
    assert result.new_keyspace == "blog"


def test_rows_with_global_spec_and_paging_state():
    metadata = RowsMetadata([col("a", "int"), col("b", "text")], paging_state=b"\x07\x08")
    rows = [[struct.pack(">i", 1), b"one"], [struct.pack(">i", 2), None]]
    result = through_driver(RowsResult(metadata, rows))
    assert result.column_names == ["a", "b"]
    assert result.paging_state == b"\x07\x08"
    assert result.parsed_rows == [(1, "one"), (2, None)]
    assert result.column_metadata[0][:2] == ("ks", "t")


def test_rows_across_tables_use_per_column_specs():
    metadata = RowsMetadata([col("a", "int", "t1"), col("b", "int", "t2")])
    body = RowsResult(metadata, []).encode_body()
    flags = struct.unpack(">i", body[4:8])[0]
    assert not flags & fmt.METADATA_GLOBAL_TABLES_SPEC
    result = through_driver(RowsResult(metadata, []))
    assert [c[1] for c in result.column_metadata] == ["t1", "t2"]


def test_collection_tuple_and_custom_type_options():
    names = [
        "list<int>",
        "set<text>",
        "map<text, frozen<list<bigint>>>",
        "tuple<int, text, boolean>",
        "duration",
        "frozen<set<uuid>>",
    ]
    metadata = RowsMetadata([col(f"c{i}", n) for i, n in enumerate(names)])
    result = through_driver(RowsResult(metadata, []))
    typenames = [t.cql_parameterized_type() for t in result.column_types]
    assert typenames == [
        "list<int>",
        "set<varchar>",
        "map<varchar, list<bigint>>",
        "frozen<tuple<int, varchar, boolean>>",
        "duration",
        "set<uuid>",
    ]


def test_user_type_option():
    def resolve(keyspace, name):
        return [("street", "text"), ("zip", "int")] if name == "address" else None

    metadata = RowsMetadata(
        [ColumnSpec("ks", "t", "home", parse_type("frozen<address>", "ks", resolve))]
    )
    result = through_driver(RowsResult(metadata, []))
    udt = result.column_types[0]
    assert udt.typename == "address"
    assert udt.fieldnames == ("street", "zip")


def test_no_metadata_rows():
    metadata = RowsMetadata([col("a", "int")], no_metadata=True)
    body = RowsResult(metadata, [[b"\x00\x00\x00\x05"]]).encode_body()
    assert struct.unpack(">ii", body[4:12]) == (fmt.METADATA_NO_METADATA, 1)
    prepared_meta = [("ks", "t", "a", parse_type("int"))]
    from cassandra.cqltypes import Int32Type

    result = driver_decode(
        encode_frame(4, 0, 1, fmt.RESULT, body),
        result_metadata=[(m[0], m[1], m[2], Int32Type) for m in prepared_meta],
    )
    assert result.parsed_rows == [(5,)]


def test_prepared_result():
    prepared = PreparedResult(
        b"\x01" * 16,
        variables=[col("k", "text"), col("v", "int")],
        pk_indexes=[0],
        result_columns=[],
    )
    result = through_driver(prepared)
    assert result.query_id == b"\x01" * 16
    assert [m.name for m in result.bind_metadata] == ["k", "v"]
    assert result.pk_indexes == [0]
    assert not result.column_metadata

    select = PreparedResult(b"\x02", [], [], [col("a", "int"), col("b", "map<int, text>")])
    result = through_driver(select)
    assert result.bind_metadata == []
    assert [c[2] for c in result.column_metadata] == ["a", "b"]


@pytest.mark.parametrize(
    "change, expected",
    [
        (SchemaChange("CREATED", "KEYSPACE", "ks"), {"keyspace": "ks"}),
        (SchemaChange("DROPPED", "TABLE", "ks", "t"), {"keyspace": "ks", "table": "t"}),
        (
            SchemaChange("CREATED", "FUNCTION", "ks", "f", ("int",)),
            {"keyspace": "ks"},
        ),
    ],
)
def test_schema_change_result_and_event(change, expected):
    result = through_driver(SchemaChangeResult(change))
    event = result.schema_change_event
    for key, value in expected.items():
        assert event[key] == value
    assert event["change_type"] == change.change
    if change.target == "FUNCTION":
        assert (event["function"].name, event["function"].argument_types) == ("f", ["int"])
    pushed = through_driver(SchemaChangeEvent(change), stream=-1)
    assert isinstance(pushed, EventMessage)
    assert pushed.event_type == "SCHEMA_CHANGE"
    assert pushed.event_args["target_type"] == change.target


@pytest.mark.parametrize(
    "error, driver_class",
    [
        (Error(fmt.ERR_SERVER, "boom"), ServerError),
        (Error(fmt.ERR_PROTOCOL, "bad"), ProtocolException),
        (Error(fmt.ERR_SYNTAX, "line 1:0 no viable alternative"), SyntaxException),
        (Error(fmt.ERR_INVALID, "unknown column"), InvalidRequest),
        (Error(fmt.ERR_ALREADY_EXISTS, "exists", keyspace="ks", table="t"), AlreadyExists),
        (Error(fmt.ERR_UNPREPARED, "unknown", statement_id=b"\x09\x09"), PreparedQueryNotFound),
    ],
)
def test_errors_map_to_driver_classes(error, driver_class):
    message = through_driver(error)
    exc = message.to_exception()
    if isinstance(exc, AlreadyExists):
        assert (exc.keyspace, exc.table) == ("ks", "t")
    assert isinstance(message, driver_class) or isinstance(exc, driver_class)
    assert message.code == error.code
    if error.code == fmt.ERR_UNPREPARED:
        assert message.info == b"\x09\x09"


def test_rows_result_with_wrong_width_is_refused():
    with pytest.raises(ValueError):
        RowsResult(RowsMetadata([col("a", "int")]), [[b"1", b"2"]]).encode_body()


def test_result_message_is_driver_result():
    assert isinstance(through_driver(VoidResult()), ResultMessage)


@pytest.mark.parametrize("paging_state", [None, b"", b"\x01\x02"])
@pytest.mark.parametrize("no_metadata", [False, True])
@pytest.mark.parametrize("tables", [("t",), ("t", "u")])
def test_rows_metadata_from_encoded_specs_is_written_as_without(paging_state, no_metadata, tables):
    from stores.wide.protocol.primitives import BodyWriter
    from stores.wide.protocol.responses import encode_column_specs

    columns = [col("a", "int", tables[0]), col("b", "map<text, int>", tables[-1])]
    plain = RowsMetadata(columns, paging_state=paging_state, no_metadata=no_metadata)
    cached = RowsMetadata(
        columns,
        paging_state=paging_state,
        no_metadata=no_metadata,
        encoded=encode_column_specs(columns),
    )
    writer = BodyWriter()
    plain.write(writer)
    assert cached.encode() == plain.encode() == writer.getvalue()
    body = [[b"\x00\x00\x00\x01", None]]
    wire = RowsResult(
        cached,
        [(1, None)],
        wire_body=b"\x00\x00\x00\x04\x00\x00\x00\x01\xff\xff\xff\xff",
        row_count=1,
    )
    assert wire.encode_body() == RowsResult(plain, body).encode_body()
