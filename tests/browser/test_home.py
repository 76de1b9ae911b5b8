"""The home page and the WebSocket echo in a real browser."""

import pytest

pytestmark = pytest.mark.browser


def test_home_page_renders(live_site, page):
    response = page.goto(live_site.url + "/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "See Redis and Cassandra at work"
    assert page.locator(".card.kv").is_visible()


def test_websocket_echo_from_the_browser(live_site, page):
    page.goto(live_site.url + "/")
    echoed = page.evaluate(
        """(url) => new Promise((resolve, reject) => {
            const ws = new WebSocket(url);
            ws.onopen = () => ws.send("ping from chromium");
            ws.onmessage = (event) => { resolve(event.data); ws.close(); };
            ws.onerror = () => reject(new Error("websocket error"));
            setTimeout(() => reject(new Error("timeout")), 5000);
        })""",
        live_site.ws_url + "/ws/echo/",
    )
    assert echoed == "ping from chromium"
