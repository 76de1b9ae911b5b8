"""The RESP server: an asyncio TCP server around one key-value engine.

``Server`` listens, admits clients up to ``maxclients``, keeps the registry
of connections (CLIENT LIST/KILL), serves clients woken from blocking
commands in arrival order before any other command runs, and shuts down in
order: stop accepting, let every written reply reach its client, then close
the engine (which flushes and fsyncs persistence). ``serve`` runs a server
until SIGTERM or SIGINT (uvloop when installed); ``BackgroundServer`` runs
one on a thread for embedding and tests. Per-connection work lives in
``stores.kv.connection``, the wire format in ``stores.kv.resp``; this module
never parses bytes and never touches the data set.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from stores.kv.connection import Connection
from stores.kv.errors import CommandError
from stores.kv.replies import ErrorReply

log = logging.getLogger(__name__)

DEFAULT_PORT = 6380
DEFAULT_BIND = "127.0.0.1"
# Redis's client-output-buffer-limit for pub/sub clients: 32mb hard, 8mb
# soft for 60 seconds.
DEFAULT_PUBSUB_OUTPUT_LIMITS = (32 * 1024 * 1024, 8 * 1024 * 1024, 60.0)
SHUTDOWN_GRACE_SECONDS = 10.0


class Server:
    """A RESP2/RESP3 server for one engine, on one asyncio loop."""

    def __init__(
        self,
        engine: Any,
        host: str = DEFAULT_BIND,
        port: int = DEFAULT_PORT,
        *,
        pubsub_output_limits: tuple[int, int, float] = DEFAULT_PUBSUB_OUTPUT_LIMITS,
        backlog: int = 511,
    ) -> None:
        self.engine = engine
        self.host = host
        self.port = port
        self.backlog = backlog
        self.pubsub_output_limits = pubsub_output_limits
        self.clients: dict[int, Connection] = {}
        self.woken: collections.deque[Connection] = collections.deque()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread = 0
        self.stopping = False
        self._serving_woken = False
        self._listener: asyncio.base_events.Server | None = None
        self._stop_requested: asyncio.Event | None = None
        self._all_closed: asyncio.Event | None = None
        config = engine.config
        self.maxclients = int(config.get("maxclients"))
        self.max_bulk_len = int(config.get("proto-max-bulk-len"))
        self.query_buffer_limit = int(config.get("client-query-buffer-limit"))
        config.on_change(self._config_changed)

    # -- configuration ------------------------------------------------------------

    def _config_changed(self, name: str, value: Any) -> None:
        """Apply CONFIG SET of the limits the server enforces, to every client."""
        if name == "maxclients":
            self.maxclients = int(value)
        elif name == "proto-max-bulk-len":
            self.max_bulk_len = int(value)
            for conn in list(self.clients.values()):
                conn.reader.max_bulk_len = self.max_bulk_len
        elif name == "client-query-buffer-limit":
            self.query_buffer_limit = int(value)
            for conn in list(self.clients.values()):
                conn.reader.query_buffer_limit = self.query_buffer_limit

    # -- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening; ``self.port`` is the bound port (useful with port 0)."""
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        self._stop_requested = asyncio.Event()
        self._all_closed = asyncio.Event()
        self._listener = await self.loop.create_server(
            lambda: Connection(self),
            self.host,
            self.port,
            backlog=self.backlog,
            reuse_address=True,
        )
        self.port = self._listener.sockets[0].getsockname()[1]
        log.info(
            "kv server ready to accept connections on %s:%d (%s)",
            self.host,
            self.port,
            type(self.loop).__module__.split(".")[0],
        )

    def request_stop(self) -> None:
        """Ask ``serve_until_stopped`` to return (safe from signal handlers)."""
        if self._stop_requested is not None:
            self._stop_requested.set()

    async def serve_until_stopped(self) -> None:
        """Serve clients until ``request_stop`` is called, then shut down."""
        await self._stop_requested.wait()
        await self.shutdown()

    async def shutdown(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Stop accepting, finish every written reply, close every client."""
        if self.stopping:
            return
        self.stopping = True
        if self._listener is not None:
            self._listener.close()
        for conn in list(self.clients.values()):
            conn.close()
        if self.clients:
            try:
                await asyncio.wait_for(self._all_closed.wait(), grace)
            except TimeoutError:
                log.warning(
                    "%d clients did not drain in %ss; dropping them", len(self.clients), grace
                )
                for conn in list(self.clients.values()):
                    conn.abort()
        if self._listener is not None:
            await self._listener.wait_closed()
        log.info("kv server stopped")

    def connection_closed(self, conn: Connection) -> None:
        """Note that a client went away (called by the connection)."""
        if self.stopping and not self.clients and self._all_closed is not None:
            self._all_closed.set()

    # -- persistence ----------------------------------------------------------------

    def flush_persistence(self) -> ErrorReply | None:
        """Write (and fsync if configured) what the batch changed.

        The server's sessions batch (``Session.batching``): the engine
        leaves ``persistence.after_command`` to the server, which calls it
        once per batch of commands, before any reply of the batch is
        written, so a reply never acknowledges a write that is not in the
        append-only file (Redis, too, writes its AOF buffer once per
        event-loop iteration). Return None when done, or the error to send
        instead of each reply of the batch when the disk refused: what the
        engine answers for every command when its ``after_command`` fails
        (Redis's MISCONF).
        """
        engine = self.engine
        if not engine.persisting:
            return None
        try:
            engine.persistence.after_command()
        except Exception as exc:
            return self.persistence_failure(exc)
        return None

    def persistence_failure(self, exc: Exception) -> ErrorReply:
        """Log a failed append-only write and return the error its replies become."""
        if isinstance(exc, CommandError):
            log.error("cannot write the append-only file: %s", exc.message)
            return ErrorReply(exc.message)
        log.error("cannot write the append-only file: %s", exc, exc_info=exc)
        return ErrorReply(f"MISCONF Errors writing to the AOF file: {exc}")

    # -- blocking commands ----------------------------------------------------------

    def wake(self, conn: Connection) -> None:
        """Queue a blocked client whose keys changed (called by the engine)."""
        self.woken.append(conn)
        if threading.get_ident() != self.loop_thread:
            self.loop.call_soon_threadsafe(self.serve_woken)

    def serve_woken(self) -> None:
        """Retry the blocked commands of woken clients, in the order they blocked."""
        if self._serving_woken:
            return
        self._serving_woken = True
        try:
            while self.woken:
                self.woken.popleft().retry_blocked()
        finally:
            self._serving_woken = False


def _new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def serve(server: Server, *, on_ready: Callable[[Server], None] | None = None) -> None:
    """Run ``server`` until SIGTERM or SIGINT, then shut it down and close its engine."""
    loop = _new_event_loop()
    asyncio.set_event_loop(loop)

    async def main() -> None:
        await server.start()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, server.request_stop)
        if on_ready is not None:
            on_ready(server)
        await server.serve_until_stopped()

    try:
        loop.run_until_complete(main())
    finally:
        try:
            server.engine.close()
        finally:
            loop.close()
            asyncio.set_event_loop(None)


class BackgroundServer:
    """A ``Server`` running on its own thread and event loop.

    ``start()`` returns once it listens; ``stop()`` shuts it down gracefully
    and joins the thread. The engine is not closed: it belongs to the caller.
    """

    def __init__(self, engine: Any, host: str = DEFAULT_BIND, port: int = 0, **options: Any):
        self.server = Server(engine, host, port, **options)
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def host(self) -> str:
        return self.server.host

    def start(self) -> BackgroundServer:
        """Start the thread and wait until the server listens."""
        self._thread = threading.Thread(target=self._run, name="kv-server", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        loop = self._loop = _new_event_loop()
        asyncio.set_event_loop(loop)

        async def main() -> None:
            try:
                await self.server.start()
            except BaseException as exc:
                self._error = exc
                raise
            finally:
                self._ready.set()
            await self.server.serve_until_stopped()

        try:
            loop.run_until_complete(main())
        except BaseException as exc:
            if self._error is None:
                log.exception("background kv server failed")
                self._error = exc
        finally:
            loop.close()

    def call(self, function: Callable[[], Any]) -> Any:
        """Run ``function`` on the server's loop and return its result."""
        future = asyncio.run_coroutine_threadsafe(_call(function), self._loop)
        return future.result(30)

    def stop(self) -> None:
        """Shut the server down gracefully and join its thread."""
        if self._thread is None:
            return
        if self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self.server.request_stop)
            except RuntimeError:
                pass
        self._thread.join(30)
        self._thread = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


async def _call(function: Callable[[], Any]) -> Any:
    return function()
