"""The one place that turns KV_URL and WIDE_URL into store handles.

Application code asks ``kv()`` for a redis-py shaped key-value handle and
``wide()`` for a cassandra-driver shaped Session, and never builds either
itself. Each handle is built once per process. Any problem with a setting
(unknown scheme, malformed URL, unreachable server) is reported as one
``ImproperlyConfigured`` naming the setting and its value.

Every handle is wrapped once, here, by ``stores.tracing`` so that each
command and statement a request runs shows in its "What this page did"
panel. ``kv_pages()`` is the page cache's own handle: with an embedded
``KV_URL`` it is a separate memory-only engine with its own ``maxmemory``
and ``allkeys-lru``, so page-cache pressure can never evict a session.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from stores import tracing
from stores.config import (
    KVTarget,
    StoreURLError,
    WideTarget,
    parse_kv_url,
    parse_wide_url,
)

CONNECT_TIMEOUT_SECONDS = 3.0

_lock = threading.RLock()
_handles: dict[str, object] = {}


def kv_target() -> KVTarget:
    """Return the parsed KV_URL setting."""
    try:
        return parse_kv_url(settings.KV_URL)
    except StoreURLError as exc:
        raise ImproperlyConfigured(str(exc)) from None


def wide_target() -> WideTarget:
    """Return the parsed WIDE_URL setting."""
    try:
        return parse_wide_url(settings.WIDE_URL)
    except StoreURLError as exc:
        raise ImproperlyConfigured(str(exc)) from None


def validate_settings() -> None:
    """Raise ImproperlyConfigured if either store URL is malformed."""
    kv_target()
    wide_target()


def _data_dir(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else Path(settings.BASE_DIR) / p


def _unreachable(setting: str, value: str, exc: BaseException) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{setting}={value!r}: cannot reach the store: {exc}")


def _build_kv(target: KVTarget, **engine_options):
    if target.kind == "redis":
        import redis

        return redis.Redis.from_url(
            target.url,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            health_check_interval=30,
        )
    from stores import kv as kv_engine

    if target.kind == "memory":
        return kv_engine.connect("memory:", **engine_options)
    options = {**getattr(settings, "KV_EMBEDDED_OPTIONS", {}), **engine_options}
    return kv_engine.connect(str(_data_dir(target.path)), **options)


def _build_wide(target: WideTarget):
    if target.kind == "cassandra":
        from cassandra.auth import PlainTextAuthProvider
        from cassandra.cluster import Cluster

        auth = None
        if target.username is not None:
            auth = PlainTextAuthProvider(username=target.username, password=target.password)
        cluster = Cluster(
            list(target.hosts),
            port=target.port,
            auth_provider=auth,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        )
        return cluster.connect(target.keyspace)
    from stores import wide as wide_engine

    if target.kind == "memory":
        return wide_engine.connect("memory:")
    return wide_engine.connect(str(_data_dir(target.path)))


def _cached(name: str, build: Callable[[], object]):
    """Return the handle called name, building it once per process."""
    handle = _handles.get(name)
    if handle is None:
        with _lock:
            handle = _handles.get(name)
            if handle is None:
                handle = _handles[name] = build()
    return handle


def _open(setting: str, target, build: Callable):
    """Build a raw handle; any failure becomes one error naming the setting."""
    try:
        return build(target)
    except ImproperlyConfigured:
        raise
    except Exception as exc:
        raise _unreachable(setting, target.url, exc) from exc


def kv():
    """Return the site's key-value handle (redis-py shaped)."""

    def build():
        target = kv_target()
        return tracing.TracedKV(_open("KV_URL", target, _build_kv), "main", _describe_kv(target))

    return _cached("kv", build)


def _describe_kv(target: KVTarget) -> str:
    if target.kind == "redis":
        return f"Redis at {target.url}"
    if target.kind == "memory":
        return "embedded key-value engine (memory only)"
    return f"embedded key-value engine ({target.path})"


def _page_cache_maxmemory() -> int:
    return int(getattr(settings, "KV_PAGE_CACHE_MAXMEMORY", 64 * 1024 * 1024))


def kv_pages():
    """Return the page cache's key-value handle (redis-py shaped).

    With a ``redis://`` KV_URL this is the main handle (give Redis a
    ``maxmemory-policy`` that suits both, or a second instance). With an
    embedded KV_URL it is a memory-only engine of its own, bounded by
    ``KV_PAGE_CACHE_MAXMEMORY`` and evicting least recently used pages.
    """

    def build_pages(target: KVTarget):
        from stores import kv as kv_engine

        maxmemory = _page_cache_maxmemory()
        return kv_engine.connect("memory:", maxmemory=maxmemory, maxmemory_policy="allkeys-lru")

    def build():
        target = kv_target()
        if target.kind == "redis":
            return kv()
        description = (
            "embedded key-value engine for pages "
            f"(memory only, {_page_cache_maxmemory() >> 20} MiB, allkeys-lru)"
        )
        return tracing.TracedKV(_open("KV_URL", target, build_pages), "pages", description)

    return _cached("kv_pages", build)


def wide():
    """Return the site's wide-column Session (cassandra-driver shaped)."""

    def build():
        target = wide_target()
        raw = _open("WIDE_URL", target, _build_wide)
        return tracing.TracedSession(raw, "main", _describe_wide(target))

    return _cached("wide", build)


def _describe_wide(target: WideTarget) -> str:
    if target.kind == "cassandra":
        return f"Cassandra at {', '.join(target.hosts)}:{target.port}"
    if target.kind == "memory":
        return "embedded wide-column engine (memory only)"
    return f"embedded wide-column engine ({target.path})"


def check_reachable() -> None:
    """Raise ImproperlyConfigured unless both configured stores can be used.

    Network stores are contacted (a Redis PING, a Cassandra connection);
    embedded stores must have a data directory that can be created.
    """
    kvt, widet = kv_target(), wide_target()
    if kvt.kind == "redis":
        try:
            kv().ping()
        except ImproperlyConfigured:
            raise
        except Exception as exc:
            raise _unreachable("KV_URL", kvt.url, exc) from exc
    if widet.kind == "cassandra":
        wide()
    for setting, target in (("KV_URL", kvt), ("WIDE_URL", widet)):
        if target.kind == "embedded":
            directory = _data_dir(target.path)
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ImproperlyConfigured(
                    f"{setting}={target.url!r}: cannot create data directory {directory}: {exc}"
                ) from exc
            if not os.access(directory, os.W_OK):
                raise ImproperlyConfigured(
                    f"{setting}={target.url!r}: data directory {directory} is not writable"
                )


def reset() -> None:
    """Forget the built handles (tests use this after changing settings)."""
    with _lock:
        unique = {id(h): h for h in _handles.values()}
        for handle in unique.values():
            handle = getattr(handle, "wrapped", handle)
            # A cassandra-driver Session belongs to a Cluster, which owns the
            # connections and threads: shut that down, not just the Session.
            cluster = (
                getattr(handle, "cluster", None)
                if type(handle).__module__.startswith("cassandra")
                else None
            )
            target = cluster if cluster is not None else handle
            close = getattr(target, "close", None) or getattr(target, "shutdown", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    pass
        _handles.clear()
