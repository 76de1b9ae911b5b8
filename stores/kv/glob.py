"""Redis's glob-style patterns (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET).

Translates a pattern with ``*``, ``?``, ``[abc]``, ``[^a-z]`` and ``\\``
escapes into a compiled regular expression, as Redis's ``stringmatchlen``
matches them, and caches the result. Never matches anything itself beyond
returning the compiled pattern.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=512)
def compile_glob(pattern: bytes) -> re.Pattern[bytes]:
    """Return a compiled regex that fully matches what ``pattern`` matches."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i : i + 1]
        if c == b"*":
            out.append(b".*")
        elif c == b"?":
            out.append(b".")
        elif c == b"\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i : i + 1]))
        elif c == b"[":
            j = i + 1
            negate = j < n and pattern[j : j + 1] == b"^"
            if negate:
                j += 1
            items = []
            while j < n and pattern[j : j + 1] != b"]":
                ch = pattern[j : j + 1]
                if ch == b"\\" and j + 1 < n:
                    j += 1
                    items.append(re.escape(pattern[j : j + 1]))
                elif (
                    j + 2 < n and pattern[j + 1 : j + 2] == b"-" and pattern[j + 2 : j + 3] != b"]"
                ):
                    low, high = pattern[j], pattern[j + 2]
                    if low > high:
                        low, high = high, low
                    items.append(re.escape(bytes([low])) + b"-" + re.escape(bytes([high])))
                    j += 2
                else:
                    items.append(re.escape(ch))
                j += 1
            body = b"".join(items)
            if not body:
                out.append(b"(?!)" if not negate else b".")
            else:
                out.append(b"[" + (b"^" if negate else b"") + body + b"]")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile(b"".join(out), re.DOTALL)


def glob_match(pattern: bytes, text: bytes) -> bool:
    """Return True if ``text`` matches the Redis glob ``pattern``."""
    if pattern == b"*":
        return True
    return compile_glob(pattern).fullmatch(text) is not None
