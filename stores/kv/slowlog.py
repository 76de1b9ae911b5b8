"""The slow log: the last commands that ran longer than a threshold.

Holds at most ``slowlog-max-len`` entries, newest first, with Redis's entry
shape (id, unix time, microseconds, argv, client address, client name).
Arguments are trimmed as Redis trims them so the log never grows memory
without bound. It never measures time itself: the engine passes durations.
"""

from __future__ import annotations

import time
from collections import deque

MAX_ARGC = 32
MAX_ARG_BYTES = 128


class SlowLog:
    """A bounded log of slow commands."""

    def __init__(self, max_len: int = 128) -> None:
        self.entries: deque = deque(maxlen=max(max_len, 0) or None)
        self.max_len = max_len
        self.next_id = 0

    def resize(self, max_len: int) -> None:
        """Keep at most ``max_len`` entries from now on."""
        self.max_len = max_len
        self.entries = deque(list(self.entries)[:max_len], maxlen=max_len or None)

    def add(self, argv: list[bytes], micros: int, peer: bytes, name: bytes) -> None:
        """Record one slow command."""
        if self.max_len == 0:
            return
        shown = list(argv[:MAX_ARGC])
        if len(argv) > MAX_ARGC:
            shown[-1] = b"... (%d more arguments)" % (len(argv) - MAX_ARGC + 1)
        shown = [
            a
            if len(a) <= MAX_ARG_BYTES
            else a[:MAX_ARG_BYTES] + b"... (%d more bytes)" % (len(a) - MAX_ARG_BYTES)
            for a in shown
        ]
        self.entries.appendleft([self.next_id, int(time.time()), micros, shown, peer, name])
        self.next_id += 1

    def get(self, count: int) -> list:
        """Return the newest ``count`` entries (all of them if count < 0)."""
        items = list(self.entries)
        return items if count < 0 else items[:count]

    def reset(self) -> None:
        """Forget every entry."""
        self.entries.clear()
