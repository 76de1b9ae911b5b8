"""Benchmark the blog's pages served by daphne and uvicorn, cached and uncached, per cache backend.

Starts the site under daphne and under uvicorn (httptools, uvloop; skipped
with a note when not installed) on loopback, one process per
configuration, seeds a demo blog in each (WIDE_URL=memory:), then drives
them over HTTP/1.1 keep-alive connections to 127.0.0.1 and reports
requests/s and p50/p99 latency for the front page and a post page:

- uncached (BLOG_PAGE_CACHE_ENABLED=0: every request reads the wide-column store),
- cached on the embedded key-value engine (stores.cache.KVCache),
- cached on the embedded engine through Django's full path (bench.site_settings:
  BLOG_PAGE_SHORTCUT=False), to show what blog.page_shortcut saves,
- cached on Django's LocMemCache,
- cached on Django's RedisCache against a real redis-server on loopback.

The HTTP load comes from wrk (Debian's /usr/bin/wrk, a C load generator;
bench/wrk_load.py) when it is installed: one wrk thread and 8 connections
by default, so the server gets the other core of a two-core machine. Each
window (one configuration, one page, one round) is bounded in time (wrk's
``-d``, whole seconds) and in count (the Lua script stops wrk after
``--requests`` responses); non-200 responses and socket errors count as
errors, and latencies are raw (bench/wrk_load.py takes out the samples
wrk 4 adds for coordinated omission), as the other clients report them.
Without wrk (or with ``--client python``) a threaded http.client load
generator in this process does the same job within the same bounds; it is
GIL-bound, so the client, not the server, then limits requests/s for the
cached pages, and their ratios mean little: read the server CPU column
instead.

Sessions stay on the embedded engine in every run; only the page cache
changes. The same configurations are also measured in process: the ASGI
application (kvsite.asgi) called directly from an event loop, no server and
no sockets, one process per configuration, all started at once and measured
in the same interleaved rounds as over HTTP; that shows the application's
own cost per request. Each table also gives the CPU time per request of the
process that served it (the server process over HTTP, apart from the load
generator; the measuring process in process). The load average is printed
with each part. Run:
``python bench/site.py [--client auto|wrk|python] [--http-seconds 2]
[--requests 100000] [--concurrency 8] [--wrk-threads 1] [--seconds 6]
[--in-process-requests 20000] [--rounds 5] [--servers daphne,uvicorn]``;
``--servers none`` runs only the in-process part. Prints Markdown tables
with ratios. bench/site_cached.py measures the cached pages in process with
the backends interleaved in one process, which is steadier for their ratios.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.wrk_load import run_wrk, wrk_path  # noqa: E402
from tests.support.ports import LOOPBACK, free_port, wait_for_port  # noqa: E402
from tests.support.redis_server import start_redis_server  # noqa: E402

SEED = "posts=200,comments=3000,users=20,views=500,days=90"
WARMUP_REQUESTS = 30
UNCACHED = "uncached"
EMBEDDED = "cached: embedded engine (KVCache)"


@dataclass
class Result:
    """Load-test numbers for one page in one configuration."""

    config: str
    page: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    cpu_seconds: float = 0.0

    @property
    def cpu_per_request(self) -> float:
        """Return the serving process's CPU seconds per request (nan if nothing was done)."""
        return self.cpu_seconds / self.requests if self.requests else float("nan")

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> tuple[float, float]:
    """Return a process's CPU time so far from /proc, two ways: (fine, whole); nan if unknown.

    Measures what the server itself spends, apart from the load generator
    that shares the machine's cores with it. ``fine`` adds up the
    scheduler's nanosecond count (``schedstat``) of the threads alive now;
    ``whole`` is user + system time of every thread that ever ran, in clock
    ticks (10 ms here). ``cpu_between`` picks one.
    """
    fine = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/schedstat", "rb") as stat:
                    fine += int(stat.read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                continue  # a thread that ended meanwhile
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return float("nan"), float("nan")
    # After the command name: state is field 3, utime 14 and stime 15.
    return fine / 1e9, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_between(before: tuple[float, float], after: tuple[float, float]) -> float:
    """Return the CPU seconds a process spent between two ``process_cpu_seconds`` readings.

    The fine count, unless the whole count shows clearly more: then threads
    that ended in between (Django's handler runs each request's sync code
    in a thread of its own) did work the fine count no longer sees.
    """
    fine = after[0] - before[0]
    whole = after[1] - before[1]
    if whole > fine * 1.05 + 2 / CLOCK_TICKS:
        return whole
    return fine


def site_env(var_dir: str, overrides: dict[str, str]) -> dict[str, str]:
    """Return the environment of a site process with one configuration, its database migrated."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": overrides.get("DJANGO_SETTINGS_MODULE", "kvsite.settings"),
            "KVSITE_VAR_DIR": var_dir,
            "SQLITE_PATH": str(Path(var_dir) / "db.sqlite3"),
            "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
            "KV_URL": "memory:",
            "WIDE_URL": "memory:",
            # DEBUG=1 serves static files without collectstatic; it adds
            # no per-request work to these pages (no SQL on anonymous views).
            "DEBUG": "1",
            "BLOG_MEMORY_SEED": SEED,
            "LOG_LEVEL": "ERROR",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        }
    )
    env.update(overrides)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    return env


SERVERS = {
    "daphne": lambda port: [
        sys.executable,
        "-m",
        "daphne",
        "-b",
        LOOPBACK,
        "-p",
        str(port),
        "kvsite.asgi:application",
    ],
    "uvicorn": lambda port: [
        sys.executable,
        "-m",
        "uvicorn",
        "kvsite.asgi:application",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--lifespan",
        "off",
        "--no-access-log",
        "--log-level",
        "warning",
    ],
}


def available_servers() -> list[str]:
    """Return the ASGI servers installed here: daphne always, uvicorn if present."""
    servers = ["daphne"]
    try:
        import httptools  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        print("uvicorn with httptools is not installed: measuring daphne only", file=sys.stderr)
    else:
        servers.append("uvicorn")
    return servers


class Site:
    """An ASGI server process serving kvsite with one page-cache configuration."""

    def __init__(self, env_overrides: dict[str, str], server: str = "daphne"):
        self.var_dir = tempfile.mkdtemp(prefix="kvsite-bench-")
        env = site_env(self.var_dir, env_overrides)
        self.port = free_port()
        self.log = open(Path(self.var_dir) / "server.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            SERVERS[server](self.port),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        wait_for_port(self.port, timeout=60, proc=self.process)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://{LOOPBACK}:{self.port}/", timeout=300) as response:
            front = response.read().decode()
        match = re.search(r'href="(/posts/[0-9a-f-]{36}/)"', front)
        if match is None:
            raise RuntimeError("no post link on the front page")
        self.post_path = match.group(1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.var_dir, ignore_errors=True)


def load(
    port: int, path: str, total: int, seconds: float, concurrency: int
) -> tuple[int, int, float, list[float]]:
    """Send GET path until total requests are done or seconds pass; return the numbers."""
    lock = threading.Lock()
    issued = 0
    errors = 0
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def worker() -> None:
        nonlocal issued, errors
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < deadline:
            with lock:
                if issued >= total:
                    break
                issued += 1
            start = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
                continue
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return len(latencies), errors, elapsed, latencies


def drive(port: int, path: str, args) -> tuple[int, int, float, list[float]]:
    """Load one page for one measurement window with the chosen client; return the numbers.

    Bounded by ``args.requests`` and ``args.http_seconds`` with either
    client (wrk takes whole seconds).
    """
    if args.client == "wrk":
        run = run_wrk(
            port,
            path,
            args.requests,
            wrk_seconds(args.http_seconds),
            args.concurrency,
            args.wrk_threads,
        )
        return run.requests, run.errors, run.seconds, run.latencies()
    return load(port, path, args.requests, args.http_seconds, args.concurrency)


def wrk_seconds(seconds: float) -> int:
    """Return the whole seconds wrk's -d takes for a window of ``seconds`` (at least 1)."""
    return max(1, round(seconds))


def choose_client(wanted: str) -> str:
    """Return "wrk" or "python": wrk when asked or, for "auto", when it is installed."""
    if wanted == "auto":
        return "wrk" if wrk_path() else "python"
    if wanted == "wrk" and not wrk_path():
        raise SystemExit("--client wrk: wrk is not installed (Debian: apt-get install wrk)")
    return wanted


def client_description(args) -> str:
    """Return how the HTTP load was generated, for the report."""
    if args.client == "wrk":
        threads = max(1, min(args.wrk_threads, args.concurrency))
        return (
            f"wrk -t{threads} -c{args.concurrency} on loopback, "
            f"{wrk_seconds(args.http_seconds)} s or {args.requests} requests per window"
        )
    return (
        f"{args.concurrency} Python keep-alive client threads on loopback, "
        f"{args.http_seconds:g} s or {args.requests} requests per window"
    )


async def _asgi_get(app, path: str) -> tuple[int, bytes]:
    """Send one GET to an ASGI app as a server would; return (status, body)."""
    import asyncio

    messages: list[dict] = []
    received = False

    async def receive():
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # still connected: the app cancels this wait

    async def send(message):
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", LOOPBACK.encode())],
        "client": (LOOPBACK, 50000),
        "server": (LOOPBACK, 8000),
    }
    await app(scope, receive, send)
    status = next(m["status"] for m in messages if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in messages)


def in_process_child() -> None:
    """Serve measurement blocks through kvsite.asgi called directly, as the parent asks.

    Prints "ready" once the site is up and warm; then for each line "PAGE
    TOTAL SECONDS" on stdin (PAGE "front" or "post") measures one block of
    at most TOTAL requests and SECONDS, and prints it as one JSON line.
    """
    import asyncio
    import json

    from kvsite.asgi import application

    async def run() -> None:
        front = (await _asgi_get(application, "/"))[1].decode()
        match = re.search(r'href="(/posts/[0-9a-f-]{36}/)"', front)
        paths = {"front": "/", "post": match.group(1)}
        for path in paths.values():
            for _ in range(WARMUP_REQUESTS):
                await _asgi_get(application, path)
        print("ready", flush=True)
        for line in sys.stdin:
            page, total, seconds = line.split()
            path = paths[page]
            latencies: list[float] = []
            errors = 0
            deadline = time.monotonic() + float(seconds)
            cpu_started = time.process_time()
            started = time.perf_counter()
            while len(latencies) < int(total) and time.monotonic() < deadline:
                start = time.perf_counter()
                status, _ = await _asgi_get(application, path)
                latencies.append(time.perf_counter() - start)
                errors += status != 200
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            record = {"errors": errors, "seconds": elapsed, "latencies": latencies, "cpu": cpu}
            print(json.dumps(record), flush=True)

    asyncio.run(run())


class InProcessSite:
    """A child process running one configuration's site in process, measured block by block."""

    def __init__(self, overrides: dict[str, str]):
        self.var_dir = tempfile.mkdtemp(prefix="kvsite-bench-")
        env = site_env(self.var_dir, overrides)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--in-process-child"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("in-process site did not start")

    def block(self, page: str, total: int, seconds: float) -> dict:
        """Measure one block of requests to page ("front" or "post"); return its record."""
        import json

        self.process.stdin.write(f"{page} {total} {seconds}\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("in-process site stopped")
        return json.loads(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.var_dir, ignore_errors=True)


def measure_in_process(redis_url: str, args) -> tuple[list[Result], dict]:
    """Run every configuration in process at once and measure them in interleaved rounds.

    As measure_http, without a server: each configuration is its own
    process (settings are read at start-up), and round r measures each one
    for 1/rounds of the budget in an order rotated by r, so load from
    elsewhere on the machine hits them alike; ratios are taken within a
    round. One request at a time: the in-process cost of a request.
    """
    configs = configurations(redis_url)
    sites: dict[str, InProcessSite] = {}
    totals: dict[tuple[str, str], Result] = {}
    per_round: dict[tuple[str, str], list[float]] = {}
    cpu_round: dict[tuple[str, str], list[float]] = {}
    pages = (("front page", "front"), ("post page", "post"))
    try:
        for name, env in configs:
            print(f"in process: starting {name}", file=sys.stderr)
            sites[name] = InProcessSite(env)
        for round_index in range(args.rounds):
            names = [name for name, _ in configs]
            shift = round_index % len(names)
            names = names[shift:] + names[:shift]
            for page, word in pages:
                for name in names:
                    record = sites[name].block(
                        word,
                        max(1, args.in_process_requests // args.rounds),
                        args.seconds / args.rounds,
                    )
                    done = len(record["latencies"])
                    total = totals.setdefault((name, page), Result(name, page, 0, 0, 0.0, []))
                    total.requests += done
                    total.errors += record["errors"]
                    total.seconds += record["seconds"]
                    total.latencies.extend(record["latencies"])
                    total.cpu_seconds += record["cpu"]
                    per_round.setdefault((name, page), []).append(
                        done / record["seconds"] if record["seconds"] else 0.0
                    )
                    cpu_round.setdefault((name, page), []).append(
                        record["cpu"] / done if done else float("nan")
                    )
            print(f"in process: round {round_index + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        for site in sites.values():
            site.stop()
    ordered = [totals[(name, page)] for page, _ in pages for name, _ in configs]
    return ordered, per_round, cpu_round


def configurations(redis_url: str) -> list[tuple[str, dict[str, str]]]:
    """Return the (name, environment) of each configuration measured."""
    return [
        (UNCACHED, {"BLOG_PAGE_CACHE_ENABLED": "0"}),
        (EMBEDDED, {"BLOG_PAGE_CACHE_BACKEND": "kv"}),
        (
            "cached: embedded engine, Django's full path (no shortcut)",
            {"BLOG_PAGE_CACHE_BACKEND": "kv", "DJANGO_SETTINGS_MODULE": "bench.site_settings"},
        ),
        ("cached: Django LocMemCache", {"BLOG_PAGE_CACHE_BACKEND": "locmem"}),
        (
            "cached: Django RedisCache, redis-server",
            {
                "BLOG_PAGE_CACHE_BACKEND": "django-redis",
                "BLOG_PAGE_CACHE_URL": redis_url,
            },
        ),
    ]


def measure_http(server: str, redis_url: str, args) -> tuple[list[Result], dict]:
    """Serve every configuration at once and measure them in interleaved rounds.

    Round r measures each configuration for 1/rounds of the budget, in an
    order rotated by r, so that a burst of load from elsewhere on the
    machine hits all configurations alike; ratios are taken within a round.
    """
    configs = configurations(redis_url)
    sites: dict[str, Site] = {}
    totals: dict[tuple[str, str], Result] = {}
    per_round: dict[tuple[str, str], list[float]] = {}
    cpu_round: dict[tuple[str, str], list[float]] = {}
    try:
        for name, env in configs:
            print(f"{server}: starting {name}", file=sys.stderr)
            sites[name] = Site(env, server)
        for round_index in range(args.rounds):
            names = [name for name, _ in configs]
            shift = round_index % len(names)
            names = names[shift:] + names[:shift]
            for page in ("front page", "post page"):
                for name in names:
                    site = sites[name]
                    path = "/" if page == "front page" else site.post_path
                    if round_index == 0:
                        load(site.port, path, WARMUP_REQUESTS, 10, 2)
                    cpu_started = process_cpu_seconds(site.process.pid)
                    done, errors, elapsed, latencies = drive(site.port, path, args)
                    cpu = cpu_between(cpu_started, process_cpu_seconds(site.process.pid))
                    total = totals.setdefault((name, page), Result(name, page, 0, 0, 0.0, []))
                    total.requests += done
                    total.errors += errors
                    total.seconds += elapsed
                    total.latencies.extend(latencies)
                    total.cpu_seconds += cpu
                    per_round.setdefault((name, page), []).append(
                        done / elapsed if elapsed else 0.0
                    )
                    cpu_round.setdefault((name, page), []).append(
                        cpu / done if done else float("nan")
                    )
            print(f"{server}: round {round_index + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        for site in sites.values():
            site.stop()
    ordered = [totals[(name, page)] for page in ("front page", "post page") for name, _ in configs]
    return ordered, per_round, cpu_round


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=6.0,
        help="in process: time bound per configuration and page, split over the rounds",
    )
    parser.add_argument(
        "--http-seconds",
        type=float,
        default=2.0,
        help="over HTTP: time bound of each window (one configuration, page and round); "
        "wrk takes whole seconds",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=100000,
        help="over HTTP: request bound of each window",
    )
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="HTTP load generator: wrk (C, needs /usr/bin/wrk), python (threads in this "
        "process, GIL-bound) or auto (wrk when installed)",
    )
    parser.add_argument(
        "--wrk-threads", type=int, default=1, help="wrk threads (the server gets the other core)"
    )
    parser.add_argument(
        "--in-process-requests",
        type=int,
        default=20000,
        help="request bound per in-process measurement (a cached page takes tens of µs there)",
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds over HTTP")
    parser.add_argument(
        "--servers", default="daphne,uvicorn", help="comma-separated: daphne, uvicorn"
    )
    parser.add_argument("--in-process-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process_child:
        in_process_child()
        return
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.requests < 1 or args.http_seconds <= 0 or args.concurrency < 1:
        parser.error("--requests, --http-seconds and --concurrency must be positive")
    args.client = choose_client(args.client)

    servers = [s for s in available_servers() if s in args.servers.split(",")]
    redis = start_redis_server()
    results: dict[str, tuple[list[Result], dict]] = {}
    loads: dict[str, str] = {}
    try:
        loads["in process"] = _load_average()
        local = measure_in_process(redis.url, args)
        loads["in process"] += f" → {_load_average()}"
        for server in servers:
            loads[server] = _load_average()
            results[server] = measure_http(server, redis.url, args)
            loads[server] += f" → {_load_average()}"
    finally:
        redis.stop()
    print(
        f"\n`python bench/site.py --client {args.client} --http-seconds {args.http_seconds:g} "
        f"--requests {args.requests} --concurrency {args.concurrency} "
        f"--wrk-threads {args.wrk_threads} --seconds {args.seconds:g} "
        f"--in-process-requests {args.in_process_requests} --rounds {args.rounds}` ({SEED})"
    )
    for server in servers:
        print(
            f"\nOver HTTP: {server} (one process per configuration), "
            f"{client_description(args)}, {args.rounds} interleaved rounds; ratios are medians "
            f"of per-round ratios; load average {loads[server]}\n"
        )
        report(*results[server], cpu_what="server CPU")
    print(
        "\nIn process: kvsite.asgi called from an event loop, one request at a time, no server "
        f"(one process per configuration), {args.rounds} interleaved rounds; ratios are medians "
        f"of per-round ratios; load average {loads['in process']}\n"
    )
    report(*local, cpu_what="CPU")


def _load_average() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def _ms(value: float) -> str:
    # Sub-millisecond latencies (cached pages in process) need the third digit.
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def report(
    results: list[Result],
    per_round: dict | None = None,
    cpu_round: dict | None = None,
    cpu_what: str = "CPU",
) -> None:
    """Print the results as a Markdown table with ratios.

    ``cpu_round`` holds each configuration's CPU seconds per request, per
    round, of the process that served it (``cpu_what`` names it): the
    table then shows its CPU µs per request and the embedded engine's
    ratio to it (median of per-round ratios; above 1x means the embedded
    configuration spent less), the figure least moved by other jobs on the
    machine and by the load generator sharing its cores.
    """
    uncached = {r.page: r for r in results if r.config == UNCACHED}
    embedded = {r.page: r for r in results if r.config == EMBEDDED}

    def ratio(top: Result, bottom: Result) -> float:
        if per_round is None:
            return top.rps / bottom.rps if bottom.rps else float("nan")
        pairs = zip(
            per_round[(top.config, top.page)], per_round[(bottom.config, bottom.page)], strict=True
        )
        return _median([a / b for a, b in pairs if b])

    def cpu_ratio(ours: Result, other: Result) -> float:
        pairs = zip(
            cpu_round[(ours.config, ours.page)], cpu_round[(other.config, other.page)], strict=True
        )
        return _median([b / a for a, b in pairs if a and a == a and b == b])

    cpu_head = f" {cpu_what} µs/req | embedded vs this ({cpu_what}) |" if cpu_round else ""
    print(
        "| configuration | page | req/s | p50 ms | p99 ms | errors | vs uncached "
        "| embedded vs this (req/s) | embedded vs this (p50) |" + cpu_head
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if cpu_round else ""))
    for r in results:
        p50_ratio = r.percentile(0.5) / embedded[r.page].percentile(0.5)
        cpu_cells = ""
        if cpu_round:
            cpu_cells = f" {r.cpu_per_request * 1e6:.1f} | {cpu_ratio(embedded[r.page], r):.2f}x |"
        print(
            f"| {r.config} | {r.page} | {r.rps:.0f} | {_ms(r.percentile(0.5))} | "
            f"{_ms(r.percentile(0.99))} | {r.errors} | {ratio(r, uncached[r.page]):.2f}x | "
            f"{ratio(embedded[r.page], r):.2f}x | {p50_ratio:.2f}x |" + cpu_cells
        )


if __name__ == "__main__":
    main()
