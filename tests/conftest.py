"""Fixtures shared by the whole suite."""

import os

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

# `make test` draws the same examples on every run, so a green run here is
# a green CI; `make fuzz` draws new ones, many more of them (see README.md).
# A test's own @settings still sets its example count.
for _profile, _fresh, _examples in (("ci", False, 60), ("fuzz", True, 1000)):
    settings.register_profile(
        _profile,
        derandomize=not _fresh,
        max_examples=_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def redis_server():
    """Yield a real redis-server on a free loopback port, stopped afterwards."""
    from tests.support.redis_server import start_redis_server

    server = start_redis_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_site():
    """Yield the site served by daphne on a free loopback port."""
    from tests.support.live_site import start_live_site

    site = start_live_site()
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture(scope="module")
def browser():
    """Yield a headless Debian chromium driven by Playwright.

    Module-scoped: Playwright's sync API keeps an event loop running in the
    main thread while it is open, which would break asyncio tests that run
    after it.
    """
    from playwright.sync_api import sync_playwright

    from tests.support.browser import launch_chromium

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """Yield a fresh browser page in its own context."""
    context = browser.new_context()
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
