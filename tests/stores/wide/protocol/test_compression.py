import struct
import zlib

import pytest
from cassandra.protocol import OptionsMessage, QueryMessage, StartupMessage

from stores.wide.protocol import format as fmt
from stores.wide.protocol.compression import Compression, available_compressions
from stores.wide.protocol.connection import RequestReceived, ServerConnection, ViolationDetected
from stores.wide.protocol.responses import Ready, Supported
from tests.stores.wide.protocol.driver_codec import driver_decode, driver_frame

# A stand-in algorithm so the compression path is tested even where neither
# lz4 nor python-snappy is installed.
ZLIB = Compression("zlib", zlib.compress, lambda body, limit: zlib.decompress(body, bufsize=64))

ALGORITHMS = [ZLIB, *available_compressions().values()]


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
def test_compression_is_negotiated_in_startup(algorithm):
    connection = ServerConnection(compressions={algorithm.name: algorithm})
    connection.receive_data(driver_frame(StartupMessage("3.4.7", {"COMPRESSION": algorithm.name})))
    event = connection.next_event()
    assert isinstance(event, RequestReceived)
    ready = connection.encode(1, Ready())
    assert not ready[1] & fmt.FLAG_COMPRESSION
    connection.start_compression()

    query = QueryMessage("SELECT * FROM t", 1)
    connection.receive_data(driver_frame(query, compressor=algorithm.compress))
    event = connection.next_event()
    assert event.message.query == "SELECT * FROM t"

    options = {"CQL_VERSION": ["3.4.7"], "COMPRESSION": ["x" * 1000]}
    frame = connection.encode(2, Supported(options))
    assert frame[1] & fmt.FLAG_COMPRESSION
    decoded = driver_decode(frame, decompressor=lambda body: algorithm.decompress(body, 2**20))
    assert decoded.options["COMPRESSION"] == ["x" * 1000]
    assert decoded.cql_versions == ["3.4.7"]

    # A short body goes uncompressed, its frame flag says so, and the
    # driver reads it as it is.
    small = connection.encode(3, Supported({"CQL_VERSION": ["3.4.7"]}))
    assert not small[1] & fmt.FLAG_COMPRESSION
    assert driver_decode(small).cql_versions == ["3.4.7"]


def test_unknown_compression_is_a_protocol_error():
    connection = ServerConnection(compressions={})
    connection.receive_data(driver_frame(StartupMessage("3.4.7", {"COMPRESSION": "lz4"})))
    event = connection.next_event()
    assert isinstance(event, ViolationDetected)
    assert "Unknown compression algorithm" in event.violation.message
    assert not event.violation.fatal


def test_compressed_frame_without_negotiation_is_refused():
    connection = ServerConnection(compressions={})
    connection.receive_data(driver_frame(OptionsMessage(), compressor=lambda b: b"zz" + b))
    event = connection.next_event()
    assert isinstance(event, RequestReceived)  # an empty body is never compressed
    frame = driver_frame(QueryMessage("x", 1))
    flagged = frame[:1] + bytes([frame[1] | fmt.FLAG_COMPRESSION]) + frame[2:]
    connection.receive_data(flagged)
    event = connection.next_event()
    assert isinstance(event, ViolationDetected)
    assert "compressed" in event.violation.message


def test_lz4_length_prefix_is_checked_against_the_cap():
    algorithm = available_compressions().get("lz4")
    if algorithm is None:
        from stores.wide.protocol.compression import _lz4

        assert _lz4() is None
        return
    body = struct.pack(">i", 2**30) + b"\x00"
    from stores.wide.protocol.errors import ProtocolViolation

    with pytest.raises(ProtocolViolation):
        algorithm.decompress(body, 1024)
    assert algorithm.decompress(algorithm.compress(b"abc" * 100), 1024) == b"abc" * 100
