"""SELECT: selection, Cassandra's ordering and limit rules, paging, aggregates.

``compile_select`` checks a SELECT against the table (selectors, ORDER BY,
GROUP BY, DISTINCT, limits) and returns a ``SelectPlan``; ``run_select``
reads the partitions the restrictions name (point reads or a token-ordered
scan), filters, pages and shapes the rows. Never writes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from stores.wide.cql import ast
from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.functions import AGGREGATES, cast_value, make_aggregate, resolve_function
from stores.wide.cql.json_values import dumps, to_json_value
from stores.wide.cql.keys import decode_clustering, decode_partition_key, invert
from stores.wide.cql.point_read import PointRead, compile_point_read
from stores.wide.cql.restrictions import ColumnFilter, Restrictions, compile_where
from stores.wide.cql.results import UNSET, ColumnSpec, PagingState, Rows
from stores.wide.cql.rows import row_values
from stores.wide.cql.schema import CLUSTERING, PARTITION_KEY, STATIC, TableInfo, quote_name
from stores.wide.cql.terms import ExecContext, TermCompiler, positive_int
from stores.wide.cql.types import BIGINT, INT, TEXT, ListType, MapType, SetType
from stores.wide.storage import Bound, Slice, TokenBound, token

DEFAULT_PAGE_SIZE = 5000


@dataclass
class RowView:
    """One candidate result row: column values plus the raw cells and token."""

    values: dict
    row: object
    static_row: object
    token: int
    partition_key: bytes
    clustering: bytes | None


@dataclass
class OutputColumn:
    spec: ColumnSpec
    evaluate: Callable | None
    aggregate: tuple | None = None  # (name, argument evaluator, arg type)


@dataclass
class SelectPlan:
    table: TableInfo
    restrictions: Restrictions
    columns: list[OutputColumn]
    is_aggregate: bool = False
    group_by: list[str] = field(default_factory=list)
    reverse: bool = False
    limit: Callable | None = None
    # True when LIMIT is a literal (its value is the same at every execution).
    limit_is_literal: bool = False
    per_partition_limit: Callable | None = None
    distinct: bool = False
    json: bool = False
    order_by: bool = False
    needed: object = None
    getters: list | None = None
    decode_clustering: Callable | None = None
    # The first page of a one-partition read of plain columns (point_read).
    point: PointRead | None = None

    @property
    def result_columns(self) -> list[ColumnSpec]:
        if self.json:
            return [ColumnSpec(self.table.keyspace, self.table.name, "[json]", TEXT)]
        return [c.spec for c in self.columns]


def compile_select(stmt: ast.Select, table: TableInfo, compiler: TermCompiler) -> SelectPlan:
    """Return the plan of a SELECT, raising Cassandra's errors for invalid ones."""
    restrictions = compile_where(
        table, stmt.where, compiler, statement="SELECT", allow_filtering=stmt.allow_filtering
    )
    plan = SelectPlan(table, restrictions, [])
    plan.distinct = stmt.distinct
    plan.json = stmt.json
    if stmt.selectors is None:
        for column in table.select_order():
            name = column.name
            plan.columns.append(
                OutputColumn(
                    ColumnSpec(table.keyspace, table.name, name, column.cql_type),
                    _column_getter(name),
                )
            )
    else:
        for selector in stmt.selectors:
            plan.columns.append(_compile_selector(selector, table, compiler))
    plan.is_aggregate = any(c.aggregate for c in plan.columns)
    plan.needed = _needed_columns(stmt, table, restrictions)
    if stmt.distinct:
        _check_distinct(plan, table, stmt)
    _compile_group_by(plan, stmt, table)
    _compile_order(plan, stmt, table)
    if stmt.limit is not None:
        plan.limit = compiler.compile(
            stmt.limit, ColumnSpec(table.keyspace, table.name, "[limit]", INT)
        )
        plan.limit_is_literal = isinstance(stmt.limit, ast.Literal)
    if stmt.per_partition_limit is not None:
        if stmt.distinct:
            raise InvalidRequest("PER PARTITION LIMIT is not allowed with SELECT DISTINCT queries")
        plan.per_partition_limit = compiler.compile(
            stmt.per_partition_limit,
            ColumnSpec(table.keyspace, table.name, "[per_partition_limit]", INT),
        )
    if (
        restrictions.has_ck_restrictions
        and table.static
        and all(c.aggregate is None and _only_static(c, table) for c in plan.columns)
        and stmt.selectors is not None
    ):
        raise InvalidRequest(
            "Cannot restrict clustering columns when selecting only static columns"
        )
    plan.getters = _direct_getters(plan, table)
    plan.decode_clustering = _clustering_decoder(table)
    plan.point = compile_point_read(plan)
    return plan


def _referenced(expr, out: set) -> None:
    if isinstance(expr, ast.ColumnRef):
        out.add(expr.name)
    elif isinstance(expr, ast.FunctionCall):
        for arg in expr.args:
            _referenced(arg, out)
    elif isinstance(expr, ast.Cast):
        _referenced(expr.expr, out)


def _needed_columns(stmt: ast.Select, table: TableInfo, restrictions: Restrictions):
    """Return the non-key columns a SELECT must decode, or None for all of them."""
    if stmt.selectors is None or stmt.json:
        return None
    names: set[str] = set()
    for selector in stmt.selectors:
        _referenced(selector.expr, names)
    for f in restrictions.filters:
        names.update(f.column.split(","))
    return frozenset(names)


def _direct_getters(plan: SelectPlan, table: TableInfo) -> list | None:
    """Return per-column value getters for plain column selections, or None.

    They read a result value straight from the storage row, skipping the
    per-row dict of every column (the hot path of simple SELECTs).
    """
    if plan.is_aggregate or plan.json or plan.distinct:
        return None
    getters = []
    for column in plan.columns:
        name = getattr(column.evaluate, "column_name", None)
        if name is None:
            return None
        info = table.columns[name]
        if info.kind == PARTITION_KEY:
            getters.append(lambda pk, ck, row, static, i=info.position: pk[i])
        elif info.kind == CLUSTERING:
            getters.append(
                lambda pk, ck, row, static, i=info.position: ck[i] if i < len(ck) else None
            )
        elif info.cql_type.multicell:
            return None
        else:
            use_static = info.kind == STATIC
            deserialize = info.cql_type.deserialize

            def get(pk, ck, row, static, name=name, use_static=use_static, deserialize=deserialize):
                source = static if use_static else row
                if source is None:
                    return None
                cell = source.cells.get(name)
                return None if cell is None else deserialize(cell.value)

            getters.append(get)
    return getters


def _only_static(column: OutputColumn, table: TableInfo) -> bool:
    source = getattr(column.evaluate, "column_name", None)
    return source is not None and table.columns[source].kind in (STATIC, PARTITION_KEY)


def _column_getter(name: str) -> Callable:
    def get(view: RowView):
        return view.values[name]

    get.column_name = name
    return get


def _compile_selector(
    selector: ast.Selector, table: TableInfo, compiler: TermCompiler
) -> OutputColumn:
    expr = selector.expr
    out = _selector_expr(expr, table, compiler)
    if selector.alias:
        out.spec = ColumnSpec(out.spec.keyspace, out.spec.table, selector.alias, out.spec.cql_type)
    return out


def _spec(table: TableInfo, name: str, cql_type) -> ColumnSpec:
    return ColumnSpec(table.keyspace, table.name, name, cql_type)


def _selector_expr(expr, table: TableInfo, compiler: TermCompiler) -> OutputColumn:
    if isinstance(expr, ast.ColumnRef):
        column = table.column(expr.name)
        return OutputColumn(_spec(table, column.name, column.cql_type), _column_getter(column.name))
    if isinstance(expr, ast.CountStar):
        return OutputColumn(_spec(table, "count", BIGINT), None, ("count", lambda view: 1, None))
    if isinstance(expr, ast.Cast):
        inner = _selector_expr(expr.expr, table, compiler)
        if inner.aggregate:
            raise InvalidRequest("Aggregates cannot be cast")
        source = inner.spec.cql_type
        target = expr.target
        evaluate = inner.evaluate
        name = f"cast({inner.spec.name} as {target.cql()})"
        return OutputColumn(
            _spec(table, name, target), lambda view: cast_value(evaluate(view), source, target)
        )
    if isinstance(expr, ast.FunctionCall):
        name = expr.name
        if name in ("writetime", "ttl", "maxwritetime"):
            if len(expr.args) != 1 or not isinstance(expr.args[0], ast.ColumnRef):
                raise InvalidRequest(
                    f"Invalid call to {name}: a single column argument is required"
                )
            column = table.column(expr.args[0].name)
            label = (
                "writeTime"
                if name == "writetime"
                else ("maxWriteTime" if name == "maxwritetime" else "ttl")
            )
            if column.is_primary_key:
                raise InvalidRequest(
                    f"Cannot use selection function {label} on PRIMARY KEY part {column.name}"
                )
            if column.cql_type.multicell:
                return _collection_times(name, column, table)
            if column.cql_type.is_counter:
                raise InvalidRequest(
                    f"Cannot use selection function {label} on counter column {column.name}"
                )
            static = column.kind == STATIC
            col = column.name
            if name == "ttl":

                def ttl(view: RowView, col=col, static=static):
                    source = view.static_row if static else view.row
                    cell = source.cells.get(col) if source is not None else None
                    if cell is None or not cell.ttl:
                        return None
                    return max(0, cell.local_deletion_time - view.values["__now__"])

                return OutputColumn(_spec(table, f"ttl({col})", INT), ttl)

            def writetime(view: RowView, col=col, static=static):
                source = view.static_row if static else view.row
                cell = source.cells.get(col) if source is not None else None
                return None if cell is None else cell.timestamp

            return OutputColumn(_spec(table, f"{name}({col})", BIGINT), writetime)
        if name == "token":
            names = [a.name if isinstance(a, ast.ColumnRef) else None for a in expr.args]
            if names != [c.name for c in table.partition_key]:
                raise InvalidRequest(
                    f"Invalid arguments for token(): expected the partition key columns ({', '.join(c.name for c in table.partition_key)})"
                )
            return OutputColumn(
                _spec(table, f"system.token({', '.join(names)})", BIGINT), lambda view: view.token
            )
        if name in AGGREGATES:
            if len(expr.args) != 1:
                raise InvalidRequest(
                    f"Invalid number of arguments in call to function {name}: 1 required but {len(expr.args)} provided"
                )
            inner = _selector_expr(expr.args[0], table, compiler)
            if inner.aggregate:
                raise InvalidRequest(
                    "aggregate functions cannot be used as arguments of aggregate functions"
                )
            aggregate = make_aggregate(name, inner.spec.cql_type)
            label = f"system.{name}({inner.spec.name})"
            return OutputColumn(
                _spec(table, label, aggregate.return_type),
                None,
                (name, inner.evaluate, inner.spec.cql_type),
            )
        literal_kinds = (ast.Literal, ast.BindMarker, ast.CollectionLiteral, ast.TupleLiteral)
        args = [
            None if isinstance(a, literal_kinds) else _selector_expr(a, table, compiler)
            for a in expr.args
        ]
        if any(a is not None and a.aggregate for a in args):
            raise InvalidRequest("Aggregates are not supported as scalar function arguments")
        function = resolve_function(name, [None if a is None else a.spec.cql_type for a in args])
        evaluators = []
        names = []
        for raw, arg, arg_type in zip(expr.args, args, function.arg_types, strict=True):
            if arg is None:
                term = compiler.compile(raw, _spec(table, f"arg({function.name})", arg_type))
                evaluators.append(lambda view, term=term: term(view.values["__ctx__"]))
                names.append(raw.text if isinstance(raw, ast.Literal) else "?")
            else:
                evaluators.append(arg.evaluate)
                names.append(arg.spec.name)
        label = f"system.{function.name}({', '.join(names)})"
        return OutputColumn(
            _spec(table, label, function.return_type),
            lambda view: function.call([e(view) for e in evaluators]),
        )
    if isinstance(
        expr, ast.Literal | ast.BindMarker | ast.CollectionLiteral | ast.TupleLiteral | ast.TypeHint
    ):
        if isinstance(expr, ast.TypeHint):
            evaluator = compiler.compile(expr.term, _spec(table, "literal", expr.target))
            cql_type = expr.target
        elif isinstance(expr, ast.Literal) and expr.kind in (
            "string",
            "integer",
            "float",
            "boolean",
            "uuid",
            "hex",
            "duration",
        ):
            from stores.wide.cql.types import SIMPLE_TYPES

            cql_type = {
                "string": TEXT,
                "integer": INT,
                "float": SIMPLE_TYPES["double"],
                "boolean": SIMPLE_TYPES["boolean"],
                "uuid": SIMPLE_TYPES["uuid"],
                "hex": SIMPLE_TYPES["blob"],
                "duration": SIMPLE_TYPES["duration"],
            }[expr.kind]
            evaluator = compiler.compile(expr, _spec(table, expr.text, cql_type))
        else:
            raise InvalidRequest("Cannot infer type of selection term; use a type hint")
        label = expr.text if isinstance(expr, ast.Literal) else "literal"
        return OutputColumn(
            _spec(table, label, cql_type), lambda view: evaluator(view.values["__ctx__"])
        )
    raise InvalidRequest("Unsupported selector")


def _collection_times(name: str, column, table: TableInfo) -> OutputColumn:
    """Return writetime()/maxwritetime()/ttl() of a non-frozen collection, as Cassandra 5 does.

    writetime and ttl give one value per element (a list); maxwritetime the
    latest element timestamp.
    """
    col = column.name
    static = column.kind == STATIC

    def items(view: RowView) -> list:
        source = view.static_row if static else view.row
        return [] if source is None else source.complex_cells.get(col, [])

    if name == "maxwritetime":

        def latest(view: RowView):
            stamps = [cell.timestamp for _, cell in items(view)]
            return max(stamps) if stamps else None

        return OutputColumn(_spec(table, f"maxwritetime({col})", BIGINT), latest)
    if name == "writetime":
        return OutputColumn(
            _spec(table, f"writetime({col})", ListType(BIGINT, frozen=True)),
            lambda view: [cell.timestamp for _, cell in items(view)] or None,
        )

    def ttls(view: RowView):
        # Collections cannot hold nulls on the wire: elements without a TTL
        # report 0, and a collection with no expiring element reports null.
        now = view.values["__now__"]
        cells = [cell for _, cell in items(view)]
        if not any(cell.ttl for cell in cells):
            return None
        return [max(0, cell.local_deletion_time - now) if cell.ttl else 0 for cell in cells]

    return OutputColumn(_spec(table, f"ttl({col})", ListType(INT, frozen=True)), ttls)


def _check_distinct(plan: SelectPlan, table: TableInfo, stmt: ast.Select) -> None:
    # Cassandra checks every column the selection reads, wherever it appears
    # (so token(pk) or a function of a static column is fine), in order.
    if stmt.selectors is None:
        selected = [column.name for column in table.columns.values()]
    else:
        selected = []
        for selector in stmt.selectors:
            _columns_read(selector.expr, selected)
    for name in selected:
        kind = table.columns[name].kind if name in table.columns else None
        if kind not in (PARTITION_KEY, STATIC):
            raise InvalidRequest(
                f"SELECT DISTINCT queries must only request partition key columns and/or static columns (not {name})"
            )
    missing = [c.name for c in table.partition_key if c.name not in selected]
    # Only a scan over partitions needs them all (to tell partitions apart).
    if missing and selected and not plan.restrictions.pk_complete:
        raise InvalidRequest(
            f"SELECT DISTINCT queries must request all the partition key columns (missing {', '.join(missing)})"
        )
    if plan.restrictions.has_ck_restrictions:
        raise InvalidRequest(
            "SELECT DISTINCT with WHERE clause only supports restriction by partition key and/or static columns."
        )


def _columns_read(node, out: list[str]) -> None:
    """Append the names of the columns an AST selector expression reads."""
    if isinstance(node, ast.ColumnRef):
        if node.name not in out:
            out.append(node.name)
    elif isinstance(node, tuple | list):
        for item in node:
            _columns_read(item, out)
    elif hasattr(node, "__dataclass_fields__"):
        for name in node.__dataclass_fields__:
            _columns_read(getattr(node, name), out)


def _compile_group_by(plan: SelectPlan, stmt: ast.Select, table: TableInfo) -> None:
    if not stmt.group_by:
        return
    primary = [c.name for c in table.partition_key + table.clustering]
    for name in stmt.group_by:
        table.column(name)
    if list(stmt.group_by) != primary[: len(stmt.group_by)]:
        raise InvalidRequest(
            "Group by currently only support groups of columns following their declared order in the PRIMARY KEY"
        )
    if len(stmt.group_by) < len(table.partition_key):
        raise InvalidRequest("Group by is not supported on only a part of the partition key")
    plan.group_by = list(stmt.group_by)
    plan.is_aggregate = True


def _compile_order(plan: SelectPlan, stmt: ast.Select, table: TableInfo) -> None:
    if not stmt.order_by:
        return
    r = plan.restrictions
    if not r.pk_complete:
        raise InvalidRequest(
            "ORDER BY is only supported when the partition key is restricted by an EQ or an IN."
        )
    reversed_flags = []
    for i, (name, desc) in enumerate(stmt.order_by):
        column = table.column(name)
        if column.kind != CLUSTERING:
            raise InvalidRequest(
                f"Order by is currently only supported on the clustered columns of the PRIMARY KEY, got {name}"
            )
        if column.position != i:
            raise InvalidRequest(
                "Order by currently only supports the ordering of columns following their declared order in the PRIMARY KEY"
            )
        reversed_flags.append(desc != column.descending)
    if len(set(reversed_flags)) > 1:
        raise InvalidRequest("Unsupported order by relation")
    plan.reverse = reversed_flags[0]
    plan.order_by = True


# Execution -------------------------------------------------------------------


class _Filter:
    """Evaluate the row filters of a plan for one execution."""

    def __init__(self, filters: list[ColumnFilter], table: TableInfo, ctx: ExecContext):
        self.checks = []
        for f in filters:
            value = f.value(ctx)
            if value is UNSET:
                continue
            if f.kind == "multi":
                names = f.column.split(",")
                columns = [table.columns[n] for n in names]
                self.checks.append((names, f.op, value, columns))
            else:
                column = table.columns[f.column]
                self.checks.append((f.column, f.op, value, column))

    def __bool__(self) -> bool:
        return bool(self.checks)

    def matches(self, values: dict) -> bool:
        for name, op, expected, column in self.checks:
            if isinstance(name, list):
                actual = tuple(values[n] for n in name)
                if any(a is None for a in actual):
                    return False
                keys_a = b"".join(
                    c.cql_type.encode_key(v) for c, v in zip(column, actual, strict=True)
                )
                keys_e = b"".join(
                    c.cql_type.encode_key(v) for c, v in zip(column, expected, strict=False)
                )
                if not _compare(op, keys_a, keys_e):
                    return False
                continue
            actual = values[name]
            if op == "CONTAINS":
                if actual is None:
                    return False
                haystack = actual.values() if isinstance(column.cql_type, MapType) else actual
                if expected not in list(haystack):
                    return False
                continue
            if op == "CONTAINS_KEY":
                if actual is None or expected not in actual:
                    return False
                continue
            if actual is None:
                return False
            if op == "IN":
                if not any(actual == e for e in expected):
                    return False
                continue
            if op == "=" and isinstance(column.cql_type, ListType | SetType | MapType):
                if actual != expected:
                    return False
                continue
            if expected is None:
                return False
            key = column.cql_type.sort_key
            if not _compare(op, key(actual), key(expected)):
                return False
        return True


def _compare(op: str, a, b) -> bool:
    if op == "=":
        return a == b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "!=":
        return a != b
    return False


def run_select(
    plan: SelectPlan, engine, ctx: ExecContext, page_size: int | None, paging_state: bytes | None
) -> Rows:
    """Execute a plan and return one page of rows."""
    if plan.point is not None and paging_state is None:
        page = plan.point.page(engine, ctx, page_size)
        if page is not None:
            return page
    return run_select_general(plan, engine, ctx, page_size, paging_state)


def run_select_general(
    plan: SelectPlan, engine, ctx: ExecContext, page_size: int | None, paging_state: bytes | None
) -> Rows:
    """Execute a plan without the point-read path (its reference behaviour)."""
    limit = positive_int(plan.limit, ctx, "limit")
    per_partition = positive_int(plan.per_partition_limit, ctx, "per partition limit")
    row_filter = _Filter(plan.restrictions.filters, plan.table, ctx)
    now_seconds = ctx.now_micros // 1_000_000
    unpaged = plan.is_aggregate or (plan.order_by and plan.restrictions.pk_in)
    if plan.order_by and plan.restrictions.pk_in and page_size and not plan.is_aggregate:
        if len(plan.restrictions.partition_keys(ctx)) > 1:
            raise InvalidRequest(
                "Cannot page queries with both ORDER BY and a IN restriction on the partition key; you must either "
                "remove the ORDER BY or the IN and sort client side, or disable paging for this query"
            )
    state = PagingState.decode(paging_state) if paging_state else None
    if unpaged:
        state = None
    read_limit = None
    if not row_filter and not plan.distinct and not unpaged:
        bounds = [b for b in (limit, per_partition, (page_size + 1) if page_size else None) if b]
        if state is not None and limit is not None:
            bounds = [
                b
                for b in (state.remaining, per_partition, (page_size + 1) if page_size else None)
                if b and b > 0
            ]
        if bounds and state is None:
            read_limit = min(bounds)
    views = _iter_views(
        plan, engine, ctx, row_filter, per_partition, state, now_seconds, read_limit
    )
    if plan.order_by and plan.restrictions.pk_in:
        collected = list(views)
        collected.sort(key=lambda v: v[0].clustering or b"", reverse=plan.reverse)
        views = iter(collected)
    if plan.is_aggregate:
        rows = _aggregate(plan, (v for v, _ in views), ctx)
        if limit is not None:
            rows = rows[:limit]
        return Rows(plan.result_columns, rows)
    remaining = (
        limit
        if limit is not None
        else (state.remaining if state and state.remaining >= 0 else None)
    )
    if state is not None and limit is not None:
        remaining = state.remaining
    out = []
    last = None
    more = False
    if remaining is not None and remaining <= 0:
        views = iter(())
    for view, partition_count in views:
        if page_size and len(out) >= page_size and not unpaged:
            more = True
            break
        view.values["__now__"] = now_seconds
        view.values["__ctx__"] = ctx
        out.append(_shape(plan, view))
        last = (view, partition_count)
        if remaining is not None:
            remaining -= 1
            if remaining <= 0:
                break
    paging = None
    if more and last is not None:
        view, partition_count = last
        paging = PagingState(
            view.partition_key,
            view.clustering,
            -1 if remaining is None else remaining,
            partition_count,
            1 if view.clustering is None else 0,
        ).encode()
    return Rows(plan.result_columns, out, paging)


def _clustering_decoder(table: TableInfo):
    """Return a function decoding a clustering key to its tuple of values."""
    if not table.clustering:
        return lambda data: ()
    if len(table.clustering) == 1:
        column = table.clustering[0]
        decode_key = column.cql_type.decode_key
        if column.descending:
            return lambda data: (decode_key(invert(data), 0)[0],)
        return lambda data: (decode_key(data, 0)[0],)
    types, desc = table.ck_types, table.ck_desc
    return lambda data: decode_clustering(types, desc, data)


def _shape(plan: SelectPlan, view: RowView) -> tuple:
    row = view.values.get("__row__")
    if row is not None:
        return row
    if plan.json:
        data = {}
        for column in plan.columns:
            data[
                quote_name(column.spec.name)
                if column.spec.name != column.spec.name.lower()
                else column.spec.name
            ] = to_json_value(column.spec.cql_type, column.evaluate(view))
        return (dumps(data),)
    return tuple(c.evaluate(view) for c in plan.columns)


def _sorted_keys(keys: list[bytes]) -> list[bytes]:
    if len(keys) < 2:
        return keys
    return sorted(keys, key=lambda k: (token(k), k))


def _iter_partitions(
    plan: SelectPlan,
    engine,
    ctx: ExecContext,
    state: PagingState | None,
    read_limit: int | None = None,
):
    """Yield (PartitionResult, resume clustering or None) in result order."""
    table = plan.table
    r = plan.restrictions
    slices = r.slices(ctx)
    ks, name = table.keyspace, table.name
    if r.pk_complete:
        keys = _sorted_keys(r.partition_keys(ctx))
        start_index = 0
        resume = None
        if state is not None:
            if state.partition_key in keys:
                start_index = keys.index(state.partition_key)
                if state.partition_index == 1:
                    start_index += 1
                else:
                    resume = state.clustering
        for i, key in enumerate(keys[start_index:]):
            part_resume = resume if i == 0 else None
            read_slices = slices
            if part_resume is not None and slices is None:
                read_slices = (
                    [Slice(None, Bound(part_resume, False))]
                    if plan.reverse
                    else [Slice(Bound(part_resume, False), None)]
                )
            result = engine.read(
                ks,
                name,
                key,
                slices=read_slices,
                reverse=plan.reverse,
                limit=read_limit if len(keys) == 1 else None,
                trace=ctx.trace,
            )
            if result is not None:
                yield result, part_resume
        return
    start, end = r.token_range(ctx)
    if state is not None:
        pk = state.partition_key
        if state.partition_index == 0 and state.clustering is not None:
            read_slices = slices or [Slice(Bound(state.clustering, False), None)]
            result = engine.read(ks, name, pk, slices=read_slices, trace=ctx.trace)
            if result is not None:
                yield result, state.clustering
        start = TokenBound(token(pk), pk, False)
    yield from (
        (p, None) for p in engine.scan(ks, name, start, end, slices=slices, trace=ctx.trace)
    )


def _iter_views(
    plan, engine, ctx, row_filter, per_partition, state, now_seconds, read_limit=None
) -> Iterator[tuple[RowView, int]]:
    table = plan.table
    r = plan.restrictions
    has_ck_restrictions = bool(r.ck_prefix or r.ck_slice) or any(
        f.kind in (CLUSTERING, "multi") for f in r.filters
    )
    regular_filter = any(f.kind not in (PARTITION_KEY, STATIC) for f in r.filters)
    needed = plan.needed
    getters = plan.getters if not row_filter else None
    ck_types, ck_desc = table.ck_types, table.ck_desc
    for result, resume in _iter_partitions(plan, engine, ctx, state, read_limit):
        if table.dropped:
            table.purge_dropped(result.static_row)
            for row in result.rows:
                table.purge_dropped(row)
        pk_values = decode_partition_key(table.pk_types, result.partition_key)
        count = state.partition_remaining if (state is not None and resume is not None) else 0
        if plan.distinct:
            if result.rows or result.static_row is not None:
                values = row_values(table, pk_values, None, None, result.static_row)
                if not row_filter or row_filter.matches(values):
                    yield (
                        RowView(
                            values,
                            None,
                            result.static_row,
                            result.token,
                            result.partition_key,
                            None,
                        ),
                        1,
                    )
            continue
        if not result.rows:
            if (
                result.static_row is not None
                and not has_ck_restrictions
                and not regular_filter
                and resume is None
            ):
                values = row_values(table, pk_values, None, None, result.static_row)
                if not row_filter or row_filter.matches(values):
                    yield (
                        RowView(
                            values,
                            None,
                            result.static_row,
                            result.token,
                            result.partition_key,
                            None,
                        ),
                        1,
                    )
            continue
        for row in result.rows:
            if resume is not None:
                if (row.clustering <= resume) if not plan.reverse else (row.clustering >= resume):
                    continue
            if per_partition is not None and count >= per_partition:
                break
            if getters is not None:
                ck_values = decode_clustering(ck_types, ck_desc, row.clustering) if ck_types else ()
                values = {
                    "__row__": tuple(
                        g(pk_values, ck_values, row, result.static_row) for g in getters
                    )
                }
            else:
                values = row_values(
                    table, pk_values, row.clustering, row, result.static_row, needed
                )
                if row_filter and not row_filter.matches(values):
                    continue
            count += 1
            yield (
                RowView(
                    values,
                    row,
                    result.static_row,
                    result.token,
                    result.partition_key,
                    row.clustering,
                ),
                count,
            )


def _aggregate(plan: SelectPlan, views: Iterator[RowView], ctx: ExecContext) -> list[tuple]:
    now_seconds = ctx.now_micros // 1_000_000
    group_names = plan.group_by
    out = []

    def fresh():
        return [
            make_aggregate(c.aggregate[0], c.aggregate[2]) if c.aggregate else None
            for c in plan.columns
        ]

    def finish(first: RowView | None, accumulators):
        row = []
        for column, accumulator in zip(plan.columns, accumulators, strict=True):
            if accumulator is not None:
                row.append(accumulator.result())
            else:
                row.append(column.evaluate(first) if first is not None else None)
        return tuple(row)

    if not group_names:
        accumulators = fresh()
        first = None
        for view in views:
            view.values["__now__"] = now_seconds
            view.values["__ctx__"] = ctx
            if first is None:
                first = view
            for column, accumulator in zip(plan.columns, accumulators, strict=True):
                if accumulator is not None:
                    accumulator.add(column.aggregate[1](view))
        return [finish(first, accumulators)]
    for _, group in itertools.groupby(
        views, key=lambda v: tuple(_group_key(v, n) for n in group_names)
    ):
        accumulators = fresh()
        first = None
        for view in group:
            view.values["__now__"] = now_seconds
            view.values["__ctx__"] = ctx
            if first is None:
                first = view
            for column, accumulator in zip(plan.columns, accumulators, strict=True):
                if accumulator is not None:
                    accumulator.add(column.aggregate[1](view))
        out.append(finish(first, accumulators))
    return out


def _group_key(view: RowView, name: str):
    value = view.values[name]
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)
