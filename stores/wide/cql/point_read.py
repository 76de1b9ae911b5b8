"""The one-partition SELECT's first page: one storage read, one pass over its rows.

Owns the hot path of a SELECT that names one partition by equality and
selects plain columns (the "newest N rows of a partition" read of a
prepared statement). ``compile_point_read`` decides once per compiled plan
whether a SELECT qualifies and fixes everything that does not depend on the
bound values: the restrictions to evaluate, the projection, and per column
how a stored value becomes a native-protocol [value] cell. ``PointRead.page``
then evaluates the LIMIT and the partition key, reads, and returns the page
as ``StoredRows`` (Python values built only if someone asks; the protocol's
bytes built column by column from the stored cell bytes).

Its answer is always the one ``select.run_select``'s general loop gives for
the same first page (the tests compare them); a partition it cannot answer
exactly that way (no live rows, columns an older schema dropped, an IN that
names several keys) gets None and the caller takes the general path. Never
writes, never reads more than one partition.
"""

from __future__ import annotations

from collections.abc import Callable

from stores.wide.cql.keys import clustering_columns, decode_partition_key
from stores.wide.cql.results import PagingState, Rows, StoredRows
from stores.wide.cql.schema import CLUSTERING, PARTITION_KEY, REGULAR, STATIC, TableInfo
from stores.wide.cql.stored_values import (
    NULL_CELL,
    as_cell,
    fixed_cell_prefix,
    fixed_int_key_flip,
    wire_cell,
    wire_clustering_columns,
)
from stores.wide.cql.terms import ExecContext, positive_int
from stores.wide.cql.types import ListType, SetType
from stores.wide.storage.rowvalues import column_values


def compile_point_read(plan) -> PointRead | None:
    """Return the point read of a SelectPlan, or None if the SELECT does not qualify.

    It qualifies when every partition-key column is restricted by = or IN
    (one key at run time), there is no row filter, no PER PARTITION LIMIT,
    no ORDER BY over an IN, and every selected item is a plain column
    (``plan.getters``: no functions, aggregates, JSON or DISTINCT).
    """
    r = plan.restrictions
    if (
        plan.getters is None
        or not r.pk_complete
        or r.filters
        or plan.per_partition_limit is not None
        or (plan.order_by and r.pk_in)
    ):
        return None
    return PointRead(plan)


class PointRead:
    """The compiled first-page read of a one-partition SELECT."""

    __slots__ = (
        "table",
        "restrictions",
        "sliced",
        "limit",
        "fixed_limit",
        "reverse",
        "columns",
        "decoder",
        "encoder",
    )

    def __init__(self, plan) -> None:
        self.table: TableInfo = plan.table
        self.restrictions = plan.restrictions
        self.sliced = bool(plan.restrictions.ck_prefix or plan.restrictions.ck_slice)
        self.limit = plan.limit
        # A literal LIMIT's value, evaluated once (_EACH_TIME: per execution,
        # e.g. a bind marker, or a literal whose evaluation raises).
        self.fixed_limit = _EACH_TIME
        if plan.limit is None:
            self.fixed_limit = None
        elif plan.limit_is_literal:
            try:
                self.fixed_limit = positive_int(plan.limit, None, "limit")
            except Exception:
                pass
        self.reverse = plan.reverse
        # One list shared by every page's Rows (the result metadata is
        # encoded once per list: protocol.cql_results); nothing mutates it.
        self.columns = plan.result_columns
        self.decoder = _ValueDecoder.compile(
            plan.table, [c.evaluate for c in plan.columns], plan.decode_clustering
        )
        self.encoder = _CellEncoder.compile(
            plan.table, [c.evaluate for c in plan.columns], plan.decode_clustering
        )

    def page(self, engine, ctx: ExecContext, page_size: int | None) -> Rows | None:
        """Return the first page (no paging state given), or None to take the general path."""
        read = self._read(engine, ctx, page_size)
        if read is None or read is _NO_PARTITION:
            return None if read is None else Rows(self.columns, [])
        taken, key, static, paging = read
        page = _Page(self, taken, key, static)
        if self.encoder is None:
            return Rows(self.columns, page.values(), paging)
        return StoredRows(self.columns, page, paging)

    def wire_page(
        self, engine, ctx: ExecContext, page_size: int | None
    ) -> tuple[int, bytes, bytes | None] | None:
        """Return ``page``'s answer as (row count, [value] cells, paging state), or None.

        The same rows, cells and paging state ``page(...).wire_body()``
        gives, without the page objects: the protocol server's path. None
        where ``page`` would give None, and for a selection without an
        encoder (``page`` then builds Python values).
        """
        if self.encoder is None:
            return None
        read = self._read(engine, ctx, page_size)
        if read is None or read is _NO_PARTITION:
            return None if read is None else (0, b"", None)
        taken, key, static, paging = read
        encoder = self.encoder
        if encoder.fixed is not None:
            cells = encoder.fixed.encode(taken)
            if cells is not None:
                return len(taken), cells, paging
        return len(taken), encoder.encode(_Page(self, taken, key, static)), paging

    def _read(self, engine, ctx: ExecContext, page_size: int | None):
        """Read the page: (rows, key, static row, paging state), _NO_PARTITION or None."""
        limit = self.fixed_limit
        if limit is _EACH_TIME:
            limit = positive_int(self.limit, ctx, "limit")
        r = self.restrictions
        keys = r.partition_keys(ctx)
        if len(keys) != 1:
            return None
        key = keys[0]
        if page_size:
            read_limit = page_size + 1
            if limit is not None and limit < read_limit:
                read_limit = limit
        else:
            read_limit = limit
        table = self.table
        # Positional: (keyspace, table, key, slices, reverse, limit, columns,
        # now, trace), the documented order of StorageEngine.read.
        result = engine.read(
            table.keyspace,
            table.name,
            key,
            r.slices(ctx) if self.sliced else None,
            self.reverse,
            read_limit,
            None,
            None,
            ctx.trace,
        )
        if result is None:
            return _NO_PARTITION
        rows = result.rows
        if not rows or table.dropped:
            return None
        cap = len(rows)
        if limit is not None and limit < cap:
            cap = limit
        if page_size and page_size < cap:
            cap = page_size
        taken = rows if cap == len(rows) else rows[:cap]
        paging = None
        remaining = None if limit is None else limit - cap
        if len(rows) > cap and (remaining is None or remaining > 0):
            paging = PagingState(
                key, taken[-1].clustering, -1 if remaining is None else remaining, cap, 0
            ).encode()
        return taken, key, result.static_row, paging


# ``PointRead._read``'s answer for a partition the storage does not hold.
_NO_PARTITION = object()
# ``PointRead.fixed_limit`` of a LIMIT evaluated at each execution.
_EACH_TIME = object()


class _Page:
    """The rows of one point read, turned into values or cells on demand."""

    __slots__ = ("read", "rows", "key", "static", "count")

    def __init__(self, read: PointRead, rows: list, key: bytes, static) -> None:
        self.read = read
        self.rows = rows
        self.key = key
        self.static = static
        self.count = len(rows)

    def values(self) -> list[tuple]:
        """Return the rows as tuples of Python values, built column by column."""
        return self.read.decoder.decode(self)

    def cells(self) -> bytes:
        """Return every row's values as [value] cells, row after row."""
        return self.read.encoder.encode(self)


class _ValueDecoder:
    """Turn a page's stored rows into tuples of Python values, one column at a time.

    The column-major twin of ``select._direct_getters``: each selected
    column becomes the list of its values for every row; ``zip`` then makes
    the row tuples.
    """

    __slots__ = ("columns", "clustering", "needs_pk")

    def __init__(self, columns, clustering, needs_pk) -> None:
        self.columns = columns
        self.clustering = clustering
        self.needs_pk = needs_pk

    @classmethod
    def compile(
        cls, table: TableInfo, evaluators: list, decode_clustering: Callable[[bytes], tuple]
    ) -> _ValueDecoder:
        """Return the decoder of a selection of plain, non-multicell columns."""
        columns: list[Callable] = []
        needs_pk = needs_clustering = False
        for evaluate in evaluators:
            info = table.columns[evaluate.column_name]
            if info.kind == PARTITION_KEY:
                needs_pk = True
                columns.append(_pk_column(info.position))
            elif info.kind == CLUSTERING:
                needs_clustering = True
                columns.append(_clustering_column(info.position))
            elif info.kind == STATIC:
                columns.append(_static_column(info.name, info.cql_type.deserialize, None))
            else:
                columns.append(_regular_column(info.name, info.cql_type.deserialize, None))
        clustering = None
        if needs_clustering:
            clustering = clustering_columns(table.ck_types, table.ck_desc, decode_clustering)
        return cls(columns, clustering, needs_pk)

    def decode(self, page: _Page) -> list[tuple]:
        rows = page.rows
        pk = decode_partition_key(page.read.table.pk_types, page.key) if self.needs_pk else None
        ck = None
        if self.clustering is not None:
            ck = self.clustering([row.clustering for row in rows])
        columns = [column(rows, pk, ck, page.static) for column in self.columns]
        if not columns:
            return [() for _ in rows]
        return list(zip(*columns, strict=True))


class _CellEncoder:
    """Turn a page's stored rows into the Rows body's cells, one column at a time.

    Each selected column becomes the list of its cells for every row, from
    the stored bytes (``stored_values``); the lists are then interleaved
    row by row (slice assignments) and joined once. Column by column, the
    per-row work is one list-comprehension step per column instead of a
    call per value.
    """

    __slots__ = ("columns", "clustering", "pk_serializers", "needs_pk", "fixed")

    def __init__(self, columns, clustering, pk_serializers, needs_pk, fixed=None) -> None:
        self.columns = columns
        self.clustering = clustering
        self.pk_serializers = pk_serializers
        self.needs_pk = needs_pk
        self.fixed = fixed

    @classmethod
    def compile(
        cls, table: TableInfo, evaluators: list, decode_clustering: Callable[[bytes], tuple]
    ) -> _CellEncoder | None:
        """Return the encoder of a selection of plain columns, or None.

        None when a selected column is a list or a set: the protocol layer
        writes their null elements itself (``protocol.cql_results``).
        """
        columns: list[Callable] = []
        needs_pk = needs_clustering = False
        for evaluate in evaluators:
            info = table.columns[evaluate.column_name]
            if isinstance(info.cql_type, ListType | SetType):
                return None
            if info.kind == PARTITION_KEY:
                needs_pk = True
                columns.append(_pk_column(info.position))
            elif info.kind == CLUSTERING:
                needs_clustering = True
                columns.append(_clustering_column(info.position))
            elif info.kind == STATIC:
                columns.append(_static_column(info.name, wire_cell(info.cql_type), NULL_CELL))
            else:
                columns.append(_regular_cells(info.name, info.cql_type))
        clustering = None
        if needs_clustering:
            clustering = wire_clustering_columns(table.ck_types, table.ck_desc, decode_clustering)
        pk_serializers = [c.cql_type.serialize for c in table.partition_key]
        fixed = _FixedRows.compile(table, evaluators)
        return cls(columns, clustering, pk_serializers, needs_pk, fixed)

    def encode(self, page: _Page) -> bytes:
        rows = page.rows
        if self.fixed is not None:
            cells = self.fixed.encode(rows)
            if cells is not None:
                return cells
        pk = None
        if self.needs_pk:
            values = decode_partition_key(page.read.table.pk_types, page.key)
            pk = [
                NULL_CELL if v is None else as_cell(s(v))
                for v, s in zip(values, self.pk_serializers, strict=True)
            ]
        ck = None
        if self.clustering is not None:
            ck = self.clustering([row.clustering for row in rows])
        width = len(self.columns)
        if width == 1:
            return b"".join(self.columns[0](rows, pk, ck, page.static))
        # Row after row: column i's cells go to every width-th slot from i.
        cells = [NULL_CELL] * (width * len(rows))
        for i, column in enumerate(self.columns):
            cells[i::width] = column(rows, pk, ck, page.static)
        return b"".join(cells)


class _FixedRows:
    """Rows whose every selected cell has one fixed size, written with one join and one XOR.

    For a selection of a lone fixed-size integer clustering column and
    regular fixed-size integer columns (a time series of numbers), a page's
    cells are, row after row, each column's length prefix and value; the
    prefixes come from a template list, the values are dropped into its
    slots column by column (slice assignments), and the stored keys'
    sign and order flips are undone for the whole page by one XOR with a
    mask that is zero outside the key bytes. A page where some cell is not
    of its type's size (a null, an empty value) gets None: the
    column-by-column encoder writes it.
    """

    __slots__ = ("columns", "row_size", "row_mask", "prefixes", "_templates", "_masks")

    def __init__(self, columns, row_size, row_mask, prefixes) -> None:
        # Per selected column: (None for the clustering key or the regular
        # column's name, the value's size).
        self.columns = columns
        self.row_size = row_size
        self.row_mask = row_mask
        self.prefixes = prefixes
        self._templates: dict[int, list[bytes]] = {}
        self._masks: dict[int, int] = {}

    @classmethod
    def compile(cls, table: TableInfo, evaluators: list) -> _FixedRows | None:
        """Return the fixed-rows form of a selection, or None when it has none."""
        columns = []
        prefixes = []
        mask = []
        for evaluate in evaluators:
            info = table.columns[evaluate.column_name]
            fixed = fixed_cell_prefix(info.cql_type)
            if fixed is None:
                return None
            size, prefix = fixed
            if info.kind == CLUSTERING:
                if len(table.clustering) != 1:
                    return None
                flip = fixed_int_key_flip(info.cql_type, table.ck_desc[0])
                columns.append((None, size))
            elif info.kind == REGULAR:
                flip = bytes(size)
                columns.append((info.name, size))
            else:
                return None
            prefixes.append(prefix)
            mask.append(bytes(len(prefix)) + flip)
        row_mask = b"".join(mask)
        return cls(columns, len(row_mask), row_mask if any(row_mask) else None, prefixes)

    def encode(self, rows: list) -> bytes | None:
        count = len(rows)
        if not count:
            return b""
        width = 2 * len(self.columns)
        template = self._templates.get(count)
        if template is None:
            template = [x for prefix in self.prefixes for x in (prefix, b"")] * count
            if count <= _CACHED_ROWS and len(self._templates) < _CACHED_PAGES:
                self._templates[count] = template
        pieces = template.copy()
        slot = 1
        for name, size in self.columns:
            if name is None:
                values = [row.clustering for row in rows]
            else:
                values = column_values(rows, name)
                if None in values:
                    return None
            if max(map(len, values)) > size:
                return None
            pieces[slot::width] = values
            slot += 2
        data = b"".join(pieces)
        # No value is longer than its size: the total says none is shorter.
        if len(data) != count * self.row_size:
            return None
        if self.row_mask is None:
            return data
        mask = self._masks.get(count)
        if mask is None:
            mask = int.from_bytes(self.row_mask * count, "big")
            if count <= _CACHED_ROWS and len(self._masks) < _CACHED_PAGES:
                self._masks[count] = mask
        return (int.from_bytes(data, "big") ^ mask).to_bytes(len(data), "big")


# A _FixedRows keeps the templates and masks of at most _CACHED_PAGES page
# lengths (the first seen), each of at most _CACHED_ROWS rows: a newest-N
# read sees one or two lengths; memory stays small whatever the pages.
_CACHED_PAGES = 8
_CACHED_ROWS = 256


def _pk_column(position: int) -> Callable:
    def cells(rows, pk, ck, static) -> list[bytes]:
        return [pk[position]] * len(rows)

    return cells


def _clustering_column(position: int) -> Callable:
    def cells(rows, pk, ck, static) -> list[bytes]:
        return ck[position]

    return cells


def _static_column(name: str, convert: Callable[[bytes], object], null) -> Callable:
    def cells(rows, pk, ck, static) -> list:
        cell = None if static is None else static.cells.get(name)
        return [null if cell is None else convert(cell.value)] * len(rows)

    return cells


def _regular_column(name: str, convert: Callable[[bytes], object], null) -> Callable:
    def cells(rows, pk, ck, static) -> list:
        return [null if value is None else convert(value) for value in column_values(rows, name)]

    return cells


def _regular_cells(name: str, cql_type) -> Callable:
    """Return ``_regular_column``'s [value] cells, fixed-size integers without a call each."""
    convert = wire_cell(cql_type)
    fixed = fixed_cell_prefix(cql_type)
    if fixed is None:
        return _regular_column(name, convert, NULL_CELL)
    size, prefix = fixed

    def cells(rows, pk, ck, static) -> list:
        return [
            NULL_CELL if value is None else prefix + value if len(value) == size else convert(value)
            for value in column_values(rows, name)
        ]

    return cells
