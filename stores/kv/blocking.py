"""Arrival-order hand-off for threads blocked on keys (the in-process client).

The engine wakes every waiter of a key that changed, in the order they
blocked. A RESP server queues its woken clients and retries them in that
order on its one loop thread; threads of the in-process client would instead
race for the engine lock, and the first to get it would win. ``KeyWaiter``
gives threads the server's order: a woken waiter joins the engine's queue of
woken waiters and re-runs its command only when it is at the head of that
queue, then leaves it so the next one runs. Never runs a command itself and
never decides what is served: the blocked command does, when re-run.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class WokenQueue:
    """The woken waiters of one engine, in arrival (ticket) order.

    Guarded by the engine lock; ``turns`` is a condition on that lock.
    """

    def __init__(self, lock: threading.RLock) -> None:
        self.turns = threading.Condition(lock)
        self.waiters: deque[KeyWaiter] = deque()


class KeyWaiter:
    """One blocked thread's waiter: called by the engine (lock held) when woken."""

    def __init__(self, queue: WokenQueue) -> None:
        self._queue = queue
        self.woken = False
        self.ticket: int | None = None  # the engine's arrival order, kept across re-blocks

    def __call__(self) -> None:
        if not self.woken:
            self.woken = True
            # Ticket order, not wake order: a waiter that blocked again is
            # woken after later arrivals still queued from an earlier wake.
            waiters = self._queue.waiters
            position = len(waiters)
            ticket = _ticket(self)
            while position and _ticket(waiters[position - 1]) > ticket:
                position -= 1
            waiters.insert(position, self)
            self._queue.turns.notify_all()

    def _my_turn(self) -> bool:
        waiters = self._queue.waiters
        return bool(waiters) and waiters[0] is self

    def wait_turn(self, deadline: float | None) -> bool:
        """Wait (engine lock held, released meanwhile) until woken and first; False on timeout."""
        if deadline is None:
            return self._queue.turns.wait_for(self._my_turn)
        return self._queue.turns.wait_for(self._my_turn, max(0.0, deadline - time.monotonic()))

    def leave(self) -> None:
        """Leave the woken queue (engine lock held) and let the next waiter run."""
        if self.woken:
            self.woken = False
            self._queue.waiters.remove(self)
            self._queue.turns.notify_all()


def _ticket(waiter: KeyWaiter) -> int:
    return -1 if waiter.ticket is None else waiter.ticket
