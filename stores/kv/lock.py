"""``Client.lock()``: redis-py's ``Lock`` API on the in-process engine.

redis-py implements its lock with Lua scripts; the embedded engine runs no
Lua, but it does not need to: holding ``engine.lock`` makes "check the
token, then delete or extend" atomic, which is all the scripts are for.
Acquiring uses ``SET name token NX PX timeout`` exactly as redis-py does,
so a lock taken here expires like a Redis lock. Never blocks while holding
the engine lock.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from redis.exceptions import LockError, LockNotOwnedError


class Lock:
    """A named lock with an optional TTL, shaped like ``redis.lock.Lock``."""

    def __init__(
        self,
        client: Any,
        name: Any,
        timeout: float | None = None,
        sleep: float = 0.1,
        blocking: bool = True,
        blocking_timeout: float | None = None,
        thread_local: bool = True,
    ) -> None:
        self.client = client
        self.name = name
        self.timeout = timeout
        self.sleep = sleep
        self.blocking = blocking
        self.blocking_timeout = blocking_timeout
        self.local: Any = threading.local() if thread_local else type("Local", (), {})()
        self.local.token = None

    def __enter__(self) -> Lock:
        if self.acquire():
            return self
        raise LockError("Unable to acquire lock within the time specified", lock_name=self.name)

    def __exit__(self, *exc_info: Any) -> None:
        self.release()

    def _timeout_ms(self, seconds: float | None) -> int | None:
        return None if seconds is None else int(seconds * 1000)

    def acquire(
        self,
        sleep: float | None = None,
        blocking: bool | None = None,
        blocking_timeout: float | None = None,
        token: Any = None,
    ) -> bool:
        """Take the lock; wait (polling every ``sleep`` s) while ``blocking``."""
        sleep = self.sleep if sleep is None else sleep
        blocking = self.blocking if blocking is None else blocking
        blocking_timeout = self.blocking_timeout if blocking_timeout is None else blocking_timeout
        token = uuid.uuid4().hex.encode() if token is None else self.client._encode(token)
        deadline = None if blocking_timeout is None else time.monotonic() + blocking_timeout
        while True:
            if self.client.set(self.name, token, nx=True, px=self._timeout_ms(self.timeout)):
                self.local.token = token
                return True
            if not blocking:
                return False
            if deadline is not None and time.monotonic() + sleep > deadline:
                return False
            time.sleep(sleep)

    def locked(self) -> bool:
        """Return True if anyone holds the lock."""
        return self.client.exists(self.name) == 1

    def owned(self) -> bool:
        """Return True if this object (this thread, if thread-local) holds the lock."""
        token = self.local.token
        if token is None:
            return False
        stored = self.client.get(self.name)
        if isinstance(stored, str):
            stored = stored.encode()
        return stored == token

    def release(self) -> None:
        """Release the lock; raise LockNotOwnedError if it is no longer ours."""
        token = self.local.token
        if token is None:
            raise LockError("Cannot release an unlocked lock", lock_name=self.name)
        self.local.token = None
        with self.client.engine.lock:
            if not self._holds(token):
                raise LockNotOwnedError(
                    "Cannot release a lock that's no longer owned", lock_name=self.name
                )
            self.client.delete(self.name)

    def extend(self, additional_time: float, replace_ttl: bool = False) -> bool:
        """Add ``additional_time`` seconds to the TTL (or set it, with ``replace_ttl``)."""
        token = self.local.token
        if token is None:
            raise LockError("Cannot extend an unlocked lock", lock_name=self.name)
        if self.timeout is None:
            raise LockError("Cannot extend a lock with no timeout", lock_name=self.name)
        with self.client.engine.lock:
            if not self._holds(token):
                raise LockNotOwnedError(
                    "Cannot extend a lock that's no longer owned", lock_name=self.name
                )
            extra = int(additional_time * 1000)
            current = self.client.pttl(self.name)
            self.client.pexpire(self.name, extra if replace_ttl or current < 0 else current + extra)
        return True

    def reacquire(self) -> bool:
        """Reset the TTL to the lock's timeout."""
        token = self.local.token
        if token is None:
            raise LockError("Cannot reacquire an unlocked lock", lock_name=self.name)
        if self.timeout is None:
            raise LockError("Cannot reacquire a lock with no timeout", lock_name=self.name)
        with self.client.engine.lock:
            if not self._holds(token):
                raise LockNotOwnedError(
                    "Cannot reacquire a lock that's no longer owned", lock_name=self.name
                )
            self.client.pexpire(self.name, int(self.timeout * 1000))
        return True

    def _holds(self, token: bytes) -> bool:
        stored = self.client.get(self.name)
        if isinstance(stored, str):
            stored = stored.encode()
        return stored == token
