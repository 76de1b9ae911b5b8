"""The CQL catalog: keyspaces and tables with their column types.

The storage engine keeps keyspaces and ``TableSchema`` objects; this module
wraps them with what CQL needs (column types, kinds, options) kept in the
table's opaque ``metadata``, and computes ``schema_version`` as a digest of
the whole schema and a change count, so it changes on every schema change.
It never reads or writes rows.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from dataclasses import dataclass, field

from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.types import CQLType, parse_type

PARTITION_KEY = "partition_key"
CLUSTERING = "clustering"
STATIC = "static"
REGULAR = "regular"

SYSTEM_KEYSPACES = (
    "system",
    "system_schema",
    "system_auth",
    "system_distributed",
    "system_traces",
    "system_views",
    "system_virtual_schema",
)

DEFAULT_TABLE_OPTIONS = {
    "additional_write_policy": "99p",
    "bloom_filter_fp_chance": 0.01,
    "caching": {"keys": "ALL", "rows_per_partition": "NONE"},
    "cdc": False,
    "comment": "",
    "compaction": {
        "class": "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
        "max_threshold": "32",
        "min_threshold": "4",
    },
    "compression": {
        "chunk_length_in_kb": "16",
        "class": "org.apache.cassandra.io.compress.LZ4Compressor",
    },
    "crc_check_chance": 1.0,
    "default_time_to_live": 0,
    "extensions": {},
    "gc_grace_seconds": 864000,
    "max_index_interval": 2048,
    "memtable_flush_period_in_ms": 0,
    "min_index_interval": 128,
    "read_repair": "BLOCKING",
    "speculative_retry": "99p",
}

COMPACTION_CLASSES = {
    "SizeTieredCompactionStrategy": "org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy",
    "TimeWindowCompactionStrategy": "org.apache.cassandra.db.compaction.TimeWindowCompactionStrategy",
    "LeveledCompactionStrategy": "org.apache.cassandra.db.compaction.LeveledCompactionStrategy",
    "UnifiedCompactionStrategy": "org.apache.cassandra.db.compaction.UnifiedCompactionStrategy",
}

REPLICATION_CLASSES = {
    "SimpleStrategy": "org.apache.cassandra.locator.SimpleStrategy",
    "NetworkTopologyStrategy": "org.apache.cassandra.locator.NetworkTopologyStrategy",
    "LocalStrategy": "org.apache.cassandra.locator.LocalStrategy",
}


@dataclass(frozen=True)
class ColumnInfo:
    """One column: its name, type, kind and position within its kind."""

    name: str
    cql_type: CQLType
    kind: str
    position: int = -1
    descending: bool = False

    @property
    def is_primary_key(self) -> bool:
        return self.kind in (PARTITION_KEY, CLUSTERING)


@dataclass
class TableInfo:
    """A table as CQL sees it, built from the storage engine's TableSchema."""

    keyspace: str
    name: str
    id: uuid.UUID
    columns: dict[str, ColumnInfo]
    partition_key: list[ColumnInfo]
    clustering: list[ColumnInfo]
    static: list[ColumnInfo]
    regular: list[ColumnInfo]
    options: dict
    storage: object = None
    virtual: bool = False
    dropped: dict[str, int] = field(default_factory=dict)
    is_counter: bool = field(init=False)
    pk_types: list[CQLType] = field(init=False)
    ck_types: list[CQLType] = field(init=False)
    ck_desc: list[bool] = field(init=False)

    def __post_init__(self) -> None:
        self.is_counter = any(c.cql_type.is_counter for c in self.regular + self.static)
        self.pk_types = [c.cql_type for c in self.partition_key]
        self.ck_types = [c.cql_type for c in self.clustering]
        self.ck_desc = [c.descending for c in self.clustering]

    def column(self, name: str) -> ColumnInfo:
        """Return the named column or raise Cassandra's 'Undefined column name'."""
        info = self.columns.get(name)
        if info is None:
            raise InvalidRequest(
                f"Undefined column name {quote_name(name)} in table {self.keyspace}.{self.name}"
            )
        return info

    def purge_dropped(self, row) -> None:
        """Hide cells written before a column was dropped and added again."""
        if row is None:
            return
        for name, dropped_at in self.dropped.items():
            cell = row.cells.get(name)
            if cell is not None and cell.timestamp <= dropped_at:
                row.cells = {k: v for k, v in row.cells.items() if k != name}
            items = row.complex_cells.get(name)
            if items:
                kept = [(path, c) for path, c in items if c.timestamp > dropped_at]
                if len(kept) != len(items):
                    row.complex_cells = {**row.complex_cells, name: kept}

    def select_order(self) -> list[ColumnInfo]:
        """Return the columns in ``SELECT *`` order."""
        return self.partition_key + self.clustering + self.static + self.regular


@dataclass
class KeyspaceInfo:
    """A keyspace with its replication settings and tables."""

    name: str
    replication: dict
    durable_writes: bool = True
    tables: dict[str, TableInfo] = field(default_factory=dict)
    virtual: bool = False


def quote_name(name: str) -> str:
    """Return an identifier as CQL prints it (quoted unless plain lower case)."""
    if name and name.isidentifier() and name == name.lower() and name.isascii():
        return name
    return '"' + name.replace('"', '""') + '"'


def table_from_storage(schema) -> TableInfo:
    """Return the TableInfo for a storage TableSchema holding CQL metadata."""
    meta = schema.metadata
    types = {name: parse_type(text) for name, text in meta["types"].items()}
    pk = [ColumnInfo(n, types[n], PARTITION_KEY, i) for i, n in enumerate(schema.partition_key)]
    ck = [
        ColumnInfo(c.name, types[c.name], CLUSTERING, i, c.descending)
        for i, c in enumerate(schema.clustering)
    ]
    static = [ColumnInfo(n, types[n], STATIC) for n in sorted(schema.static)]
    regular = [ColumnInfo(n, types[n], REGULAR) for n in sorted(schema.regular)]
    columns = {c.name: c for c in pk + ck + static + regular}
    options = dict(DEFAULT_TABLE_OPTIONS)
    options.update(meta.get("options", {}))
    info = TableInfo(
        schema.keyspace, schema.name, schema.id, columns, pk, ck, static, regular, options, schema
    )
    info.dropped = {
        name: entry["time"] for name, entry in meta.get("dropped", {}).items() if name in columns
    }
    return info


class Catalog:
    """Keyspaces and tables, loaded from and kept in the storage engine."""

    def __init__(self, engine):
        self.engine = engine
        self.lock = threading.RLock()
        self.keyspaces: dict[str, KeyspaceInfo] = {}
        self.version = uuid.UUID(int=0)
        self.listeners: list = []
        self.changes = 0
        self.reload()

    def reload(self) -> None:
        """Rebuild the catalog from the storage engine and recompute the version."""
        with self.lock:
            keyspaces = {}
            for name, meta in self.engine.keyspaces().items():
                keyspaces[name] = KeyspaceInfo(
                    name, dict(meta.get("replication", {})), bool(meta.get("durable_writes", True))
                )
            for schema in self.engine.tables():
                if "types" not in schema.metadata or schema.keyspace not in keyspaces:
                    continue
                keyspaces[schema.keyspace].tables[schema.name] = table_from_storage(schema)
            self.keyspaces = keyspaces
            self.changes += 1
            self.version = self._digest()
            for listener in self.listeners:
                listener()

    def _digest(self) -> uuid.UUID:
        state = []
        for ks in sorted(self.keyspaces):
            info = self.keyspaces[ks]
            tables = []
            for name in sorted(info.tables):
                t = info.tables[name]
                tables.append(
                    [
                        name,
                        str(t.id),
                        [
                            [c.name, c.cql_type.cql(), c.kind, c.descending]
                            for c in t.columns.values()
                        ],
                        t.options,
                    ]
                )
            state.append([ks, info.replication, info.durable_writes, tables])
        # The change count makes the version differ even when a change is undone.
        state.append(self.changes)
        digest = hashlib.md5(json.dumps(state, sort_keys=True, default=str).encode()).digest()
        return uuid.UUID(bytes=digest, version=3)

    def keyspace(self, name: str) -> KeyspaceInfo:
        """Return a keyspace or raise Cassandra's error for a missing one."""
        info = self.keyspaces.get(name)
        if info is None:
            raise InvalidRequest(f"keyspace {name} does not exist")
        return info

    def table(self, keyspace: str, name: str) -> TableInfo:
        """Return a table or raise Cassandra's error for a missing one."""
        ks = self.keyspace(keyspace)
        info = ks.tables.get(name)
        if info is None:
            raise InvalidRequest(f"table {name} does not exist")
        return info
