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
(``Session.execute``, the engine's one command path: expiry, LRU clock,
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
# How many (key, version) -> cache key results get() remembers; a page
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
        self._session_run = None
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
        self._session_run = raw.session.execute if direct else None

    def session_run(self):
        """Return the engine session's ``execute`` for the current handle, or None if remote."""
        self.get_client()
        return self._session_run

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


class KVCache(RedisCache):
    """Django's RedisCache on a ``stores.clients`` key-value handle."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KVCacheClient
        self._options = {**self._options, "key_prefix": self.key_prefix}
        self._keys: dict[tuple, str] = {}

    def get(self, key, default=None, version=None):
        """Return the value under key, or default.

        RedisCache.get and RedisCacheClient.get in one call: a cached page
        is one GET per request, and this is its whole Python path.
        """
        memo = self._keys
        full = memo.get((key, version))
        if full is None:
            full = self.make_and_validate_key(key, version=version)
            if len(memo) >= KEY_MEMO_SIZE:
                memo.clear()
            memo[(key, version)] = full
        client = self._cache
        if clients.kv() is not client._main:
            client.get_client()
        run = client._session_run
        if run is None:
            value = client.get_client(full).get(full)
        else:
            value = self._engine_get(run, client._label, full)
        return default if value is None else client._serializer.loads(value)

    def _engine_get(self, run, label: str, key: str):
        argv = [_GET, key.encode()]
        trace = _current()
        if trace is None:
            reply = run(argv)
        else:
            start = _perf()
            reply = run(argv)
            elapsed = _perf() - start
            if reply is None or type(reply) is bytes:
                # Trace.add, inline: this runs on every cached page.
                events = trace.events
                if len(events) < tracing.MAX_EVENTS:
                    events.append(tracing.KVGet(label, key, elapsed, reply))
                else:
                    trace.dropped += 1
                return reply
            trace.add(tracing.KVGet(label, key, elapsed, reply, failed=True))
        if reply is None or type(reply) is bytes:
            return reply
        # GET fails only with an error reply (WRONGTYPE): raise what the
        # engine's client raises for it.
        message = reply.message if type(reply) is ErrorReply else f"GET replied {reply!r}"
        error = BaseParser.parse_error(message)
        if trace is not None:
            trace.errors.append(error)
        raise error
