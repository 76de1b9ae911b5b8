"""The key-value engine, modelled on Redis 7. Never imports Django.

``connect(target, **options)`` returns a redis-py shaped in-process client:
``"memory:"`` gives an engine without persistence, a directory path gives
one persisted there by ``stores.kv.persistence``. See docs/kv/engine.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["connect"]

CLIENT_OPTIONS = ("decode_responses", "encoding", "encoding_errors", "db")
ENGINE_OPTIONS = ("clock", "background")


def connect(target: str = "memory:", **options: Any):
    """Return a ``stores.kv.client.Client`` on a new engine for ``target``.

    Engine options use Redis's parameter names with underscores
    (``maxmemory="100mb"``, ``maxmemory_policy="allkeys-lru"``,
    ``appendonly=True``, ``appendfsync="always"``); client options are
    redis-py's (``decode_responses``, ``encoding``, ``db``). ``clock`` (a
    callable returning Unix milliseconds) and ``background=False`` (no
    cron thread) serve tests.
    """
    from stores.kv.client import Client
    from stores.kv.config import Config
    from stores.kv.engine import Engine

    client_options = {k: options.pop(k) for k in CLIENT_OPTIONS if k in options}
    engine_options = {k: options.pop(k) for k in ENGINE_OPTIONS if k in options}
    if target != "memory:":
        options.setdefault("dir", str(target))
    config = Config(**options)
    engine = Engine(config, **engine_options)
    if target != "memory:":
        try:
            from stores.kv.persistence import open_persistence
        except ImportError as exc:
            engine.close()
            raise RuntimeError(
                f"persistence is not available ({exc}); use connect('memory:') for an in-memory engine"
            ) from exc
        try:
            persistence = open_persistence(engine, str(target), config)
        except BaseException:
            engine.close()
            raise
        if persistence is not None:
            engine.set_persistence(persistence)
    return Client(engine, owns_engine=True, **client_options)
