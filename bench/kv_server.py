"""Benchmark the RESP server with redis-benchmark, side by side with its anchors.

Runs redis-benchmark ``-t set,get,incr,lpush,zadd -c 50`` with ``-P 1`` and
``-P 16`` against, in the same run on the same machine:

- redis-server 7 (the anchor), AOF on with appendfsync everysec;
- this project's server (``python -m stores.kv``), AOF on with everysec;
- fakeredis's TCP server (the Python peer), in memory;
- the "floor" servers of bench/kv_floor_server.py, a measurement aid: the
  smallest uvloop Protocol that counts complete commands (with our own
  RequestReader, or with a bare hiredis.Reader) and writes one canned +OK
  per command, no engine. What they reach is the ceiling of any
  pure-Python server on one core of this machine.

For each server, test and pipeline depth it reports requests/s, p50/p99
latency, the server's CPU time per request (utime+stime from /proc, before
and after), the load average when the test started, and the ratios
ours / redis-server, ours / floor, floor / redis-server and ours / fakeredis. Every
run is bounded in count (-n) and in time (a timeout per redis-benchmark
process). Usage:

    python bench/kv_server.py               # the issue's runs (-n 200000 / 2000000)
    python bench/kv_server.py --quick       # a short smoke run
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ("set", "get", "incr", "lpush", "zadd")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port}")


def cpu_seconds(pid: int) -> float:
    """Return the utime+stime of process pid and its threads, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class Result:
    server: str
    test: str
    pipeline: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us_per_request: float
    error: str = ""
    load: float = 0.0


class Target:
    """A server process under test."""

    def __init__(self, name: str, args: list[str], port: int, directory: str):
        self.name = name
        self.port = port
        self.directory = directory
        self.process = subprocess.Popen(
            args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            wait_for_port(port, self.process)
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def flush(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "FLUSHALL"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )


def start_redis() -> Target:
    directory = tempfile.mkdtemp(prefix="bench-redis-")
    port = free_port()
    args = [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
        "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
        "--daemonize", "no", "--loglevel", "warning",
    ]  # fmt: skip
    return Target("redis-server", args, port, directory)


def start_ours() -> Target:
    directory = tempfile.mkdtemp(prefix="bench-kv-")
    port = free_port()
    args = [
        sys.executable, "-m", "stores.kv", "--port", str(port), "--dir", directory,
        "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--loglevel", "warning",
    ]  # fmt: skip
    return Target("stores.kv", args, port, directory)


def start_fakeredis() -> Target:
    directory = tempfile.mkdtemp(prefix="bench-fake-")
    port = free_port()
    code = (
        "from fakeredis import TcpFakeServer\n"
        f"server = TcpFakeServer(('127.0.0.1', {port}), server_type='redis')\n"
        "server.serve_forever()\n"
    )
    return Target("fakeredis", [sys.executable, "-c", code], port, directory)


def start_floor(parser: str) -> Target:
    directory = tempfile.mkdtemp(prefix="bench-floor-")
    port = free_port()
    args = [
        sys.executable, str(ROOT / "bench" / "kv_floor_server.py"),
        "--port", str(port), "--parser", parser,
    ]  # fmt: skip
    return Target(FLOOR_NAMES[parser], args, port, directory)


FLOOR_NAMES = {"reader": "floor", "hiredis": "floor-hiredis"}


def run_benchmark(
    target: Target, test: str, pipeline: int, requests: int, timeout: float
) -> Result:
    args = [
        "redis-benchmark", "-h", "127.0.0.1", "-p", str(target.port), "-t", test,
        "-c", "50", "-P", str(pipeline), "-n", str(requests), "--csv",
    ]  # fmt: skip
    load = os.getloadavg()[0]
    before = cpu_seconds(target.process.pid)
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return Result(
            target.name, test, pipeline, requests, 0, 0, 0, 0, f"timeout {timeout}s", load
        )
    used = cpu_seconds(target.process.pid) - before
    rows = [row for row in csv.DictReader(io.StringIO(done.stdout)) if row.get("rps")]
    if done.returncode != 0 or not rows:
        error = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return Result(target.name, test, pipeline, requests, 0, 0, 0, 0, error[0], load)
    row = rows[0]
    return Result(
        target.name,
        test,
        pipeline,
        requests,
        float(row["rps"]),
        float(row["p50_latency_ms"]),
        float(row["p99_latency_ms"]),
        used / requests * 1e6,
        load=load,
    )


def print_saved(path: str) -> None:
    """Print the table of a --json file written by an earlier run."""
    results = [Result(**row) for row in json.loads(Path(path).read_text())]
    print(report(results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small -n for a smoke run")
    parser.add_argument("--p1-requests", type=int, default=200_000)
    parser.add_argument("--p16-requests", type=int, default=2_000_000)
    parser.add_argument(
        "--fakeredis-divisor",
        type=int,
        default=100,
        help="run fakeredis with -n divided by this (it is ~100x slower; keeps the run bounded)",
    )
    parser.add_argument(
        "--fakeredis-timeout",
        type=float,
        default=60.0,
        help="seconds per redis-benchmark run against fakeredis (it can collapse under load)",
    )
    parser.add_argument(
        "--timeout", type=float, default=240.0, help="seconds per redis-benchmark run"
    )
    parser.add_argument("--servers", default="redis-server,stores.kv,floor,floor-hiredis,fakeredis")
    parser.add_argument("--tests", default=",".join(TESTS), help="comma-separated subset")
    parser.add_argument("--pipelines", default="1,16", help="comma-separated subset of 1,16")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--report", metavar="JSON", help="only print the table of a saved run")
    options = parser.parse_args()
    if options.report:
        print_saved(options.report)
        return 0
    if options.quick:
        options.p1_requests, options.p16_requests = 20_000, 100_000
    if shutil.which("redis-benchmark") is None or shutil.which("redis-server") is None:
        print("redis-server and redis-benchmark are needed (Debian: redis-server, redis-tools)")
        return 2
    starters = {
        "redis-server": start_redis,
        "stores.kv": start_ours,
        "floor": lambda: start_floor("reader"),
        "floor-hiredis": lambda: start_floor("hiredis"),
        "fakeredis": start_fakeredis,
    }
    tests = options.tests.split(",")
    pipelines = [int(p) for p in options.pipelines.split(",")]
    results: list[Result] = []
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    for name in options.servers.split(","):
        target = starters[name]()
        try:
            for pipeline, requests in ((1, options.p1_requests), (16, options.p16_requests)):
                if pipeline not in pipelines:
                    continue
                if name == "fakeredis":
                    requests = max(requests // options.fakeredis_divisor, 1000)
                timeout = options.fakeredis_timeout if name == "fakeredis" else options.timeout
                for test in tests:
                    target.flush()
                    result = run_benchmark(target, test, pipeline, requests, timeout)
                    results.append(result)
                    print(
                        f"{name:>12} -P {pipeline:<2} {test:<5} n={requests:<8} "
                        f"{result.rps:>10.0f} req/s  p50 {result.p50_ms:.3f} ms  "
                        f"p99 {result.p99_ms:.3f} ms  cpu {result.cpu_us_per_request:.2f} us/req"
                        f"  load {result.load:.2f}"
                        + (f"  ERROR {result.error}" if result.error else ""),
                        flush=True,
                    )
        finally:
            target.stop()
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print()
    print(report(results))
    if options.json:
        Path(options.json).write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


def _rps(r: Result | None) -> str:
    return f"{r.rps:,.0f}" if r and r.rps else "-"


def _ratio(a: Result | None, b: Result | None) -> str:
    return f"{a.rps / b.rps:.2f}x" if a and b and a.rps and b.rps else "-"


def _ms(r: Result | None, field: str) -> str:
    return f"{getattr(r, field):.3f}" if r and r.rps else "-"


def _cpu(r: Result | None) -> str:
    return f"{r.cpu_us_per_request:.2f}" if r and r.rps else "-"


def _load(r: Result | None) -> str:
    return f"{r.load:.1f}" if r else "-"


def _cpu_ratio(anchor: Result | None, ours: Result | None) -> str:
    """Return anchor's CPU per request over ours (above 1: ours uses less)."""
    if not (anchor and ours and anchor.rps and ours.rps and ours.cpu_us_per_request):
        return "-"
    return f"{anchor.cpu_us_per_request / ours.cpu_us_per_request:.2f}x"


SERVERS = ("redis-server", "stores.kv", "floor", "floor-hiredis", "fakeredis")


def report(results: list[Result]) -> str:
    """Return markdown tables of the results with the ratios to the anchors.

    The first table is throughput and its ratios; the second latency, CPU
    per request and the load average at the start of each test.
    """
    by_key = {(r.server, r.test, r.pipeline): r for r in results}
    tests = [t for t in TESTS if any(r.test == t for r in results)]
    pipelines = sorted({r.pipeline for r in results})
    lines = [
        "| test | -P | redis-server req/s | ours req/s | floor req/s | floor-hiredis req/s "
        "| fakeredis req/s | ours/redis | ours/floor | floor/redis | floor-hiredis/redis "
        "| ours/fakeredis |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = []
    for pipeline in pipelines:
        for test in tests:
            redis, ours, floor, bare, fake = (by_key.get((s, test, pipeline)) for s in SERVERS)
            rows.append((test, pipeline, redis, ours, floor, bare, fake))
            lines.append(
                f"| {test.upper()} | {pipeline} | {_rps(redis)} | {_rps(ours)} | {_rps(floor)} "
                f"| {_rps(bare)} | {_rps(fake)} | {_ratio(ours, redis)} | {_ratio(ours, floor)} "
                f"| {_ratio(floor, redis)} | {_ratio(bare, redis)} | {_ratio(ours, fake)} |"
            )
    lines += [
        "",
        "| test | -P | p50 ms redis / ours / floor | p99 ms redis / ours / floor "
        "| CPU µs/req redis / ours / floor / floor-hiredis / fakeredis "
        "| CPU redis÷ours / floor÷ours | load avg redis / ours / floor |",
        "|---|---|---|---|---|---|---|",
    ]
    for test, pipeline, redis, ours, floor, bare, fake in rows:
        lines.append(
            f"| {test.upper()} | {pipeline} "
            f"| {_ms(redis, 'p50_ms')} / {_ms(ours, 'p50_ms')} / {_ms(floor, 'p50_ms')} "
            f"| {_ms(redis, 'p99_ms')} / {_ms(ours, 'p99_ms')} / {_ms(floor, 'p99_ms')} "
            f"| {_cpu(redis)} / {_cpu(ours)} / {_cpu(floor)} / {_cpu(bare)} / {_cpu(fake)} "
            f"| {_cpu_ratio(redis, ours)} / {_cpu_ratio(floor, ours)} "
            f"| {_load(redis)} / {_load(ours)} / {_load(floor)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
