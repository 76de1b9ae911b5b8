"""Benchmark the leaderboard's fan-out: one view, 500 open WebSockets.

Serves the site under daphne on loopback once per channel layer, opens N
WebSocket clients on /ws/leaderboard/ (autobahn on asyncio; each client
acknowledges updates 300 ms later, as the page's script does), then records views
one at a time through the site (POST /leaderboard/simulate/) and measures,
for each view, the time from sending the request to the update carrying it
reaching each client. Reports p50/p99/max over all (view, client) pairs and
the time until the last client had it, per layer, side by side:

- this project's layer (stores.channel_layer) on the embedded engine
  (KV_URL=memory:), the configuration `make run` uses;
- the same layer on redis-py against a real redis-server (boards there too),
  which separates the layer's design from the engine's speed;
- channels_redis's RedisPubSubChannelLayer on that redis-server (the anchor).

The latency includes the view's own HTTP round trip (the POST that records
it), as a reader would see it.

The layers are served side by side (one daphne each) and measured in turns,
view by view, in rotating order, so that load from anything else on the
machine falls on all of them alike. Bounded in count and time: ``--views``
views per layer, each waiting at most ``--round-timeout`` seconds, the whole
run at most ``--seconds``.
Run: ``python bench/ws_fanout.py [--clients 500] [--views 20]``.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import re
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import txaio  # noqa: E402

txaio.use_asyncio()

from autobahn.asyncio.websocket import (  # noqa: E402
    WebSocketClientFactory,
    WebSocketClientProtocol,
)

from tests.support.live_site import start_live_site  # noqa: E402
from tests.support.ports import LOOPBACK  # noqa: E402
from tests.support.redis_server import start_redis_server  # noqa: E402

BOARDS_HEAD = re.compile(rb'\{"type": "boards", "seq": (\d+), "version": (\d+)')
CONNECT_CONCURRENCY = 25
ACK_DELAY_SECONDS = 0.3  # static/js/leaderboard.js's ACK_DELAY_MS
SETTLE_SECONDS = 0.4  # longer than the consumer's coalescing interval


class BoardClient(WebSocketClientProtocol):
    """One open leaderboard: remembers when each version reached it."""

    def onOpen(self):
        self.factory.opened.add(self)
        self.arrivals: dict[int, float] = {}
        self.latest = -1
        self.pending_ack = 0
        self.ack_timer = None
        waiter = self.factory.waiters.pop(self, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def onMessage(self, payload, is_binary):
        now = time.perf_counter()
        # The consumer writes these fields first; reading only them keeps
        # this one process of 500 clients from timing its own JSON parsing.
        head = BOARDS_HEAD.match(payload)
        if head is None:
            message = json.loads(payload)
            if message.get("type") != "boards":
                return
            seq, version = message["seq"], message["version"]
        else:
            seq, version = int(head[1]), int(head[2])
        self.latest = max(self.latest, version)
        self.arrivals.setdefault(version, now)
        self.pending_ack = seq
        if self.ack_timer is None:
            # As the page's script does: ack the newest update a moment later.
            self.ack_timer = asyncio.get_running_loop().call_later(ACK_DELAY_SECONDS, self.ack)
        self.factory.on_arrival()

    def ack(self):
        self.ack_timer = None
        if self.state == self.STATE_OPEN:
            self.sendMessage(b'{"type": "ack", "seq": %d}' % self.pending_ack)

    def onClose(self, was_clean, code, reason):
        self.factory.opened.discard(self)
        self.factory.closed += 1


class BoardClientFactory(WebSocketClientFactory):
    protocol = BoardClient

    def __init__(self, url: str):
        super().__init__(url, origin=f"http://{LOOPBACK}")
        self.opened: set[BoardClient] = set()
        self.waiters: dict = {}
        self.closed = 0
        self.arrived = asyncio.Event()

    def on_arrival(self) -> None:
        self.arrived.set()


class SiteClient:
    """Records views through the site's simulate form (CSRF and all)."""

    def __init__(self, port: int):
        self.port = port
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
        conn.request("GET", "/leaderboard/")
        response = conn.getresponse()
        html = response.read().decode()
        cookie = response.getheader("Set-Cookie", "")
        self.csrf_cookie = re.search(r"csrftoken=([^;]+)", cookie).group(1)
        self.csrf_token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        conn.close()
        self.conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)

    def record_view(self, member: str) -> None:
        body = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": self.csrf_token,
                "kind": "view",
                "member": member,
                "title": f"Bench {member}",
            }
        )
        self.conn.request(
            "POST",
            "/leaderboard/simulate/",
            body=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={self.csrf_cookie}",
            },
        )
        response = self.conn.getresponse()
        response.read()
        if response.status != 302:
            raise RuntimeError(f"simulate answered {response.status}")


async def open_clients(port: int, count: int, deadline: float) -> BoardClientFactory:
    loop = asyncio.get_running_loop()
    factory = BoardClientFactory(f"ws://{LOOPBACK}:{port}/ws/leaderboard/")
    semaphore = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one():
        async with semaphore:
            if time.monotonic() > deadline:
                return
            _, protocol = await loop.create_connection(factory, LOOPBACK, port)
            opened = loop.create_future()
            factory.waiters[protocol] = opened
            if protocol in factory.opened:
                factory.waiters.pop(protocol, None)
            else:
                await asyncio.wait_for(opened, 10)

    await asyncio.gather(*(one() for _ in range(count)))
    return factory


class Layer:
    """One configuration under test: its site, its clients, its samples."""

    def __init__(self, name: str, port: int):
        self.name = name
        self.port = port
        self.factory: BoardClientFactory | None = None
        self.site: SiteClient | None = None
        self.latencies: list[float] = []
        self.last_client: list[float] = []
        self.missed = 0
        self.dropped = 0
        self.opened = 0

    async def view_round(self, i: int, round_timeout: float) -> None:
        """Record one view and wait until every client has the update."""
        factory = self.factory
        target = max(c.latest for c in factory.opened) + 1
        started = time.perf_counter()
        await asyncio.to_thread(self.site.record_view, f"post-{i % 7}")
        round_deadline = time.monotonic() + round_timeout
        while time.monotonic() < round_deadline:
            if all(c.latest >= target for c in factory.opened):
                break
            factory.arrived.clear()
            try:
                await asyncio.wait_for(factory.arrived.wait(), 0.5)
            except TimeoutError:
                pass
        arrivals = []
        for client in factory.opened:
            got = [t for v, t in client.arrivals.items() if v >= target]
            if got:
                arrivals.append(min(got) - started)
            else:
                self.missed += 1
        self.latencies.extend(arrivals)
        if arrivals:
            self.last_client.append(max(arrivals))


async def measure(
    layers: list[Layer], clients: int, views: int, round_timeout: float, seconds: float
) -> None:
    """Interleave the layers view by view, so the machine's load hits all alike."""
    deadline = time.monotonic() + seconds
    for layer in layers:
        layer.factory = await open_clients(layer.port, clients, deadline)
        layer.opened = len(layer.factory.opened)
        layer.site = await asyncio.to_thread(SiteClient, layer.port)
    # Let every client get its initial snapshot before the first view.
    await asyncio.sleep(1.0)
    for i in range(views):
        if time.monotonic() > deadline:
            break
        for k in range(len(layers)):
            layer = layers[(i + k) % len(layers)]
            await layer.view_round(i, round_timeout)
            await asyncio.sleep(SETTLE_SECONDS)
    for layer in layers:
        layer.dropped = layer.factory.closed  # closed by the server before the end
        for client in list(layer.factory.opened):
            client.sendClose()
    await asyncio.sleep(0.5)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def embedded_engine_available() -> bool:
    try:
        from stores import kv
    except ImportError:
        return False
    return hasattr(kv, "connect")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--views", type=int, default=20)
    parser.add_argument("--round-timeout", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=180.0, help="time bound for the whole run")
    parser.add_argument(
        "--per-view", action="store_true", help="also print each view's last-client time"
    )
    args = parser.parse_args()

    redis_server = start_redis_server()

    def redis_db(db: int) -> str:
        # One database per site, so their boards and versions stay apart.
        return f"redis://{redis_server.host}:{redis_server.port}/{db}"

    try:
        embedded = embedded_engine_available()
        configs = []
        if embedded:
            configs.append(
                ("kv layer, embedded engine", {"BENCH_LAYER": "kv", "KV_URL": "memory:"})
            )
        configs.append(
            ("kv layer, redis-py → redis-server", {"BENCH_LAYER": "kv", "KV_URL": redis_db(1)})
        )
        configs.append(
            (
                "channels_redis pubsub → redis-server",
                {
                    "BENCH_LAYER": "channels_redis",
                    "KV_URL": redis_db(2),
                    "BENCH_REDIS_URL": redis_db(2),
                },
            )
        )
        sites, layers = [], []
        try:
            for name, env in configs:
                print(f"starting {name} ...", file=sys.stderr, flush=True)
                site = start_live_site(
                    DJANGO_SETTINGS_MODULE="bench.ws_fanout_settings", LOG_LEVEL="ERROR", **env
                )
                sites.append(site)
                layers.append(Layer(name, site.port))
            asyncio.run(measure(layers, args.clients, args.views, args.round_timeout, args.seconds))
        finally:
            for site in sites:
                site.stop()
    finally:
        redis_server.stop()

    results = [
        {
            "name": layer.name,
            "clients": layer.opened,
            "views": len(layer.last_client),
            "latencies": layer.latencies,
            "last_client": layer.last_client,
            "missed": layer.missed,
            "dropped": layer.dropped,
        }
        for layer in layers
    ]
    if args.per_view:
        for r in results:
            times = " ".join(f"{t * 1000:.0f}" for t in r["last_client"])
            print(f"{r['name']}: last client per view, ms: {times}")
    anchor = results[-1]
    print(f"\n{args.clients} WebSocket clients on loopback, {args.views} views, one at a time\n")
    print(
        "| layer | clients open | views | p50 ms | p99 ms | max ms | last client p50 ms | missed | dropped | p99 vs channels_redis |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        p99 = percentile(r["latencies"], 0.99)
        ratio = p99 / percentile(anchor["latencies"], 0.99)
        print(
            f"| {r['name']} | {r['clients']} | {r['views']} | "
            f"{percentile(r['latencies'], 0.5) * 1000:.1f} | {p99 * 1000:.1f} | "
            f"{max(r['latencies'], default=float('nan')) * 1000:.1f} | "
            f"{statistics.median(r['last_client']) * 1000 if r['last_client'] else float('nan'):.1f} | "
            f"{r['missed']} | {r['dropped']} | {ratio:.2f}x |"
        )


if __name__ == "__main__":
    main()
