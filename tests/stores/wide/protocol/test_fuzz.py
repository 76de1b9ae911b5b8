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
