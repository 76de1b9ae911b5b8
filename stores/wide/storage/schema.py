"""Keyspace and table definitions as the storage engine keeps them.

Owns TableSchema/TableOptions and their JSON form (persisted in the
manifest). Knows column names and which are static or collections, never CQL
types: the CQL layer keeps those in the opaque ``metadata`` dict.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidRequest

DEFAULT_COMPACTION = {"class": "SizeTieredCompactionStrategy"}
DEFAULT_CACHING = {"keys": "ALL", "rows_per_partition": "NONE"}
# rows_per_partition "ALL": every row of a partition is cached.
ALL_ROWS = 2**31 - 1


@dataclass(frozen=True, slots=True)
class ClusteringColumn:
    name: str
    descending: bool = False


@dataclass(slots=True)
class TableOptions:
    default_time_to_live: int = 0
    gc_grace_seconds: int = 864000
    compaction: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_COMPACTION))
    bloom_filter_fp_chance: float = 0.01
    # Cassandra's table option: "keys" ALL|NONE (this engine's key cache is
    # process-wide and always on; the value is kept for the CQL layer) and
    # "rows_per_partition" NONE|ALL|N, the head of a partition the row cache
    # keeps.
    caching: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CACHING))

    @property
    def rows_per_partition(self) -> int:
        """Return how many rows of a partition the row cache keeps (0 = none)."""
        value = str(self.caching.get("rows_per_partition", "NONE")).upper()
        if value == "NONE":
            return 0
        if value == "ALL":
            return ALL_ROWS
        return int(value)

    def validate(self) -> None:
        """Raise InvalidRequest if an option is out of range."""
        if not 0 < self.bloom_filter_fp_chance <= 1:
            raise InvalidRequest("bloom_filter_fp_chance must be in (0, 1]")
        if self.gc_grace_seconds < 0 or self.default_time_to_live < 0:
            raise InvalidRequest("gc_grace_seconds and default_time_to_live must be >= 0")
        unknown = set(self.caching) - set(DEFAULT_CACHING)
        if unknown:
            raise InvalidRequest(f"unknown caching options {sorted(unknown)}")
        if str(self.caching.get("keys", "ALL")).upper() not in ("ALL", "NONE"):
            raise InvalidRequest("caching keys must be ALL or NONE")
        rows = str(self.caching.get("rows_per_partition", "NONE")).upper()
        if rows not in ("ALL", "NONE") and not (rows.isdigit() and 0 < int(rows) < ALL_ROWS):
            raise InvalidRequest(
                "caching rows_per_partition must be ALL, NONE or a positive integer"
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "default_time_to_live": self.default_time_to_live,
            "gc_grace_seconds": self.gc_grace_seconds,
            "compaction": dict(self.compaction),
            "bloom_filter_fp_chance": self.bloom_filter_fp_chance,
            "caching": dict(self.caching),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableOptions:
        return cls(
            default_time_to_live=int(data.get("default_time_to_live", 0)),
            gc_grace_seconds=int(data.get("gc_grace_seconds", 864000)),
            compaction=dict(data.get("compaction", DEFAULT_COMPACTION)),
            bloom_filter_fp_chance=float(data.get("bloom_filter_fp_chance", 0.01)),
            caching=dict(data.get("caching", DEFAULT_CACHING)),
        )


@dataclass(slots=True)
class TableSchema:
    keyspace: str
    name: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    partition_key: list[str] = field(default_factory=list)
    clustering: list[ClusteringColumn] = field(default_factory=list)
    static: list[str] = field(default_factory=list)
    regular: list[str] = field(default_factory=list)
    collections: set[str] = field(default_factory=set)
    options: TableOptions = field(default_factory=TableOptions)
    metadata: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise InvalidRequest if the definition is not usable."""
        if not self.keyspace or not self.name:
            raise InvalidRequest("keyspace and table names must not be empty")
        if not self.partition_key:
            raise InvalidRequest(f"table {self.keyspace}.{self.name} needs a partition key")
        names = (
            list(self.partition_key)
            + [c.name for c in self.clustering]
            + list(self.static)
            + list(self.regular)
        )
        if len(names) != len(set(names)):
            raise InvalidRequest(f"table {self.keyspace}.{self.name} repeats a column name")
        if self.static and not self.clustering:
            raise InvalidRequest("static columns need clustering columns")
        if not set(self.collections) <= set(self.static) | set(self.regular):
            raise InvalidRequest("collections must be static or regular columns")
        self.options.validate()

    def to_json(self) -> dict[str, Any]:
        return {
            "keyspace": self.keyspace,
            "name": self.name,
            "id": str(self.id),
            "partition_key": list(self.partition_key),
            "clustering": [[c.name, c.descending] for c in self.clustering],
            "static": list(self.static),
            "regular": list(self.regular),
            "collections": sorted(self.collections),
            "options": self.options.to_json(),
            "metadata": self.metadata,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableSchema:
        return cls(
            keyspace=data["keyspace"],
            name=data["name"],
            id=uuid.UUID(data["id"]),
            partition_key=list(data["partition_key"]),
            clustering=[ClusteringColumn(n, bool(d)) for n, d in data["clustering"]],
            static=list(data["static"]),
            regular=list(data["regular"]),
            collections=set(data["collections"]),
            options=TableOptions.from_json(data["options"]),
            metadata=data.get("metadata", {}),
        )
