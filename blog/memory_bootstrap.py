"""Make a ``memory:`` wide-column store usable on its first use in a process.

A ``memory:`` store starts empty in every process, and no management command
can reach into another process's memory, so for that one setting the blog
applies its schema itself on first use and, when ``BLOG_MEMORY_SEED`` names
sizes (e.g. ``"posts=12,comments=40,users=3,views=30"``), seeds a small demo.
Never runs for a persistent or remote store: there ``apply_schema`` and
``seed_demo`` are explicit steps (``make run`` calls them).
"""

from __future__ import annotations

import threading

from django.conf import settings

from stores import clients

_lock = threading.Lock()

DEFAULT_REPLICATION = "{'class': 'SimpleStrategy', 'replication_factor': 1}"


def parse_sizes(text: str) -> dict[str, int]:
    """Parse "posts=12,comments=40" into a dict of non-negative ints."""
    sizes: dict[str, int] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, _, value = item.partition("=")
        name = name.strip()
        if (
            name not in ("posts", "comments", "users", "views", "days", "seed")
            or not value.strip().isdigit()
        ):
            raise ValueError(f"BLOG_MEMORY_SEED: bad item {item!r}")
        sizes[name] = int(value)
    return sizes


def ensure_ready(session, repo) -> None:
    """Apply the schema (and the optional seed) once per memory session."""
    if getattr(session, "blog_schema_ready", False) or clients.wide_target().kind != "memory":
        return
    with _lock:
        if getattr(session, "blog_schema_ready", False):
            return
        from blog.schema_files import apply_schema

        apply_schema(session, settings.BLOG_KEYSPACE, DEFAULT_REPLICATION, log=lambda m: None)
        spec = getattr(settings, "BLOG_MEMORY_SEED", "")
        if spec:
            from blog.demo_seed import SeedSizes, seed

            sizes = parse_sizes(spec)
            seed_value = sizes.pop("seed", 1)
            seed(
                repo,
                seed_value,
                SeedSizes(**sizes),
                settings.BLOG_HISTORY_TTL_SECONDS,
                progress=False,
            )
        session.blog_schema_ready = True
