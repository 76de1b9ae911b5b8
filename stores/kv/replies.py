"""The reply values commands return, independent of any wire protocol.

Commands return plain Python values (``bytes``, ``int``, ``None``, ``list``,
``float``) or one of the small marker types below; the RESP codec encodes
them for the session's protocol and the in-process client converts them to
redis-py's return values. This module never encodes bytes for a socket.
"""

from __future__ import annotations


class SimpleString(str):
    """A status reply such as ``+OK`` or ``+QUEUED``."""

    __slots__ = ()


class ErrorReply:
    """An error reply; ``message`` is the full text, e.g. ``"ERR syntax error"``."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __repr__(self) -> str:
        return f"ErrorReply({self.message!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ErrorReply) and other.message == self.message

    def __hash__(self) -> int:
        return hash(self.message)


class _NullArray:
    """The RESP2 ``*-1`` reply (RESP3 null)."""

    __slots__ = ()
    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NULL_ARRAY"

    def __bool__(self) -> bool:
        return False


NULL_ARRAY = _NullArray()


class Map(dict):
    """A map reply: a flat array in RESP2, a ``%`` map in RESP3."""

    __slots__ = ()


class SetReply(list):
    """A set reply: an array in RESP2, a ``~`` set in RESP3."""

    __slots__ = ()


class Push(list):
    """An out-of-band push (pub/sub message): an array in RESP2, ``>`` in RESP3."""

    __slots__ = ()


class Verbatim:
    """A verbatim string (INFO's reply): a bulk string in RESP2, ``=`` in RESP3."""

    __slots__ = ("text", "fmt")

    def __init__(self, text: bytes, fmt: str = "txt") -> None:
        self.text = text
        self.fmt = fmt

    def __repr__(self) -> str:
        return f"Verbatim({self.text!r}, {self.fmt!r})"


class Blocked:
    """Returned by a blocking command that cannot be served yet.

    ``keys`` are the keys to wait on, ``timeout`` the timeout in seconds
    (0 means forever). The caller waits with ``Engine.add_key_waiter`` and
    re-executes the command when woken.
    """

    __slots__ = ("keys", "timeout")

    def __init__(self, keys: list[bytes], timeout: float) -> None:
        self.keys = keys
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"Blocked({self.keys!r}, {self.timeout!r})"


OK = SimpleString("OK")
QUEUED = SimpleString("QUEUED")
PONG = SimpleString("PONG")


def format_double(value: float) -> bytes:
    """Return ``value`` as Redis 7.0 prints a double in RESP2 (``%.17g``)."""
    return b"%.17g" % value
