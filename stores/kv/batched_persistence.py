"""Batch the engine's per-command persistence flush over a pipeline.

The engine calls ``persistence.after_command()`` after every command so that
the append-only file is written (and, with ``appendfsync always``, fsynced)
before the reply is released. A server that answers a whole batch of
pipelined commands with one socket write only has to do that once per
batch, before the batch's replies are written: Redis, too, writes its AOF
buffer once per event-loop iteration. ``BatchedPersistence`` wraps the
engine's persistence object, turns ``after_command`` into a cheap mark while
a batch runs, and ``flush()`` does the real work once: one ``write`` (and
with ``appendfsync always`` one fsync) for the whole batch. Only the thread
running the batch defers: an in-process client sharing the engine from
another thread still gets its own ``after_command`` before its reply.
Everything else is passed through untouched. Never writes a reply itself.
"""

from __future__ import annotations

from threading import get_ident
from typing import Any


class BatchedPersistence:
    """A persistence object whose ``after_command`` is deferred inside a batch.

    The server sets ``batching`` while it runs a batch and, when ``pending``
    is set at the end, calls ``flush`` before writing the replies.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._batch_thread: int | None = None  # the thread running a batch, if any
        self.pending = False
        # The hooks called for every write, bound once: no __getattr__ on the hot path.
        self.propagate = inner.propagate
        self.before_write = inner.before_write

    @property
    def batching(self) -> bool:
        """Return True while a batch runs (on the thread that set it)."""
        return self._batch_thread is not None

    @batching.setter
    def batching(self, value: bool) -> None:
        self._batch_thread = get_ident() if value else None

    @property
    def rewriting(self) -> bool:
        """Return the wrapped object's ``rewriting`` (read on every write command)."""
        return self.inner.rewriting

    @property
    def write_error(self) -> str | None:
        """Return the wrapped object's ``write_error`` (read on every write command)."""
        return getattr(self.inner, "write_error", None)

    def begin_batch(self) -> None:
        """Defer ``after_command`` until ``flush``."""
        self._batch_thread = get_ident()

    def stop_batching(self) -> None:
        """Stop deferring; what is pending stays pending until ``flush``."""
        self._batch_thread = None

    def end_batch(self) -> None:
        """Stop deferring, then ``flush``."""
        self._batch_thread = None
        self.flush()

    def flush(self) -> None:
        """Do the deferred ``after_command`` work, if any.

        Raises what the wrapped ``after_command`` raises (a failed write or
        fsync): the caller must then not release the replies it covers.
        """
        if self.pending:
            self.pending = False
            self.inner.after_command()

    def after_command(self) -> None:
        """Write now, or remember to write when the batch is flushed.

        Only the batch's own thread defers: another thread's reply must not
        wait for a flush it does not control.
        """
        if self._batch_thread == get_ident():
            self.pending = True
        else:
            self.inner.after_command()

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not set above: everything else is the wrapped object's.
        return getattr(self.__dict__["inner"], name)
