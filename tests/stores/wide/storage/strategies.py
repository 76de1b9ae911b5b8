"""Hypothesis strategies for storage values, shared by the storage tests."""

from hypothesis import strategies as st

from stores.wide.storage.cells import NO_DELETION, Cell, DeletionTime, LivenessInfo
from stores.wide.storage.mutation import STATIC, Bound, Mutation, RangeTombstone, RowUpdate

timestamps = st.integers(-(2**40), 2**40)
times = st.integers(0, 2**33)
values = st.binary(max_size=20)
names = st.sampled_from(["a", "b", "col", "ü"])


@st.composite
def cells(draw):
    value = draw(st.none() | values)
    ttl = draw(st.sampled_from([0, 0, 5, 86400]))
    ldt = draw(st.sampled_from([NO_DELETION, draw(times)]))
    return Cell(value, draw(timestamps), ttl if value is not None else 0, ldt)


deletions = st.builds(DeletionTime, timestamps, times)
livenesses = st.builds(LivenessInfo, timestamps, st.sampled_from([0, 7]), times)
clusterings = st.binary(max_size=6)


@st.composite
def row_updates(draw, static=None):
    is_static = draw(st.booleans()) if static is None else static
    return RowUpdate(
        STATIC if is_static else draw(clusterings),
        draw(st.none() | livenesses),
        draw(st.none() | deletions),
        draw(st.dictionaries(names, cells(), max_size=3)),
        draw(st.dictionaries(st.sampled_from(["m", "s"]), deletions, max_size=2)),
        draw(
            st.dictionaries(
                st.sampled_from(["m", "s"]),
                st.dictionaries(st.binary(max_size=4), cells(), max_size=3),
                max_size=2,
            )
        ),
    )


bound_values = st.none() | st.builds(Bound, st.binary(max_size=4), st.booleans())
range_tombstones = st.builds(RangeTombstone, bound_values, bound_values, deletions)

mutations = st.builds(
    Mutation,
    st.just(""),
    st.just(""),
    st.binary(max_size=10),
    st.none() | deletions,
    st.lists(range_tombstones, max_size=2),
    st.lists(row_updates(), max_size=3),
)
