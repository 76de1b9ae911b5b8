"""A fixed-window rate limit kept in the key-value store.

Owns the comment-posting limit: one counter per user and window,
``INCR`` then ``EXPIRE`` in one transaction (MULTI/EXEC), so the counter
expires with its window and concurrent requests count exactly. Uses only
redis-py's API on ``stores.clients.kv()`` (the main, never-evicted store).
"""

from __future__ import annotations

import time

from stores import clients

KEY_PREFIX = "ratelimit"


def hit(action: str, subject: str, limit: int, window_seconds: int) -> tuple[bool, int]:
    """Count one attempt; return (allowed, seconds until the window resets)."""
    now = int(time.time())
    window = now // window_seconds
    key = f"{KEY_PREFIX}:{action}:{subject}:{window}"
    pipe = clients.kv().pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, window_seconds + 1)
    count, _ = pipe.execute()
    retry_after = (window + 1) * window_seconds - now
    return int(count) <= limit, retry_after
