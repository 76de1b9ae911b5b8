"""The point read answers exactly what the general SELECT path answers.

Random partitions (rows with nulls, TTL cells that expire, row and range
deletions, static cells, partitions with only a static row) are read with
prepared one-partition SELECTs of several shapes, each through
``select.run_select`` (the point read when the plan has one) and through
``select.run_select_general``; the two must give the same rows, paging state
and error, and the same RESULT body bytes on the wire.
"""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stores.wide.cql.errors import CQLError
from stores.wide.cql.executor import Executor
from stores.wide.cql.point_read import PointRead
from stores.wide.cql.results import UNSET, Rows, StoredRows
from stores.wide.cql.select import run_select, run_select_general
from stores.wide.cql.types import INT
from stores.wide.protocol.cql_results import to_response
from stores.wide.storage import StorageEngine

TABLES = {
    "d": (
        "CREATE TABLE ks.d (k int, c bigint, v int, t text, b blob, s text static, "
        "PRIMARY KEY (k, c)) WITH CLUSTERING ORDER BY (c DESC)"
    ),
    "m": (
        "CREATE TABLE ks.m (k text, c1 int, c2 text, v double, l frozen<list<int>>, "
        "PRIMARY KEY (k, c1, c2)) WITH CLUSTERING ORDER BY (c1 ASC, c2 DESC)"
    ),
    "p": (
        "CREATE TABLE ks.p (k1 int, k2 text, c tinyint, v bigint, st int static, "
        "PRIMARY KEY ((k1, k2), c))"
    ),
    "n": "CREATE TABLE ks.n (k int PRIMARY KEY, v text, w int)",
    # Rows served from the storage engine's row cache too.
    "r": (
        "CREATE TABLE ks.r (k int, c bigint, v int, t text, PRIMARY KEY (k, c)) "
        "WITH CLUSTERING ORDER BY (c DESC) "
        "AND caching = {'keys': 'ALL', 'rows_per_partition': '3'}"
    ),
}

# (table, SELECT text); every one has a point read.
QUERIES = [
    ("d", "SELECT c, v FROM ks.d WHERE k = ? LIMIT ?"),
    ("d", "SELECT * FROM ks.d WHERE k = ?"),
    ("d", "SELECT k, s, t, b, c FROM ks.d WHERE k = ? LIMIT 3"),
    ("d", "SELECT c, t FROM ks.d WHERE k = ? AND c > ? LIMIT ?"),
    ("d", "SELECT v, c FROM ks.d WHERE k = ? AND c >= ? AND c < ?"),
    ("d", "SELECT c FROM ks.d WHERE k = ? ORDER BY c ASC LIMIT ?"),
    ("d", "SELECT s FROM ks.d WHERE k = ?"),
    ("d", "SELECT c, v FROM ks.d WHERE k IN ? LIMIT ?"),
    ("m", "SELECT * FROM ks.m WHERE k = ? LIMIT ?"),
    ("m", "SELECT c2, v, c1 FROM ks.m WHERE k = ? AND c1 = ?"),
    ("m", "SELECT c1, c2, v FROM ks.m WHERE k = ? ORDER BY c1 DESC"),
    ("p", "SELECT * FROM ks.p WHERE k1 = ? AND k2 = ? LIMIT ?"),
    ("p", "SELECT c, v, k2 FROM ks.p WHERE k1 = ? AND k2 = ? AND c <= ?"),
    # Fixed-size cells only (point_read._FixedRows): tinyint ASC, bigint.
    ("p", "SELECT v, c FROM ks.p WHERE k1 = ? AND k2 = ? LIMIT ?"),
    ("n", "SELECT * FROM ks.n WHERE k = ?"),
    ("n", "SELECT w, v FROM ks.n WHERE k = ? LIMIT ?"),
    ("r", "SELECT c, v FROM ks.r WHERE k = ? LIMIT ?"),
    ("r", "SELECT t, c, v FROM ks.r WHERE k = ?"),
]

PARTITIONS = 3
_ints = st.integers(-5, 5)
_text = st.text(alphabet="ab\u00e9", max_size=3)


class Clock:
    """The storage engine's clock, moved by the test (TTL expiry).

    It starts at the real time: the CQL layer stamps writes (and TTL
    expiries) with the real clock, so only a clock ahead of it sees them expire.
    """

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def world():
    yield from _world()


@pytest.fixture()
def fresh_world():
    yield from _world()


def _world():
    clock = Clock()
    engine = StorageEngine.open(None, clock=clock)
    executor = Executor(engine)
    executor.execute_query(
        "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    for text in TABLES.values():
        executor.execute_query(text)
    yield executor, engine, clock
    executor.close()
    engine.close()


_fresh = itertools.count()


def _partition_values(table: str, n: int) -> list:
    """Return the partition-key values of a test's partition ``n`` of ``table``."""
    if table == "m":
        return [f"p{n}"]
    if table == "p":
        return [n, f"q{n}"]
    return [n]


def _write(executor, table: str, pk: list, op: tuple) -> None:
    kind = op[0]
    keys = {"m": ("k",), "p": ("k1", "k2")}.get(table, ("k",))
    where = " AND ".join(f"{k} = ?" for k in keys)
    ttl = " USING TTL 5" if op[-1] else ""
    run = executor.execute_query
    if table == "d":
        if kind == "row":
            _, c, v, t, b, _ = op
            run(f"INSERT INTO ks.d (k, c, v, t, b) VALUES (?, ?, ?, ?, ?){ttl}", [*pk, c, v, t, b])
        elif kind == "static":
            run(f"INSERT INTO ks.d (k, s) VALUES (?, ?){ttl}", [*pk, op[1]])
        elif kind == "delete":
            run(f"DELETE FROM ks.d WHERE {where} AND c = ?", [*pk, op[1]])
        elif kind == "range":
            run(f"DELETE FROM ks.d WHERE {where} AND c > ?", [*pk, op[1]])
        elif kind == "cell":
            run(f"DELETE v FROM ks.d WHERE {where} AND c = ?", [*pk, op[1]])
    elif table == "r":
        if kind == "row":
            _, c, v, t, _b, _ = op
            run(f"INSERT INTO ks.r (k, c, v, t) VALUES (?, ?, ?, ?){ttl}", [*pk, c, v, t])
        elif kind == "static":
            # A TTL cell in a row whose marker may live on (an INSERT without TTL).
            c = 0 if op[1] is None else len(op[1])
            run("UPDATE ks.r USING TTL 5 SET t = ? WHERE k = ? AND c = ?", [op[1], *pk, c])
        elif kind == "delete":
            run(f"DELETE FROM ks.r WHERE {where} AND c = ?", [*pk, op[1]])
        elif kind == "range":
            run(f"DELETE FROM ks.r WHERE {where} AND c > ?", [*pk, op[1]])
        elif kind == "cell":
            run(f"DELETE v FROM ks.r WHERE {where} AND c = ?", [*pk, op[1]])
    elif table == "m":
        if kind == "row":
            _, c, v, t, b, _ = op
            lst = None if v is None else [v, c]
            run(
                f"INSERT INTO ks.m (k, c1, c2, v, l) VALUES (?, ?, ?, ?, ?){ttl}",
                [*pk, c, t or "", None if v is None else v / 4, lst],
            )
        elif kind in ("delete", "range", "cell"):
            run(f"DELETE FROM ks.m WHERE {where} AND c1 = ?", [*pk, op[1]])
    elif table == "p":
        if kind == "row":
            _, c, v, _t, _b, _ = op
            run(f"INSERT INTO ks.p (k1, k2, c, v) VALUES (?, ?, ?, ?){ttl}", [*pk, c, v])
        elif kind == "static":
            value = None if op[1] is None else len(op[1])
            run(f"INSERT INTO ks.p (k1, k2, st) VALUES (?, ?, ?){ttl}", [*pk, value])
        elif kind in ("delete", "cell"):
            run(f"DELETE FROM ks.p WHERE {where} AND c = ?", [*pk, op[1]])
        elif kind == "range":
            run(f"DELETE FROM ks.p WHERE {where} AND c > ?", [*pk, op[1]])
    elif kind == "row":
        _, c, v, t, _b, _ = op
        run(f"INSERT INTO ks.n (k, v, w) VALUES (?, ?, ?){ttl}", [*pk, t, v])
    elif kind in ("delete", "range", "cell"):
        run("DELETE w FROM ks.n WHERE k = ?", pk)


_ops = st.one_of(
    st.tuples(
        st.just("row"),
        _ints,
        st.none() | _ints,
        st.none() | _text,
        st.none() | st.binary(max_size=3),
        st.booleans(),
    ),
    st.tuples(st.just("static"), st.none() | _text.map(lambda t: t or "s"), st.booleans()),
    st.tuples(st.sampled_from(["delete", "range", "cell"]), _ints, st.just(False)),
    # Every memtable to an SSTable: later writes merge with them on reads.
    st.tuples(st.just("flush"), st.just(False)),
)


def _bind_values(table: str, text: str, pk: list, draw) -> list:
    """Return values for every marker of a query: the key, then slices and LIMIT."""
    markers = text.count("?")
    values: list = []
    if " IN ?" in text:
        values.append(pk if draw(st.booleans()) else [pk[0], pk[0] + 1])
    else:
        values.extend(pk)
    while len(values) < markers:
        if len(values) == markers - 1 and text.rstrip().endswith("LIMIT ?"):
            values.append(draw(st.integers(1, 6) | st.sampled_from([None, UNSET, 0, -1])))
        elif "c1 = ?" in text or "c <= ?" in text:
            values.append(draw(_ints))
        else:
            values.append(draw(_ints))
    return values


def _outcome(run):
    try:
        return ("rows", run())
    except CQLError as exc:
        return ("error", type(exc), str(exc))


def _wire(result) -> bytes:
    return to_response(result).encode_body()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_point_read_gives_what_the_general_path_gives(world, data):
    executor, engine, clock = world
    table = data.draw(st.sampled_from(sorted(TABLES)))
    base = next(_fresh) * 10
    pks = [_partition_values(table, base + n) for n in range(PARTITIONS)]
    for op in data.draw(st.lists(st.tuples(st.integers(0, PARTITIONS - 1), _ops), max_size=14)):
        if op[1][0] == "flush":
            engine.flush()
        else:
            _write(executor, table, pks[op[0]], op[1])
    if data.draw(st.booleans()):
        clock.now += 10  # every TTL cell and row written so far expires
    queries = [q for t, q in QUERIES if t == table]
    for text in data.draw(st.lists(st.sampled_from(queries), min_size=1, max_size=3)):
        prepared = executor.prepare(text)
        plan = prepared.compiled.plan
        assert isinstance(plan.point, PointRead)
        pk = data.draw(st.sampled_from(pks + [_partition_values(table, base + PARTITIONS)]))
        values = _bind_values(table, text, pk, data.draw)
        page_size = data.draw(st.none() | st.integers(1, 4))

        def run(path, values=values, page_size=page_size, prepared=prepared):
            ctx = executor._context(prepared.compiled, values, False, None, None)
            return path(prepared.compiled.plan, engine, ctx, page_size, None)

        fast, general = _outcome(lambda: run(run_select)), _outcome(lambda: run(run_select_general))
        _check_wire_page(executor, engine, prepared, values, page_size)
        if fast[0] == "error" or general[0] == "error":
            assert fast == general
            continue
        fast_wire = _wire(fast[1])
        general_rows = general[1]
        assert fast_wire == _wire(
            Rows(general_rows.columns, list(general_rows.rows), general_rows.paging_state)
        )
        again = run(run_select)
        assert again.columns == general_rows.columns
        assert list(again.rows) == list(general_rows.rows)
        assert again.paging_state == general_rows.paging_state


def _check_wire_page(executor, engine, prepared, values, page_size) -> None:
    """Check that ``wire_page`` answers what ``page(...).wire_body()`` answers."""
    point = prepared.compiled.plan.point

    def ctx():
        return executor._context(prepared.compiled, values, False, None, None)

    direct = _outcome(lambda: point.wire_page(engine, ctx(), page_size))
    if point.encoder is None:  # no cells from stored bytes: never answers
        assert direct == ("rows", None)
        return
    page = _outcome(lambda: point.page(engine, ctx(), page_size))
    if page[0] == "error":
        assert direct == page
        return
    page = page[1]
    if page is None:
        assert direct == ("rows", None)
        return
    if isinstance(page, StoredRows):
        wire = page.wire_body()
    else:  # a partition the storage does not hold
        assert list(page.rows) == []
        wire = (0, b"")
    assert direct == ("rows", (*wire, page.paging_state))


def test_point_read_errors_match_the_general_path(world):
    executor, engine, _ = world
    cases = [
        ("SELECT c, v FROM ks.d WHERE k = ? LIMIT ?", [None, 3]),
        ("SELECT c, v FROM ks.d WHERE k = ? LIMIT ?", [UNSET, 3]),
        ("SELECT c, v FROM ks.d WHERE k = ? LIMIT ?", [1, 0]),
        ("SELECT c, v FROM ks.d WHERE k = ? LIMIT ?", [1, -2]),
        ("SELECT c, v FROM ks.d WHERE k = ? LIMIT ?", [1, None]),
        ("SELECT c, v FROM ks.d WHERE k = ? LIMIT ?", [None, None]),
        ("SELECT * FROM ks.m WHERE k = ? LIMIT ?", ["", 3]),
        ("SELECT c, t FROM ks.d WHERE k = ? AND c > ? LIMIT ?", [1, None, 3]),
        ("SELECT * FROM ks.p WHERE k1 = ? AND k2 = ? LIMIT ?", [1, None, 2]),
        ("SELECT c, v FROM ks.d WHERE k = ? LIMIT 0", [1]),
        ("SELECT c, v FROM ks.d WHERE k = ? LIMIT -1", [1]),
    ]
    for text, values in cases:
        prepared = executor.prepare(text)
        plan = prepared.compiled.plan
        ctx = executor._context(prepared.compiled, values, False, None, None)
        fast = _outcome(lambda plan=plan, ctx=ctx: run_select(plan, engine, ctx, 10, None))
        general = _outcome(
            lambda plan=plan, ctx=ctx: run_select_general(plan, engine, ctx, 10, None)
        )
        assert fast[0] == "error", (text, values)
        assert fast == general


def test_first_page_of_the_point_read_pages_on_through_the_general_path(world):
    executor, _, _ = world
    k = next(_fresh) * 10
    for c in range(7):
        executor.execute_query("INSERT INTO ks.d (k, c, v) VALUES (?, ?, ?)", [k, c, c * 2])
    select = executor.prepare("SELECT c, v FROM ks.d WHERE k = ? LIMIT ?")
    first = executor.execute(select, [k, 6], page_size=4)
    assert isinstance(first, StoredRows) and first.paging_state is not None
    rest = executor.execute(select, [k, 6], page_size=4, paging_state=first.paging_state)
    assert [r[0] for r in first.rows] + [r[0] for r in rest.rows] == [6, 5, 4, 3, 2, 1]
    assert rest.paging_state is None


def test_selects_without_a_point_read(world):
    executor, _, _ = world
    for text in (
        "SELECT c, v FROM ks.d WHERE k = ? AND v = 3 ALLOW FILTERING",
        "SELECT count(*) FROM ks.d WHERE k = ?",
        "SELECT JSON c FROM ks.d WHERE k = ?",
        "SELECT c FROM ks.d WHERE k = ? PER PARTITION LIMIT 2",
        "SELECT c, v FROM ks.d WHERE k IN (1, 2) ORDER BY c ASC",
        "SELECT c, v FROM ks.d",
        "SELECT writetime(v) FROM ks.d WHERE k = ?",
    ):
        assert executor.prepare(text).compiled.plan.point is None, text


@pytest.mark.parametrize("where", ["memtable", "sstable", "merged", "row cache"])
def test_cells_the_point_read_takes_from_stored_bytes(fresh_world, where):
    """Rows whose marker lives on while some cells are dead or expired."""
    executor, engine, clock = fresh_world
    k = next(_fresh) * 10
    run = executor.execute_query
    for c in range(4):
        run("INSERT INTO ks.r (k, c, v, t) VALUES (?, ?, ?, ?)", [k, c, c, f"t{c}"])
    if where in ("sstable", "merged"):
        engine.flush()
    run("UPDATE ks.r USING TTL 5 SET t = ? WHERE k = ? AND c = 1", ["short", k])
    run("UPDATE ks.r USING TTL 50 SET v = ? WHERE k = ? AND c = 2", [7, k])
    run("DELETE v FROM ks.r WHERE k = ? AND c = 3", [k])
    if where != "merged":
        engine.flush()
    clock.now += 10  # the 5-second TTL cell has expired, the 50-second one has not
    select = executor.prepare("SELECT c, t, v FROM ks.r WHERE k = ?")
    reads = 3 if where == "row cache" else 1  # a miss, a fill, then a hit
    for _ in range(reads):
        ctx = executor._context(select.compiled, [k], False, None, None)
        fast = run_select(select.compiled.plan, engine, ctx, None, None)
        general = run_select_general(select.compiled.plan, engine, ctx, None, None)
        assert isinstance(fast, StoredRows)
        assert _wire(fast) == _wire(Rows(general.columns, list(general.rows)))
        expected = [(3, "t3", None), (2, "t2", 7), (1, None, 1), (0, "t0", 0)]
        assert list(fast.rows) == list(general.rows) == expected


def test_pages_of_fixed_size_cells_are_written_in_one_go(fresh_world):
    """A time series of numbers takes ``_FixedRows``; a page with a null does not."""
    executor, engine, _ = fresh_world
    select = executor.prepare("SELECT c, v FROM ks.d WHERE k = ? LIMIT ?")
    point = select.compiled.plan.point
    fixed = point.encoder.fixed
    assert fixed is not None
    for text in (
        "SELECT c, t FROM ks.d WHERE k = ?",
        "SELECT k, c FROM ks.d WHERE k = ?",
        "SELECT c, s FROM ks.d WHERE k = ?",
        "SELECT c1, v FROM ks.m WHERE k = ?",
    ):
        assert executor.prepare(text).compiled.plan.point.encoder.fixed is None, text
    insert = "INSERT INTO ks.d (k, c, v) VALUES (?, ?, ?)"
    for c in range(-3, 4):
        executor.execute_query(insert, [1, c * 2**40, -(2**31) if c == -3 else c])
    executor.execute_query(insert, [2, 1, None])
    executor.execute_query(insert, [2, 2, 5])
    for k, takes_fixed in ((1, True), (2, False)):
        rows = engine.read("ks", "d", INT.serialize(k), reverse=True, limit=5).rows
        assert (fixed.encode(rows) is not None) == takes_fixed
        fast = executor.execute(select, [k, 5], page_size=4)
        ctx = executor._context(select.compiled, [k, 5], False, None, None)
        general = run_select_general(select.compiled.plan, engine, ctx, 4, None)
        assert _wire(fast) == _wire(Rows(general.columns, list(general.rows), general.paging_state))
    assert fixed.encode([]) == b""
