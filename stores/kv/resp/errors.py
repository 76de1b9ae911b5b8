"""The errors of the RESP codec: the closed set the server maps to replies.

``ProtocolError`` carries Redis's message; the server replies
``-ERR <message>`` and closes the connection. ``QueryBufferLimitError`` means
the client sent more unprocessed bytes than the query buffer limit; Redis
closes such a client without a reply.
"""


class ProtocolError(Exception):
    """Bytes that are not a valid RESP request or reply."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class QueryBufferLimitError(ProtocolError):
    """A client's unprocessed request bytes exceeded the query buffer limit."""
