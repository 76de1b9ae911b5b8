"""WHERE clauses checked against Cassandra's rules and turned into reads.

``compile_where`` sorts each relation into partition-key, token, clustering
or filtering restrictions and raises Cassandra's errors for the ones it
refuses (missing partition-key parts, gaps in the clustering prefix, filtering
without ALLOW FILTERING...). The compiled ``Restrictions`` then yield, per
execution, the partition keys to read, the clustering slices within each
partition and a row filter. It never reads storage itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from stores.wide.cql import ast
from stores.wide.cql.errors import REQUIRES_ALLOW_FILTERING_MESSAGE, InvalidRequest
from stores.wide.cql.keys import encode_clustering, encode_partition_key
from stores.wide.cql.results import UNSET, ColumnSpec
from stores.wide.cql.schema import CLUSTERING, PARTITION_KEY, TableInfo, quote_name
from stores.wide.cql.terms import ExecContext, TermCompiler, receiver
from stores.wide.cql.types import BIGINT, ListType, MapType, SetType, TupleType
from stores.wide.storage import Bound, Slice, TokenBound

SLICE_OPS = ("<", "<=", ">", ">=")


@dataclass
class ColumnFilter:
    """A post-read predicate on one column (or a tuple of clustering columns)."""

    column: str
    op: str
    value: Callable
    kind: str


@dataclass
class Restrictions:
    """The compiled WHERE clause of one statement."""

    table: TableInfo
    pk_values: dict[str, tuple[str, object]] = field(default_factory=dict)
    token_bounds: list[tuple[str, Callable]] = field(default_factory=list)
    ck_prefix: list[tuple[str, object]] = field(
        default_factory=list
    )  # (op EQ/IN/MEQ/MIN, evaluator)
    ck_slice: list[tuple[str, int, Callable]] = field(
        default_factory=list
    )  # (op, width, evaluator)
    ck_slice_start: int = 0
    filters: list[ColumnFilter] = field(default_factory=list)
    has_ck_restrictions: bool = False

    @property
    def pk_complete(self) -> bool:
        return len(self.pk_values) == len(self.table.partition_key)

    @property
    def pk_in(self) -> bool:
        return any(op == "IN" for op, _ in self.pk_values.values())

    @property
    def clustering_eq_width(self) -> int:
        width = 0
        for op, evaluator in self.ck_prefix:
            width += evaluator[0] if op in ("MEQ", "MIN") else 1
        return width

    def partition_keys(self, ctx: ExecContext) -> list[bytes]:
        """Return the encoded partition keys selected (sorted by nothing in particular)."""
        table = self.table
        if len(table.partition_key) == 1:
            column = table.partition_key[0]
            op, evaluator = self.pk_values[column.name]
            if op == "EQ":
                value = evaluator(ctx)
                if value is None or value is UNSET:
                    word = "null" if value is None else "unset"
                    raise InvalidRequest(
                        f"Invalid {word} value for partition key part {column.name}"
                    )
                key = table.pk_types[0].serialize(value)
                if not key:
                    raise InvalidRequest("Key may not be empty")
                return [key]
        per_column = []
        for column in self.table.partition_key:
            op, evaluator = self.pk_values[column.name]
            if op == "EQ":
                value = evaluator(ctx)
                if value is None:
                    raise InvalidRequest(f"Invalid null value for partition key part {column.name}")
                if value is UNSET:
                    raise InvalidRequest(f"Invalid unset value for column {column.name}")
                per_column.append([value])
            else:
                values = _in_values(evaluator(ctx), column.name)
                per_column.append(values)
        _check_product(per_column, "partition key")
        keys = []
        seen = set()
        for combo in itertools.product(*per_column):
            key = encode_partition_key(self.table.pk_types, combo)
            if key not in seen:
                seen.add(key)
                keys.append(key)
        return keys

    def token_range(self, ctx: ExecContext) -> tuple[TokenBound | None, TokenBound | None]:
        """Return the scan's start and end bounds from token() restrictions."""
        start = end = None
        for op, evaluator in self.token_bounds:
            value = evaluator(ctx)
            if value is None or value is UNSET:
                raise InvalidRequest("Invalid null value for partition key token")
            if op in (">", ">=", "="):
                candidate = TokenBound(value, None, op != ">")
                if start is None or (candidate.token, not candidate.inclusive) > (
                    start.token,
                    not start.inclusive,
                ):
                    start = candidate
            if op in ("<", "<=", "="):
                candidate = TokenBound(value, None, op != "<")
                if end is None or (candidate.token, candidate.inclusive) < (
                    end.token,
                    end.inclusive,
                ):
                    end = candidate
        return start, end

    def clustering_prefixes(self, ctx: ExecContext) -> list[tuple]:
        """Return the clustering-value prefixes fixed by = and IN."""
        prefixes: list[tuple] = [()]
        position = 0
        for op, evaluator in self.ck_prefix:
            if op == "EQ":
                column = self.table.clustering[position]
                value = evaluator(ctx)
                _check_key_value(value, column.name)
                prefixes = [p + (value,) for p in prefixes]
                position += 1
            elif op == "IN":
                column = self.table.clustering[position]
                values = _in_values(evaluator(ctx), column.name)
                _check_product([prefixes, values], "clustering key")
                prefixes = [p + (v,) for p in prefixes for v in values]
                position += 1
            elif op == "MEQ":
                width, value_eval = evaluator
                value = value_eval(ctx)
                for v, c in zip(value, self.table.clustering[position:], strict=False):
                    _check_key_value(v, c.name)
                prefixes = [p + tuple(value) for p in prefixes]
                position += width
            else:  # MIN
                width, value_eval = evaluator
                values = _in_values(value_eval(ctx), "tuple")
                _check_product([prefixes, values], "clustering key")
                prefixes = [p + tuple(v) for p in prefixes for v in values]
                position += width
        return prefixes

    def slices(self, ctx: ExecContext) -> list[Slice] | None:
        """Return the clustering slices to read, sorted, or None for the whole partition."""
        if not self.ck_prefix and not self.ck_slice:
            return None
        table = self.table
        prefixes = self.clustering_prefixes(ctx)
        encoded = sorted({encode_clustering(table.ck_types, table.ck_desc, p) for p in prefixes})
        if not self.ck_slice:
            return [Slice(Bound(p, True), Bound(p, True)) for p in encoded]
        bounds = []
        for op, width, evaluator in self.ck_slice:
            value = evaluator(ctx)
            if value is None or value is UNSET:
                raise InvalidRequest(
                    f"Invalid null value in condition for column {table.clustering[self.ck_slice_start].name}"
                )
            values = tuple(value) if width > 1 else (value,)
            columns = table.clustering[self.ck_slice_start : self.ck_slice_start + width]
            encoded_value = encode_clustering(
                [c.cql_type for c in columns], [c.descending for c in columns], values
            )
            descending = columns[0].descending
            lower = op in (">", ">=")
            if descending:
                lower = not lower
            bounds.append((lower, op in ("<=", ">="), encoded_value))
        out = []
        for prefix in encoded:
            start: Bound | None = Bound(prefix, True) if prefix else None
            end: Bound | None = Bound(prefix, True) if prefix else None
            for lower, inclusive, value in bounds:
                if lower:
                    start = Bound(prefix + value, inclusive)
                else:
                    end = Bound(prefix + value, inclusive)
            out.append(Slice(start, end))
        return out


MAX_IN_PRODUCT = 10_000


def _check_product(lists: list, what: str) -> None:
    """Refuse IN restrictions whose cartesian product would be unreasonably large."""
    size = 1
    for items in lists:
        size *= max(1, len(items))
    if size > MAX_IN_PRODUCT:
        raise InvalidRequest(
            f"IN restrictions on the {what} would select {size} combinations, more than the maximum of {MAX_IN_PRODUCT}"
        )


def _check_key_value(value, name: str) -> None:
    if value is None:
        raise InvalidRequest(f"Invalid null value in condition for column {name}")
    if value is UNSET:
        raise InvalidRequest(f"Invalid unset value for column {name}")


def _in_values(values, name: str) -> list:
    if values is None:
        raise InvalidRequest(f"Invalid null value for IN restriction on {name}")
    if values is UNSET:
        raise InvalidRequest(f"Invalid unset value for column {name}")
    out = []
    for v in values:
        if v is None:
            raise InvalidRequest(f"Invalid null value in condition for column {name}")
        out.append(v)
    return out


def compile_where(
    table: TableInfo,
    relations: tuple[ast.Relation, ...],
    compiler: TermCompiler,
    *,
    statement: str,
    allow_filtering: bool = False,
) -> Restrictions:
    """Return the Restrictions of a WHERE clause, or raise Cassandra's error for it."""
    r = Restrictions(table)
    compiler.partition_key = table.partition_key
    ck_single: dict[str, list[tuple[str, object]]] = {}
    ck_multi: list[tuple[tuple[str, ...], str, object]] = []
    seen_eq: set[str] = set()
    for relation in relations:
        lhs = relation.lhs
        if isinstance(lhs, ast.TokenRef):
            if statement != "SELECT":
                raise InvalidRequest(
                    f"The token function cannot be used in WHERE clauses for {statement} statements"
                )
            expected = [c.name for c in table.partition_key]
            if list(lhs.columns) != expected:
                if sorted(lhs.columns) == sorted(expected):
                    raise InvalidRequest(
                        f"The token function arguments must be in the partition key order: {', '.join(expected)}"
                    )
                raise InvalidRequest(
                    "The token() function must be applied to all partition key components or none of them"
                )
            if relation.op == "!=":
                raise InvalidRequest('Unsupported "!=" relation: token(...) != ...')
            spec = ColumnSpec(table.keyspace, table.name, "partition key token", BIGINT)
            r.token_bounds.append((relation.op, compiler.compile(relation.rhs, spec)))
            continue
        if isinstance(lhs, tuple):
            names = tuple(c.name for c in lhs)
            for name in names:
                column = table.column(name)
                if column.kind != CLUSTERING:
                    raise InvalidRequest(
                        f"Multi-column relations can only be applied to clustering columns but was applied to: {name}"
                    )
            positions = [table.columns[n].position for n in names]
            if positions != list(range(positions[0], positions[0] + len(positions))):
                raise InvalidRequest(
                    "Clustering columns must appear in the PRIMARY KEY order in multi-column relations: "
                    f"({', '.join(names)})"
                )
            tuple_type = TupleType(*(table.columns[n].cql_type for n in names))
            spec = ColumnSpec(table.keyspace, table.name, "(" + ",".join(names) + ")", tuple_type)
            if relation.op == "IN":
                evaluator = _compile_in(relation.rhs, spec, compiler)
            else:
                evaluator = compiler.compile(relation.rhs, spec)
            ck_multi.append((names, relation.op, evaluator))
            r.has_ck_restrictions = True
            continue
        column = table.column(lhs.name)
        spec = receiver(table, column)
        op = relation.op
        if op == "!=":
            raise InvalidRequest(
                f'Unsupported "!=" relation: {quote_name(column.name)} != {_show(relation.rhs)}'
            )
        if op in ("CONTAINS", "CONTAINS_KEY"):
            cql_type = column.cql_type
            if op == "CONTAINS_KEY" and not isinstance(cql_type, MapType):
                raise InvalidRequest(f"Cannot use CONTAINS KEY on non-map column {column.name}")
            if op == "CONTAINS" and not isinstance(cql_type, ListType | SetType | MapType):
                raise InvalidRequest(f"Cannot use CONTAINS on non-collection column {column.name}")
            element = (
                cql_type.subtypes[0]
                if op == "CONTAINS_KEY" or not isinstance(cql_type, MapType)
                else cql_type.subtypes[1]
            )
            evaluator = compiler.compile(
                relation.rhs, ColumnSpec(table.keyspace, table.name, column.name, element)
            )
            r.filters.append(ColumnFilter(column.name, op, evaluator, column.kind))
            continue
        if op == "IN":
            evaluator = _compile_in(relation.rhs, spec, compiler)
        elif op == "LIKE":
            raise InvalidRequest(
                f"LIKE restriction is only supported on properly indexed columns. {column.name} LIKE ... is not valid."
            )
        else:
            evaluator = compiler.compile(relation.rhs, spec)
        if op in ("=", "IN"):
            if column.name in seen_eq:
                raise InvalidRequest(
                    f"{quote_name(column.name)} cannot be restricted by more than one relation if it includes an Equal"
                )
            seen_eq.add(column.name)
        if column.kind == PARTITION_KEY:
            if op in ("=", "IN"):
                r.pk_values[column.name] = ("EQ" if op == "=" else "IN", evaluator)
            else:
                r.filters.append(ColumnFilter(column.name, op, evaluator, column.kind))
                r.pk_values.setdefault("__slice__", ("SLICE", None))
        elif column.kind == CLUSTERING:
            r.has_ck_restrictions = True
            if column.name in ck_single and op in ("=", "IN"):
                raise InvalidRequest(
                    f"{quote_name(column.name)} cannot be restricted by more than one relation if it includes an Equal"
                )
            ck_single.setdefault(column.name, []).append((op, evaluator))
        else:
            if statement != "SELECT":
                raise InvalidRequest(
                    f"Non PRIMARY KEY columns found in where clause: {column.name} "
                )
            r.filters.append(ColumnFilter(column.name, op, evaluator, column.kind))
    pk_slice = r.pk_values.pop("__slice__", None)
    if r.token_bounds and r.pk_values:
        names = ", ".join(quote_name(n) for n in r.pk_values)
        raise InvalidRequest(
            f'Columns "{names}" cannot be restricted by both a normal relation and a token relation'
        )
    if statement != "SELECT":
        sliced = {f.column for f in r.filters if f.kind == PARTITION_KEY}
        missing = [
            c.name
            for c in table.partition_key
            if c.name not in r.pk_values and c.name not in sliced
        ]
        if missing or pk_slice:
            if pk_slice and not missing:
                raise InvalidRequest(
                    "Only EQ and IN relation are supported on the partition key (unless you use the token() function)"
                )
            raise InvalidRequest(f"Some partition key parts are missing: {', '.join(missing)}")
    elif not r.pk_complete and (r.pk_values or pk_slice):
        if not allow_filtering:
            raise InvalidRequest(REQUIRES_ALLOW_FILTERING_MESSAGE)
        for name, (op, evaluator) in list(r.pk_values.items()):
            r.filters.append(
                ColumnFilter(name, "=" if op == "EQ" else "IN", evaluator, PARTITION_KEY)
            )
        r.pk_values.clear()
    _place_clustering(r, table, ck_single, ck_multi, statement, allow_filtering)
    if statement == "SELECT":
        needs_filtering = any(f.kind != PARTITION_KEY or not r.pk_complete for f in r.filters)
        if (not r.pk_complete) and (r.ck_prefix or r.ck_slice):
            needs_filtering = True
        if needs_filtering and not allow_filtering:
            raise InvalidRequest(REQUIRES_ALLOW_FILTERING_MESSAGE)
    return r


def _compile_in(rhs, spec: ColumnSpec, compiler: TermCompiler):
    list_spec = ColumnSpec(spec.keyspace, spec.table, f"in({spec.name})", ListType(spec.cql_type))
    if isinstance(rhs, ast.BindMarker):
        return compiler.compile(rhs, list_spec)
    items = [compiler.compile(item, spec) for item in rhs]
    return lambda ctx: [i(ctx) for i in items]


def _show(term) -> str:
    if isinstance(term, ast.Literal):
        return term.text if term.kind != "string" else f"'{term.text}'"
    return "?"


def _place_clustering(r, table, ck_single, ck_multi, statement, allow_filtering) -> None:
    by_position: dict[int, tuple] = {}
    for name, items in ck_single.items():
        by_position[table.columns[name].position] = ("single", name, items)
    for names, op, evaluator in ck_multi:
        start = table.columns[names[0]].position
        existing = by_position.get(start)
        if existing is not None and existing[0] == "multi" and existing[1] == names:
            existing[2].append((op, evaluator))
            continue
        if start in by_position:
            raise InvalidRequest(
                f'Column "{names[0]}" cannot be restricted by both a multi-column and a single-column relation'
            )
        by_position[start] = ("multi", names, [(op, evaluator)])
    position = 0
    clustering = table.clustering
    stopped_by: str | None = None
    while position < len(clustering):
        entry = by_position.pop(position, None)
        if entry is None:
            stopped_by = clustering[position].name
            break
        kind, names, items = entry
        ops = {op for op, _ in items}
        if kind == "single":
            if ops & {"=", "IN"}:
                op, evaluator = items[0]
                r.ck_prefix.append(("EQ" if op == "=" else "IN", evaluator))
                position += 1
                continue
            r.ck_slice_start = position
            _check_slice_ops(items, names)
            for op, evaluator in items:
                r.ck_slice.append((op, 1, evaluator))
            position += 1
            break
        width = len(names)
        op, evaluator = items[0]
        if op in ("=", "IN"):
            r.ck_prefix.append(("MEQ" if op == "=" else "MIN", (width, evaluator)))
            position += width
            continue
        r.ck_slice_start = position
        _check_slice_ops(items, names[0])
        for op, evaluator in items:
            r.ck_slice.append((op, width, evaluator))
        position += width
        break
    if by_position:
        if statement == "SELECT" and allow_filtering:
            for entry in by_position.values():
                kind, names, items = entry
                for op, evaluator in items:
                    if kind == "single":
                        r.filters.append(ColumnFilter(names, op, evaluator, CLUSTERING))
                    else:
                        r.filters.append(ColumnFilter(",".join(names), op, evaluator, "multi"))
            return
        first = min(by_position)
        restricted = clustering[first].name
        if stopped_by is not None:
            raise InvalidRequest(
                f'PRIMARY KEY column "{restricted}" cannot be restricted as preceding column "{stopped_by}" is not restricted'
            )
        previous = clustering[first - 1].name
        raise InvalidRequest(
            f'Clustering column "{restricted}" cannot be restricted (preceding column "{previous}" is restricted by a non-EQ relation)'
        )


def _check_slice_ops(items, name: str) -> None:
    lower = [op for op, _ in items if op in (">", ">=")]
    upper = [op for op, _ in items if op in ("<", "<=")]
    if len(lower) > 1:
        raise InvalidRequest(f"More than one restriction was found for the start bound on {name}")
    if len(upper) > 1:
        raise InvalidRequest(f"More than one restriction was found for the end bound on {name}")
