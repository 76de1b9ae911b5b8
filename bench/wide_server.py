"""Benchmark: prepared statements over the CQL native protocol vs in-process.

The same workload (prepared INSERTs into a viewing-history table, then
newest-20 slice SELECTs) runs first through the in-process Session
(``stores.wide.connect``) and then through cassandra-driver against
``python -m stores.wide`` from several client processes, each pipelining
requests on its own connection (``execute_async``, a bounded number in
flight). Prints ops/s, p50 and p99 latency per side, the network/in-process
ratio, and CPU microseconds per operation: in-process, the benchmark
process's; over the network, the server process's (all threads) and the
client processes' (summed), from /proc, counted from the moment every client
is connected and prepared. On a small machine the Python clients need about
as much CPU as the server, so the server's own cost is the figure to compare
between server versions. Every loop is bounded in count and time.

    python bench/wide_server.py [--ops 20000] [--clients 2] [--concurrency 32] [--seconds 20]
        [--workers N] [--inline | --no-inline] [--no-compression] [--row-factory tuple|named_tuple]
        [--profile-server PREFIX] [--server-root DIR] [--skip-in-process]

``--server-root /work/main`` runs another checkout's server under the same
clients, so two server versions can be compared back to back; the server
columns also give its read and write system calls per request (/proc/PID/io:
how many requests one socket read and one write carry).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Each partition gets ROWS_PER_PARTITION rows from the insert phase, so the
# newest-20 slice reads return full pages whatever --ops is.
ROWS_PER_PARTITION = 20
PARTITIONS = 1000
KEYSPACE_CQL = (
    "CREATE KEYSPACE IF NOT EXISTS bench WITH replication = "
    "{'class': 'SimpleStrategy', 'replication_factor': 1}"
)
TABLE_CQL = (
    "CREATE TABLE IF NOT EXISTS bench.history (user text, ts bigint, post int, "
    "PRIMARY KEY (user, ts)) WITH CLUSTERING ORDER BY (ts DESC)"
)
INSERT_CQL = "INSERT INTO bench.history (user, ts, post) VALUES (?, ?, ?)"
SELECT_CQL = "SELECT ts, post FROM bench.history WHERE user = ? LIMIT 20"


def _named_tuples():
    from cassandra.query import named_tuple_factory

    return named_tuple_factory


def _tuples():
    from cassandra.query import tuple_factory

    return tuple_factory


# cassandra-driver's default builds a namedtuple class for every page it
# receives (collections.namedtuple: ~100 us of client CPU per result);
# tuple_factory hands over the rows as they are decoded.
ROW_FACTORIES = {"named_tuple": _named_tuples, "tuple": _tuples}


def process_cpu_seconds(pid: int) -> float:
    """Return user+system CPU seconds a process (all its threads) has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_syscalls(pid: int) -> tuple[int, int]:
    """Return the read and write system calls a process has made (/proc/PID/io)."""
    fields = dict(
        line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines() if line
    )
    return int(fields["syscr"]), int(fields["syscw"])


def server_command(root: str | None) -> list[str] | None:
    """Return the interpreter arguments running ``stores.wide`` from another checkout.

    None runs this checkout's server. A path (e.g. the main branch's worktree)
    lets one run compare two versions of the server with the same clients and
    the same measuring code.
    """
    if root is None:
        return None
    code = (
        f"import runpy, sys; sys.path.insert(0, {str(Path(root).resolve())!r}); "
        "runpy.run_module('stores.wide', run_name='__main__', alter_sys=True)"
    )
    return ["-c", code]


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarize(name: str, count: int, elapsed: float, latencies: list[float]) -> dict:
    return {
        "name": name,
        "ops": count,
        "ops_per_s": count / elapsed if elapsed else 0.0,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
    }


def insert_args(i: int, offset: int = 0) -> tuple:
    return (f"user{i % PARTITIONS}", offset + i, i)


def in_process(ops: int, seconds: float) -> list[dict]:
    from stores.wide import connect

    session = connect("memory:")
    session.execute(KEYSPACE_CQL)
    session.execute(TABLE_CQL)
    results = []
    for name, cql, args in (
        ("insert", INSERT_CQL, insert_args),
        ("select newest 20", SELECT_CQL, lambda i: (f"user{i % PARTITIONS}",)),
    ):
        prepared = session.prepare(cql)
        latencies = []
        deadline = time.perf_counter() + seconds
        start = time.perf_counter()
        cpu_start = time.process_time()
        count = 0
        while count < ops and time.perf_counter() < deadline:
            t0 = time.perf_counter()
            rows = session.execute(prepared, args(count))
            if name.startswith("select"):
                list(rows)
            latencies.append(time.perf_counter() - t0)
            count += 1
        summary = summarize(name, count, time.perf_counter() - start, latencies)
        summary["cpu_us_per_op"] = (time.process_time() - cpu_start) / max(count, 1) * 1e6
        results.append(summary)
    session.close() if hasattr(session, "close") else session.shutdown()
    return results


def _client(
    port: int,
    phase: str,
    ops: int,
    concurrency: int,
    seconds: float,
    offset: int,
    partitions: int,
    compression: bool,
    queue,
    profile: str | None = None,
    row_factory: str = "tuple",
    go=None,
) -> None:
    global PARTITIONS
    PARTITIONS = partitions
    from cassandra.cluster import Cluster
    from cassandra.policies import WhiteListRoundRobinPolicy

    cluster = Cluster(
        contact_points=["127.0.0.1"],
        port=port,
        protocol_version=4,
        compression=compression,
        load_balancing_policy=WhiteListRoundRobinPolicy(["127.0.0.1"]),
    )
    session = cluster.connect()
    session.row_factory = ROW_FACTORIES[row_factory]()
    if phase == "insert":
        prepared = session.prepare(INSERT_CQL)

        def args(i):
            return insert_args(i, offset)
    else:
        prepared = session.prepare(SELECT_CQL)

        def args(i):
            return (f"user{(i + offset) % PARTITIONS}",)

    # Connected and prepared: wait until every client is, so the phase (and
    # the server CPU counted for it) holds the load only, not the drivers'
    # connection set-up and schema reads.
    queue.put("ready")
    if go is not None:
        go.wait(60)
    latencies: list[float] = []
    lock = threading.Lock()
    done = threading.Event()
    state = {"sent": 0, "finished": 0, "errors": 0}
    deadline = time.perf_counter() + seconds

    def send():
        with lock:
            if state["sent"] >= ops or time.perf_counter() > deadline:
                if state["finished"] >= state["sent"]:
                    done.set()
                return
            i = state["sent"]
            state["sent"] += 1
        t0 = time.perf_counter()
        future = session.execute_async(prepared, args(i))
        future.add_callbacks(finished, failed, callback_args=(t0,), errback_args=(t0,))

    def finished(rows, t0):
        latencies.append(time.perf_counter() - t0)
        with lock:
            state["finished"] += 1
        send()

    def failed(exc, t0):
        with lock:
            state["errors"] += 1
            state["finished"] += 1
        send()

    profiler = start_profiler(os.getpid(), profile) if profile else None
    start = time.perf_counter()
    cpu_start = process_cpu_seconds(os.getpid())
    for _ in range(concurrency):
        send()
    done.wait(seconds + 30)
    elapsed = time.perf_counter() - start
    cpu = process_cpu_seconds(os.getpid()) - cpu_start
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(30)
    queue.put((len(latencies), elapsed, latencies, state["errors"], cpu))
    cluster.shutdown()


def start_profiler(pid: int, output: str):
    """Start py-spy sampling a process (all threads) into a collapsed-stacks file."""
    import shutil
    import subprocess

    local = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen(
        [
            str(local) if local.exists() else shutil.which("py-spy") or "py-spy",
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "250",
            "--output",
            output,
            "--gil",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def over_network(
    compression: bool,
    ops: int,
    clients: int,
    concurrency: int,
    seconds: float,
    workers: int,
    profile: str | None = None,
    server_args: tuple[str, ...] = (),
    row_factory: str = "tuple",
    server_root: str | None = None,
) -> list[dict]:
    sys.path.insert(0, str(ROOT))
    from tests.stores.wide.server_process import ServerProcess

    server = ServerProcess(
        "--workers", str(workers), *server_args, command=server_command(server_root)
    )
    results = []
    try:
        from cassandra.cluster import Cluster

        cluster = Cluster(contact_points=["127.0.0.1"], port=server.port, protocol_version=4)
        setup = cluster.connect()
        setup.execute(KEYSPACE_CQL)
        setup.execute(TABLE_CQL)
        cluster.shutdown()
        ctx = multiprocessing.get_context("spawn")
        for phase in ("insert", "select newest 20"):
            queue = ctx.Queue()
            go = ctx.Event()
            per_client = ops // clients
            procs = [
                ctx.Process(
                    target=_client,
                    args=(
                        server.port,
                        phase.split()[0],
                        per_client,
                        concurrency,
                        seconds,
                        n * per_client,
                        PARTITIONS,
                        compression,
                        queue,
                        f"{profile}-{phase.split()[0]}-client{n}.txt" if profile else None,
                        row_factory,
                        go,
                    ),
                )
                for n in range(clients)
            ]
            for proc in procs:
                proc.start()
            for _ in procs:
                if queue.get(timeout=120) != "ready":
                    raise RuntimeError("a client failed before its load started")
            profiler = None
            if profile:
                profiler = start_profiler(server.proc.pid, f"{profile}-{phase.split()[0]}.txt")
            cpu_start = process_cpu_seconds(server.proc.pid)
            calls_start = process_syscalls(server.proc.pid)
            go.set()
            outcomes = [queue.get(timeout=seconds + 120) for _ in procs]
            server_cpu = process_cpu_seconds(server.proc.pid) - cpu_start
            calls = process_syscalls(server.proc.pid)
            for proc in procs:
                proc.join(30)
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(30)
            count = sum(o[0] for o in outcomes)
            elapsed = max(o[1] for o in outcomes)
            latencies = [x for o in outcomes for x in o[2]]
            errors = sum(o[3] for o in outcomes)
            summary = summarize(phase, count, elapsed, latencies)
            summary["errors"] = errors
            summary["cpu_us_per_op"] = server_cpu / max(count, 1) * 1e6
            summary["client_cpu_us_per_op"] = sum(o[4] for o in outcomes) / max(count, 1) * 1e6
            summary["server_reads_per_op"] = (calls[0] - calls_start[0]) / max(count, 1)
            summary["server_writes_per_op"] = (calls[1] - calls_start[1]) / max(count, 1)
            results.append(summary)
    finally:
        code, output = server.stop()
        if code != 0:
            print(output, file=sys.stderr)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=20000, help="operations per phase and side")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight per client")
    parser.add_argument("--seconds", type=float, default=20.0, help="time cap per phase")
    parser.add_argument("--workers", type=int, default=4, help="server worker threads")
    parser.add_argument(
        "--no-compression",
        action="store_true",
        help="clients do not ask for frame compression (by default the driver picks lz4 "
        "when both ends have it)",
    )
    parser.add_argument(
        "--profile-server",
        metavar="PREFIX",
        help="sample the server with py-spy during each network phase into PREFIX-PHASE.txt "
        "(collapsed stacks; the sampling costs the server some CPU)",
    )
    parser.add_argument(
        "--inline",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start the server with --inline (quick EXECUTEs answered on its event loop) or "
        "--no-inline (every CQL request in a worker); default: neither, the server's default",
    )
    parser.add_argument(
        "--server-root",
        metavar="DIR",
        help="run the server from another checkout (e.g. the main branch's) with this "
        "script's clients and measuring code, to compare two server versions",
    )
    parser.add_argument(
        "--skip-in-process",
        action="store_true",
        help="measure the network side only (the ratio columns are then left out)",
    )
    parser.add_argument(
        "--row-factory",
        choices=sorted(ROW_FACTORIES),
        default="tuple",
        help="the clients' cassandra-driver row_factory (default tuple; named_tuple is the "
        "driver's default, far costlier in the client per page)",
    )
    options = parser.parse_args()
    global PARTITIONS
    PARTITIONS = max(1, options.ops // ROWS_PER_PARTITION)

    print(
        f"cpus: {os.cpu_count()}  ops/phase: {options.ops}  clients: {options.clients}  "
        f"in flight/client: {options.concurrency}  server workers: {options.workers}  "
        f"compression: {'off' if options.no_compression else 'driver default'}  "
        f"inline: {({None: 'server default', True: 'on', False: 'off'})[options.inline]}  "
        f"row factory: {options.row_factory}  "
        f"server: {options.server_root or 'this checkout'}  "
        f"load average: {os.getloadavg()[0]:.1f}"
    )
    local = None if options.skip_in_process else in_process(options.ops, options.seconds)
    remote = over_network(
        not options.no_compression,
        options.ops,
        options.clients,
        options.concurrency,
        options.seconds,
        options.workers,
        options.profile_server,
        () if options.inline is None else ("--inline" if options.inline else "--no-inline",),
        options.row_factory,
        options.server_root,
    )
    print(f"load average after the run: {os.getloadavg()[0]:.1f}")
    print(
        f"{'workload':<18}{'side':<14}{'ops':>8}{'ops/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'server CPU us/op':>18}{'client CPU us/op':>18}"
        f"{'server reads/op':>17}{'server writes/op':>18}"
    )
    for i, b in enumerate(remote):
        sides = [("network", b)] if local is None else [("in-process", local[i]), ("network", b)]
        for side, r in sides:
            line = (
                f"{r['name']:<18}{side:<14}{r['ops']:>8}{r['ops_per_s']:>10.0f}"
                f"{r['p50_ms']:>9.3f}{r['p99_ms']:>9.3f}{r['cpu_us_per_op']:>18.0f}"
            )
            if "client_cpu_us_per_op" in r:
                line += (
                    f"{r['client_cpu_us_per_op']:>18.0f}"
                    f"{r['server_reads_per_op']:>17.2f}{r['server_writes_per_op']:>18.2f}"
                )
            else:
                line += f"{'-':>18}{'-':>17}{'-':>18}"
            print(line)
        errors = f"  (errors: {b['errors']})" if b.get("errors") else ""
        if local is not None:
            a = local[i]
            ratio = b["ops_per_s"] / a["ops_per_s"] if a["ops_per_s"] else float("nan")
            print(f"{'':<18}{'network/in-process throughput ratio':<36} {ratio:.2f}{errors}")
        elif errors:
            print(f"{'':<18}{errors.strip()}")
    total = sum(r["ops"] for r in remote) / sum(
        r["ops"] / r["ops_per_s"] for r in remote if r["ops_per_s"]
    )
    print(f"network prepared ops/s over both phases: {total:.0f} (goal >= 10000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
