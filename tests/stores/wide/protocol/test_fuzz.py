"""Hypothesis fuzz of the sans-I/O decoders: only ProtocolViolation escapes."""

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stores.wide.protocol import format as fmt
from stores.wide.protocol.connection import ServerConnection, ViolationDetected
from stores.wide.protocol.errors import ProtocolViolation
from stores.wide.protocol.frames import FrameDecoder
from stores.wide.protocol.requests import decode_request

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

opcodes = st.sampled_from(sorted(fmt.OPCODE_NAMES) + [0x11, 0x42, 0xFF])


@st.composite
def plausible_frames(draw):
    """Frames with a valid v4 header around random (often wrong) bodies."""
    body = draw(st.binary(max_size=200))
    opcode = draw(opcodes)
    flags = draw(st.integers(0, 255))
    stream = draw(st.integers(-(2**15), 2**15 - 1))
    return struct.pack(">BBhBi", 4, flags, stream, opcode, len(body)) + body


stream_bytes = st.lists(st.one_of(st.binary(max_size=64), plausible_frames()), max_size=12).map(
    b"".join
)


@FUZZ
@given(stream_bytes, st.lists(st.integers(1, 50), min_size=1, max_size=8))
def test_frame_decoder_never_raises_anything_else(data, cuts):
    decoder = FrameDecoder(max_frame_length=4096)
    pos = 0
    for cut in cuts * (len(data) // max(sum(cuts), 1) + 1):
        if pos >= len(data):
            break
        decoder.feed(data[pos : pos + cut])
        pos += cut
        try:
            while decoder.next_frame() is not None:
                pass
        except ProtocolViolation:
            return
        assert decoder.buffered <= 4096 + 9 + cut


@FUZZ
@given(opcodes, st.binary(max_size=300))
def test_request_decoder_only_raises_protocol_violation(opcode, body):
    try:
        decode_request(opcode, body)
    except ProtocolViolation as violation:
        assert violation.message


@FUZZ
@given(stream_bytes)
def test_connection_turns_any_bytes_into_events(data):
    connection = ServerConnection(max_frame_length=4096, compressions={})
    connection.receive_data(data)
    for _ in range(len(data) + 1):
        event = connection.next_event()
        if event is None:
            break
        if isinstance(event, ViolationDetected):
            frame = connection.encode_violation(event.violation)
            assert frame[4] == fmt.ERROR
    assert connection.buffered <= len(data)


def _general_execute(body: bytes):
    """Decode an EXECUTE body with the general reader only."""
    from stores.wide.protocol.primitives import BodyReader
    from stores.wide.protocol.requests import _decode_execute

    reader = BodyReader(body)
    message = _decode_execute(reader)
    reader.expect_end("EXECUTE")
    return message


def _outcome(decode, body):
    try:
        return ("message", decode(body))
    except ProtocolViolation:
        return ("violation", None)


values = st.lists(st.none() | st.binary(max_size=12) | st.just("unset"), max_size=5)


@st.composite
def execute_bodies(draw):
    """EXECUTE bodies built the way a driver does, with every optional field drawn."""
    from stores.wide.protocol.primitives import UNSET, BodyWriter

    writer = BodyWriter().write_short_bytes(draw(st.binary(max_size=16)))
    writer.write_consistency(draw(st.integers(0, 10)))
    flags = draw(st.integers(0, 0x7F))
    writer.write_byte(flags)
    if flags & fmt.QUERY_VALUES:
        drawn = draw(values)
        writer.write_short(len(drawn))
        for value in drawn:
            if flags & fmt.QUERY_NAMES_FOR_VALUES:
                writer.write_string(draw(st.text(max_size=4)))
            writer.write_value(UNSET if value == "unset" else value)
    if flags & fmt.QUERY_PAGE_SIZE:
        writer.write_int(draw(st.integers(-5, 5000)))
    if flags & fmt.QUERY_PAGING_STATE:
        writer.write_bytes(draw(st.binary(max_size=8)))
    if flags & fmt.QUERY_SERIAL_CONSISTENCY:
        writer.write_consistency(draw(st.integers(8, 9)))
    if flags & fmt.QUERY_DEFAULT_TIMESTAMP:
        writer.write_long(draw(st.integers(-(2**63), 2**63 - 1)))
    body = writer.getvalue()
    cut = draw(st.none() | st.integers(0, len(body)))
    extra = draw(st.binary(max_size=3))
    return body if cut is None else body[:cut] + extra


@FUZZ
@given(execute_bodies() | st.binary(max_size=120))
def test_quick_execute_decoder_agrees_with_the_general_one(body):
    # decode_request reads EXECUTE with its quick decoder first.
    assert _outcome(lambda b: decode_request(fmt.EXECUTE, b), body) == _outcome(
        _general_execute, body
    )


@FUZZ
@given(
    execute_bodies() | st.binary(max_size=120),
    st.integers(0, 0x1F).filter(lambda f: not f & fmt.FLAG_CUSTOM_PAYLOAD),
    st.booleans(),
)
def test_connection_reads_executes_as_the_request_decoder_does(body, flags, negotiated):
    """EXECUTE frames (next_event's quick lane) give the general decoder's message or violation."""
    from stores.wide.protocol.compression import available_compressions
    from stores.wide.protocol.connection import RequestReceived

    lz4 = available_compressions().get("lz4")
    connection = ServerConnection(compressions={} if lz4 is None else {"lz4": lz4})
    if negotiated:
        connection.compression = lz4
    compressed = flags & fmt.FLAG_COMPRESSION and lz4 is not None
    payload = lz4.compress(body) if compressed else body
    connection.receive_data(struct.pack(">BBhBi", 4, flags, 7, fmt.EXECUTE, len(payload)) + payload)
    event = connection.next_event()
    if flags & fmt.FLAG_COMPRESSION and (lz4 is None or not negotiated):
        assert isinstance(event, ViolationDetected)
        return
    expected = _outcome(lambda b: decode_request(fmt.EXECUTE, b), body)
    if expected[0] == "violation":
        assert isinstance(event, ViolationDetected)
        assert not event.violation.fatal
    else:
        assert event == RequestReceived(7, expected[1], bool(flags & fmt.FLAG_TRACING), None)
    assert connection.next_event() is None
