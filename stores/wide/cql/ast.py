"""The syntax tree the parser produces: plain frozen dataclasses.

Nodes hold names, literals and bind markers exactly as written; they know
nothing of schema or types. The executor resolves them against the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stores.wide.cql.types import CQLType

# Terms ------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    """A constant: kind is string, integer, float, boolean, uuid, hex, duration or null."""

    kind: str
    text: str


@dataclass(frozen=True)
class BindMarker:
    """A ``?`` or ``:name`` marker; ``index`` counts markers from 0 in the statement."""

    index: int
    name: str | None = None


@dataclass(frozen=True)
class CollectionLiteral:
    """``[...]`` (list), ``{a, b}`` (set), ``{k: v}`` (map) or ``{}`` (set_or_map)."""

    kind: str
    items: tuple


@dataclass(frozen=True)
class TupleLiteral:
    """``(a, b, ...)`` as a value."""

    items: tuple


@dataclass(frozen=True)
class FunctionCall:
    """``name(args)``; ``args`` are terms or selectors depending on the context."""

    name: str
    args: tuple


@dataclass(frozen=True)
class Cast:
    """``CAST(expr AS type)``."""

    expr: object
    target: CQLType


@dataclass(frozen=True)
class TypeHint:
    """``(type) term``."""

    target: CQLType
    term: object


# Selectors ----------------------------------------------------------------


@dataclass(frozen=True)
class ColumnRef:
    """A column named in a selection, relation, assignment or condition."""

    name: str


@dataclass(frozen=True)
class CountStar:
    """``COUNT(*)`` (also ``COUNT(1)``)."""


@dataclass(frozen=True)
class Selector:
    """One selected expression and its alias (``AS name``)."""

    expr: object
    alias: str | None = None


# WHERE ---------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRef:
    """``token(col, ...)`` on the left of a relation."""

    columns: tuple[str, ...]


@dataclass(frozen=True)
class Relation:
    """``lhs op rhs``; lhs is a ColumnRef, a tuple of ColumnRefs or a TokenRef.

    ``op`` is one of = < <= > >= != IN CONTAINS CONTAINS_KEY. For IN, ``rhs``
    is a tuple of terms or one bind marker.
    """

    lhs: object
    op: str
    rhs: object


@dataclass(frozen=True)
class Condition:
    """An LWT condition ``col[key] op value``."""

    column: str
    op: str
    value: object
    key: object = None


# Statements -----------------------------------------------------------------


@dataclass(frozen=True)
class TableName:
    """``[keyspace.]name``."""

    keyspace: str | None
    name: str


@dataclass(frozen=True)
class CreateKeyspace:
    name: str
    options: dict
    if_not_exists: bool = False


@dataclass(frozen=True)
class AlterKeyspace:
    name: str
    options: dict
    if_exists: bool = False


@dataclass(frozen=True)
class DropKeyspace:
    name: str
    if_exists: bool = False


@dataclass(frozen=True)
class Use:
    keyspace: str


@dataclass(frozen=True)
class ColumnDef:
    name: str
    cql_type: CQLType
    static: bool = False


@dataclass(frozen=True)
class CreateTable:
    table: TableName
    columns: tuple[ColumnDef, ...]
    partition_key: tuple[str, ...]
    clustering: tuple[str, ...]
    options: dict
    clustering_order: tuple[tuple[str, bool], ...] = ()
    if_not_exists: bool = False


@dataclass(frozen=True)
class AlterTable:
    """``action`` is add, drop, rename, with or alter; ``payload`` depends on it."""

    table: TableName
    action: str
    payload: object
    if_exists: bool = False


@dataclass(frozen=True)
class DropTable:
    table: TableName
    if_exists: bool = False


@dataclass(frozen=True)
class Truncate:
    table: TableName


@dataclass(frozen=True)
class UsingClause:
    ttl: object = None
    timestamp: object = None


@dataclass(frozen=True)
class Insert:
    table: TableName
    columns: tuple[str, ...]
    values: tuple
    using: UsingClause = field(default_factory=UsingClause)
    if_not_exists: bool = False
    json: object = None
    json_default_unset: bool = True


@dataclass(frozen=True)
class Assignment:
    """``op``: set, add (c = c + v / c += v), prepend (c = v + c), remove, set_element."""

    column: str
    op: str
    value: object
    key: object = None


@dataclass(frozen=True)
class Update:
    table: TableName
    assignments: tuple[Assignment, ...]
    where: tuple[Relation, ...]
    using: UsingClause = field(default_factory=UsingClause)
    conditions: tuple[Condition, ...] = ()
    if_exists: bool = False


@dataclass(frozen=True)
class DeleteTarget:
    column: str
    key: object = None


@dataclass(frozen=True)
class Delete:
    table: TableName
    targets: tuple[DeleteTarget, ...]
    where: tuple[Relation, ...]
    using: UsingClause = field(default_factory=UsingClause)
    conditions: tuple[Condition, ...] = ()
    if_exists: bool = False


@dataclass(frozen=True)
class Batch:
    """``kind``: logged, unlogged or counter."""

    kind: str
    statements: tuple
    using: UsingClause = field(default_factory=UsingClause)


@dataclass(frozen=True)
class Select:
    table: TableName
    selectors: tuple[Selector, ...] | None  # None = *
    where: tuple[Relation, ...] = ()
    distinct: bool = False
    json: bool = False
    group_by: tuple[str, ...] = ()
    order_by: tuple[tuple[str, bool], ...] = ()
    per_partition_limit: object = None
    limit: object = None
    allow_filtering: bool = False


@dataclass(frozen=True)
class Describe:
    """``kind``: cluster, keyspaces, keyspace, tables, table, schema, types, functions, aggregates, name."""

    kind: str
    keyspace: str | None = None
    name: str | None = None
    full: bool = False
