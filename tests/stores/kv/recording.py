"""A persistence hook object that records what the engine hands it."""

from __future__ import annotations


class RecordingPersistence:
    """Implements the hook interface of docs/kv/engine-api.md and keeps every call."""

    enabled = True

    def __init__(self) -> None:
        self.rewriting = False
        self.propagated: list[tuple[int, list[bytes]]] = []
        self.before: list[tuple[int, list[bytes] | None]] = []
        self.after = 0
        self.write_error = None

    def propagate(self, db, argv):
        self.propagated.append((db, list(argv)))

    def before_write(self, db, keys):
        self.before.append((db, None if keys is None else list(keys)))

    def after_command(self):
        self.after += 1

    def commands(self):
        return [argv for _, argv in self.propagated]
