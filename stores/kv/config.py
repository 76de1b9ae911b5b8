"""Engine configuration: the parameters CONFIG GET/SET know, with Redis's names.

``Config`` holds every parameter as its Redis name (``maxmemory-policy``)
and typed value, validates CONFIG SET input with Redis's error texts and
tells registered listeners (the engine) when a value changes. It never
touches the data set or the disk.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from stores.kv.errors import ConfigError

POLICIES = (
    "noeviction",
    "allkeys-lru",
    "volatile-lru",
    "allkeys-lfu",
    "volatile-lfu",
    "allkeys-random",
    "volatile-random",
    "volatile-ttl",
)
FSYNC_MODES = ("always", "everysec", "no")

_UNITS = {
    b"": 1,
    b"b": 1,
    b"k": 1000,
    b"kb": 1024,
    b"m": 1000**2,
    b"mb": 1024**2,
    b"g": 1000**3,
    b"gb": 1024**3,
}


def parse_memory(text: str | bytes | int) -> int:
    """Return a byte count from Redis's memory notation (``100mb``, ``1gb``, ``4096``)."""
    if isinstance(text, int):
        if text < 0:
            raise ConfigError("argument must be a memory value")
        return text
    raw = text.encode() if isinstance(text, str) else text
    raw = raw.strip().lower()
    digits = raw.rstrip(b"bkmg")
    unit = raw[len(digits) :]
    if not digits.isdigit() or unit not in _UNITS:
        raise ConfigError("argument must be a memory value")
    return int(digits) * _UNITS[unit]


def _yes_no(value: str | bytes | bool) -> bool:
    if isinstance(value, bool):
        return value
    text = value.decode() if isinstance(value, bytes) else str(value)
    if text.lower() in ("yes", "true", "1"):
        return True
    if text.lower() in ("no", "false", "0"):
        return False
    raise ConfigError("argument must be 'yes' or 'no'")


def _enum(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = value.decode() if isinstance(value, bytes) else str(value)
        if text.lower() not in choices:
            raise ConfigError("argument(s) must be one of the following: " + ", ".join(choices))
        return text.lower()

    return parse


def _integer(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError("argument couldn't be parsed into an integer") from None
        if not low <= number <= high:
            raise ConfigError(f"argument must be between {low} and {high} inclusive")
        return number

    return parse


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _save(value: Any) -> str:
    text = _text(value).strip()
    parts = text.split()
    if len(parts) % 2 or not all(p.isdigit() for p in parts):
        raise ConfigError("Invalid save parameters")
    return " ".join(parts)


def _render_memory(value: int) -> str:
    return str(value)


def _render_bool(value: bool) -> str:
    return "yes" if value else "no"


# name -> (parser, renderer, default, settable at runtime)
PARAMETERS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], str], Any, bool]] = {
    "databases": (_integer(1, 1 << 20), str, 16, False),
    "maxmemory": (parse_memory, _render_memory, 0, True),
    "maxmemory-policy": (_enum(POLICIES), str, "noeviction", True),
    "maxmemory-samples": (_integer(1, 64), str, 5, True),
    "lfu-log-factor": (_integer(0, 1 << 31), str, 10, True),
    "lfu-decay-time": (_integer(0, 1 << 31), str, 1, True),
    "appendonly": (_yes_no, _render_bool, False, True),
    "appendfsync": (_enum(FSYNC_MODES), str, "everysec", True),
    "appendfilename": (_text, str, "appendonly.aof", False),
    "dbfilename": (_text, str, "dump.rdb", True),
    "dir": (_text, str, "", False),
    "save": (_save, str, "3600 1 300 100 60 10000", True),
    "auto-aof-rewrite-percentage": (_integer(0, 1 << 31), str, 100, True),
    "auto-aof-rewrite-min-size": (parse_memory, _render_memory, 64 * 1024 * 1024, True),
    "hz": (_integer(1, 500), str, 10, True),
    "timeout": (_integer(0, 1 << 31), str, 0, True),
    "requirepass": (_text, str, "", True),
    "maxclients": (_integer(1, 1 << 31), str, 10000, True),
    "proto-max-bulk-len": (parse_memory, _render_memory, 512 * 1024 * 1024, True),
    "client-query-buffer-limit": (parse_memory, _render_memory, 1024**3, True),
    "slowlog-log-slower-than": (_integer(-1, 1 << 62), str, 10000, True),
    "slowlog-max-len": (_integer(0, 1 << 31), str, 128, True),
    "hash-max-listpack-entries": (_integer(0, 1 << 31), str, 128, True),
    "hash-max-listpack-value": (_integer(0, 1 << 31), str, 64, True),
    "zset-max-listpack-entries": (_integer(0, 1 << 31), str, 128, True),
    "zset-max-listpack-value": (_integer(0, 1 << 31), str, 64, True),
    "set-max-intset-entries": (_integer(0, 1 << 31), str, 512, True),
    "list-max-listpack-size": (_integer(-5, 1 << 31), str, -2, True),
    "active-expire-effort": (_integer(1, 10), str, 1, True),
    "lazyfree-lazy-user-del": (_yes_no, _render_bool, False, True),
    "port": (_integer(0, 65535), str, 6379, False),
    "bind": (_text, str, "127.0.0.1", False),
}

_ALIASES = {
    "hash-max-ziplist-entries": "hash-max-listpack-entries",
    "hash-max-ziplist-value": "hash-max-listpack-value",
    "zset-max-ziplist-entries": "zset-max-listpack-entries",
    "zset-max-ziplist-value": "zset-max-listpack-value",
    "list-max-ziplist-size": "list-max-listpack-size",
}


class Config:
    """The engine's parameters, by their Redis names."""

    def __init__(self, **options: Any) -> None:
        self._values = {name: spec[2] for name, spec in PARAMETERS.items()}
        self._listeners: list[Callable[[str, Any], None]] = []
        for key, value in options.items():
            self.set(key.replace("_", "-"), value, startup=True)

    def get(self, name: str) -> Any:
        """Return the typed value of parameter ``name``."""
        name = _ALIASES.get(name, name)
        return self._values[name]

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def set(self, name: str, value: Any, startup: bool = False) -> None:
        """Validate and store ``value``; raise ConfigError with Redis's reason."""
        name = _ALIASES.get(name.lower(), name.lower())
        spec = PARAMETERS.get(name)
        if spec is None:
            raise ConfigError(f"Unknown option or number of arguments for CONFIG SET - '{name}'")
        parser, _, _, runtime = spec
        if not runtime and not startup:
            raise ConfigError("can't set immutable config")
        parsed = parser(value)
        self._values[name] = parsed
        for listener in self._listeners:
            listener(name, parsed)

    def render(self, name: str) -> str:
        """Return the value of ``name`` as CONFIG GET prints it."""
        name = _ALIASES.get(name, name)
        return PARAMETERS[name][1](self._values[name])

    def match(self, pattern: str) -> list[str]:
        """Return the parameter names matching the glob ``pattern`` (CONFIG GET)."""
        pattern = pattern.lower()
        if pattern in PARAMETERS:
            return [pattern]
        if pattern in _ALIASES:
            return [pattern]
        return [name for name in PARAMETERS if fnmatch.fnmatchcase(name, pattern)]

    def on_change(self, listener: Callable[[str, Any], None]) -> None:
        """Call ``listener(name, value)`` after every successful set."""
        self._listeners.append(listener)

    def as_dict(self) -> dict[str, Any]:
        """Return a copy of every parameter's typed value."""
        return dict(self._values)
