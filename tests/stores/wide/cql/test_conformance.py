"""Run the data-driven conformance cases through the in-process Session."""

from __future__ import annotations

import pytest

import stores.wide
from stores.wide import SimpleStatement, tuple_factory
from tests.stores.wide.cql.conformance import case_files, load_case, run_case


class SessionClient:
    """Adapt a stores.wide Session to the runner's execute(statement, fetch_size)."""

    def __init__(self, session):
        self.session = session
        session.row_factory = tuple_factory

    def execute(self, statement: str, fetch_size: int | None):
        result = self.session.execute(SimpleStatement(statement, fetch_size=fetch_size))
        return result.column_names or [], result.all()


@pytest.mark.parametrize("path", case_files(), ids=lambda p: p.stem)
def test_case(path):
    session = stores.wide.connect("memory:")
    try:
        assert run_case(load_case(path), SessionClient(session), path.name) > 0
    finally:
        session.shutdown()


def test_there_are_cases():
    assert len(case_files()) >= 10
