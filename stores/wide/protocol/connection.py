"""One server-side connection's protocol state, without I/O.

``ServerConnection`` is fed the bytes a client sent and returns events:
``RequestReceived`` (a decoded request with its stream id and frame flags) or
``ViolationDetected`` (a protocol error to answer; ``fatal`` ones mean the
connection must close after the answer). It turns responses into frame bytes,
compressing them once the client chose a compression in STARTUP. It never
executes requests and never touches a socket.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass

from stores.wide.protocol import format as fmt
from stores.wide.protocol.compression import (
    MIN_COMPRESSED_BODY,
    Compression,
    available_compressions,
)
from stores.wide.protocol.errors import ProtocolViolation
from stores.wide.protocol.frames import FrameDecoder, encode_frame
from stores.wide.protocol.primitives import BodyReader, BodyWriter
from stores.wide.protocol.requests import Request, Startup, decode_request, quick_execute
from stores.wide.protocol.responses import Error, Response

_RESPONSE_HEADER = struct.Struct(">BBhBi")
_RESPONSE_VERSION = fmt.PROTOCOL_VERSION | fmt.RESPONSE_DIRECTION
# Frame flags that send a request the general way (``next_event``).
_NOT_QUICK_FLAGS = fmt.FLAG_TRACING | fmt.FLAG_CUSTOM_PAYLOAD | fmt.FLAG_WARNING | fmt.FLAG_BETA


@dataclass(slots=True)
class RequestReceived:
    stream: int
    message: Request
    tracing: bool = False
    custom_payload: dict[str, bytes | None] | None = None


@dataclass(slots=True)
class ViolationDetected:
    violation: ProtocolViolation


Event = RequestReceived | ViolationDetected


class ServerConnection:
    """Frame decoding, body decoding and response framing for one client."""

    def __init__(
        self,
        max_frame_length: int = fmt.DEFAULT_MAX_FRAME_LENGTH,
        compressions: dict[str, Compression] | None = None,
    ):
        self.max_frame_length = max_frame_length
        self.compressions = available_compressions() if compressions is None else compressions
        self.compression: Compression | None = None
        self._pending_compression: Compression | None = None
        self._decoder = FrameDecoder(max_frame_length)
        self.closed = False

    @property
    def buffered(self) -> int:
        """Return how many received bytes are not yet decoded into frames."""
        return self._decoder.buffered

    def receive_data(self, data: bytes) -> None:
        """Take bytes the client sent."""
        self._decoder.feed(data)

    def next_event(self) -> Event | None:
        """Return the next request or violation, or None until more bytes arrive."""
        if self.closed:
            return None
        try:
            frame = self._decoder.next_frame()
        except ProtocolViolation as violation:
            if violation.fatal:
                self.closed = True
            return ViolationDetected(violation)
        if frame is None:
            return None
        flags = frame.flags
        if frame.opcode == fmt.EXECUTE and not flags & _NOT_QUICK_FLAGS:
            # The hot request of a prepared workload, in fewer steps: an
            # EXECUTE without tracing or a custom payload, well formed
            # (anything else goes the general way below, errors included).
            body = frame.body
            compression = self.compression
            if flags & fmt.FLAG_COMPRESSION and compression is not None:
                try:
                    body = compression.decompress(body, self.max_frame_length)
                except ProtocolViolation:
                    body = None
            elif flags:
                body = None
            if body is not None:
                message = quick_execute(body)
                if message is not None:
                    return RequestReceived(frame.stream, message)
        try:
            body = frame.body
            if frame.flags & fmt.FLAG_COMPRESSION:
                if self.compression is None:
                    raise ProtocolViolation(
                        "Received a compressed frame but no compression was negotiated",
                        fatal=False,
                    )
                body = self.compression.decompress(body, self.max_frame_length)
            custom_payload = None
            if frame.flags & fmt.FLAG_CUSTOM_PAYLOAD:
                reader = BodyReader(body)
                custom_payload = reader.read_bytes_map()
                body = body[len(body) - reader.remaining :]
            message = decode_request(frame.opcode, body)
            if isinstance(message, Startup):
                self._choose_compression(message)
        except ProtocolViolation as violation:
            violation.stream = frame.stream
            violation.version = frame.version
            if violation.fatal:
                self.closed = True
            return ViolationDetected(violation)
        return RequestReceived(
            frame.stream, message, bool(frame.flags & fmt.FLAG_TRACING), custom_payload
        )

    def _choose_compression(self, startup: Startup) -> None:
        name = startup.options.get(fmt.STARTUP_COMPRESSION)
        if not name:
            return
        algorithm = self.compressions.get(name.lower())
        if algorithm is None:
            raise ProtocolViolation(f"Unknown compression algorithm: {name}", fatal=False)
        self._pending_compression = algorithm

    def encode(
        self,
        stream: int,
        response: Response,
        *,
        tracing_id: uuid.UUID | None = None,
        warnings: list[str] | None = None,
    ) -> bytes:
        """Return the frame bytes for a response on a stream.

        Bodies are compressed once STARTUP chose a compression, except the
        answer to STARTUP itself and bodies shorter than
        ``MIN_COMPRESSED_BODY`` (the flag is per frame: clients read it on
        every frame, and a tiny body only grows and costs both ends CPU).
        """
        body = response.encode_body()
        flags = 0
        if tracing_id is not None or warnings:
            prefix = BodyWriter()
            if tracing_id is not None:
                flags |= fmt.FLAG_TRACING
                prefix.write_uuid(tracing_id)
            if warnings:
                flags |= fmt.FLAG_WARNING
                prefix.write_string_list(warnings)
            body = prefix.getvalue() + body
        if self.compression is not None and len(body) >= MIN_COMPRESSED_BODY:
            body = self.compression.compress(body)
            flags |= fmt.FLAG_COMPRESSION
        return (
            _RESPONSE_HEADER.pack(_RESPONSE_VERSION, flags, stream, response.opcode, len(body))
            + body
        )

    def encode_result(self, stream: int, body: bytes) -> bytes:
        """Return the frame of a RESULT whose body is encoded already (``encode``'s bytes)."""
        flags = 0
        if self.compression is not None and len(body) >= MIN_COMPRESSED_BODY:
            body = self.compression.compress(body)
            flags = fmt.FLAG_COMPRESSION
        return _RESPONSE_HEADER.pack(_RESPONSE_VERSION, flags, stream, fmt.RESULT, len(body)) + body

    def start_compression(self) -> None:
        """Compress from now on, if STARTUP asked for it (call after its answer)."""
        if self._pending_compression is not None:
            self.compression = self._pending_compression
            self._pending_compression = None

    @staticmethod
    def encode_violation(violation: ProtocolViolation) -> bytes:
        """Return the protocol ERROR frame answering a violation, never compressed."""
        body = Error(violation.code, violation.message).encode_body()
        return encode_frame(violation.version, 0, violation.stream, fmt.ERROR, body)
