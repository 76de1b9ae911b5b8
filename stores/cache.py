"""Django cache backend on the site's key-value handles.

Owns nothing but the wiring: ``KVCache`` is Django's own ``RedisCache``
whose client takes its redis-py shaped handle from ``stores.clients``
instead of a connection pool, so the embedded engine, the project's RESP
server and a real Redis all run Django's tested cache logic unchanged, and
every cache command shows in the request's store trace.

``LOCATION`` names the handle: ``"main"`` (``stores.clients.kv()``, where
sessions live, never evicted by the page cache) or ``"pages"``
(``stores.clients.kv_pages()``). ``clear()`` deletes only the keys under the
cache's ``KEY_PREFIX`` (found by SCAN), never the whole database, because a
handle is shared with other data.

``get`` is the cached page's whole read path, so on an embedded handle it
sends its ``GET`` straight to the engine session the handle's client uses
(``Session.execute`` with GET's command, as the client's hot methods call
it; the engine's one command path: expiry, LRU clock,
keyspace hits and misses, stats) and records the command on the trace
itself, as ``stores.tracing.TracedKV`` would. Never changes what is stored
or returned: only how many Python layers a read crosses.
"""

from __future__ import annotations

import pickle
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient, RedisSerializer
from redis._parsers.base import BaseParser

from stores import clients, tracing
from stores.kv.replies import ErrorReply

HANDLES = {"main": clients.kv, "pages": clients.kv_pages}
CLEAR_BATCH = 500
# How many key -> cache key results get() remembers; a page
# cache reads few keys often, so a small table is almost always a hit.
KEY_MEMO_SIZE = 2048

PICKLE_START = 0x80
# First bytes that int() may accept: such bytes values are pickled.
INT_START = frozenset(b"+-0123456789 \t\n\r\x0b\x0c")


class KVSerializer(RedisSerializer):
    """Django's Redis serializer, plus bytes stored as they are.

    Django's stores an int as its digits and anything else as a pickle
    (which, protocol 2 and later, always starts with ``0x80``). This one
    also stores a bytes value as itself when its first byte could start
    neither (not ``0x80``, nor a sign, digit or space ``int()`` accepts), so
    a rendered page is read back without unpickling or copying; any other
    bytes value is pickled as Django's serializer does. The first byte
    decides on reading, without an exception: ``0x80`` a pickle, a digit,
    sign or space an int, anything else raw bytes.
    """

    def dumps(self, obj):
        if type(obj) is bytes and obj and obj[0] != PICKLE_START and obj[0] not in INT_START:
            return obj
        return super().dumps(obj)

    def loads(self, data):
        first = data[0] if data else PICKLE_START
        if first == PICKLE_START:
            return pickle.loads(data)
        if first in INT_START:
            return int(data)
        return data


class KVCacheClient(RedisCacheClient):
    """RedisCacheClient that uses a ``stores.clients`` handle."""

    def __init__(self, servers, serializer=None, **options):
        super().__init__(servers, serializer=serializer or KVSerializer)
        name = servers[0] if servers else "main"
        if name not in HANDLES:
            raise ValueError(f"KVCache LOCATION must be one of {', '.join(HANDLES)}, not {name!r}")
        self._handle = HANDLES[name]
        self._main = None
        self._client = None
        self._session = None
        self._session_run = None
        self._get_command = None
        self._label = name
        self.key_prefix = options.get("key_prefix", "")

    def get_client(self, key=None, *, write=False):
        # stores.clients replaces every handle at once, on reset(), so the
        # handle found while kv() was this object is still current. Holding
        # the old kv() keeps its identity from being reused. Cheaper than
        # kv_pages(), which parses KV_URL on every call.
        main = clients.kv()
        if main is not self._main:
            self._bind(self._handle())
            self._main = main
        return self._client

    def _bind(self, handle) -> None:
        from stores.kv.client import Client
        from stores.kv.commands import COMMANDS

        self._client = handle
        raw = getattr(handle, "wrapped", handle)
        self._label = getattr(handle, "trace_label", self._label)
        # Only the engine's own client, returning bytes, has a session whose
        # replies get() may hand back as they are.
        direct = type(raw) is Client and not raw.decode_responses
        if direct:
            options = raw.get_connection_kwargs()
            utf8 = options["encoding"].lower().replace("-", "").replace("_", "") == "utf8"
            direct = utf8 and options["encoding_errors"] == "strict"
        self._session = raw.session if direct else None
        self._session_run = raw.session.execute if direct else None
        # GET's command, passed with its well-formed argv as the client's hot
        # methods pass theirs: the session then skips the lookup and arity check.
        self._get_command = COMMANDS[_GET] if direct else None

    def clear(self):
        client = self.get_client(None, write=True)
        if not self.key_prefix:
            return bool(client.flushdb())
        pattern = _glob_escape(self.key_prefix) + ":*"
        batch: list = []
        for key in client.scan_iter(match=pattern, count=CLEAR_BATCH):
            batch.append(key)
            if len(batch) >= CLEAR_BATCH:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
        return True


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


_GET = b"GET"
_perf = time.perf_counter
_current = tracing.current
_new_kv_get = tracing.new_kv_get


class KVCache(RedisCache):
    """Django's RedisCache on a ``stores.clients`` key-value handle."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KVCacheClient
        self._options = {**self._options, "key_prefix": self.key_prefix}
        # make_and_validate_key's results for str keys at the default version.
        self._keys: dict[str, str] = {}

    @property
    def returns_stored_values(self) -> bool:
        """Return True if ``get`` of a raw bytes value returns the engine's stored object.

        True on an embedded handle (nothing is copied between the engine and
        the caller), so a reader may remember what it made of a value by the
        value's identity; False on a Redis handle, whose replies are new
        objects.
        """
        return self._cache._session_run is not None

    def get(self, key, default=None, version=None):
        """Return the value under key, or default.

        RedisCache.get and RedisCacheClient.get in one call: a cached page
        is one GET per request, and this is its whole Python path.
        """
        if version is None and type(key) is str:
            memo = self._keys
            full = memo.get(key)
            if full is None:
                full = self.make_and_validate_key(key)
                if len(memo) >= KEY_MEMO_SIZE:
                    memo.clear()
                memo[key] = full
        else:
            full = self.make_and_validate_key(key, version=version)
        client = self._cache
        session = client._session
        # An open session means the handle is current: clients.reset(),
        # which replaces the handles, closes the old ones first.
        if session is None or session.closed:
            client.get_client()
        run = client._session_run
        if run is None:
            value = client.get_client(full).get(full)
            return default if value is None else client._serializer.loads(value)
        argv = [_GET, full.encode()]
        trace = _current()
        if trace is None:
            value = run(argv, client._get_command)
        else:
            start = _perf()
            value = run(argv, client._get_command)
            elapsed = _perf() - start
            if value is None or type(value) is bytes:
                # Trace.add, inline: this runs on every cached page.
                events = trace.events
                if len(events) < tracing.MAX_EVENTS:
                    events.append(_new_kv_get((client._label, full, elapsed, value, False)))
                else:
                    trace.dropped += 1
            else:
                trace.add(tracing.KVGet(client._label, full, elapsed, value, failed=True))
        if value is None:
            return default
        if type(value) is not bytes:
            self._raise_reply(value, trace)
        first = value[0] if value else PICKLE_START
        if first != PICKLE_START and first not in INT_START:
            # KVSerializer.loads, inline: a page stored as it is.
            return value
        return client._serializer.loads(value)

    @staticmethod
    def _raise_reply(reply, trace) -> None:
        # GET fails only with an error reply (WRONGTYPE): raise what the
        # engine's client raises for it.
        message = reply.message if type(reply) is ErrorReply else f"GET replied {reply!r}"
        error = BaseParser.parse_error(message)
        if trace is not None:
            trace.errors.append(error)
        raise error
