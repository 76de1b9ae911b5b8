"""Write requests: commands in, RESP multibulk bytes out (the client side).

The counterpart of ``request_reader``: what redis-cli and redis-py send.
Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable


def _arg_bytes(arg: bytes | str | int | float) -> bytes:
    if isinstance(arg, bytes):
        return arg
    if isinstance(arg, str):
        return arg.encode("utf-8")
    if isinstance(arg, bool):
        raise TypeError("a bool is not a valid command argument")
    if isinstance(arg, int):
        return b"%d" % arg
    if isinstance(arg, float):
        return repr(arg).encode("ascii")
    if isinstance(arg, (bytearray, memoryview)):
        return bytes(arg)
    raise TypeError(f"cannot send {type(arg).__name__} as a command argument")


def encode_command(argv: Iterable[bytes | str | int | float]) -> bytes:
    """Return one command as a RESP multibulk request."""
    args = [_arg_bytes(arg) for arg in argv]
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        parts.append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return b"".join(parts)


def encode_pipeline(commands: Iterable[Iterable[bytes | str | int | float]]) -> bytes:
    """Return several commands as one pipelined request."""
    return b"".join(encode_command(argv) for argv in commands)
