"""Changes a superuser may make to the key-value store from the staff pages.

Each action is one small function over a redis-py shaped handle; the views
add the permission check, CSRF and the confirmation step.
"""

from __future__ import annotations

from django.core.cache import caches


def delete_key(handle, key: bytes) -> bool:
    """Delete the key; return True if it existed."""
    return bool(handle.unlink(key))


def set_ttl(handle, key: bytes, seconds: int) -> bool:
    """Give the key a time to live; return True if the key exists."""
    if seconds <= 0:
        raise ValueError("The TTL must be a positive number of seconds.")
    return bool(handle.expire(key, seconds))


def clear_ttl(handle, key: bytes) -> bool:
    """Remove the key's time to live; return True if it had one."""
    return bool(handle.persist(key))


def flush_page_cache() -> None:
    """Delete the cached pages (not sessions, not leaderboards).

    The page cache's own ``clear()`` knows its handle and key prefix, and
    deletes only its keys, never the whole database.
    """
    caches["default"].clear()
