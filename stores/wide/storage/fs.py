"""The filesystem interface every engine file access goes through.

Owns two implementations: ``OSFileSystem`` (the real one, with fsync) and
``MemoryFileSystem``, which keeps files in memory and remembers what was
synced, so ``crash()`` can return the state a power failure would leave:
unsynced bytes dropped (or torn), directory entries not yet made durable by
``sync_dir`` undone. ``FaultInjectingFileSystem`` adds a budget of operations
after which every call fails, to crash the engine in the middle of a write,
flush or compaction (LevelDB's fault-injection Env idea). Files are either
appended (``create``) or preallocated and written in place through memory
(``create_mapped``, the commit log's segments). Never decides durability
itself: callers call ``sync``/``sync_dir``.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import posixpath
import random
import threading
from abc import ABC, abstractmethod

from .errors import DirectoryLocked, StorageError


class SimulatedCrash(StorageError):
    """Raised by FaultInjectingFileSystem once its operation budget is spent."""


class WritableFile(ABC):
    """A file opened for appending."""

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    @abstractmethod
    def flush(self) -> None:
        """Hand buffered bytes to the OS (they survive a process crash, not a power cut)."""

    @abstractmethod
    def sync(self) -> None:
        """Make every byte written so far durable."""

    @abstractmethod
    def tell(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...


class MappedFile(ABC):
    """A file preallocated to a fixed size, written in place through memory.

    Bytes written are in the OS page cache at once (they survive a process
    crash, not a power cut, until ``sync``); bytes never written read as
    zeros. Written front to back by its one user, the commit log.
    """

    @abstractmethod
    def write_at(self, offset: int, data: bytes) -> None: ...

    @abstractmethod
    def sync(self) -> None:
        """Make every byte written so far durable (the size is durable from creation)."""

    @abstractmethod
    def close(self, *, length: int | None = None) -> None:
        """Unmap and close; with ``length``, first cut the file to that many bytes, durably."""


class ReadableFile(ABC):
    """A file opened for random-access reads."""

    @abstractmethod
    def pread(self, offset: int, length: int) -> bytes: ...

    @abstractmethod
    def size(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...

    def prefault(self) -> int:
        """Map every page of the file into the process now; return the bytes mapped.

        Only a memory-mapped file does anything (by default nothing is
        mapped, and 0 is returned): its first read of each page then costs
        no page fault.
        """
        return 0


class FileLock(ABC):
    @abstractmethod
    def release(self) -> None: ...


class FileSystem(ABC):
    """What the engine may do with files; paths use '/' separators."""

    @abstractmethod
    def create(self, path: str) -> WritableFile:
        """Create (or truncate) ``path`` and open it for appending."""

    @abstractmethod
    def create_mapped(self, path: str, size: int) -> MappedFile:
        """Create (or truncate) ``path`` as ``size`` zero bytes, durably allocated.

        The size is synced before this returns, so later syncs only write
        data (an fdatasync of a file that does not grow); the directory
        entry still needs ``sync_dir``.
        """

    @abstractmethod
    def open_read(self, path: str) -> ReadableFile: ...

    def open_read_immutable(self, path: str) -> ReadableFile:
        """Open a file nothing writes any more (an SSTable component) for random reads.

        An implementation may map it into memory; by default it is ``open_read``.
        """
        return self.open_read(path)

    def read_bytes(self, path: str) -> bytes:
        handle = self.open_read(path)
        try:
            return handle.pread(0, handle.size())
        finally:
            handle.close()

    @abstractmethod
    def rename(self, source: str, target: str) -> None:
        """Atomically replace ``target`` with ``source``."""

    @abstractmethod
    def remove(self, path: str) -> None: ...

    @abstractmethod
    def listdir(self, path: str) -> list[str]: ...

    @abstractmethod
    def exists(self, path: str) -> bool: ...

    @abstractmethod
    def makedirs(self, path: str) -> None: ...

    @abstractmethod
    def sync_dir(self, path: str) -> None:
        """Make the directory's entries (creations, renames, removals) durable."""

    @abstractmethod
    def lock(self, path: str) -> FileLock:
        """Take the exclusive lock file ``path`` or raise DirectoryLocked."""


class _OSWritableFile(WritableFile):
    def __init__(self, path: str) -> None:
        self._file = open(path, "wb", buffering=1 << 16)  # noqa: SIM115

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def flush(self) -> None:
        self._file.flush()

    def sync(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()


def _preallocate(fd: int, size: int) -> None:
    # Real blocks, not a sparse hole: a store into a hole of a shared mapping
    # on a full disk kills the process with SIGBUS instead of raising.
    try:
        os.posix_fallocate(fd, 0, size)
        return
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            raise
    chunk = bytes(1 << 20)
    for offset in range(0, size, len(chunk)):
        os.pwrite(fd, chunk[: size - offset], offset)


class _OSMappedFile(MappedFile):
    def __init__(self, path: str, size: int) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _preallocate(self._fd, size)
            os.fsync(self._fd)
            self._map = mmap.mmap(self._fd, size)
        except BaseException:
            os.close(self._fd)
            raise
        self._size = size

    def write_at(self, offset: int, data: bytes) -> None:
        end = offset + len(data)
        if end > self._size:
            raise ValueError(f"write past the end of a {self._size}-byte mapped file")
        self._map[offset:end] = data

    def sync(self) -> None:
        if self._map.closed:
            raise ValueError("sync of a closed mapped file")
        if hasattr(os, "fdatasync"):
            # Linux writes back dirty shared-mapping pages on fdatasync; the
            # size never changes, so no metadata needs committing.
            os.fdatasync(self._fd)
        else:
            self._map.flush()
            os.fsync(self._fd)

    def close(self, *, length: int | None = None) -> None:
        if self._map.closed:
            return
        self._map.close()
        try:
            if length is not None:
                os.ftruncate(self._fd, length)
                os.fsync(self._fd)
        finally:
            os.close(self._fd)


class _OSReadableFile(ReadableFile):
    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDONLY)

    def pread(self, offset: int, length: int) -> bytes:
        return os.pread(self._fd, length, offset)

    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def close(self) -> None:
        if getattr(self, "_fd", -1) >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        # An SSTable replaced by a compaction is unlinked while reads may still
        # hold it; its descriptor is closed when the last reader lets go.
        self.close()


# madvise advice (Linux 5.14+; not named by Python 3.11's mmap module) and
# the share of a file mapped per call.
_MADV_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22)
_PREFAULT_CHUNK = 4 << 20


class _OSMappedReadableFile(_OSReadableFile):
    """An immutable file read through a read-only memory map.

    A read is a copy out of the OS page cache, with no system call
    (Cassandra's ``disk_access_mode: mmap``); the mapped pages belong to
    the page cache, not to the process. Reads past the mapped size go to
    ``pread`` (and come back short, as from any file).
    """

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self._size = os.fstat(self._fd).st_size
        self._map = mmap.mmap(self._fd, self._size, access=mmap.ACCESS_READ) if self._size else None

    def pread(self, offset: int, length: int) -> bytes:
        mapped = self._map
        end = offset + length
        if mapped is None or end > self._size or offset < 0:
            return os.pread(self._fd, length, offset)
        return mapped[offset:end]

    def prefault(self) -> int:
        """Map the file's pages a few MiB at a time (other threads run in between).

        ``MADV_POPULATE_READ`` (Linux 5.14+) fills the page tables; a
        kernel without it gets one byte read per page instead. A page not
        in the OS page cache is read from disk here rather than by a read.
        """
        mapped = self._map
        if mapped is None:
            return 0
        for start in range(0, self._size, _PREFAULT_CHUNK):
            length = min(_PREFAULT_CHUNK, self._size - start)
            try:
                mapped.madvise(_MADV_POPULATE_READ, start, length)
            except OSError:
                _ = mapped[start : start + length : mmap.PAGESIZE]
        return self._size

    def close(self) -> None:
        mapped = getattr(self, "_map", None)
        if mapped is not None:
            self._map = None
            mapped.close()
        super().close()


class _OSFileLock(FileLock):
    def __init__(self, fd: int, path: str) -> None:
        self._fd = fd
        self._path = path

    def release(self) -> None:
        if self._fd >= 0:
            try:
                os.unlink(self._path)
            except OSError:
                pass
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1


class OSFileSystem(FileSystem):
    """The real filesystem."""

    def create(self, path: str) -> WritableFile:
        return _OSWritableFile(path)

    def create_mapped(self, path: str, size: int) -> MappedFile:
        return _OSMappedFile(path, size)

    def open_read(self, path: str) -> ReadableFile:
        return _OSReadableFile(path)

    def open_read_immutable(self, path: str) -> ReadableFile:
        return _OSMappedReadableFile(path)

    def rename(self, source: str, target: str) -> None:
        os.replace(source, target)

    def remove(self, path: str) -> None:
        os.remove(path)

    def listdir(self, path: str) -> list[str]:
        return sorted(os.listdir(path))

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def makedirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def sync_dir(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def lock(self, path: str) -> FileLock:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise DirectoryLocked(
                    f"data directory {posixpath.dirname(path)} is locked by process {holder or '?'}"
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return _OSFileLock(fd, path)


class _MemoryFile:
    """File contents; ``allocated`` > len(data) means zeros up to it (a mapped file)."""

    __slots__ = ("data", "synced", "allocated")

    def __init__(self, data: bytes = b"", synced: int = 0, allocated: int = 0) -> None:
        self.data = bytearray(data)
        self.synced = synced
        self.allocated = allocated


class _MemoryWritable(WritableFile):
    def __init__(self, fs: MemoryFileSystem, node: _MemoryFile) -> None:
        self._fs = fs
        self._node = node

    def write(self, data: bytes) -> None:
        self._fs._operation()
        with self._fs._mutex:
            self._node.data += data

    def flush(self) -> None:
        self._fs._operation()

    def sync(self) -> None:
        self._fs._operation()
        with self._fs._mutex:
            self._node.synced = len(self._node.data)

    def tell(self) -> int:
        return len(self._node.data)

    def close(self) -> None:
        pass


class _MemoryMapped(MappedFile):
    # Only the written prefix is held; the zeros after it are implied by
    # ``allocated``, so a 32 MiB segment costs nothing until written.
    def __init__(self, fs: MemoryFileSystem, node: _MemoryFile) -> None:
        self._fs = fs
        self._node = node
        self._closed = False

    def write_at(self, offset: int, data: bytes) -> None:
        self._fs._operation()
        node = self._node
        end = offset + len(data)
        if end > node.allocated:
            raise ValueError(f"write past the end of a {node.allocated}-byte mapped file")
        with self._fs._mutex:
            if offset > len(node.data):
                node.data += bytes(offset - len(node.data))
            node.data[offset:end] = data

    def sync(self) -> None:
        if self._closed:
            raise ValueError("sync of a closed mapped file")
        self._fs._operation()
        with self._fs._mutex:
            self._node.synced = len(self._node.data)

    def close(self, *, length: int | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        if length is not None:
            self._fs._operation()
            node = self._node
            with self._fs._mutex:
                if length > len(node.data):
                    node.data += bytes(length - len(node.data))
                del node.data[length:]
                node.allocated = 0
                node.synced = len(node.data)


class _MemoryReadable(ReadableFile):
    def __init__(self, fs: MemoryFileSystem, node: _MemoryFile) -> None:
        self._fs = fs
        self._node = node

    def pread(self, offset: int, length: int) -> bytes:
        self._fs._check_alive()
        node = self._node
        chunk = bytes(node.data[offset : offset + length])
        end = min(offset + length, node.allocated)
        if end > offset + len(chunk):
            chunk = chunk.ljust(end - offset, b"\x00")
        return chunk

    def size(self) -> int:
        return max(len(self._node.data), self._node.allocated)

    def close(self) -> None:
        pass


class _MemoryLock(FileLock):
    def __init__(self, fs: MemoryFileSystem, path: str) -> None:
        self._fs = fs
        self._path = path

    def release(self) -> None:
        self._fs._locks.discard(self._path)


class MemoryFileSystem(FileSystem):
    """Files in memory that remember what was synced; ``crash()`` drops the rest."""

    def __init__(self) -> None:
        self._files: dict[str, _MemoryFile] = {}
        self._durable: dict[str, _MemoryFile] = {}
        self._dirs: set[str] = {"", "/"}
        self._locks: set[str] = set()
        self._mutex = threading.RLock()

    def _operation(self) -> None:
        """Count one mutating operation (FaultInjectingFileSystem overrides it)."""

    def _check_alive(self) -> None:
        """Fail if the filesystem has crashed (FaultInjectingFileSystem overrides it)."""

    def _lookup(self, path: str) -> _MemoryFile:
        node = self._files.get(path)
        if node is None:
            raise FileNotFoundError(errno.ENOENT, "No such file", path)
        return node

    def create(self, path: str) -> WritableFile:
        self._operation()
        with self._mutex:
            if posixpath.dirname(path) not in self._dirs:
                raise FileNotFoundError(errno.ENOENT, "No such directory", path)
            node = _MemoryFile()
            self._files[path] = node
        return _MemoryWritable(self, node)

    def create_mapped(self, path: str, size: int) -> MappedFile:
        self._operation()
        with self._mutex:
            if posixpath.dirname(path) not in self._dirs:
                raise FileNotFoundError(errno.ENOENT, "No such directory", path)
            node = _MemoryFile(allocated=size)
            self._files[path] = node
        return _MemoryMapped(self, node)

    def open_read(self, path: str) -> ReadableFile:
        self._check_alive()
        with self._mutex:
            return _MemoryReadable(self, self._lookup(path))

    def rename(self, source: str, target: str) -> None:
        self._operation()
        with self._mutex:
            self._files[target] = self._lookup(source)
            del self._files[source]

    def remove(self, path: str) -> None:
        self._operation()
        with self._mutex:
            self._lookup(path)
            del self._files[path]

    def listdir(self, path: str) -> list[str]:
        self._check_alive()
        with self._mutex:
            prefix = path.rstrip("/") + "/"
            names = {p[len(prefix) :].split("/")[0] for p in self._files if p.startswith(prefix)}
            names |= {d[len(prefix) :].split("/")[0] for d in self._dirs if d.startswith(prefix)}
            names.discard("")
            return sorted(names)

    def exists(self, path: str) -> bool:
        self._check_alive()
        with self._mutex:
            return path in self._files or path.rstrip("/") in self._dirs

    def makedirs(self, path: str) -> None:
        self._operation()
        with self._mutex:
            path = path.rstrip("/")
            while path and path not in self._dirs:
                self._dirs.add(path)
                path = posixpath.dirname(path)

    def sync_dir(self, path: str) -> None:
        self._operation()
        with self._mutex:
            prefix = path.rstrip("/") + "/"
            for name in [
                p for p in self._durable if p.startswith(prefix) and "/" not in p[len(prefix) :]
            ]:
                if self._files.get(name) is not self._durable[name]:
                    del self._durable[name]
            for name, node in self._files.items():
                if name.startswith(prefix) and "/" not in name[len(prefix) :]:
                    self._durable[name] = node

    def lock(self, path: str) -> FileLock:
        self._operation()
        with self._mutex:
            if path in self._locks:
                raise DirectoryLocked(f"data directory {posixpath.dirname(path)} is locked")
            self._locks.add(path)
        return _MemoryLock(self, path)

    def crash(self, *, torn: bool = False, seed: int = 0) -> MemoryFileSystem:
        """Return the filesystem as a power cut now would leave it.

        Every file keeps only its synced bytes (with ``torn``, also a random
        prefix of the unsynced ones; a mapped file keeps its allocated size,
        zeros after what survives); only directory entries made durable by
        ``sync_dir`` survive. Directories themselves are kept.
        """
        rng = random.Random(seed)
        after = MemoryFileSystem()
        with self._mutex:
            after._dirs = set(self._dirs)
            for name, node in self._durable.items():
                keep = node.synced
                if torn and len(node.data) > keep:
                    keep += rng.randrange(len(node.data) - keep + 1)
                after._files[name] = _MemoryFile(bytes(node.data[:keep]), keep, node.allocated)
                after._durable[name] = after._files[name]
        return after

    def corrupt(self, path: str, offset: int) -> None:
        """Flip every bit of the byte at ``offset`` of ``path`` (for corruption tests)."""
        with self._mutex:
            node = self._lookup(path)
            if offset >= len(node.data):
                node.data += bytes(offset + 1 - len(node.data))
            node.data[offset] ^= 0xFF

    def file_size(self, path: str) -> int:
        with self._mutex:
            node = self._lookup(path)
            return max(len(node.data), node.allocated)


class FaultInjectingFileSystem(MemoryFileSystem):
    """A MemoryFileSystem that crashes after ``budget`` mutating operations.

    Once crashed, every call raises SimulatedCrash, as if the process had
    died; ``crash()`` then gives the state to reopen from.
    """

    def __init__(self, budget: int | None = None) -> None:
        super().__init__()
        self.budget = budget
        self.operations = 0
        self.crashed = False

    def _operation(self) -> None:
        self._check_alive()
        self.operations += 1
        if self.budget is not None and self.operations > self.budget:
            self.crashed = True
            raise SimulatedCrash(f"simulated crash after {self.budget} operations")

    def _check_alive(self) -> None:
        if self.crashed:
            raise SimulatedCrash("the filesystem has crashed")

    def arm(self, budget: int) -> None:
        """Crash after ``budget`` more mutating operations."""
        self.budget = self.operations + budget

    def crash(self, *, torn: bool = False, seed: int = 0) -> FaultInjectingFileSystem:
        self.crashed = True
        plain = super().crash(torn=torn, seed=seed)
        after = FaultInjectingFileSystem()
        after._files, after._durable, after._dirs = plain._files, plain._durable, plain._dirs
        return after
