"""The data-directory lock: one process owns a data directory at a time.

Owns the lock file's protocol: an exclusive ``fcntl.flock`` on the file,
held for the life of the open directory, with the holder's pid written
inside so that a second opener's error names it. The kernel drops the lock
when the holder dies, so a stale file from a crash never blocks a restart.
Never touches any other file.
"""

from __future__ import annotations

import errno
import fcntl
import os

from stores.kv.persistence.errors import DataDirectoryLockedError


class DataDirectoryLock:
    """An exclusive lock on a data directory, released by ``release()``."""

    def __init__(self, directory: str, path: str, fd: int):
        self.directory = directory
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        """Return True while the lock is held."""
        return self._fd is not None

    def __del__(self) -> None:
        # An engine dropped without close() must not keep its directory locked.
        self.release()

    def release(self) -> None:
        """Release the lock; the file stays (its content is only advisory)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def read_holder_pid(path: str) -> int | None:
    """Return the pid written in a lock file, or None if unreadable."""
    try:
        with open(path, "rb") as f:
            text = f.read(64).decode("ascii", "replace").strip()
        return int(text)
    except (OSError, ValueError):
        return None


def acquire_lock(directory: str, path: str) -> DataDirectoryLock:
    """Lock ``path`` for ``directory`` or raise DataDirectoryLockedError."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise DataDirectoryLockedError(directory, read_holder_pid(path)) from None
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return DataDirectoryLock(directory, path, fd)
