"""The protocol package's own errors.

``ProtocolViolation`` is the one exception the decoders raise for bytes that
do not follow the native protocol; the connection answers it with a protocol
ERROR (0x000A). Never raised for CQL-level problems: those belong to the CQL
layer's exception classes.
"""

from __future__ import annotations


class ProtocolViolation(Exception):
    """Bytes from the peer that break the native protocol.

    ``fatal`` says whether the byte stream can no longer be trusted (a bad
    header or an oversized frame) so the connection must close after the
    error reply; a bad body inside a well-framed message is not fatal.
    ``stream`` is the stream id to answer on, and ``version`` the protocol
    version to frame the answer with.
    """

    def __init__(self, message: str, *, stream: int = 0, version: int = 4, fatal: bool = True):
        super().__init__(message)
        self.message = message
        self.stream = stream
        self.version = version
        self.fatal = fatal
