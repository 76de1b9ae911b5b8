"""Markdown bodies render to sanitised HTML."""

from blog.rendering import render_markdown


def test_markdown_renders_headings_lists_and_code():
    html = render_markdown("# Title\n\n- one\n- two\n\n```\nSELECT 1;\n```")
    assert "<h1>Title</h1>" in html
    assert "<li>one</li>" in html
    assert "<pre><code>SELECT 1;" in html


def test_raw_script_is_removed():
    html = render_markdown("hello <script>alert('x')</script> world")
    assert "<script" not in html
    assert "alert" not in html
    assert "hello" in html and "world" in html


def test_event_handlers_and_javascript_urls_are_dropped():
    html = render_markdown('<img src="x" onerror="alert(1)"> [link](javascript:alert(1))')
    assert "onerror" not in html
    assert "javascript:" not in html


def test_links_get_nofollow():
    html = render_markdown("[site](https://example.org/)")
    assert 'href="https://example.org/"' in html
    assert 'rel="nofollow noopener"' in html
