"""Save rules parse Redis's syntax and decide when a snapshot is due."""

import pytest

from stores.kv.persistence.errors import PersistenceError
from stores.kv.persistence.save_rules import (
    DEFAULT_SAVE,
    SaveRule,
    format_save_rules,
    parse_save_rules,
    save_due,
)


def test_redis_defaults():
    rules = parse_save_rules(DEFAULT_SAVE)
    assert rules == (SaveRule(3600, 1), SaveRule(300, 100), SaveRule(60, 10000))
    assert format_save_rules(rules) == DEFAULT_SAVE
    assert parse_save_rules("") == ()
    assert parse_save_rules(["900", "1"]) == (SaveRule(900, 1),)


@pytest.mark.parametrize("bad", ["3600", "a 1", "60 -1", "1 2 3"])
def test_bad_values(bad):
    with pytest.raises(PersistenceError, match="Invalid argument"):
        parse_save_rules(bad)


def test_due():
    rules = parse_save_rules(DEFAULT_SAVE)
    assert save_due(rules, 0, 10**6) is None
    assert save_due(rules, 1, 3599) is None
    assert save_due(rules, 1, 3600) == SaveRule(3600, 1)
    assert save_due(rules, 100, 300) == SaveRule(300, 100)
    assert save_due(rules, 10000, 60) == SaveRule(60, 10000)
    assert save_due((), 10**9, 10**9) is None
