"""The panel's HTML: counts, badges, escaping."""

import pytest

from blog.trace_panel import render_panel
from stores.kv.replies import ErrorReply
from stores.tracing import KVGet, StoreEvent, Trace

DESCRIPTIONS = {"kv": "main <kv>", "pages": "pages engine", "wide": "wide & co"}


def test_counts_badges_and_escaping():
    trace = Trace()
    trace.add(StoreEvent("kv", "pages", "GET page:<script>", 0.0002, "nil"))
    trace.add(StoreEvent("wide", "main", "SELECT * FROM t WHERE k = ?", 0.001, "1 row"))
    trace.add(StoreEvent("wide", "main", "UPDATE x", 0.001, "boom <b>", failed=True))
    trace.note_cache("blog:front:<x>", False, "front page")
    html = render_panel(trace, 3.21, DESCRIPTIONS)
    assert "1 key-value command · 0.20 ms" in html
    assert "2 CQL statements · 2.00 ms" in html
    assert "page cache miss" in html and "request 3.2 ms" in html
    assert "<script>" not in html and "GET page:&lt;script&gt;" in html
    assert "boom &lt;b&gt;" in html and "<tr class=failed>" in html
    assert (
        "main &lt;kv&gt;" in html and "wide &amp; co" in html and "Page cache: pages engine" in html
    )
    assert "blog:front:&lt;x&gt;" in html


def test_hit_without_cql_says_the_cache_answered():
    trace = Trace()
    trace.note_cache("k", True, "whole front page")
    html = render_panel(trace, 1.0, DESCRIPTIONS)
    assert "page cache hit" in html
    assert "No CQL statements: the page cache answered." in html
    assert "No key-value commands." in html


def _as_store_event(e):
    return StoreEvent("kv", e.label, e.text, e.seconds, e.outcome, e.failed)


def _panels(events, notes, dropped=0, descriptions=DESCRIPTIONS):
    """Return the panel of a trace of KVGets and of the same trace as StoreEvents."""
    pair = []
    for convert in (lambda e: e, _as_store_event):
        trace = Trace()
        for event in events:
            trace.add(convert(event))
        for note in notes:
            trace.note_cache(*note)
        trace.dropped = dropped
        pair.append(render_panel(trace, 0.031, descriptions))
    return pair


@pytest.mark.parametrize("count", [0, 1, 2, 5])
def test_a_gets_only_panel_reads_as_the_general_one(count):
    events = [KVGet("pages", f"page:1:k<{i}>", 0.0000123 * (i + 1), b"v") for i in range(count)]
    if count == 2:
        events[1] = KVGet("pages", "gone", 0.00002, None)
    notes = [("page:1:k<0>", True, "whole front page")] if count else []
    fast, general = _panels(events, notes)
    assert fast == general
    if count:
        assert "GET page:1:k&lt;0&gt;" in fast and "0.012</td>" in fast
    # Repeated (the layout is remembered): only the times change.
    again, _ = _panels([KVGet(e.label, e.key, 0.5, e.reply) for e in events], notes)
    assert again == _panels([KVGet(e.label, e.key, 0.5, e.reply) for e in events], notes)[1]


def test_gets_only_panel_falls_back_for_failures_drops_and_slot_characters():
    failed = KVGet("pages", "k", 0.001, ErrorReply("WRONGTYPE x"), failed=True)
    fast, general = _panels([failed], [])
    assert fast == general and "class=failed" in fast and "WRONGTYPE x" in fast
    assert _panels([KVGet("pages", "k", 0.001, b"v")], [], dropped=3)[0].count("3 more") == 1
    odd = [KVGet("pages", "a\x00b", 0.001, b"v")]
    fast, general = _panels(odd, [("a\x00b", True, "x\x00")], descriptions={"kv": "\x00"})
    assert fast == general
