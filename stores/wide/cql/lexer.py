"""Split CQL text into tokens that remember their line and column.

Keywords and unquoted identifiers are case-insensitive and come out lower
case; double-quoted identifiers keep their case. Errors are Cassandra's
``SyntaxException`` with ANTLR-style ``line L:C`` positions (line from 1,
column from 0). The lexer knows no grammar and no schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stores.wide.cql.errors import SyntaxException

IDENT = "ident"
QUOTED_IDENT = "quoted_ident"
STRING = "string"
INTEGER = "integer"
FLOAT = "float"
UUID = "uuid"
HEX = "hex"
DURATION = "duration"
PUNCT = "punct"
EOF = "eof"

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>--[^\n]*|//[^\n]*|/\*.*?\*/)
  | (?P<uuid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Za-z_]))
  | (?P<hex>0[xX][0-9a-fA-F]*(?![0-9A-Za-z_]))
  | (?P<duration>-?(?:\d+(?:mo|ms|us|µs|ns|y|w|d|h|m|s))+(?![0-9A-Za-z_]))
  | (?P<float>-?\d+(?:\.\d*(?:[eE][+-]?\d+)?|[eE][+-]?\d+))
  | (?P<integer>-?\d+)
  | (?P<string>'(?:[^']|'')*'|\$\$.*?\$\$)
  | (?P<quoted_ident>"(?:[^"]|"")+")
  | (?P<ident>[A-Za-z][A-Za-z0-9_]*)
  | (?P<punct><=|>=|!=|\+=|-=|[(),;.*=<>\[\]{}:?+\-/%])
    """,
    re.VERBOSE | re.DOTALL | re.IGNORECASE,
)

# After these a '-' is an operator, not a sign.
_VALUE_END = {IDENT, QUOTED_IDENT, INTEGER, FLOAT, STRING, UUID, HEX, DURATION}


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its value (decoded), its source text and position."""

    kind: str
    value: str
    text: str
    line: int
    column: int
    offset: int

    def is_word(self, *words: str) -> bool:
        """Return True if the token is an unquoted identifier among ``words``."""
        return self.kind == IDENT and self.value in words

    def is_punct(self, *symbols: str) -> bool:
        """Return True if the token is one of the punctuation ``symbols``."""
        return self.kind == PUNCT and self.value in symbols


def tokenize(source: str) -> list[Token]:
    """Return the tokens of ``source``, ending with an EOF token."""
    tokens: list[Token] = []
    pos = 0
    line = 1
    line_start = 0
    length = len(source)
    while pos < length:
        match = _TOKEN_RE.match(source, pos)
        if match is None:
            column = pos - line_start
            if source[pos] in "'\"" or source.startswith("$$", pos):
                raise SyntaxException(
                    f"line {line}:{column} mismatched character '<EOF>' expecting '{source[pos]}'",
                    line,
                    column,
                )
            raise SyntaxException(
                f"line {line}:{column} no viable alternative at character '{source[pos]}'",
                line,
                column,
            )
        kind = match.lastgroup
        text = match.group()
        column = pos - line_start
        if kind in ("integer", "float", "duration") and text.startswith("-"):
            if tokens and (tokens[-1].kind in _VALUE_END or tokens[-1].is_punct(")", "]", "}")):
                tokens.append(Token(PUNCT, "-", "-", line, column, pos))
                pos += 1
                continue
        if kind not in ("ws", "comment"):
            tokens.append(Token(kind, _decode(kind, text), text, line, column, pos))
        newlines = text.count("\n")
        if newlines:
            line += newlines
            line_start = pos + text.rindex("\n") + 1
        pos = match.end()
    tokens.append(Token(EOF, "", "<EOF>", line, pos - line_start, pos))
    return tokens


def _decode(kind: str, text: str) -> str:
    if kind == "ident":
        return text.lower()
    if kind == "quoted_ident":
        return text[1:-1].replace('""', '"')
    if kind == "string":
        if text.startswith("$$"):
            return text[2:-2]
        return text[1:-1].replace("''", "'")
    if kind == "hex":
        return text.lower()
    return text
