"""A point-in-time walk of the whole keyspace without fork: copy-on-write per key.

Owns producing the data set exactly as it was when the walk started, while
writes go on. Redis forks and lets the kernel copy pages; here the engine
calls ``before_write(db, keys)`` (under its lock) before it changes a key,
and the walk saves that key's old recreating commands first unless it has
already written the key out. The walk itself takes the engine lock for one
small chunk of keys at a time (``CHUNK_KEYS`` keys or ``CHUNK_SECONDS``,
whichever comes first) and hands what it collected to ``emit`` after
releasing the lock, so slow disks never stall the engine.

Bookkeeping: databases are walked in order; for the database being walked
the walk remembers the keys already emitted. A key saved by ``before_write``
is emitted from its saved copy (nothing if it did not exist at the start).
Saved keys never reached by the walk (deleted or renamed away since the
start) are emitted when their database is finished. ``before_write(db,
None)`` (FLUSHDB, FLUSHALL, SWAPDB) saves every key of that database not yet
emitted and freezes it: from then on it is emitted from the saved copies
only. Never writes files itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

CHUNK_KEYS = 256
CHUNK_SECONDS = 0.002
LOCK_POLL_SECONDS = 0.05

Emit = Callable[[int, bytes, list[list[bytes]]], None]


class WalkCancelled(Exception):
    """The walk was cancelled (the data directory is being closed)."""


class CopyOnWriteWalk:
    """Walk every key as of the moment ``start`` was called under the engine lock."""

    def __init__(self, engine: Any, chunk_keys: int = CHUNK_KEYS):
        self._engine = engine
        self._chunk_keys = chunk_keys
        self._dbs = len(engine.databases)
        self._saved: dict[tuple[int, bytes], list[list[bytes]]] = {}
        self._frozen: set[int] = set()
        self._cursor = 0  # databases below it are finished
        self._done: set[bytes] = set()  # emitted keys of the database at the cursor
        self.keys_processed = 0
        self.keys_total = 0
        self.cancelled = False

    def before_write(self, db: int, keys: list[bytes] | None) -> None:
        """Save the old value of ``keys`` of ``db`` (all keys if None; db -1 = all dbs).

        Called under the engine lock, before the change.
        """
        if keys is None:
            for target in range(self._dbs) if db < 0 else (db,):
                self._freeze(target)
            return
        if db < self._cursor or db in self._frozen:
            return
        for key in keys:
            self._save(db, key)

    def _save(self, db: int, key: bytes) -> None:
        if (db, key) in self._saved or (db == self._cursor and key in self._done):
            return
        self._saved[(db, key)] = self._engine.dump_key(db, key)

    def _freeze(self, db: int) -> None:
        if db < self._cursor or db in self._frozen or db >= self._dbs:
            return
        for key in _key_list(self._engine.databases[db]):
            self._save(db, key)
        self._frozen.add(db)

    def _acquire(self) -> None:
        lock = self._engine.lock
        while not lock.acquire(timeout=LOCK_POLL_SECONDS):
            if self.cancelled:
                raise WalkCancelled
        if self.cancelled:
            lock.release()
            raise WalkCancelled

    def run(self, emit: Emit) -> None:
        """Walk every database, calling ``emit(db, key, commands)`` outside the lock."""
        for db in range(self._dbs):
            self._acquire()
            try:
                self._cursor, self._done = db, set()
                keys = [] if db in self._frozen else _key_list(self._engine.databases[db])
                self.keys_total += len(keys)
            finally:
                self._engine.lock.release()
            position = 0
            while position < len(keys):
                out: list[tuple[int, bytes, list[list[bytes]]]] = []
                self._acquire()
                try:
                    position = self._chunk(db, keys, position, out)
                finally:
                    self._engine.lock.release()
                for item in out:
                    emit(*item)
            self._acquire()
            try:
                out = [
                    (saved_db, key, commands)
                    for (saved_db, key), commands in self._saved.items()
                    if saved_db == db and commands
                ]
                for saved_db, key, _ in out:
                    del self._saved[(saved_db, key)]
                self._saved = {k: v for k, v in self._saved.items() if k[0] != db}
                self._cursor, self._done = db + 1, set()
            finally:
                self._engine.lock.release()
            for item in out:
                emit(*item)
                self.keys_processed += 1

    def _chunk(
        self, db: int, keys: list[bytes], position: int, out: list[tuple[int, bytes, list]]
    ) -> int:
        deadline = time.perf_counter() + CHUNK_SECONDS
        end = min(len(keys), position + self._chunk_keys)
        done, saved = self._done, self._saved
        while position < end:
            if db in self._frozen:
                return len(keys)
            key = keys[position]
            position += 1
            if key in done:
                continue
            done.add(key)
            commands = saved.pop((db, key), None)
            if commands is None:
                commands = self._engine.dump_key(db, key)
            if commands:
                out.append((db, key, commands))
            self.keys_processed += 1
            if not position & 31 and time.perf_counter() > deadline:
                break
        return position


def _key_list(keyspace: Any) -> list[bytes]:
    """Return the keys of ``keyspace`` as a list of its own (no second copy)."""
    keys = keyspace.keys()
    return keys if isinstance(keys, list) else list(keys)
