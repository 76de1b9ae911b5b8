"""The key-value engine's closed set of errors.

Every failure a command can report is a ``CommandError`` carrying the exact
Redis error text (prefix included: ``ERR``, ``WRONGTYPE``, ``OOM``,
``EXECABORT``, ...). The engine turns it into an ``ErrorReply`` once, in
``Session.execute``; nothing else in the engine builds error replies. This
module never imports anything from the rest of the engine.
"""

from __future__ import annotations


class KVError(Exception):
    """Base class of every error raised by the key-value engine."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CommandError(KVError):
    """A command failed; ``message`` is the Redis error reply text."""


class ConfigError(KVError):
    """An engine option or CONFIG SET value is invalid."""


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
SYNTAX = "ERR syntax error"
NO_SUCH_KEY = "ERR no such key"
INDEX_OUT_OF_RANGE = "ERR index out of range"
OVERFLOW = "ERR increment or decrement would overflow"
OOM = "OOM command not allowed when used memory > 'maxmemory'."
DB_INDEX = "ERR DB index is out of range"
HASH_NOT_INTEGER = "ERR hash value is not an integer"
HASH_NOT_FLOAT = "ERR hash value is not a float"
MIN_MAX_FLOAT = "ERR min or max is not a float"
MIN_MAX_LEX = "ERR min or max not valid string range item"


def wrongtype() -> CommandError:
    """Return the WRONGTYPE error."""
    return CommandError(WRONGTYPE)


def unknown_subcommand(sub: bytes, container: str) -> CommandError:
    """Return Redis's error for an unknown subcommand of ``container`` (e.g. ``OBJECT``)."""
    text = sub.decode("utf-8", "replace")
    return CommandError(f"ERR unknown subcommand '{text}'. Try {container} HELP.")


def wrong_subcommand_arity(container: str, sub: bytes) -> CommandError:
    """Return the arity error for a known subcommand (``'object|encoding'``)."""
    text = sub.decode("utf-8", "replace").lower()
    return CommandError(f"ERR wrong number of arguments for '{container.lower()}|{text}' command")


def subcommand_error(sub: bytes, container: str, known: tuple[bytes, ...]) -> CommandError:
    """Return the arity error if ``sub`` is a known subcommand, else the unknown one."""
    if sub.lower() in known:
        return wrong_subcommand_arity(container, sub)
    return unknown_subcommand(sub, container)
