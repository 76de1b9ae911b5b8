"""Answer decoded requests: the connection handshake and the CQL requests.

``Dispatcher`` owns the rules of a connection's life (OPTIONS at any time,
STARTUP first, SASL PLAIN authentication when an authenticator is set,
REGISTER for events) and hands QUERY, PREPARE, EXECUTE and BATCH to a
``Backend`` that runs CQL. Every exception a backend raises becomes one ERROR
response here, by its ``code`` attribute (the CQL layer's error classes carry
theirs); anything else is a server error (0x0000). Never does I/O and never
blocks on anything but the backend call it was asked to make.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from stores.wide.protocol import format as fmt
from stores.wide.protocol.compression import Compression
from stores.wide.protocol.requests import (
    AuthResponse,
    Batch,
    Execute,
    Options,
    Prepare,
    Query,
    Register,
    Request,
    Startup,
)
from stores.wide.protocol.responses import (
    Authenticate,
    AuthSuccess,
    Error,
    Ready,
    Response,
    SchemaChangeResult,
    SetKeyspaceResult,
    Supported,
)

log = logging.getLogger(__name__)

PASSWORD_AUTHENTICATOR = "org.apache.cassandra.auth.PasswordAuthenticator"


class Backend(Protocol):
    """What the dispatcher needs from the CQL layer.

    Each method returns a RESULT response; errors are raised as exceptions
    carrying a protocol ``code`` (and ``keyspace``/``table`` or
    ``statement_id`` where the code has extra fields).
    """

    def query(self, text: str, parameters, keyspace: str | None) -> Response: ...

    def prepare(self, text: str, keyspace: str | None) -> Response: ...

    def execute(self, query_id: bytes, parameters, keyspace: str | None) -> Response: ...

    def batch(self, batch: Batch, keyspace: str | None) -> Response: ...


class Authenticator(Protocol):
    """Check a user's password (PasswordAuthenticator's job)."""

    def authenticate(self, username: str, password: str) -> bool: ...


@dataclass
class ConnectionState:
    """What the server remembers about one client connection."""

    started: bool = False
    authenticated: bool = False
    user: str | None = None
    keyspace: str | None = None
    events: set[str] = field(default_factory=set)


def error_from_exception(exc: BaseException) -> Error:
    """Return the ERROR response for an exception raised while executing CQL."""
    code = getattr(exc, "code", None)
    if not isinstance(code, int) or isinstance(exc, OSError):
        log.exception("unexpected error while executing a request", exc_info=exc)
        return Error(fmt.ERR_SERVER, f"{type(exc).__name__}: {exc}")
    message = getattr(exc, "message", None) or str(exc)
    return Error(
        code,
        message,
        keyspace=getattr(exc, "keyspace", "") or "",
        table=getattr(exc, "table", "") or "",
        statement_id=getattr(exc, "statement_id", b"") or b"",
    )


def _is_cql_request(message: Request) -> bool:
    return isinstance(message, Query | Prepare | Execute | Batch)


class Dispatcher:
    """Turn one connection's requests into responses."""

    def __init__(
        self,
        backend: Backend,
        *,
        authenticator: Authenticator | None = None,
        compressions: dict[str, Compression] | None = None,
    ):
        self.backend = backend
        self._execute_if_quick = getattr(backend, "execute_if_quick", None)
        self.authenticator = authenticator
        self.compressions = compressions or {}

    def supported(self) -> Supported:
        """Return the SUPPORTED answer to OPTIONS."""
        return Supported(
            {
                fmt.STARTUP_CQL_VERSION: [fmt.CQL_VERSION],
                fmt.STARTUP_COMPRESSION: list(self.compressions),
                "PROTOCOL_VERSIONS": ["4/v4"],
            }
        )

    def needs_backend(self, state: ConnectionState, message: Request) -> bool:
        """Return True if answering takes a backend call."""
        return _is_cql_request(message) and state.started and state.authenticated

    def needs_worker(self, state: ConnectionState, message: Request) -> bool:
        """Return True if answering may take long: run it off the event loop.

        CQL requests, and a password check (PBKDF2 is slow on purpose).
        """
        if isinstance(message, AuthResponse):
            return self.authenticator is not None and state.started and not state.authenticated
        return self.needs_backend(state, message)

    def handle_quick(self, state: ConnectionState, message: Request) -> Response | None:
        """Answer a CQL request now if it is quick enough for the event loop, else return None.

        Only EXECUTEs the backend calls quick (``Backend.is_quick``: never
        waits for an fsync or a lock held long, bounded work); a backend
        without that method gets every CQL request in a worker. A backend
        with ``execute_if_quick`` answers the question and the request in
        one call. Never raises.
        """
        if message.__class__ is not Execute or not (state.started and state.authenticated):
            return None
        if self._execute_if_quick is not None:
            try:
                response = self._execute_if_quick(
                    message.query_id, message.parameters, state.keyspace
                )
            except Exception as exc:
                return error_from_exception(exc)
            if response.__class__ is SetKeyspaceResult:
                state.keyspace = response.keyspace
            return response
        is_quick = getattr(self.backend, "is_quick", None)
        if is_quick is None or not is_quick(message):
            return None
        return self.handle_cql(state, message)

    def handle_control(self, state: ConnectionState, message: Request) -> Response:
        """Answer a request that needs no backend call (handshake, refusals)."""
        if isinstance(message, Options):
            return self.supported()
        if isinstance(message, Startup):
            return self._startup(state, message)
        if not state.started:
            return Error(
                fmt.ERR_PROTOCOL,
                f"Unexpected message {fmt.OPCODE_NAMES[message.opcode]}, expecting STARTUP or OPTIONS",
            )
        if isinstance(message, AuthResponse):
            return self._auth_response(state, message)
        if not state.authenticated:
            return Error(
                fmt.ERR_PROTOCOL,
                f"Unexpected message {fmt.OPCODE_NAMES[message.opcode]}, expecting AUTH_RESPONSE",
            )
        if isinstance(message, Register):
            state.events.update(message.events)
            return Ready()
        raise ValueError(f"{type(message).__name__} needs the backend")

    def handle_cql(self, state: ConnectionState, message: Request) -> Response:
        """Run a QUERY, PREPARE, EXECUTE or BATCH through the backend; never raises."""
        keyspace = state.keyspace
        try:
            kind = message.__class__
            if kind is Execute:
                response = self.backend.execute(message.query_id, message.parameters, keyspace)
            elif kind is Query:
                response = self.backend.query(message.query, message.parameters, keyspace)
            elif kind is Prepare:
                response = self.backend.prepare(message.query, keyspace)
            else:
                response = self.backend.batch(message, keyspace)
        except Exception as exc:
            return error_from_exception(exc)
        if response.__class__ is SetKeyspaceResult:
            state.keyspace = response.keyspace
        return response

    def handle_traced(self, state: ConnectionState, message: Request) -> tuple[Response, object]:
        """Run a CQL request with tracing; return the response and the trace session id.

        The id is None when the backend keeps no traces.
        """
        traces = getattr(self.backend, "traces", None)
        if traces is None:
            return self.handle_cql(state, message), None
        session = traces.begin(*_trace_description(message))
        session.event(f"Executing {fmt.OPCODE_NAMES[message.opcode]} on the CQL executor")
        response = self.handle_cql(state, message)
        session.event(f"Sending {type(response).__name__} to the client")
        traces.finish(session)
        return response, session.session_id

    def handle(self, state: ConnectionState, message: Request) -> Response:
        """Answer any request (handshake rules here, CQL through the backend); never raises."""
        if self.needs_backend(state, message):
            return self.handle_cql(state, message)
        return self.handle_control(state, message)

    def _startup(self, state: ConnectionState, message: Startup) -> Response:
        if state.started:
            return Error(fmt.ERR_PROTOCOL, "Unexpected message STARTUP, the connection is ready")
        version = message.options.get(fmt.STARTUP_CQL_VERSION)
        if version is None:
            return Error(fmt.ERR_PROTOCOL, "Missing value CQL_VERSION in STARTUP message")
        if not version.startswith("3."):
            return Error(fmt.ERR_PROTOCOL, f"Invalid or unsupported CQL version: {version}")
        state.started = True
        if self.authenticator is None:
            state.authenticated = True
            return Ready()
        return Authenticate(PASSWORD_AUTHENTICATOR)

    def _auth_response(self, state: ConnectionState, message: AuthResponse) -> Response:
        if self.authenticator is None or state.authenticated:
            return Error(fmt.ERR_PROTOCOL, "Unexpected message AUTH_RESPONSE")
        username, password = _parse_sasl_plain(message.token or b"")
        if username is None:
            return Error(
                fmt.ERR_BAD_CREDENTIALS, "Authentication failed: malformed SASL PLAIN token"
            )
        try:
            ok = self.authenticator.authenticate(username, password)
        except Exception as exc:
            return error_from_exception(exc)
        if not ok:
            return Error(
                fmt.ERR_BAD_CREDENTIALS,
                f"Provided username {username} and/or password are incorrect",
            )
        state.authenticated = True
        state.user = username
        return AuthSuccess()

    @staticmethod
    def schema_change_of(response: Response):
        """Return the SchemaChange a response announces, or None."""
        if isinstance(response, SchemaChangeResult):
            return response.change
        return None


def _trace_description(message: Request) -> tuple[str, dict[str, str]]:
    """Return Cassandra's request name and parameters for a traced request."""
    if isinstance(message, Query | Execute):
        params = message.parameters
        parameters = {"consistency_level": fmt.CONSISTENCY_NAMES.get(params.consistency, "ONE")}
        if params.page_size:
            parameters["page_size"] = str(params.page_size)
        if isinstance(message, Query):
            parameters["query"] = message.query
            return "Execute CQL3 query", parameters
        parameters["query_id"] = message.query_id.hex()
        return "Execute CQL3 prepared query", parameters
    if isinstance(message, Prepare):
        return "Preparing CQL3 query", {"query": message.query}
    return "Execute batch of CQL3 queries", {
        "consistency_level": fmt.CONSISTENCY_NAMES.get(message.consistency, "ONE")
    }


def _parse_sasl_plain(token: bytes) -> tuple[str | None, str]:
    """Return (username, password) from a SASL PLAIN token ``authzid NUL user NUL pass``."""
    parts = token.split(b"\x00")
    if len(parts) != 3:
        return None, ""
    try:
        return parts[1].decode("utf-8"), parts[2].decode("utf-8")
    except UnicodeDecodeError:
        return None, ""
