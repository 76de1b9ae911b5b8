"""The panel's HTML: counts, badges, escaping."""

import pytest

from blog import trace_panel
from blog.trace_panel import render_panel
from stores.kv.replies import ErrorReply
from stores.tracing import KVGet, KVPipeline, StoreEvent, Trace

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


def _general(trace, total_ms, descriptions, monkeypatch):
    """Return the panel drawn row by row, as traces too long for a layout are."""
    with monkeypatch.context() as patch:
        patch.setattr(trace_panel, "MAX_LAYOUT_EVENTS", -1)
        patch.setattr(trace_panel, "MAX_LAYOUT_GETS", -1)
        return render_panel(trace, total_ms, descriptions)


def _post_page_trace(get_seconds, cql_seconds, pipe_seconds, failed=False, found=True):
    """Return a trace shaped as a cached post page's: GET, CQL UPDATE, PIPELINE."""
    trace = Trace()
    trace.add(KVGet("pages", "page:1:blog:post:<1>:whole", get_seconds, b"v" if found else None))
    trace.note_cache("blog:post:<1>:whole", found, "whole post page")
    trace.add(StoreEvent("wide", "main", "UPDATE t SET views = views + ?", cql_seconds, "done"))
    commands = [
        ("zincrby", ("leaderboard:views:all", 1, "p<1>"), {}),
        ("hset", ("titles",), {"mapping": {"p": "T & <b>"}}),
        ("incr", ("leaderboard:version",), {}),
    ]
    outcome = "EXECABORT <x>" if failed else "3 replies"
    trace.add(KVPipeline("main", commands, pipe_seconds, outcome, failed))
    return trace


@pytest.mark.parametrize("failed", [False, True])
@pytest.mark.parametrize("found", [False, True])
def test_a_post_page_panel_from_its_layout_reads_as_the_row_by_row_one(monkeypatch, failed, found):
    for times in [(0.0000123, 0.000045, 0.0000301), (0.5, 0.25, 0.125), (0.0, 0.0, 0.0)]:
        trace = _post_page_trace(*times, failed=failed, found=found)
        fast = render_panel(trace, 0.077, DESCRIPTIONS)
        assert fast == _general(trace, 0.077, DESCRIPTIONS, monkeypatch)
    assert "HSET titles mapping=" in fast and "T &amp; &lt;b&gt;" in fast
    assert "3 key-value commands" not in fast and "2 key-value commands" in fast


def test_layouts_read_as_row_by_row_panels_for_mixed_traces(monkeypatch):
    events = [
        KVGet("pages", "a", 0.001, b"v"),
        StoreEvent("kv", "main", "SET <k> v", 0.002, "True"),
        StoreEvent("wide", "main", "SELECT * FROM t", 0.003, "2 rows"),
        KVGet("pages", "b", 0.004, ErrorReply("WRONGTYPE x"), failed=True),
        StoreEvent("wide", "main", "INSERT <x>", 0.005, "boom", failed=True),
        StoreEvent("other", "x", "ignored", 0.006, ""),
    ]
    for count in range(1, len(events) + 1):
        trace = Trace()
        for event in events[:count]:
            trace.add(event)
        if count % 2:
            trace.note_cache("a", count % 3 == 0, "whole front page")
        assert render_panel(trace, 1.5, DESCRIPTIONS) == _general(
            trace, 1.5, DESCRIPTIONS, monkeypatch
        )


def test_a_slot_character_in_a_row_falls_back_to_row_by_row(monkeypatch):
    trace = _post_page_trace(0.001, 0.002, 0.003)
    trace.add(StoreEvent("wide", "main", "SELECT '\x00'", 0.004, "1 row"))
    html = render_panel(trace, 0.5, DESCRIPTIONS)
    assert html == _general(trace, 0.5, DESCRIPTIONS, monkeypatch)
    assert "4.000</td>" in html
