"""One client connection of the RESP server: bytes in, engine calls, bytes out.

``Connection`` is the asyncio protocol of one socket. It feeds what arrives
to its ``RequestReader``, runs each command through its engine ``Session``
(or through the connection commands: HELLO, AUTH, CLIENT, QUIT, RESET),
encodes the replies for the session's protocol and writes a whole batch of
pipelined replies at once. It parks the client on a blocking command until
the engine wakes it or its timeout fires, writes pub/sub pushes as they are
published, and enforces the per-client limits (query buffer, pub/sub output
buffer). It never parses RESP itself, encodes only the commonest replies
inline (``+OK``, bulk strings, small integers: the same bytes in RESP2 and
RESP3, one call less per command) and never holds the engine lock across
an await.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from stores.kv.commands import COMMANDS as ENGINE_COMMANDS
from stores.kv.connection_commands import CONNECTION_COMMANDS
from stores.kv.replies import NULL_ARRAY, OK, Blocked, ErrorReply, Push
from stores.kv.resp import ProtocolError, QueryBufferLimitError, RequestReader, reply_encoder
from stores.kv.resp.reply_writer import OK_REPLY, SMALL_INTEGER_REPLIES

if TYPE_CHECKING:
    from stores.kv.server import Server

log = logging.getLogger(__name__)

# Cross-protocol scripting guard, as in Redis: an HTTP request sent to the
# server is dropped without a reply.
# Replies of one batch are written out once they exceed this, so that the
# flow control below can stop a client that does not read them.
OUTPUT_BATCH_BYTES = 1024 * 1024

_SECURITY_WARNING = frozenset((b"post", b"POST", b"host:", b"Host:", b"HOST:"))

_SMALL_INT_COUNT = len(SMALL_INTEGER_REPLIES)


class Connection(asyncio.Protocol):
    """The server side of one client socket."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.engine = server.engine
        self.transport: asyncio.Transport | None = None
        self.session: Any = None
        self.reader: RequestReader | None = None
        self.encode = reply_encoder(2)
        self.protocol = 2
        self.peer = ""
        self.local = ""
        self.closing = False
        self.closed = False
        self.rejected = False
        self.created = time.monotonic()
        self.last_interaction = self.created
        self.last_command = b"NULL"
        # A blocking command waiting for its keys: (argv, timer handle, Blocked).
        self.blocked: tuple[list[bytes], asyncio.TimerHandle | None, Blocked] | None = None
        self._waiter = None
        # Replies of the batch being processed; pushes made meanwhile join it
        # so that they keep their place among the replies.
        self._out: list[bytes] | None = None
        self._soft_limit_since: float | None = None
        self._paused = False

    # -- asyncio protocol ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Register the client, or refuse it when maxclients is reached."""
        self.transport = transport  # type: ignore[assignment]
        server = self.server
        self.peer = _address(transport.get_extra_info("peername"))
        self.local = _address(transport.get_extra_info("sockname"))
        if server.stopping or len(server.clients) >= server.maxclients:
            self.rejected = True
            self.closing = True
            self.engine.stats["rejected_connections"] = (
                self.engine.stats.get("rejected_connections", 0) + 1
            )
            message = (
                b"-ERR Server is shutting down\r\n"
                if server.stopping
                else b"-ERR max number of clients reached\r\n"
            )
            transport.write(message)  # type: ignore[attr-defined]
            transport.close()
            return
        self.session = session = self.engine.new_session()
        session.peer = self.peer.encode()
        session.push_handler = self._push
        # Replies are released per batch of commands, after one persistence
        # flush for the whole batch (process), not one per command.
        session.batching = True
        self.reader = RequestReader(
            max_bulk_len=server.max_bulk_len, query_buffer_limit=server.query_buffer_limit
        )
        self.reader.auth_required = not session.authenticated
        server.clients[session.id] = self

    def data_received(self, data: bytes) -> None:
        """Feed the bytes to the reader and run every complete command."""
        if self.closing:
            return
        try:
            self.reader.feed(data)
        except QueryBufferLimitError:
            log.warning("closing client %s that reached the max query buffer length", self.peer)
            self.close()
            return
        self.last_interaction = time.monotonic()
        if self.blocked is None:
            self.process()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the client: its waiters, its subscriptions, its session."""
        self.closed = True
        self.closing = True
        if self.rejected or self.session is None:
            return
        self._unblock()
        self.server.clients.pop(self.session.id, None)
        self.session.push_handler = None
        self.session.close()
        self.server.connection_closed(self)

    def pause_writing(self) -> None:
        """Stop reading requests while the client is not reading replies."""
        self._paused = True
        if not self.closing:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        """Read requests again once the client has caught up."""
        self._paused = False
        if not self.closing:
            self.transport.resume_reading()
            self.process()

    # -- commands ---------------------------------------------------------------

    def process(self) -> None:
        """Run the complete commands in the reader until it needs more bytes."""
        if self.closing or self.blocked is not None or self._paused or self.session is None:
            return
        reader = self.reader
        ready = reader.ready
        next_command = reader.next_command
        execute = self.session.execute
        server = self.server
        out = self._out = []
        append = out.append
        pending = 0
        answered = 0  # replies in out (pushes excluded), for a persistence failure
        try:
            try:
                while True:
                    # The reader's parsed-ahead commands are taken directly:
                    # one call less per command than next_command().
                    if ready:
                        argv = ready.popleft()
                    else:
                        argv = next_command()
                        if argv is None:
                            break
                    name = argv[0]
                    special = CONNECTION_COMMANDS.get(name)
                    if special is None:
                        if name not in ENGINE_COMMANDS and len(name) <= 6:
                            lowered = name.lower()
                            special = CONNECTION_COMMANDS.get(lowered)
                            if special is None and lowered in _SECURITY_WARNING:
                                log.warning(
                                    "possible security attack: %r command from %s", name, self.peer
                                )
                                self.closing = True
                                break
                    if special is None:
                        try:
                            reply = execute(argv)
                        except Exception:  # the engine answers errors itself; this is a bug
                            log.exception("command %r failed outside its handler", argv[:1])
                            reply = ErrorReply("ERR internal error")
                    else:
                        try:
                            reply = special(self, argv)
                        except Exception:  # a bug here must not take the connection down
                            log.exception("connection command %r failed", argv[:2])
                            reply = ErrorReply(f"ERR internal error in '{special.name}'")
                    self.last_command = name
                    # The commonest replies are encoded here, the same in RESP2
                    # and RESP3: one call less than the encoder's type dispatch.
                    kind = type(reply)
                    if reply is OK:
                        data = OK_REPLY
                    elif kind is bytes:
                        data = b"$%d\r\n%b\r\n" % (len(reply), reply)
                    elif kind is int:
                        data = (
                            SMALL_INTEGER_REPLIES[reply]
                            if 0 <= reply < _SMALL_INT_COUNT
                            else b":%d\r\n" % reply
                        )
                    elif kind is Blocked:
                        self._block(argv, reply)
                        break
                    elif kind is list and reply and type(reply[0]) is Push:
                        data = b"".join(map(self.encode, reply))
                    else:
                        # self.encode: HELLO, also inside EXEC, may switch it.
                        data = self.encode(reply)
                    append(data)
                    pending += len(data)
                    answered += 1
                    if server.woken:
                        server.serve_woken()
                    if self.closing:
                        break
                    if pending > OUTPUT_BATCH_BYTES:
                        # Small requests can ask for large replies: send what is
                        # ready, and stop while the client does not read it.
                        failure = server.flush_persistence()
                        if failure is not None:
                            out[:] = [self.encode(failure)] * answered
                        self.transport.write(b"".join(out))
                        out.clear()
                        pending = answered = 0
                        if self._paused:
                            break
            except ProtocolError as exc:
                log.debug("protocol error from client %s: %s", self.peer, exc.message)
                append(self.encode(_protocol_error(exc)))
                self.closing = True
        finally:
            self._out = None
            # The session batches (see connection_made): what the batch wrote
            # reaches the append-only file here, once, before any reply.
            engine = self.engine
            if engine.persisting:
                try:
                    engine.persistence.after_command()
                except Exception as exc:
                    # Nothing of this batch may be acknowledged.
                    out[:] = [self.encode(server.persistence_failure(exc))] * answered
            if out:
                self.transport.write(out[0] if len(out) == 1 else b"".join(out))
            if self.closing and not self.closed:
                self.transport.close()

    def set_protocol(self, protocol: int) -> None:
        """Encode later replies for RESP ``protocol`` (2 or 3)."""
        self.protocol = protocol
        self.session.protocol = protocol
        self.encode = reply_encoder(protocol)

    def close(self) -> None:
        """Close the connection once what is already written has been sent."""
        self.closing = True
        if self.transport is not None and not self.closed:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection at once, discarding unsent replies."""
        self.closing = True
        if self.transport is not None and not self.closed:
            self.transport.abort()

    # -- blocking commands ---------------------------------------------------------

    def _block(self, argv: list[bytes], blocked: Blocked) -> None:
        loop = self.server.loop
        timer = None
        if blocked.timeout and blocked.timeout > 0:
            timer = loop.call_later(blocked.timeout, self._block_timed_out)
        self.blocked = (argv, timer, blocked)
        self._wait_for(blocked)

    def _wait_for(self, blocked: Blocked) -> None:
        server = self.server
        db = self.session.db

        def waiter() -> None:
            server.wake(self)

        self._waiter = (db, list(blocked.keys), waiter)
        self.engine.add_key_waiter(db, self._waiter[1], waiter)

    def _forget_waiter(self) -> None:
        if self._waiter is not None:
            db, keys, waiter = self._waiter
            self._waiter = None
            self.engine.remove_key_waiter(db, keys, waiter)

    def _unblock(self) -> None:
        self._forget_waiter()
        if self.blocked is not None:
            timer = self.blocked[1]
            if timer is not None:
                timer.cancel()
            self.blocked = None

    def retry_blocked(self) -> None:
        """Run the blocked command again now that one of its keys changed."""
        if self.blocked is None or self.closing:
            return
        argv = self.blocked[0]
        self._forget_waiter()
        reply = self.session.execute(argv)
        if type(reply) is Blocked:
            self._wait_for(reply)
            return
        self._unblock()
        failure = self.server.flush_persistence()
        self.transport.write(self.encode(reply if failure is None else failure))
        self.server.loop.call_soon(self.process)

    def _block_timed_out(self) -> None:
        if self.blocked is None or self.closing:
            return
        self._unblock()
        self.transport.write(self.encode(NULL_ARRAY))
        self.process()

    # -- pub/sub -----------------------------------------------------------------

    def _push(self, push: Push) -> None:
        """Write a published message (called by the engine inside PUBLISH)."""
        if threading.get_ident() != self.server.loop_thread:
            self.server.loop.call_soon_threadsafe(self._push, push)
            return
        if self.closing:
            return
        data = self.encode(push)
        if self._out is not None:
            self._out.append(data)
            return
        self.transport.write(data)
        self._check_output_limits()

    def _check_output_limits(self) -> None:
        """Disconnect a subscriber whose unsent output is over the pub/sub limits."""
        hard, soft, soft_seconds = self.server.pubsub_output_limits
        size = self.transport.get_write_buffer_size()
        if hard and size > hard:
            self._drop_slow_subscriber(size, "hard")
        elif soft and size > soft:
            now = time.monotonic()
            if self._soft_limit_since is None:
                self._soft_limit_since = now
            elif now - self._soft_limit_since >= soft_seconds:
                self._drop_slow_subscriber(size, "soft")
        else:
            self._soft_limit_since = None

    def _drop_slow_subscriber(self, size: int, which: str) -> None:
        log.warning(
            "client %s scheduled to be closed for overcoming of output buffer limits "
            "(%s limit, %d bytes pending)",
            self.peer,
            which,
            size,
        )
        self.server.engine.stats["client_output_buffer_limit_disconnections"] = (
            self.server.engine.stats.get("client_output_buffer_limit_disconnections", 0) + 1
        )
        self.abort()

    # -- introspection (CLIENT LIST / INFO) ----------------------------------------

    def describe(self) -> str:
        """Return this client's CLIENT LIST line (without the newline)."""
        session = self.session
        now = time.monotonic()
        flags = ""
        if session.channels or session.patterns:
            flags += "P"
        if session.multi is not None:
            flags += "x"
        if self.blocked is not None:
            flags += "b"
        if session.cas_dirty:
            flags += "d"
        name = (session.name or b"").decode("utf-8", "replace")
        lib_name = (getattr(session, "lib_name", b"") or b"").decode("utf-8", "replace")
        lib_ver = (getattr(session, "lib_ver", b"") or b"").decode("utf-8", "replace")
        omem = self.transport.get_write_buffer_size() if not self.closed else 0
        fields = [
            ("id", session.id),
            ("addr", self.peer),
            ("laddr", self.local),
            ("fd", _fileno(self.transport)),
            ("name", name),
            ("age", int(now - self.created)),
            ("idle", int(now - self.last_interaction)),
            ("flags", flags or "N"),
            ("db", session.db),
            ("sub", len(session.channels)),
            ("psub", len(session.patterns)),
            ("ssub", 0),
            ("multi", -1 if session.multi is None else len(session.multi)),
            ("qbuf", self.reader.buffered),
            ("qbuf-free", 0),
            ("argv-mem", 0),
            ("multi-mem", 0),
            ("rbs", 0),
            ("rbp", 0),
            ("obl", 0),
            ("oll", 0),
            ("omem", omem),
            ("tot-mem", omem + self.reader.buffered),
            ("events", "r"),
            ("cmd", _command_name(self.last_command)),
            ("user", "default"),
            ("redir", -1),
            ("resp", self.protocol),
            ("lib-name", lib_name),
            ("lib-ver", lib_ver),
        ]
        return " ".join(f"{key}={value}" for key, value in fields)

    def client_type(self) -> str:
        """Return this client's CLIENT KILL/LIST type: normal or pubsub."""
        session = self.session
        return "pubsub" if (session.channels or session.patterns) else "normal"


def _protocol_error(exc: ProtocolError) -> Any:
    return ErrorReply("ERR " + exc.message)


def _address(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address or "")


def _fileno(transport: Any) -> int:
    sock = transport.get_extra_info("socket") if transport is not None else None
    try:
        return sock.fileno() if sock is not None else -1
    except (OSError, ValueError):
        return -1


def _command_name(name: bytes) -> str:
    return name.decode("utf-8", "replace").lower()
