"""Persistence settings read from the engine's Config, a mapping or defaults."""

import pytest

from stores.kv.persistence.config import PersistenceConfig
from stores.kv.persistence.errors import PersistenceError


class EngineLikeConfig:
    """The shape of stores.kv.config.Config: Redis names through as_dict()."""

    def __init__(self, **values):
        self.values = {
            "appendonly": False,
            "appendfsync": "everysec",
            "save": "",
            "dir": "",
            "maxmemory": 0,
        }
        self.values.update(values)

    def as_dict(self):
        return dict(self.values)


def test_defaults_are_redis_defaults():
    config = PersistenceConfig.from_any(None)
    assert config.appendonly is False
    assert config.appendfsync == "everysec"
    assert config.save == "3600 1 300 100 60 10000"
    assert config.auto_aof_rewrite_percentage == 100
    assert config.auto_aof_rewrite_min_size == 64 * 1024 * 1024


def test_reads_redis_names_from_an_engine_config():
    config = PersistenceConfig.from_any(
        EngineLikeConfig(
            appendonly=True,
            appendfsync="always",
            save="60 1",
            **{"auto-aof-rewrite-percentage": 50},
        )
    )
    assert config.appendonly is True
    assert config.appendfsync == "always"
    assert config.save == "60 1"
    assert config.auto_aof_rewrite_percentage == 50


def test_reads_a_mapping_and_yes_no_strings():
    config = PersistenceConfig.from_any(
        {"appendonly": "yes", "appendfsync": "NO", "save": ["1", "2"]}
    )
    assert config.appendonly is True and config.appendfsync == "no" and config.save == "1 2"
    assert PersistenceConfig.from_any({"appendonly": b"no"}).appendonly is False


@pytest.mark.parametrize("bad", [{"appendfsync": "sometimes"}, {"save": "1"}])
def test_bad_values_are_rejected(bad):
    with pytest.raises(PersistenceError):
        PersistenceConfig.from_any(bad)
