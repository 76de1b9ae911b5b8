"""Schema statements: CREATE/ALTER/DROP KEYSPACE and TABLE, TRUNCATE.

Validates each statement with Cassandra's rules and messages, then changes
the storage engine's keyspaces and tables (column types and CQL options go
in the table's opaque metadata). Returns the protocol's SCHEMA_CHANGE
result. Never touches rows except through TRUNCATE.
"""

from __future__ import annotations

import re
import time
import uuid

from stores.wide.cql import ast
from stores.wide.cql.errors import (
    AlreadyExists,
    ConfigurationException,
    InvalidRequest,
    SyntaxException,
)
from stores.wide.cql.results import SchemaChange, Void
from stores.wide.cql.schema import (
    COMPACTION_CLASSES,
    DEFAULT_TABLE_OPTIONS,
    REPLICATION_CLASSES,
    SYSTEM_KEYSPACES,
    Catalog,
    TableInfo,
)
from stores.wide.cql.types import CQLType
from stores.wide.storage import AlreadyExists as StorageAlreadyExists
from stores.wide.storage import ClusteringColumn, StorageError, TableOptions, TableSchema

_NAME_RE = re.compile(r"^\w{1,48}$", re.ASCII)

TABLE_OPTION_NAMES = set(DEFAULT_TABLE_OPTIONS) | {
    "allow_auto_snapshot",
    "incremental_backups",
    "memtable",
    "dclocal_read_repair_chance",
    "read_repair_chance",
}
_TWCS_UNITS = ("MINUTES", "HOURS", "DAYS")


def _check_keyspace_name(name: str) -> None:
    if not _NAME_RE.match(name):
        raise InvalidRequest(
            "Keyspace name must not be empty, more than 48 characters long, or contain "
            f'non-alphanumeric-underscore characters (got "{name}")'
        )


def _check_table_name(name: str) -> None:
    if not _NAME_RE.match(name):
        raise InvalidRequest(
            "Table name must not be empty, more than 48 characters long, or contain "
            f'non-alphanumeric-underscore characters (got "{name}")'
        )


def keyspace_metadata(options: dict, current: dict | None = None) -> dict:
    """Return validated keyspace metadata (replication, durable_writes) from WITH options."""
    for name in options:
        if name not in ("replication", "durable_writes"):
            raise SyntaxException(f"Unknown property '{name}'")
    meta = dict(current or {})
    if "replication" in options:
        replication = options["replication"]
        if not isinstance(replication, dict):
            raise SyntaxException("Invalid value for property 'replication'. It should be a map.")
        replication = {str(k): str(v) for k, v in replication.items()}
        cls = replication.get("class")
        if not cls:
            raise ConfigurationException("Missing replication strategy class")
        short = cls.rsplit(".", 1)[-1]
        if short not in ("SimpleStrategy", "NetworkTopologyStrategy"):
            raise ConfigurationException(f"Unable to find replication strategy class '{cls}'")
        replication["class"] = REPLICATION_CLASSES[short]
        if short == "SimpleStrategy":
            if "replication_factor" not in replication:
                raise ConfigurationException(
                    "SimpleStrategy requires a replication_factor strategy option."
                )
            for key in replication:
                if key not in ("class", "replication_factor"):
                    raise ConfigurationException(
                        f"Unrecognized strategy option {{{key}}} passed to SimpleStrategy for keyspace"
                    )
        for key, value in replication.items():
            if key == "class":
                continue
            if not value.isdigit():
                raise ConfigurationException(
                    f"Replication factor must be non-negative integer; found {value}"
                )
        meta["replication"] = replication
    elif current is None:
        raise ConfigurationException("Missing mandatory option 'replication'")
    if "durable_writes" in options:
        value = options["durable_writes"]
        if isinstance(value, str):
            value = value.lower() == "true"
        meta["durable_writes"] = bool(value)
    meta.setdefault("durable_writes", True)
    return meta


def create_keyspace(stmt: ast.CreateKeyspace, catalog: Catalog) -> SchemaChange | Void:
    _check_keyspace_name(stmt.name)
    if stmt.name in catalog.keyspaces or stmt.name in SYSTEM_KEYSPACES:
        if stmt.if_not_exists:
            return Void()
        raise AlreadyExists(stmt.name)
    meta = keyspace_metadata(stmt.options)
    try:
        catalog.engine.create_keyspace(stmt.name, meta)
    except StorageAlreadyExists:
        if stmt.if_not_exists:
            return Void()
        raise AlreadyExists(stmt.name) from None
    catalog.reload()
    return SchemaChange("CREATED", "KEYSPACE", stmt.name)


def alter_keyspace(stmt: ast.AlterKeyspace, catalog: Catalog) -> SchemaChange | Void:
    if stmt.name in SYSTEM_KEYSPACES:
        raise _not_modifiable(stmt.name)
    info = catalog.keyspaces.get(stmt.name)
    if info is None:
        if stmt.if_exists:
            return Void()
        raise InvalidRequest(f"Keyspace '{stmt.name}' doesn't exist")
    meta = keyspace_metadata(
        stmt.options, {"replication": info.replication, "durable_writes": info.durable_writes}
    )
    catalog.engine.alter_keyspace(stmt.name, meta)
    catalog.reload()
    return SchemaChange("UPDATED", "KEYSPACE", stmt.name)


def _not_modifiable(name: str) -> InvalidRequest:
    return InvalidRequest(f"{name} keyspace is not user-modifiable.")


def drop_keyspace(stmt: ast.DropKeyspace, catalog: Catalog) -> SchemaChange | Void:
    if stmt.name in SYSTEM_KEYSPACES:
        raise _not_modifiable(stmt.name)
    if stmt.name not in catalog.keyspaces:
        if stmt.if_exists:
            return Void()
        raise InvalidRequest(f"Keyspace '{stmt.name}' doesn't exist")
    catalog.engine.drop_keyspace(stmt.name)
    catalog.reload()
    return SchemaChange("DROPPED", "KEYSPACE", stmt.name)


def table_options(options: dict, current: dict | None = None, *, counter: bool = False) -> dict:
    """Return the table's CQL options after applying WITH options, validated."""
    out = dict(current or {})
    for name, value in options.items():
        if name not in TABLE_OPTION_NAMES:
            raise SyntaxException(f"Unknown property '{name}'")
        if name == "compaction":
            out[name] = _compaction(value)
        elif name in (
            "default_time_to_live",
            "gc_grace_seconds",
            "memtable_flush_period_in_ms",
            "min_index_interval",
            "max_index_interval",
        ):
            if isinstance(value, str) and value.lstrip("-").isdigit():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise SyntaxException(f"Invalid integer value {value} for '{name}'")
            if value < 0:
                raise ConfigurationException(
                    f"{name} must be greater than or equal to 0 (got {value})"
                )
            if name == "default_time_to_live" and value > 630720000:
                raise ConfigurationException(
                    f"default_time_to_live must be less than or equal to 630720000 (got {value})"
                )
            out[name] = value
        elif name in ("bloom_filter_fp_chance", "crc_check_chance"):
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise SyntaxException(f"Invalid double value {value} for '{name}'") from None
            if name == "bloom_filter_fp_chance" and not 0 < number <= 1:
                raise ConfigurationException(
                    f"bloom_filter_fp_chance must be larger than 0 and less than or equal to 1.0 (got {number})"
                )
            out[name] = number
        elif name in ("caching", "compression", "extensions"):
            if not isinstance(value, dict):
                raise SyntaxException(f"Invalid value for property '{name}'. It should be a map.")
            out[name] = {str(k): str(v) for k, v in value.items()}
            if name == "caching":
                out[name] = _caching(out[name])
        elif name in ("cdc", "allow_auto_snapshot", "incremental_backups"):
            out[name] = value if isinstance(value, bool) else str(value).lower() == "true"
        else:
            out[name] = value if isinstance(value, dict) else str(value)
    if counter and out.get("default_time_to_live"):
        raise InvalidRequest("Cannot set default_time_to_live on a table with counters")
    return out


_ROWS_ALL = 2**31 - 1


def _caching(options: dict[str, str]) -> dict[str, str]:
    """Return a caching map as Cassandra's CachingParams reads it (a sub-option left out is off)."""
    rest = dict(options)
    keys = rest.pop("keys", "NONE")
    rows = rest.pop("rows_per_partition", "NONE")
    if rest:
        raise ConfigurationException(
            f"Invalid caching sub-options [{', '.join(rest)}]: only 'keys' and"
            " 'rows_per_partition' are allowed"
        )
    if keys.upper() not in ("ALL", "NONE"):
        raise ConfigurationException(
            f"Invalid value '{keys}' for caching sub-option 'keys': only 'ALL' and 'NONE' are allowed"
        )
    if rows.upper() in ("ALL", "NONE"):
        rows = rows.upper()
    elif rows.isascii() and rows.isdigit() and int(rows) <= _ROWS_ALL:
        count = int(rows)
        rows = "NONE" if count == 0 else "ALL" if count == _ROWS_ALL else str(count)
    else:
        raise ConfigurationException(
            f"Invalid value '{rows}' for caching sub-option 'rows_per_partition':"
            " only 'ALL', 'NONE', and integer values are allowed"
        )
    return {"keys": keys.upper(), "rows_per_partition": rows}


def _compaction(value) -> dict:
    if not isinstance(value, dict):
        raise SyntaxException("Invalid value for property 'compaction'. It should be a map.")
    options = {str(k): str(v) for k, v in value.items()}
    cls = options.get("class")
    if not cls:
        raise ConfigurationException("Missing sub-option 'class' for the 'compaction' option.")
    short = cls.rsplit(".", 1)[-1]
    if short not in COMPACTION_CLASSES:
        raise ConfigurationException(f"Unable to find compaction strategy class '{cls}'")
    options["class"] = COMPACTION_CLASSES[short]
    if short == "TimeWindowCompactionStrategy":
        unit = options.setdefault("compaction_window_unit", "DAYS").upper()
        if unit not in _TWCS_UNITS:
            raise ConfigurationException(
                f"{options['compaction_window_unit']} is not valid for compaction_window_unit"
            )
        options["compaction_window_unit"] = unit
        size = options.setdefault("compaction_window_size", "1")
        if not size.isdigit() or int(size) < 1:
            raise ConfigurationException(
                f"{size} must be greater than 1 for compaction_window_size"
            )
    if short == "SizeTieredCompactionStrategy":
        options.setdefault("max_threshold", "32")
        options.setdefault("min_threshold", "4")
    return options


def storage_options(options: dict) -> TableOptions:
    """Return the storage engine's TableOptions for a table's CQL options."""
    compaction = dict(options.get("compaction", DEFAULT_TABLE_OPTIONS["compaction"]))
    compaction["class"] = compaction["class"].rsplit(".", 1)[-1]
    return TableOptions(
        default_time_to_live=int(options.get("default_time_to_live", 0)),
        gc_grace_seconds=int(options.get("gc_grace_seconds", 864000)),
        compaction=compaction,
        bloom_filter_fp_chance=float(options.get("bloom_filter_fp_chance", 0.01)),
        caching=dict(options.get("caching", DEFAULT_TABLE_OPTIONS["caching"])),
    )


def _check_key_type(name: str, cql_type: CQLType) -> None:
    if cql_type.is_counter:
        raise InvalidRequest(f"counter type is not supported for PRIMARY KEY column '{name}'")
    if cql_type.name == "duration":
        raise InvalidRequest(f"duration type is not supported for PRIMARY KEY column '{name}'")
    if cql_type.multicell:
        raise InvalidRequest(
            f"Invalid non-frozen collection type {cql_type.cql()} for PRIMARY KEY component {name}"
        )


def build_table(stmt: ast.CreateTable, keyspace: str) -> TableSchema:
    """Return the storage TableSchema (with CQL metadata) a CREATE TABLE describes."""
    name = stmt.table.name
    _check_table_name(name)
    types: dict[str, CQLType] = {}
    statics = []
    for column in stmt.columns:
        if column.name in types:
            raise InvalidRequest(f"Multiple definition of identifier {column.name}")
        types[column.name] = column.cql_type
        if column.static:
            statics.append(column.name)
    if not stmt.partition_key:
        raise InvalidRequest(f"No PRIMARY KEY specifed for table {name!r} (exactly one required)")
    seen = set()
    for key in stmt.partition_key + stmt.clustering:
        if key not in types:
            raise InvalidRequest(f"Unknown definition {key} referenced in PRIMARY KEY")
        if key in seen:
            raise InvalidRequest(f"duplicate column {key} in PRIMARY KEY")
        seen.add(key)
        if key in statics:
            raise InvalidRequest(f"Static column {key} cannot be part of the PRIMARY KEY")
        _check_key_type(key, types[key])
    if statics and not stmt.clustering:
        raise InvalidRequest(
            "Static columns are only useful (and thus allowed) if the table has at least one clustering column"
        )
    order = {}
    for i, (column, desc) in enumerate(stmt.clustering_order):
        if column not in stmt.clustering:
            raise InvalidRequest(
                "Only clustering key columns can be defined in CLUSTERING ORDER directive"
            )
        if i >= len(stmt.clustering) or stmt.clustering[i] != column:
            expected = stmt.clustering[i] if i < len(stmt.clustering) else column
            raise InvalidRequest(
                f"The order of columns in the CLUSTERING ORDER directive must match that of the clustering columns ({column} must appear before {expected})"
                if column in stmt.clustering and stmt.clustering.index(column) > i
                else "The order of columns in the CLUSTERING ORDER directive must match that of the clustering columns"
            )
        order[column] = desc
    non_key = [n for n in types if n not in seen]
    counters = [n for n in non_key if types[n].is_counter]
    if counters and len(counters) != len(non_key):
        raise InvalidRequest("Cannot mix counter and non counter columns in the same table")
    options = table_options(stmt.options, dict(DEFAULT_TABLE_OPTIONS), counter=bool(counters))
    return TableSchema(
        keyspace=keyspace,
        name=name,
        id=uuid.uuid4(),
        partition_key=list(stmt.partition_key),
        clustering=[ClusteringColumn(c, order.get(c, False)) for c in stmt.clustering],
        static=statics,
        regular=[n for n in non_key if n not in statics],
        collections={n for n in non_key if types[n].multicell},
        options=storage_options(options),
        metadata={
            "types": {n: t.cql() for n, t in types.items()},
            "options": {k: v for k, v in options.items() if DEFAULT_TABLE_OPTIONS.get(k) != v},
        },
    )


def create_table(stmt: ast.CreateTable, keyspace: str, catalog: Catalog) -> SchemaChange | Void:
    if keyspace in SYSTEM_KEYSPACES:
        raise _not_modifiable(keyspace)
    ks = catalog.keyspaces.get(keyspace)
    if ks is None:
        raise InvalidRequest(f"Keyspace '{keyspace}' doesn't exist")
    if stmt.table.name in ks.tables:
        if stmt.if_not_exists:
            return Void()
        raise AlreadyExists(keyspace, stmt.table.name)
    schema = build_table(stmt, keyspace)
    try:
        catalog.engine.create_table(schema)
    except StorageAlreadyExists:
        if stmt.if_not_exists:
            return Void()
        raise AlreadyExists(keyspace, stmt.table.name) from None
    except StorageError as exc:
        raise InvalidRequest(str(exc)) from None
    catalog.reload()
    return SchemaChange("CREATED", "TABLE", keyspace, stmt.table.name)


def _existing_table(
    catalog: Catalog, keyspace: str, name: str, if_exists: bool
) -> TableInfo | None:
    ks = catalog.keyspaces.get(keyspace)
    if ks is None:
        if if_exists:
            return None
        raise InvalidRequest(f"Keyspace '{keyspace}' doesn't exist")
    table = ks.tables.get(name)
    if table is None and not if_exists:
        raise InvalidRequest(f"Table '{keyspace}.{name}' doesn't exist")
    return table


def alter_table(stmt: ast.AlterTable, keyspace: str, catalog: Catalog) -> SchemaChange | Void:
    if keyspace in SYSTEM_KEYSPACES:
        raise _not_modifiable(keyspace)
    table = _existing_table(catalog, keyspace, stmt.table.name, stmt.if_exists)
    if table is None:
        return Void()
    old = table.storage
    meta = {
        "types": dict(old.metadata["types"]),
        "options": dict(old.metadata.get("options", {})),
        "dropped": dict(old.metadata.get("dropped", {})),
    }
    static = list(old.static)
    regular = list(old.regular)
    partition_key = list(old.partition_key)
    clustering = list(old.clustering)
    collections = set(old.collections)
    options = old.options
    if stmt.action == "add":
        for column in stmt.payload:
            if column.name in meta["types"]:
                raise InvalidRequest(f"Column with name '{column.name}' already exists")
            if column.static and not clustering:
                raise InvalidRequest(
                    "Static columns are not allowed in tables with no clustering columns"
                )
            if column.cql_type.is_counter != table.is_counter and (table.regular or table.static):
                raise InvalidRequest("Cannot mix counter and non counter columns in the same table")
            previous = meta["dropped"].get(column.name)
            if previous and previous["type"] != column.cql_type.cql():
                raise InvalidRequest(
                    f"Cannot re-add previously dropped column '{column.name}' of type "
                    f"{column.cql_type.cql()}, incompatible with previous type {previous['type']}"
                )
            meta["types"][column.name] = column.cql_type.cql()
            (static if column.static else regular).append(column.name)
            if column.cql_type.multicell:
                collections.add(column.name)
    elif stmt.action == "drop":
        dropped_at = time.time_ns() // 1000
        for name in stmt.payload:
            info = table.columns.get(name)
            if info is None:
                raise InvalidRequest(f"Column {name} was not found in table {table.name}")
            if info.is_primary_key:
                raise InvalidRequest(f"Cannot drop PRIMARY KEY column {name}")
            # Cells written before the drop stay invisible if the column comes back.
            meta["dropped"][name] = {"type": meta["types"].pop(name), "time": dropped_at}
            if name in static:
                static.remove(name)
            if name in regular:
                regular.remove(name)
            collections.discard(name)
    elif stmt.action == "rename":
        for old_name, new_name in stmt.payload:
            info = table.column(old_name)
            if not info.is_primary_key:
                raise InvalidRequest(f"Cannot rename non PRIMARY KEY column {old_name}")
            if new_name in meta["types"]:
                raise InvalidRequest(
                    f"Cannot rename column {old_name} to {new_name} in table '{table.name}'; another column with that name already exists"
                )
            meta["types"][new_name] = meta["types"].pop(old_name)
            partition_key = [new_name if n == old_name else n for n in partition_key]
            clustering = [
                ClusteringColumn(new_name, c.descending) if c.name == old_name else c
                for c in clustering
            ]
    elif stmt.action == "with":
        current = dict(DEFAULT_TABLE_OPTIONS)
        current.update(meta["options"])
        merged = table_options(stmt.payload, current, counter=table.is_counter)
        meta["options"] = {k: v for k, v in merged.items() if DEFAULT_TABLE_OPTIONS.get(k) != v}
        options = storage_options(merged)
    else:
        raise InvalidRequest("Altering column types is no longer supported")
    schema = TableSchema(
        keyspace=old.keyspace,
        name=old.name,
        id=old.id,
        partition_key=partition_key,
        clustering=clustering,
        static=static,
        regular=regular,
        collections=collections,
        options=options,
        metadata=meta,
    )
    try:
        catalog.engine.alter_table(schema)
    except StorageError as exc:
        raise InvalidRequest(str(exc)) from None
    catalog.reload()
    return SchemaChange("UPDATED", "TABLE", keyspace, old.name)


def drop_table(stmt: ast.DropTable, keyspace: str, catalog: Catalog) -> SchemaChange | Void:
    if keyspace in SYSTEM_KEYSPACES:
        raise _not_modifiable(keyspace)
    table = _existing_table(catalog, keyspace, stmt.table.name, stmt.if_exists)
    if table is None:
        return Void()
    catalog.engine.drop_table(keyspace, table.name)
    catalog.reload()
    return SchemaChange("DROPPED", "TABLE", keyspace, table.name)


def truncate(stmt: ast.Truncate, keyspace: str, catalog: Catalog) -> Void:
    if keyspace in SYSTEM_KEYSPACES:
        raise _not_modifiable(keyspace)
    table = catalog.table(keyspace, stmt.table.name)
    catalog.engine.truncate(keyspace, table.name)
    return Void()
