"""A signed-out visitor's whole page as the page cache stores it: one bytes value.

Owns the stored form of a whole page (``encode``) and the reading of it
(``WholePage``). The page is kept as the UTF-8 bytes it is sent as, with
the offset of its "What this page did" marker, so serving it from the
cache neither unpickles nor re-encodes a string nor searches the page: the
panel is joined in at the known offset, and the stored bytes are copied
once, into the response body. Never holds anything a visitor sends.

Layout (all integers unsigned big-endian)::

    MAGIC (3 bytes) | title length (4, NO_TITLE for none) |
    marker offset in the HTML (4, NO_MARKER for none) | title (UTF-8) | HTML (UTF-8)

``MAGIC`` starts with a letter so ``stores.cache.KVSerializer`` stores the
value as it is; any other cache pickles the bytes.
"""

from __future__ import annotations

import struct

from blog.middleware import MARKER

MAGIC = b"WP1"
HEADER = struct.Struct(">II")
HEADER_END = len(MAGIC) + HEADER.size
NO_TITLE = NO_MARKER = 0xFFFFFFFF


def encode(html: str, title: str | None = None) -> bytes:
    """Return the stored form of a page's HTML and (for a post) its title."""
    body = html.encode()
    title_bytes = b"" if title is None else title.encode()
    title_length = NO_TITLE if title is None else len(title_bytes)
    at = body.find(MARKER)
    marker = NO_MARKER if at < 0 else at
    return MAGIC + HEADER.pack(title_length, marker) + title_bytes + body


def is_encoded(value) -> bool:
    """Return True if value is a whole page in its stored form."""
    return type(value) is bytes and value[: len(MAGIC)] == MAGIC


class WholePage:
    """A stored whole page, read in place (no copy until ``body``)."""

    __slots__ = ("data", "title", "html_start", "marker", "_around_marker")

    def __init__(self, data: bytes):
        if type(data) is not bytes or len(data) < HEADER_END or not data.startswith(MAGIC):
            raise ValueError("not a stored whole page")
        title_length, marker = HEADER.unpack_from(data, len(MAGIC))
        self.data = data
        if title_length == NO_TITLE:
            self.html_start, self.title = HEADER_END, None
        else:
            self.html_start = HEADER_END + title_length
            if self.html_start > len(data):
                raise ValueError("truncated whole page")
            self.title = data[HEADER_END : self.html_start].decode()
        self.marker = None if marker == NO_MARKER else self.html_start + marker
        if self.marker is not None and self.marker + len(MARKER) > len(data):
            raise ValueError("whole page marker out of range")
        self._around_marker: tuple[memoryview, memoryview] | None = None

    @classmethod
    def from_page(cls, page: dict) -> WholePage:
        """Return the WholePage of a page dict ({"html": ..., "title": ...})."""
        return cls(encode(page["html"], page.get("title")))

    @property
    def has_marker(self) -> bool:
        return self.marker is not None

    def body(self, panel: bytes | None = None) -> bytes:
        """Return the HTML bytes, with panel in place of the marker when given."""
        at = self.marker
        if panel is None or at is None:
            return bytes(memoryview(self.data)[self.html_start :])
        around = self._around_marker
        if around is None:
            # Kept: a page the cache hands back as the same object (the
            # embedded engine's) is served again without slicing it anew.
            view = memoryview(self.data)
            around = self._around_marker = (
                view[self.html_start : at],
                view[at + len(MARKER) :],
            )
        return b"".join((around[0], panel, around[1]))

    def as_dict(self) -> dict:
        """Return the page as the views build it: {"html": str, "title": str (posts)}."""
        page = {"html": self.body().decode()}
        if self.title is not None:
            page["title"] = self.title
        return page
