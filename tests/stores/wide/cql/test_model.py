"""The CQL layer against a plain-dict model: writes, deletes, slices, order, limits, paging."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import stores.wide
from stores.wide import SimpleStatement, tuple_factory

keys = st.integers(0, 3)
clusterings = st.integers(-5, 5)
ops = st.one_of(
    st.tuples(st.just("insert"), keys, clusterings, st.integers(0, 99)),
    st.tuples(st.just("update"), keys, clusterings, st.integers(0, 99)),
    st.tuples(st.just("delete_row"), keys, clusterings, st.just(0)),
    st.tuples(st.just("delete_after"), keys, clusterings, st.just(0)),
    st.tuples(st.just("delete_partition"), keys, st.just(0), st.just(0)),
)
queries = st.tuples(
    keys,
    st.none() | clusterings,
    st.none() | clusterings,
    st.booleans(),
    st.none() | st.integers(1, 6),
    st.none() | st.integers(1, 4),
)


@settings(max_examples=40, deadline=None)
@given(st.booleans(), st.lists(ops, max_size=30), st.lists(queries, min_size=1, max_size=6))
def test_cql_matches_model(descending, operations, checks):
    session = stores.wide.connect("memory:")
    try:
        session.row_factory = tuple_factory
        session.execute(
            "CREATE KEYSPACE m WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        session.set_keyspace("m")
        order = "DESC" if descending else "ASC"
        session.execute(
            f"CREATE TABLE t (p int, c int, v int, PRIMARY KEY (p, c)) WITH CLUSTERING ORDER BY (c {order})"
        )
        insert = session.prepare("INSERT INTO t (p, c, v) VALUES (?, ?, ?)")
        update = session.prepare("UPDATE t SET v = ? WHERE p = ? AND c = ?")
        model: dict[int, dict[int, int]] = {}
        for op, p, c, v in operations:
            if op == "insert":
                session.execute(insert, [p, c, v])
                model.setdefault(p, {})[c] = v
            elif op == "update":
                session.execute(update, [v, p, c])
                model.setdefault(p, {})[c] = v
            elif op == "delete_row":
                session.execute("DELETE FROM t WHERE p = %s AND c = %s", [p, c])
                model.get(p, {}).pop(c, None)
            elif op == "delete_after":
                session.execute("DELETE FROM t WHERE p = %s AND c > %s", [p, c])
                for key in [k for k in model.get(p, {}) if k > c]:
                    del model[p][key]
            else:
                session.execute("DELETE FROM t WHERE p = %s", [p])
                model.pop(p, None)
        for p, low, high, ascending, limit, fetch in checks:
            where = ["p = %s"]
            params = [p]
            if low is not None:
                where.append("c >= %s")
                params.append(low)
            if high is not None:
                where.append("c < %s")
                params.append(high)
            query = f"SELECT c, v FROM t WHERE {' AND '.join(where)} ORDER BY c {'ASC' if ascending else 'DESC'}"
            if limit is not None:
                query += f" LIMIT {limit}"
            rows = session.execute(SimpleStatement(query, fetch_size=fetch), params).all()
            expected = sorted(
                (c, v)
                for c, v in model.get(p, {}).items()
                if (low is None or c >= low) and (high is None or c < high)
            )
            if not ascending:
                expected.reverse()
            if limit is not None:
                expected = expected[:limit]
            assert rows == expected, query
        everything = session.execute(SimpleStatement("SELECT p, c, v FROM t", fetch_size=3)).all()
        assert sorted(everything) == sorted(
            (p, c, v) for p, part in model.items() for c, v in part.items()
        )
        firsts = session.execute(
            SimpleStatement("SELECT p, c FROM t PER PARTITION LIMIT 1", fetch_size=2)
        ).all()
        expected_firsts = sorted(
            (p, (max if descending else min)(part)) for p, part in model.items() if part
        )
        assert sorted(firsts) == expected_firsts
        count = session.execute("SELECT count(*) FROM t").one()[0]
        assert count == sum(len(part) for part in model.values())
    finally:
        session.shutdown()
