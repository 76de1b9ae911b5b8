"""The CQL parser: statement shapes, bind markers and syntax errors."""

import pytest

from stores.wide.cql import ast
from stores.wide.cql.errors import InvalidRequest, SyntaxException
from stores.wide.cql.parser import parse, split_statements


def test_select_clauses():
    stmt = parse(
        "SELECT DISTINCT a AS x, count(*) FROM ks.t WHERE a IN (1, 2) AND (b, c) >= (1, 'x') "
        "AND token(a) > 5 AND m CONTAINS KEY 'k' GROUP BY a ORDER BY b DESC PER PARTITION LIMIT 2 "
        "LIMIT ? ALLOW FILTERING;"
    ).statement
    assert stmt.table == ast.TableName("ks", "t")
    assert stmt.distinct and stmt.allow_filtering
    assert stmt.selectors[0] == ast.Selector(ast.ColumnRef("a"), "x")
    assert isinstance(stmt.selectors[1].expr, ast.CountStar)
    ops = [r.op for r in stmt.where]
    assert ops == ["IN", ">=", ">", "CONTAINS_KEY"]
    assert isinstance(stmt.where[2].lhs, ast.TokenRef)
    assert stmt.order_by == (("b", True),)
    assert stmt.group_by == ("a",)
    assert stmt.limit == ast.BindMarker(0)


def test_markers_are_numbered_and_named():
    parsed = parse("UPDATE t USING TTL :ttl SET v = ?, m[:k] = :v WHERE k = ? IF v = ?")
    assert [(m.index, m.name) for m in parsed.markers] == [
        (0, "ttl"),
        (1, None),
        (2, "k"),
        (3, "v"),
        (4, None),
        (5, None),
    ]


def test_update_assignment_forms():
    stmt = parse(
        "UPDATE t SET a = a + {1}, b = [0] + b, c = c - 2, d += 1, e['k'] = 1 WHERE k = 0"
    ).statement
    assert [(a.column, a.op) for a in stmt.assignments] == [
        ("a", "add"),
        ("b", "prepend"),
        ("c", "remove"),
        ("d", "add"),
        ("e", "set_element"),
    ]


def test_create_table_shapes():
    stmt = parse(
        "CREATE TABLE IF NOT EXISTS t (a int, b text, c timeuuid, s text static, v map<text, int>, "
        "PRIMARY KEY ((a, b), c)) WITH CLUSTERING ORDER BY (c DESC) AND default_time_to_live = 10"
    ).statement
    assert stmt.if_not_exists
    assert stmt.partition_key == ("a", "b") and stmt.clustering == ("c",)
    assert stmt.clustering_order == (("c", True),)
    assert stmt.options == {"default_time_to_live": 10}
    assert stmt.columns[3].static


def test_batch_and_split():
    stmt = parse(
        "BEGIN UNLOGGED BATCH USING TIMESTAMP 5 INSERT INTO t (a) VALUES (1); DELETE FROM t WHERE a = 1; APPLY BATCH"
    ).statement
    assert stmt.kind == "unlogged" and len(stmt.statements) == 2
    script = "CREATE TABLE t (a int PRIMARY KEY);\nINSERT INTO t (a) VALUES (1); BEGIN BATCH INSERT INTO t (a) VALUES (2); APPLY BATCH;"
    assert len(split_statements(script)) == 3


@pytest.mark.parametrize(
    "query,message",
    [
        ("SELECT * FORM t", "line 1:9 mismatched input 'FORM' expecting FROM"),
        ("SELECT * FROM t WHERE", "line 1:21 no viable alternative at input '<EOF>'"),
        ("SELECT *\nFROM t\nWHERE a = = 1", "line 3:10 no viable alternative at input '='"),
        (
            "INSERT INTO t (a) VALUES (1) garbage",
            "line 1:29 mismatched input 'garbage' expecting EOF",
        ),
        (
            "CREATE TABLE select (a int PRIMARY KEY)",
            "line 1:13 no viable alternative at input 'select'",
        ),
    ],
)
def test_syntax_errors_point_at_line_and_column(query, message):
    with pytest.raises(SyntaxException) as info:
        parse(query)
    assert str(info.value) == message


def test_unsupported_statements_are_invalid_requests():
    with pytest.raises(InvalidRequest):
        parse("CREATE INDEX ON t (v)")


def test_deep_nesting_does_not_crash():
    with pytest.raises(SyntaxException):
        parse("SELECT * FROM t WHERE a = " + "[" * 5000)
