"""Benchmark: the embedded key-value engine against fakeredis and a real redis-server.

Runs GET, SET, INCR, HSET, LPUSH, ZINCRBY and ZREVRANGE 0 9 WITHSCORES
through each client in one process, one after the other, and prints ops/s
and the ratios of stores.kv to each anchor:

- stores.kv: ``stores.kv.connect("memory:")`` or, with ``--aof``, a data
  directory with ``appendonly=True, appendfsync="everysec"``;
- fakeredis: ``fakeredis.FakeRedis()`` (in-process);
- redis-py: ``redis.Redis`` to a redis-server started here on a free
  loopback port with ``--save ""`` (stopped at the end).

Every loop is bounded by ``--ops`` operations and ``--seconds`` seconds.
Each operation runs ``--repeat`` rounds; a round times every client back
to back, and the ratio reported is the median of the per-round ratios (the
machine is shared, so runs taken moments apart compare fairly). The ops/s
columns show each client's best run.

    python bench/kv_engine.py [--ops 20000] [--seconds 2] [--repeat 3] [--aof]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

KEYS = 1000
MEMBERS = 1000
FIELDS = 100
LISTS = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis() -> tuple[subprocess.Popen, int, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    directory = tempfile.mkdtemp(prefix="kv-bench-redis-")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            directory,
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port, directory
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


def operations(client):
    """Return [(name, callable(i))] for the seven benchmarked operations."""
    keys = [f"key:{i}" for i in range(KEYS)]
    members = [f"member:{i}" for i in range(MEMBERS)]
    fields = [f"field:{i}" for i in range(FIELDS)]
    lists = [f"list:{i}" for i in range(LISTS)]
    client.flushall()
    client.mset({k: "value" for k in keys})
    client.zadd("board", {m: i for i, m in enumerate(members)})
    return [
        ("GET", lambda i: client.get(keys[i % KEYS])),
        ("SET", lambda i: client.set(keys[i % KEYS], "value")),
        ("INCR", lambda i: client.incr("counter")),
        ("HSET", lambda i: client.hset("hash", fields[i % FIELDS], "value")),
        ("LPUSH", lambda i: client.lpush(lists[i % LISTS], "value")),
        ("ZINCRBY", lambda i: client.zincrby("board", 1, members[i % MEMBERS])),
        ("ZREVRANGE", lambda i: client.zrevrange("board", 0, 9, withscores=True)),
    ]


def measure(fn, ops: int, seconds: float, repeat: int) -> tuple[float, float]:
    """Return (best ops/s by the wall clock, least CPU seconds per op of this thread)."""
    best = 0.0
    cpu = float("inf")
    for _ in range(repeat):
        deadline = time.perf_counter() + seconds
        done = 0
        start = time.perf_counter()
        cpu_start = time.thread_time()
        while done < ops:
            for i in range(done, min(done + 500, ops)):
                fn(i)
            done = min(done + 500, ops)
            if time.perf_counter() > deadline:
                break
        elapsed = time.perf_counter() - start
        best = max(best, done / elapsed)
        cpu = min(cpu, (time.thread_time() - cpu_start) / done)
    return best, cpu


def run(args: argparse.Namespace) -> None:
    import fakeredis
    import redis

    import stores.kv

    load_before = os.getloadavg()
    cleanup = []
    targets = []
    if args.aof:
        try:
            import stores.kv.persistence  # noqa: F401
        except ImportError as exc:
            raise SystemExit(
                f"--aof needs stores.kv.persistence, which is not available: {exc}"
            ) from None
        directory = tempfile.mkdtemp(prefix="kv-bench-aof-")
        cleanup.append(lambda: shutil.rmtree(directory, ignore_errors=True))
        ours = stores.kv.connect(directory, appendonly=True, appendfsync="everysec")
        label = "stores.kv (AOF everysec)"
    else:
        ours = stores.kv.connect("memory:")
        label = "stores.kv (memory:)"
    targets.append((label, ours))
    if not args.skip_fakeredis:
        targets.append(("fakeredis", fakeredis.FakeRedis()))
    if not args.skip_redis:
        process, port, redis_dir = start_redis()
        cleanup.append(
            lambda: (
                process.terminate(),
                process.wait(10),
                shutil.rmtree(redis_dir, ignore_errors=True),
            )
        )
        targets.append(("redis-py -> redis-server", redis.Redis(host="127.0.0.1", port=port)))
    try:
        prepared = {name: dict(operations(client)) for name, client in targets}
        best: dict[str, dict[str, float]] = {name: {} for name, _ in targets}
        # CPU time of this thread per stores.kv op: steadier than the wall
        # clock on a loaded machine (meaningless for the anchors, whose
        # work is partly in another process).
        cpu: dict[str, float] = {}
        ratios: dict[str, dict[str, list[float]]] = {name: {} for name, _ in targets[1:]}
        for op in prepared[label]:
            # Rounds interleave the clients so that each ratio compares runs
            # taken moments apart: the machine is shared and its load moves.
            for _ in range(args.repeat):
                round_result = {}
                for name, _client in targets:
                    count = args.ops if name == label else min(args.ops, args.anchor_ops)
                    round_result[name], used = measure(prepared[name][op], count, args.seconds, 1)
                    if name == label:
                        cpu[op] = min(cpu.get(op, float("inf")), used)
                    best[name][op] = max(best[name].get(op, 0.0), round_result[name])
                for name in ratios:
                    ratios[name].setdefault(op, []).append(round_result[label] / round_result[name])
        for _name, client in targets:
            client.flushall()
        print_table(best, ratios, label, cpu)
        before = " ".join(f"{x:.2f}" for x in load_before)
        after = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average (1, 5, 15 min): before {before}, after {after}")
    finally:
        ours.close()
        for step in cleanup:
            step()


def print_table(
    best: dict[str, dict[str, float]],
    ratios: dict[str, dict[str, list[float]]],
    label: str,
    cpu: dict[str, float],
) -> None:
    names = list(best)
    header = ["operation", *[f"{n} ops/s" for n in names]] + [
        f"x {n.split(' ')[0]}" for n in names[1:]
    ]
    header.append("stores.kv CPU us/op")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for op in best[label]:
        row = [op] + [f"{best[n][op]:,.0f}" for n in names]
        row += [f"{statistics.median(ratios[n][op]):.1f}" for n in names[1:]]
        row.append(f"{cpu[op] * 1e6:.2f}")
        print("| " + " | ".join(row) + " |")
    print(
        "\nops/s: best run; ratio: median over rounds of stores.kv / anchor measured back to back;"
        " CPU: least thread CPU time per stores.kv op over the rounds;"
        f" python {sys.version.split()[0]}, {os.cpu_count()} cpus"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=30000, help="operations per run for stores.kv")
    parser.add_argument(
        "--anchor-ops", type=int, default=10000, help="operations per run for the anchors"
    )
    parser.add_argument("--seconds", type=float, default=1.0, help="time limit per run")
    parser.add_argument("--repeat", type=int, default=5, help="rounds per operation")
    parser.add_argument("--aof", action="store_true", help="persist stores.kv with AOF everysec")
    parser.add_argument("--skip-redis", action="store_true")
    parser.add_argument("--skip-fakeredis", action="store_true")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
