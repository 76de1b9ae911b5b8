"""Staff wide-column pages in a real browser: tables, a partition, a traced query."""

import pytest

from tests.support.live_site import start_live_site

pytestmark = pytest.mark.browser

CREATE_STAFF = (
    "from django.contrib.auth import get_user_model; "
    "get_user_model().objects.create_superuser('boss', 'boss@example.com', 'correct-horse-42')"
)


@pytest.fixture(scope="module")
def site():
    live = start_live_site()
    live.manage("shell", "-c", CREATE_STAFF)
    try:
        yield live
    finally:
        live.stop()


def log_in(page, site, path):
    page.goto(site.url + "/")  # the first request seeds the memory store
    page.goto(site.url + path)
    page.fill("#id_username", "boss")
    page.fill("#id_password", "correct-horse-42")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{path}")


def test_open_a_table_and_a_partition(site, page):
    log_in(page, site, "/admin/stores/wide/")
    with page.expect_navigation():
        page.click("a:text-is('comments_by_post')")
    assert page.locator("pre.cql").inner_text().startswith("CREATE TABLE blog.comments_by_post")
    with page.expect_navigation():
        page.click("text=Browse partitions")
    first = page.locator("table.partitions tbody tr a").first
    token = first.inner_text()
    with page.expect_navigation():
        first.click()
    assert token in page.locator("#content p").first.inner_text()
    assert page.locator("table.partition-rows tbody tr").count() >= 1
    assert "written" in page.locator("table.partition-rows").inner_text()


def test_traced_select_in_the_console(site, page):
    log_in(page, site, "/admin/stores/wide/console/")
    page.fill("#cql-query", "SELECT post_id, title FROM blog.posts LIMIT 3")
    page.click("button:has-text('Run with tracing')")
    page.wait_for_selector("table.console-rows, pre.console-output.error")
    assert page.locator("table.console-rows tbody tr").count() == 3
    assert page.locator("h2", has_text="Trace").is_visible()


def test_locate_a_key(site, page):
    log_in(page, site, "/admin/stores/wide/locate/")
    page.select_option("select[name=table]", "blog.history_by_user")
    page.wait_for_selector("input[name=key_user_id]")
    page.fill("input[name=key_user_id]", "1")
    page.click("button:has-text('Locate')")
    page.wait_for_selector(".locate-answer")
    assert page.locator(".locate-answer").is_visible()
    assert "embedded engine" in page.locator(".locate-answer").inner_text()
