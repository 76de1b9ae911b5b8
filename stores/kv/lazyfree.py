"""Lazy freeing: large values are emptied in small chunks off the engine lock.

Dropping the last reference to a collection with a million elements makes
CPython free them all in one go, holding the GIL for tens of milliseconds.
Like Redis's lazyfree, ``LazyFree`` takes such values (and the whole dicts
that FLUSHDB/FLUSHALL replace) and empties them from a background thread a
few hundred elements at a time, yielding the GIL between chunks, so no
command waits behind a big delete. Small values are never queued: freeing
them inline is cheaper than the hand-off. Never touches the keyspace.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

LAZY_THRESHOLD = 1024
CHUNK = 512


def _drain(value: Any) -> None:
    """Empty ``value`` chunk by chunk, sleeping 0 s between chunks to yield the GIL."""
    members = getattr(value, "members", None)
    if members is not None:
        _drain(members)
        sl = value.sl
        while len(sl):
            del sl[-CHUNK:]
            time.sleep(0)
        return
    if isinstance(value, dict):
        pop = value.popitem
    elif isinstance(value, deque):
        pop = value.pop
    elif isinstance(value, (set, list)):
        pop = value.pop
    else:
        return
    while value:
        for _ in range(min(CHUNK, len(value))):
            pop()
        time.sleep(0)


class LazyFree:
    """A background thread that empties large values handed to it."""

    def __init__(self) -> None:
        self._queue: deque = deque()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.pending = 0
        self.freed = 0

    def should_defer(self, value: Any) -> bool:
        """Return True if freeing ``value`` inline could stall other clients."""
        return type(value) is not bytes and len(value) > LAZY_THRESHOLD

    def submit(self, value: Any) -> None:
        """Free ``value`` in the background (inline once closed)."""
        with self._wake:
            if self._closed:
                return
            self._queue.append(value)
            self.pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="kv-lazyfree", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._wake.wait()
                if not self._queue:
                    return
                value = self._queue.popleft()
            _drain(value)
            with self._wake:
                self.pending -= 1
                self.freed += 1
                self._wake.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every submitted value is freed; return False on timeout."""
        deadline = time.monotonic() + timeout
        with self._wake:
            while self.pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake.wait(remaining)
        return True

    def close(self) -> None:
        """Finish the queue and stop the thread."""
        with self._wake:
            self._closed = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
