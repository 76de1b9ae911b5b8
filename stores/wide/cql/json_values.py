"""JSON to CQL values and back, for INSERT JSON and SELECT JSON.

Follows Cassandra's mapping: numbers as JSON numbers, text, uuids, dates and
timestamps as strings, blobs as ``"0x..."`` strings, lists and sets as
arrays, maps as objects (keys as strings). Never touches storage.
"""

from __future__ import annotations

import json
from decimal import Decimal

from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.types import (
    CQLType,
    ListType,
    MapType,
    MarshalError,
    SetType,
    TupleType,
    make_set,
)


def from_json(cql_type: CQLType, value, name: str):
    """Return the Python value of a decoded JSON value for a column."""
    if value is None:
        return None
    try:
        if isinstance(cql_type, ListType):
            return [from_json(cql_type.element, v, name) for v in _array(value, name)]
        if isinstance(cql_type, SetType):
            return make_set(from_json(cql_type.element, v, name) for v in _array(value, name))
        if isinstance(cql_type, MapType):
            if not isinstance(value, dict):
                raise InvalidRequest(f"Expected a map, but got a {type(value).__name__}: {value}")
            return {
                _key(cql_type.key, k, name): from_json(cql_type.value, v, name)
                for k, v in value.items()
            }
        if isinstance(cql_type, TupleType):
            return tuple(
                from_json(t, v, name)
                for t, v in zip(cql_type.subtypes, _array(value, name), strict=False)
            )
        kind = cql_type.name
        if isinstance(value, bool):
            if kind != "boolean":
                raise InvalidRequest(f"Unable to make {kind} from '{value}'")
            return value
        if isinstance(value, int):
            if kind in ("float", "double"):
                return float(value)
            if kind == "decimal":
                return Decimal(value)
            if kind in ("timestamp", "date", "time"):
                return cql_type.from_literal("integer", str(value))
            cql_type.serialize(value)
            return value
        if isinstance(value, float):
            if kind == "decimal":
                return Decimal(repr(value))
            return cql_type.from_literal("float", repr(value))
        if isinstance(value, str):
            if kind in ("text", "ascii", "varchar"):
                return cql_type.from_literal("string", value)
            if kind == "blob":
                if not value.startswith("0x"):
                    raise InvalidRequest(
                        f"Value '{value}' is not a valid blob representation: String representation of blob is missing 0x prefix: {value}"
                    )
                return cql_type.from_literal("hex", value)
            if kind in ("uuid", "timeuuid"):
                return cql_type.from_literal("uuid", value)
            if kind in ("int", "bigint", "smallint", "tinyint", "varint"):
                return cql_type.from_literal("integer", value)
            if kind in ("float", "double", "decimal"):
                return cql_type.from_literal("float", value)
            if kind == "duration":
                return cql_type.from_literal("duration", value)
            if kind == "boolean":
                return cql_type.from_literal("boolean", value)
            return cql_type.from_literal("string", value)
    except MarshalError as exc:
        raise InvalidRequest(f"Error decoding JSON value for {name}: {exc.message}") from None
    raise InvalidRequest(f"Error decoding JSON value for {name}: unsupported value {value!r}")


def _array(value, name: str) -> list:
    if not isinstance(value, list):
        raise InvalidRequest(
            f"Error decoding JSON value for {name}: expected a list but got {value!r}"
        )
    return value


def _key(cql_type: CQLType, key: str, name: str):
    if cql_type.name in ("text", "ascii", "varchar"):
        return key
    try:
        return from_json(cql_type, json.loads(key), name)
    except ValueError:
        return from_json(cql_type, key, name)


def to_json_value(cql_type: CQLType, value):
    """Return the JSON-able form of a Python value of ``cql_type``."""
    if value is None:
        return None
    if isinstance(cql_type, ListType | SetType):
        return [to_json_value(cql_type.element, v) for v in value]
    if isinstance(cql_type, MapType):
        out = {}
        for k, v in value.items():
            key = to_json_value(cql_type.key, k)
            out[key if isinstance(key, str) else json.dumps(key)] = to_json_value(cql_type.value, v)
        return out
    if isinstance(cql_type, TupleType):
        return [to_json_value(t, v) for t, v in zip(cql_type.subtypes, value, strict=False)]
    return cql_type.to_json(value)


def dumps(data) -> str:
    """Return compact JSON the way Cassandra prints it (``{"k": 1}``)."""
    return json.dumps(data, ensure_ascii=False, separators=(", ", ": "))
