"""The storage engine's closed set of exceptions.

Every failure the engine reports is one of these; the CQL layer maps them once
to protocol errors. Never raised for a caller's programming mistake that
Python already reports (TypeError and the like).
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error the storage engine raises."""


class InvalidRequest(StorageError):
    """The request is malformed or names something that does not exist."""


class AlreadyExists(StorageError):
    """A keyspace or table with that name already exists."""


class CorruptionError(StorageError):
    """A checksum or structural check failed: the file and offset say where."""

    def __init__(self, path: str, offset: int, detail: str) -> None:
        super().__init__(f"{path} at offset {offset}: {detail}")
        self.path = path
        self.offset = offset
        self.detail = detail


class DirectoryLocked(StorageError):
    """Another live process holds the data directory's lock file."""


class EngineClosed(StorageError):
    """The engine was closed (or failed) and accepts no more requests."""
