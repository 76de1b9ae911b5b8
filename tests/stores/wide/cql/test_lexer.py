"""The CQL lexer: token kinds, values, positions and errors."""

import pytest

from stores.wide.cql.errors import SyntaxException
from stores.wide.cql.lexer import tokenize


def kinds(source):
    return [(t.kind, t.value) for t in tokenize(source)[:-1]]


def test_tokens_and_case():
    assert kinds('SELECT "MyCol", x FROM ks.t') == [
        ("ident", "select"),
        ("quoted_ident", "MyCol"),
        ("punct", ","),
        ("ident", "x"),
        ("ident", "from"),
        ("ident", "ks"),
        ("punct", "."),
        ("ident", "t"),
    ]


def test_literals():
    assert kinds(
        "'it''s' $$a'b$$ 12, -3 1.5e3 0xCAFE 1h30m e7ee39b6-3e58-11ee-9b61-0242ac120002"
    ) == [
        ("string", "it's"),
        ("string", "a'b"),
        ("integer", "12"),
        ("punct", ","),
        ("integer", "-3"),
        ("float", "1.5e3"),
        ("hex", "0xcafe"),
        ("duration", "1h30m"),
        ("uuid", "e7ee39b6-3e58-11ee-9b61-0242ac120002"),
    ]


def test_minus_after_a_value_is_an_operator():
    assert kinds("c = c -1") == [
        ("ident", "c"),
        ("punct", "="),
        ("ident", "c"),
        ("punct", "-"),
        ("integer", "1"),
    ]


def test_comments_and_positions():
    tokens = tokenize("-- note\nSELECT /* x\ny */ a\n  FROM t")
    select, a, from_ = tokens[0], tokens[1], tokens[2]
    assert (select.line, select.column) == (2, 0)
    assert (a.line, a.column) == (3, 5)
    assert (from_.line, from_.column) == (4, 2)


def test_bad_character_reports_line_and_column():
    with pytest.raises(SyntaxException) as info:
        tokenize("SELECT *\nFROM t WHERE a = #")
    assert str(info.value) == "line 2:17 no viable alternative at character '#'"
    assert (info.value.line, info.value.column) == (2, 17)


def test_unterminated_string():
    with pytest.raises(SyntaxException, match="line 1:7"):
        tokenize("SELECT 'abc")
