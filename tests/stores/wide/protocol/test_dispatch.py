import pytest

from stores.wide.protocol import format as fmt
from stores.wide.protocol.dispatch import ConnectionState, Dispatcher, error_from_exception
from stores.wide.protocol.requests import (
    AuthResponse,
    Execute,
    Options,
    Query,
    QueryParameters,
    Register,
    Startup,
)
from stores.wide.protocol.responses import (
    Authenticate,
    AuthSuccess,
    Error,
    Ready,
    SetKeyspaceResult,
    Supported,
)
from tests.stores.wide.fake_backend import FakeAuthenticator, FakeBackend, FakeCQLError


def started(dispatcher):
    state = ConnectionState()
    assert isinstance(dispatcher.handle(state, Startup({"CQL_VERSION": "3.0.0"})), Ready)
    return state


def test_supported_lists_cql_version_and_compressions():
    dispatcher = Dispatcher(FakeBackend(), compressions={})
    supported = dispatcher.handle(ConnectionState(), Options())
    assert isinstance(supported, Supported)
    assert supported.options["CQL_VERSION"] == [fmt.CQL_VERSION]
    assert supported.options["COMPRESSION"] == []


@pytest.mark.parametrize(
    "options, text",
    [({}, "Missing value CQL_VERSION"), ({"CQL_VERSION": "2.0.0"}, "unsupported CQL version")],
)
def test_bad_startups(options, text):
    response = Dispatcher(FakeBackend()).handle(ConnectionState(), Startup(options))
    assert isinstance(response, Error) and response.code == fmt.ERR_PROTOCOL
    assert text in response.message


def test_second_startup_is_refused():
    dispatcher = Dispatcher(FakeBackend())
    state = started(dispatcher)
    assert dispatcher.handle(state, Startup({"CQL_VERSION": "3.4.7"})).code == fmt.ERR_PROTOCOL


def test_use_updates_the_state_and_register_answers_ready():
    dispatcher = Dispatcher(FakeBackend())
    state = started(dispatcher)
    assert isinstance(dispatcher.handle(state, Query("USE blog")), SetKeyspaceResult)
    assert state.keyspace == "blog"
    assert isinstance(dispatcher.handle(state, Register(["SCHEMA_CHANGE"])), Ready)
    assert state.events == {"SCHEMA_CHANGE"}


def test_sasl_plain_flow():
    dispatcher = Dispatcher(FakeBackend(), authenticator=FakeAuthenticator())
    state = ConnectionState()
    assert isinstance(dispatcher.handle(state, Startup({"CQL_VERSION": "3.4.7"})), Authenticate)
    assert dispatcher.handle(state, Query("SELECT 1")).code == fmt.ERR_PROTOCOL
    assert dispatcher.handle(state, AuthResponse(b"garbage")).code == fmt.ERR_BAD_CREDENTIALS
    bad = dispatcher.handle(state, AuthResponse(b"\x00cassandra\x00wrong"))
    assert bad.code == fmt.ERR_BAD_CREDENTIALS
    assert "cassandra" in bad.message
    assert isinstance(
        dispatcher.handle(state, AuthResponse(b"\x00cassandra\x00cassandra")), AuthSuccess
    )
    assert state.user == "cassandra"
    assert (
        dispatcher.handle(state, AuthResponse(b"\x00cassandra\x00cassandra")).code
        == fmt.ERR_PROTOCOL
    )


def test_error_mapping_keeps_extra_fields():
    error = error_from_exception(FakeCQLError(0x2400, "exists", keyspace="k", table="t"))
    assert (error.code, error.keyspace, error.table) == (0x2400, "k", "t")
    error = error_from_exception(FakeCQLError(0x2500, "unprepared", statement_id=b"\x01"))
    assert error.statement_id == b"\x01"
    assert error_from_exception(KeyError("x")).code == fmt.ERR_SERVER
    assert error_from_exception(OSError(5, "disk")).code == fmt.ERR_SERVER


class _QuickBackend(FakeBackend):
    """A FakeBackend with ``execute_if_quick``: statements starting with WAIT are slow."""

    def execute_if_quick(self, query_id, parameters, keyspace):
        text = self.prepared.get(query_id, "")
        if text.startswith("WAIT"):
            return None
        if text.startswith("USE"):
            return SetKeyspaceResult(text.split()[1])
        if text.startswith("FAIL"):
            raise FakeCQLError(0x2200, "boom")
        return self.execute(query_id, parameters, keyspace)


def test_handle_quick_answers_quick_executes_only():
    backend = _QuickBackend()
    dispatcher = Dispatcher(backend)
    state = ConnectionState()
    ids = {
        text: backend.prepare(text, None).statement_id
        for text in ("SELECT 1", "WAIT", "USE k2", "FAIL")
    }
    execute = Execute(ids["SELECT 1"], QueryParameters())
    # Not started: a handshake error is not quick, the general path answers it.
    assert dispatcher.handle_quick(state, execute) is None
    state = started(dispatcher)
    assert dispatcher.handle_quick(state, Options()) is None
    assert dispatcher.handle_quick(state, Query("SELECT 1", QueryParameters())) is None
    assert dispatcher.handle_quick(state, Execute(ids["WAIT"], QueryParameters())) is None
    answer = dispatcher.handle_quick(state, execute)
    assert answer == dispatcher.handle_cql(state, execute)
    assert isinstance(
        dispatcher.handle_quick(state, Execute(ids["USE k2"], QueryParameters())), SetKeyspaceResult
    )
    assert state.keyspace == "k2"
    error = dispatcher.handle_quick(state, Execute(ids["FAIL"], QueryParameters()))
    assert isinstance(error, Error) and (error.code, error.message) == (0x2200, "boom")


def test_handle_quick_with_a_backend_that_only_says_what_is_quick():
    class IsQuick(FakeBackend):
        def is_quick(self, message):
            return not self.prepared.get(message.query_id, "").startswith("WAIT")

    for backend, quick in ((IsQuick(), True), (FakeBackend(), False)):
        dispatcher = Dispatcher(backend)
        state = started(dispatcher)
        select = Execute(backend.prepare("SELECT 1", None).statement_id, QueryParameters())
        answer = dispatcher.handle_quick(state, select)
        assert (answer is not None) is quick
        if quick:
            assert answer == dispatcher.handle_cql(state, select)
            wait = Execute(backend.prepare("WAIT", None).statement_id, QueryParameters())
            assert dispatcher.handle_quick(state, wait) is None
