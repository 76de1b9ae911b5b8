"""Snapshot save rules: "after N seconds if at least M changes", as Redis's ``save``.

Owns parsing the ``save`` setting ("3600 1 300 100 60 10000", Redis's
defaults; "" disables snapshots) and the pure decision whether a save is due.
Never saves anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from stores.kv.persistence.errors import PersistenceError

DEFAULT_SAVE = "3600 1 300 100 60 10000"


@dataclass(frozen=True)
class SaveRule:
    """Save when ``seconds`` have passed and at least ``changes`` were made."""

    seconds: int
    changes: int


def parse_save_rules(value: str | list | tuple) -> tuple[SaveRule, ...]:
    """Return the rules in a ``save`` value; raise PersistenceError if malformed."""
    if isinstance(value, (list, tuple)):
        value = " ".join(str(part) for part in value)
    parts = value.split()
    if len(parts) % 2 or not all(part.isdigit() for part in parts):
        raise PersistenceError(f"ERR Invalid argument '{value}' for CONFIG SET 'save'")
    return tuple(
        SaveRule(int(seconds), int(changes))
        for seconds, changes in zip(parts[::2], parts[1::2], strict=True)
    )


def format_save_rules(rules: tuple[SaveRule, ...]) -> str:
    """Return the rules as CONFIG GET shows them."""
    return " ".join(f"{rule.seconds} {rule.changes}" for rule in rules)


def save_due(
    rules: tuple[SaveRule, ...], changes: int, seconds_since_save: float
) -> SaveRule | None:
    """Return the first rule that asks for a save now, or None."""
    for rule in rules:
        if changes >= rule.changes and seconds_since_save >= rule.seconds:
            return rule
    return None
