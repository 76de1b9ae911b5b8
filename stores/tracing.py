"""Record what each request asked of the stores, for the "What this page did" panel.

Owns the per-request ``Trace`` (held in a context variable) and the thin
proxies ``stores.clients`` wraps around every handle it builds. A proxy adds
one context-variable lookup per call when no trace is active and otherwise
appends one ``StoreEvent``; it never changes arguments, return values or the
exceptions a handle raises, so code written for redis-py or cassandra-driver
behaves exactly as before. Store errors are remembered on the trace so the
site can tell a store failure from any other exception.

Events are recorded unformatted where it matters: the page cache's read
(``stores.cache.KVCache.get``) keeps the key, time and reply as a ``KVGet``
tuple, and a pipeline keeps its queued commands as they were called
(``KVPipeline``); their texts are made when the panel reads them, and the
texts of commands and statements that repeat from request to request are
remembered in bounded tables, so a traced request does little string work.
"""

from __future__ import annotations

import contextvars
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from operator import itemgetter

MAX_EVENTS = 500
MAX_ARG_CHARS = 60
MAX_ARGS_SHOWN = 6


@dataclass
class StoreEvent:
    """One command or statement sent to a store."""

    store: str  # "kv" or "wide"
    label: str  # which handle: "main", "pages"
    text: str  # the command or CQL statement, arguments abbreviated
    seconds: float
    outcome: str = ""  # e.g. "hit", "miss", "3 rows", or the error
    failed: bool = False

    @property
    def milliseconds(self) -> float:
        return self.seconds * 1000.0


class KVGet(tuple):
    """A GET sent to a key-value store, formatted only when something reads it.

    What ``stores.cache.KVCache.get`` records on every cached page: the
    key, the time and the reply, kept as they are (a tuple, built in C), so
    the hot path does no string work; ``text`` and ``outcome`` read as a
    ``StoreEvent``'s would.
    """

    __slots__ = ()
    store = "kv"
    label = property(itemgetter(0), doc="Which handle: main or pages.")
    key = property(itemgetter(1), doc="The key, as sent.")
    seconds = property(itemgetter(2), doc="How long the engine took.")
    reply = property(itemgetter(3), doc="The engine's reply: bytes, None or an ErrorReply.")
    failed = property(itemgetter(4), doc="True if the reply was an error.")

    def __new__(cls, label: str, key: str, seconds: float, reply, failed: bool = False):
        return tuple.__new__(cls, (label, key, seconds, reply, failed))

    @property
    def text(self) -> str:
        return _command_text("get", (self.key,), {})

    @property
    def outcome(self) -> str:
        if self.failed:
            return getattr(self.reply, "message", repr(self.reply))
        return _kv_outcome("get", self.reply)

    @property
    def milliseconds(self) -> float:
        return self.seconds * 1000.0

    def __repr__(self) -> str:
        return f"<KVGet {self.label} {self.text!r} {self.outcome} {self.milliseconds:.3f} ms>"


# KVGet without its Python __new__: (label, key, seconds, reply, failed).
new_kv_get = partial(tuple.__new__, KVGet)


class CacheNote(tuple):
    """What the page cache did with one key: (key, hit, what), a tuple built in C."""

    __slots__ = ()
    key = property(itemgetter(0), doc="The cache key.")
    hit = property(itemgetter(1), doc="True if the key was found.")
    what = property(itemgetter(2), doc="What the key holds, in words.")

    def __new__(cls, key: str, hit: bool, what: str):
        return tuple.__new__(cls, (key, hit, what))

    def __repr__(self) -> str:
        return f"CacheNote(key={self.key!r}, hit={self.hit!r}, what={self.what!r})"


_new_cache_note = partial(tuple.__new__, CacheNote)


@dataclass(slots=True)
class Trace:
    """Everything one request did in the stores."""

    events: list[StoreEvent | KVGet] = field(default_factory=list)
    cache_notes: list[CacheNote] = field(default_factory=list)
    dropped: int = 0
    errors: list[BaseException] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def add(self, event: StoreEvent | KVGet) -> None:
        """Append an event, counting (not keeping) those past the cap."""
        if len(self.events) < MAX_EVENTS:
            self.events.append(event)
        else:
            self.dropped += 1

    def note_cache(self, key: str, hit: bool, what: str) -> None:
        """Record a page-cache lookup and whether it hit."""
        self.cache_notes.append(_new_cache_note((key, hit, what)))

    def total_seconds(self, store: str) -> float:
        """Return the time spent in one store."""
        return sum(e.seconds for e in self.events if e.store == store)

    def count(self, store: str) -> int:
        """Return how many commands or statements went to one store."""
        return sum(1 for e in self.events if e.store == store)

    def is_store_error(self, exc: BaseException) -> bool:
        """Return True if exc (or what it was raised from) came out of a store."""
        seen = 0
        while exc is not None and seen < 10:
            if any(exc is err for err in self.errors):
                return True
            exc = exc.__cause__ or exc.__context__
            seen += 1
        return False


_current: contextvars.ContextVar[Trace | None] = contextvars.ContextVar("store_trace", default=None)


# current() returns the active trace, or None outside a traced request. The
# context variable's own get: every store command and cache read asks.
current = _current.get


class TraceScope:
    """A fresh trace, active inside a ``with`` block (``tracing()``'s context manager).

    A class rather than ``contextlib.contextmanager``: every request enters
    one, and a generator-based manager costs several times as much.
    """

    __slots__ = ("trace", "_token")

    def __init__(self) -> None:
        self.trace = Trace()

    def __enter__(self) -> Trace:
        self._token = _set_current(self.trace)
        return self.trace

    def __exit__(self, *exc_info) -> None:
        _reset_current(self._token)


_set_current = _current.set
_reset_current = _current.reset


def tracing() -> TraceScope:
    """Return a context manager that makes a fresh trace active for its block."""
    return TraceScope()


def _printable(text: str) -> str:
    """Escape what a page cannot show (NUL and other control bytes) as redis-cli does."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def _short(value) -> str:
    if isinstance(value, bytes):
        text = value.decode("utf-8", "backslashreplace")
    else:
        text = str(value)
    text = _printable(text)
    if len(text) > MAX_ARG_CHARS:
        text = text[: MAX_ARG_CHARS - 1] + "…"
    return text


def _command_text(name: str, args: tuple, kwargs: dict) -> str:
    parts = [name.upper()]
    for arg in args[:MAX_ARGS_SHOWN]:
        if isinstance(arg, dict):
            parts.extend(f"{_short(k)}" for k in list(arg)[:MAX_ARGS_SHOWN])
        elif isinstance(arg, list | tuple):
            parts.extend(_short(a) for a in arg[:MAX_ARGS_SHOWN])
        else:
            parts.append(_short(arg))
    if len(args) > MAX_ARGS_SHOWN:
        parts.append(f"(+{len(args) - MAX_ARGS_SHOWN} more)")
    parts.extend(f"{k}={_short(v)}" for k, v in kwargs.items() if v not in (None, False))
    return " ".join(parts)


def _kv_outcome(name: str, result) -> str:
    if name in ("get", "getex", "getdel"):
        return "nil" if result is None else "value"
    if name == "mget" and isinstance(result, list):
        found = sum(1 for v in result if v is not None)
        return f"{found}/{len(result)} found"
    if isinstance(result, bool | int):
        return str(result)
    return ""


# Methods of a redis-py client that do not send a command.
_KV_LOCAL = frozenset(
    {
        "pipeline",
        "pubsub",
        "lock",
        "close",
        "connection_pool",
        "get_connection_kwargs",
        "get_encoder",
        "get_retry",
        "set_retry",
        "set_response_callback",
        "register_script",
    }
)


# Bounds each table of remembered texts (commands, pipelines, statements).
TEXT_MEMO_SIZE = 4096
# A command with a longer str/bytes argument (a stored page) is never kept.
MEMO_ARG_CHARS = 200
# Immutable argument types whose text depends only on their value.
_MEMO_TYPES = frozenset(
    {str, bytes, int, float, bool, type(None), datetime, date, timedelta, uuid.UUID}
)
_command_texts: dict[tuple, str] = {}
_pipeline_texts: dict[tuple, str] = {}


def _command_key(name: str, args: tuple, kwargs: dict) -> tuple | None:
    """Return a command's memo key, or None if its arguments are not plain immutable values.

    The key holds the arguments' types as well as their values, because 1,
    1.0 and True are equal keys but read "1", "1.0" and "True".
    """
    types = tuple(map(type, args))
    if not _MEMO_TYPES.issuperset(types):
        return None
    if not kwargs:
        return (name, args, types)
    values = tuple(kwargs.values())
    value_types = tuple(map(type, values))
    if not _MEMO_TYPES.issuperset(value_types):
        return None
    return (name, args, types, tuple(kwargs), values, value_types)


def _small(args: tuple, kwargs: dict) -> bool:
    for value in (*args, *kwargs.values()):
        if (type(value) is str or type(value) is bytes) and len(value) > MEMO_ARG_CHARS:
            return False
    return True


def _remember(memo: dict, key: tuple, text: str) -> None:
    if len(memo) >= TEXT_MEMO_SIZE:
        memo.clear()
    memo[key] = text


def command_text(name: str, args: tuple, kwargs: dict) -> str:
    """Return a command's text as the panel shows it, remembered for repeated commands.

    Only commands whose arguments are small immutable values are remembered.
    """
    key = _command_key(name, args, kwargs)
    if key is None:
        return _command_text(name, args, kwargs)
    text = _command_texts.get(key)
    if text is None:
        text = _command_text(name, args, kwargs)
        if _small(args, kwargs):
            _remember(_command_texts, key, text)
    return text


def pipeline_text(commands) -> str:
    """Return a pipeline's text as the panel shows it (commands: (name, args, kwargs) each).

    Remembered whole, as its commands are: a page's view counting queues
    the same commands on every visit.
    """
    keys = tuple(_command_key(name, args, kwargs) for name, args, kwargs in commands)
    remembered = None not in keys
    if remembered:
        text = _pipeline_texts.get(keys)
        if text is not None:
            return text
    text = "PIPELINE " + " | ".join(
        command_text(name, args, kwargs) for name, args, kwargs in commands[:MAX_ARGS_SHOWN]
    )
    if len(commands) > MAX_ARGS_SHOWN:
        text += f" | (+{len(commands) - MAX_ARGS_SHOWN} more)"
    if remembered and all(_small(args, kwargs) for _, args, kwargs in commands):
        _remember(_pipeline_texts, keys, text)
    return text


class KVPipeline(tuple):
    """A pipeline sent to a key-value store, its text made only when something reads it.

    (label, commands, seconds, outcome, failed), where commands holds each
    queued call as it was made: (method name, args, kwargs). Reading
    ``text`` formats them, so the arguments show as they are at that time.
    """

    __slots__ = ()
    store = "kv"
    label = property(itemgetter(0), doc="Which handle: main or pages.")
    commands = property(itemgetter(1), doc="The queued calls: (name, args, kwargs).")
    seconds = property(itemgetter(2), doc="How long execute() took.")
    outcome = property(itemgetter(3), doc='"N replies", or the error.')
    failed = property(itemgetter(4), doc="True if execute() raised.")

    def __new__(cls, label: str, commands, seconds: float, outcome: str, failed: bool = False):
        return tuple.__new__(cls, (label, commands, seconds, outcome, failed))

    @property
    def text(self) -> str:
        return pipeline_text(self[1])

    @property
    def milliseconds(self) -> float:
        return self.seconds * 1000.0

    def __repr__(self) -> str:
        return f"<KVPipeline {self.label} {self.text!r} {self.outcome} {self.milliseconds:.3f} ms>"


_new_kv_pipeline = partial(tuple.__new__, KVPipeline)
_PIPELINE_OWN = frozenset({"execute", "reset", "watch"})


class TracedPipeline:
    """A pipeline proxy that records the whole batch as one event on execute()."""

    def __init__(self, pipeline, label: str):
        self._pipeline = pipeline
        self._label = label
        self._queued: list[tuple] = []

    def __getattr__(self, name):
        attr = getattr(self._pipeline, name)
        if not callable(attr) or name.startswith("_") or name in _PIPELINE_OWN:
            return attr
        pipeline = self._pipeline

        def queue(*args, **kwargs):
            self._queued.append((name, args, kwargs))
            result = attr(*args, **kwargs)
            return self if result is pipeline else result

        # Keep the wrapper: a pipeline used again finds it without __getattr__.
        self.__dict__[name] = queue
        return queue

    def __enter__(self):
        self._pipeline.__enter__()
        return self

    def __exit__(self, *exc_info):
        return self._pipeline.__exit__(*exc_info)

    def __len__(self) -> int:
        return len(self._pipeline)

    def execute(self, *args, **kwargs):
        commands, self._queued = self._queued, []
        trace = _current.get()
        if trace is None:
            return self._pipeline.execute(*args, **kwargs)
        start = time.perf_counter()
        try:
            result = self._pipeline.execute(*args, **kwargs)
        except Exception as exc:
            trace.errors.append(exc)
            trace.add(
                _new_kv_pipeline(
                    (self._label, commands, time.perf_counter() - start, str(exc), True)
                )
            )
            raise
        elapsed = time.perf_counter() - start
        trace.add(
            _new_kv_pipeline((self._label, commands, elapsed, f"{len(commands)} replies", False))
        )
        return result

    def reset(self):
        self._queued = []
        return self._pipeline.reset()


class TracedKV:
    """A redis-py shaped handle that records each command in the active trace."""

    def __init__(self, handle, label: str, description: str):
        self._handle = handle
        self.trace_label = label
        self.trace_description = description

    @property
    def wrapped(self):
        """Return the handle without tracing."""
        return self._handle

    def __getattr__(self, name):
        attr = getattr(self._handle, name)
        if not callable(attr) or name.startswith("_") or name in _KV_LOCAL:
            if name == "pipeline":
                return self._pipeline
            return attr
        call = self._traced(name, attr)
        # Keep the wrapper: later lookups find it without __getattr__.
        self.__dict__[name] = call
        return call

    def _traced(self, name: str, attr):
        label = self.trace_label

        def call(*args, **kwargs):
            trace = _current.get()
            if trace is None:
                return attr(*args, **kwargs)
            start = time.perf_counter()
            try:
                result = attr(*args, **kwargs)
            except Exception as exc:
                trace.errors.append(exc)
                text = command_text(name, args, kwargs)
                trace.add(
                    StoreEvent("kv", label, text, time.perf_counter() - start, str(exc), True)
                )
                raise
            elapsed = time.perf_counter() - start
            trace.add(
                StoreEvent(
                    "kv",
                    label,
                    command_text(name, args, kwargs),
                    elapsed,
                    _kv_outcome(name, result),
                )
            )
            return result

        return call

    def _pipeline(self, *args, **kwargs):
        return TracedPipeline(self._handle.pipeline(*args, **kwargs), self.trace_label)

    def __repr__(self) -> str:
        return f"<TracedKV {self.trace_label} {self._handle!r}>"


_statement_texts: dict[str, tuple[str, bool]] = {}


def statement_text(query) -> tuple[str, bool]:
    """Return (the statement's text on one line, whether it is a SELECT), remembered."""
    raw = _statement_text(query)
    known = _statement_texts.get(raw)
    if known is None:
        text = " ".join(raw.split())
        known = (text, text.upper().startswith("SELECT"))
        if len(_statement_texts) >= TEXT_MEMO_SIZE:
            _statement_texts.clear()
        _statement_texts[raw] = known
    return known


def _statement_text(query) -> str:
    prepared = getattr(query, "prepared_statement", None)
    if prepared is not None:
        return str(getattr(prepared, "query_string", prepared))
    statements = getattr(query, "_statements_and_parameters", None)
    if statements is not None:
        return f"BATCH of {len(statements)} statements"
    return str(getattr(query, "query_string", query))


class TracedSession:
    """A cassandra-driver shaped Session that records each statement in the active trace."""

    def __init__(self, session, label: str, description: str):
        self._session = session
        self.trace_label = label
        self.trace_description = description

    @property
    def wrapped(self):
        """Return the Session without tracing."""
        return self._session

    def __getattr__(self, name):
        return getattr(self._session, name)

    def execute(self, query, parameters=None, *args, **kwargs):
        trace = _current.get()
        if trace is None:
            return self._session.execute(query, parameters, *args, **kwargs)
        text, select = statement_text(query)
        if kwargs.get("paging_state"):
            text += "  [from paging state]"
        start = time.perf_counter()
        try:
            result = self._session.execute(query, parameters, *args, **kwargs)
        except Exception as exc:
            trace.errors.append(exc)
            trace.add(
                StoreEvent(
                    "wide", self.trace_label, text, time.perf_counter() - start, str(exc), True
                )
            )
            raise
        elapsed = time.perf_counter() - start
        rows = getattr(result, "current_rows", None)
        if select and isinstance(rows, list):
            outcome = f"{len(rows)} row{'' if len(rows) == 1 else 's'}"
        else:
            outcome = "done"
        trace.add(StoreEvent("wide", self.trace_label, text, elapsed, outcome))
        return result

    def prepare(self, query, *args, **kwargs):
        trace = _current.get()
        if trace is None:
            return self._session.prepare(query, *args, **kwargs)
        start = time.perf_counter()
        try:
            result = self._session.prepare(query, *args, **kwargs)
        except Exception as exc:
            trace.errors.append(exc)
            raise
        text = "PREPARE " + " ".join(str(query).split())
        trace.add(
            StoreEvent("wide", self.trace_label, text, time.perf_counter() - start, "prepared")
        )
        return result

    def __repr__(self) -> str:
        return f"<TracedSession {self.trace_label} {self._session!r}>"
