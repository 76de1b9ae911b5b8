"""The CQL conformance cases again, through cassandra-driver against our server.

The same case files as ``tests/stores/wide/cql/test_conformance.py``; each
case runs in a fresh driver session after every user keyspace left by the
previous case is dropped. Twice: with default driver settings (protocol
negotiated down from v5, schema and token metadata on) and pinned to v4.
"""

from __future__ import annotations

import re

import pytest
from cassandra import AlreadyExists
from cassandra.protocol import _ProtocolHandler as PurePythonProtocolHandler
from cassandra.query import SimpleStatement, tuple_factory
from cassandra.util import Date as DriverDate
from cassandra.util import Duration as DriverDuration
from cassandra.util import OrderedMap, OrderedMapSerializedKey
from cassandra.util import SortedSet as DriverSortedSet
from cassandra.util import Time as DriverTime

from stores.wide.cql.values import Date, Duration, Time
from tests.stores.wide.cql.conformance import case_files, load_case, run_case
from tests.stores.wide.server_process import ServerProcess, driver_cluster

SYSTEM_KEYSPACES = {
    "system",
    "system_schema",
    "system_auth",
    "system_distributed",
    "system_traces",
    "system_views",
    "system_virtual_schema",
}
NULL_ELEMENT_FUNCTIONS = re.compile(r"\b(ttl|writetime|maxwritetime)\s*\(", re.IGNORECASE)
SERVER_MESSAGE = re.compile(r'message="(.*)"', re.DOTALL)


def to_engine_value(value):
    """Return the value the in-process Session would give for a driver value."""
    if isinstance(value, DriverDate):
        return Date(value.days_from_epoch)
    if isinstance(value, DriverTime):
        return Time(value.nanosecond_time)
    if isinstance(value, DriverDuration):
        return Duration(value.months, value.days, value.nanoseconds)
    if isinstance(value, DriverSortedSet):
        return {to_engine_value(v) for v in value}
    if isinstance(value, OrderedMap | OrderedMapSerializedKey):
        return {to_engine_value(k): to_engine_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_engine_value(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_engine_value(v) for v in value)
    return value


class CaseError(Exception):
    """A driver error re-raised under the CQL error class name the case expects."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def _as_case_error(exc: Exception) -> Exception:
    name = type(exc).__name__
    if isinstance(exc, AlreadyExists):
        # The driver keeps only keyspace and table of ALREADY_EXISTS, not the
        # server's text; rebuild Cassandra's wording from them.
        if exc.table:
            message = (
                f'Cannot add already existing table "{exc.table}" to keyspace "{exc.keyspace}"'
            )
        else:
            message = f'Cannot add existing keyspace "{exc.keyspace}"'
    else:
        match = SERVER_MESSAGE.search(str(exc))
        message = match.group(1) if match else str(exc)
    error = type(name, (CaseError,), {})(message)
    return error


class DriverClient:
    def __init__(self, session):
        self.session = session

    def execute(self, statement: str, fetch_size: int | None):
        if fetch_size is None:
            fetch_size = 5000
        default = self.session.client_protocol_handler
        if NULL_ELEMENT_FUNCTIONS.search(statement):
            # ttl()/writetime() of a collection may hold null elements
            # (Cassandra 5); the protocol and the driver's pure-Python row
            # parser allow them, its Cython parser fails and drops the
            # connection. Every other statement uses the default parser.
            self.session.client_protocol_handler = PurePythonProtocolHandler
        try:
            result, rows = self._run(statement, fetch_size)
        except Exception as exc:
            raise _as_case_error(exc) from exc
        finally:
            self.session.client_protocol_handler = default
        return result.column_names or [], rows

    def _run(self, statement: str, fetch_size: int):
        result = self.session.execute(SimpleStatement(statement, fetch_size=fetch_size or None))
        return result, [tuple(to_engine_value(v) for v in row) for row in result]


@pytest.fixture(scope="module")
def server():
    process = ServerProcess()
    yield process
    code, output = process.stop()
    assert code == 0, output


@pytest.fixture(scope="module", params=["default", "v4"])
def cluster(request, server):
    options = {} if request.param == "default" else {"protocol_version": 4}
    cluster = driver_cluster(server.port, row_factory=tuple_factory, **options)
    yield cluster
    cluster.shutdown()


def _drop_user_keyspaces(cluster):
    session = cluster.connect()
    try:
        for (name,) in session.execute("SELECT keyspace_name FROM system_schema.keyspaces"):
            if name not in SYSTEM_KEYSPACES:
                session.execute(f'DROP KEYSPACE "{name}"')
    finally:
        session.shutdown()


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_case_through_the_driver(cluster, path):
    _drop_user_keyspaces(cluster)
    session = cluster.connect()
    try:
        assert run_case(load_case(path), DriverClient(session), path.name) > 0
    finally:
        session.shutdown()
    assert cluster.protocol_version == 4
