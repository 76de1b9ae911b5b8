"""Read the blog's versioned CQL schema files and apply the new ones.

Owns the ``blog/schema/NNNN_name.cql`` convention and the
``schema_migrations`` table that records which versions a keyspace has.
Every statement in the files is idempotent (``IF NOT EXISTS``), so a run
interrupted half-way is finished by the next. Never formats anything but
the validated keyspace name into a statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.cql$")
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,47}$")


@dataclass(frozen=True)
class SchemaFile:
    """One versioned schema file."""

    version: int
    name: str
    path: Path

    def statements(self) -> list[str]:
        """Return the file's CQL statements, comments removed."""
        return split_statements(self.path.read_text(encoding="utf-8"))


def schema_files(directory: Path = SCHEMA_DIR) -> list[SchemaFile]:
    """Return the schema files in version order; refuse duplicate versions."""
    found: dict[int, SchemaFile] = {}
    for path in sorted(directory.glob("*.cql")):
        match = FILE_NAME.match(path.name)
        if match is None:
            raise ValueError(f"{path.name}: schema files are named NNNN_name.cql")
        version = int(match.group(1))
        if version in found:
            raise ValueError(
                f"{path.name}: version {version} is already {found[version].path.name}"
            )
        found[version] = SchemaFile(version, match.group(2), path)
    return [found[v] for v in sorted(found)]


def split_statements(text: str) -> list[str]:
    """Split CQL text on semicolons outside quotes, dropping -- and // comments."""
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            end = i + 1
            while end < n:
                if text[end] == ch:
                    if end + 1 < n and text[end + 1] == ch:
                        end += 2
                        continue
                    break
                end += 1
            current.append(text[i : end + 1])
            i = end + 1
        elif text.startswith("--", i) or text.startswith("//", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif ch == ";":
            statement = " ".join("".join(current).split())
            if statement:
                statements.append(statement)
            current = []
            i += 1
        else:
            current.append(ch)
            i += 1
    tail = " ".join("".join(current).split())
    if tail:
        statements.append(tail)
    return statements


def check_identifier(name: str) -> str:
    """Return name if it is a plain CQL identifier, else raise ValueError."""
    if not IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a plain CQL identifier")
    return name


def apply_schema(session, keyspace: str, replication: str, log=print) -> list[SchemaFile]:
    """Create the keyspace if needed and apply every schema file not yet applied.

    Return the files applied by this call.
    """
    ks = check_identifier(keyspace)
    session.execute(f"CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication = {replication}")
    session.execute(
        f"CREATE TABLE IF NOT EXISTS {ks}.schema_migrations "
        "(version int PRIMARY KEY, name text, applied_at timestamp)"
    )
    applied = {
        row.version for row in session.execute(f"SELECT version FROM {ks}.schema_migrations")
    }
    record = session.prepare(
        f"INSERT INTO {ks}.schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"
    )
    done: list[SchemaFile] = []
    for schema_file in schema_files():
        if schema_file.version in applied:
            continue
        session.execute(f"USE {ks}")
        for statement in schema_file.statements():
            session.execute(statement)
        session.execute(record, (schema_file.version, schema_file.name, datetime.now(UTC)))
        log(f"applied {schema_file.path.name}")
        done.append(schema_file)
    return done
