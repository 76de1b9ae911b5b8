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


def test_caching_option_round_trips_and_reads_rows_per_partition():
    from stores.wide.storage.schema import ALL_ROWS

    options = TableOptions(caching={"keys": "ALL", "rows_per_partition": "20"})
    assert options.rows_per_partition == 20
    assert TableOptions.from_json(options.to_json()).caching == options.caching
    assert TableOptions().rows_per_partition == 0
    assert TableOptions(caching={"rows_per_partition": "all"}).rows_per_partition == ALL_ROWS
    # A manifest written before the option existed.
    old = options.to_json()
    del old["caching"]
    assert TableOptions.from_json(old).caching == {"keys": "ALL", "rows_per_partition": "NONE"}


@pytest.mark.parametrize(
    "caching",
    [
        {"rows_per_partition": "0"},
        {"rows_per_partition": "-3"},
        {"rows_per_partition": "lots"},
        {"rows_per_partition": str(2**31)},
        {"keys": "SOME"},
        {"rows": "5"},
    ],
)
def test_bad_caching_options_are_refused(caching):
    schema = TableSchema("ks", "t", partition_key=["k"], options=TableOptions(caching=caching))
    with pytest.raises(InvalidRequest):
        schema.validate()
