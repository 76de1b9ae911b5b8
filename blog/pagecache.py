"""Rendered page fragments in Django's cache, invalidated when their data changes.

Owns the cache keys of the front page and of each post page: the parts that
are the same for every visitor (the post, its first page of comments, the
list of latest posts) and, under a second key, the whole page as every
signed-out visitor gets it (no CSRF token, no per-user header), stored as
``blog.whole_page`` bytes so the cached-page shortcut serves it without
unpickling or re-encoding it. Owns the one
place that deletes them when a post is written or commented on, so the very
next request shows the change. Every lookup is noted on the request's store
trace as a hit or a miss.

The cache object is made once per process (``page_cache()``), not taken
from ``django.core.cache.caches`` on every call: under ASGI that proxy is
per request context, so each request would build a new backend (and, for
Django's RedisCache, a new connection pool and TCP connection).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed

from blog.whole_page import WholePage, encode
from stores import tracing

FRONT_KEY = "blog:front"
WHOLE_SUFFIX = ":whole"


def post_key(post_id: uuid.UUID) -> str:
    """Return the cache key of a post page's shared fragment."""
    return f"blog:post:{post_id}"


def whole_page_key(key: str) -> str:
    """Return the key of the whole page signed-out visitors get, for a fragment key."""
    return key + WHOLE_SUFFIX


def _whole_page(value) -> WholePage | None:
    """Return a cached whole page as a WholePage; None if it is not one.

    A dict is a page stored before pages were kept as bytes (a Redis that
    outlived a deploy): still served.
    """
    try:
        if type(value) is bytes:
            return WholePage(value)
        if isinstance(value, dict) and isinstance(value.get("html"), str):
            return WholePage.from_page(value)
    except ValueError:
        pass
    return None


_process_cache = None


def page_cache():
    """Return this process's page-cache backend (the ``default`` cache)."""
    global _process_cache
    cache = _process_cache
    if cache is None:
        cache = _process_cache = caches.create_connection("default")
    return cache


def _forget_cache(*, setting, **kwargs) -> None:
    global _process_cache
    if setting == "CACHES":
        _process_cache = None
        _read_pages.clear()


setting_changed.connect(_forget_cache)


def _generation_key(source: str) -> str:
    return f"{source}:generation"


def fetch(key: str, what: str, build: Callable[[], dict], source: str) -> tuple[dict, bool]:
    """Return (fragment, hit): the cached fragment, or build and store it.

    ``source`` names the data the fragment shows (FRONT_KEY or a post_key);
    its generation is read before and after building, and the fragment is
    stored only if no invalidation happened meanwhile, so a request that
    read the store just before a comment landed cannot put the old page
    back after the comment deleted it.
    """
    trace = tracing.current()
    if not settings.BLOG_PAGE_CACHE_ENABLED:
        return build(), False
    cache = page_cache()
    whole = key.endswith(WHOLE_SUFFIX)
    value = cache.get(key)
    if value is not None and whole:
        page = _whole_page(value)
        # Anything else under a whole-page key is rebuilt and replaced.
        value = None if page is None else page.as_dict()
    if value is not None:
        if trace is not None:
            trace.note_cache(key, True, what)
        return value, True
    generation = cache.get(_generation_key(source))
    value = build()
    if value is not None and cache.get(_generation_key(source)) == generation:
        cache.set(key, encode(value["html"], value.get("title")) if whole else value)
    if trace is not None:
        trace.note_cache(key, False, what)
    return value, False


def cached(key: str, what: str):
    """Return the cached value under key, or None; a hit is noted on the trace.

    A miss is not noted: the caller that goes on to build the page notes it
    through ``fetch``.
    """
    if not settings.BLOG_PAGE_CACHE_ENABLED:
        return None
    value = page_cache().get(key)
    if value is not None:
        trace = tracing.current()
        if trace is not None:
            trace.note_cache(key, True, what)
    return value


# Whole pages read from a cache that hands back the stored object itself
# (the embedded engine's KVCache): key -> the WholePage read from that
# object. The same object again is the same page, read once; holding it
# keeps its identity from being reused. Bounded: a page cache serves few
# pages often.
WHOLE_PAGE_MEMO_SIZE = 256
_read_pages: dict[str, WholePage] = {}


def cached_whole_page(key: str, what: str) -> WholePage | None:
    """Return the cached whole page under key, or None; a hit is noted on the trace.

    As ``cached``, for a ``whole_page_key``: the page comes back in its
    stored form, ready to be sent.
    """
    if not settings.BLOG_PAGE_CACHE_ENABLED:
        return None
    return read_whole_page(key, what)


def read_whole_page(key: str, what: str) -> WholePage | None:
    """Return ``cached_whole_page(key, what)`` for a caller that checked the cache is enabled."""
    cache = _process_cache or page_cache()
    value = cache.get(key)
    if value is None:
        return None
    page = _read_pages.get(key)
    if page is None or page.data is not value:
        page = _whole_page(value)
        if page is not None and getattr(cache, "returns_stored_values", False):
            if len(_read_pages) >= WHOLE_PAGE_MEMO_SIZE:
                _read_pages.clear()
            _read_pages[key] = page
    if page is not None:
        trace = tracing.current()
        if trace is not None:
            trace.note_cache(key, True, what)
    return page


def _bump(sources: list[str]) -> None:
    cache = page_cache()
    for source in sources:
        try:
            cache.incr(_generation_key(source))
        except ValueError:
            cache.add(_generation_key(source), 1, timeout=None)


def invalidate_post(post_id: uuid.UUID) -> None:
    """Forget the cached post page and the front page (its comment counts and titles)."""
    keys = [post_key(post_id), FRONT_KEY]
    _bump(keys)
    page_cache().delete_many(keys + [whole_page_key(k) for k in keys])


def invalidate_front() -> None:
    """Forget the cached front page."""
    _bump([FRONT_KEY])
    page_cache().delete_many([FRONT_KEY, whole_page_key(FRONT_KEY)])
