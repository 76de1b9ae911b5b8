"""Encode CQL column types as the protocol's [option] in result metadata.

The CQL layer names column types the way ``system_schema.columns.type`` shows
them (``int``, ``frozen<map<text, list<int>>>``, ``tuple<int, text>``); this
module parses such a name into a ``TypeSpec`` and writes its option id with
the parameters the spec requires (element types for collections, field names
and types for user types, component types for tuples, a class name for custom
types such as ``duration`` in v4). Knows nothing of values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from stores.wide.protocol import format as fmt
from stores.wide.protocol.primitives import BodyWriter

_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_.$]*|\"(?:[^\"]|\"\")+\"|'[^']*')|([<>,]))")

# Look up a user type: (keyspace, type name) -> [(field name, field type name)].
UserTypeResolver = Callable[[str, str], list[tuple[str, str]] | None]


@dataclass(frozen=True)
class TypeSpec:
    """A parsed CQL type: a name and its parameters (already parsed)."""

    name: str
    parameters: tuple[TypeSpec, ...] = ()
    keyspace: str = ""
    field_names: tuple[str, ...] = ()

    def __str__(self) -> str:
        if not self.parameters:
            return self.name
        if self.name == "udt":
            return self.keyspace
        return f"{self.name}<{', '.join(str(p) for p in self.parameters)}>"


class TypeNameError(ValueError):
    """A CQL type name this module cannot parse."""


def parse_type(
    text: str, keyspace: str = "", resolve_user_type: UserTypeResolver | None = None
) -> TypeSpec:
    """Return the TypeSpec for a CQL type name; ``frozen<>`` is dropped.

    A name that is neither a native type nor a collection or tuple is looked
    up as a user type of ``keyspace`` with ``resolve_user_type``.
    """
    tokens = _tokenize(text)
    spec, pos = _parse(tokens, 0, keyspace, resolve_user_type)
    if pos != len(tokens):
        raise TypeNameError(f"unexpected {tokens[pos]!r} in type {text!r}")
    return spec


def _tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise TypeNameError(f"cannot parse type {text!r}")
        tokens.append(match.group(1) or match.group(2))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def _expect(tokens: list[str], pos: int, token: str) -> int:
    if pos >= len(tokens) or tokens[pos] != token:
        raise TypeNameError(f"expected {token!r} in type {' '.join(tokens)!r}")
    return pos + 1


def _parse(
    tokens: list[str], pos: int, keyspace: str, resolve: UserTypeResolver | None
) -> tuple[TypeSpec, int]:
    if pos >= len(tokens):
        raise TypeNameError("type name ends early")
    word = tokens[pos]
    pos += 1
    if word.startswith("'"):
        return TypeSpec("custom", keyspace=word.strip("'")), pos
    name = word[1:-1].replace('""', '"') if word.startswith('"') else word.lower()
    if name in ("frozen", "list", "set", "map", "tuple"):
        pos = _expect(tokens, pos, "<")
        params = []
        while True:
            param, pos = _parse(tokens, pos, keyspace, resolve)
            params.append(param)
            if pos < len(tokens) and tokens[pos] == ",":
                pos += 1
                continue
            pos = _expect(tokens, pos, ">")
            break
        arity = {"frozen": 1, "list": 1, "set": 1, "map": 2}.get(name)
        if arity is not None and len(params) != arity:
            raise TypeNameError(f"{name} takes {arity} type parameter(s)")
        if name == "frozen":
            return params[0], pos
        return TypeSpec(name, tuple(params)), pos
    if name in fmt.SIMPLE_TYPE_IDS or name in fmt.CUSTOM_TYPE_CLASSES:
        return TypeSpec(name), pos
    if "." in word and not word.startswith('"'):
        return TypeSpec("custom", keyspace=word), pos
    fields = resolve(keyspace, name) if resolve is not None else None
    if fields is None:
        raise TypeNameError(f"unknown type {word!r}")
    parsed = tuple(parse_type(t, keyspace, resolve) for _, t in fields)
    return (
        TypeSpec(
            "udt",
            parsed,
            keyspace=f"{keyspace}.{name}",
            field_names=tuple(f for f, _ in fields),
        ),
        pos,
    )


def write_type(writer: BodyWriter, spec: TypeSpec) -> None:
    """Append the [option] for a type."""
    simple = fmt.SIMPLE_TYPE_IDS.get(spec.name)
    if simple is not None:
        writer.write_short(simple)
        return
    if spec.name in fmt.CUSTOM_TYPE_CLASSES:
        writer.write_short(fmt.TYPE_CUSTOM).write_string(fmt.CUSTOM_TYPE_CLASSES[spec.name])
    elif spec.name == "custom":
        writer.write_short(fmt.TYPE_CUSTOM).write_string(spec.keyspace)
    elif spec.name in ("list", "set"):
        writer.write_short(fmt.TYPE_LIST if spec.name == "list" else fmt.TYPE_SET)
        write_type(writer, spec.parameters[0])
    elif spec.name == "map":
        writer.write_short(fmt.TYPE_MAP)
        write_type(writer, spec.parameters[0])
        write_type(writer, spec.parameters[1])
    elif spec.name == "tuple":
        writer.write_short(fmt.TYPE_TUPLE).write_short(len(spec.parameters))
        for param in spec.parameters:
            write_type(writer, param)
    elif spec.name == "udt":
        keyspace, _, name = spec.keyspace.partition(".")
        writer.write_short(fmt.TYPE_UDT).write_string(keyspace).write_string(name)
        writer.write_short(len(spec.parameters))
        for field_name, param in zip(spec.field_names, spec.parameters, strict=True):
            writer.write_string(field_name)
            write_type(writer, param)
    else:
        raise TypeNameError(f"no protocol option for type {spec.name!r}")
