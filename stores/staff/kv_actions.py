"""Changes a superuser may make to the key-value store from the staff pages.

Each action is one small function over a redis-py shaped handle; the views
add the permission check, CSRF and the confirmation step.
"""

from __future__ import annotations

from django.conf import settings

UNLINK_BATCH = 500
DEFAULT_PAGE_CACHE_PATTERNS = ("*views.decorators.cache.*",)


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


def page_cache_patterns() -> tuple[str, ...]:
    """Return the SCAN patterns that match rendered pages in the cache."""
    return tuple(getattr(settings, "STAFF_PAGE_CACHE_PATTERNS", DEFAULT_PAGE_CACHE_PATTERNS))


def flush_page_cache(handle) -> int:
    """Delete the cached pages (not sessions, not leaderboards); return how many."""
    removed = 0
    for pattern in page_cache_patterns():
        batch: list[bytes] = []
        for key in handle.scan_iter(match=pattern, count=UNLINK_BATCH):
            batch.append(key)
            if len(batch) >= UNLINK_BATCH:
                removed += handle.unlink(*batch)
                batch = []
        if batch:
            removed += handle.unlink(*batch)
    return removed
