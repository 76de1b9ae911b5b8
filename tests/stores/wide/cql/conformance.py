"""Data-driven CQL conformance cases, runnable through any CQL client.

A case file (``cases/*.cql-test``) is a sequence of statements, each ending
with ``;``, optionally followed by an expectation:

    => rows                 expected rows follow, one Python literal per line,
                            in order, until a blank line
    => rows in any order    the same, order ignored
    => columns a, b         the result's column names
    => count N              the number of rows
    => error Class: message the statement fails with this error class and exact message
    => error Class ~ text   ... whose message contains ``text``

Error messages may list alternatives separated by `` || `` where a client
words the error itself (cassandra-driver builds AlreadyExists' message
client-side).

A statement with no expectation must succeed. ``@fetch_size N`` sets the
page size for the statements after it (rows are still compared in full);
``@fetch_size unpaged`` (passed as 0) disables paging, ``@fetch_size none``
restores the client's default.
Lines starting with ``--`` are comments.

The runner only needs a client with ``execute(statement, fetch_size)``
returning ``(column_names, rows)`` and raising exceptions whose class name is
the CQL error class (InvalidRequest, SyntaxException, AlreadyExists, ...): the
in-process Session and cassandra-driver both fit with a thin adapter.
"""

from __future__ import annotations

import datetime
import math
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from stores.wide.cql.values import Date, Duration, Time

CASES_DIR = Path(__file__).parent / "cases"


class _Any:
    def __eq__(self, other):
        return True

    def __repr__(self):
        return "ANY"


class _Close:
    def __init__(self, value, tolerance):
        self.value = value
        self.tolerance = tolerance

    def __eq__(self, other):
        return other is not None and abs(other - self.value) <= self.tolerance

    def __repr__(self):
        return f"~{self.value}"


NAMESPACE = {
    "UUID": uuid.UUID,
    "Decimal": Decimal,
    "datetime": datetime.datetime,
    "date": datetime.date,
    "Date": Date,
    "Time": Time,
    "Duration": Duration,
    "ANY": _Any(),
    "close": _Close,
    "inf": math.inf,
    "null": None,
    "true": True,
    "false": False,
}


@dataclass
class Step:
    """One statement and what it must produce."""

    statement: str
    line: int
    fetch_size: int | None = None
    expect: str = "ok"  # ok, rows, rows_any_order, columns, count, error
    rows: list = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    count: int = 0
    error_class: str = ""
    message: str = ""
    contains: bool = False


def load_case(path: Path) -> list[Step]:
    """Return the steps of a case file."""
    steps: list[Step] = []
    fetch_size = None
    pending: list[str] = []
    start_line = 0
    current: Step | None = None
    in_rows = False
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if in_rows:
            if line.startswith(("(", "[")):
                current.rows.append(tuple(eval(line, dict(NAMESPACE))))  # noqa: S307
                continue
            in_rows = False
        if not pending and (not line or line.startswith("--")):
            continue
        if not pending and line.startswith("@fetch_size"):
            value = line.split()[1]
            fetch_size = {"none": None, "unpaged": 0}.get(value)
            if fetch_size is None and value != "none":
                fetch_size = int(value)
            continue
        if not pending and line.startswith("=>"):
            if current is None:
                raise ValueError(f"{path}:{number}: expectation without a statement")
            spec = line[2:].strip()
            if spec.startswith("rows"):
                current.expect = "rows_any_order" if "any order" in spec else "rows"
                in_rows = True
            elif spec.startswith("columns"):
                current.expect = "columns"
                current.columns = [c.strip() for c in spec[len("columns") :].split(",")]
            elif spec.startswith("count"):
                current.expect = "count"
                current.count = int(spec.split()[1])
            elif spec.startswith("error"):
                current.expect = "error"
                body = spec[len("error") :].strip()
                if "~" in body.split(":", 1)[0]:
                    cls, _, text = body.partition("~")
                    current.contains = True
                else:
                    cls, _, text = body.partition(":")
                current.error_class = cls.strip()
                current.message = text.strip()
            else:
                raise ValueError(f"{path}:{number}: unknown expectation {spec!r}")
            continue
        if not pending:
            start_line = number
        pending.append(raw)
        in_batch = pending[0].strip().upper().startswith("BEGIN")
        if line.endswith(";") and (not in_batch or line.upper().endswith("APPLY BATCH;")):
            text = "\n".join(pending).strip()[:-1].strip()
            current = Step(text, start_line, fetch_size)
            steps.append(current)
            pending = []
    if pending:
        raise ValueError(f"{path}: unterminated statement at line {start_line}")
    return steps


_DRIVER_MESSAGE = re.compile(r'message="(.*)"$', re.DOTALL)


def error_message(exc: Exception) -> str:
    """Return the server's message of a client exception.

    cassandra-driver wraps it as ``Error from server: code=... message="..."``.
    """
    message = getattr(exc, "message", None) or str(exc)
    match = _DRIVER_MESSAGE.search(message)
    return match.group(1) if match else message


def same_row(got: tuple, expected: tuple) -> bool:
    """Return True if two rows are equal, comparing each value both ways.

    Both ways, so that a client's own value classes (cassandra-driver's
    Duration, say) compare equal to the ones written in the case files.
    """
    return len(got) == len(expected) and all(
        g == e or e == g for g, e in zip(got, expected, strict=True)
    )


def case_files() -> list[Path]:
    """Return every case file, sorted."""
    return sorted(CASES_DIR.glob("*.cql-test"))


def run_case(steps: list[Step], client, where: str = "") -> int:
    """Run the steps through ``client``; raise AssertionError on the first mismatch."""
    for step in steps:
        label = f"{where}:{step.line}: {step.statement.splitlines()[0][:80]}"
        try:
            columns, rows = client.execute(step.statement, step.fetch_size)
        except Exception as exc:
            if step.expect != "error":
                raise AssertionError(f"{label}: unexpected {type(exc).__name__}: {exc}") from exc
            name = type(exc).__name__
            message = error_message(exc)
            assert name == step.error_class, (
                f"{label}: expected {step.error_class}, got {name}: {message}"
            )
            alternatives = [a.strip() for a in step.message.split(" || ")]
            if step.contains:
                assert any(a in message for a in alternatives), (
                    f"{label}: {message!r} lacks {step.message!r}"
                )
            else:
                assert message.strip() in alternatives, (
                    f"{label}: message {message!r} != {step.message!r}"
                )
            continue
        if step.expect == "error":
            raise AssertionError(
                f"{label}: expected {step.error_class} but it succeeded with {rows!r}"
            )
        rows = [tuple(r) for r in rows]
        if step.expect == "rows":
            assert len(rows) == len(step.rows) and all(
                same_row(g, e) for g, e in zip(rows, step.rows, strict=True)
            ), f"{label}: rows\n  got      {rows!r}\n  expected {step.rows!r}"
        elif step.expect == "rows_any_order":
            assert (
                len(rows) == len(step.rows)
                and all(any(same_row(r, e) for e in step.rows) for r in rows)
                and all(any(same_row(r, e) for r in rows) for e in step.rows)
            ), f"{label}: rows\n  got      {rows!r}\n  expected {step.rows!r} (any order)"
        elif step.expect == "columns":
            assert list(columns) == step.columns, (
                f"{label}: columns {columns!r} != {step.columns!r}"
            )
        elif step.expect == "count":
            assert len(rows) == step.count, f"{label}: {len(rows)} rows, expected {step.count}"
    return len(steps)
