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
"""

from __future__ import annotations

import pickle

from django.core.cache.backends.redis import RedisCache, RedisCacheClient, RedisSerializer

from stores import clients

HANDLES = {"main": clients.kv, "pages": clients.kv_pages}
CLEAR_BATCH = 500


class KVSerializer(RedisSerializer):
    """Django's Redis serializer, telling pickles from integers by their first byte.

    Django's own tries ``int()`` first and catches the ValueError on every
    pickled value; a pickle (protocol 2 and later) always starts with
    ``0x80`` and an integer never does, so one byte decides without an
    exception. What is stored is exactly what Django's serializer stores.
    """

    def loads(self, data):
        if data and data[0] == 0x80:
            return pickle.loads(data)
        return int(data)


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
        self.key_prefix = options.get("key_prefix", "")

    def get_client(self, key=None, *, write=False):
        # stores.clients replaces every handle at once, on reset(), so the
        # handle found while kv() was this object is still current. Holding
        # the old kv() keeps its identity from being reused. Cheaper than
        # kv_pages(), which parses KV_URL on every call.
        main = clients.kv()
        if main is not self._main:
            self._client = self._handle()
            self._main = main
        return self._client

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


class KVCache(RedisCache):
    """Django's RedisCache on a ``stores.clients`` key-value handle."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KVCacheClient
        self._options = {**self._options, "key_prefix": self.key_prefix}

    def get(self, key, default=None, version=None):
        """Return the value under key, or default.

        RedisCache.get and RedisCacheClient.get in one call: a cached page
        is one GET per request, and this is its whole Python path.
        """
        key = self.make_and_validate_key(key, version=version)
        client = self._cache
        value = client.get_client(key).get(key)
        return default if value is None else client._serializer.loads(value)
