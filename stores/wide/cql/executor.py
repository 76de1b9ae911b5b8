"""The CQL executor: prepare statements once, execute them many times.

This is the API under both the in-process Session and the native-protocol
server (see docs/wide/cql.md). ``Executor.prepare`` parses and compiles a
statement against the schema and returns a ``Prepared`` with its bind-marker
and result metadata; ``Executor.execute`` runs it with Python values (or
native-protocol bytes) and a page size / paging state and returns a result
from ``results``. Lightweight transactions, counters and list operations
that read before writing are serialized by one lock (one node: Paxos is not
needed). Errors raised are the ``errors`` classes only.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from stores.wide.cql import ast, ddl
from stores.wide.cql.describe import describe
from stores.wide.cql.errors import CQLError, InvalidRequest, ServerError
from stores.wide.cql.modification import (
    Modification,
    build_delete,
    build_fast_insert,
    build_insert,
    build_update,
    compile_delete,
    compile_insert,
    compile_update,
    point_slice,
    resolve_keyspace,
    target_rows,
)
from stores.wide.cql.parser import Parsed, parse
from stores.wide.cql.results import UNSET, ColumnSpec, Rows, SetKeyspace, Void
from stores.wide.cql.schema import SYSTEM_KEYSPACES, Catalog, TableInfo
from stores.wide.cql.select import SelectPlan, compile_select, run_select
from stores.wide.cql.system import SystemKeyspaces
from stores.wide.cql.terms import ExecContext, TermCompiler
from stores.wide.cql.types import BOOLEAN, ListType, MapType
from stores.wide.storage import InvalidRequest as StorageInvalidRequest
from stores.wide.storage import ReadTrace, StorageError

PREPARED_CACHE_SIZE = 2048
VOID = Void()
APPLIED = "[applied]"


@dataclass
class Compiled:
    """A statement compiled against one schema version."""

    kind: str
    statement: object
    keyspace: str | None
    plan: object = None
    bind_specs: list = field(default_factory=list)
    result_columns: list | None = None
    pk_indexes: list[int] = field(default_factory=list)
    fast: object = None
    # Executor.is_quick's answers (without, with a page size), once computed.
    quick: tuple[bool, bool] | None = None


@dataclass
class Prepared:
    """A prepared statement: parsed once, recompiled only when the schema changes."""

    id: bytes
    query: str
    keyspace: str | None
    parsed: Parsed
    compiled: Compiled
    schema_version: object

    @property
    def bind_specs(self) -> list[ColumnSpec]:
        """Return one ColumnSpec (keyspace, table, name, type) per bind marker."""
        return self.compiled.bind_specs

    @property
    def result_columns(self) -> list[ColumnSpec] | None:
        """Return the result columns of a SELECT (None for other statements)."""
        return self.compiled.result_columns

    @property
    def pk_indexes(self) -> list[int]:
        """Return the bind-marker indexes of the partition-key columns, in key order."""
        return self.compiled.pk_indexes

    @property
    def kind(self) -> str:
        return self.compiled.kind

    @property
    def marker_names(self) -> list[str | None]:
        return [m.name for m in self.parsed.markers]


class _MicrosClock:
    """Strictly increasing microsecond timestamps, like the driver's generator."""

    def __init__(self):
        self.lock = threading.Lock()
        self.last = 0

    def __call__(self) -> int:
        now = time.time_ns() // 1000
        with self.lock:
            if now <= self.last:
                now = self.last + 1
            self.last = now
        return now


class Executor:
    """Prepare and execute CQL statements against one storage engine."""

    def __init__(
        self, engine, *, cluster_name: str = "kvsite", address: str = "127.0.0.1", port: int = 9042
    ):
        self.engine = engine
        self.cluster_name = cluster_name
        self.catalog = Catalog(engine)
        self.system = SystemKeyspaces(
            self.catalog, cluster_name=cluster_name, address=address, port=port
        )
        self.lock = threading.RLock()
        self.clock = _MicrosClock()
        self._prepared: OrderedDict[tuple, Prepared] = OrderedDict()
        self._by_id: dict[bytes, Prepared] = {}
        self._cache_lock = threading.Lock()
        self._writes_wait_for_sync: bool | None = None

    def close(self) -> None:
        """Close the system keyspaces' engine (the caller owns the user engine)."""
        self.system.close()

    @property
    def schema_version(self):
        """Return the current schema version uuid."""
        return self.catalog.version

    # Preparing ------------------------------------------------------------

    def prepare(self, query: str, keyspace: str | None = None) -> Prepared:
        """Return the Prepared statement for ``query`` (cached by keyspace and text)."""
        key = (keyspace, query)
        with self._cache_lock:
            prepared = self._prepared.get(key)
            if prepared is not None:
                self._prepared.move_to_end(key)
                return prepared
        parsed = self._parse(query)
        try:
            compiled = self._compile(parsed, keyspace)
        except CQLError:
            raise
        except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
            raise InvalidRequest(f"Invalid statement: {exc}") from None
        statement_id = hashlib.md5(f"{keyspace or ''}\x00{query}".encode()).digest()
        prepared = Prepared(statement_id, query, keyspace, parsed, compiled, self.catalog.version)
        with self._cache_lock:
            self._prepared[key] = prepared
            self._by_id[statement_id] = prepared
            while len(self._prepared) > PREPARED_CACHE_SIZE:
                _, old = self._prepared.popitem(last=False)
                self._by_id.pop(old.id, None)
        return prepared

    def prepared_by_id(self, statement_id: bytes) -> Prepared | None:
        """Return a statement prepared earlier, by its id (None if evicted)."""
        with self._cache_lock:
            return self._by_id.get(statement_id)

    def is_quick(self, prepared: Prepared, page_size: int | None = None) -> bool:
        """Return True if executing ``prepared`` is bounded work that never waits on a sync.

        Quick: an INSERT, UPDATE or DELETE that needs no read (not
        conditional, no counter, no list index) when writes are not held
        for a commit-log fsync (batch mode holds them); and a SELECT of one
        user-table partition, by partition key equality, without filtering
        or aggregates, with a page size or a LIMIT to bound it. A statement
        whose table is gone is quick too: its answer is an error. A server
        may run quick statements on its event loop.
        """
        try:
            compiled = prepared.compiled
            if prepared.schema_version is not self.catalog.version:
                compiled = self._current(prepared)
        except CQLError:
            return True
        quick = compiled.quick
        if quick is None:
            quick = compiled.quick = (self._quick(compiled, False), self._quick(compiled, True))
        return quick[1] if page_size else quick[0]

    def quick_point_read(self, prepared: Prepared, page_size: int | None = None):
        """Return (point read, storage engine) of a quick one-partition SELECT, or None.

        The statement's current plan's ``PointRead`` when ``is_quick`` says
        yes and the point read writes its cells from the stored bytes
        (``PointRead.wire_page``): what a protocol server may run itself,
        with an ``ExecContext`` of the bound values, on its event loop. None
        for anything else (run it with ``execute``).
        """
        compiled = prepared.compiled
        if prepared.schema_version is not self.catalog.version or compiled.kind != "SELECT":
            return None
        point = compiled.plan.point
        if point is None or point.encoder is None or not self.is_quick(prepared, page_size):
            return None
        return point, self.engine_for(compiled.plan.table)

    def _quick(self, compiled: Compiled, paged: bool) -> bool:
        if compiled.kind == "SELECT":
            plan: SelectPlan = compiled.plan
            restrictions = plan.restrictions
            return (
                (paged or plan.limit is not None)
                and restrictions.pk_complete
                and not restrictions.pk_in
                and not restrictions.filters
                and not plan.is_aggregate
                and not plan.table.virtual
            )
        if compiled.fast is None:
            return False
        if self._writes_wait_for_sync is None:
            info = self.engine.commitlog_info()
            self._writes_wait_for_sync = info.get("sync_mode") == "batch"
        return not self._writes_wait_for_sync

    def _parse(self, query: str) -> Parsed:
        try:
            return parse(query)
        except CQLError:
            raise
        except RecursionError:
            raise InvalidRequest("Query is too deeply nested") from None

    def _current(self, prepared: Prepared) -> Compiled:
        if prepared.schema_version != self.catalog.version:
            prepared.compiled = self._compile(prepared.parsed, prepared.keyspace)
            prepared.schema_version = self.catalog.version
        return prepared.compiled

    def table(self, keyspace: str, name: str) -> TableInfo:
        """Return a user or system table by name, or raise Cassandra's error."""
        if keyspace in self.system.catalog.keyspaces:
            return self.system.catalog.table(keyspace, name)
        if keyspace in SYSTEM_KEYSPACES:
            raise InvalidRequest(f"table {name} does not exist")
        return self.catalog.table(keyspace, name)

    def engine_for(self, table: TableInfo):
        return self.system.engine if table.virtual else self.engine

    def _compile(self, parsed: Parsed, keyspace: str | None) -> Compiled:
        stmt = parsed.statement
        compiler = TermCompiler(parsed.markers)
        if isinstance(stmt, ast.Select):
            ks = resolve_keyspace(stmt.table, keyspace)
            table = self.table(ks, stmt.table.name)
            plan = compile_select(stmt, table, compiler)
            return self._finish(
                Compiled("SELECT", stmt, ks, plan, result_columns=plan.result_columns),
                compiler,
                table,
            )
        if isinstance(stmt, ast.Insert | ast.Update | ast.Delete):
            ks = resolve_keyspace(stmt.table, keyspace)
            table = self.table(ks, stmt.table.name)
            if isinstance(stmt, ast.Insert):
                mod = compile_insert(stmt, table, compiler)
            elif isinstance(stmt, ast.Update):
                mod = compile_update(stmt, table, compiler)
            else:
                mod = compile_delete(stmt, table, compiler)
            compiled = self._finish(Compiled(mod.kind, stmt, ks, mod), compiler, table)
            if not (mod.is_conditional or mod.needs_read or mod.is_counter):
                mutations, apply = self._mutations, self._apply
                if mod.kind == "INSERT" and mod.fast_insert is not None:
                    engine_apply = self.engine.apply
                    compiled.fast = lambda ctx: engine_apply(
                        build_fast_insert(mod, ctx, mod.write_params(ctx))
                    )
                else:
                    compiled.fast = lambda ctx: apply(mutations(mod, ctx))
            return compiled
        if isinstance(stmt, ast.Batch):
            mods = []
            for inner in stmt.statements:
                ks = resolve_keyspace(inner.table, keyspace)
                table = self.table(ks, inner.table.name)
                if inner.using.timestamp is not None and stmt.using.timestamp is not None:
                    raise InvalidRequest(
                        "Timestamp must be set either on BATCH or individual statements"
                    )
                if isinstance(inner, ast.Insert):
                    mods.append(compile_insert(inner, table, compiler))
                elif isinstance(inner, ast.Update):
                    mods.append(compile_update(inner, table, compiler))
                else:
                    mods.append(compile_delete(inner, table, compiler))
            ts = None
            if stmt.using.ttl is not None:
                raise InvalidRequest("Global TTL on the BATCH statement is not supported.")
            if stmt.using.timestamp is not None:
                from stores.wide.cql.types import BIGINT

                ts = compiler.compile(
                    stmt.using.timestamp, ColumnSpec("", "", "[timestamp]", BIGINT)
                )
            _check_batch(stmt.kind, mods)
            if ts is not None and any(m.is_conditional for m in mods):
                raise InvalidRequest("Cannot provide custom timestamp for conditional BATCH")
            compiled = Compiled("BATCH", stmt, keyspace, (stmt.kind, mods, ts))
            compiled.bind_specs = _specs(compiler)
            return compiled
        return Compiled(type(stmt).__name__.upper(), stmt, keyspace, None, _specs(compiler))

    def _finish(self, compiled: Compiled, compiler: TermCompiler, table: TableInfo) -> Compiled:
        compiled.bind_specs = _specs(compiler)
        indexes = []
        for column in table.partition_key:
            for i, spec in enumerate(compiled.bind_specs):
                if spec.name == column.name and spec.cql_type == column.cql_type:
                    indexes.append(i)
                    break
            else:
                indexes = []
                break
        compiled.pk_indexes = indexes
        return compiled

    # Executing ------------------------------------------------------------

    def execute(
        self,
        prepared: Prepared,
        values=(),
        *,
        keyspace: str | None = None,
        page_size: int | None = None,
        paging_state: bytes | None = None,
        timestamp: int | None = None,
        serialized: bool = False,
        trace: bool = False,
    ):
        """Run a prepared statement and return Rows, Void, SetKeyspace or SchemaChange.

        ``values`` are Python values (or, with ``serialized=True``, native
        protocol bytes / None / UNSET) in bind-marker order. ``page_size``
        None or <= 0 returns every row in one page. ``timestamp`` is the
        client's default write timestamp in microseconds. With ``trace`` a
        SELECT's result carries the storage engine's read trace
        (``result.trace``, a dict: SSTables consulted and skipped, cells and
        tombstones read).
        """
        try:
            compiled = prepared.compiled
            if prepared.schema_version is not self.catalog.version:
                compiled = self._current(prepared)
            ctx = self._context(compiled, values, serialized, keyspace, timestamp)
            if compiled.fast is not None:
                compiled.fast(ctx)
                return VOID
            if trace:
                ctx.trace = ReadTrace()
                result = self._run(compiled, ctx, page_size, paging_state, keyspace)
                result.trace = ctx.trace.summary()
                return result
            return self._run(compiled, ctx, page_size, paging_state, keyspace)
        except CQLError:
            raise
        except StorageInvalidRequest as exc:
            raise InvalidRequest(str(exc)) from None
        except StorageError as exc:
            raise ServerError(str(exc)) from None
        except RecursionError:
            raise InvalidRequest("Value is too deeply nested") from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise InvalidRequest(f"Invalid value: {exc}") from None

    def execute_query(self, query: str, values=(), *, keyspace: str | None = None, **options):
        """Prepare (or reuse) and execute ``query`` in one call."""
        return self.execute(self.prepare(query, keyspace), values, keyspace=keyspace, **options)

    def execute_batch(
        self,
        kind: str,
        items: list[tuple[Prepared, object]],
        *,
        keyspace: str | None = None,
        timestamp: int | None = None,
        serialized: bool = False,
    ):
        """Run prepared INSERT/UPDATE/DELETE statements as one batch (kind logged/unlogged/counter)."""
        try:
            entries = []
            for prepared, values in items:
                compiled = self._current(prepared)
                if compiled.kind not in ("INSERT", "UPDATE", "DELETE"):
                    raise InvalidRequest(
                        "Invalid statement in batch: only UPDATE, INSERT and DELETE statements are allowed."
                    )
                ctx = self._context(compiled, values, serialized, keyspace, timestamp)
                entries.append((compiled.plan, ctx))
            _check_batch(kind, [m for m, _ in entries])
            return self._run_batch(kind, entries)
        except CQLError:
            raise
        except StorageInvalidRequest as exc:
            raise InvalidRequest(str(exc)) from None
        except StorageError as exc:
            raise ServerError(str(exc)) from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise InvalidRequest(f"Invalid value: {exc}") from None

    def _context(
        self, compiled: Compiled, values, serialized: bool, keyspace, timestamp
    ) -> ExecContext:
        specs = compiled.bind_specs
        if values is None:
            values = ()
        if len(values) != len(specs):
            raise InvalidRequest(
                f"Invalid amount of bind variables: expected {len(specs)}, got {len(values)}"
            )
        if serialized:
            decoded = []
            values = list(values)
            for spec, raw in zip(specs, values, strict=True):
                if raw is None or raw is UNSET:
                    decoded.append(raw)
                else:
                    decoded.append(spec.cql_type.deserialize(raw))
            values = decoded
        ctx = ExecContext(values, self.clock(), keyspace)
        if timestamp is not None:
            ctx.extra = {**ctx.extra, "default_timestamp": timestamp}
        return ctx

    def _run(self, compiled: Compiled, ctx: ExecContext, page_size, paging_state, keyspace):
        kind = compiled.kind
        stmt = compiled.statement
        if kind == "SELECT":
            plan: SelectPlan = compiled.plan
            size = page_size if page_size and page_size > 0 else None
            return run_select(plan, self.engine_for(plan.table), ctx, size, paging_state)
        if kind in ("INSERT", "UPDATE", "DELETE"):
            return self._run_modification(compiled.plan, ctx)
        if kind == "BATCH":
            batch_kind, mods, ts = compiled.plan
            if ts is not None:
                ctx.extra = {**ctx.extra, "batch_timestamp": ts(ctx)}
            return self._run_batch(batch_kind, [(m, ctx) for m in mods])
        if kind == "USE":
            name = stmt.keyspace
            if name not in self.catalog.keyspaces and name not in self.system.catalog.keyspaces:
                raise InvalidRequest(f"Keyspace '{name}' does not exist")
            return SetKeyspace(name)
        if kind == "DESCRIBE":
            return describe(stmt, self.system.all_keyspaces(), keyspace, self.cluster_name)
        with self.lock:
            return self._run_ddl(stmt, keyspace)

    def _run_ddl(self, stmt, keyspace):
        if isinstance(stmt, ast.CreateKeyspace):
            return ddl.create_keyspace(stmt, self.catalog)
        if isinstance(stmt, ast.AlterKeyspace):
            return ddl.alter_keyspace(stmt, self.catalog)
        if isinstance(stmt, ast.DropKeyspace):
            return ddl.drop_keyspace(stmt, self.catalog)
        ks = resolve_keyspace(stmt.table, keyspace)
        if isinstance(stmt, ast.CreateTable):
            return ddl.create_table(stmt, ks, self.catalog)
        if isinstance(stmt, ast.AlterTable):
            return ddl.alter_table(stmt, ks, self.catalog)
        if isinstance(stmt, ast.DropTable):
            return ddl.drop_table(stmt, ks, self.catalog)
        if isinstance(stmt, ast.Truncate):
            return ddl.truncate(stmt, ks, self.catalog)
        raise InvalidRequest(f"Unsupported statement {type(stmt).__name__}")

    # Writes --------------------------------------------------------------

    def _mutations(self, mod: Modification, ctx: ExecContext) -> list:
        params = mod.write_params(ctx)
        if mod.kind == "INSERT":
            return [build_insert(mod, ctx, params)]
        if mod.kind == "UPDATE":
            out = []
            for pk, ck in target_rows(mod, ctx):
                current = self._read_current(mod.table, pk, ck) if mod.needs_read else None
                out.append(build_update(mod, ctx, params, pk, ck, current))
            return out
        return build_delete(mod, ctx, params, lambda pk, ck: self._read_current(mod.table, pk, ck))

    def _read_current(self, table: TableInfo, pk: bytes, ck: bytes | None):
        if ck is None:
            result = self.engine.read(table.keyspace, table.name, pk, limit=1)
            return (result.static_row if result else None, None)
        result = self.engine.read(
            table.keyspace, table.name, pk, slices=point_slice(ck) if ck else None
        )
        if result is None:
            return (None, None)
        row = result.rows[0] if result.rows else None
        if table.dropped:
            table.purge_dropped(row)
            table.purge_dropped(result.static_row)
        return (result.static_row, row)

    def _run_modification(self, mod: Modification, ctx: ExecContext):
        if mod.is_conditional:
            return self._run_conditional([(mod, ctx)])
        if mod.needs_read or mod.is_counter:
            with self.lock:
                # Timestamp taken under the lock, so read-modify-write results
                # are ordered as they were serialized.
                ctx.now_micros = self.clock()
                self._apply(self._mutations(mod, ctx))
        else:
            self._apply(self._mutations(mod, ctx))
        return Void()

    def _apply(self, mutations: list) -> None:
        if len(mutations) == 1:
            self.engine.apply(mutations[0])
        elif mutations:
            self.engine.apply_batch(mutations)

    def _run_batch(self, kind: str, entries: list[tuple[Modification, ExecContext]]):
        if any(m.is_conditional for m, _ in entries):
            return self._run_conditional(entries)
        needs_lock = any(m.needs_read or m.is_counter for m, _ in entries)
        if needs_lock:
            with self.lock:
                now = self.clock()
                for _, c in entries:
                    c.now_micros = now
                self._apply([mut for m, c in entries for mut in self._mutations(m, c)])
        else:
            self._apply([mut for m, c in entries for mut in self._mutations(m, c)])
        return Void()

    def _lwt_target(self, mod: Modification, ctx: ExecContext) -> tuple[bytes, bytes | None]:
        if mod.kind == "INSERT":
            mutation = build_insert(mod, ctx, mod.write_params(ctx))
            rows = [r for r in mutation.rows if isinstance(r.clustering, bytes)]
            return mutation.partition_key, rows[0].clustering if rows else None
        targets = target_rows(mod, ctx)
        if len(targets) != 1:
            raise InvalidRequest(
                "IN on the partition key is not supported with conditional updates"
            )
        return targets[0]

    def _run_conditional(self, entries: list[tuple[Modification, ExecContext]]):
        with self.lock:
            now = self.clock()
            for _, c in entries:
                c.now_micros = now
            targets = [self._lwt_target(m, c) for m, c in entries]
            tables = {(m.table.keyspace, m.table.name) for m, _ in entries}
            if len({pk for pk, _ in targets}) > 1 or len(tables) > 1:
                if len(tables) > 1:
                    raise InvalidRequest("Batch with conditions cannot span multiple tables")
                raise InvalidRequest("Batch with conditions cannot span multiple partitions")
            failed_columns: list = []
            applied = True
            current_rows = {}
            for (mod, ctx), (pk, ck) in zip(entries, targets, strict=True):
                key = (pk, ck)
                if key not in current_rows:
                    current_rows[key] = self._read_current(mod.table, pk, ck)
                static_row, row = current_rows[key]
                ok, columns = _check_conditions(mod, ctx, static_row, row)
                if not ok:
                    applied = False
                    failed_columns.append((mod, columns, static_row, row, pk, ck))
            if applied:
                self._apply([mut for m, c in entries for mut in self._mutations(m, c)])
                mod = entries[0][0]
                return Rows(
                    [ColumnSpec(mod.table.keyspace, mod.table.name, APPLIED, BOOLEAN)], [(True,)]
                )
            return _not_applied(failed_columns)


def _specs(compiler: TermCompiler) -> list[ColumnSpec]:
    specs = []
    for i, spec in enumerate(compiler.specs):
        if spec is None:
            raise InvalidRequest(f"Bind marker {i} is not allowed in this position")
        specs.append(spec)
    return specs


def _check_batch(kind: str, mods: list[Modification]) -> None:
    for mod in mods:
        if kind == "counter" and not mod.is_counter:
            raise InvalidRequest("Cannot include non-counter statement in a counter batch")
        if kind != "counter" and mod.is_counter:
            if kind == "logged":
                raise InvalidRequest("Cannot include a counter statement in a logged batch")
            raise InvalidRequest("Counter and non-counter mutations cannot exist in the same batch")


def _value_of(mod: Modification, column, static_row, row):
    from stores.wide.cql.rows import collection_value

    source = static_row if column.kind == "static" else row
    if source is None:
        return None
    if column.cql_type.multicell:
        return collection_value(column, source.complex_cells.get(column.name, []))
    cell = source.cells.get(column.name)
    return None if cell is None else column.cql_type.deserialize(cell.value)


def _check_conditions(mod: Modification, ctx: ExecContext, static_row, row) -> tuple[bool, list]:
    from stores.wide.cql.select import _compare

    if mod.if_not_exists:
        exists = row is not None or (not mod.table.clustering and static_row is not None)
        if mod.kind == "INSERT" and mod.table.clustering and row is None:
            has_ck = any(c.name in (mod.insert_values or {}) for c in mod.table.clustering)
            if not has_ck:
                exists = static_row is not None
        return (not exists), mod.table.select_order()
    if mod.if_exists:
        exists = row is not None or (
            static_row is not None
            and all(o.column.kind == "static" for o in mod.operations)
            and mod.operations
        )
        return bool(exists), []
    ok = True
    columns = []
    for cond in mod.conditions:
        column = cond.column
        if column not in columns:
            columns.append(column)
        actual = _value_of(mod, column, static_row, row)
        if cond.key is not None:
            key = cond.key(ctx)
            if actual is None:
                actual = None
            elif isinstance(column.cql_type, MapType):
                actual = actual.get(key)
            elif isinstance(column.cql_type, ListType):
                actual = actual[key] if key is not None and 0 <= key < len(actual) else None
            cql_type = column.cql_type.subtypes[-1]
        else:
            cql_type = column.cql_type
        expected = cond.value(ctx)
        if cond.op == "IN":
            if not any(actual == e for e in expected):
                ok = False
            continue
        if cond.op in ("=", "!="):
            equal = actual == expected
            if (cond.op == "=") != equal:
                ok = False
            continue
        if actual is None or expected is None:
            if expected is None:
                raise InvalidRequest(f'Invalid comparison with null for operator "{cond.op}"')
            ok = False
            continue
        if not _compare(cond.op, cql_type.sort_key(actual), cql_type.sort_key(expected)):
            ok = False
    return ok, columns


def _not_applied(failed: list) -> Rows:
    mod, columns, static_row, row, pk, ck = failed[0]
    table = mod.table
    specs = [ColumnSpec(table.keyspace, table.name, APPLIED, BOOLEAN)]
    values = [False]
    if mod.if_not_exists and (row is not None or static_row is not None):
        from stores.wide.cql.keys import decode_partition_key
        from stores.wide.cql.rows import row_values

        all_values = row_values(
            table,
            decode_partition_key(table.pk_types, pk),
            row.clustering if row is not None else None,
            row,
            static_row,
        )
        for column in table.select_order():
            specs.append(ColumnSpec(table.keyspace, table.name, column.name, column.cql_type))
            values.append(all_values[column.name])
    elif columns:
        order = {c.name: i for i, c in enumerate(table.select_order())}
        for column in sorted(columns, key=lambda c: order[c.name]):
            specs.append(ColumnSpec(table.keyspace, table.name, column.name, column.cql_type))
            values.append(_value_of(mod, column, static_row, row))
    return Rows(specs, [tuple(values)])
