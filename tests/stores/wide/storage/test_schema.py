"""Table definitions validate and survive their JSON form."""

import pytest

from stores.wide.storage.errors import InvalidRequest
from stores.wide.storage.schema import ClusteringColumn, TableOptions, TableSchema


def schema(**changes):
    base = dict(
        keyspace="ks",
        name="t",
        partition_key=["k"],
        clustering=[ClusteringColumn("c", True)],
        static=["s"],
        regular=["v", "m"],
        collections={"m"},
        options=TableOptions(
            gc_grace_seconds=7, compaction={"class": "TimeWindowCompactionStrategy"}
        ),
        metadata={"types": {"k": "int"}},
    )
    base.update(changes)
    return TableSchema(**base)


def test_json_round_trip():
    original = schema()
    again = TableSchema.from_json(original.to_json())
    assert again == original


@pytest.mark.parametrize(
    "changes",
    [
        {"partition_key": []},
        {"regular": ["k"]},
        {"clustering": [], "static": ["s"]},
        {"collections": {"nope"}},
        {"options": TableOptions(bloom_filter_fp_chance=0)},
        {"options": TableOptions(gc_grace_seconds=-1)},
        {"name": ""},
    ],
)
def test_invalid_definitions_are_rejected(changes):
    with pytest.raises(InvalidRequest):
        schema(**changes).validate()


def test_defaults_match_cassandra():
    options = TableOptions()
    assert options.gc_grace_seconds == 864000
    assert options.bloom_filter_fp_chance == 0.01
    assert options.compaction == {"class": "SizeTieredCompactionStrategy"}
