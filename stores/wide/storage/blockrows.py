"""Rows read straight out of a cached SSTable block, decoded only as far as needed.

Owns BlockRowData (a row of a data block: its clustering key decoded, the
rest when first touched), LazyRow (a live Row whose cells are decoded
when a caller first asks for them) and LiveContext (what lets a reader
hand out LazyRows straight from a block). A read's merge needs a row's clustering
key, and, to know the row is live, only its flags and row marker: a row
with a live marker and no deletion in sight is live whatever its cells
hold, so decoding the cells can wait, and never happens for rows a caller
only counts. Anything else (a merge of two versions, a tombstone in sight,
a trace) decodes the row whole, exactly as ``codec.decode_row`` does.
Never reads files: blocks are handed in by the SSTable reader.
"""

from __future__ import annotations

from .cells import Cell, LivenessInfo
from .cellshapes import decode_plain_cells
from .codec import decode_live_cells, decode_row
from .format import LIVENESS, ROW_DELETION, ROW_LIVENESS, ROW_STATIC
from .partition import RowData
from .read import Row

_unpack_liveness = LIVENESS.unpack_from
_NOT_FAST = ROW_DELETION | ROW_STATIC


class LiveContext:
    """A read's promise to its row sources that no deletion outside a row covers it.

    ``merge.read_partition`` sets ``fast`` (with ``now`` and ``columns``)
    before it takes the first row, when the partition has no deletion and
    no range tombstone, no trace is kept, and no two sources' rows are
    merged. A source that sees ``fast`` may then yield a LazyRow for a row
    whose flags and marker prove it live, skipping the BlockRowData.
    """

    __slots__ = ("fast", "now", "columns")

    def __init__(self) -> None:
        self.fast = False
        self.now = 0
        self.columns: frozenset[str] | None = None


def live_in_block(
    clustering: bytes,
    buf: bytes,
    pos: int,
    now: int,
    columns: frozenset[str] | None,
    end: int | None = None,
) -> LazyRow | None:
    """Return the row at ``pos`` as a LazyRow if its flags and marker prove it live, else None.

    ``end``, where the row's bytes end if known, lets its cells decode by
    their shape (``cellshapes``).
    """
    flags = buf[pos]
    if flags & _NOT_FAST or not flags & ROW_LIVENESS:
        return None
    marker = _unpack_liveness(buf, pos + 3 + len(clustering))
    if marker[1] and now >= marker[2]:
        return None
    return LazyRow(clustering, buf, pos, marker, now, columns, end)


class BlockRowData(RowData):
    """A RowData still in its block: every part but the clustering key decoded on demand.

    Reads through the RowData attributes decode the whole row once (the
    same RowData ``decode_row`` returns), so every general code path works
    on it unchanged; ``live`` is the cheap path a read takes when no
    deletion covers the row.
    """

    __slots__ = ("_buf", "_pos", "_end", "_full")

    def __init__(self, clustering: bytes, buf: bytes, pos: int, end: int | None = None) -> None:
        self.clustering = clustering
        self._buf = buf
        self._pos = pos
        self._end = end  # where the row's bytes end, if known (see ``live_in_block``)
        self._full = None

    def decoded(self) -> RowData:
        """Return the row decoded whole (decoded once, then kept)."""
        full = self._full
        if full is None:
            full = self._full = decode_row(self._buf, self._pos)[0]
        return full

    @property
    def plain(self) -> bool:  # type: ignore[override]
        return self.decoded().plain

    @property
    def liveness(self) -> LivenessInfo | None:  # type: ignore[override]
        return self.decoded().liveness

    @property
    def deletion(self):  # type: ignore[override]
        return self.decoded().deletion

    @property
    def cells(self) -> dict[str, Cell]:  # type: ignore[override]
        return self.decoded().cells

    @property
    def complex_deletions(self):  # type: ignore[override]
        return self.decoded().complex_deletions

    @property
    def complex_cells(self):  # type: ignore[override]
        return self.decoded().complex_cells

    def __eq__(self, other: object) -> bool:
        return self.decoded() == other

    __hash__ = None  # type: ignore[assignment]

    def live(self, now: int, columns: frozenset[str] | None) -> Row | bool:
        """Return the row's live form if no deletion outside the row covers it.

        Return False when the row cannot be judged from its flags and marker
        alone (a row deletion, no marker, an expired marker): the caller
        then takes the general path over ``decoded()``.
        """
        row = live_in_block(self.clustering, self._buf, self._pos, now, columns, self._end)
        return False if row is None else row


class LazyRow(Row):
    """A live Row from a block whose marker alone proves it live.

    ``cells`` and ``complex_cells`` are decoded on first access, holding
    what ``merge.live_row`` would hold for the same row at ``now``; both
    may be replaced by assignment as on any Row.
    """

    # ``_cells`` and ``_complex`` are None until decoded. (Left unset, a first
    # access would cost a raised AttributeError: dearer than the assignment.)
    __slots__ = ("_buf", "_pos", "_end", "_marker", "_now", "_columns", "_cells", "_complex")

    def __init__(
        self,
        clustering: bytes,
        buf: bytes,
        pos: int,
        marker: tuple[int, int, int],
        now: int,
        columns: frozenset[str] | None,
        end: int | None = None,
    ) -> None:
        self.clustering = clustering
        self._buf = buf
        self._pos = pos
        self._end = end
        self._marker = marker
        self._now = now
        self._columns = columns
        self._cells = None
        self._complex = None

    def _decode(self) -> None:
        buf = self._buf
        if buf is None:
            # Decoded before: by its shape (no complex column), or whole and
            # then a part was replaced.
            if self._complex is None:
                self._complex = {}
            return
        # The cells follow the flags, the clustering (u16 length) and the 20-byte marker.
        at = self._pos + 23 + len(self.clustering)
        cells, has_complex = decode_live_cells(buf, at, self._now, self._columns)
        if has_complex:
            from .merge import live_row  # merge imports this module

            whole = decode_row(buf, self._pos)[0]
            full = live_row(whole, None, self._now, self._columns)
            cells, complex_cells = full.cells, full.complex_cells
        else:
            complex_cells = {}
        if self._cells is None:
            self._cells = cells
        if self._complex is None:
            self._complex = complex_cells
        # Decoded: let go of the block, so a row kept by the caller does not
        # keep its 4 KiB block alive.
        self._buf = None

    @property
    def cells(self) -> dict[str, Cell]:  # type: ignore[override]
        cells = self._cells
        if cells is None:
            buf = self._buf
            end = self._end
            if buf is not None and end is not None:
                # The common row, plain cells only, decoded by its shape in one
                # unpack; it has no complex column, so ``_complex`` is left to
                # ``_decode`` (an empty dict when first asked for).
                cells = decode_plain_cells(
                    buf, self._pos + 23 + len(self.clustering), end, self._columns
                )
                if cells is not None:
                    self._cells = cells
                    self._buf = None
                    return cells
            self._decode()
            cells = self._cells
        return cells

    @cells.setter
    def cells(self, value: dict[str, Cell]) -> None:
        if self._complex is None:
            self._decode()
        self._cells = value

    @property
    def complex_cells(self) -> dict[str, list[tuple[bytes, Cell]]]:  # type: ignore[override]
        complex_cells = self._complex
        if complex_cells is None:
            self._decode()
            complex_cells = self._complex
        return complex_cells

    @complex_cells.setter
    def complex_cells(self, value: dict[str, list[tuple[bytes, Cell]]]) -> None:
        if self._cells is None:
            self._decode()
        self._complex = value

    @property
    def liveness(self) -> LivenessInfo | None:  # type: ignore[override]
        marker = self._marker
        if type(marker) is tuple:
            marker = self._marker = LivenessInfo(*marker)
        return marker

    @liveness.setter
    def liveness(self, value: LivenessInfo | None) -> None:
        self._marker = value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Row):
            return NotImplemented
        return (
            self.clustering == other.clustering
            and self.cells == other.cells
            and self.complex_cells == other.complex_cells
            and self.liveness == other.liveness
        )

    __hash__ = None  # type: ignore[assignment]
