"""Split a byte stream into native protocol frames, and build frames.

``FrameDecoder`` is sans-I/O: feed it whatever bytes arrived, then pull
complete ``Frame`` objects out. It checks the 9-byte v4 header (version,
direction, length cap), skips an oversized frame without buffering it, and
raises ``ProtocolViolation`` for a stream that can no longer be trusted (or,
not fatal, for the skipped frame); it never decodes bodies, never decompresses and never
holds more than one frame plus the bytes fed since. ``encode_frame`` builds a
response frame.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from stores.wide.protocol.errors import ProtocolViolation
from stores.wide.protocol.format import (
    DEFAULT_MAX_FRAME_LENGTH,
    ERR_INVALID,
    HEADER_LENGTH,
    LEGACY_HEADER_LENGTH,
    OPCODE_NAMES,
    PROTOCOL_VERSION,
    RESPONSE_DIRECTION,
    VERSION_MASK,
)

_HEADER = struct.Struct(">BBhBi")
_LEGACY_HEADER = struct.Struct(">BBbBi")

# Compact the receive buffer once this many consumed bytes sit at its front,
# so feeding many small frames stays linear.
_COMPACT_AFTER = 64 * 1024


class Frame(NamedTuple):
    """One frame: header fields and the (still encoded) body (a tuple: cheap to build)."""

    version: int
    flags: int
    stream: int
    opcode: int
    body: bytes

    @property
    def opcode_name(self) -> str:
        """Return the opcode's name, or its hex value if unknown."""
        return OPCODE_NAMES.get(self.opcode, f"0x{self.opcode:02X}")


# Frame(...) goes through a Python-level __new__; tuple.__new__(Frame, fields)
# builds the same tuple without it (the hot path).
_new_tuple = tuple.__new__


def unsupported_version_message(version: int) -> str:
    """Return the error text that makes drivers retry with a lower version."""
    return (
        f"Invalid or unsupported protocol version ({version}); "
        f"supported versions are ({PROTOCOL_VERSION}/v{PROTOCOL_VERSION})"
    )


class FrameDecoder:
    """Turn request bytes into frames, checking each header as it arrives."""

    def __init__(self, max_frame_length: int = DEFAULT_MAX_FRAME_LENGTH):
        self.max_frame_length = max_frame_length
        self._buffer = bytearray()
        self._start = 0
        self._failed: ProtocolViolation | None = None
        # An oversized frame's bytes are skipped as they arrive, never
        # buffered; its error is raised once the last of them is gone.
        self._discarding = 0
        self._too_big: ProtocolViolation | None = None

    @property
    def buffered(self) -> int:
        """Return the number of bytes received but not yet returned as frames."""
        return len(self._buffer) - self._start

    def feed(self, data: bytes) -> None:
        """Append bytes received from the peer."""
        if self._failed is not None or not data:
            return
        if self._discarding:
            skipped = min(self._discarding, len(data))
            self._discarding -= skipped
            data = data[skipped:]
        if data:
            self._buffer += data

    def next_frame(self) -> Frame | None:
        """Return the next complete frame, or None if more bytes are needed.

        Raise a fatal ``ProtocolViolation`` when the header cannot be trusted
        (another version, a response direction); after that the decoder
        stays failed and keeps raising the same violation. A frame longer
        than the cap is skipped (as Cassandra does) and answered, once its
        last byte has arrived, with a non-fatal Invalid "Request is too big"
        violation on its stream; decoding then goes on.
        """
        if self._failed is not None:
            raise self._failed
        if self._too_big is not None:
            if self._discarding:
                return None
            violation, self._too_big = self._too_big, None
            raise violation
        buffer = self._buffer
        start = self._start
        available = len(buffer) - start
        if available < HEADER_LENGTH:
            if available < 1:
                return None
        elif buffer[start] == PROTOCOL_VERSION:
            # A v4 request with its header in: the common case, read at once.
            _, flags, stream, opcode, length = _HEADER.unpack_from(buffer, start)
            if length >= 0 and length <= self.max_frame_length:
                end = start + HEADER_LENGTH + length
                if len(buffer) < end:
                    return None
                body = bytes(buffer[start + HEADER_LENGTH : end])
                if end == len(buffer):
                    buffer.clear()
                    self._start = 0
                else:
                    self._start = end
                    if end >= _COMPACT_AFTER:
                        self._compact()
                return _new_tuple(Frame, (PROTOCOL_VERSION, flags, stream, opcode, body))
        first = buffer[start]
        version = first & VERSION_MASK
        try:
            if first & RESPONSE_DIRECTION:
                raise ProtocolViolation(
                    "Invalid message direction: a client sent a response frame",
                    version=PROTOCOL_VERSION,
                )
            if version != PROTOCOL_VERSION:
                return self._refuse_version(version, available)
            if available < HEADER_LENGTH:
                return None
            _, flags, stream, opcode, length = _HEADER.unpack_from(self._buffer, self._start)
        except ProtocolViolation as violation:
            self._fail(violation)
            raise
        # The length is unsigned on the wire, as Cassandra reads it.
        length &= 0xFFFFFFFF
        if length > self.max_frame_length:
            return self._skip(stream, version, length)
        end = self._start + HEADER_LENGTH + length
        if len(self._buffer) < end:
            return None
        body = bytes(self._buffer[self._start + HEADER_LENGTH : end])
        self._start = end
        self._compact()
        return Frame(version, flags, stream, opcode, body)

    def _skip(self, stream: int, version: int, length: int) -> None:
        total = HEADER_LENGTH + length
        skipped = min(total, len(self._buffer) - self._start)
        self._start += skipped
        self._compact()
        self._discarding = total - skipped
        self._too_big = ProtocolViolation(
            f"Request is too big: length {total} exceeds maximum allowed length "
            f"{self.max_frame_length + HEADER_LENGTH}.",
            stream=stream,
            version=version,
            fatal=False,
            code=ERR_INVALID,
        )
        return self.next_frame()

    def _refuse_version(self, version: int, available: int) -> None:
        if version < 3:
            if available < LEGACY_HEADER_LENGTH:
                return None
            stream = _LEGACY_HEADER.unpack_from(self._buffer, self._start)[2]
        else:
            if available < HEADER_LENGTH:
                return None
            stream = _HEADER.unpack_from(self._buffer, self._start)[2]
        # Version 0 or a garbage byte gets an answer framed as v4: the peer's
        # own version would not be a frame anyone can read.
        reply_version = version if 1 <= version <= 6 else PROTOCOL_VERSION
        raise ProtocolViolation(
            unsupported_version_message(version), stream=stream, version=reply_version
        )

    def _fail(self, violation: ProtocolViolation) -> None:
        self._failed = violation
        self._buffer = bytearray()
        self._start = 0

    def _compact(self) -> None:
        if self._start == len(self._buffer):
            self._buffer.clear()
            self._start = 0
        elif self._start >= _COMPACT_AFTER:
            del self._buffer[: self._start]
            self._start = 0


def encode_frame(version: int, flags: int, stream: int, opcode: int, body: bytes) -> bytes:
    """Return a response frame (the direction bit set) around an encoded body."""
    if version < 3:
        header = _LEGACY_HEADER.pack(version | RESPONSE_DIRECTION, flags, stream, opcode, len(body))
    else:
        header = _HEADER.pack(version | RESPONSE_DIRECTION, flags, stream, opcode, len(body))
    return header + body
