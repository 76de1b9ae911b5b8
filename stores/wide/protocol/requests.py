"""Decode request message bodies (STARTUP, QUERY, EXECUTE, BATCH, ...).

``decode_request(opcode, body)`` turns one frame body into a message object;
malformed bodies raise ``ProtocolViolation`` (non-fatal: the frame itself was
well delimited). Values stay as the bytes the client sent: turning them into
Python values is the CQL layer's job, with the types it knows.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar

from stores.wide.protocol import format as fmt
from stores.wide.protocol.errors import ProtocolViolation
from stores.wide.protocol.primitives import UNSET, BodyReader, Unset

Value = bytes | None | Unset


@dataclass(slots=True)
class Startup:
    """STARTUP: the options the client chose (CQL_VERSION, COMPRESSION, driver name)."""

    opcode: ClassVar[int] = fmt.STARTUP
    options: dict[str, str]


@dataclass(slots=True)
class Options:
    """OPTIONS: ask what the server supports (also a heartbeat)."""

    opcode: ClassVar[int] = fmt.OPTIONS


@dataclass(slots=True)
class AuthResponse:
    """AUTH_RESPONSE: a SASL token (PLAIN: ``\\0user\\0password``)."""

    opcode: ClassVar[int] = fmt.AUTH_RESPONSE
    token: bytes | None


@dataclass(slots=True)
class Register:
    """REGISTER: the event types the client wants pushed."""

    opcode: ClassVar[int] = fmt.REGISTER
    events: list[str]


@dataclass(slots=True)
class QueryParameters:
    """The parameters shared by QUERY and EXECUTE."""

    consistency: int = fmt.CONSISTENCY_ONE
    values: list[Value] | None = None
    names: list[str] | None = None
    skip_metadata: bool = False
    page_size: int | None = None
    paging_state: bytes | None = None
    serial_consistency: int | None = None
    timestamp: int | None = None


@dataclass(slots=True)
class Query:
    """QUERY: CQL text with its parameters."""

    opcode: ClassVar[int] = fmt.QUERY
    query: str
    parameters: QueryParameters = field(default_factory=QueryParameters)


@dataclass(slots=True)
class Prepare:
    """PREPARE: CQL text to prepare."""

    opcode: ClassVar[int] = fmt.PREPARE
    query: str


@dataclass(slots=True)
class Execute:
    """EXECUTE: a prepared statement id with its parameters."""

    opcode: ClassVar[int] = fmt.EXECUTE
    query_id: bytes
    parameters: QueryParameters = field(default_factory=QueryParameters)


@dataclass(slots=True)
class BatchChild:
    """One statement of a BATCH: query text or a prepared id, with values."""

    query: str | None
    query_id: bytes | None
    values: list[Value]


@dataclass(slots=True)
class Batch:
    """BATCH: statements run together, with consistency and default timestamp."""

    opcode: ClassVar[int] = fmt.BATCH
    batch_type: int
    statements: list[BatchChild]
    consistency: int = fmt.CONSISTENCY_ONE
    serial_consistency: int | None = None
    timestamp: int | None = None


Request = Startup | Options | AuthResponse | Register | Query | Prepare | Execute | Batch


def _read_parameters(reader: BodyReader) -> QueryParameters:
    params = QueryParameters(consistency=reader.read_consistency())
    flags = reader.read_byte()
    if flags & fmt.QUERY_VALUES:
        count = reader.read_short()
        if flags & fmt.QUERY_NAMES_FOR_VALUES:
            names, values = [], []
            for _ in range(count):
                names.append(reader.read_string())
                values.append(reader.read_value())
            params.names, params.values = names, values
        else:
            params.values = [reader.read_value() for _ in range(count)]
    params.skip_metadata = bool(flags & fmt.QUERY_SKIP_METADATA)
    if flags & fmt.QUERY_PAGE_SIZE:
        params.page_size = reader.read_int()
        if params.page_size <= 0:
            params.page_size = None
    if flags & fmt.QUERY_PAGING_STATE:
        params.paging_state = reader.read_bytes()
    if flags & fmt.QUERY_SERIAL_CONSISTENCY:
        params.serial_consistency = reader.read_consistency()
    if flags & fmt.QUERY_DEFAULT_TIMESTAMP:
        params.timestamp = reader.read_long()
    return params


def _decode_startup(reader: BodyReader) -> Startup:
    return Startup(reader.read_string_map())


def _decode_options(reader: BodyReader) -> Options:
    return Options()


def _decode_auth_response(reader: BodyReader) -> AuthResponse:
    return AuthResponse(reader.read_bytes())


def _decode_register(reader: BodyReader) -> Register:
    events = reader.read_string_list()
    for event in events:
        if event not in fmt.EVENT_TYPES:
            raise ProtocolViolation(f"Invalid value '{event}' for Event.Type", fatal=False)
    return Register(events)


def _decode_query(reader: BodyReader) -> Query:
    return Query(reader.read_long_string(), _read_parameters(reader))


def _decode_prepare(reader: BodyReader) -> Prepare:
    return Prepare(reader.read_long_string())


def _decode_execute(reader: BodyReader) -> Execute:
    query_id = reader.read_short_bytes()
    return Execute(query_id, _read_parameters(reader))


def _decode_batch(reader: BodyReader) -> Batch:
    batch_type = reader.read_byte()
    if batch_type not in (fmt.BATCH_LOGGED, fmt.BATCH_UNLOGGED, fmt.BATCH_COUNTER):
        raise ProtocolViolation(f"Invalid BATCH message type {batch_type}", fatal=False)
    statements = []
    for _ in range(reader.read_short()):
        kind = reader.read_byte()
        if kind == fmt.BATCH_KIND_QUERY:
            query, query_id = reader.read_long_string(), None
        elif kind == fmt.BATCH_KIND_PREPARED:
            query, query_id = None, reader.read_short_bytes()
        else:
            raise ProtocolViolation(
                f"Invalid query kind in BATCH messages. Must be 0 or 1 but got {kind}",
                fatal=False,
            )
        values = [reader.read_value() for _ in range(reader.read_short())]
        statements.append(BatchChild(query, query_id, values))
    batch = Batch(batch_type, statements, reader.read_consistency())
    flags = reader.read_byte()
    if flags & fmt.QUERY_NAMES_FOR_VALUES:
        # The v4 spec reserves the flag but no server can honour it: the
        # values above were read without names.
        raise ProtocolViolation("Named values are not supported in BATCH statements", fatal=False)
    if flags & fmt.QUERY_SERIAL_CONSISTENCY:
        batch.serial_consistency = reader.read_consistency()
    if flags & fmt.QUERY_DEFAULT_TIMESTAMP:
        batch.timestamp = reader.read_long()
    return batch


_DECODERS = {
    fmt.STARTUP: _decode_startup,
    fmt.OPTIONS: _decode_options,
    fmt.AUTH_RESPONSE: _decode_auth_response,
    fmt.REGISTER: _decode_register,
    fmt.QUERY: _decode_query,
    fmt.PREPARE: _decode_prepare,
    fmt.EXECUTE: _decode_execute,
    fmt.BATCH: _decode_batch,
}


_SHORT = struct.Struct(">H")
_INT = struct.Struct(">i")
_LONG = struct.Struct(">q")
_CONSISTENCY_FLAGS = struct.Struct(">HB")
# EXECUTE flags the quick decoder reads; any other goes the general way.
_QUICK_FLAGS = (
    fmt.QUERY_VALUES
    | fmt.QUERY_SKIP_METADATA
    | fmt.QUERY_PAGE_SIZE
    | fmt.QUERY_SERIAL_CONSISTENCY
    | fmt.QUERY_DEFAULT_TIMESTAMP
)


def quick_execute(body: bytes) -> Execute | None:
    """Return the EXECUTE a well-formed body holds, or None to take the general decoder.

    The hot request of a prepared workload, read with offsets into the body
    and no reader object. Anything unusual (named values, a paging state)
    or malformed returns None: the general decoder then reads it, or raises
    the right violation.
    """
    try:
        size = _SHORT.unpack_from(body, 0)[0]
        pos = 2 + size
        query_id = body[2:pos]
        consistency, flags = _CONSISTENCY_FLAGS.unpack_from(body, pos)
        pos += 3
        if flags & ~_QUICK_FLAGS:
            return None
        values = None
        if flags & fmt.QUERY_VALUES:
            count = _SHORT.unpack_from(body, pos)[0]
            pos += 2
            values = []
            append = values.append
            unpack_int = _INT.unpack_from
            for _ in range(count):
                n = unpack_int(body, pos)[0]
                pos += 4
                if n >= 0:
                    end = pos + n
                    if end > len(body):
                        return None
                    append(body[pos:end])
                    pos = end
                elif n == fmt.VALUE_NULL:
                    append(None)
                elif n == fmt.VALUE_UNSET:
                    append(UNSET)
                else:
                    return None
        page_size = serial = timestamp = None
        if flags & fmt.QUERY_PAGE_SIZE:
            page_size = _INT.unpack_from(body, pos)[0]
            pos += 4
            if page_size <= 0:
                page_size = None
        if flags & fmt.QUERY_SERIAL_CONSISTENCY:
            serial = _SHORT.unpack_from(body, pos)[0]
            pos += 2
        if flags & fmt.QUERY_DEFAULT_TIMESTAMP:
            timestamp = _LONG.unpack_from(body, pos)[0]
            pos += 8
    except struct.error:
        return None
    if pos != len(body):
        return None
    return Execute(
        query_id,
        QueryParameters(
            consistency,
            values,
            None,
            bool(flags & fmt.QUERY_SKIP_METADATA),
            page_size,
            None,
            serial,
            timestamp,
        ),
    )


def decode_request(opcode: int, body: bytes) -> Request:
    """Return the request message a frame body holds.

    Raise ``ProtocolViolation`` for an opcode a client may not send or a body
    that does not match its opcode's layout.
    """
    if opcode == fmt.EXECUTE:
        message = quick_execute(body)
        if message is not None:
            return message
    decoder = _DECODERS.get(opcode)
    if decoder is None:
        name = fmt.OPCODE_NAMES.get(opcode)
        if name is None:
            raise ProtocolViolation(f"Unknown opcode {opcode}", fatal=False)
        raise ProtocolViolation(f"Unexpected message {name}: not a request", fatal=False)
    reader = BodyReader(body)
    message = decoder(reader)
    reader.expect_end(fmt.OPCODE_NAMES[opcode])
    return message
