"""Turn CQL text into a syntax tree (``ast``), one statement at a time.

A hand-written recursive-descent parser over ``lexer`` tokens. It checks
syntax only; names, types and Cassandra's semantic rules are the executor's.
Errors are ``SyntaxException`` with ANTLR-style ``line L:C`` messages, as
Cassandra reports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stores.wide.cql import ast
from stores.wide.cql.errors import InvalidRequest, SyntaxException
from stores.wide.cql.lexer import (
    DURATION,
    EOF,
    FLOAT,
    HEX,
    IDENT,
    INTEGER,
    PUNCT,
    QUOTED_IDENT,
    STRING,
    UUID,
    Token,
    tokenize,
)
from stores.wide.cql.types import SIMPLE_TYPES, CQLType, build_type

RESERVED = frozenset(
    """add allow alter and apply asc authorize batch begin by columnfamily create delete desc
    describe drop entries execute from full grant if in index infinity insert into keyspace
    limit modify nan norecursive not null of on or order primary rename replace revoke schema
    select set table to token truncate unlogged update use using view where with""".split()
)

_ISO_DURATION_RE = re.compile(r"^p(?:\d+[ymwd])*(?:t(?:\d+[hms])*)?$", re.IGNORECASE)
_COMPARISON_OPS = ("=", "<", "<=", ">", ">=", "!=")


@dataclass(frozen=True)
class Parsed:
    """A parsed statement with its bind markers in order."""

    statement: object
    markers: tuple[ast.BindMarker, ...]


def parse(source: str) -> Parsed:
    """Return the one statement in ``source`` (a trailing ``;`` is allowed)."""
    parser = _Parser(tokenize(source))
    try:
        statement = parser.statement()
    except RecursionError:
        token = parser.peek()
        raise SyntaxException(
            f"line {token.line}:{token.column} statement is too deeply nested",
            token.line,
            token.column,
        ) from None
    while parser.peek().is_punct(";"):
        parser.advance()
    parser.expect_eof()
    return Parsed(statement, tuple(parser.markers))


def split_statements(source: str) -> list[str]:
    """Return the statements of a script, split at top-level semicolons.

    ``BEGIN BATCH ... APPLY BATCH`` stays one statement.
    """
    tokens = tokenize(source)
    out = []
    start = None
    in_batch = False
    for i, token in enumerate(tokens):
        if token.kind == EOF:
            break
        if start is None:
            start = token.offset
            in_batch = token.is_word("begin")
        if in_batch and token.is_word("batch") and i > 0 and tokens[i - 1].is_word("apply"):
            in_batch = False
        if token.is_punct(";") and not in_batch:
            text = source[start : token.offset].strip()
            if text:
                out.append(text)
            start = None
    if start is not None:
        text = source[start:].strip()
        if text:
            out.append(text)
    return out


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.pos = 0
        self.markers: list[ast.BindMarker] = []

    # Token plumbing -------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        index = min(self.pos + ahead, len(self.tokens) - 1)
        return self.tokens[index]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != EOF:
            self.pos += 1
        return token

    def error(self, token: Token | None = None, expecting: str | None = None) -> SyntaxException:
        token = token or self.peek()
        where = f"line {token.line}:{token.column}"
        if expecting:
            message = f"{where} mismatched input '{token.text}' expecting {expecting}"
        else:
            message = f"{where} no viable alternative at input '{token.text}'"
        return SyntaxException(message, token.line, token.column)

    def accept_word(self, *words: str) -> bool:
        if self.peek().is_word(*words):
            self.advance()
            return True
        return False

    def expect_word(self, word: str) -> Token:
        if not self.peek().is_word(word):
            raise self.error(expecting=word.upper())
        return self.advance()

    def accept_punct(self, symbol: str) -> bool:
        if self.peek().is_punct(symbol):
            self.advance()
            return True
        return False

    def expect_punct(self, symbol: str) -> Token:
        if not self.peek().is_punct(symbol):
            raise self.error(expecting=f"'{symbol}'")
        return self.advance()

    def expect_eof(self) -> None:
        if self.peek().kind != EOF:
            raise self.error(expecting="EOF")

    def identifier(self, allow_reserved: bool = False) -> str:
        token = self.peek()
        if token.kind == QUOTED_IDENT:
            self.advance()
            return token.value
        if token.kind == IDENT and (allow_reserved or token.value not in RESERVED):
            self.advance()
            return token.value
        raise self.error()

    def table_name(self) -> ast.TableName:
        first = self.identifier()
        if self.accept_punct("."):
            return ast.TableName(first, self.identifier())
        return ast.TableName(None, first)

    # Statements -----------------------------------------------------------

    def statement(self):
        token = self.peek()
        if token.kind != IDENT:
            raise self.error()
        handler = {
            "select": self.select,
            "insert": self.insert,
            "update": self.update,
            "delete": self.delete,
            "begin": self.batch,
            "create": self.create,
            "alter": self.alter,
            "drop": self.drop,
            "use": self.use,
            "truncate": self.truncate,
            "describe": self.describe,
            "desc": self.describe,
        }.get(token.value)
        if handler is None:
            if token.value in ("grant", "revoke", "list"):
                raise InvalidRequest("Authorization is not enabled on this server")
            raise self.error()
        return handler()

    def use(self) -> ast.Use:
        self.expect_word("use")
        return ast.Use(self.identifier())

    def truncate(self) -> ast.Truncate:
        self.expect_word("truncate")
        self.accept_word("table", "columnfamily")
        return ast.Truncate(self.table_name())

    def describe(self) -> ast.Describe:
        self.advance()
        full = self.accept_word("full")
        token = self.peek()
        if token.is_word("cluster"):
            self.advance()
            return ast.Describe("cluster")
        if token.is_word("keyspaces"):
            self.advance()
            return ast.Describe("keyspaces")
        if token.is_word("tables"):
            self.advance()
            return ast.Describe("tables")
        if token.is_word("types", "functions", "aggregates"):
            self.advance()
            return ast.Describe(token.value)
        if token.is_word("schema"):
            self.advance()
            return ast.Describe("schema", full=full)
        if token.is_word("only"):
            self.advance()
        if self.peek().is_word("keyspace"):
            self.advance()
            if self.peek().kind == EOF or self.peek().is_punct(";"):
                return ast.Describe("keyspace")
            return ast.Describe("keyspace", keyspace=self.identifier())
        if self.peek().is_word("table", "columnfamily"):
            self.advance()
            name = self.table_name()
            return ast.Describe("table", name.keyspace, name.name)
        if self.peek().is_word("type", "function", "aggregate", "index", "materialized"):
            raise InvalidRequest(f"DESCRIBE {self.peek().value.upper()}: no such object exists")
        name = self.table_name()
        return ast.Describe("name", name.keyspace, name.name)

    # SELECT -------------------------------------------------------------------

    def select(self) -> ast.Select:
        self.expect_word("select")
        json = self.accept_word("json")
        distinct = self.accept_word("distinct")
        selectors: tuple | None
        if self.accept_punct("*"):
            selectors = None
        else:
            items = [self.selector_with_alias()]
            while self.accept_punct(","):
                items.append(self.selector_with_alias())
            selectors = tuple(items)
        self.expect_word("from")
        table = self.table_name()
        where: tuple = ()
        group_by: list[str] = []
        order_by: list[tuple[str, bool]] = []
        per_partition_limit = limit = None
        allow_filtering = False
        if self.accept_word("where"):
            where = self.where_clause()
        if self.accept_word("group"):
            self.expect_word("by")
            group_by.append(self.identifier())
            while self.accept_punct(","):
                group_by.append(self.identifier())
        if self.accept_word("order"):
            self.expect_word("by")
            while True:
                name = self.identifier()
                desc = False
                if self.accept_word("desc"):
                    desc = True
                else:
                    self.accept_word("asc")
                order_by.append((name, desc))
                if not self.accept_punct(","):
                    break
        if self.accept_word("per"):
            self.expect_word("partition")
            self.expect_word("limit")
            per_partition_limit = self.term()
        if self.accept_word("limit"):
            limit = self.term()
        if self.accept_word("allow"):
            self.expect_word("filtering")
            allow_filtering = True
        return ast.Select(
            table,
            selectors,
            where,
            distinct,
            json,
            tuple(group_by),
            tuple(order_by),
            per_partition_limit,
            limit,
            allow_filtering,
        )

    def selector_with_alias(self) -> ast.Selector:
        expr = self.selector()
        alias = None
        if self.accept_word("as"):
            alias = self.identifier()
        return ast.Selector(expr, alias)

    def selector(self):
        token = self.peek()
        if token.is_word("cast") and self.peek(1).is_punct("("):
            self.advance()
            self.advance()
            expr = self.selector()
            self.expect_word("as")
            target = self.cql_type()
            self.expect_punct(")")
            return ast.Cast(expr, target)
        if token.kind in (IDENT, QUOTED_IDENT) and self.peek(1).is_punct("("):
            name = self.function_name()
            self.expect_punct("(")
            if name == "count" and (self.peek().is_punct("*") or self.peek().text == "1"):
                self.advance()
                self.expect_punct(")")
                return ast.CountStar()
            args = []
            if not self.peek().is_punct(")"):
                args.append(self.selector())
                while self.accept_punct(","):
                    args.append(self.selector())
            self.expect_punct(")")
            return ast.FunctionCall(name, tuple(args))
        if token.kind == QUOTED_IDENT or (
            token.kind == IDENT
            and token.value not in RESERVED
            and token.value not in ("true", "false")
            and not (self.peek(1).kind == STRING)
        ):
            self.advance()
            return ast.ColumnRef(token.value)
        return self.term()

    def function_name(self) -> str:
        name = self.identifier(allow_reserved=True)
        if self.accept_punct("."):
            name = self.identifier(allow_reserved=True)
        return name

    # WHERE ---------------------------------------------------------------------

    def where_clause(self) -> tuple[ast.Relation, ...]:
        relations = [self.relation()]
        while self.accept_word("and"):
            relations.append(self.relation())
        return tuple(relations)

    def relation(self) -> ast.Relation:
        if self.peek().is_word("token") and self.peek(1).is_punct("("):
            self.advance()
            self.advance()
            columns = [self.identifier()]
            while self.accept_punct(","):
                columns.append(self.identifier())
            self.expect_punct(")")
            op = self.comparison_op()
            return ast.Relation(ast.TokenRef(tuple(columns)), op, self.term())
        if self.peek().is_punct("("):
            self.advance()
            columns = [ast.ColumnRef(self.identifier())]
            while self.accept_punct(","):
                columns.append(ast.ColumnRef(self.identifier()))
            self.expect_punct(")")
            lhs = tuple(columns)
            if self.accept_word("in"):
                return ast.Relation(lhs, "IN", self.in_values())
            op = self.comparison_op()
            return ast.Relation(lhs, op, self.term())
        lhs = ast.ColumnRef(self.identifier())
        if self.accept_word("in"):
            return ast.Relation(lhs, "IN", self.in_values())
        if self.accept_word("contains"):
            if self.accept_word("key"):
                return ast.Relation(lhs, "CONTAINS_KEY", self.term())
            return ast.Relation(lhs, "CONTAINS", self.term())
        if self.accept_word("like"):
            return ast.Relation(lhs, "LIKE", self.term())
        op = self.comparison_op()
        return ast.Relation(lhs, op, self.term())

    def comparison_op(self) -> str:
        token = self.peek()
        if token.kind == PUNCT and token.value in _COMPARISON_OPS:
            self.advance()
            return token.value
        raise self.error()

    def in_values(self):
        if self.peek().is_punct("?") or (
            self.peek().is_punct(":") and self.peek(1).kind in (IDENT, QUOTED_IDENT)
        ):
            return self.term()
        self.expect_punct("(")
        items = []
        if not self.peek().is_punct(")"):
            items.append(self.term())
            while self.accept_punct(","):
                items.append(self.term())
        self.expect_punct(")")
        return tuple(items)

    # Terms -------------------------------------------------------------------

    def bind_marker(self, name: str | None) -> ast.BindMarker:
        marker = ast.BindMarker(len(self.markers), name)
        self.markers.append(marker)
        return marker

    def term(self):
        token = self.peek()
        kind = token.kind
        if kind == STRING:
            self.advance()
            return ast.Literal("string", token.value)
        if kind in (INTEGER, FLOAT, UUID, HEX, DURATION):
            self.advance()
            return ast.Literal(kind, token.value)
        if token.is_punct("?"):
            self.advance()
            return self.bind_marker(None)
        if token.is_punct(":"):
            self.advance()
            return self.bind_marker(self.identifier(allow_reserved=True))
        if token.is_punct("-"):
            self.advance()
            nxt = self.peek()
            if nxt.is_word("infinity", "nan"):
                self.advance()
                return ast.Literal("float", "-" + nxt.value)
            if nxt.kind in (INTEGER, FLOAT, DURATION):
                self.advance()
                return ast.Literal(nxt.kind, "-" + nxt.value)
            raise self.error(nxt)
        if token.is_punct("["):
            self.advance()
            items = []
            if not self.peek().is_punct("]"):
                items.append(self.term())
                while self.accept_punct(","):
                    items.append(self.term())
            self.expect_punct("]")
            return ast.CollectionLiteral("list", tuple(items))
        if token.is_punct("{"):
            return self.brace_literal()
        if token.is_punct("("):
            if self.looks_like_type_hint():
                self.advance()
                target = self.cql_type()
                self.expect_punct(")")
                return ast.TypeHint(target, self.term())
            self.advance()
            items = [self.term()]
            while self.accept_punct(","):
                items.append(self.term())
            self.expect_punct(")")
            return ast.TupleLiteral(tuple(items))
        if kind == IDENT:
            if token.value in ("true", "false"):
                self.advance()
                return ast.Literal("boolean", token.value)
            if token.value == "null":
                self.advance()
                return ast.Literal("null", "null")
            if token.value in ("nan", "infinity"):
                self.advance()
                return ast.Literal("float", token.value)
            if _ISO_DURATION_RE.match(token.value) and not self.peek(1).is_punct("("):
                self.advance()
                return ast.Literal("duration", token.text)
        if kind in (IDENT, QUOTED_IDENT) and (
            self.peek(1).is_punct("(")
            or (self.peek(1).is_punct(".") and self.peek(3).is_punct("("))
        ):
            if token.is_word("cast"):
                self.advance()
                self.advance()
                expr = self.term()
                self.expect_word("as")
                target = self.cql_type()
                self.expect_punct(")")
                return ast.Cast(expr, target)
            name = self.function_name()
            self.expect_punct("(")
            args = []
            if not self.peek().is_punct(")"):
                args.append(self.term())
                while self.accept_punct(","):
                    args.append(self.term())
            self.expect_punct(")")
            return ast.FunctionCall(name, tuple(args))
        raise self.error()

    def looks_like_type_hint(self) -> bool:
        first = self.peek(1)
        if first.kind != IDENT:
            return False
        if first.value in SIMPLE_TYPES:
            return self.peek(2).is_punct(")")
        return first.value in ("frozen", "list", "set", "map", "tuple") and self.peek(2).is_punct(
            "<"
        )

    def brace_literal(self):
        self.expect_punct("{")
        if self.accept_punct("}"):
            return ast.CollectionLiteral("set_or_map", ())
        first = self.term()
        if self.accept_punct(":"):
            items = [(first, self.term())]
            while self.accept_punct(","):
                key = self.term()
                self.expect_punct(":")
                items.append((key, self.term()))
            self.expect_punct("}")
            return ast.CollectionLiteral("map", tuple(items))
        items = [first]
        while self.accept_punct(","):
            items.append(self.term())
        self.expect_punct("}")
        return ast.CollectionLiteral("set", tuple(items))

    # Types -------------------------------------------------------------------

    def cql_type(self) -> CQLType:
        token = self.peek()
        if token.kind == STRING:
            raise InvalidRequest(f"Custom types are not supported: '{token.value}'")
        if token.kind != IDENT:
            raise self.error()
        name = token.value
        self.advance()
        if name in SIMPLE_TYPES:
            return SIMPLE_TYPES[name]
        if name not in ("frozen", "list", "set", "map", "tuple"):
            raise InvalidRequest(f"Unknown type {name}")
        self.expect_punct("<")
        args = [self.cql_type()]
        while self.accept_punct(","):
            args.append(self.cql_type())
        self.expect_punct(">")
        return build_type(name, args)

    # INSERT / UPDATE / DELETE ------------------------------------------------

    def using(self) -> ast.UsingClause:
        ttl = timestamp = None
        while True:
            if self.accept_word("ttl"):
                ttl = self.term()
            elif self.accept_word("timestamp"):
                timestamp = self.term()
            else:
                raise self.error()
            if not self.accept_word("and"):
                break
        return ast.UsingClause(ttl, timestamp)

    def insert(self) -> ast.Insert:
        self.expect_word("insert")
        self.expect_word("into")
        table = self.table_name()
        columns: list[str] = []
        values: list = []
        json = None
        default_unset = False
        if self.accept_word("json"):
            json = self.term()
            if self.accept_word("default"):
                if self.accept_word("unset"):
                    default_unset = True
                else:
                    self.expect_word("null")
        else:
            self.expect_punct("(")
            columns.append(self.identifier())
            while self.accept_punct(","):
                columns.append(self.identifier())
            self.expect_punct(")")
            self.expect_word("values")
            self.expect_punct("(")
            values.append(self.term())
            while self.accept_punct(","):
                values.append(self.term())
            self.expect_punct(")")
        if_not_exists = False
        if self.accept_word("if"):
            self.expect_word("not")
            self.expect_word("exists")
            if_not_exists = True
        using = self.using() if self.accept_word("using") else ast.UsingClause()
        return ast.Insert(
            table, tuple(columns), tuple(values), using, if_not_exists, json, default_unset
        )

    def update(self) -> ast.Update:
        self.expect_word("update")
        table = self.table_name()
        using = self.using() if self.accept_word("using") else ast.UsingClause()
        self.expect_word("set")
        assignments = [self.assignment()]
        while self.accept_punct(","):
            assignments.append(self.assignment())
        self.expect_word("where")
        where = self.where_clause()
        conditions, if_exists = self.conditions()
        return ast.Update(table, tuple(assignments), where, using, conditions, if_exists)

    def assignment(self) -> ast.Assignment:
        column = self.identifier()
        if self.accept_punct("["):
            key = self.term()
            self.expect_punct("]")
            self.expect_punct("=")
            return ast.Assignment(column, "set_element", self.term(), key)
        if self.accept_punct("+="):
            return ast.Assignment(column, "add", self.term())
        if self.accept_punct("-="):
            return ast.Assignment(column, "remove", self.term())
        self.expect_punct("=")
        token = self.peek()
        if (
            token.kind in (IDENT, QUOTED_IDENT)
            and token.value == column
            and self.peek(1).is_punct("+", "-")
        ):
            self.advance()
            op = "add" if self.advance().value == "+" else "remove"
            return ast.Assignment(column, op, self.term())
        value = self.term()
        if self.peek().is_punct("+"):
            self.advance()
            other = self.identifier()
            if other != column:
                raise InvalidRequest(
                    f"Invalid operation ({column} = {other} + ...) for non counter column {column}"
                )
            return ast.Assignment(column, "prepend", value)
        return ast.Assignment(column, "set", value)

    def conditions(self) -> tuple[tuple[ast.Condition, ...], bool]:
        if not self.accept_word("if"):
            return (), False
        if self.accept_word("exists"):
            return (), True
        items = [self.condition()]
        while self.accept_word("and"):
            items.append(self.condition())
        return tuple(items), False

    def condition(self) -> ast.Condition:
        column = self.identifier()
        key = None
        if self.accept_punct("["):
            key = self.term()
            self.expect_punct("]")
        if self.accept_word("in"):
            return ast.Condition(column, "IN", self.in_values(), key)
        op = self.comparison_op()
        return ast.Condition(column, op, self.term(), key)

    def delete(self) -> ast.Delete:
        self.expect_word("delete")
        targets = []
        if not self.peek().is_word("from"):
            targets.append(self.delete_target())
            while self.accept_punct(","):
                targets.append(self.delete_target())
        self.expect_word("from")
        table = self.table_name()
        using = self.using() if self.accept_word("using") else ast.UsingClause()
        self.expect_word("where")
        where = self.where_clause()
        conditions, if_exists = self.conditions()
        return ast.Delete(table, tuple(targets), where, using, conditions, if_exists)

    def delete_target(self) -> ast.DeleteTarget:
        column = self.identifier()
        if self.accept_punct("["):
            key = self.term()
            self.expect_punct("]")
            return ast.DeleteTarget(column, key)
        return ast.DeleteTarget(column)

    def batch(self) -> ast.Batch:
        self.expect_word("begin")
        kind = "logged"
        if self.accept_word("unlogged"):
            kind = "unlogged"
        elif self.accept_word("counter"):
            kind = "counter"
        elif self.accept_word("logged"):
            kind = "logged"
        self.expect_word("batch")
        using = self.using() if self.accept_word("using") else ast.UsingClause()
        statements = []
        while not self.peek().is_word("apply"):
            token = self.peek()
            if token.is_word("insert"):
                statements.append(self.insert())
            elif token.is_word("update"):
                statements.append(self.update())
            elif token.is_word("delete"):
                statements.append(self.delete())
            else:
                raise self.error(expecting="APPLY" if token.kind == EOF else None)
            while self.accept_punct(";"):
                pass
        self.expect_word("apply")
        self.expect_word("batch")
        return ast.Batch(kind, tuple(statements), using)

    # DDL ---------------------------------------------------------------------

    def if_not_exists(self) -> bool:
        if self.accept_word("if"):
            self.expect_word("not")
            self.expect_word("exists")
            return True
        return False

    def if_exists(self) -> bool:
        if self.accept_word("if"):
            self.expect_word("exists")
            return True
        return False

    def create(self):
        self.expect_word("create")
        if self.accept_word("keyspace", "schema"):
            if_not_exists = self.if_not_exists()
            name = self.identifier()
            self.expect_word("with")
            return ast.CreateKeyspace(name, self.properties(), if_not_exists)
        if self.accept_word("table", "columnfamily"):
            return self.create_table()
        token = self.peek()
        if token.kind == IDENT and token.value in (
            "index",
            "custom",
            "type",
            "function",
            "aggregate",
            "materialized",
            "trigger",
            "or",
            "role",
            "user",
        ):
            raise InvalidRequest(
                f"CREATE {token.value.upper()} statements are not supported by this server"
            )
        raise self.error()

    def properties(self, table: bool = False) -> dict:
        props: dict = {}
        while True:
            if table and self.peek().is_word("clustering"):
                self.advance()
                self.expect_word("order")
                self.expect_word("by")
                self.expect_punct("(")
                order = []
                while True:
                    name = self.identifier()
                    desc = False
                    if self.accept_word("desc"):
                        desc = True
                    else:
                        self.expect_word("asc")
                    order.append((name, desc))
                    if not self.accept_punct(","):
                        break
                self.expect_punct(")")
                props["clustering order"] = tuple(order)
            elif table and self.peek().is_word("compact"):
                self.advance()
                self.expect_word("storage")
                raise InvalidRequest(
                    "Compact tables are not allowed in Cassandra starting with 4.0 version."
                )
            else:
                name = self.identifier(allow_reserved=True)
                self.expect_punct("=")
                if name in props:
                    raise SyntaxException(f"Multiple definitions for property '{name}'")
                props[name] = self.property_value()
            if not self.accept_word("and"):
                return props

    def property_value(self):
        token = self.peek()
        if token.is_punct("{"):
            self.advance()
            out = {}
            if not self.accept_punct("}"):
                while True:
                    key = self.property_value()
                    self.expect_punct(":")
                    out[str(key)] = self.property_value()
                    if not self.accept_punct(","):
                        break
                self.expect_punct("}")
            return out
        if token.kind == STRING:
            self.advance()
            return token.value
        if token.kind == INTEGER:
            self.advance()
            return int(token.value)
        if token.kind == FLOAT:
            self.advance()
            return float(token.value)
        if token.is_punct("-") and self.peek(1).kind in (INTEGER, FLOAT):
            self.advance()
            number = self.advance()
            return -int(number.value) if number.kind == INTEGER else -float(number.value)
        if token.is_word("true", "false"):
            self.advance()
            return token.value == "true"
        if token.kind in (IDENT, QUOTED_IDENT):
            self.advance()
            return token.value
        raise self.error()

    def create_table(self) -> ast.CreateTable:
        if_not_exists = self.if_not_exists()
        table = self.table_name()
        self.expect_punct("(")
        columns: list[ast.ColumnDef] = []
        partition_key: list[str] = []
        clustering: list[str] = []
        inline_pk = None
        declared_pk = False
        while True:
            if self.peek().is_word("primary"):
                self.advance()
                self.expect_word("key")
                if declared_pk or inline_pk:
                    raise InvalidRequest("Multiple PRIMARY KEYs specified (exactly one required)")
                declared_pk = True
                self.expect_punct("(")
                if self.accept_punct("("):
                    partition_key.append(self.identifier())
                    while self.accept_punct(","):
                        partition_key.append(self.identifier())
                    self.expect_punct(")")
                else:
                    partition_key.append(self.identifier())
                while self.accept_punct(","):
                    clustering.append(self.identifier())
                self.expect_punct(")")
            else:
                name = self.identifier()
                cql_type = self.cql_type()
                static = self.accept_word("static")
                if self.accept_word("primary"):
                    self.expect_word("key")
                    if declared_pk or inline_pk:
                        raise InvalidRequest(
                            "Multiple PRIMARY KEYs specified (exactly one required)"
                        )
                    inline_pk = name
                columns.append(ast.ColumnDef(name, cql_type, static))
            if not self.accept_punct(","):
                break
            if self.peek().is_punct(")"):
                break
        self.expect_punct(")")
        if inline_pk:
            partition_key = [inline_pk]
        options = {}
        order: tuple = ()
        if self.accept_word("with"):
            options = self.properties(table=True)
            order = options.pop("clustering order", ())
        return ast.CreateTable(
            table,
            tuple(columns),
            tuple(partition_key),
            tuple(clustering),
            options,
            order,
            if_not_exists,
        )

    def alter(self):
        self.expect_word("alter")
        if self.accept_word("keyspace", "schema"):
            if_exists = self.if_exists()
            name = self.identifier()
            self.expect_word("with")
            return ast.AlterKeyspace(name, self.properties(), if_exists)
        if not self.accept_word("table", "columnfamily"):
            token = self.peek()
            if token.kind == IDENT and token.value in ("type", "materialized", "role", "user"):
                raise InvalidRequest(
                    f"ALTER {token.value.upper()} statements are not supported by this server"
                )
            raise self.error()
        if_exists = self.if_exists()
        table = self.table_name()
        if self.accept_word("add"):
            self.if_not_exists()
            defs = []
            if self.accept_punct("("):
                while True:
                    defs.append(self.column_def())
                    if not self.accept_punct(","):
                        break
                self.expect_punct(")")
            else:
                defs.append(self.column_def())
            return ast.AlterTable(table, "add", tuple(defs), if_exists)
        if self.accept_word("drop"):
            self.if_exists()
            names = []
            if self.accept_punct("("):
                names.append(self.identifier())
                while self.accept_punct(","):
                    names.append(self.identifier())
                self.expect_punct(")")
            else:
                names.append(self.identifier())
            return ast.AlterTable(table, "drop", tuple(names), if_exists)
        if self.accept_word("rename"):
            self.if_exists()
            pairs = []
            while True:
                old = self.identifier()
                self.expect_word("to")
                pairs.append((old, self.identifier()))
                if not self.accept_word("and"):
                    break
            return ast.AlterTable(table, "rename", tuple(pairs), if_exists)
        if self.accept_word("with"):
            return ast.AlterTable(table, "with", self.properties(table=True), if_exists)
        if self.accept_word("alter"):
            name = self.identifier()
            self.expect_word("type")
            return ast.AlterTable(table, "alter", (name, self.cql_type()), if_exists)
        raise self.error()

    def column_def(self) -> ast.ColumnDef:
        name = self.identifier()
        cql_type = self.cql_type()
        return ast.ColumnDef(name, cql_type, self.accept_word("static"))

    def drop(self):
        self.expect_word("drop")
        if self.accept_word("keyspace", "schema"):
            if_exists = self.if_exists()
            return ast.DropKeyspace(self.identifier(), if_exists)
        if self.accept_word("table", "columnfamily"):
            if_exists = self.if_exists()
            return ast.DropTable(self.table_name(), if_exists)
        token = self.peek()
        if token.kind == IDENT and token.value in (
            "index",
            "type",
            "function",
            "aggregate",
            "materialized",
            "trigger",
            "role",
            "user",
        ):
            raise InvalidRequest(
                f"DROP {token.value.upper()} statements are not supported by this server"
            )
        raise self.error()
