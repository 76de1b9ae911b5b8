"""The persistence hook interface the engine calls, and its no-op implementation.

The engine talks to persistence only through the methods below (see
docs/kv/engine-api.md). ``NoPersistence`` serves ``memory:`` engines: it
keeps nothing, so SAVE and friends succeed without touching any disk. This
module never opens a file.
"""

from __future__ import annotations

import time
from typing import Any


class NoPersistence:
    """Persistence for a ``memory:`` engine: every hook does nothing."""

    enabled = False
    rewriting = False

    def __init__(self) -> None:
        self.last_save = int(time.time())

    def propagate(self, db: int, argv: list[bytes]) -> None:
        """Accept a propagated write and keep nothing."""

    def before_write(self, db: int, keys: list[bytes] | None) -> None:
        """Nothing to copy: no rewrite ever runs."""

    def after_command(self) -> None:
        """Nothing to fsync."""

    def save(self) -> str:
        """Pretend a snapshot was written (there is nowhere to write it)."""
        self.last_save = int(time.time())
        return "OK"

    def bgsave(self, schedule: bool = False) -> str:
        """Return BGSAVE's status text after a no-op save."""
        self.save()
        return "Background saving started"

    def bgrewriteaof(self) -> str:
        """Return BGREWRITEAOF's status text; there is no file to rewrite."""
        return "Background append only file rewriting started"

    def lastsave(self) -> int:
        """Return the Unix time of the last (pretend) save."""
        return self.last_save

    def info(self) -> dict[str, Any]:
        """Return the INFO persistence fields for a memory engine."""
        return {
            "loading": 0,
            "rdb_changes_since_last_save": 0,
            "rdb_bgsave_in_progress": 0,
            "rdb_last_save_time": self.last_save,
            "rdb_last_bgsave_status": "ok",
            "aof_enabled": 0,
            "aof_rewrite_in_progress": 0,
            "aof_rewrite_scheduled": 0,
            "aof_last_bgrewrite_status": "ok",
            "aof_last_write_status": "ok",
        }

    def close(self) -> None:
        """Nothing to flush or unlock."""
