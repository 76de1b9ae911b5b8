"""The closed set of errors the CQL layer raises, with their protocol codes.

Each class carries the CQL native protocol error code it maps to, so the
protocol server turns any of them into an ERROR frame in one place. Messages
follow Cassandra's wording. Nothing here formats frames or touches storage.
"""

from __future__ import annotations

REQUIRES_ALLOW_FILTERING_MESSAGE = (
    "Cannot execute this query as it might involve data filtering and thus may have "
    "unpredictable performance. If you want to execute this query despite the performance "
    "unpredictability, use ALLOW FILTERING"
)


class CQLError(Exception):
    """Base of every error the CQL layer reports to a client."""

    code = 0x0000
    summary = "Server error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ServerError(CQLError):
    """An unexpected failure inside the server (0x0000)."""

    code = 0x0000
    summary = "Server error"


class ProtocolError(CQLError):
    """A client broke the protocol (0x000A)."""

    code = 0x000A
    summary = "Protocol error"


class TruncateError(CQLError):
    """A TRUNCATE failed (0x1003)."""

    code = 0x1003
    summary = "Truncate error"


class SyntaxException(CQLError):
    """The query text does not parse (0x2000); the message names line:column."""

    code = 0x2000
    summary = "Syntax error in CQL query"

    def __init__(self, message: str, line: int = 0, column: int = 0):
        super().__init__(message)
        self.line = line
        self.column = column


class Unauthorized(CQLError):
    """The user may not do this (0x2100)."""

    code = 0x2100
    summary = "Unauthorized"


class InvalidRequest(CQLError):
    """The query is syntactically right but not valid (0x2200)."""

    code = 0x2200
    summary = "Invalid query"


class ConfigurationException(CQLError):
    """A schema change is not valid (0x2300)."""

    code = 0x2300
    summary = "Query invalid because of configuration issue"


class AlreadyExists(ConfigurationException):
    """A keyspace or table being created exists already (0x2400)."""

    code = 0x2400
    summary = "Already exists"

    def __init__(self, keyspace: str, table: str = ""):
        if table:
            message = f'Cannot add already existing table "{table}" to keyspace "{keyspace}"'
        else:
            message = f'Cannot add existing keyspace "{keyspace}"'
        super().__init__(message)
        self.keyspace = keyspace
        self.table = table


class Unprepared(CQLError):
    """A prepared statement id is unknown to the server (0x2500)."""

    code = 0x2500
    summary = "Unprepared"

    def __init__(self, statement_id: bytes):
        super().__init__(f"Prepared query with ID {statement_id.hex()} not found")
        self.statement_id = statement_id


ERROR_CLASSES = {
    cls.__name__: cls
    for cls in (
        ServerError,
        ProtocolError,
        TruncateError,
        SyntaxException,
        Unauthorized,
        InvalidRequest,
        ConfigurationException,
        AlreadyExists,
        Unprepared,
    )
}
