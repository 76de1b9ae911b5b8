import struct

import pytest
from cassandra.protocol import OptionsMessage, QueryMessage

from stores.wide.protocol import format as fmt
from stores.wide.protocol.errors import ProtocolViolation
from stores.wide.protocol.frames import FrameDecoder, encode_frame
from tests.stores.wide.protocol.driver_codec import driver_frame


def header(version=4, flags=0, stream=1, opcode=fmt.OPTIONS, length=0):
    return struct.pack(">BBhBi", version, flags, stream, opcode, length)


def test_decodes_a_driver_frame():
    raw = driver_frame(QueryMessage("SELECT * FROM t", 1), stream=7)
    decoder = FrameDecoder()
    decoder.feed(raw)
    frame = decoder.next_frame()
    assert (frame.version, frame.stream, frame.opcode) == (4, 7, fmt.QUERY)
    assert frame.body == raw[9:]
    assert decoder.next_frame() is None
    assert decoder.buffered == 0


def test_frames_split_at_every_byte_boundary():
    raw = driver_frame(QueryMessage("SELECT * FROM t", 1), stream=3) + driver_frame(
        OptionsMessage(), stream=4
    )
    for cut in range(len(raw) + 1):
        decoder = FrameDecoder()
        decoder.feed(raw[:cut])
        frames = []
        while (frame := decoder.next_frame()) is not None:
            frames.append(frame)
        decoder.feed(raw[cut:])
        while (frame := decoder.next_frame()) is not None:
            frames.append(frame)
        assert [f.stream for f in frames] == [3, 4], cut
        assert [f.opcode for f in frames] == [fmt.QUERY, fmt.OPTIONS]


def test_byte_by_byte_feeding():
    raw = b"".join(driver_frame(OptionsMessage(), stream=s) for s in range(50))
    decoder = FrameDecoder()
    streams = []
    for i in range(len(raw)):
        decoder.feed(raw[i : i + 1])
        while (frame := decoder.next_frame()) is not None:
            streams.append(frame.stream)
    assert streams == list(range(50))


def test_negative_stream_ids_are_kept():
    decoder = FrameDecoder()
    decoder.feed(header(stream=-5))
    assert decoder.next_frame().stream == -5


@pytest.mark.parametrize("version", [1, 2, 3, 5, 6, 0x41])
def test_other_versions_are_refused_with_the_clients_framing(version):
    decoder = FrameDecoder()
    if version < 3:
        decoder.feed(struct.pack(">BBbBi", version, 0, 9, fmt.STARTUP, 0))
    else:
        decoder.feed(header(version=version, stream=9, opcode=fmt.STARTUP))
    with pytest.raises(ProtocolViolation) as info:
        decoder.next_frame()
    violation = info.value
    assert "unsupported protocol version" in violation.message
    assert violation.fatal
    assert violation.stream == 9
    assert violation.version == (version if version <= 6 else 4)
    with pytest.raises(ProtocolViolation):
        decoder.next_frame()


def test_version_refusal_waits_for_the_whole_header():
    decoder = FrameDecoder()
    decoder.feed(bytes([5, 0]))
    assert decoder.next_frame() is None
    decoder.feed(struct.pack(">hBi", 2, fmt.OPTIONS, 0))
    with pytest.raises(ProtocolViolation):
        decoder.next_frame()


def test_response_direction_is_refused():
    decoder = FrameDecoder()
    decoder.feed(header(version=0x84))
    with pytest.raises(ProtocolViolation) as info:
        decoder.next_frame()
    assert "direction" in info.value.message


def test_oversized_frame_is_skipped_unbuffered_then_refused_and_decoding_goes_on():
    decoder = FrameDecoder(max_frame_length=1000)
    decoder.feed(header(length=1001, stream=12, opcode=fmt.QUERY) + b"x" * 500)
    assert decoder.next_frame() is None
    assert decoder.buffered == 0
    decoder.feed(b"y" * 400)
    assert decoder.next_frame() is None
    assert decoder.buffered == 0
    decoder.feed(b"z" * 101 + header(stream=13))
    with pytest.raises(ProtocolViolation) as info:
        decoder.next_frame()
    violation = info.value
    assert violation.message == (
        "Request is too big: length 1010 exceeds maximum allowed length 1009."
    )
    assert (violation.stream, violation.code, violation.fatal) == (12, fmt.ERR_INVALID, False)
    assert decoder.next_frame().stream == 13


def test_oversized_frame_arriving_whole_is_refused_at_once():
    decoder = FrameDecoder(max_frame_length=10)
    decoder.feed(header(length=11, stream=3) + b"a" * 11 + header(stream=4))
    with pytest.raises(ProtocolViolation) as info:
        decoder.next_frame()
    assert info.value.stream == 3
    assert decoder.next_frame().stream == 4


def test_negative_length_is_read_unsigned_and_skipped():
    decoder = FrameDecoder()
    decoder.feed(header(length=-1) + b"a" * 100)
    assert decoder.next_frame() is None
    assert decoder.buffered == 0


def test_default_cap_is_cassandra_5s_16_mib():
    assert FrameDecoder().max_frame_length == 16 * 1024 * 1024


def test_truncated_body_waits_and_bytes_after_failure_are_dropped():
    decoder = FrameDecoder()
    decoder.feed(header(length=10) + b"12345")
    assert decoder.next_frame() is None
    assert decoder.buffered == 14
    decoder.feed(b"67890")
    assert decoder.next_frame().body == b"1234567890"


def test_encode_frame_sets_the_response_bit():
    frame = encode_frame(4, 0, -1, fmt.EVENT, b"abc")
    assert frame == bytes([0x84, 0, 0xFF, 0xFF, fmt.EVENT, 0, 0, 0, 3]) + b"abc"
    legacy = encode_frame(2, 0, 3, fmt.ERROR, b"")
    assert legacy == bytes([0x82, 0, 3, 0, 0, 0, 0, 0])


def test_many_frames_keep_the_buffer_small():
    decoder = FrameDecoder()
    one = driver_frame(QueryMessage("x" * 1000, 1))
    for _ in range(500):
        decoder.feed(one)
        assert decoder.next_frame() is not None
    assert decoder.buffered == 0
    assert len(decoder._buffer) == 0
