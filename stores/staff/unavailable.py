"""Turn a store that does not answer into a 503 page instead of a traceback."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.shortcuts import render


def is_store_error(exc: BaseException) -> bool:
    """Return True for a failure to reach a store (not a bad command or query)."""
    kinds: list[type] = [OSError, ConnectionError]
    try:
        import redis

        kinds += [redis.exceptions.ConnectionError, redis.exceptions.TimeoutError]
    except ImportError:  # pragma: no cover - redis-py is a requirement
        pass
    try:
        from cassandra import DriverException
        from cassandra.cluster import NoHostAvailable

        kinds += [NoHostAvailable, DriverException]
    except ImportError:  # pragma: no cover - cassandra-driver is a requirement
        pass
    return isinstance(exc, tuple(kinds))


def store_unavailable_as_503(setting: str):
    """Decorate a view so that an unreachable store renders a 503 page naming the setting."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except Http404:
                raise
            except Exception as exc:
                if not is_store_error(exc):
                    raise
                context = admin.site.each_context(request)
                context.update(
                    title="Store unavailable",
                    error=exc,
                    setting=setting,
                    store_url=getattr(settings, setting),
                )
                return render(request, "admin/stores/store_error.html", context, status=503)

        return wrapper

    return decorator
