"""blog.whole_page: a whole page's stored form and reading it in place."""

import pytest

from blog.middleware import MARKER
from blog.whole_page import MAGIC, WholePage, encode


def test_round_trip_with_title_marker_and_panel():
    html = "<html><body>é<!--store-trace--></body></html>"
    page = WholePage(encode(html, "Über <b>"))
    assert page.title == "Über <b>" and page.has_marker
    assert page.body() == html.encode()
    assert page.body(b"<panel>") == html.encode().replace(MARKER, b"<panel>", 1)
    assert page.as_dict() == {"html": html, "title": "Über <b>"}


def test_no_title_is_not_an_empty_title():
    assert WholePage(encode("<p>x</p>")).title is None
    assert WholePage(encode("<p>x</p>", "")).title == ""
    assert WholePage(encode("<p>x</p>")).as_dict() == {"html": "<p>x</p>"}


def test_without_a_marker_the_panel_is_not_added():
    page = WholePage(encode("<p>plain</p>", "t"))
    assert not page.has_marker
    assert page.body(b"<panel>") == b"<p>plain</p>"


def test_only_the_first_marker_takes_the_panel():
    html = "a<!--store-trace-->b<!--store-trace-->"
    assert WholePage(encode(html)).body(b"P") == b"aPb<!--store-trace-->"


def test_stored_form_starts_with_a_letter_so_kvcache_keeps_it_raw():
    data = encode("<p>x</p>")
    assert data.startswith(MAGIC) and chr(data[0]).isalpha()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<html>",
        MAGIC,
        MAGIC + b"\x00\x00\x00\x09\xff\xff\xff\xffshort",  # title longer than the data
        MAGIC + b"\xff\xff\xff\xff\x00\x00\x00\x50<p>",  # marker past the end
        "not bytes",
    ],
)
def test_malformed_data_is_refused(data):
    with pytest.raises(ValueError):
        WholePage(data)
