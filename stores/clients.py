"""The one place that turns KV_URL and WIDE_URL into store handles.

Application code asks ``kv()`` for a redis-py shaped key-value handle and
``wide()`` for a cassandra-driver shaped Session, and never builds either
itself. Each handle is built once per process. Any problem with a setting
(unknown scheme, malformed URL, unreachable server) is reported as one
``ImproperlyConfigured`` naming the setting and its value.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from stores.config import (
    KVTarget,
    StoreURLError,
    WideTarget,
    parse_kv_url,
    parse_wide_url,
)

CONNECT_TIMEOUT_SECONDS = 3.0

_lock = threading.Lock()
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


def _build_kv(target: KVTarget):
    if target.kind == "redis":
        import redis

        return redis.Redis.from_url(
            target.url,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            health_check_interval=30,
        )
    from stores import kv as kv_engine

    if target.kind == "memory":
        return kv_engine.connect("memory:")
    return kv_engine.connect(str(_data_dir(target.path)))


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


def kv():
    """Return the site's key-value handle (redis-py shaped)."""
    handle = _handles.get("kv")
    if handle is None:
        with _lock:
            handle = _handles.get("kv")
            if handle is None:
                target = kv_target()
                try:
                    handle = _build_kv(target)
                except ImproperlyConfigured:
                    raise
                except Exception as exc:
                    raise _unreachable("KV_URL", target.url, exc) from exc
                _handles["kv"] = handle
    return handle


def wide():
    """Return the site's wide-column Session (cassandra-driver shaped)."""
    handle = _handles.get("wide")
    if handle is None:
        with _lock:
            handle = _handles.get("wide")
            if handle is None:
                target = wide_target()
                try:
                    handle = _build_wide(target)
                except ImproperlyConfigured:
                    raise
                except Exception as exc:
                    raise _unreachable("WIDE_URL", target.url, exc) from exc
                _handles["wide"] = handle
    return handle


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
        for handle in _handles.values():
            close = getattr(handle, "close", None) or getattr(handle, "shutdown", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    pass
        _handles.clear()
