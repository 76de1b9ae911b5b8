"""Render the "What this page did" panel from a request's store trace.

Owns the panel's HTML. Built with plain string joins and ``html.escape``
rather than a Django template because it is drawn on every page, including
the cached ones whose whole point is to cost almost nothing: the fixed
parts are module constants, and the escaped text of what repeats from
request to request (store descriptions, cache keys, handle labels, command
texts, outcomes) is remembered in bounded tables, so a cached page's panel
costs a few string joins. Every value from a trace (keys, commands,
statements, errors) is escaped.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape

from stores.tracing import KVGet, StoreEvent, Trace

# Bounds the remembered escapes: each entry is one short abbreviated text.
ESCAPE_MEMO_SIZE = 4096

_KV_TABLE_HEAD = (
    '<table class="trace-table"><thead><tr><th scope="col">handle</th>'
    '<th scope="col">command</th><th scope="col">result</th>'
    '<th scope="col" class="num">ms</th></tr></thead><tbody>'
)
_WIDE_TABLE_HEAD = (
    '<table class="trace-table"><thead><tr><th scope="col">statement</th>'
    '<th scope="col">result</th><th scope="col" class="num">ms</th></tr></thead><tbody>'
)
_TABLE_TAIL = "</tbody></table>"
_HEAD = (
    '<details class="trace-panel" id="store-trace"><summary><strong>What this page did</strong>'
    '<span class="trace-sum">'
)
_HIT_BADGE = '<span class="badge hit">page cache hit</span>'
_MISS_BADGE = '<span class="badge miss">page cache miss</span>'
_SUMMARY_END = '</span></summary><div class="trace-body">'
_NO_KV = '<p class="empty">No key-value commands.</p>'
_NO_CQL = '<p class="empty">No CQL statements.</p>'
_NO_CQL_HIT = '<p class="empty">No CQL statements: the page cache answered.</p>'
_TAIL = (
    '<p class="muted">Includes the session load and save. Every statement\'s values are '
    "bound parameters; none is formatted into the CQL text.</p></div></details>"
)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@lru_cache(maxsize=ESCAPE_MEMO_SIZE)
def _kv_get_row_head(label: str, key: str, found: bool) -> str:
    """Return a GET row up to its time (a cached page's row repeats all but the time)."""
    text = KVGet(label, key, 0.0, b"" if found else None).text
    return (
        f"<tr><td>{escape(label)}</td><td><code>{escape(text)}</code></td>"
        f'<td>{"value" if found else "nil"}</td><td class="num">'
    )


@lru_cache(maxsize=ESCAPE_MEMO_SIZE)
def _kv_row_head(label: str, text: str, outcome: str, failed: bool) -> str:
    """Return a key-value row up to its time."""
    return (
        f"<tr{' class=failed' if failed else ''}><td>{escape(label)}</td>"
        f"<td><code>{escape(text)}</code></td><td>{escape(outcome)}</td>"
        '<td class="num">'
    )


@lru_cache(maxsize=ESCAPE_MEMO_SIZE)
def _wide_row_head(text: str, outcome: str, failed: bool) -> str:
    """Return a wide-column row up to its time."""
    return (
        f"<tr{' class=failed' if failed else ''}><td><code>{escape(text)}</code></td>"
        f'<td>{escape(outcome)}</td><td class="num">'
    )


def _kv_head(e: StoreEvent | KVGet) -> str:
    if type(e) is KVGet and not e[4]:
        # The page cache's GET: its row is remembered by key, not by text.
        return _kv_get_row_head(e[0], e[1], e[3] is not None)
    return _kv_row_head(e.label, e.text, e.outcome, e.failed)


def _kv_row(e: StoreEvent | KVGet) -> str:
    return f"{_kv_head(e)}{e.seconds * 1000.0:.3f}</td></tr>"


def _wide_row(e: StoreEvent) -> str:
    head = _wide_row_head(e.text, e.outcome, e.failed)
    return f"{head}{e.seconds * 1000.0:.3f}</td></tr>"


@lru_cache(maxsize=ESCAPE_MEMO_SIZE)
def _cache_note(key: str, hit: bool, what: str) -> str:
    what = escape(what)
    if hit:
        text = (
            f'<span class="badge hit">hit</span> The {what} came from the key-value '
            "store: no CQL ran to build it."
        )
    else:
        text = (
            f'<span class="badge miss">miss</span> The {what} was built from the '
            "wide-column store and stored in the key-value cache for the next visitor."
        )
    return f"<li>{text} <code>{escape(key)}</code></li>"


@lru_cache(maxsize=16)
def _store_intros(kv: str, pages: str, wide: str) -> tuple[str, str]:
    kv_text = f"Sessions, rate limits: {escape(kv)}."
    if pages and pages != kv:
        kv_text += f" Page cache: {escape(pages)}."
    return (
        f'<h3><span class="dot kv"></span>Key-value store</h3><p class="muted">{kv_text}</p>',
        '<h3><span class="dot wide"></span>Wide-column store</h3><p class="muted">'
        f"Posts, comments, history, counters: {escape(wide)}.</p>",
    )


def render_panel(trace: Trace, total_ms: float, descriptions: dict[str, str]) -> str:
    """Return the panel's HTML for a trace.

    ``descriptions`` names the stores: keys ``kv``, ``pages`` and ``wide``.
    """
    return render_panel_bytes(trace, total_ms, descriptions).decode()


def render_panel_bytes(trace: Trace, total_ms: float, descriptions: dict[str, str]) -> bytes:
    """Return the panel's HTML for a trace, UTF-8 encoded, as it goes into a page."""
    intros = _store_intros(
        descriptions.get("kv", ""), descriptions.get("pages", ""), descriptions.get("wide", "")
    )
    events = trace.events
    if not trace.dropped:
        panel = None
        if len(events) <= MAX_LAYOUT_GETS:
            for e in events:
                if type(e) is not KVGet or e[4]:
                    break
            else:
                panel = _render_gets_only(trace, total_ms, intros)
        if panel is None and len(events) <= MAX_LAYOUT_EVENTS:
            panel = _render_from_layout(trace, total_ms, intros)
        if panel is not None:
            return panel
    kv_rows: list[str] = []
    wide_rows: list[str] = []
    kv_seconds = wide_seconds = 0.0
    for e in events:
        if e.store == "kv":
            kv_rows.append(_kv_row(e))
            kv_seconds += e.seconds
        elif e.store == "wide":
            wide_rows.append(_wide_row(e))
            wide_seconds += e.seconds
    notes = tuple(trace.cache_notes)
    return "".join(
        _assemble(
            notes,
            f"{kv_seconds * 1000:.2f}",
            f"{wide_seconds * 1000:.2f}",
            f"{total_ms:.1f}",
            kv_rows,
            wide_rows,
            trace.dropped,
            intros,
        )
    ).encode()


def _assemble(
    notes: tuple,
    kv_ms: str,
    wide_ms: str,
    total_ms: str,
    kv_rows: list[str],
    wide_rows: list[str],
    dropped: int,
    intros: tuple[str, str],
) -> list[str]:
    hit = any(note[1] for note in notes)
    parts = [
        _HEAD,
        _HIT_BADGE if hit else _MISS_BADGE if notes else "",
        f'<span class="badge kv">{_plural(len(kv_rows), "key-value command")} · '
        f"{kv_ms} ms</span>"
        f'<span class="badge wide">{_plural(len(wide_rows), "CQL statement")} · '
        f"{wide_ms} ms</span>"
        f'<span class="badge">request {total_ms} ms</span>',
        _SUMMARY_END,
    ]
    if notes:
        parts.append('<h3>Page cache</h3><ul class="trace-cache">')
        parts.extend(_cache_note(*note) for note in notes)
        parts.append("</ul>")
    parts.append(intros[0])
    if kv_rows:
        parts += (_KV_TABLE_HEAD, *kv_rows, _TABLE_TAIL)
    else:
        parts.append(_NO_KV)
    parts.append(intros[1])
    if wide_rows:
        parts += (_WIDE_TABLE_HEAD, *wide_rows, _TABLE_TAIL)
    else:
        parts.append(_NO_CQL_HIT if hit else _NO_CQL)
    if dropped:
        parts.append(f'<p class="muted">… and {dropped} more not shown.</p>')
    parts.append(_TAIL)
    return parts


# A trace of page-cache GETs only (a cached page: one GET, or none with
# another cache backend) has the same panel on every request but for its
# times: its layout is made once, with a slot for each time.
MAX_LAYOUT_GETS = 4
ONE_GET_MEMO_SIZE = 1024
_ONE_GET: dict[str, tuple] = {}
_SLOT = "\x00"


@lru_cache(maxsize=256)
def _gets_layout(gets: tuple, notes: tuple, intros: tuple[str, str]) -> tuple[bytes, ...] | None:
    """Return the panel's UTF-8 text around its times (kv ms, request ms, each GET's ms)."""
    rows = [f"{_kv_get_row_head(label, key, found)}{_SLOT}</td></tr>" for label, key, found in gets]
    text = "".join(_assemble(notes, _SLOT, "0.00", _SLOT, rows, [], 0, intros))
    chunks = tuple(chunk.encode() for chunk in text.split(_SLOT))
    # A slot character in a key or description would misplace the times.
    return chunks if len(chunks) == 3 + len(gets) else None


def _render_gets_only(trace: Trace, total_ms: float, intros: tuple[str, str]) -> bytes | None:
    events = trace.events
    # Cache notes are tuples: (key, hit, what).
    notes_key = tuple(trace.cache_notes)
    if not events:
        chunks = _gets_layout((), notes_key, intros)
        if chunks is None:
            return None
        return b"%b0.00%b%.1f%b" % (chunks[0], chunks[1], total_ms, chunks[2])
    if len(events) == 1:
        # A cached page on the key-value store: its one GET, looked up by
        # its key (a str caches its hash) before hashing the whole shape.
        label, key, seconds, reply, _ = events[0]
        found = reply is not None
        entry = _ONE_GET.get(key)
        if (
            entry is not None
            and entry[0] == label
            and entry[1] is found
            and entry[2] == notes_key
            and entry[3] is intros
        ):
            chunks = entry[4]
        else:
            chunks = _gets_layout(((label, key, found),), notes_key, intros)
            if chunks is None:
                return None
            if len(_ONE_GET) >= ONE_GET_MEMO_SIZE:
                _ONE_GET.clear()
            _ONE_GET[key] = (label, found, notes_key, intros, chunks)
        ms = seconds * 1000
        return b"%b%.2f%b%.1f%b%.3f%b" % (
            chunks[0],
            ms,
            chunks[1],
            total_ms,
            chunks[2],
            ms,
            chunks[3],
        )
    gets = tuple((e[0], e[1], e[3] is not None) for e in events)
    chunks = _gets_layout(gets, notes_key, intros)
    if chunks is None:
        return None
    kv_seconds = 0.0
    for e in events:
        kv_seconds += e[2]
    parts = [chunks[0], b"%.2f" % (kv_seconds * 1000), chunks[1], b"%.1f" % total_ms, chunks[2]]
    for index, e in enumerate(events):
        parts.append(b"%.3f" % (e[2] * 1000.0))
        parts.append(chunks[3 + index])
    return b"".join(parts)


# Any other short trace (a post page: its GET, the view's CQL UPDATE and
# the leaderboard PIPELINE) is laid out once per set of rows, keyed by the
# rows' remembered heads, with a slot for each time.
MAX_LAYOUT_EVENTS = 12


@lru_cache(maxsize=256)
def _layout(
    kv_heads: tuple[str, ...], wide_heads: tuple[str, ...], notes: tuple, intros: tuple[str, str]
) -> tuple[bytes, ...] | None:
    """Return the panel's UTF-8 text around its times (kv, wide, request, then each row's)."""
    tail = f"{_SLOT}</td></tr>"
    text = "".join(
        _assemble(
            notes,
            _SLOT,
            _SLOT,
            _SLOT,
            [head + tail for head in kv_heads],
            [head + tail for head in wide_heads],
            0,
            intros,
        )
    )
    chunks = tuple(chunk.encode() for chunk in text.split(_SLOT))
    return chunks if len(chunks) == 4 + len(kv_heads) + len(wide_heads) else None


def _render_from_layout(trace: Trace, total_ms: float, intros: tuple[str, str]) -> bytes | None:
    kv_heads: list[str] = []
    wide_heads: list[str] = []
    kv_times: list[float] = []
    wide_times: list[float] = []
    for e in trace.events:
        store = e.store
        if store == "kv":
            kv_heads.append(_kv_head(e))
            kv_times.append(e.seconds)
        elif store == "wide":
            wide_heads.append(_wide_row_head(e.text, e.outcome, e.failed))
            wide_times.append(e.seconds)
    chunks = _layout(tuple(kv_heads), tuple(wide_heads), tuple(trace.cache_notes), intros)
    if chunks is None:
        return None
    kv_seconds = 0.0
    for seconds in kv_times:
        kv_seconds += seconds
    wide_seconds = 0.0
    for seconds in wide_times:
        wide_seconds += seconds
    parts = [
        chunks[0],
        b"%.2f" % (kv_seconds * 1000),
        chunks[1],
        b"%.2f" % (wide_seconds * 1000),
        chunks[2],
        b"%.1f" % total_ms,
        chunks[3],
    ]
    index = 4
    for seconds in kv_times + wide_times:
        parts.append(b"%.3f" % (seconds * 1000.0))
        parts.append(chunks[index])
        index += 1
    return b"".join(parts)
