"""The command line of the RESP server, shared by ``python -m stores.kv`` and
``manage.py kvserver``: redis-server-like options, the engine they describe,
and the run loop until SIGTERM/SIGINT. Never imports Django.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from stores.kv.server import DEFAULT_BIND, DEFAULT_PORT, Server, serve

log = logging.getLogger("stores.kv.server")

LOG_LEVELS = {
    "debug": logging.DEBUG,
    "verbose": logging.INFO,
    "notice": logging.INFO,
    "warning": logging.WARNING,
}


def _yes_no(text: str) -> bool:
    value = text.lower()
    if value in ("yes", "no"):
        return value == "yes"
    raise argparse.ArgumentTypeError("expected yes or no")


def _memory(text: str) -> int:
    from stores.kv.config import parse_memory

    try:
        return parse_memory(text)
    except Exception:
        raise argparse.ArgumentTypeError(f"not a memory size: {text!r} (e.g. 100mb, 1gb)") from None


def parse_output_limits(text: str) -> tuple[int, int, float]:
    """Return (hard, soft, soft seconds) from Redis's ``32mb 8mb 60`` notation."""
    parts = text.split()
    if len(parts) != 3 or not parts[2].isdigit():
        raise argparse.ArgumentTypeError(f"expected '<hard> <soft> <seconds>', got {text!r}")
    return _memory(parts[0]), _memory(parts[1]), float(parts[2])


def add_arguments(parser: argparse.ArgumentParser, *, default_dir: str | None = None) -> None:
    """Add the server's options (redis-server's names) to ``parser``."""
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (default 6380)")
    parser.add_argument(
        "--bind", default=DEFAULT_BIND, help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--dir",
        default=default_dir,
        help="data directory; without it the data lives in memory only"
        + (f" (default {default_dir})" if default_dir else ""),
    )
    parser.add_argument("--appendonly", type=_yes_no, default=None, metavar="yes|no")
    parser.add_argument("--appendfsync", choices=("always", "everysec", "no"), default=None)
    parser.add_argument(
        "--save", default=None, help='snapshot rules, e.g. "3600 1 300 100"; "" for none'
    )
    parser.add_argument("--maxmemory", type=_memory, default=None, metavar="BYTES")
    parser.add_argument(
        "--maxmemory-policy",
        default=None,
        choices=(
            "noeviction",
            "allkeys-lru",
            "volatile-lru",
            "allkeys-lfu",
            "volatile-lfu",
            "allkeys-random",
            "volatile-random",
            "volatile-ttl",
        ),
    )
    parser.add_argument("--requirepass", default=None)
    parser.add_argument("--maxclients", type=int, default=None)
    parser.add_argument("--databases", type=int, default=None)
    parser.add_argument("--proto-max-bulk-len", type=_memory, default=None, metavar="BYTES")
    parser.add_argument("--client-query-buffer-limit", type=_memory, default=None, metavar="BYTES")
    parser.add_argument(
        "--client-output-buffer-limit-pubsub",
        type=parse_output_limits,
        default=None,
        metavar='"HARD SOFT SECONDS"',
        help='pub/sub output buffer limits (default "32mb 8mb 60")',
    )
    parser.add_argument("--loglevel", choices=tuple(LOG_LEVELS), default="notice")


_CONFIG_OPTIONS = (
    "appendonly",
    "appendfsync",
    "save",
    "maxmemory",
    "maxmemory_policy",
    "requirepass",
    "maxclients",
    "databases",
    "proto_max_bulk_len",
    "client_query_buffer_limit",
)


def engine_options(options: dict[str, Any]) -> dict[str, Any]:
    """Return the engine Config values given on the command line (Redis names)."""
    values = {}
    for name in _CONFIG_OPTIONS:
        value = options.get(name)
        if value is not None:
            values[name.replace("_", "-")] = value
    values["port"] = options["port"]
    values["bind"] = options["bind"]
    if options.get("dir"):
        values["dir"] = str(options["dir"])
    return values


def open_engine(options: dict[str, Any]) -> Any:
    """Return an Engine configured from the options, loaded from --dir if given."""
    from stores.kv.config import Config
    from stores.kv.engine import Engine

    values = engine_options(options)
    if values.get("appendonly") and not options.get("dir"):
        raise SystemExit("--appendonly yes needs --dir")
    config = Config(**{name.replace("-", "_"): value for name, value in values.items()})
    engine = Engine(config)
    if options.get("dir"):
        from stores.kv.persistence import open_persistence

        try:
            open_persistence(engine, str(options["dir"]), config)
        except BaseException:
            engine.close()
            raise
    return engine


def run(options: dict[str, Any]) -> int:
    """Open the engine, serve until SIGTERM/SIGINT, close everything; return an exit code."""
    logging.basicConfig(
        level=LOG_LEVELS[options.get("loglevel") or "notice"],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        engine = open_engine(options)
    except SystemExit:
        raise
    except Exception as exc:
        log.error("cannot open the data: %s", exc)
        return 1
    limits = options.get("client_output_buffer_limit_pubsub")
    extra = {"pubsub_output_limits": limits} if limits else {}
    server = Server(engine, options["bind"], options["port"], **extra)
    try:
        serve(server)
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", options["bind"], options["port"], exc)
        engine.close()
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the server."""
    parser = argparse.ArgumentParser(
        prog="python -m stores.kv", description="Serve the key-value engine over RESP2/RESP3."
    )
    add_arguments(parser)
    return run(vars(parser.parse_args(argv)))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
