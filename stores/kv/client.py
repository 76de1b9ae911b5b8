"""The in-process client: redis-py's methods, arguments and return values, no sockets.

``Client`` inherits redis-py's command methods (``CoreCommands``), which
build the argument lists exactly as ``redis.Redis`` does, and replaces the
connection underneath with a direct call into an engine ``Session``. Replies
are shaped as redis-py's RESP2 parser would produce them and then passed
through redis-py's own response callbacks, so ``zrange(..., withscores=True)``,
``hgetall``, ``info`` and the rest return the same Python values. The
hottest commands have hand-written methods that skip the generic path.
Pipelines (with and without MULTI/EXEC), ``pubsub()`` and blocking pops
work as in redis-py. This module never opens a socket.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from redis._parsers.base import BaseParser
from redis._parsers.encoders import Encoder
from redis._parsers.response_callbacks import get_response_callbacks
from redis.commands.core import CoreCommands
from redis.exceptions import ConnectionError, ExecAbortError, ResponseError, WatchError
from redis.utils import safe_str, truncate_text

from stores.kv.arguments import SMALL_INTS
from stores.kv.blocking import KeyWaiter
from stores.kv.commands import COMMANDS
from stores.kv.engine import Engine, Session
from stores.kv.replies import (
    NULL_ARRAY,
    OK,
    Blocked,
    ErrorReply,
    Map,
    SimpleString,
    Verbatim,
    format_double,
)
from stores.kv.transactions import run_transaction

try:
    from redis.client import CaseInsensitiveDict
except ImportError:  # pragma: no cover - older redis-py
    from redis.utils import CaseInsensitiveDict

_parse_error = BaseParser.parse_error
_NEVER_DECODE = "NEVER_DECODE"
_EMPTY_RESPONSE = "EMPTY_RESPONSE"
MAX_PENDING_MESSAGES = 100_000
_RESPONSE_CALLBACKS = get_response_callbacks(user_protocol=2, legacy_responses=True)
# Small integer arguments (ZINCRBY 1, ZREVRANGE 0 9) by lookup: b"%d" % n costs
# more than the rest of encoding a command.
_INT_TEXT = {number: text for text, number in SMALL_INTS.items()}

# Command names as redis-py's methods pass them ("ZINCRBY") to their bytes,
# for UTF-8 clients: bounded, since any text can be a command name.
_COMMAND_HEADS: dict[str, bytes] = {}
_COMMAND_HEADS_LIMIT = 1024
# redis-py's callback for replies that are doubles (ZINCRBY, ZSCORE): it parses
# the text of the double, which gives back the very float the engine holds.
_FLOAT_OR_NONE = _RESPONSE_CALLBACKS["ZINCRBY"]
_dict_get = dict.get

# The commands of the hot methods below: they build a well-formed argv, so
# the session skips the lookup and the arity check (Session.execute's cmd).
_GET, _SET, _INCR, _INCRBY, _HSET, _LPUSH, _ZINCRBY, _ZREVRANGE = (
    COMMANDS[name]
    for name in (b"GET", b"SET", b"INCR", b"INCRBY", b"HSET", b"LPUSH", b"ZINCRBY", b"ZREVRANGE")
)


def _to_python(reply: Any, decode: Callable[[bytes], Any] | None) -> Any:
    """Return ``reply`` as redis-py's RESP2 parser would (errors nested become exceptions)."""
    kind = type(reply)
    if kind is bytes:
        return decode(reply) if decode else reply
    if kind is int or reply is None:
        return reply
    if kind is SimpleString:
        return str(reply) if decode else reply.encode()
    if kind is float:
        text = format_double(reply)
        return decode(text) if decode else text
    if kind is ErrorReply:
        return _parse_error(reply.message)
    if reply is NULL_ARRAY:
        return None
    if isinstance(reply, Map):
        out = []
        for key, value in reply.items():
            out.append(_to_python(key, decode))
            out.append(_to_python(value, decode))
        return out
    if isinstance(reply, list):
        return [_to_python(item, decode) for item in reply]
    if kind is Verbatim:
        return decode(reply.text) if decode else reply.text
    if kind is bool:
        return int(reply)
    return reply


class Client(CoreCommands):
    """A redis-py shaped client bound to one session of an in-process engine."""

    def __init__(
        self,
        engine: Engine,
        decode_responses: bool = False,
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
        db: int = 0,
        owns_engine: bool = False,
        session: Session | None = None,
        response_callbacks: CaseInsensitiveDict | None = None,
    ) -> None:
        self.engine = engine
        self.session = session if session is not None else engine.new_session()
        if db:
            self.session.select(db)
        self.encoder = Encoder(encoding, encoding_errors, decode_responses)
        self.decode_responses = decode_responses
        self._encoding = encoding
        self._encoding_errors = encoding_errors
        # str.encode() with no arguments is UTF-8/strict: the hot paths call it inline.
        self._utf8 = (
            encoding.lower().replace("-", "").replace("_", "") == "utf8"
            and encoding_errors == "strict"
        )
        self._decode = (lambda b: b.decode(encoding, encoding_errors)) if decode_responses else None
        # A pipeline shares its parent's table: copying ~170 callbacks per
        # pipeline cost more than the commands of a small one.
        self.response_callbacks = (
            response_callbacks
            if response_callbacks is not None
            else CaseInsensitiveDict(_RESPONSE_CALLBACKS)
        )
        self._owns_engine = owns_engine
        self._options = {
            "decode_responses": decode_responses,
            "encoding": encoding,
            "encoding_errors": encoding_errors,
            "db": db,
        }
        self._run = self.session.execute

    # -- redis.Redis plumbing -------------------------------------------------

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__}(db={self.session.db})>"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def get_encoder(self) -> Encoder:
        """Return the argument encoder (redis-py API)."""
        return self.encoder

    def get_connection_kwargs(self) -> dict[str, Any]:
        """Return the options this client was built with (redis-py API)."""
        return dict(self._options)

    def set_response_callback(self, command: str, callback: Callable[..., Any]) -> None:
        """Set a custom response callback (redis-py API)."""
        self.response_callbacks[command] = callback

    def close(self) -> None:
        """Release this client's session (and the engine if this client opened it)."""
        self.session.close()
        if self._owns_engine:
            self.engine.close()

    def _encode(self, value: Any) -> bytes:
        kind = type(value)
        if kind is bytes:
            return value
        if kind is str:
            return value.encode(self._encoding, self._encoding_errors)
        if kind is int:
            return _INT_TEXT.get(value) or b"%d" % value
        if kind is float:
            return repr(value).encode()
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        return self.encoder.encode(value)

    def _argv(self, args: tuple) -> list[bytes]:
        first = args[0]
        utf8 = self._utf8
        head = _COMMAND_HEADS.get(first) if utf8 else None
        if head is not None:
            argv = [head]
        elif isinstance(first, str) and " " in first:
            argv = [part.encode() for part in first.split()]
        else:
            argv = [self._encode(first)]
            if utf8 and type(first) is str and len(_COMMAND_HEADS) < _COMMAND_HEADS_LIMIT:
                _COMMAND_HEADS[first] = argv[0]
        encode = self._encode
        for arg in args[1:]:
            kind = type(arg)
            if kind is bytes:
                argv.append(arg)
            elif kind is str and utf8:
                argv.append(arg.encode())
            elif kind is int:  # _encode's, inline: ZINCRBY's 1, EXPIREAT's time
                argv.append(_INT_TEXT.get(arg) or b"%d" % arg)
            else:
                argv.append(encode(arg))
        return argv

    def _call(self, argv: list[bytes]) -> Any:
        reply = self._run(argv)
        if type(reply) is Blocked:
            reply = self._block(argv, reply)
        return reply

    def _block(self, argv: list[bytes], blocked: Blocked) -> Any:
        # Blocked threads are served in the order they blocked (KeyWaiter):
        # a woken thread re-runs its command only at the head of the engine's
        # woken queue, and one that blocks again keeps its ticket.
        engine = self.engine
        session = self.session
        waiter = KeyWaiter(engine.woken)
        deadline = None if not blocked.timeout else time.monotonic() + blocked.timeout
        keys: list[bytes] = []
        with engine.lock:
            try:
                reply = session.execute(argv)
                while type(reply) is Blocked:
                    keys = reply.keys
                    waiter.ticket = engine.add_key_waiter(session.db, keys, waiter, waiter.ticket)
                    if not waiter.wait_turn(deadline):
                        return NULL_ARRAY
                    reply = session.execute(argv)
                    waiter.leave()
                return reply
            finally:
                # Also on an exception (KeyboardInterrupt in the wait): a
                # waiter left registered or at the head of the woken queue
                # would hold up every thread behind it.
                engine.remove_key_waiter(session.db, keys, waiter)
                waiter.leave()

    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Run one command and return redis-py's value for it."""
        argv = self._argv(args)
        reply = self._call(argv)
        return self._finish(args[0], reply, options)

    def _finish(self, command_name: Any, reply: Any, options: dict[str, Any]) -> Any:
        if type(reply) is ErrorReply:
            if _EMPTY_RESPONSE in options:
                return options[_EMPTY_RESPONSE]
            raise _parse_error(reply.message)
        decode = None if _NEVER_DECODE in options else self._decode
        options.pop(_NEVER_DECODE, None)
        options.pop(_EMPTY_RESPONSE, None)
        options.pop("keys", None)
        response = _to_python(reply, decode)
        callback = self.response_callbacks.get(command_name)
        if callback is not None:
            return callback(response, **options)
        return response

    # -- hot paths: same results as the generic path, fewer layers ----------------

    def get(self, name: Any) -> Any:
        """Return the value at key ``name``, or None."""
        if type(name) is str and self._utf8:
            name = name.encode()
        elif type(name) is not bytes:
            name = self._encode(name)
        reply = self._run([b"GET", name], _GET)
        if type(reply) is bytes:
            return self._decode(reply) if self._decode else reply
        if reply is None:
            return None
        return self._finish("GET", reply, {})

    def set(self, name: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        """Set ``name`` to ``value`` (redis-py's arguments)."""
        if args or kwargs:
            return super().set(name, value, *args, **kwargs)
        utf8 = self._utf8
        if type(name) is str and utf8:
            name = name.encode()
        elif type(name) is not bytes:
            name = self._encode(name)
        if type(value) is str and utf8:
            value = value.encode()
        elif type(value) is not bytes:
            value = self._encode(value)
        reply = self._run([b"SET", name, value], _SET)
        if reply is OK:
            return True
        return self._finish("SET", reply, {})

    def incr(self, name: Any, amount: int = 1) -> Any:
        """Increment the integer at ``name`` by ``amount``."""
        if type(name) is str and self._utf8:
            name = name.encode()
        elif type(name) is not bytes:
            name = self._encode(name)
        if amount == 1:
            reply = self._run([b"INCR", name], _INCR)
        else:
            reply = self._run([b"INCRBY", name, self._encode(amount)], _INCRBY)
        if type(reply) is int:
            return reply
        return self._finish("INCRBY", reply, {})

    def hset(
        self, name: Any, key: Any = None, value: Any = None, mapping: Any = None, items: Any = None
    ) -> Any:
        """Set hash fields (redis-py's arguments)."""
        if mapping is not None or items is not None or key is None:
            return super().hset(name, key, value, mapping=mapping, items=items)
        utf8 = self._utf8
        if type(name) is str and utf8:
            name = name.encode()
        elif type(name) is not bytes:
            name = self._encode(name)
        if type(key) is str and utf8:
            key = key.encode()
        elif type(key) is not bytes:
            key = self._encode(key)
        if type(value) is str and utf8:
            value = value.encode()
        elif type(value) is not bytes:
            value = self._encode(value)
        reply = self._run([b"HSET", name, key, value], _HSET)
        if type(reply) is int:
            return reply
        return self._finish("HSET", reply, {})

    def lpush(self, name: Any, *values: Any) -> Any:
        """Prepend ``values`` to the list at ``name``."""
        utf8 = self._utf8
        if type(name) is str and utf8:
            name = name.encode()
        elif type(name) is not bytes:
            name = self._encode(name)
        if len(values) == 1:
            value = values[0]
            if type(value) is str and utf8:
                value = value.encode()
            elif type(value) is not bytes:
                value = self._encode(value)
            reply = self._run([b"LPUSH", name, value], _LPUSH)
        else:
            encode = self._encode
            argv = [b"LPUSH", name]
            for value in values:
                argv.append(value if type(value) is bytes else encode(value))
            reply = self._run(argv)
        if type(reply) is int:
            return reply
        return self._finish("LPUSH", reply, {})

    def zincrby(self, name: Any, amount: float, value: Any) -> Any:
        """Increment ``value``'s score in the sorted set at ``name``."""
        utf8 = self._utf8
        if type(name) is str and utf8:
            name = name.encode()
        elif type(name) is not bytes:
            name = self._encode(name)
        if type(value) is str and utf8:
            value = value.encode()
        elif type(value) is not bytes:
            value = self._encode(value)
        if type(amount) is int:
            amount = _INT_TEXT.get(amount) or b"%d" % amount
        else:
            amount = self._encode(amount)
        reply = self._run([b"ZINCRBY", name, amount, value], _ZINCRBY)
        if type(reply) is float:
            return reply
        return self._finish("ZINCRBY", reply, {})

    def zrevrange(
        self,
        name: Any,
        start: int,
        end: int,
        withscores: bool = False,
        score_cast_func: Callable[[Any], Any] = float,
    ) -> Any:
        """Return a range of the sorted set at ``name``, highest score first."""
        if type(name) is str and self._utf8:
            name = name.encode()
        elif type(name) is not bytes:
            name = self._encode(name)
        if type(start) is int and type(end) is int:
            start = _INT_TEXT.get(start) or b"%d" % start
            end = _INT_TEXT.get(end) or b"%d" % end
        else:
            start, end = self._encode(start), self._encode(end)
        if withscores:
            reply = self._run([b"ZREVRANGE", name, start, end, b"WITHSCORES"], _ZREVRANGE)
        else:
            reply = self._run([b"ZREVRANGE", name, start, end], _ZREVRANGE)
        if type(reply) is not list:
            options = {"withscores": withscores, "score_cast_func": score_cast_func}
            return self._finish("ZREVRANGE", reply, options)
        decode = self._decode
        if not withscores:
            return [decode(m) for m in reply] if decode else reply
        if score_cast_func is float:
            if decode:
                return [(decode(reply[i]), reply[i + 1]) for i in range(0, len(reply), 2)]
            pairs = iter(reply)  # the engine built this list for us: no copies
            # An even list: the strict= keyword would only cost (~0.1 us a call).
            return list(zip(pairs, pairs))  # noqa: B905
        return [
            (
                decode(reply[i]) if decode else reply[i],
                score_cast_func(_to_python(reply[i + 1], decode)),
            )
            for i in range(0, len(reply), 2)
        ]

    # -- pipelines, pub/sub, selection ------------------------------------------

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Pipeline:
        """Return a pipeline; with ``transaction`` its commands run in MULTI/EXEC."""
        return Pipeline(self, transaction)

    def pubsub(self, ignore_subscribe_messages: bool = False, **kwargs: Any) -> PubSub:
        """Return a PubSub object listening on a new session."""
        return PubSub(self, ignore_subscribe_messages)

    def transaction(self, func: Callable[[Pipeline], Any], *watches: Any, **kwargs: Any) -> Any:
        """Run ``func(pipe)`` with WATCH on ``watches``, retrying on WatchError (redis-py API)."""
        value_from_callable = kwargs.pop("value_from_callable", False)
        watch_delay = kwargs.pop("watch_delay", None)
        with self.pipeline(True) as pipe:
            while True:
                try:
                    if watches:
                        pipe.watch(*watches)
                    func_value = func(pipe)
                    exec_value = pipe.execute()
                    return func_value if value_from_callable else exec_value
                except WatchError:
                    if watch_delay is not None and watch_delay > 0:
                        time.sleep(watch_delay)
                    continue

    def lock(
        self,
        name: Any,
        timeout: float | None = None,
        sleep: float = 0.1,
        blocking: bool = True,
        blocking_timeout: float | None = None,
        lock_class: Any = None,
        thread_local: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Return a lock named ``name`` with redis-py's Lock API (no Lua needed in-process)."""
        from stores.kv.lock import Lock

        cls = lock_class or Lock
        return cls(
            self,
            name,
            timeout=timeout,
            sleep=sleep,
            blocking=blocking,
            blocking_timeout=blocking_timeout,
            thread_local=thread_local,
        )


class Pipeline(Client):
    """Queued commands sent together, optionally as one MULTI/EXEC transaction."""

    def __init__(self, parent: Client, transaction: bool) -> None:
        options = parent._options
        super().__init__(
            parent.engine,
            decode_responses=options["decode_responses"],
            encoding=options["encoding"],
            encoding_errors=options["encoding_errors"],
            response_callbacks=parent.response_callbacks,
        )
        self.session.select(parent.session.db)
        self.transaction = transaction
        self.command_stack: list[tuple[tuple, dict]] = []
        # Beside each queued command: its argv when a hot method encoded it
        # while queuing, else None (``_argv`` encodes it at EXEC).
        self._encoded: list[list[bytes] | None] = []
        self.watching = False
        self.explicit_transaction = False

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.reset()
        self.session.close()

    def __len__(self) -> int:
        return len(self.command_stack)

    def __bool__(self) -> bool:
        return True

    def reset(self) -> None:
        """Forget queued commands and WATCHes."""
        self.command_stack = []
        self._encoded = []
        if self.watching:
            self.session.execute([b"UNWATCH"])
        self.watching = False
        self.explicit_transaction = False

    def multi(self) -> None:
        """Start buffering commands after WATCH (redis-py API)."""
        if self.explicit_transaction:
            raise ResponseError("Cannot issue nested calls to MULTI")
        if self.command_stack:
            raise ResponseError("Commands without an initial WATCH have already been issued")
        self.explicit_transaction = True

    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Queue a command (or run it at once while WATCHing, before MULTI)."""
        if (self.watching or args[0] == "WATCH") and not self.explicit_transaction:
            return self._immediate(args, options)
        self.command_stack.append((args, options))
        self._encoded.append(None)
        return self

    def _queue_encoded(self, args: tuple, argv: list[bytes]) -> Pipeline:
        """Queue ``args`` with ``argv``, what ``_argv(args)`` would give (the hot methods)."""
        self.command_stack.append((args, {}))
        self._encoded.append(argv)
        return self

    def _queues_now(self) -> bool:
        """Return True if a command is queued now (not run at once while WATCHing), UTF-8."""
        return (not self.watching or self.explicit_transaction) and self._utf8

    def _immediate(self, args: tuple, options: dict[str, Any]) -> Any:
        result = Client.execute_command(self, *args, **options)
        name = args[0]
        if name == "WATCH":
            self.watching = True
        elif name in ("UNWATCH", "DISCARD", "EXEC"):
            self.watching = False
        return result

    def watch(self, *names: Any) -> Any:
        """WATCH keys (runs at once)."""
        if self.explicit_transaction:
            raise ResponseError("Cannot issue a WATCH after a MULTI")
        return self._immediate(("WATCH", *names), {})

    def unwatch(self) -> Any:
        """UNWATCH (runs at once while watching)."""
        return self._immediate(("UNWATCH",), {}) if self.watching else True

    def get(self, name: Any) -> Any:
        return self.execute_command("GET", name, keys=[name])

    def set(self, name: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        return CoreCommands.set(self, name, value, *args, **kwargs)

    # incr, hset, zincrby and expireat (a leaderboard's transaction): with
    # str/bytes names and values and int numbers, the args redis-py's
    # method would queue, encoded at once as _argv would encode them.

    def incr(self, name: Any, amount: int = 1) -> Any:
        kind = type(name)
        if (kind is str or kind is bytes) and type(amount) is int and self._queues_now():
            argv = [b"INCRBY", name.encode() if kind is str else name]
            argv.append(_INT_TEXT.get(amount) or b"%d" % amount)
            return self._queue_encoded(("INCRBY", name, amount), argv)
        return CoreCommands.incr(self, name, amount)

    def hset(
        self, name: Any, key: Any = None, value: Any = None, mapping: Any = None, items: Any = None
    ) -> Any:
        if mapping is None and items is None and key is not None:
            kinds = (type(name), type(key), type(value))
            if all(kind is str or kind is bytes for kind in kinds) and self._queues_now():
                argv = [b"HSET"]
                for arg in (name, key, value):
                    argv.append(arg.encode() if type(arg) is str else arg)
                return self._queue_encoded(("HSET", name, key, value), argv)
        return CoreCommands.hset(self, name, key, value, mapping=mapping, items=items)

    def expireat(
        self,
        name: Any,
        when: Any,
        nx: bool = False,
        xx: bool = False,
        gt: bool = False,
        lt: bool = False,
    ) -> Any:
        kind = type(name)
        if (kind is str or kind is bytes) and not (nx or xx or gt or lt) and self._queues_now():
            if isinstance(when, datetime.datetime):
                when = int(when.timestamp())  # as redis-py's expireat
            if type(when) is int:
                argv = [b"EXPIREAT", name.encode() if kind is str else name]
                argv.append(_INT_TEXT.get(when) or b"%d" % when)
                return self._queue_encoded(("EXPIREAT", name, when), argv)
        return CoreCommands.expireat(self, name, when, nx=nx, xx=xx, gt=gt, lt=lt)

    def lpush(self, name: Any, *values: Any) -> Any:
        return CoreCommands.lpush(self, name, *values)

    def zincrby(self, name: Any, amount: float, value: Any) -> Any:
        kind, value_kind = type(name), type(value)
        if (
            (kind is str or kind is bytes)
            and (value_kind is str or value_kind is bytes)
            and type(amount) is int
            and self._queues_now()
        ):
            argv = [b"ZINCRBY", name.encode() if kind is str else name]
            argv.append(_INT_TEXT.get(amount) or b"%d" % amount)
            argv.append(value.encode() if value_kind is str else value)
            return self._queue_encoded(("ZINCRBY", name, amount, value), argv)
        return CoreCommands.zincrby(self, name, amount, value)

    def zrevrange(
        self,
        name: Any,
        start: int,
        end: int,
        withscores: bool = False,
        score_cast_func: Any = float,
    ) -> Any:
        return CoreCommands.zrevrange(self, name, start, end, withscores, score_cast_func)

    def _annotate(self, exception: Exception, number: int, command: tuple) -> None:
        cmd = " ".join(map(safe_str, command))
        message = f"Command # {number} ({truncate_text(cmd)}) of pipeline caused error: {exception.args[0]}"
        exception.args = (message,) + exception.args[1:]

    def execute(self, raise_on_error: bool = True) -> list:
        """Run the queued commands and return their results in order."""
        stack = self.command_stack
        if not stack and not self.watching:
            return []
        try:
            if self.transaction or self.explicit_transaction:
                return self._execute_transaction(stack, raise_on_error)
            return self._execute_pipeline(stack, raise_on_error)
        finally:
            self.reset()

    def _execute_pipeline(self, stack: list, raise_on_error: bool) -> list:
        results = []
        session = self.session
        # The replies are released together: one persistence flush (write,
        # fsync under appendfsync always) for the whole batch, before them.
        session.batching = True
        try:
            for args, options in stack:
                try:
                    results.append(Client.execute_command(self, *args, **dict(options)))
                except ResponseError as exc:
                    results.append(exc)
        finally:
            failure = session.finish_batch()
        if failure is not None:
            results = [_parse_error(failure.message) for _ in stack]
        if raise_on_error:
            for number, result in enumerate(results, 1):
                if isinstance(result, ResponseError):
                    self._annotate(result, number, stack[number - 1][0])
                    raise result
        return results

    def _execute_transaction(self, stack: list, raise_on_error: bool) -> list:
        session = self.session
        encoded = self._encoded
        if len(encoded) == len(stack):
            argvs = [
                argv if argv is not None else self._argv(stack[index][0])
                for index, argv in enumerate(encoded)
            ]
        else:  # the stack was changed from outside
            argvs = [self._argv(args) for args, _ in stack]
        errors: list[tuple[int, Exception]] = []
        session.batching = True
        try:
            # MULTI, the queued commands and EXEC in one step, each command
            # run once; None when only the three steps answer right.
            ran = run_transaction(session, argvs)
            if ran is None:
                queued, reply = self._send_transaction(argvs)
            else:
                queued, reply = ran
        finally:
            failure = session.finish_batch()  # outside the lock: an fsync may wait
        for index, queue_error in queued:
            options = stack[index][1]
            if _EMPTY_RESPONSE in options:
                errors.append((index, options[_EMPTY_RESPONSE]))
                continue
            error = _parse_error(queue_error.message)
            self._annotate(error, index + 1, stack[index][0])
            errors.append((index, error))
        if failure is not None:
            reply = failure
        self.watching = False
        if type(reply) is ErrorReply:
            error = _parse_error(reply.message)
            if isinstance(error, ExecAbortError) and errors:
                raise errors[0][1]
            raise error
        if reply is NULL_ARRAY:
            raise WatchError("Watched variable changed.")
        replies = reply  # EXEC's own new list
        if errors:
            replies = list(reply)
            for index, error in errors:
                replies.insert(index, error)
        if raise_on_error:
            for number, item in enumerate(replies, 1):
                if type(item) is ErrorReply:
                    error = _parse_error(item.message)
                    self._annotate(error, number, stack[number - 1][0])
                    raise error
                if errors and isinstance(item, Exception):  # only queue errors are
                    raise item
        results = []
        callbacks = self.response_callbacks
        for item, (args, options) in zip(replies, stack, strict=True):
            kind = type(item)
            if (kind is int or kind is float) and not options:
                name = args[0]
                # CaseInsensitiveDict.get, without its Python call for
                # redis-py's names, which are upper case already.
                callback = _dict_get(callbacks, name)
                if callback is None and not (type(name) is str and name.isupper()):
                    callback = callbacks.get(name)
                if kind is int:
                    # _finish for the commonest reply: an integer is its own
                    # Python value before the callback.
                    results.append(item if callback is None else callback(item))
                elif callback is _FLOAT_OR_NONE:
                    # _finish's own result: format_double's text parses back to item.
                    results.append(item)
                else:
                    results.append(self._finish(name, item, {}))
            elif isinstance(item, Exception):
                results.append(item)
            elif type(item) is ErrorReply:
                results.append(_parse_error(item.message))
            else:
                results.append(self._finish(args[0], item, dict(options)))
        return results

    def _send_transaction(self, argvs: list[list[bytes]]) -> tuple[list, Any]:
        """Send MULTI, each command and EXEC through the session; return queue errors and EXEC's reply."""
        session = self.session
        queued = []
        with self.engine.lock:
            session.execute([b"MULTI"])
            for index, argv in enumerate(argvs):
                reply = session.execute(argv)
                if type(reply) is ErrorReply:
                    queued.append((index, reply))
            return queued, session.execute([b"EXEC"])


class PubSub:
    """redis-py's PubSub on an engine session: messages arrive through its push handler."""

    def __init__(self, client: Client, ignore_subscribe_messages: bool = False) -> None:
        self.client = client
        self.engine = client.engine
        self.session = client.engine.new_session()
        self.ignore_subscribe_messages = ignore_subscribe_messages
        self._decode = client._decode
        self._messages: deque = deque()
        self._arrived = threading.Condition(threading.Lock())
        self.session.push_handler = self._push
        self.channels: dict[Any, Any] = {}
        self.patterns: dict[Any, Any] = {}
        self.pending_unsubscribe_channels: set = set()
        self.pending_unsubscribe_patterns: set = set()
        self._thread: PubSubWorkerThread | None = None
        self.max_pending = MAX_PENDING_MESSAGES
        self.overflowed = False

    def __enter__(self) -> PubSub:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.reset()

    def _push(self, push: list) -> None:
        with self._arrived:
            if len(self._messages) >= self.max_pending:
                # Redis disconnects a subscriber over its output buffer limit; so do we.
                self._messages.clear()
                self.overflowed = True
                self._arrived.notify_all()
                return
            self._messages.append(push)
            self._arrived.notify_all()

    @property
    def subscribed(self) -> bool:
        """Return True while subscribed to any channel or pattern."""
        return bool(self.session.channels or self.session.patterns)

    def _key(self, raw: bytes) -> Any:
        return self._decode(raw) if self._decode else raw

    def _run(self, name: bytes, targets: list[Any]) -> None:
        argv = [name, *(self.client._encode(t) for t in targets)]
        reply = self.session.execute(argv)
        if type(reply) is ErrorReply:
            raise _parse_error(reply.message)
        confirmations = reply if reply and isinstance(reply[0], list) else [reply]
        for item in confirmations:
            self._push(item)

    def subscribe(self, *args: Any, **kwargs: Any) -> None:
        """Subscribe to channels; keyword arguments map a channel to a handler."""
        channels: dict[Any, Any] = dict.fromkeys(args)
        channels.update(kwargs)
        for channel, handler in channels.items():
            self.channels[self._key(self.client._encode(channel))] = handler
        self._run(b"SUBSCRIBE", list(channels))

    def psubscribe(self, *args: Any, **kwargs: Any) -> None:
        """Subscribe to patterns; keyword arguments map a pattern to a handler."""
        patterns: dict[Any, Any] = dict.fromkeys(args)
        patterns.update(kwargs)
        for pattern, handler in patterns.items():
            self.patterns[self._key(self.client._encode(pattern))] = handler
        self._run(b"PSUBSCRIBE", list(patterns))

    def unsubscribe(self, *args: Any) -> None:
        """Unsubscribe from channels (all when none are given)."""
        self._run(b"UNSUBSCRIBE", list(args))

    def punsubscribe(self, *args: Any) -> None:
        """Unsubscribe from patterns (all when none are given)."""
        self._run(b"PUNSUBSCRIBE", list(args))

    def ping(self, message: Any = None) -> None:
        """Send a PING; its reply arrives as a message."""
        argv = [b"PING"] if message is None else [b"PING", self.client._encode(message)]
        reply = self.session.execute(argv)
        self._push([b"pong", b""] if isinstance(reply, str) else reply)

    def get_message(
        self, ignore_subscribe_messages: bool = False, timeout: float = 0.0
    ) -> dict | None:
        """Return the next message as redis-py's dict, or None after ``timeout`` seconds."""
        with self._arrived:
            if not self._messages and timeout and not self.overflowed:
                self._arrived.wait(timeout)
            if self.overflowed:
                self.session.close()
                raise ConnectionError(
                    "pub/sub output buffer limit reached: the subscriber was disconnected"
                )
            if not self._messages:
                return None
            raw = self._messages.popleft()
        return self._handle(raw, ignore_subscribe_messages)

    def _handle(self, raw: list, ignore_subscribe_messages: bool) -> dict | None:
        kind = raw[0].decode() if isinstance(raw[0], bytes) else str(raw[0])

        def convert(v):
            return self._decode(v) if self._decode and type(v) is bytes else v

        if kind == "pmessage":
            message = {
                "type": kind,
                "pattern": convert(raw[1]),
                "channel": convert(raw[2]),
                "data": convert(raw[3]),
            }
        elif kind == "pong":
            message = {"type": kind, "pattern": None, "channel": None, "data": convert(raw[1])}
        else:
            message = {
                "type": kind,
                "pattern": None,
                "channel": convert(raw[1]),
                "data": convert(raw[2]),
            }
        if kind in ("unsubscribe", "punsubscribe"):
            registry = self.channels if kind == "unsubscribe" else self.patterns
            registry.pop(message["channel"], None)
        if kind in ("message", "pmessage"):
            registry = self.patterns if kind == "pmessage" else self.channels
            handler = registry.get(message["pattern"] if kind == "pmessage" else message["channel"])
            if handler is not None:
                handler(message)
                return None
        elif kind != "pong" and (ignore_subscribe_messages or self.ignore_subscribe_messages):
            return None
        return message

    def listen(self) -> Iterator[dict]:
        """Yield messages while subscribed."""
        while self.subscribed or self._messages:
            message = self.get_message(timeout=1.0)
            if message is not None:
                yield message

    def run_in_thread(
        self, sleep_time: float = 0.0, daemon: bool = False, exception_handler: Any = None
    ) -> PubSubWorkerThread:
        """Deliver messages to their handlers from a background thread."""
        for channel, handler in self.channels.items():
            if handler is None:
                raise ValueError(f"Channel: '{channel}' has no handler registered")
        for pattern, handler in self.patterns.items():
            if handler is None:
                raise ValueError(f"Pattern: '{pattern}' has no handler registered")
        thread = PubSubWorkerThread(self, sleep_time or 0.1, daemon)
        thread.start()
        self._thread = thread
        return thread

    def reset(self) -> None:
        """Unsubscribe from everything and release the session."""
        self.session.close()
        self.channels = {}
        self.patterns = {}
        with self._arrived:
            self._messages.clear()
            self._arrived.notify_all()

    close = reset


class PubSubWorkerThread(threading.Thread):
    """Calls a PubSub's handlers as messages arrive, until stopped."""

    def __init__(self, pubsub: PubSub, poll: float, daemon: bool) -> None:
        super().__init__(daemon=daemon)
        self.pubsub = pubsub
        self.poll = poll
        self._running = threading.Event()

    def run(self) -> None:
        self._running.set()
        while self._running.is_set():
            self.pubsub.get_message(ignore_subscribe_messages=True, timeout=self.poll)
        self.pubsub.close()

    def stop(self) -> None:
        """Stop the loop; the thread then closes the PubSub."""
        self._running.clear()
