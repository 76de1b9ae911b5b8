"""Batch the engine's per-command persistence flush over a pipeline.

The engine calls ``persistence.after_command()`` after every command so that
the append-only file is written (and, with ``appendfsync always``, fsynced)
before the reply is released. A server that answers a whole batch of
pipelined commands with one socket write only has to do that once per
batch, before the batch's replies are written: Redis, too, writes its AOF
buffer once per event-loop iteration. ``BatchedPersistence`` wraps the
engine's persistence object, turns ``after_command`` into a cheap mark while
a batch runs, and ``flush()`` does the real work once. Everything else is
passed through untouched. Never writes a reply itself.
"""

from __future__ import annotations

from typing import Any


class BatchedPersistence:
    """A persistence object whose ``after_command`` is deferred inside a batch."""

    def __init__(self, inner: Any) -> None:
        self.__dict__["_inner"] = inner
        self.__dict__["_batching"] = False
        self.__dict__["_pending"] = False
        # The hooks called for every write, bound once: no __getattr__ on the hot path.
        self.__dict__["propagate"] = inner.propagate
        self.__dict__["before_write"] = inner.before_write

    @property
    def rewriting(self) -> bool:
        """Return the wrapped object's ``rewriting`` (read on every write command)."""
        return self._inner.rewriting

    @property
    def inner(self) -> Any:
        """Return the wrapped persistence object."""
        return self._inner

    def begin_batch(self) -> None:
        """Defer ``after_command`` until ``flush``."""
        self.__dict__["_batching"] = True

    def end_batch(self) -> None:
        """Stop deferring, then ``flush``."""
        self.__dict__["_batching"] = False
        self.flush()

    def flush(self) -> None:
        """Do the deferred ``after_command`` work, if any.

        Raises what the wrapped ``after_command`` raises (a failed write or
        fsync): the caller must then not release the replies it covers.
        """
        if self._pending:
            self.__dict__["_pending"] = False
            self._inner.after_command()

    def after_command(self) -> None:
        """Write now, or remember to write when the batch is flushed."""
        if self._batching:
            self.__dict__["_pending"] = True
        else:
            self._inner.after_command()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)
