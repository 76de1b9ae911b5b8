"""Runs compaction tasks on one background thread, throttled.

Owns the thread, its wake-ups and the throughput throttle. Asks the engine
for the next task (the engine consults the pure policy) and hands it back to
the engine to execute; never chooses SSTables itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Throttle:
    """Limits bytes per second (0 = unlimited) by sleeping the caller."""

    def __init__(self, bytes_per_second: float) -> None:
        self.rate = bytes_per_second
        self._start = time.monotonic()
        self._consumed = 0.0

    def consume(self, amount: int) -> None:
        if self.rate <= 0:
            return
        self._consumed += amount
        ahead = self._consumed / self.rate - (time.monotonic() - self._start)
        if ahead > 0:
            time.sleep(min(ahead, 1.0))


class CompactionExecutor:
    """A daemon thread that runs ``run_once`` until it reports nothing to do."""

    def __init__(self, run_once: Callable[[], bool]) -> None:
        self._run_once = run_once
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self.failures: list[str] = []
        self._thread = threading.Thread(target=self._loop, name="wide-compaction", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Ask the thread to look for work."""
        self._idle.clear()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            while not self._stop.is_set():
                try:
                    if not self._run_once():
                        break
                except Exception as exc:  # keep the engine serving reads and writes
                    log.exception("compaction failed")
                    self.failures.append(f"{type(exc).__name__}: {exc}")
                    break
            if not self._wake.is_set():
                self._idle.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the thread has nothing left to do (for tests and close)."""
        return self._idle.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join()
