"""A tiny stand-in for the CQL layer, for server tests that must not depend on it.

Understands a handful of fixed statements and raises errors shaped like the
CQL layer's (an exception with a protocol ``code``).
"""

from __future__ import annotations

import struct
import threading

from stores.wide.protocol.responses import (
    ColumnSpec,
    PreparedResult,
    RowsMetadata,
    RowsResult,
    SchemaChange,
    SchemaChangeResult,
    SetKeyspaceResult,
    VoidResult,
)
from stores.wide.protocol.type_options import parse_type


class FakeCQLError(Exception):
    def __init__(self, code, message, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        for key, value in extra.items():
            setattr(self, key, value)


class FakeBackend:
    """Statements: SELECT n (rows 0..n-1, paged), USE ks, CREATE ks, WAIT, FAIL, CRASH."""

    def __init__(self):
        self.prepared = {}
        self.release = threading.Event()
        self.waiting = threading.Event()
        self.calls = 0

    def _columns(self):
        return [ColumnSpec("ks", "t", "n", parse_type("int"))]

    def query(self, text, parameters, keyspace):
        self.calls += 1
        words = text.split()
        if words[0] == "SELECT":
            total = int(words[1])
            start = int.from_bytes(parameters.paging_state or b"\x00", "big")
            size = parameters.page_size or total
            end = min(total, start + size)
            state = end.to_bytes(4, "big") if end < total else None
            rows = [[struct.pack(">i", i)] for i in range(start, end)]
            return RowsResult(RowsMetadata(self._columns(), paging_state=state), rows)
        if words[0] == "USE":
            return SetKeyspaceResult(words[1])
        if words[0] == "CREATE":
            return SchemaChangeResult(SchemaChange("CREATED", "KEYSPACE", words[1]))
        if words[0] == "WAIT":
            self.waiting.set()
            self.release.wait(10)
            return VoidResult()
        if words[0] == "KEYSPACE":
            return RowsResult(
                RowsMetadata([ColumnSpec("s", "t", "ks", parse_type("text"))]),
                [[(keyspace or "").encode()]],
            )
        if words[0] == "EXISTS":
            raise FakeCQLError(0x2400, "exists", keyspace="ks", table="t")
        if words[0] == "CRASH":
            raise RuntimeError("unexpected")
        raise FakeCQLError(0x2000, f"line 1:0 no viable alternative at input '{words[0]}'")

    def prepare(self, text, keyspace):
        query_id = struct.pack(">I", len(self.prepared))
        self.prepared[query_id] = text
        return PreparedResult(
            query_id, [], [], self._columns() if text.startswith("SELECT") else []
        )

    def execute(self, query_id, parameters, keyspace):
        text = self.prepared.get(query_id)
        if text is None:
            raise FakeCQLError(0x2500, "unprepared", statement_id=query_id)
        return self.query(text, parameters, keyspace)

    def batch(self, batch, keyspace):
        return VoidResult()


class FakeAuthenticator:
    def authenticate(self, username, password):
        return (username, password) == ("cassandra", "cassandra")
