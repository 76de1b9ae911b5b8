"""INSERT, UPDATE and DELETE: Cassandra's rules, then mutations for storage.

Each statement is compiled once (``compile_insert`` / ``compile_update`` /
``compile_delete``) into a ``Modification`` whose ``mutations(ctx)`` builds
the storage ``Mutation`` objects for one execution. Operations that must
read first (counters, list element set/remove, lightweight transactions) do
so through the executor, which serializes them. Never reads rows for plain
writes: appends and overwrites do not read before writing.
"""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass, field

from stores.wide.cql import ast
from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.json_values import from_json
from stores.wide.cql.keys import encode_clustering, encode_partition_key, invert
from stores.wide.cql.restrictions import Restrictions, compile_where
from stores.wide.cql.results import UNSET, ColumnSpec
from stores.wide.cql.rows import (
    WriteParams,
    add_elements,
    check_ttl,
    remove_elements,
    set_column,
)
from stores.wide.cql.schema import (
    PARTITION_KEY,
    STATIC,
    ColumnInfo,
    TableInfo,
    quote_name,
)
from stores.wide.cql.terms import ExecContext, TermCompiler, receiver
from stores.wide.cql.types import BIGINT, INT, TEXT, ListType, MapType, SetType
from stores.wide.storage import (
    NO_DELETION,
    Bound,
    Cell,
    DeletionTime,
    LivenessInfo,
    Mutation,
    RangeTombstone,
    RowUpdate,
    Slice,
)
from stores.wide.storage import STATIC as STATIC_ROW


@dataclass
class Operation:
    """One column change: op is set, add, prepend, remove, set_element, delete, delete_element."""

    column: ColumnInfo
    op: str
    value: object = None
    key: object = None


@dataclass
class ConditionCheck:
    column: ColumnInfo
    op: str
    value: object
    key: object = None


@dataclass
class Modification:
    """A compiled INSERT, UPDATE or DELETE."""

    kind: str
    table: TableInfo
    restrictions: Restrictions | None
    operations: list[Operation] = field(default_factory=list)
    insert_values: dict | None = None
    json_value: object = None
    json_default_unset: bool = False
    ttl: object = None
    timestamp: object = None
    if_not_exists: bool = False
    if_exists: bool = False
    conditions: list[ConditionCheck] = field(default_factory=list)
    fast_insert: tuple | None = None
    delete_row: bool = False
    needs_read: bool = False

    @property
    def default_ttl(self) -> int:
        return self.table.options.get("default_time_to_live", 0) or 0

    @property
    def is_conditional(self) -> bool:
        return self.if_not_exists or self.if_exists or bool(self.conditions)

    @property
    def is_counter(self) -> bool:
        return self.table.is_counter

    def write_params(self, ctx: ExecContext) -> WriteParams:
        extra = ctx.extra
        if self.timestamp is None and self.ttl is None and not extra:
            return WriteParams(ctx.now_micros, self.default_ttl, ctx.now_micros // 1_000_000)
        ts = extra.get("batch_timestamp")
        if self.timestamp is not None:
            ts = self.timestamp(ctx)
            if ts is None:
                raise InvalidRequest("Invalid null value of timestamp")
            if ts is UNSET:
                ts = None
        if ts is None:
            ts = ctx.extra.get("default_timestamp") or ctx.now_micros
        ttl = self.table.options.get("default_time_to_live", 0) or 0
        if self.ttl is not None:
            value = self.ttl(ctx)
            if value is None:
                raise InvalidRequest("Invalid null value of TTL")
            if value is not UNSET:
                ttl = value
        return WriteParams(ts, check_ttl(ttl), ctx.now_micros // 1_000_000)


def resolve_keyspace(name: ast.TableName, keyspace: str | None) -> str:
    """Return the statement's keyspace or raise Cassandra's 'No keyspace' error."""
    if name.keyspace:
        return name.keyspace
    if not keyspace:
        raise InvalidRequest(
            "No keyspace has been specified. USE a keyspace, or explicitly specify keyspace.tablename"
        )
    return keyspace


def _check_not_virtual(table: TableInfo, verb: str) -> None:
    if table.virtual:
        raise InvalidRequest(f"{table.keyspace} keyspace is not user-modifiable.")


def _using(
    stmt, mod: Modification, compiler: TermCompiler, table: TableInfo, allow_ttl: bool = True
) -> None:
    using = stmt.using
    if using.ttl is not None:
        if not allow_ttl:
            raise InvalidRequest("Cannot provide custom TTL for this statement")
        if table.is_counter:
            raise InvalidRequest("Cannot provide custom TTL for counter updates")
        mod.ttl = compiler.compile(using.ttl, ColumnSpec(table.keyspace, table.name, "[ttl]", INT))
    if using.timestamp is not None:
        if table.is_counter:
            raise InvalidRequest("Cannot provide custom timestamp for counter updates")
        mod.timestamp = compiler.compile(
            using.timestamp, ColumnSpec(table.keyspace, table.name, "[timestamp]", BIGINT)
        )


def _conditions(stmt, mod: Modification, compiler: TermCompiler, table: TableInfo) -> None:
    for cond in stmt.conditions:
        column = table.column(cond.column)
        if column.is_primary_key:
            raise InvalidRequest(f"PRIMARY KEY column '{column.name}' cannot have IF conditions")
        if column.cql_type.is_counter:
            raise InvalidRequest("Conditions on counters are not supported")
        key = None
        spec = receiver(table, column)
        if cond.key is not None:
            cql_type = column.cql_type
            if isinstance(cql_type, MapType):
                key = compiler.compile(
                    cond.key,
                    ColumnSpec(table.keyspace, table.name, f"key({column.name})", cql_type.key),
                )
                spec = ColumnSpec(
                    table.keyspace, table.name, f"value({column.name})", cql_type.value
                )
            elif isinstance(cql_type, ListType):
                key = compiler.compile(
                    cond.key, ColumnSpec(table.keyspace, table.name, f"idx({column.name})", INT)
                )
                spec = ColumnSpec(
                    table.keyspace, table.name, f"value({column.name})", cql_type.element
                )
            else:
                raise InvalidRequest(
                    f"Invalid element access syntax for non-collection column {column.name}"
                )
        if cond.op == "IN":
            if isinstance(cond.value, ast.BindMarker):
                value = compiler.compile(
                    cond.value,
                    ColumnSpec(
                        spec.keyspace, spec.table, f"in({spec.name})", ListType(spec.cql_type)
                    ),
                )
            else:
                items = [compiler.compile(v, spec) for v in cond.value]
                value = lambda ctx, items=items: [i(ctx) for i in items]  # noqa: E731
        else:
            value = compiler.compile(cond.value, spec)
        mod.conditions.append(ConditionCheck(column, cond.op, value, key))


def compile_insert(stmt: ast.Insert, table: TableInfo, compiler: TermCompiler) -> Modification:
    """Return the Modification for an INSERT, checking Cassandra's rules."""
    _check_not_virtual(table, "INSERT")
    if table.is_counter:
        raise InvalidRequest(
            "INSERT statements are not allowed on counter tables, use UPDATE instead"
        )
    mod = Modification("INSERT", table, None, if_not_exists=stmt.if_not_exists)
    _using(stmt, mod, compiler, table)
    if stmt.json is not None:
        mod.json_value = compiler.compile(
            stmt.json, ColumnSpec(table.keyspace, table.name, "[json]", TEXT)
        )
        mod.json_default_unset = stmt.json_default_unset
        return mod
    if len(stmt.columns) != len(stmt.values):
        raise InvalidRequest("Unmatched column names/values")
    values = {}
    for name, term in zip(stmt.columns, stmt.values, strict=True):
        column = table.column(name)
        if name in values:
            raise InvalidRequest(f"Multiple definitions found for column {quote_name(name)}")
        values[name] = compiler.compile(term, receiver(table, column))
    _check_insert_keys(table, set(values))
    mod.insert_values = values
    mod.fast_insert = _fast_insert_plan(table, values)
    _check_conditional_timestamp(mod)
    return mod


def _check_conditional_timestamp(mod: Modification) -> None:
    if mod.is_conditional and mod.timestamp is not None:
        raise InvalidRequest("Cannot provide custom timestamp for conditional updates")


def _fast_insert_plan(table: TableInfo, values: dict):
    """Return the precomputed layout of a plain INSERT (simple columns only), or None."""
    if any(c.name not in values for c in table.clustering) or table.static:
        return None
    columns = [table.columns[n] for n in values if not table.columns[n].is_primary_key]
    if any(c.cql_type.multicell for c in columns):
        return None
    pk = [(c.name, values[c.name]) for c in table.partition_key]
    ck = [(c.name, values[c.name]) for c in table.clustering]
    cells = [(c.name, values[c.name], c.cql_type.serialize) for c in columns]
    if len(pk) == 1:
        pk_encode = table.pk_types[0].serialize
    else:
        pk_types = table.pk_types
        pk_encode = lambda *values: encode_partition_key(pk_types, values)  # noqa: E731
    if len(ck) == 1:
        column = table.clustering[0]
        encode_key = column.cql_type.encode_key
        ck_encode = (lambda v: invert(encode_key(v))) if column.descending else encode_key
    else:
        ck_types, ck_desc = table.ck_types, table.ck_desc
        ck_encode = lambda *values: encode_clustering(ck_types, ck_desc, values)  # noqa: E731
    return pk, ck, cells, pk_encode, ck_encode


def _check_insert_keys(table: TableInfo, names: set[str]) -> None:
    missing = [c.name for c in table.partition_key if c.name not in names]
    if missing:
        raise InvalidRequest(f"Some partition key parts are missing: {', '.join(missing)}")
    missing_ck = [c.name for c in table.clustering if c.name not in names]
    if missing_ck:
        only_static = all(table.columns[n].kind in (PARTITION_KEY, STATIC) for n in names)
        if not (only_static and len(missing_ck) == len(table.clustering) and table.static):
            for i, column in enumerate(table.clustering):
                if column.name not in names:
                    later = [c.name for c in table.clustering[i + 1 :] if c.name in names]
                    if later:
                        raise InvalidRequest(
                            f'PRIMARY KEY column "{later[0]}" cannot be restricted as preceding column "{column.name}" is not restricted'
                        )
                    break
            raise InvalidRequest(f"Some clustering keys are missing: {', '.join(missing_ck)}")


def compile_update(stmt: ast.Update, table: TableInfo, compiler: TermCompiler) -> Modification:
    """Return the Modification for an UPDATE, checking Cassandra's rules."""
    _check_not_virtual(table, "UPDATE")
    mod = Modification("UPDATE", table, None, if_exists=stmt.if_exists)
    _using(stmt, mod, compiler, table)
    for assignment in stmt.assignments:
        column = table.column(assignment.column)
        if column.is_primary_key:
            raise InvalidRequest(f"PRIMARY KEY part {column.name} found in SET part")
        mod.operations.append(_operation(assignment, column, table, compiler))
    mod.restrictions = compile_where(table, stmt.where, compiler, statement="UPDATE")
    _check_full_clustering(
        mod.restrictions, table, static_only=all(o.column.kind == STATIC for o in mod.operations)
    )
    _conditions(stmt, mod, compiler, table)
    _check_conditional_timestamp(mod)
    mod.needs_read = any(
        o.op in ("set_element_list", "remove_list", "counter") for o in mod.operations
    )
    return mod


def _check_full_clustering(r: Restrictions, table: TableInfo, static_only: bool) -> None:
    if r.ck_slice:
        raise InvalidRequest(
            "Slice restrictions are not supported on the clustering columns in UPDATE statements"
        )
    width = r.clustering_eq_width
    if width < len(table.clustering):
        if static_only and width == 0:
            return
        missing = [c.name for c in table.clustering[width:]]
        raise InvalidRequest(f"Some clustering keys are missing: {', '.join(missing)}")


def _operation(
    assignment: ast.Assignment, column: ColumnInfo, table: TableInfo, compiler: TermCompiler
) -> Operation:
    cql_type = column.cql_type
    spec = receiver(table, column)
    op = assignment.op
    if cql_type.is_counter:
        if op == "set":
            raise InvalidRequest(
                f"Cannot set the value of counter column {column.name} (counters can only be incremented/decremented, not set)"
            )
        if op not in ("add", "remove"):
            raise InvalidRequest(f"Invalid operation for counter column {column.name}")
        value = compiler.compile(
            assignment.value, ColumnSpec(table.keyspace, table.name, column.name, BIGINT)
        )
        return Operation(column, "counter", value, -1 if op == "remove" else 1)
    if table.is_counter:
        raise InvalidRequest("Cannot mix counter and non counter columns in the same table")
    if op == "set":
        return Operation(column, "set", compiler.compile(assignment.value, spec))
    if op in ("add", "remove", "prepend"):
        if not cql_type.multicell:
            sign = "+" if op != "remove" else "-"
            if cql_type.is_collection:
                raise InvalidRequest(
                    f"Invalid operation ({column.name} = {column.name} {sign} ?) for frozen collection column {column.name}"
                )
            raise InvalidRequest(
                f"Invalid operation ({column.name} = {column.name} {sign} ?) for non counter column {column.name}"
            )
        if op == "prepend" and not isinstance(cql_type, ListType):
            raise InvalidRequest(
                f"Invalid operation ({column.name} = ? + {column.name}) for non list column {column.name}"
            )
        if op == "remove" and isinstance(cql_type, MapType):
            spec = ColumnSpec(table.keyspace, table.name, column.name, SetType(cql_type.key))
            return Operation(column, "remove", compiler.compile(assignment.value, spec))
        if op == "remove" and isinstance(cql_type, ListType):
            return Operation(column, "remove_list", compiler.compile(assignment.value, spec))
        return Operation(column, op, compiler.compile(assignment.value, spec))
    if op == "set_element":
        if isinstance(cql_type, MapType) and cql_type.multicell:
            key = compiler.compile(
                assignment.key,
                ColumnSpec(table.keyspace, table.name, f"key({column.name})", cql_type.key),
            )
            value = compiler.compile(
                assignment.value,
                ColumnSpec(table.keyspace, table.name, f"value({column.name})", cql_type.value),
            )
            return Operation(column, "set_element", value, key)
        if isinstance(cql_type, ListType) and cql_type.multicell:
            key = compiler.compile(
                assignment.key, ColumnSpec(table.keyspace, table.name, f"idx({column.name})", INT)
            )
            value = compiler.compile(
                assignment.value,
                ColumnSpec(table.keyspace, table.name, f"value({column.name})", cql_type.element),
            )
            return Operation(column, "set_element_list", value, key)
        if isinstance(cql_type, SetType):
            raise InvalidRequest(
                f"Invalid operation ({column.name}[?] = ?) for set column {column.name}"
            )
        raise InvalidRequest(
            f"Invalid operation ({column.name}[?] = ?) for non collection column {column.name}"
        )
    raise InvalidRequest(f"Invalid operation for column {column.name}")


def compile_delete(stmt: ast.Delete, table: TableInfo, compiler: TermCompiler) -> Modification:
    """Return the Modification for a DELETE, checking Cassandra's rules."""
    _check_not_virtual(table, "DELETE")
    mod = Modification("DELETE", table, None, if_exists=stmt.if_exists)
    if stmt.using.ttl is not None:
        raise InvalidRequest("Cannot provide custom TTL for DELETE statements")
    _using(stmt, mod, compiler, table)
    for target in stmt.targets:
        column = table.column(target.column)
        if column.is_primary_key:
            raise InvalidRequest(
                f"Invalid identifier {column.name} for deletion (should not be a PRIMARY KEY part)"
            )
        if target.key is None:
            mod.operations.append(Operation(column, "delete"))
            continue
        cql_type = column.cql_type
        if isinstance(cql_type, MapType) and cql_type.multicell:
            key = compiler.compile(
                target.key,
                ColumnSpec(table.keyspace, table.name, f"key({column.name})", cql_type.key),
            )
            mod.operations.append(Operation(column, "delete_element", None, key))
        elif isinstance(cql_type, SetType) and cql_type.multicell:
            key = compiler.compile(
                target.key,
                ColumnSpec(table.keyspace, table.name, f"key({column.name})", cql_type.element),
            )
            mod.operations.append(Operation(column, "delete_element", None, key))
        elif isinstance(cql_type, ListType) and cql_type.multicell:
            key = compiler.compile(
                target.key, ColumnSpec(table.keyspace, table.name, f"idx({column.name})", INT)
            )
            mod.operations.append(Operation(column, "delete_list_index", None, key))
        else:
            raise InvalidRequest(
                f"Invalid element access syntax for non-collection column {column.name}"
            )
    mod.delete_row = not stmt.targets
    mod.restrictions = compile_where(table, stmt.where, compiler, statement="DELETE")
    r = mod.restrictions
    if stmt.targets:
        static_only = all(o.column.kind == STATIC for o in mod.operations)
        if r.ck_slice:
            raise InvalidRequest("Range deletions are not supported for specific columns")
        _check_full_clustering(r, table, static_only)
    _conditions(stmt, mod, compiler, table)
    _check_conditional_timestamp(mod)
    if mod.is_conditional and (
        r.ck_slice or (mod.delete_row and r.clustering_eq_width not in (0, len(table.clustering)))
    ):
        raise InvalidRequest(
            "DELETE statements must restrict all PRIMARY KEY columns with equality relations in order to use IF conditions"
        )
    mod.needs_read = any(o.op == "delete_list_index" for o in mod.operations)
    return mod


# Building mutations ------------------------------------------------------------


def insert_values(mod: Modification, ctx: ExecContext) -> dict:
    """Return column name -> value for one execution of an INSERT."""
    if mod.json_value is None:
        return {name: evaluator(ctx) for name, evaluator in mod.insert_values.items()}
    text = mod.json_value(ctx)
    if not isinstance(text, str):
        raise InvalidRequest("Got null for INSERT JSON values")
    try:
        data = jsonlib.loads(text)
    except ValueError as exc:
        raise InvalidRequest(f"Could not decode JSON string as a map: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidRequest("Could not decode JSON string as a map")
    out = {}
    table = mod.table
    for key, value in data.items():
        name = key[1:-1] if key.startswith('"') and key.endswith('"') else key.lower()
        if name not in table.columns:
            raise InvalidRequest(f"JSON values map contains unrecognized column: {key}")
        out[name] = from_json(table.columns[name].cql_type, value, name)
    _check_insert_keys(table, set(out))
    for column in table.columns.values():
        if column.name not in out:
            out[column.name] = UNSET if mod.json_default_unset else None
    return out


def build_fast_insert(mod: Modification, ctx: ExecContext, params: WriteParams) -> Mutation:
    """Return the mutation of a plain INSERT of simple columns (the common, hot case)."""
    table = mod.table
    pk_plan, ck_plan, cell_plan, pk_encode, ck_encode = mod.fast_insert
    pk_values = []
    for name, evaluate in pk_plan:
        value = evaluate(ctx)
        if value is None or value is UNSET:
            raise InvalidRequest(f"Invalid null value in condition for column {name}")
        pk_values.append(value)
    ck_values = []
    for name, evaluate in ck_plan:
        value = evaluate(ctx)
        if value is None or value is UNSET:
            raise InvalidRequest(f"Invalid null value in condition for column {name}")
        ck_values.append(value)
    pk = pk_encode(*pk_values)
    if not pk:
        raise InvalidRequest("Key may not be empty")
    ck = ck_encode(*ck_values) if ck_values else b""
    ts, ttl = params.timestamp, params.ttl
    cells = {}
    if ttl:
        expiry = params.now_seconds + ttl
        liveness = LivenessInfo(ts, ttl, expiry)
    else:
        expiry = NO_DELETION
        liveness = LivenessInfo(ts)
    for name, evaluate, serialize in cell_plan:
        value = evaluate(ctx)
        if value is UNSET:
            continue
        if value is None:
            cells[name] = Cell(None, ts, 0, params.now_seconds)
        else:
            cells[name] = Cell(serialize(value), ts, ttl, expiry)
    return Mutation(
        table.keyspace, table.name, pk, rows=[RowUpdate(ck, liveness=liveness, cells=cells)]
    )


def build_insert(mod: Modification, ctx: ExecContext, params: WriteParams) -> Mutation:
    """Return the mutation of one INSERT execution."""
    if mod.fast_insert is not None and mod.json_value is None:
        return build_fast_insert(mod, ctx, params)
    table = mod.table
    values = insert_values(mod, ctx)
    pk_values = []
    for column in table.partition_key:
        value = values[column.name]
        if value is None or value is UNSET:
            raise InvalidRequest(f"Invalid null value in condition for column {column.name}")
        pk_values.append(value)
    from stores.wide.cql.keys import encode_partition_key

    pk = encode_partition_key(table.pk_types, pk_values)
    has_clustering = all(c.name in values for c in table.clustering)
    ck_values = []
    for column in table.clustering:
        if not has_clustering:
            break
        value = values[column.name]
        if value is None or value is UNSET:
            raise InvalidRequest(f"Invalid null value in condition for column {column.name}")
        ck_values.append(value)
    mutation = Mutation(table.keyspace, table.name, pk)
    liveness = LivenessInfo(
        params.timestamp,
        params.ttl,
        params.now_seconds + params.ttl if params.ttl else NO_DELETION,
    )
    static_update = None
    if has_clustering:
        ck = encode_clustering(table.ck_types, table.ck_desc, ck_values)
        row = RowUpdate(ck, liveness=liveness)
        mutation.rows.append(row)
    else:
        row = None
    for name, value in values.items():
        column = table.columns[name]
        if column.is_primary_key:
            continue
        if column.kind == STATIC:
            if static_update is None:
                static_update = RowUpdate(
                    STATIC_ROW, liveness=None if row is not None else liveness
                )
                mutation.rows.append(static_update)
            set_column(static_update, column, value, params)
        else:
            set_column(row, column, value, params)
    if row is None and static_update is None:
        static_update = RowUpdate(STATIC_ROW, liveness=liveness)
        mutation.rows.append(static_update)
    return mutation


def target_rows(mod: Modification, ctx: ExecContext) -> list[tuple[bytes, bytes | None]]:
    """Return (partition key, clustering key or None) pairs an UPDATE or DELETE touches."""
    r = mod.restrictions
    table = mod.table
    pks = r.partition_keys(ctx)
    if r.clustering_eq_width == len(table.clustering) and table.clustering:
        cks = [
            encode_clustering(table.ck_types, table.ck_desc, p) for p in r.clustering_prefixes(ctx)
        ]
    elif not table.clustering:
        cks = [b""]
    else:
        cks = [None]
    return [(pk, ck) for pk in pks for ck in cks]


def build_update(
    mod: Modification,
    ctx: ExecContext,
    params: WriteParams,
    pk: bytes,
    ck: bytes | None,
    current=None,
) -> Mutation:
    """Return the mutation of an UPDATE on one row; ``current`` is the read row if needed."""
    table = mod.table
    mutation = Mutation(table.keyspace, table.name, pk)
    rows: dict = {}

    def update_for(column: ColumnInfo) -> RowUpdate:
        key = STATIC_ROW if column.kind == STATIC else ck
        if key is None:
            raise InvalidRequest(
                f"Some clustering keys are missing: {', '.join(c.name for c in table.clustering)}"
            )
        if key not in rows:
            rows[key] = RowUpdate(key)
            mutation.rows.append(rows[key])
        return rows[key]

    for operation in mod.operations:
        column = operation.column
        update = update_for(column)
        value = operation.value(ctx) if operation.value is not None else None
        if value is UNSET:
            continue
        if operation.op == "set":
            set_column(update, column, value, params)
        elif operation.op in ("add", "prepend"):
            if value is None:
                continue
            add_elements(update, column, value, params, prepend=operation.op == "prepend")
        elif operation.op == "remove":
            remove_elements(update, column, value, params)
        elif operation.op == "remove_list":
            remove_elements(update, column, value, params, _current_items(current, column))
        elif operation.op == "set_element":
            key = operation.key(ctx)
            if key is None:
                raise InvalidRequest(f"Invalid null map key for column {column.name}")
            cells = update.complex_cells.setdefault(column.name, {})
            path = column.cql_type.key.encode_key(key)
            cells[path] = params.cell(
                None if value is None else column.cql_type.value.serialize(value)
            )
        elif operation.op == "set_element_list":
            index = operation.key(ctx)
            items = _current_items(current, column)
            if index is None:
                raise InvalidRequest(f"Invalid null value for list index of column {column.name}")
            if not 0 <= index < len(items):
                raise InvalidRequest(f"List index {index} out of bound, list has size {len(items)}")
            path = items[index][0]
            cells = update.complex_cells.setdefault(column.name, {})
            cells[path] = params.cell(
                None if value is None else column.cql_type.element.serialize(value)
            )
        elif operation.op == "counter":
            if value is None:
                raise InvalidRequest("Invalid null value for counter increment")
            cell = None
            if current is not None:
                source = current[0] if column.kind == STATIC else current[1]
                cell = source.cells.get(column.name) if source is not None else None
            base = BIGINT.deserialize(cell.value) if cell is not None else 0
            total = base + value * operation.key
            total = (total + 2**63) % 2**64 - 2**63
            update.cells[column.name] = params.cell(BIGINT.serialize(total))
    if params.ttl == 0 and any(o.column.cql_type.is_counter for o in mod.operations):
        for update in mutation.rows:
            if update.clustering is not STATIC_ROW:
                update.liveness = None
    return mutation


def _current_items(current, column: ColumnInfo) -> list:
    if current is None:
        return []
    source = current[0] if column.kind == STATIC else current[1]
    if source is None:
        return []
    return list(source.complex_cells.get(column.name, []))


def build_delete(
    mod: Modification, ctx: ExecContext, params: WriteParams, current_for=None
) -> list[Mutation]:
    """Return the mutations of one DELETE execution."""
    table = mod.table
    r = mod.restrictions
    out = []
    for pk in r.partition_keys(ctx):
        mutation = Mutation(table.keyspace, table.name, pk)
        if mod.delete_row:
            deletion = DeletionTime(params.timestamp, params.now_seconds)
            if not table.clustering or (not r.ck_prefix and not r.ck_slice):
                mutation.partition_deletion = deletion
            elif r.clustering_eq_width == len(table.clustering) and not r.ck_slice:
                for prefix in r.clustering_prefixes(ctx):
                    ck = encode_clustering(table.ck_types, table.ck_desc, prefix)
                    mutation.rows.append(RowUpdate(ck, deletion=deletion))
            else:
                for sl in r.slices(ctx) or []:
                    mutation.range_tombstones.append(RangeTombstone(sl.start, sl.end, deletion))
            out.append(mutation)
            continue
        cks = [None]
        if table.clustering and r.clustering_eq_width == len(table.clustering):
            cks = [
                encode_clustering(table.ck_types, table.ck_desc, p)
                for p in r.clustering_prefixes(ctx)
            ]
        elif not table.clustering:
            cks = [b""]
        for ck in cks:
            rows: dict = {}
            current = current_for(pk, ck) if current_for is not None and mod.needs_read else None
            for operation in mod.operations:
                column = operation.column
                key = STATIC_ROW if column.kind == STATIC else ck
                if key is None:
                    raise InvalidRequest(
                        f"Some clustering keys are missing: {', '.join(c.name for c in table.clustering)}"
                    )
                if key not in rows:
                    rows[key] = RowUpdate(key)
                    mutation.rows.append(rows[key])
                update = rows[key]
                if operation.op == "delete":
                    if column.cql_type.multicell:
                        update.complex_deletions[column.name] = params.deletion()
                    else:
                        update.cells[column.name] = params.cell(None)
                elif operation.op == "delete_element":
                    element = operation.key(ctx)
                    if element is None:
                        raise InvalidRequest(f"Invalid null map key for column {column.name}")
                    sub = column.cql_type.subtypes[0]
                    update.complex_cells.setdefault(column.name, {})[sub.encode_key(element)] = (
                        params.cell(None)
                    )
                else:
                    index = operation.key(ctx)
                    items = _current_items(current, column)
                    if index is None or not 0 <= index < len(items):
                        raise InvalidRequest(
                            f"List index {index} out of bound, list has size {len(items)}"
                        )
                    update.complex_cells.setdefault(column.name, {})[items[index][0]] = params.cell(
                        None
                    )
        out.append(mutation)
    return out


def point_slice(ck: bytes) -> list[Slice]:
    """Return the slice list selecting exactly one clustering key."""
    return [Slice(Bound(ck, True), Bound(ck, True))]
