"""The live leaderboard in two real browser pages, across a server restart.

The site runs on the embedded engine (KV_URL=memory:), as `make run` does.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.live_site import ROOT, start_live_site
from tests.support.ports import LOOPBACK, wait_for_port

pytestmark = pytest.mark.browser

UPDATE_TIMEOUT_MS = 10_000
RESTART_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def leaderboard_site():
    """Serve the site on the embedded engine, with no demo seed.

    The demo seed fills the boards; these tests watch posts of their own enter
    and climb boards that start empty.
    """
    site = start_live_site(KV_URL="memory:", BLOG_MEMORY_SEED="")
    try:
        yield site
    finally:
        site.stop()


def restart(site) -> None:
    """Stop daphne and start it again on the same port and store."""
    site.stop()
    site.process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            LOOPBACK,
            "-p",
            str(site.port),
            "kvsite.asgi:application",
        ],
        cwd=ROOT,
        env=site.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(site.port, timeout=30, proc=site.process)


def open_live_board(page, site):
    page.goto(site.url + "/leaderboard/")
    page.wait_for_selector('.lb-status[data-state="live"]', timeout=UPDATE_TIMEOUT_MS)
    page.evaluate("window.__sameDocument = true")


def record_view_from(page, site, member, title):
    page.goto(site.url + "/leaderboard/")
    page.fill('input[name="member"]', member)
    page.fill('input[name="title"]', title)
    with page.expect_navigation():
        page.click('button[value="view"]')


def row(page, board, member):
    return page.locator(f'.lb-board[data-board="{board}"] tr[data-member="{member}"]')


def test_a_view_in_one_page_moves_the_board_in_the_other(leaderboard_site, browser):
    watcher = browser.new_context().new_page()
    visitor = browser.new_context().new_page()
    open_live_board(watcher, leaderboard_site)

    record_view_from(visitor, leaderboard_site, "post-a", "A browser post")
    entered = row(watcher, "views_all_time", "post-a")
    entered.wait_for(timeout=UPDATE_TIMEOUT_MS)
    assert entered.locator(".lb-score").inner_text() == "1"
    assert entered.locator(".lb-label").inner_text() == "A browser post"
    assert "new since you came" in entered.locator(".lb-change").text_content()

    record_view_from(visitor, leaderboard_site, "post-b", "Second post")
    record_view_from(visitor, leaderboard_site, "post-b", "Second post")
    watcher.wait_for_selector(
        '.lb-board[data-board="views_all_time"] tbody tr:first-child[data-member="post-b"][data-score="2"]',
        timeout=UPDATE_TIMEOUT_MS,
    )
    assert row(watcher, "views_all_time", "post-a").get_attribute("data-rank") == "2"
    # Screen readers hear about rises through the polite live region.
    watcher.wait_for_function(
        "document.getElementById('lb-announcer').textContent.includes('Second post')",
        timeout=UPDATE_TIMEOUT_MS,
    )
    assert watcher.evaluate("window.__sameDocument") is True  # no reload happened


def test_reduced_motion_still_marks_the_changed_row(leaderboard_site, browser):
    context = browser.new_context(reduced_motion="reduce")
    watcher = context.new_page()
    open_live_board(watcher, leaderboard_site)
    visitor = browser.new_context().new_page()
    record_view_from(visitor, leaderboard_site, "post-calm", "Calm post")
    changed = row(watcher, "views_all_time", "post-calm")
    changed.wait_for(timeout=UPDATE_TIMEOUT_MS)
    assert "lb-moved-up" in changed.get_attribute("class")
    assert changed.evaluate("r => getComputedStyle(r).animationName") == "none"
    assert changed.evaluate("r => getComputedStyle(r).outlineStyle") == "solid"
    context.close()


def test_the_page_reconnects_after_the_server_restarts(leaderboard_site, browser):
    watcher = browser.new_context().new_page()
    open_live_board(watcher, leaderboard_site)
    restart(leaderboard_site)
    visitor = browser.new_context().new_page()
    record_view_from(visitor, leaderboard_site, "post-after-restart", "After the restart")
    row(watcher, "views_all_time", "post-after-restart").wait_for(timeout=RESTART_TIMEOUT_MS)
    assert watcher.locator(".lb-status").get_attribute("data-state") == "live"
    assert watcher.evaluate("window.__sameDocument") is True
