"""The protocol package's own errors.

``ProtocolViolation`` is the one exception the decoders raise for bytes that
do not follow the native protocol; the connection answers it with a protocol
ERROR (0x000A), or with its own ``code`` (an oversized frame is Invalid, as
in Cassandra). Never raised for CQL-level problems: those belong to the CQL
layer's exception classes.
"""

from __future__ import annotations


class ProtocolViolation(Exception):
    """Bytes from the peer that break the native protocol.

    ``fatal`` says whether the byte stream can no longer be trusted (another
    protocol version, a response-direction byte) so the connection must close
    after the error reply; a bad body inside a well-framed message, or an
    oversized frame whose bytes were skipped, is not fatal. ``stream`` is the
    stream id to answer on, ``version`` the protocol version to frame the
    answer with, and ``code`` the ERROR code (protocol error by default).
    """

    def __init__(
        self,
        message: str,
        *,
        stream: int = 0,
        version: int = 4,
        fatal: bool = True,
        code: int = 0x000A,
    ):
        super().__init__(message)
        self.message = message
        self.stream = stream
        self.version = version
        self.fatal = fatal
        self.code = code
