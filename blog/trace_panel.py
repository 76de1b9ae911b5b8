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

_escape = lru_cache(maxsize=ESCAPE_MEMO_SIZE)(escape)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@lru_cache(maxsize=ESCAPE_MEMO_SIZE)
def _kv_get_cells(label: str, key: str) -> str:
    """Return the handle and command cells of a GET of key (a page read repeats them)."""
    text = KVGet(label, key, 0.0, None).text
    return f"<td>{escape(label)}</td><td><code>{escape(text)}</code></td>"


def _kv_row(e: StoreEvent | KVGet) -> str:
    if type(e) is KVGet and not e.failed:
        cells = _kv_get_cells(e.label, e.key)
    else:
        cells = f"<td>{_escape(e.label)}</td><td><code>{_escape(e.text)}</code></td>"
    return (
        f"<tr{' class=failed' if e.failed else ''}>{cells}<td>{_escape(e.outcome)}</td>"
        f'<td class="num">{e.seconds * 1000.0:.3f}</td></tr>'
    )


def _wide_row(e: StoreEvent) -> str:
    return (
        f"<tr{' class=failed' if e.failed else ''}><td><code>{_escape(e.text)}</code></td>"
        f'<td>{_escape(e.outcome)}</td><td class="num">{e.seconds * 1000.0:.3f}</td></tr>'
    )


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
    kv_rows: list[str] = []
    wide_rows: list[str] = []
    kv_seconds = wide_seconds = 0.0
    for e in trace.events:
        if e.store == "kv":
            kv_rows.append(_kv_row(e))
            kv_seconds += e.seconds
        elif e.store == "wide":
            wide_rows.append(_wide_row(e))
            wide_seconds += e.seconds
    notes = trace.cache_notes
    hit = False
    for note in notes:
        if note.hit:
            hit = True
            break
    kv_intro, wide_intro = _store_intros(
        descriptions.get("kv", ""), descriptions.get("pages", ""), descriptions.get("wide", "")
    )
    parts = [
        _HEAD,
        _HIT_BADGE if hit else _MISS_BADGE if notes else "",
        f'<span class="badge kv">{_plural(len(kv_rows), "key-value command")} · '
        f"{kv_seconds * 1000:.2f} ms</span>"
        f'<span class="badge wide">{_plural(len(wide_rows), "CQL statement")} · '
        f"{wide_seconds * 1000:.2f} ms</span>"
        f'<span class="badge">request {total_ms:.1f} ms</span>',
        _SUMMARY_END,
    ]
    if notes:
        parts.append('<h3>Page cache</h3><ul class="trace-cache">')
        parts.extend(_cache_note(n.key, n.hit, n.what) for n in notes)
        parts.append("</ul>")
    parts.append(kv_intro)
    if kv_rows:
        parts += (_KV_TABLE_HEAD, *kv_rows, _TABLE_TAIL)
    else:
        parts.append(_NO_KV)
    parts.append(wide_intro)
    if wide_rows:
        parts += (_WIDE_TABLE_HEAD, *wide_rows, _TABLE_TAIL)
    else:
        parts.append(_NO_CQL_HIT if hit else _NO_CQL)
    if trace.dropped:
        parts.append(f'<p class="muted">… and {trace.dropped} more not shown.</p>')
    parts.append(_TAIL)
    return "".join(parts)
