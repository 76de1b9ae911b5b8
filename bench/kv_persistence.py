"""Benchmark: stores.kv persistence side by side with redis-server's, in one run.

For each operation, the embedded engine (``stores.kv.connect(DIR, ...)``) and
a redis-server started here on a free loopback port (driven by redis-py) do
the same work; the script prints a table with both and the ratio
stores.kv / redis-server (above 1 means we are faster):

- SET with appendfsync always, then everysec (ops/s; redis-py pays a
  loopback round trip per command, the embedded engine none);
- SAVE, BGREWRITEAOF, loading the AOF and loading the snapshot, over the
  same data set of ``--keys`` keys (strings, hashes, lists, sorted sets):
  keys/s. Redis loads with DEBUG LOADAOF and DEBUG RELOAD NOSAVE.

Every load loop is bounded by ``--ops`` operations and ``--seconds``
seconds; data-set jobs by ``--keys``.

    python bench/kv_persistence.py [--keys 20000] [--ops 20000] [--seconds 2]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(directory: str, appendfsync: str):
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", directory,
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", appendfsync,
            "--enable-debug-command", "local",
            "--auto-aof-rewrite-percentage", "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return process, client
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)


def set_rate(client, ops: int, seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while done < ops and time.perf_counter() < deadline:
        client.set(b"bench:%d" % (done % 1000), b"value")
        done += 1
    return done / (time.perf_counter() - start)


def populate(client, keys: int) -> None:
    pipe = client.pipeline(transaction=False)
    for i in range(keys):
        kind = i % 4
        if kind == 0:
            pipe.set(f"s:{i}", "x" * 20)
        elif kind == 1:
            pipe.hset(f"h:{i}", mapping={f"f{j}": j for j in range(10)})
        elif kind == 2:
            pipe.rpush(f"l:{i}", *range(10))
        else:
            pipe.zadd(f"z:{i}", {f"m{j}": j for j in range(10)})
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def redis_wait_rewrite(client) -> None:
    while True:
        info = client.info("persistence")
        if not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]:
            return
        time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=20000)
    parser.add_argument("--ops", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    import stores.kv

    rows = []
    work = tempfile.mkdtemp(prefix="kv-bench-persist-")
    try:
        for mode in ("always", "everysec"):
            ours = stores.kv.connect(f"{work}/ours-{mode}", appendonly=True, appendfsync=mode)
            ours_rate = set_rate(ours, args.ops, args.seconds)
            ours.close()
            Path(f"{work}/redis-{mode}").mkdir()
            process, redis_client = start_redis(f"{work}/redis-{mode}", mode)
            try:
                redis_rate = set_rate(redis_client, args.ops, args.seconds)
            finally:
                process.kill()
                process.wait()
            rows.append((f"SET, appendfsync {mode} (ops/s)", ours_rate, redis_rate))

        keys = args.keys
        ours = stores.kv.connect(f"{work}/ours", appendonly=True, appendfsync="everysec", save="")
        populate(ours, keys)
        persistence = ours.engine.persistence
        ours_save = timed(ours.save)
        ours_rewrite = timed(lambda: (ours.bgrewriteaof(), persistence.wait_for_jobs(600)))
        ours.close()
        ours_load_aof = timed(
            lambda: stores.kv.connect(f"{work}/ours", appendonly=True, save="").close()
        )
        ours_load_snapshot = timed(
            lambda: stores.kv.connect(f"{work}/ours", appendonly=False, save="").close()
        )

        Path(f"{work}/redis").mkdir()
        process, redis_client = start_redis(f"{work}/redis", "everysec")
        try:
            populate(redis_client, keys)
            redis_save = timed(redis_client.save)
            redis_rewrite = timed(
                lambda: (redis_client.bgrewriteaof(), redis_wait_rewrite(redis_client))
            )
            redis_load_aof = timed(lambda: redis_client.execute_command("DEBUG", "LOADAOF"))
            redis_load_snapshot = timed(
                lambda: redis_client.execute_command("DEBUG", "RELOAD", "NOSAVE")
            )
        finally:
            process.kill()
            process.wait()
        for label, ours_seconds, redis_seconds in (
            ("SAVE", ours_save, redis_save),
            ("BGREWRITEAOF", ours_rewrite, redis_rewrite),
            ("load the AOF", ours_load_aof, redis_load_aof),
            ("load the snapshot", ours_load_snapshot, redis_load_snapshot),
        ):
            rows.append((f"{label} (keys/s)", keys / ours_seconds, keys / redis_seconds))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("| operation | stores.kv | redis-server | stores.kv / redis-server |")
    print("|---|---|---|---|")
    for label, ours_value, redis_value in rows:
        print(
            f"| {label} | {ours_value:,.0f} | {redis_value:,.0f} | {ours_value / redis_value:.2f} |"
        )
    print(f"\n{args.keys} keys; python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
