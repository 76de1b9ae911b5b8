"""The filesystem interface every persistence file access goes through.

Owns two implementations of one small interface (LevelDB's ``Env`` idea):
``RealFileSystem`` over the operating system, and ``FaultInjectingFileSystem``,
an in-memory filesystem that remembers what has been made durable (file data
by ``fsync``, directory entries by ``fsync_dir``) so that a test can crash the
simulated machine at any operation and reboot into exactly what a power loss
could leave behind. Never decides durability itself: callers fsync.
"""

from __future__ import annotations

import io
import os
import posixpath
import random
from typing import BinaryIO, Protocol

from stores.kv.persistence.errors import DataDirectoryLockedError, SimulatedCrash
from stores.kv.persistence.lock import acquire_lock
from stores.kv.persistence.mapped_tail import MappedTail

_fsync = getattr(os, "fdatasync", os.fsync)


class WritableFile(Protocol):
    """A file open for writing at its end.

    ``write`` writes all of ``data`` or raises OSError; an OSError raised after
    part of the data landed carries that byte count as ``landed``.
    """

    path: str

    def write(self, data: bytes) -> None: ...

    def fsync(self) -> None: ...

    def close(self) -> None: ...

    def size(self) -> int: ...


class Lock(Protocol):
    """A held data-directory lock."""

    def release(self) -> None: ...


class FileSystem(Protocol):
    """The operations persistence needs, and nothing else."""

    def open_append(self, path: str) -> WritableFile:
        """Open ``path`` for appending, creating it empty if missing."""

    def create(self, path: str) -> WritableFile:
        """Create ``path`` empty (truncating it) and open it for writing."""

    def open_read(self, path: str) -> BinaryIO:
        """Open ``path`` for reading."""

    def exists(self, path: str) -> bool: ...

    def size(self, path: str) -> int: ...

    def truncate(self, path: str, size: int) -> None:
        """Cut ``path`` to ``size`` bytes and fsync it."""

    def rename(self, src: str, dst: str) -> None:
        """Atomically replace ``dst`` by ``src`` (durable after fsync_dir)."""

    def remove(self, path: str) -> None: ...

    def listdir(self, path: str) -> list[str]: ...

    def makedirs(self, path: str) -> None:
        """Create ``path`` and missing parents, durably (their entries fsynced)."""

    def fsync_dir(self, path: str) -> None:
        """Make the directory's entries (creations, renames, removals) durable."""

    def lock(self, directory: str, path: str) -> Lock:
        """Take the exclusive lock file ``path`` for ``directory``."""


class _RealFile:
    def __init__(self, path: str, flags: int):
        self.path = path
        self._fd = os.open(path, flags, 0o644)
        self._size = os.fstat(self._fd).st_size
        self._tail: MappedTail | None = None

    def map_tail(self) -> MappedTail:
        """Return the file's end, mapped for appending (its writer then owns the length)."""
        self._tail = MappedTail(self.path)
        return self._tail

    def write(self, data: bytes) -> None:
        written = os.write(self._fd, data)
        self._size += written
        if written < len(data):
            view = memoryview(data)[written:]
            try:
                while view:
                    chunk = os.write(self._fd, view)
                    view = view[chunk:]
                    self._size += chunk
                    written += chunk
            except OSError as exc:
                exc.landed = written  # what a retry must not write again
                raise

    def fsync(self) -> None:
        _fsync(self._fd)

    def close(self) -> None:
        if getattr(self, "_fd", -1) >= 0:
            os.close(self._fd)
            self._fd = -1

    def size(self) -> int:
        tail = self._tail
        if tail is not None and tail.end is not None:
            return tail.end  # appended through the mapping, now closed
        return self._size

    def __del__(self) -> None:
        self.close()


class RealFileSystem:
    """The operating system's filesystem."""

    def open_append(self, path: str) -> WritableFile:
        return _RealFile(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    def create(self, path: str) -> WritableFile:
        return _RealFile(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)

    def open_read(self, path: str) -> BinaryIO:
        return open(path, "rb")  # noqa: SIM115 - the caller closes it

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def size(self, path: str) -> int:
        return os.path.getsize(path)

    def truncate(self, path: str, size: int) -> None:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        finally:
            os.close(fd)

    def rename(self, src: str, dst: str) -> None:
        os.replace(src, dst)

    def remove(self, path: str) -> None:
        os.remove(path)

    def listdir(self, path: str) -> list[str]:
        return sorted(os.listdir(path))

    def makedirs(self, path: str) -> None:
        missing = []
        current = os.path.abspath(path)
        while not os.path.isdir(current):
            missing.append(current)
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
        os.makedirs(path, exist_ok=True)
        # A new directory's own entry lives in its parent: fsync the parents,
        # deepest first, or a power loss could drop the directory with
        # everything fsynced inside it.
        for created in missing:
            self.fsync_dir(os.path.dirname(created))

    def fsync_dir(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def lock(self, directory: str, path: str) -> Lock:
        return acquire_lock(directory, path)


class _Inode:
    __slots__ = ("data", "synced")

    def __init__(self) -> None:
        self.data = bytearray()
        self.synced = b""


class _MemoryFile:
    def __init__(self, fs: FaultInjectingFileSystem, path: str, inode: _Inode):
        self.path = path
        self._fs = fs
        self._inode = inode
        self._generation = fs._generation
        self._closed = False

    def _check_process(self, name: str) -> None:
        # A handle opened before a reboot belongs to the dead process.
        if self._generation != self._fs._generation:
            raise SimulatedCrash(f"{name} {self.path} through a handle from before the crash")

    def write(self, data: bytes) -> None:
        self._check_process("write")
        self._fs._operation("write", self.path)
        torn = self._fs._torn_write_length(len(data))
        if torn is not None:
            self._inode.data += data[:torn]
            self._fs._die()
        self._inode.data += data

    def fsync(self) -> None:
        self._check_process("fsync")
        self._fs._operation("fsync", self.path)
        self._inode.synced = bytes(self._inode.data)

    def close(self) -> None:
        self._closed = True

    def size(self) -> int:
        return len(self._inode.data)


class _MemoryLock:
    def __init__(self, fs: FaultInjectingFileSystem, path: str):
        self._fs = fs
        self._path = path

    def release(self) -> None:
        self._fs._locks.discard(self._path)


class FaultInjectingFileSystem:
    """An in-memory filesystem that can crash and reboot like a real machine.

    File data becomes durable when the file is fsynced; a directory entry
    (creation, rename, removal) when its directory is fsynced. ``crash_after(n)``
    makes the n-th next mutating operation kill the simulated machine (a write
    may be torn: a random prefix of it lands first); every call after that
    raises ``SimulatedCrash`` until ``reboot()`` keeps only what was durable,
    plus, with ``keep_unsynced=True``, a random prefix of each file's unsynced
    tail (what a page cache may have written back on its own). Directories
    are durable as soon as they are made.
    """

    def __init__(self, seed: int = 0):
        self._rng = random.Random(seed)
        self._live: dict[str, _Inode] = {}
        self._durable: dict[str, _Inode] = {}
        self._dirs: set[str] = {"/"}
        self._locks: set[str] = set()
        self._countdown: int | None = None
        self._dead = False
        self._generation = 0
        self.operations = 0

    # fault injection

    def crash_after(self, operations: int) -> None:
        """Crash the machine at the ``operations``-th next mutating operation."""
        self._countdown = operations

    @property
    def crashed(self) -> bool:
        """Return True once the simulated machine has died."""
        return self._dead

    def crash(self) -> None:
        """Kill the simulated machine now."""
        self._dead = True

    def reboot(self, keep_unsynced: bool = False) -> None:
        """Come back up with what was durable; locks die with the process."""
        self._live = dict(self._durable)
        for inode in set(self._live.values()):
            kept = b""
            if keep_unsynced and len(inode.data) > len(inode.synced):
                unsynced = bytes(inode.data[len(inode.synced) :])
                if inode.data.startswith(inode.synced):
                    kept = unsynced[: self._rng.randint(0, len(unsynced))]
            inode.data = bytearray(inode.synced + kept)
            inode.synced = bytes(inode.data)
        self._locks.clear()
        self._countdown = None
        self._dead = False
        self._generation += 1

    def _die(self) -> None:
        self._dead = True
        raise SimulatedCrash("the simulated machine crashed")

    def _operation(self, name: str, path: str) -> None:
        if self._dead:
            raise SimulatedCrash(f"{name} {path} after the simulated crash")
        self.operations += 1
        if self._countdown is not None:
            self._countdown -= 1
            if self._countdown <= 0 and name != "write":
                self._die()

    def _torn_write_length(self, length: int) -> int | None:
        if self._countdown is not None and self._countdown <= 0:
            return self._rng.randint(0, length)
        return None

    def _check_alive(self, name: str, path: str) -> None:
        if self._dead:
            raise SimulatedCrash(f"{name} {path} after the simulated crash")

    # the FileSystem interface

    @staticmethod
    def _norm(path: str) -> str:
        return posixpath.normpath(posixpath.join("/", os.fspath(path)))

    def _parent_exists(self, path: str) -> None:
        parent = posixpath.dirname(path)
        if parent not in self._dirs:
            raise FileNotFoundError(f"no such directory: {parent}")

    def open_append(self, path: str) -> WritableFile:
        path = self._norm(path)
        inode = self._live.get(path)
        if inode is None:
            self._operation("create", path)
            self._parent_exists(path)
            inode = self._live[path] = _Inode()
        else:
            self._check_alive("open", path)
        return _MemoryFile(self, path, inode)

    def create(self, path: str) -> WritableFile:
        path = self._norm(path)
        self._operation("create", path)
        self._parent_exists(path)
        inode = self._live[path] = _Inode()
        return _MemoryFile(self, path, inode)

    def _inode(self, path: str) -> _Inode:
        inode = self._live.get(self._norm(path))
        if inode is None:
            raise FileNotFoundError(f"no such file: {path}")
        return inode

    def open_read(self, path: str) -> BinaryIO:
        self._check_alive("read", path)
        return io.BytesIO(bytes(self._inode(path).data))

    def read_bytes(self, path: str) -> bytes:
        """Return a file's live content (for tests)."""
        return bytes(self._inode(path).data)

    def write_bytes(self, path: str, data: bytes) -> None:
        """Replace a file's content durably (for tests that damage files)."""
        path = self._norm(path)
        inode = self._live.get(path)
        if inode is None:
            inode = self._live[path] = self._durable[path] = _Inode()
        inode.data = bytearray(data)
        inode.synced = bytes(data)

    def exists(self, path: str) -> bool:
        self._check_alive("stat", path)
        path = self._norm(path)
        return path in self._live or path in self._dirs

    def size(self, path: str) -> int:
        self._check_alive("stat", path)
        return len(self._inode(path).data)

    def truncate(self, path: str, size: int) -> None:
        self._operation("truncate", path)
        inode = self._inode(path)
        del inode.data[size:]
        inode.synced = bytes(inode.data)

    def rename(self, src: str, dst: str) -> None:
        src, dst = self._norm(src), self._norm(dst)
        self._operation("rename", src)
        inode = self._inode(src)
        self._parent_exists(dst)
        del self._live[src]
        self._live[dst] = inode

    def remove(self, path: str) -> None:
        path = self._norm(path)
        self._operation("remove", path)
        self._inode(path)
        del self._live[path]

    def listdir(self, path: str) -> list[str]:
        path = self._norm(path)
        self._check_alive("listdir", path)
        if path not in self._dirs:
            raise FileNotFoundError(f"no such directory: {path}")
        names = {posixpath.basename(p) for p in self._live if posixpath.dirname(p) == path}
        names |= {posixpath.basename(d) for d in self._dirs if posixpath.dirname(d) == path}
        names.discard("")
        return sorted(names)

    def makedirs(self, path: str) -> None:
        path = self._norm(path)
        self._check_alive("mkdir", path)
        while path not in self._dirs:
            self._dirs.add(path)
            path = posixpath.dirname(path)

    def fsync_dir(self, path: str) -> None:
        path = self._norm(path)
        self._operation("fsync_dir", path)
        for name in [p for p in self._durable if posixpath.dirname(p) == path]:
            if name not in self._live:
                del self._durable[name]
        for name, inode in self._live.items():
            if posixpath.dirname(name) == path:
                self._durable[name] = inode

    def lock(self, directory: str, path: str) -> Lock:
        path = self._norm(path)
        self._check_alive("lock", path)
        if path in self._locks:
            raise DataDirectoryLockedError(directory, os.getpid())
        self._locks.add(path)
        return _MemoryLock(self, path)
