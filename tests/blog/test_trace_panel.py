"""The panel's HTML: counts, badges, escaping."""

from blog.trace_panel import render_panel
from stores.tracing import StoreEvent, Trace

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
