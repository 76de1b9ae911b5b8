"""The engine's compatibility suite, over the wire: a third backend.

The engine's tests run each body against a real redis-server and against the
in-process client (the ``r`` and ``rd`` fixtures of conftest.py). This module
collects the same test functions again with ``r``/``rd`` bound to redis-py
talking to our RESP server, in RESP2 and RESP3, so every assertion the engine makes about Redis's
behaviour also holds through the codec, the connection and the server.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
import redis

from tests.stores.kv.server_backends import OurServer

pytestmark = pytest.mark.redis_server

HERE = Path(__file__).resolve().parent
# The server's own tests bring their own ``r``; everything else that takes
# ``r`` or ``rd`` is the engine's compatibility suite.
NOT_COMPAT = ("test_server", "test_compat", "test_batched")


def _compat_modules() -> list[str]:
    paths = sorted(HERE.glob("test_*.py")) + sorted((HERE / "types").glob("test_*.py"))
    names = []
    for path in paths:
        if path.stem.startswith(NOT_COMPAT):
            continue
        relative = path.relative_to(HERE.parents[2]).with_suffix("")
        names.append(".".join(relative.parts))
    return names


COMPAT_FIXTURES = {"r", "rd"}


def _collect_compat_tests() -> dict[str, object]:
    """Return the compatibility tests (those taking ``r`` or ``rd``), by unique name."""
    found = {}
    for module_name in _compat_modules():
        module = importlib.import_module(module_name)
        short = module_name.rsplit(".", 1)[1].removeprefix("test_")
        for name, function in vars(module).items():
            if not name.startswith("test_") or not inspect.isfunction(function):
                continue
            if COMPAT_FIXTURES & set(inspect.signature(function).parameters):
                found[f"test_{short}__{name.removeprefix('test_')}"] = function
    return found


globals().update(_collect_compat_tests())


@pytest.fixture(scope="module")
def ours():
    server = OurServer()
    try:
        yield server
    finally:
        server.stop()


def _client(server: OurServer, **kwargs) -> redis.Redis:
    client = redis.Redis(host=server.host, port=server.port, **kwargs)
    client.flushall()
    client.config_set("maxmemory", 0)
    client.config_set("maxmemory-policy", "noeviction")
    return client


# redis-py 8's default (protocol=None) negotiates RESP3 with HELLO 3 and
# shapes the results as the suite expects: that is how the suite's real-Redis
# run talks. An explicit protocol=3 changes the Python shapes redis-py
# returns, and the suite's assertions do not hold for real Redis then either;
# test_server_redis_py covers that mode against both servers.
@pytest.fixture(params=[2, None], ids=["resp2", "resp3"])
def protocol(request):
    return request.param


@pytest.fixture
def r(ours, protocol):
    """Yield redis-py on a flushed database of our server, in RESP2 and in RESP3."""
    client = _client(ours, protocol=protocol)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def rd(ours, protocol):
    """Like ``r`` with decode_responses=True."""
    client = _client(ours, protocol=protocol, decode_responses=True)
    try:
        yield client
    finally:
        client.close()
