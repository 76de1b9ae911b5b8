"""The closed set of errors the persistence layer raises.

Each message is what the engine shows its client, so command-level errors
(SAVE while a background save runs, ...) carry Redis's exact text and the
engine maps ``PersistenceError`` (a ``CommandError``) to an error reply once. Start-up errors
name the file and byte offset so an operator can find the damage.
"""

from __future__ import annotations

from stores.kv.errors import CommandError


class PersistenceError(CommandError):
    """A persistence operation that cannot be done; ``message`` is the reply text.

    A CommandError, so the engine turns it into Redis's error reply in the one
    place it maps errors.
    """


class DataDirectoryLockedError(PersistenceError):
    """Another process holds the data directory."""

    def __init__(self, directory: str, holder_pid: int | None):
        self.directory = directory
        self.holder_pid = holder_pid
        holder = f"process {holder_pid}" if holder_pid is not None else "another process"
        super().__init__(
            f"ERR data directory {directory!r} is locked by {holder}; "
            "only one process may open it at a time"
        )


class CorruptFileError(PersistenceError):
    """A data file that cannot be loaded: names the file and byte offset."""

    def __init__(self, path: str, offset: int, reason: str):
        self.path = path
        self.offset = offset
        self.reason = reason
        super().__init__(f"ERR corrupt file {path} at byte offset {offset}: {reason}")


class ReplayRefusedError(Exception):
    """The engine refused a command read from a data file.

    Raised by the apply callback; the reader reports it as a CorruptFileError
    at the command's offset.
    """


class SimulatedCrash(Exception):
    """Raised by the fault-injecting filesystem when the simulated machine dies.

    Not a PersistenceError: nothing in the engine should catch it.
    """
