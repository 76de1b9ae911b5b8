"""The asyncio CQL native protocol server around the sans-I/O codec.

Owns sockets, the event loop and the worker threads: bytes read from a client
go to its ``ServerConnection``; handshake requests are answered on the loop,
quick EXECUTEs (writes that wait for no fsync, one-partition reads:
``Dispatcher.handle_quick``) are answered on the loop too unless
``quick_inline`` is off; every other CQL request runs in a thread pool (the
loop never waits for an fsync, a password hash or a scan); ``workers=0``
runs everything on the loop. Answers
are written as they finish, in any order, those ready together in one write.
Limits keep a client from growing the server's memory: a frame length cap, a
bound on requests in flight per connection (reading pauses at the bound), and
reading also pauses while a client does not read its answers. A protocol
violation is answered and, when the byte stream cannot be trusted any more,
that connection is closed; other connections never notice. Never parses CQL itself.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
from concurrent.futures import ThreadPoolExecutor

from stores.wide.protocol import format as fmt
from stores.wide.protocol.compression import available_compressions
from stores.wide.protocol.connection import RequestReceived, ServerConnection, ViolationDetected
from stores.wide.protocol.dispatch import Authenticator, Backend, ConnectionState, Dispatcher
from stores.wide.protocol.requests import Startup
from stores.wide.protocol.responses import (
    EncodedResult,
    Error,
    Response,
    SchemaChangeEvent,
    SchemaChangeResult,
)

log = logging.getLogger(__name__)

DEFAULT_PORT = 9043
DEFAULT_BIND = "127.0.0.1"
# Cassandra's native_transport_max_requests_per_connection idea: a client
# may pipeline this many requests before the server stops reading from it.
DEFAULT_MAX_IN_FLIGHT = 1024
# Answers computed on the loop are written together at the end of a read,
# or as soon as this many bytes are waiting.
FLUSH_AT = 64 * 1024


class ClientConnection(asyncio.Protocol):
    """One client: its protocol state, in-flight work and flow control."""

    def __init__(self, server: CQLServer):
        self.server = server
        self.protocol = ServerConnection(
            server.max_frame_length, compressions=server.dispatcher.compressions
        )
        self.state = ConnectionState()
        self.transport: asyncio.Transport | None = None
        self.in_flight = 0
        self.reading_paused = False
        self.writing_paused = False
        self.closing = False
        # Worker jobs of this connection not finished yet, and answers
        # encoded but not yet written (they leave together, in one write).
        self.worker_jobs = 0
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    # asyncio.Protocol ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        self.server.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        self._process()

    def pause_writing(self) -> None:
        self.writing_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._update_reading()
        self._process()

    # Request handling ------------------------------------------------------

    def _process(self) -> None:
        # With quick_inline, quick requests (``Dispatcher.handle_quick``) are
        # answered right here, on the loop: no thread hand-off, no GIL
        # ping-pong with a worker.
        # The others decoded from one read go to a worker together. While
        # this connection has work in the workers, its quick requests go
        # there too: a request answered on the loop never overtakes one sent
        # before it on the same connection. Every answer ready by the end of
        # this call leaves in one write.
        batch: list[RequestReceived] = []
        server = self.server
        dispatcher = server.dispatcher
        state = self.state
        protocol = self.protocol
        pending = self._pending
        inline = server.pool is None
        quick_inline = server.quick_inline
        max_in_flight = server.max_in_flight
        while not self.closing and self.in_flight < max_in_flight and not self.writing_paused:
            try:
                event = protocol.next_event()
            except Exception:
                log.exception("unexpected error decoding a request")
                self._abort()
                return
            if event is None:
                break
            if event.__class__ is ViolationDetected:
                self._answer_violation(event)
                continue
            message = event.message
            if not batch and not self.worker_jobs:
                if inline:
                    self._run_inline(event)
                    continue
                if quick_inline and not event.tracing:
                    response = dispatcher.handle_quick(state, message)
                    if response is not None:
                        if response.__class__ is EncodedResult:
                            # A point read's Rows, encoded already: framed
                            # here (nothing in it can fail to encode).
                            data = protocol.encode_result(event.stream, response.body)
                            pending.append(data)
                            self._pending_bytes += len(data)
                            if self._pending_bytes >= FLUSH_AT:
                                self._flush()
                        else:
                            self._answer(self._encode(event.stream, response), response)
                        continue
            if dispatcher.needs_worker(state, message):
                batch.append(event)
                self.in_flight += 1
            else:
                self._handle_control(event)
        if batch:
            self.worker_jobs += 1
            future = self.server.loop.run_in_executor(self.server.pool, self._execute, batch)
            future.add_done_callback(functools.partial(self._finish, len(batch)))
        self._flush()
        self._update_reading()

    def _run_inline(self, event: RequestReceived) -> None:
        dispatcher = self.server.dispatcher
        message = event.message
        if not dispatcher.needs_worker(self.state, message):
            self._handle_control(event)
            return
        ((response, data),) = self._execute([event])
        self._answer(data, response)

    def _answer(self, data: bytes, response: Response) -> None:
        """Queue an answer computed on the loop (written at the end of this read)."""
        self._pending.append(data)
        self._pending_bytes += len(data)
        if self._pending_bytes >= FLUSH_AT:
            # Big answers leave now: the transport then tells us (through
            # pause_writing) when the client is not reading them.
            self._flush()
        if response.__class__ is SchemaChangeResult:
            self._flush()
            self.server.announce(SchemaChangeEvent(response.change))

    def _at_capacity(self) -> bool:
        return self.in_flight >= self.server.max_in_flight or self.writing_paused

    def _update_reading(self) -> None:
        if self.transport is None or self.closing:
            return
        should_pause = self._at_capacity() or self.protocol.buffered > self.server.max_frame_length
        if should_pause and not self.reading_paused:
            self.transport.pause_reading()
            self.reading_paused = True
        elif not should_pause and self.reading_paused:
            self.transport.resume_reading()
            self.reading_paused = False

    def _answer_violation(self, event: ViolationDetected) -> None:
        violation = event.violation
        self._write(self.protocol.encode_violation(violation))
        if violation.fatal:
            self.closing = True
            self.transport.close()

    def _handle_control(self, event: RequestReceived) -> None:
        message = event.message
        response = self.server.dispatcher.handle_control(self.state, message)
        self._send(event.stream, response)
        if isinstance(message, Startup) and not isinstance(response, Error):
            self.protocol.start_compression()

    def _execute(self, batch: list[RequestReceived]) -> list[tuple[Response, bytes]]:
        """Run CQL requests and encode their answers (in a worker thread)."""
        answers = []
        dispatcher = self.server.dispatcher
        for event in batch:
            if event.tracing and dispatcher.needs_backend(self.state, event.message):
                response, trace_id = dispatcher.handle_traced(self.state, event.message)
            else:
                response, trace_id = dispatcher.handle(self.state, event.message), None
            answers.append((response, self._encode(event.stream, response, trace_id)))
        return answers

    def _finish(self, count: int, future: asyncio.Future) -> None:
        self.in_flight -= count
        self.worker_jobs -= 1
        if self.closing:
            return
        try:
            answers = future.result()
        except Exception:  # the dispatcher never raises; belt and braces
            log.exception("a batch of requests failed")
            self._abort()
            return
        self._pending.extend(data for _, data in answers)
        self._flush()
        for response, _ in answers:
            change = self.server.dispatcher.schema_change_of(response)
            if change is not None:
                self.server.announce(SchemaChangeEvent(change))
        self._process()

    def _send(self, stream: int, response: Response) -> None:
        self._write(self._encode(stream, response))

    def _encode(self, stream: int, response: Response, tracing_id=None) -> bytes:
        try:
            return self.protocol.encode(stream, response, tracing_id=tracing_id)
        except Exception as exc:
            log.exception("cannot encode a response")
            return self.protocol.encode(
                stream, Error(fmt.ERR_SERVER, f"cannot encode response: {exc}")
            )

    def push(self, event: SchemaChangeEvent) -> None:
        """Send a server-pushed event (stream -1) if this client registered for it."""
        if not self.closing and fmt.EVENT_SCHEMA_CHANGE in self.state.events:
            self._send(-1, event)

    def _write(self, data: bytes) -> None:
        self._pending.append(data)
        self._flush()

    def _flush(self) -> None:
        pending = self._pending
        if not pending:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        pending.clear()
        self._pending_bytes = 0
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _abort(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.abort()


class CQLServer:
    """Listen on a TCP port and serve the native protocol to every client."""

    def __init__(
        self,
        backend: Backend,
        *,
        host: str = DEFAULT_BIND,
        port: int = DEFAULT_PORT,
        authenticator: Authenticator | None = None,
        max_frame_length: int = fmt.DEFAULT_MAX_FRAME_LENGTH,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        workers: int = 4,
        compressions=None,
        quick_inline: bool = True,
    ):
        self.host = host
        self.port = port
        self.max_frame_length = max_frame_length
        self.max_in_flight = max_in_flight
        self.dispatcher = Dispatcher(
            backend,
            authenticator=authenticator,
            compressions=available_compressions() if compressions is None else compressions,
        )
        self.pool = (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cql-worker")
            if workers > 0
            else None
        )
        # Answer quick EXECUTEs (Dispatcher.handle_quick) on the loop, the
        # rest in the worker threads (see docs/wide/protocol.md, "Execution
        # model", for what it measured).
        self.quick_inline = quick_inline
        self.connections: set[ClientConnection] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> None:
        """Start listening; ``self.port`` is the bound port afterwards (0 picks one)."""
        self.loop = asyncio.get_running_loop()
        self._server = await self.loop.create_server(
            lambda: ClientConnection(self), self.host, self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def announce(self, event: SchemaChangeEvent) -> None:
        """Push an event to every client that registered for it."""
        for connection in list(self.connections):
            connection.push(event)

    async def serve_until(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then close cleanly."""
        await stop.wait()
        await self.close()

    async def close(self) -> None:
        """Stop accepting, close every connection and wait for running requests."""
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.closing = True
                connection.transport.close()
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), 5)
            except TimeoutError:
                log.warning("connections still open after 5 s at shutdown")
        if self.pool is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.pool.shutdown, True)


def install_signal_handlers(stop: asyncio.Event) -> None:
    """Set ``stop`` on SIGTERM and SIGINT."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """Return a uvloop loop when uvloop is installed, else asyncio's default."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
