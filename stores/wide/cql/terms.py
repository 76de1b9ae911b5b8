"""Compile syntax-tree terms into small functions of the bound values.

Each term (literal, bind marker, collection, tuple, function call) is turned
once, at prepare time, into a closure ``evaluate(ctx) -> value`` for a known
receiver (a column, a LIMIT, a TTL...). Literals are converted when compiled,
so a prepared statement does no literal parsing per execution. Bind markers
record the ColumnSpec the protocol server reports for them.
"""

from __future__ import annotations

from collections.abc import Callable

from stores.wide.cql import ast
from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.functions import resolve_function
from stores.wide.cql.results import UNSET, ColumnSpec
from stores.wide.cql.types import (
    CollectionType,
    CQLType,
    ListType,
    MapType,
    MarshalError,
    SetType,
    TupleType,
    make_set,
)

Evaluator = Callable[["ExecContext"], object]


# Shared and never mutated: options are added by replacing ``extra``.
_NO_EXTRA: dict = {}


class ExecContext:
    """Per-execution inputs: bound values, the statement's clock and options.

    ``extra`` holds the rare options (client default timestamp, batch
    timestamp); ``trace`` a storage ReadTrace when the client asked for one.
    """

    __slots__ = ("values", "now_micros", "keyspace", "extra", "trace")

    def __init__(
        self, values, now_micros: int, keyspace: str | None = None, extra: dict | None = None
    ):
        self.values = values
        self.now_micros = now_micros
        self.keyspace = keyspace
        self.extra = _NO_EXTRA if extra is None else extra
        self.trace = None


class TermCompiler:
    """Compile terms of one statement, collecting the bind-marker specs."""

    def __init__(self, markers: tuple[ast.BindMarker, ...]):
        self.specs: list[ColumnSpec | None] = [None] * len(markers)
        self.partition_key: list | None = None

    def spec_for(self, marker: ast.BindMarker, receiver: ColumnSpec) -> None:
        name = marker.name if marker.name else receiver.name
        self.specs[marker.index] = ColumnSpec(
            receiver.keyspace, receiver.table, name, receiver.cql_type
        )

    def compile(self, term, receiver: ColumnSpec) -> Evaluator:
        """Return an evaluator of ``term`` as a value of ``receiver``'s type."""
        cql_type = receiver.cql_type
        if isinstance(term, ast.BindMarker):
            self.spec_for(term, receiver)
            index = term.index
            return lambda ctx: ctx.values[index]
        if isinstance(term, ast.Literal):
            value = self.literal(term, receiver)
            return lambda ctx: value
        if isinstance(term, ast.TypeHint):
            return self.compile(
                term.term, ColumnSpec(receiver.keyspace, receiver.table, receiver.name, term.target)
            )
        if isinstance(term, ast.CollectionLiteral):
            return self.collection(term, receiver)
        if isinstance(term, ast.TupleLiteral):
            if not isinstance(cql_type, TupleType):
                raise InvalidRequest(
                    f"Invalid tuple type literal for {receiver.name} of type {cql_type.cql()}"
                )
            if len(term.items) > len(cql_type.subtypes):
                raise InvalidRequest(
                    f"Invalid tuple literal for {receiver.name}: too many elements. "
                    f"Type {cql_type.cql()} expects {len(cql_type.subtypes)} but got {len(term.items)}"
                )
            parts = [
                self.compile(
                    item,
                    ColumnSpec(receiver.keyspace, receiver.table, f"{receiver.name}[{i}]", sub),
                )
                for i, (item, sub) in enumerate(zip(term.items, cql_type.subtypes, strict=False))
            ]
            return lambda ctx: tuple(p(ctx) for p in parts)
        if isinstance(term, ast.FunctionCall):
            return self.function(term, receiver)
        if isinstance(term, ast.Cast):
            raise InvalidRequest("CAST is only supported in selection clauses")
        raise InvalidRequest(f"Invalid term for {receiver.name}")

    def literal(self, term: ast.Literal, receiver: ColumnSpec):
        if term.kind == "null":
            return None
        cql_type = receiver.cql_type
        if isinstance(cql_type, CollectionType | TupleType):
            raise InvalidRequest(
                f'Invalid {term.kind.upper()} constant ({term.text}) for "{receiver.name}" of type {cql_type.cql()}'
            )
        try:
            return cql_type.from_literal(term.kind, term.text)
        except MarshalError as exc:
            if exc.message.startswith("Invalid ") and "constant" in exc.message:
                raise InvalidRequest(
                    f'Invalid {term.kind.upper()} constant ({term.text}) for "{receiver.name}" of type {cql_type.cql()}'
                ) from None
            raise

    def collection(self, term: ast.CollectionLiteral, receiver: ColumnSpec) -> Evaluator:
        cql_type = receiver.cql_type
        ks, table, name = receiver.keyspace, receiver.table, receiver.name
        if term.kind == "set_or_map" and isinstance(cql_type, SetType | MapType):
            empty_map = isinstance(cql_type, MapType)
            return lambda ctx: {} if empty_map else make_set(())
        if term.kind == "list" and isinstance(cql_type, ListType):
            items = [
                self.compile(i, ColumnSpec(ks, table, name, cql_type.element)) for i in term.items
            ]
            return lambda ctx: _no_nulls([i(ctx) for i in items])
        if term.kind == "set" and isinstance(cql_type, SetType):
            items = [
                self.compile(i, ColumnSpec(ks, table, name, cql_type.element)) for i in term.items
            ]
            return lambda ctx: make_set(_no_nulls([i(ctx) for i in items]))
        if term.kind == "map" and isinstance(cql_type, MapType):
            pairs = [
                (
                    self.compile(k, ColumnSpec(ks, table, name, cql_type.key)),
                    self.compile(v, ColumnSpec(ks, table, name, cql_type.value)),
                )
                for k, v in term.items
            ]

            def build(ctx):
                out = {}
                for k, v in pairs:
                    key, value = k(ctx), v(ctx)
                    if key is None or value is None:
                        raise InvalidRequest("null is not supported inside collections")
                    out[key] = value
                return out

            return build
        kind = "map" if term.kind == "set_or_map" else term.kind
        raise InvalidRequest(f"Invalid {kind} literal for {name} of type {cql_type.cql()}")

    def function(self, term: ast.FunctionCall, receiver: ColumnSpec) -> Evaluator:
        if term.name == "token":
            if self.partition_key is None:
                raise InvalidRequest("token() is only supported in WHERE clauses and selections")
            return self.token(term, receiver)
        arg_types = [self.static_type(a) for a in term.args]
        function = resolve_function(term.name, arg_types)
        if not _assignable(function.return_type, receiver.cql_type):
            raise InvalidRequest(
                f"Type error: cannot assign result of function system.{function.name} "
                f"(type {function.return_type.cql()}) to {receiver.name} (type {receiver.cql_type.cql()})"
            )
        args = [
            self.compile(
                a, ColumnSpec(receiver.keyspace, receiver.table, f"arg{i}({function.name})", t)
            )
            for i, (a, t) in enumerate(zip(term.args, function.arg_types, strict=True))
        ]
        if function.deterministic and all(isinstance(a, ast.Literal) for a in term.args):
            value = function.call([a(None) for a in args])
            return lambda ctx: value
        return lambda ctx: function.call([a(ctx) for a in args])

    def token(self, term: ast.FunctionCall, receiver: ColumnSpec) -> Evaluator:
        from stores.wide.cql.keys import encode_partition_key
        from stores.wide.storage import token

        columns = self.partition_key
        if len(term.args) != len(columns):
            raise InvalidRequest(
                f"Invalid number of arguments in call to function token: {len(columns)} required but {len(term.args)} provided"
            )
        args = [
            self.compile(a, ColumnSpec(receiver.keyspace, receiver.table, c.name, c.cql_type))
            for a, c in zip(term.args, columns, strict=True)
        ]
        types = [c.cql_type for c in columns]
        return lambda ctx: token(encode_partition_key(types, [a(ctx) for a in args]))

    def static_type(self, term) -> CQLType | None:
        """Return the type a term has on its own (function results), or None."""
        if isinstance(term, ast.FunctionCall):
            return resolve_function(term.name, [self.static_type(a) for a in term.args]).return_type
        if isinstance(term, ast.TypeHint):
            return term.target
        return None


def _assignable(given: CQLType, wanted: CQLType) -> bool:
    if given == wanted:
        return True
    names = {given.name, wanted.name}
    return (
        names <= {"text", "ascii"}
        or (given.name == "timeuuid" and wanted.name == "uuid")
        or (given.name == "bigint" and wanted.name == "counter")
    )


def _no_nulls(items: list) -> list:
    for item in items:
        if item is None:
            raise InvalidRequest("null is not supported inside collections")
        if item is UNSET:
            raise InvalidRequest("unset value is not supported inside collections")
    return items


def receiver(table, column) -> ColumnSpec:
    """Return the ColumnSpec of a table column."""
    return ColumnSpec(table.keyspace, table.name, column.name, column.cql_type)


def positive_int(evaluator: Evaluator | None, ctx: ExecContext, what: str) -> int | None:
    """Return a LIMIT or PER PARTITION LIMIT value, or None when absent or unset.

    Raise Cassandra's errors for a null or a value that is not strictly positive.
    """
    if evaluator is None:
        return None
    value = evaluator(ctx)
    if value is None:
        raise InvalidRequest(f"Invalid null value of {what}")
    if value is UNSET:
        return None
    if value <= 0:
        raise InvalidRequest(
            f"{what.upper() if what == 'limit' else 'PER PARTITION LIMIT'} must be strictly positive"
        )
    return value
