"""The persistence settings, read from the engine's configuration.

Owns the names and defaults of the settings persistence uses (Redis's:
appendonly, appendfsync, save, auto-aof-rewrite-*) and reading them from any
configuration object or mapping, so the engine's Config can grow freely.
Never touches files.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from stores.kv.persistence.aof_writer import check_fsync_mode
from stores.kv.persistence.save_rules import DEFAULT_SAVE, SaveRule, parse_save_rules


@dataclass
class PersistenceConfig:
    """The settings that drive persistence."""

    appendonly: bool = False
    appendfsync: str = "everysec"
    save: str = DEFAULT_SAVE
    dir: str | None = None
    auto_aof_rewrite_percentage: int = 100
    auto_aof_rewrite_min_size: int = 64 * 1024 * 1024
    background_threads: bool = True

    def __post_init__(self) -> None:
        self.appendfsync = check_fsync_mode(self.appendfsync)
        self.appendonly = _as_bool(self.appendonly)
        self.save_rules  # noqa: B018 - validates

    @property
    def save_rules(self) -> tuple[SaveRule, ...]:
        return parse_save_rules(self.save)

    @classmethod
    def from_any(cls, config: Any) -> PersistenceConfig:
        """Return a PersistenceConfig from a Config object, a mapping or None."""
        if config is None:
            return cls()
        if isinstance(config, cls):
            return config
        if hasattr(config, "as_dict"):
            config = config.as_dict()
        values = {}
        for f in fields(cls):
            for name in (f.name, f.name.replace("_", "-")):
                if isinstance(config, dict):
                    if name in config:
                        values[f.name] = config[name]
                        break
                elif hasattr(config, name):
                    values[f.name] = getattr(config, name)
                    break
        if isinstance(values.get("save"), (list, tuple)):
            values["save"] = " ".join(str(v) for v in values["save"])
        return cls(**values)


def _as_bool(value: Any) -> bool:
    if isinstance(value, (bytes, str)):
        text = value.decode() if isinstance(value, bytes) else value
        return text.lower() in ("yes", "true", "1", "on")
    return bool(value)
