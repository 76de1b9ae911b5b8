"""Read-only views of a wide-column store, through a cassandra-driver shaped Session.

Schema, partitions and rows come from CQL (``system_schema``, ``DESCRIBE``,
``token()`` range queries, ``writetime()``/``ttl()``), so the pages work on
the embedded engine and on a real Cassandra. What only the embedded engine
can tell (memtable, SSTables, compactions) comes from its storage engine
when the session has one. Every query is bounded by a LIMIT or a page size,
and every value from a visitor is a bound parameter.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from stores.wide.cql.keys import decode_clustering, encode_partition_key
from stores.wide.cql.types import parse_type
from stores.wide.storage import token as murmur3_token
from stores.wide.storage.cells import NO_DELETION
from stores.wide.storage.inspect import cell_state, liveness_state, stored_partition

SYSTEM_KEYSPACES = frozenset(
    {
        "system",
        "system_schema",
        "system_auth",
        "system_distributed",
        "system_traces",
        "system_virtual_schema",
        "system_views",
    }
)
PAGE_SIZE = 50
ROWS_PAGE_SIZE = 100
CONSOLE_ROW_LIMIT = 200
MIN_TOKEN = -(2**63)
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,47}$")


class NotFound(LookupError):
    """The keyspace or table does not exist."""


def quote(identifier: str) -> str:
    """Return an identifier quoted for CQL (names come from system_schema)."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclass
class Column:
    name: str
    kind: str  # partition_key, clustering, static, regular
    position: int
    type: str
    clustering_order: str = "none"

    @property
    def is_collection(self) -> bool:
        return self.type.split("<", 1)[0] in ("list", "set", "map")


@dataclass
class TableInfo:
    keyspace: str
    name: str
    columns: list[Column]
    options: dict = field(default_factory=dict)
    create_statement: str = ""

    def of_kind(self, kind: str) -> list[Column]:
        return sorted(
            (c for c in self.columns if c.kind == kind), key=lambda c: (c.position, c.name)
        )

    @property
    def partition_key(self) -> list[Column]:
        return self.of_kind("partition_key")

    @property
    def clustering(self) -> list[Column]:
        return self.of_kind("clustering")

    @property
    def value_columns(self) -> list[Column]:
        return self.of_kind("static") + self.of_kind("regular")

    @property
    def qualified(self) -> str:
        return f"{quote(self.keyspace)}.{quote(self.name)}"

    @property
    def token_expression(self) -> str:
        return "token(" + ", ".join(quote(c.name) for c in self.partition_key) + ")"


def storage_engine(session):
    """Return the embedded storage engine behind a session, or None for a real cluster."""
    return getattr(session, "engine", None)


def keyspaces(session) -> list[dict]:
    """Return the keyspaces with their replication and tables, user keyspaces first."""
    tables: dict[str, list[dict]] = {}
    for row in session.execute(
        "SELECT keyspace_name, table_name, default_time_to_live, gc_grace_seconds, compaction "
        "FROM system_schema.tables"
    ):
        tables.setdefault(row.keyspace_name, []).append(
            {
                "name": row.table_name,
                "default_time_to_live": row.default_time_to_live,
                "gc_grace_seconds": row.gc_grace_seconds,
                "compaction": _short_class((row.compaction or {}).get("class", "")),
            }
        )
    result = []
    for row in session.execute("SELECT keyspace_name, replication FROM system_schema.keyspaces"):
        result.append(
            {
                "name": row.keyspace_name,
                "system": row.keyspace_name in SYSTEM_KEYSPACES,
                "replication": {k: _short_class(v) for k, v in (row.replication or {}).items()},
                "tables": sorted(tables.get(row.keyspace_name, []), key=lambda t: t["name"]),
            }
        )
    result.sort(key=lambda ks: (ks["system"], ks["name"]))
    return result


def _short_class(name: str) -> str:
    return name.rsplit(".", 1)[-1] if isinstance(name, str) else name


def table_info(session, keyspace: str, table: str) -> TableInfo:
    """Return a table's columns, options and CREATE statement, or raise NotFound."""
    if not (IDENTIFIER.match(keyspace) and IDENTIFIER.match(table)):
        raise NotFound(f"{keyspace}.{table}")
    options = session.execute(
        "SELECT * FROM system_schema.tables WHERE keyspace_name = %s AND table_name = %s",
        (keyspace, table),
    ).one()
    if options is None:
        raise NotFound(f"{keyspace}.{table}")
    columns = [
        Column(r.column_name, r.kind, r.position, r.type, r.clustering_order)
        for r in session.execute(
            "SELECT column_name, kind, position, type, clustering_order FROM system_schema.columns "
            "WHERE keyspace_name = %s AND table_name = %s",
            (keyspace, table),
        )
    ]
    info = TableInfo(keyspace, table, columns, options=options._asdict())
    try:
        described = session.execute(f"DESCRIBE TABLE {info.qualified}").one()
        info.create_statement = getattr(described, "create_statement", "") or ""
    except Exception:  # DESCRIBE is server-side only from Cassandra 4
        info.create_statement = ""
    return info


def engine_stats(session, keyspace: str, table: str) -> dict | None:
    """Return memtable, SSTable and compaction figures when the engine is embedded."""
    engine = storage_engine(session)
    if engine is None:
        return None
    history = [
        h
        for h in engine.compaction_history()
        if h.get("keyspace") == keyspace and h.get("table") == table
    ]
    pending = [
        p
        for p in engine.pending_compactions()
        if p.get("keyspace") == keyspace and p.get("table") == table
    ]
    return {
        "stats": engine.table_stats(keyspace, table),
        "sstables": engine.sstables(keyspace, table),
        "pending": pending,
        "history": history[-50:],
    }


def partitions_page(
    session, info: TableInfo, after_token: int | None = None, page_size: int = PAGE_SIZE
) -> list[dict]:
    """Return up to page_size partitions in token order, after the given token."""
    keys = ", ".join(quote(c.name) for c in info.partition_key)
    query = (
        f"SELECT {info.token_expression}, {keys} FROM {info.qualified} "
        f"WHERE {info.token_expression} > %s PER PARTITION LIMIT 1 LIMIT {int(page_size)}"
    )
    rows = session.execute(query, (MIN_TOKEN if after_token is None else after_token,))
    result = []
    for row in rows:
        values = list(row)
        result.append(
            {
                "token": values[0],
                "key": dict(zip((c.name for c in info.partition_key), values[1:], strict=True)),
            }
        )
    return result


@dataclass
class PartitionRows:
    """One page of a partition: its static cells once, then its clustered rows."""

    key_columns: list[str]
    value_columns: list[str]
    static: dict
    rows: list[dict]
    paging_state: bytes | None


def _cell(value, writetime=None, ttl=None) -> dict:
    cell = {"value": value, "writetime": writetime, "ttl": ttl, "written_at": None}
    if writetime:
        cell["written_at"] = datetime.fromtimestamp(writetime / 1_000_000, tz=UTC)
    return cell


def partition_rows(
    session,
    info: TableInfo,
    token_value: int,
    paging_state: bytes | None = None,
    page_size: int = ROWS_PAGE_SIZE,
) -> PartitionRows:
    """Return one page of a partition's rows in clustering order, with each cell's writetime and TTL."""
    from stores.wide import SimpleStatement

    keys = info.partition_key + info.clustering
    statics = info.of_kind("static")
    regulars = info.of_kind("regular")
    selected = [quote(c.name) for c in keys]
    for column in statics + regulars:
        selected.append(quote(column.name))
        if not column.is_collection:
            selected += [f"writetime({quote(column.name)})", f"ttl({quote(column.name)})"]
    query = f"SELECT {', '.join(selected)} FROM {info.qualified} WHERE {info.token_expression} = %s"
    statement = SimpleStatement(query, fetch_size=page_size)
    result = session.execute(statement, (token_value,), paging_state=paging_state)
    static: dict = {}
    rows = []
    for raw in result.current_rows:
        values = iter(list(raw))
        row = {column.name: _cell(next(values)) for column in keys}
        cells = {}
        for column in statics + regulars:
            value = next(values)
            if column.is_collection:
                cells[column.name] = _cell(value)
            else:
                cells[column.name] = _cell(value, next(values), next(values))
        static = static or {c.name: cells[c.name] for c in statics}
        row.update((c.name, cells[c.name]) for c in regulars)
        rows.append(row)
    return PartitionRows(
        [c.name for c in keys], [c.name for c in regulars], static, rows, result.paging_state
    )


def _when(seconds: int | None) -> datetime | None:
    if seconds is None or seconds == NO_DELETION:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def _deletion(deletion) -> dict | None:
    if deletion is None:
        return None
    return {
        "writetime": deletion.marked_for_delete_at,
        "written_at": datetime.fromtimestamp(deletion.marked_for_delete_at / 1_000_000, tz=UTC),
        "deleted_at": _when(deletion.local_deletion_time),
    }


def _stored_cell(cql_type, cell, now: int) -> dict:
    state = cell_state(cell, now)
    value = None
    if cell.value is not None:
        try:
            value = cql_type.deserialize(cell.value)
        except Exception:
            value = cell.value.hex()
    return {
        "state": state,
        "value": value,
        "writetime": cell.timestamp,
        "written_at": datetime.fromtimestamp(cell.timestamp / 1_000_000, tz=UTC),
        "ttl": cell.ttl or None,
        "until": _when(cell.local_deletion_time),
    }


def stored_cells(session, info: TableInfo, key_values: list) -> dict | None:
    """Return a partition as the embedded engine stores it: tombstones and expired cells too.

    None for a real cluster (no engine in this process) or when no source holds the key.
    """
    engine = storage_engine(session)
    if engine is None:
        return None
    key = encode_partition_key([parse_type(c.type) for c in info.partition_key], key_values)
    stored = stored_partition(engine, info.keyspace, info.name, key)
    if stored is None:
        return None
    now = int(time.time())
    clustering_types = [parse_type(c.type) for c in info.clustering]
    descending = [c.clustering_order == "desc" for c in info.clustering]
    types = {c.name: parse_type(c.type) for c in info.value_columns}

    def prefix(data) -> str:
        if data is None:
            return "(open)"
        values = decode_clustering(clustering_types, descending, data.prefix)
        inclusive = "inclusive" if data.inclusive else "exclusive"
        return "(" + ", ".join(str(v) for v in values) + f") {inclusive}"

    def row_view(row) -> dict:
        clustering = (
            decode_clustering(clustering_types, descending, row.clustering)
            if isinstance(row.clustering, bytes)
            else ()
        )
        cells = {}
        for name, cell in sorted(row.cells.items()):
            cells[name] = _stored_cell(types.get(name), cell, now)
        collections = {}
        for name in sorted(set(row.complex_cells) | set(row.complex_deletions)):
            elements = row.complex_cells.get(name, {})
            collections[name] = {
                "deletion": _deletion(row.complex_deletions.get(name)),
                "live": sum(1 for c in elements.values() if cell_state(c, now) == "live"),
                "dead": sum(1 for c in elements.values() if cell_state(c, now) != "live"),
            }
        marker = liveness_state(row.liveness, now)
        return {
            "clustering": clustering,
            "marker": marker,
            "marker_until": _when(row.liveness.local_expiration_time) if row.liveness else None,
            "deletion": _deletion(row.deletion),
            "cells": cells,
            "collections": collections,
        }

    return {
        "sources": stored.sources,
        "deletion": _deletion(stored.deletion),
        "range_tombstones": [
            {"start": prefix(rt.start), "end": prefix(rt.end), "deletion": _deletion(rt.deletion)}
            for rt in stored.range_tombstones
        ],
        "static": row_view(stored.static) if stored.static is not None else None,
        "rows": [row_view(row) for row in stored.rows],
        "truncated": stored.truncated,
    }


class KeyInputError(ValueError):
    """A partition key typed into a form that does not fit the column type."""


def parse_key_values(info: TableInfo, texts: dict[str, str]) -> list:
    """Return the partition key values typed into a form, converted to their CQL types."""
    values = []
    for column in info.partition_key:
        text = texts.get(column.name, "")
        cql_type = parse_type(column.type)
        value = None
        for kind in cql_type.literal_kinds:
            try:
                value = cql_type.from_literal(kind, text)
                break
            except Exception:
                continue
        if value is None:
            raise KeyInputError(f"{text!r} is not a valid {column.type} for {column.name}.")
        values.append(value)
    return values


def locate(session, info: TableInfo, values: list) -> dict:
    """Return the token of a partition key and the nodes that hold it."""
    types = [parse_type(c.type) for c in info.partition_key]
    key = encode_partition_key(types, values)
    token_value = murmur3_token(key)
    cluster = getattr(session, "cluster", None)
    if cluster is not None and getattr(cluster, "metadata", None) is not None:
        hosts = cluster.metadata.get_replicas(info.keyspace, key)
        replicas = [f"{h.address} ({h.datacenter}/{h.rack})" for h in hosts]
    else:
        replicas = ["this process — the embedded engine is a single node holding every token"]
    exists = (
        session.execute(
            f"SELECT {info.token_expression} FROM {info.qualified} WHERE {info.token_expression} = %s LIMIT 1",
            (token_value,),
        ).one()
        is not None
    )
    return {"key_hex": key.hex(), "token": token_value, "replicas": replicas, "exists": exists}


class ConsoleError(ValueError):
    """A console statement refused before it reaches the store."""


def check_select(query: str) -> str:
    """Return the statement if it is a single SELECT, else raise ConsoleError."""
    text = query.strip().rstrip(";").strip()
    if not text:
        raise ConsoleError("Type a SELECT statement.")
    if not re.match(r"(?is)^select\b", text):
        raise ConsoleError("Only SELECT statements run here: the console is read-only.")
    if ";" in _strip_literals(text):
        raise ConsoleError("One statement at a time.")
    return text


def _strip_literals(text: str) -> str:
    return re.sub(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"", "''", text)


def run_select(session, query: str) -> dict:
    """Run a SELECT with tracing and return its columns, rows and trace."""
    from stores.wide import SimpleStatement

    statement = SimpleStatement(check_select(query), fetch_size=CONSOLE_ROW_LIMIT)
    result = session.execute(statement, trace=True)
    rows = [list(row) for row in result.current_rows]
    columns = list(getattr(result, "column_names", None) or [])
    if not columns and result.current_rows:
        columns = list(getattr(result.current_rows[0], "_fields", []))
    return {
        "columns": columns,
        "rows": rows,
        "more": bool(getattr(result, "has_more_pages", False)),
        "trace": trace_of(result),
    }


def trace_of(result) -> dict | None:
    """Return the trace of a traced result: SSTables read or skipped, and events.

    The embedded Session returns the storage engine's read trace as a dict;
    cassandra-driver returns a QueryTrace with the coordinator's events.
    """
    try:
        trace = result.get_query_trace(max_wait_sec=2)
    except Exception:
        return None
    if trace is None:
        return None
    if isinstance(trace, dict):
        events = [{"description": str(e), "source_elapsed": None} for e in trace.get("events", [])]
        return {"duration": None, "events": events, "summary": trace}
    events = [
        {
            "description": getattr(e, "description", str(e)),
            "source_elapsed": getattr(e, "source_elapsed", None),
        }
        for e in getattr(trace, "events", []) or []
    ]
    return {"duration": getattr(trace, "duration", None), "events": events, "summary": None}
