"""Staff key-value pages in a real browser: log in, filter keys, open one, watch live numbers."""

import pytest

from stores.staff import kv_inspect  # noqa: F401  (imported so a broken module fails fast)
from tests.support.live_site import start_live_site

pytestmark = [pytest.mark.browser, pytest.mark.redis_server]

CREATE_STAFF = (
    "from django.contrib.auth import get_user_model; "
    "get_user_model().objects.create_superuser('boss', 'boss@example.com', 'correct-horse-42')"
)


@pytest.fixture(scope="module")
def staff_site(redis_server):
    import redis

    handle = redis.Redis.from_url(redis_server.url)
    handle.flushall()
    for i in range(30):
        handle.set(f"post:{i}:title", f"Post {i}")
    handle.hset("user:7", mapping={"name": "grace"})
    handle.set("ticket", "soon gone", ex=500)
    site = start_live_site(KV_URL=redis_server.url)
    site.manage("shell", "-c", CREATE_STAFF)
    try:
        yield site
    finally:
        site.stop()
        handle.flushall()


def log_in(page, site):
    page.goto(site.url + "/admin/stores/kv/")
    assert "/admin/login/" in page.url
    page.fill("#id_username", "boss")
    page.fill("#id_password", "correct-horse-42")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/stores/kv/")


def test_overview_refreshes_live(staff_site, page):
    log_in(page, staff_site)
    assert page.locator("h3", has_text="Hit ratio").is_visible()
    page.wait_for_function(
        "document.querySelector('[data-live-url]').dataset.refreshedAt", timeout=8000
    )


def test_filter_keys_and_open_one(staff_site, page):
    log_in(page, staff_site)
    with page.expect_navigation():
        page.click("nav.store-tabs >> text=Keys")
    page.fill("input[name=match]", "user:*")
    with page.expect_navigation():
        page.click("button:has-text('Scan')")
    rows = page.locator("table.keys tbody tr")
    assert rows.count() == 1
    with page.expect_navigation():
        page.click("table.keys >> text=user:7")
    page.locator("table.store-table td", has_text="grace").wait_for(timeout=10000)


def test_ttl_counts_down(staff_site, page):
    log_in(page, staff_site)
    page.goto(staff_site.url + "/admin/stores/kv/key/?key=ticket")
    ttl = page.locator(".key-facts .ttl")
    first = ttl.inner_text()
    page.wait_for_function(
        "(first) => document.querySelector('.key-facts .ttl').textContent !== first",
        arg=first,
        timeout=5000,
    )
    assert int(ttl.inner_text().split()[0]) <= 500


def test_memory_sample_runs_with_progress(staff_site, page):
    log_in(page, staff_site)
    page.goto(staff_site.url + "/admin/stores/kv/memory/")
    page.click("button:has-text('Start the sample')")
    page.wait_for_function(
        "document.querySelector('[data-memory-progress]').textContent.includes('done')",
        timeout=10000,
    )
    assert page.locator("[data-memory-report] h3", has_text="Biggest keys").is_visible()
    assert page.locator("[data-memory-report] a", has_text="post:").count() > 0
