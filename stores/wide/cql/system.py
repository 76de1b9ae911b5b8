"""The system keyspaces drivers and cqlsh read: system and system_schema.

They live in a private in-memory storage engine and are rewritten from the
catalog on every schema change, so they are queried with WHERE, paging and
every other SELECT feature like any table, and clients cannot modify them.
Never writes to the user's engine.
"""

from __future__ import annotations

import time
import uuid

from stores.wide.cql.ddl import build_table
from stores.wide.cql.keys import encode_clustering, encode_partition_key
from stores.wide.cql.parser import parse
from stores.wide.cql.rows import WriteParams, set_column
from stores.wide.cql.schema import (
    DEFAULT_TABLE_OPTIONS,
    REPLICATION_CLASSES,
    Catalog,
    KeyspaceInfo,
    TableInfo,
)
from stores.wide.cql.types import TEXT
from stores.wide.storage import (
    STATIC,
    DeletionTime,
    LivenessInfo,
    Mutation,
    RowUpdate,
    StorageEngine,
)

RELEASE_VERSION = "5.0.2"
CQL_VERSION = "3.4.7"
PARTITIONER = "org.apache.cassandra.dht.Murmur3Partitioner"
DATA_CENTER = "datacenter1"
RACK = "rack1"

SYSTEM_TABLES = {
    "system": [
        """CREATE TABLE local (key text PRIMARY KEY, bootstrapped text, broadcast_address inet,
        broadcast_port int, cluster_name text, cql_version text, data_center text,
        gossip_generation int, host_id uuid, listen_address inet, listen_port int,
        native_protocol_version text, partitioner text, rack text, release_version text,
        rpc_address inet, rpc_port int, schema_version uuid, tokens set<text>,
        truncated_at map<uuid, blob>)""",
        """CREATE TABLE peers (peer inet PRIMARY KEY, data_center text, host_id uuid,
        preferred_ip inet, rack text, release_version text, rpc_address inet,
        schema_version uuid, tokens set<text>)""",
        """CREATE TABLE peers_v2 (peer inet, peer_port int, data_center text, host_id uuid,
        native_address inet, native_port int, preferred_ip inet, preferred_port int, rack text,
        release_version text, schema_version uuid, tokens set<text>,
        PRIMARY KEY ((peer), peer_port))""",
    ],
    "system_schema": [
        """CREATE TABLE keyspaces (keyspace_name text PRIMARY KEY, durable_writes boolean,
        replication frozen<map<text, text>>)""",
        """CREATE TABLE tables (keyspace_name text, table_name text, additional_write_policy text,
        allow_auto_snapshot boolean, bloom_filter_fp_chance double,
        caching frozen<map<text, text>>, cdc boolean, comment text,
        compaction frozen<map<text, text>>, compression frozen<map<text, text>>,
        crc_check_chance double, default_time_to_live int, extensions frozen<map<text, blob>>,
        flags frozen<set<text>>, gc_grace_seconds int, id uuid, incremental_backups boolean,
        max_index_interval int, memtable text, memtable_flush_period_in_ms int,
        min_index_interval int, read_repair text, speculative_retry text,
        PRIMARY KEY ((keyspace_name), table_name))""",
        """CREATE TABLE columns (keyspace_name text, table_name text, column_name text,
        clustering_order text, column_name_bytes blob, kind text, position int, type text,
        PRIMARY KEY ((keyspace_name), table_name, column_name))""",
        """CREATE TABLE dropped_columns (keyspace_name text, table_name text, column_name text,
        dropped_time timestamp, kind text, type text,
        PRIMARY KEY ((keyspace_name), table_name, column_name))""",
        """CREATE TABLE types (keyspace_name text, type_name text, field_names frozen<list<text>>,
        field_types frozen<list<text>>, PRIMARY KEY ((keyspace_name), type_name))""",
        """CREATE TABLE functions (keyspace_name text, function_name text,
        argument_types frozen<list<text>>, argument_names frozen<list<text>>, body text,
        called_on_null_input boolean, language text, return_type text,
        PRIMARY KEY ((keyspace_name), function_name, argument_types))""",
        """CREATE TABLE aggregates (keyspace_name text, aggregate_name text,
        argument_types frozen<list<text>>, final_func text, initcond text, return_type text,
        state_func text, state_type text,
        PRIMARY KEY ((keyspace_name), aggregate_name, argument_types))""",
        """CREATE TABLE triggers (keyspace_name text, table_name text, trigger_name text,
        options frozen<map<text, text>>, PRIMARY KEY ((keyspace_name), table_name, trigger_name))""",
        """CREATE TABLE indexes (keyspace_name text, table_name text, index_name text, kind text,
        options frozen<map<text, text>>, PRIMARY KEY ((keyspace_name), table_name, index_name))""",
        """CREATE TABLE views (keyspace_name text, view_name text, base_table_id uuid,
        base_table_name text, id uuid, include_all_columns boolean, where_clause text,
        PRIMARY KEY ((keyspace_name), view_name))""",
    ],
    # Rows are kept by the protocol server's trace store; declared here so the
    # schema lists them with Cassandra 5's columns and statements compile.
    "system_traces": [
        """CREATE TABLE sessions (session_id uuid PRIMARY KEY, client inet, command text,
        coordinator inet, coordinator_port int, duration int, parameters map<text, text>,
        request text, started_at timestamp)""",
        """CREATE TABLE events (session_id uuid, event_id timeuuid, activity text, source inet,
        source_elapsed int, source_port int, thread text, PRIMARY KEY ((session_id), event_id))""",
    ],
    "system_virtual_schema": [
        """CREATE TABLE keyspaces (keyspace_name text PRIMARY KEY)""",
        """CREATE TABLE tables (keyspace_name text, table_name text, comment text,
        PRIMARY KEY ((keyspace_name), table_name))""",
        """CREATE TABLE columns (keyspace_name text, table_name text, column_name text,
        clustering_order text, column_name_bytes blob, kind text, position int, type text,
        PRIMARY KEY ((keyspace_name), table_name, column_name))""",
    ],
}

SCHEMA_TABLES = ("keyspaces", "tables", "columns")
# Listed in system_virtual_schema rather than system_schema, as in Cassandra.
VIRTUAL_KEYSPACES = ("system_virtual_schema",)
LOCAL_REPLICATION = {"class": REPLICATION_CLASSES["LocalStrategy"]}


class SystemKeyspaces:
    """The system keyspaces, kept in their own in-memory engine."""

    def __init__(
        self,
        user_catalog: Catalog,
        *,
        cluster_name: str = "kvsite",
        address: str = "127.0.0.1",
        port: int = 9042,
    ):
        self.engine = StorageEngine.open(None)
        self.user_catalog = user_catalog
        self.cluster_name = cluster_name
        self.address = address
        self.port = port
        self.host_id = uuid.uuid5(uuid.NAMESPACE_URL, f"kvsite:{address}:{port}")
        self.generation = 0
        self.timestamp = 1
        self.known: set[str] = set()
        self.pending: list = []
        for keyspace, statements in SYSTEM_TABLES.items():
            self.engine.create_keyspace(
                keyspace, {"replication": LOCAL_REPLICATION, "durable_writes": True}
            )
            for text in statements:
                self.engine.create_table(build_table(parse(text).statement, keyspace))
        self.catalog = Catalog(self.engine)
        for ks in self.catalog.keyspaces.values():
            ks.virtual = True
            for table in ks.tables.values():
                table.virtual = True
        user_catalog.listeners.append(self.refresh)
        self.refresh()

    def close(self) -> None:
        """Close the private engine."""
        self.engine.close()

    def all_keyspaces(self) -> list[KeyspaceInfo]:
        """Return system and user keyspaces, system first."""
        return list(self.catalog.keyspaces.values()) + list(self.user_catalog.keyspaces.values())

    def refresh(self) -> None:
        """Rewrite system.local and system_schema from the catalogs, atomically.

        Each refresh deletes the previous rows (partition deletions at an even
        timestamp) and writes the new ones just above it, in one batch, so a
        concurrent reader sees the old schema or the new one, never a mix.
        """
        self.generation += 1
        self.timestamp = 2 * self.generation + 1
        mutations = []
        names = {ks.name for ks in self.all_keyspaces()} | self.known
        deletion = DeletionTime(2 * self.generation, int(time.time()))
        for table_name in SCHEMA_TABLES:
            for name in names:
                mutations.append(
                    Mutation(
                        "system_schema",
                        table_name,
                        TEXT.serialize(name),
                        partition_deletion=deletion,
                    )
                )
        self.pending = mutations
        table = self.catalog.table
        self.write(
            table("system", "local"),
            {
                "key": "local",
                "bootstrapped": "COMPLETED",
                "broadcast_address": self.address,
                "broadcast_port": 7000,
                "cluster_name": self.cluster_name,
                "cql_version": CQL_VERSION,
                "data_center": DATA_CENTER,
                "gossip_generation": 1,
                "host_id": self.host_id,
                "listen_address": self.address,
                "listen_port": 7000,
                "native_protocol_version": "4",
                "partitioner": PARTITIONER,
                "rack": RACK,
                "release_version": RELEASE_VERSION,
                "rpc_address": self.address,
                "rpc_port": self.port,
                "schema_version": self.user_catalog.version,
                "tokens": {"0"},
            },
        )
        for ks in self.all_keyspaces():
            if ks.name in VIRTUAL_KEYSPACES:
                self.write_virtual(ks)
                continue
            self.write(
                table("system_schema", "keyspaces"),
                {
                    "keyspace_name": ks.name,
                    "durable_writes": ks.durable_writes,
                    "replication": ks.replication,
                },
            )
            for info in ks.tables.values():
                self.write_table(info)
        self.known = {ks.name for ks in self.all_keyspaces()}
        self.engine.apply_batch(self.pending)
        self.pending = []

    def write_virtual(self, ks: KeyspaceInfo) -> None:
        """List a virtual keyspace in system_virtual_schema, as Cassandra does."""
        table = self.catalog.table
        self.write(table("system_virtual_schema", "keyspaces"), {"keyspace_name": ks.name})
        for info in ks.tables.values():
            self.write(
                table("system_virtual_schema", "tables"),
                {"keyspace_name": ks.name, "table_name": info.name, "comment": ""},
            )
            for column in info.columns.values():
                self.write(table("system_virtual_schema", "columns"), self.column_row(info, column))

    def column_row(self, info: TableInfo, column) -> dict:
        """Return the system_schema.columns row of a column."""
        if column.kind == "clustering":
            order = "desc" if column.descending else "asc"
        else:
            order = "none"
        return {
            "keyspace_name": info.keyspace,
            "table_name": info.name,
            "column_name": column.name,
            "clustering_order": order,
            "column_name_bytes": column.name.encode(),
            "kind": column.kind,
            "position": column.position,
            "type": column.cql_type.cql(),
        }

    def write_table(self, info: TableInfo) -> None:
        options = dict(DEFAULT_TABLE_OPTIONS)
        options.update(info.options)
        row = {
            "keyspace_name": info.keyspace,
            "table_name": info.name,
            "id": info.id,
            "flags": {"compound"},
            "allow_auto_snapshot": True,
            "incremental_backups": True,
            "memtable": "default",
        }
        for name in (
            "additional_write_policy",
            "bloom_filter_fp_chance",
            "caching",
            "cdc",
            "comment",
            "compaction",
            "compression",
            "crc_check_chance",
            "default_time_to_live",
            "gc_grace_seconds",
            "max_index_interval",
            "memtable_flush_period_in_ms",
            "min_index_interval",
            "read_repair",
            "speculative_retry",
        ):
            row[name] = options[name]
        row["extensions"] = {}
        self.write(self.catalog.table("system_schema", "tables"), row)
        columns = self.catalog.table("system_schema", "columns")
        for column in info.columns.values():
            self.write(columns, self.column_row(info, column))

    def write(self, table: TableInfo, values: dict) -> None:
        """Queue one row of Python values for a system table (applied by refresh)."""
        pk = encode_partition_key(table.pk_types, [values[c.name] for c in table.partition_key])
        ck = encode_clustering(
            table.ck_types, table.ck_desc, [values[c.name] for c in table.clustering]
        )
        params = WriteParams(self.timestamp, 0, 0)
        update = RowUpdate(ck, liveness=LivenessInfo(self.timestamp))
        static_update = RowUpdate(STATIC)
        for column in table.regular + table.static:
            if column.name in values:
                set_column(
                    static_update if column.kind == "static" else update,
                    column,
                    values[column.name],
                    params,
                )
        rows = [update] + ([static_update] if static_update.cells else [])
        self.pending.append(Mutation(table.keyspace, table.name, pk, rows=rows))
