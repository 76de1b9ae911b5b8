"""Encode requests and decode responses with cassandra-driver's own codec.

The driver is an independent implementation of the protocol, so our decoder
is checked against frames it builds and our encoder against what it parses.
"""

from __future__ import annotations

import struct

from cassandra.protocol import ProtocolHandler


def driver_frame(message, stream: int = 1, version: int = 4, compressor=None) -> bytes:
    """Return the request frame cassandra-driver builds for a message."""
    return ProtocolHandler.encode_message(message, stream, version, compressor, False)


def driver_decode(frame: bytes, decompressor=None, result_metadata=None):
    """Return the driver's message object for one response frame."""
    version, flags, stream, opcode, length = struct.unpack(">BBhBi", frame[:9])
    assert version & 0x80, "not a response frame"
    assert length == len(frame) - 9
    return ProtocolHandler.decode_message(
        version & 0x7F, {}, stream, flags, opcode, frame[9:], decompressor, result_metadata
    )


def split_frames(data: bytes) -> list[bytes]:
    """Split concatenated response frames."""
    frames = []
    while data:
        length = struct.unpack(">i", data[5:9])[0]
        frames.append(data[: 9 + length])
        data = data[9 + length :]
    return frames
