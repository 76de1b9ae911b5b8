import pytest
from cassandra.protocol import (
    AuthResponseMessage,
    BatchMessage,
    ExecuteMessage,
    OptionsMessage,
    PrepareMessage,
    QueryMessage,
    RegisterMessage,
    StartupMessage,
)
from cassandra.query import BatchType

from stores.wide.protocol import format as fmt
from stores.wide.protocol.errors import ProtocolViolation
from stores.wide.protocol.frames import FrameDecoder
from stores.wide.protocol.primitives import UNSET, BodyWriter
from stores.wide.protocol.requests import (
    AuthResponse,
    Batch,
    Execute,
    Options,
    Prepare,
    Query,
    Register,
    Startup,
    decode_request,
)
from tests.stores.wide.protocol.driver_codec import driver_frame


def decode(message):
    decoder = FrameDecoder()
    decoder.feed(driver_frame(message))
    frame = decoder.next_frame()
    return decode_request(frame.opcode, frame.body)


def test_startup_and_options():
    startup = decode(StartupMessage("3.4.7", {"DRIVER_NAME": "x", "COMPRESSION": "lz4"}))
    assert startup == Startup({"CQL_VERSION": "3.4.7", "DRIVER_NAME": "x", "COMPRESSION": "lz4"})
    assert decode(OptionsMessage()) == Options()


def test_query_with_every_parameter():
    message = QueryMessage(
        "SELECT * FROM t",
        consistency_level=fmt.CONSISTENCY_QUORUM,
        serial_consistency_level=fmt.CONSISTENCY_LOCAL_SERIAL,
        fetch_size=50,
        paging_state=b"\x01\x02",
        timestamp=1234567890123,
    )
    message.query_params = [b"\x00\x00\x00\x01", None]
    query = decode(message)
    assert isinstance(query, Query)
    assert query.query == "SELECT * FROM t"
    p = query.parameters
    assert p.consistency == fmt.CONSISTENCY_QUORUM
    assert p.values == [b"\x00\x00\x00\x01", None]
    assert p.page_size == 50
    assert p.paging_state == b"\x01\x02"
    assert p.serial_consistency == fmt.CONSISTENCY_LOCAL_SERIAL
    assert p.timestamp == 1234567890123
    assert p.names is None and not p.skip_metadata


def test_query_without_parameters():
    query = decode(QueryMessage("USE ks", fmt.CONSISTENCY_ONE))
    assert query.parameters.values is None
    assert query.parameters.page_size is None


def test_named_values_skip_metadata_and_unset():
    body = BodyWriter().write_long_string("INSERT ...").write_consistency(1)
    body.write_byte(fmt.QUERY_VALUES | fmt.QUERY_NAMES_FOR_VALUES | fmt.QUERY_SKIP_METADATA)
    body.write_short(2).write_string("a").write_value(b"x").write_string("b").write_value(UNSET)
    query = decode_request(fmt.QUERY, body.getvalue())
    assert query.parameters.names == ["a", "b"]
    assert query.parameters.values == [b"x", UNSET]
    assert query.parameters.skip_metadata


def test_prepare_execute_register_auth():
    assert decode(PrepareMessage("SELECT ?")) == Prepare("SELECT ?")
    execute = decode(ExecuteMessage(b"\xaa\xbb", [b"1"], 1, fetch_size=10, skip_meta=False))
    assert isinstance(execute, Execute)
    assert execute.query_id == b"\xaa\xbb"
    assert execute.parameters.values == [b"1"]
    assert execute.parameters.page_size == 10
    assert decode(RegisterMessage(["SCHEMA_CHANGE", "STATUS_CHANGE"])) == Register(
        ["SCHEMA_CHANGE", "STATUS_CHANGE"]
    )
    assert decode(AuthResponseMessage(b"\x00u\x00p")) == AuthResponse(b"\x00u\x00p")


def test_batch_with_queries_and_prepared_ids():
    message = BatchMessage(
        BatchType.UNLOGGED,
        [(False, "INSERT INTO t (a) VALUES (1)", []), (True, b"\x01\x02", [b"v", None])],
        fmt.CONSISTENCY_ONE,
        serial_consistency_level=fmt.CONSISTENCY_SERIAL,
        timestamp=42,
    )
    batch = decode(message)
    assert isinstance(batch, Batch)
    assert batch.batch_type == fmt.BATCH_UNLOGGED
    assert batch.statements[0].query == "INSERT INTO t (a) VALUES (1)"
    assert batch.statements[1].query_id == b"\x01\x02"
    assert batch.statements[1].values == [b"v", None]
    assert batch.serial_consistency == fmt.CONSISTENCY_SERIAL
    assert batch.timestamp == 42


@pytest.mark.parametrize(
    "opcode, body",
    [
        (0x42, b""),
        (fmt.RESULT, b"\x00\x00\x00\x01"),
        (fmt.QUERY, b"\x00\x00\x00\x10SEL"),
        (fmt.QUERY, b"\x00\x00\x00\x01X\x00\x01\x01\x00\x01\xff\xff\xff\xf0"),
        (fmt.REGISTER, b"\x00\x01\x00\x03FOO"),
        (fmt.BATCH, b"\x07\x00\x00\x00\x01\x00"),
        (fmt.BATCH, b"\x00\x00\x01\x05"),
        (fmt.STARTUP, b"\x00\x00trailing"),
        (fmt.EXECUTE, b"\x00\x05ab"),
    ],
)
def test_malformed_bodies(opcode, body):
    with pytest.raises(ProtocolViolation) as info:
        decode_request(opcode, body)
    assert not info.value.fatal
