"""Benchmark a cached page in process, each page-cache backend in turn in one process.

What bench/site.py's in-process part measures, but with the backends
interleaved inside one process rather than one process each: the ASGI
application (kvsite.asgi, so blog.page_shortcut and its panel) is called
from an event loop, one request at a time, and every round measures the
embedded engine (stores.cache.KVCache), Django's LocMemCache and Django's
RedisCache against a real redis-server on loopback, in an order rotated per
round, switching with ``override_settings(CACHES=...)``. A burst of load
from elsewhere on the machine then hits all backends alike, and the ratios
are medians of per-round ratios. Sessions stay on the embedded engine.
Every loop is bounded in requests AND time.

Run: ``python bench/site_cached.py [--rounds 15] [--requests 1000]
[--seconds 1] [--profile] [--without-view-counting]`` (``--profile`` prints
cProfile's top functions of a cached front page per backend instead).
Prints a Markdown table: requests/s, p50 and the process's CPU time per
request, with ratios.

``--without-view-counting`` is a diagnostic, not the site's workload: the
shortcut's ``count_view`` (a wide-column counter ``UPDATE`` and a key-value
``MULTI``/``EXEC`` per post view, identical for every backend) is replaced
by a no-op for every backend alike, so the post page shows what its page
cache part alone costs on each backend. Its table is headed as such.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.site import SEED, WARMUP_REQUESTS, _asgi_get, _median, site_env  # noqa: E402
from tests.support.redis_server import start_redis_server  # noqa: E402

EMBEDDED = "embedded engine (KVCache)"
PAGES = ("front page", "post page")


def backends(redis_url: str) -> dict[str, dict]:
    """Return each backend's page cache ("default") settings."""
    return {
        EMBEDDED: {
            "BACKEND": "stores.cache.KVCache",
            "LOCATION": "pages",
            "KEY_PREFIX": "page",
            "TIMEOUT": 600,
        },
        "Django LocMemCache": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "TIMEOUT": 600,
            "OPTIONS": {"MAX_ENTRIES": 10000},
        },
        "Django RedisCache, redis-server": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "page",
            "TIMEOUT": 600,
        },
    }


def child(args) -> None:
    """Measure every backend in rotated rounds; print the table (runs in the site's environment)."""
    import asyncio
    import cProfile
    import pstats

    from django.conf import settings
    from django.test import override_settings

    from kvsite.asgi import application

    if args.without_view_counting:
        import blog.page_shortcut

        # Diagnostic only, for every backend alike: see the module docstring.
        blog.page_shortcut.count_view = _count_nothing

    variants = backends(os.environ["BENCH_REDIS_URL"])
    names = list(variants)

    def caches_for(name: str) -> dict:
        return {**settings.CACHES, "default": variants[name]}

    async def run() -> None:
        front = (await _asgi_get(application, "/"))[1].decode()
        post = re.search(r'href="(/posts/[0-9a-f-]{36}/)"', front).group(1)
        paths = {"front page": "/", "post page": post}
        if args.profile:
            for name in names:
                with override_settings(CACHES=caches_for(name)):
                    for _ in range(WARMUP_REQUESTS):
                        await _asgi_get(application, "/")
                    profile = cProfile.Profile()
                    profile.enable()
                    for _ in range(args.requests):
                        await _asgi_get(application, "/")
                    profile.disable()
                print(f"\n## {name}: {args.requests} cached front pages\n")
                pstats.Stats(profile).sort_stats("tottime").print_stats(25)
            return
        p50s: dict[tuple[str, str], list[float]] = {}
        rates: dict[tuple[str, str], list[float]] = {}
        cpus: dict[tuple[str, str], list[float]] = {}
        for round_index in range(args.rounds):
            shift = round_index % len(names)
            for page in PAGES:
                for name in names[shift:] + names[:shift]:
                    with override_settings(CACHES=caches_for(name)):
                        for _ in range(WARMUP_REQUESTS):
                            await _asgi_get(application, paths[page])
                        latencies = []
                        deadline = time.monotonic() + args.seconds
                        cpu_started = time.process_time()
                        started = time.perf_counter()
                        while len(latencies) < args.requests and time.monotonic() < deadline:
                            start = time.perf_counter()
                            status, body = await _asgi_get(application, paths[page])
                            latencies.append(time.perf_counter() - start)
                            if status != 200 or b"page cache hit" not in body:
                                raise RuntimeError(f"{name}: {page} was not a cache hit")
                        elapsed = time.perf_counter() - started
                        cpu = time.process_time() - cpu_started
                    latencies.sort()
                    p50s.setdefault((name, page), []).append(latencies[len(latencies) // 2])
                    rates.setdefault((name, page), []).append(len(latencies) / elapsed)
                    cpus.setdefault((name, page), []).append(cpu / len(latencies))
        report(names, p50s, rates, cpus)

    asyncio.run(run())


def _count_nothing(post_id, title) -> None:
    """Count nothing (``--without-view-counting``)."""


def report(names: list[str], p50s: dict, rates: dict, cpus: dict) -> None:
    """Print medians of per-round p50, req/s and CPU per request, and medians of per-round ratios.

    CPU is the process's (every thread's) CPU time over the measurement,
    per request: the steadiest of the three on a machine shared with other
    jobs, as time spent waiting for a core does not count.
    """
    print(
        "| backend | page | req/s | p50 ms | CPU µs/request | embedded vs this (req/s) "
        "| embedded vs this (p50) | embedded vs this (CPU) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for page in PAGES:
        ours = (rates[(EMBEDDED, page)], p50s[(EMBEDDED, page)], cpus[(EMBEDDED, page)])
        for name in names:
            rate_ratio = _median([a / b for a, b in zip(ours[0], rates[(name, page)], strict=True)])
            p50_ratio = _median([b / a for a, b in zip(ours[1], p50s[(name, page)], strict=True)])
            cpu_ratio = _median([b / a for a, b in zip(ours[2], cpus[(name, page)], strict=True)])
            print(
                f"| {name} | {page} | {_median(rates[(name, page)]):.0f} | "
                f"{_median(p50s[(name, page)]) * 1000:.4f} | "
                f"{_median(cpus[(name, page)]) * 1e6:.1f} | {rate_ratio:.2f}x | "
                f"{p50_ratio:.2f}x | {cpu_ratio:.2f}x |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="rotated rounds over the backends")
    parser.add_argument("--requests", type=int, default=1000, help="request bound per measurement")
    parser.add_argument("--seconds", type=float, default=1.0, help="time bound per measurement")
    parser.add_argument("--profile", action="store_true", help="print cProfile output instead")
    parser.add_argument(
        "--without-view-counting",
        action="store_true",
        help="diagnostic: post views are not counted, for every backend alike",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    redis = start_redis_server()
    var_dir = tempfile.mkdtemp(prefix="kvsite-bench-")
    try:
        env = site_env(var_dir, {"BENCH_REDIS_URL": redis.url})
        print(
            f"`python bench/site_cached.py --rounds {args.rounds} --requests {args.requests} "
            f"--seconds {args.seconds:g}{' --profile' if args.profile else ''}"
            f"{' --without-view-counting' if args.without_view_counting else ''}` ({SEED}); "
            f"load average {_load_average()} at start\n"
        )
        if args.without_view_counting:
            print(
                "**Diagnostic, not the site's workload: post views not counted "
                "(for every backend alike).**\n"
            )
        sys.stdout.flush()
        command = [sys.executable, __file__, "--child", *sys.argv[1:]]
        subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=900)
        print(f"\nload average {_load_average()} at end")
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
        redis.stop()


def _load_average() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
