import pytest

from stores.wide.protocol import format as fmt
from stores.wide.protocol.dispatch import ConnectionState, Dispatcher, error_from_exception
from stores.wide.protocol.requests import (
    AuthResponse,
    Options,
    Query,
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
