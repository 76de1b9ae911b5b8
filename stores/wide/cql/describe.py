"""DESCRIBE answered server-side, as Cassandra 4+ does.

Each DESCRIBE returns rows of (keyspace_name, type, name, create_statement),
the create statements rebuilt from the catalog in Cassandra's layout. Never
changes anything.
"""

from __future__ import annotations

from stores.wide.cql import ast
from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.results import ColumnSpec, Rows
from stores.wide.cql.schema import DEFAULT_TABLE_OPTIONS, KeyspaceInfo, TableInfo, quote_name
from stores.wide.cql.types import TEXT

_OPTION_ORDER = (
    "additional_write_policy",
    "bloom_filter_fp_chance",
    "caching",
    "cdc",
    "comment",
    "compaction",
    "compression",
    "memtable",
    "crc_check_chance",
    "default_time_to_live",
    "extensions",
    "gc_grace_seconds",
    "max_index_interval",
    "memtable_flush_period_in_ms",
    "min_index_interval",
    "read_repair",
    "speculative_retry",
)


def _literal(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(str(k))}: {_literal(v)}" for k, v in value.items()) + "}"
    return "'" + str(value).replace("'", "''") + "'"


def keyspace_statement(ks: KeyspaceInfo) -> str:
    """Return the CREATE KEYSPACE statement of a keyspace."""
    return (
        f"CREATE KEYSPACE {quote_name(ks.name)} WITH replication = {_literal(ks.replication)}"
        f"  AND durable_writes = {str(ks.durable_writes).lower()};"
    )


def table_statement(table: TableInfo) -> str:
    """Return the CREATE TABLE statement of a table, in Cassandra's layout."""
    lines = []
    single_pk = len(table.partition_key) == 1 and not table.clustering
    for column in table.select_order():
        line = f"    {quote_name(column.name)} {column.cql_type.cql()}"
        if column.kind == "static":
            line += " static"
        if single_pk and column.kind == "partition_key":
            line += " PRIMARY KEY"
        lines.append(line)
    if not single_pk:
        pk = ", ".join(quote_name(c.name) for c in table.partition_key)
        if len(table.partition_key) > 1:
            pk = f"({pk})"
        key = ", ".join([pk] + [quote_name(c.name) for c in table.clustering])
        lines.append(f"    PRIMARY KEY ({key})")
    head = (
        f"CREATE TABLE {quote_name(table.keyspace)}.{quote_name(table.name)} (\n"
        + ",\n".join(lines)
        + "\n) WITH "
    )
    options = dict(DEFAULT_TABLE_OPTIONS)
    options.update(table.options)
    clauses = []
    if table.clustering:
        order = ", ".join(
            f"{quote_name(c.name)} {'DESC' if c.descending else 'ASC'}" for c in table.clustering
        )
        clauses.append(f"CLUSTERING ORDER BY ({order})")
    for name in _OPTION_ORDER:
        if name == "memtable":
            clauses.append("memtable = 'default'")
            continue
        clauses.append(f"{name} = {_literal(options[name])}")
    return head + "\n    AND ".join(clauses) + ";"


def describe(
    stmt: ast.Describe, keyspaces: list[KeyspaceInfo], current: str | None, cluster_name: str
) -> Rows:
    """Return the rows answering a DESCRIBE statement."""

    def specs(names):
        return [ColumnSpec("", "", n, TEXT) for n in names]

    full = ["keyspace_name", "type", "name", "create_statement"]
    by_name = {ks.name: ks for ks in keyspaces}
    user = [ks for ks in keyspaces if not ks.virtual]
    kind = stmt.kind
    if kind == "cluster":
        from stores.wide.cql.system import PARTITIONER

        return Rows(
            specs(["cluster", "partitioner", "snitch"]),
            [(cluster_name, PARTITIONER, "org.apache.cassandra.locator.SimpleSnitch")],
        )
    if kind == "keyspaces":
        return Rows(
            specs(full[:3]),
            [(ks.name, "keyspace", ks.name) for ks in sorted(keyspaces, key=lambda k: k.name)],
        )
    if kind == "tables":
        chosen = [by_name[current]] if current and current in by_name else keyspaces
        rows = [(ks.name, "table", t) for ks in chosen for t in sorted(ks.tables)]
        return Rows(specs(full[:3]), rows)
    if kind in ("types", "functions", "aggregates"):
        return Rows(specs(full[:3]), [])
    if kind == "schema":
        rows = []
        for ks in keyspaces if stmt.full else user:
            rows.extend(_keyspace_rows(ks))
        return Rows(specs(full), rows)
    if kind == "keyspace":
        name = stmt.keyspace or current
        if not name:
            raise InvalidRequest("No keyspace specified and no current keyspace")
        if name not in by_name:
            raise InvalidRequest(f"'{name}' not found in keyspaces")
        return Rows(specs(full), _keyspace_rows(by_name[name]))
    if kind == "table":
        table = _find_table(by_name, stmt.keyspace or current, stmt.name)
        return Rows(specs(full), [(table.keyspace, "table", table.name, table_statement(table))])
    # DESCRIBE name: a keyspace, or a table of the current keyspace.
    if stmt.keyspace is None and stmt.name in by_name:
        return Rows(specs(full), _keyspace_rows(by_name[stmt.name]))
    table = _find_table(by_name, stmt.keyspace or current, stmt.name)
    return Rows(specs(full), [(table.keyspace, "table", table.name, table_statement(table))])


def _find_table(by_name: dict, keyspace: str | None, name: str) -> TableInfo:
    if not keyspace:
        raise InvalidRequest("No keyspace specified and no current keyspace")
    ks = by_name.get(keyspace)
    if ks is None:
        raise InvalidRequest(f"'{keyspace}' not found in keyspaces")
    table = ks.tables.get(name)
    if table is None:
        raise InvalidRequest(f"'{name}' not found in keyspace '{keyspace}'")
    return table


def _keyspace_rows(ks: KeyspaceInfo) -> list[tuple]:
    rows = [(ks.name, "keyspace", ks.name, keyspace_statement(ks))]
    for name in sorted(ks.tables):
        rows.append((ks.name, "table", name, table_statement(ks.tables[name])))
    return rows
