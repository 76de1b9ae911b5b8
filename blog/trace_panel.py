"""Render the "What this page did" panel from a request's store trace.

Owns the panel's HTML. Built with plain string joins and ``html.escape``
rather than a Django template because it is drawn on every page, including
the cached ones whose whole point is to cost almost nothing: this keeps the
panel to a few tens of microseconds. Every value from a trace (keys,
commands, statements, errors) is escaped.
"""

from __future__ import annotations

from html import escape

from stores.tracing import StoreEvent, Trace


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _kv_rows(events: list[StoreEvent]) -> str:
    rows = [
        f"<tr{' class=failed' if e.failed else ''}><td>{escape(e.label)}</td>"
        f"<td><code>{escape(e.text)}</code></td><td>{escape(e.outcome)}</td>"
        f'<td class="num">{e.milliseconds:.3f}</td></tr>'
        for e in events
    ]
    return (
        '<table class="trace-table"><thead><tr><th scope="col">handle</th>'
        '<th scope="col">command</th><th scope="col">result</th>'
        '<th scope="col" class="num">ms</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
    )


def _wide_rows(events: list[StoreEvent]) -> str:
    rows = [
        f"<tr{' class=failed' if e.failed else ''}><td><code>{escape(e.text)}</code></td>"
        f'<td>{escape(e.outcome)}</td><td class="num">{e.milliseconds:.3f}</td></tr>'
        for e in events
    ]
    return (
        '<table class="trace-table"><thead><tr><th scope="col">statement</th>'
        '<th scope="col">result</th><th scope="col" class="num">ms</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
    )


def render_panel(trace: Trace, total_ms: float, descriptions: dict[str, str]) -> str:
    """Return the panel's HTML for a trace.

    ``descriptions`` names the stores: keys ``kv``, ``pages`` and ``wide``.
    """
    kv_events = [e for e in trace.events if e.store == "kv"]
    wide_events = [e for e in trace.events if e.store == "wide"]
    hit = any(n.hit for n in trace.cache_notes)
    badges = []
    if hit:
        badges.append('<span class="badge hit">page cache hit</span>')
    elif trace.cache_notes:
        badges.append('<span class="badge miss">page cache miss</span>')
    badges.append(
        f'<span class="badge kv">{_plural(len(kv_events), "key-value command")} · '
        f"{trace.total_seconds('kv') * 1000:.2f} ms</span>"
    )
    badges.append(
        f'<span class="badge wide">{_plural(len(wide_events), "CQL statement")} · '
        f"{trace.total_seconds('wide') * 1000:.2f} ms</span>"
    )
    badges.append(f'<span class="badge">request {total_ms:.1f} ms</span>')

    parts = [
        '<details class="trace-panel" id="store-trace"><summary><strong>What this page did</strong>',
        '<span class="trace-sum">',
        "".join(badges),
        '</span></summary><div class="trace-body">',
    ]
    if trace.cache_notes:
        parts.append('<h3>Page cache</h3><ul class="trace-cache">')
        for note in trace.cache_notes:
            what = escape(note.what)
            if note.hit:
                text = (
                    f'<span class="badge hit">hit</span> The {what} came from the key-value '
                    "store: no CQL ran to build it."
                )
            else:
                text = (
                    f'<span class="badge miss">miss</span> The {what} was built from the '
                    "wide-column store and stored in the key-value cache for the next visitor."
                )
            parts.append(f"<li>{text} <code>{escape(note.key)}</code></li>")
        parts.append("</ul>")

    kv_text = f"Sessions, rate limits: {escape(descriptions.get('kv', ''))}."
    if descriptions.get("pages") and descriptions.get("pages") != descriptions.get("kv"):
        kv_text += f" Page cache: {escape(descriptions['pages'])}."
    parts.append(
        f'<h3><span class="dot kv"></span>Key-value store</h3><p class="muted">{kv_text}</p>'
    )
    parts.append(
        _kv_rows(kv_events) if kv_events else '<p class="empty">No key-value commands.</p>'
    )

    parts.append(
        '<h3><span class="dot wide"></span>Wide-column store</h3><p class="muted">'
        f"Posts, comments, history, counters: {escape(descriptions.get('wide', ''))}.</p>"
    )
    if wide_events:
        parts.append(_wide_rows(wide_events))
    else:
        tail = ": the page cache answered" if hit else ""
        parts.append(f'<p class="empty">No CQL statements{tail}.</p>')
    if trace.dropped:
        parts.append(f'<p class="muted">… and {trace.dropped} more not shown.</p>')
    parts.append(
        '<p class="muted">Includes the session load and save. Every statement\'s values are '
        "bound parameters; none is formatted into the CQL text.</p></div></details>"
    )
    return "".join(parts)
