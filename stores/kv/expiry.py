"""Key expiry: the clock and the active expire cycle.

Keys expire lazily when a lookup finds them past their time (see
``Keyspace.get``) and actively here: ``ActiveExpiry.cycle`` samples keys
that have a TTL, as Redis's ``activeExpireCycle`` does, deletes the expired
ones and keeps sampling a database while more than 10% of a sample was
expired, within a time budget. Time comes from the engine's injectable
``clock`` (milliseconds), so tests move time without sleeping. This module
never sleeps and never takes the lock itself (the cron holds it).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stores.kv.engine import Engine

KEYS_PER_LOOP = 20
ACCEPTABLE_STALE_PERCENT = 10
CYCLE_BUDGET_FRACTION = 0.25


def wall_clock_ms() -> int:
    """Return the Unix time in milliseconds (the default engine clock)."""
    return time.time_ns() // 1_000_000


class ManualClock:
    """A clock tests move by hand: ``clock.advance(1500)``."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self.now = start_ms

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        """Move time forward by ``ms`` milliseconds."""
        self.now += ms


class ActiveExpiry:
    """The active expire cycle over every database of one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.last_expired = 0
        self.last_sampled = 0

    def cycle(self, budget_seconds: float | None = None) -> int:
        """Expire sampled keys past their time; return how many were deleted."""
        engine = self.engine
        if budget_seconds is None:
            budget_seconds = CYCLE_BUDGET_FRACTION / max(engine.config.get("hz"), 1)
        effort = engine.config.get("active-expire-effort")
        per_loop = KEYS_PER_LOOP + KEYS_PER_LOOP // 4 * (effort - 1)
        deadline = time.perf_counter() + budget_seconds
        expired_total = sampled_total = 0
        for ks in engine.databases:
            if not ks.expires:
                continue
            while True:
                now = engine.clock()
                sample = ks.next_volatile_keys(per_loop)
                if not sample:
                    break
                expired = 0
                for key in sample:
                    when = ks.expires.get(key)
                    if when is not None and when <= now:
                        ks.expire_now(key)
                        expired += 1
                expired_total += expired
                sampled_total += len(sample)
                if expired * 100 <= len(sample) * ACCEPTABLE_STALE_PERCENT:
                    break
                if time.perf_counter() > deadline:
                    self.last_expired, self.last_sampled = expired_total, sampled_total
                    return expired_total
        self.last_expired, self.last_sampled = expired_total, sampled_total
        return expired_total
