"""A reader's walk through the blog in Debian's chromium."""

import re

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "demo-password"


def _open_panel(page):
    panel = page.locator("#store-trace")
    panel.locator("summary").click()
    return panel


def test_read_sign_in_comment_and_see_history(live_site, page):
    page.goto(live_site.url + "/")
    items = page.locator(".post-item")
    assert items.count() == 10
    assert page.locator("a[rel=next]").is_visible()

    first = items.first.locator("h3 a")
    title = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/posts/[0-9a-f-]{36}/$"))
    post_url = page.url
    assert page.locator("h1#post-title").inner_text() == title

    # A repeat visit comes from the page cache, and the panel says so.
    page.goto(post_url)
    panel = _open_panel(page)
    assert panel.locator(".badge.hit").first.is_visible()
    assert "UPDATE blog.post_stats" in panel.inner_text()

    # Sign in from the post page and come back to it.
    page.get_by_role("link", name="Sign in").first.click()
    page.fill("#id_username", "reader01")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(post_url)
    assert "reader01" in page.locator(".site-header").inner_text()

    # Comment: it shows on the very next (cached) page, escaped.
    text = "Seen from chromium <b>not bold</b>"
    page.fill("textarea[name=body]", text)
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_url(re.compile(re.escape(post_url) + "#comments$"))
    newest = page.locator(".comment-list .comment").first
    assert newest.locator(".comment-body").inner_text() == text
    assert newest.locator(".author").inner_text() == "reader01"
    assert newest.locator("b").count() == 0

    # The next visit is cached again and still shows the comment.
    page.goto(post_url)
    assert (
        page.locator(".comment-list .comment").first.locator(".comment-body").inner_text() == text
    )
    panel = _open_panel(page)
    assert panel.locator(".badge.hit").first.is_visible()

    # Recently viewed lists the post, newest first.
    page.get_by_role("link", name="Recently viewed").click()
    page.wait_for_url(live_site.url + "/history/")
    assert page.locator(".history-list li").first.locator("a").inner_text() == title
    assert "expires in" in page.locator(".history-list li").first.inner_text()


def test_front_page_pages_and_compare_page(live_site, page):
    page.goto(live_site.url + "/")
    links = ".post-item h3 a"
    first_page = [a.get_attribute("href") for a in page.locator(links).all()]
    page.locator("a[rel=next]").click()
    page.wait_for_url(re.compile(r"\?after="))
    older = [a.get_attribute("href") for a in page.locator(links).all()]
    assert len(first_page) == 10 and len(older) == 4
    assert not set(older) & set(first_page)
    with page.expect_navigation():
        page.get_by_role("link", name="Redis or Cassandra?").click()
    assert page.locator("h1").inner_text() == "Redis or Cassandra?"
    assert page.locator("table.tradeoffs tbody tr").count() == 5


def test_layout_fits_a_phone(live_site, browser):
    context = browser.new_context(viewport={"width": 375, "height": 740})
    try:
        page = context.new_page()
        page.goto(live_site.url + "/")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375
    finally:
        context.close()
