"""Assertion helpers shared by the compatibility tests."""

from __future__ import annotations

import pytest
import redis


def error_of(call, *args, **kwargs) -> str:
    """Return the text of the ResponseError ``call`` raises (fail if none)."""
    with pytest.raises(redis.exceptions.ResponseError) as info:
        call(*args, **kwargs)
    return str(info.value)


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "value is not an integer or out of range"
SYNTAX = "syntax error"


def second_client(r):
    """Return another client (another connection / session) on the same store as ``r``."""
    from stores.kv.client import Client

    if isinstance(r, Client):
        return Client(r.engine)
    kwargs = r.connection_pool.connection_kwargs
    return redis.Redis(host=kwargs["host"], port=kwargs["port"], single_connection_client=True)
