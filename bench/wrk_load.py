"""Drive HTTP load with wrk (a C load generator) on loopback, bounded in requests AND time.

Owns the Lua script given to wrk, the command line that runs it and the
parser of what the script prints. wrk's ``-d`` bounds the time (whole
seconds); the script bounds the count: each wrk thread stops itself with
``wrk.thread:stop()`` once it has its share of responses. Never aims wrk
at anything but 127.0.0.1.

The script reports, on lines starting with ``kvsite-wrk``: the responses
received, the non-200 ones, wrk's socket errors, the time from the
thread's start to its last response (its own clock, since wrk's summary
counts the whole ``-d`` even when a thread stopped early), and the latency
histogram (microseconds and counts), so percentiles pool exactly across
rounds.

wrk 4 "corrects" its latency histogram for coordinated omission before
the script sees it: every response slower than twice the mean interval
between a connection's requests (``duration / (requests / connections)``)
adds made-up samples at that latency minus one, two, ... intervals. The
interval counts the whole ``-d`` even when the count bound stopped wrk
early, so the made-up samples would differ with the bound, and the Python
client and the in-process part report raw latencies. ``parse_output``
takes them out again (``uncorrect``): percentiles here are of the
responses actually timed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
MARK = "kvsite-wrk"

SCRIPT = r"""
-- Written by bench/wrk_load.py: stop after a share of responses, count
-- non-200 ones, report a parseable summary and the latency histogram.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } kvsite_timespec;
int clock_gettime(int clk_id, kvsite_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("kvsite_timespec")
local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
  return tonumber(now_ts.tv_sec) * 1000000 + tonumber(now_ts.tv_nsec) / 1000
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  share = tonumber(args[1])
  received = 0
  non200 = 0
  started_us = now_us()
  last_us = started_us
end

function response(status, headers, body)
  received = received + 1
  if status ~= 200 then
    non200 = non200 + 1
  end
  last_us = now_us()
  if received >= share then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local received_all, non200_all, elapsed_us = 0, 0, 0
  for _, thread in ipairs(threads) do
    received_all = received_all + thread:get("received")
    non200_all = non200_all + thread:get("non200")
    local span = thread:get("last_us") - thread:get("started_us")
    if span > elapsed_us then
      elapsed_us = span
    end
  end
  local e = summary.errors
  io.write(string.format(
    "kvsite-wrk summary requests=%d received=%d non200=%d connect=%d read=%d write=%d "
      .. "timeout=%d elapsed_us=%d duration_us=%d\n",
    summary.requests, received_all, non200_all, e.connect, e.read, e.write, e.timeout,
    elapsed_us, summary.duration))
  local pairs_out = {}
  for i = 1, #latency do
    local value, count = latency(i)
    pairs_out[#pairs_out + 1] = string.format("%d:%d", value, count)
  end
  io.write("kvsite-wrk histogram " .. table.concat(pairs_out, ",") .. "\n")
end
"""

SUMMARY = re.compile(rf"^{MARK} summary (?P<fields>.*)$", re.MULTILINE)
HISTOGRAM = re.compile(rf"^{MARK} histogram (?P<pairs>.*)$", re.MULTILINE)


@dataclass
class WrkRun:
    """What one wrk run measured; the histogram is of raw latencies (seconds, count)."""

    requests: int
    errors: int
    seconds: float
    histogram: list[tuple[float, int]] = field(default_factory=list)

    def latencies(self) -> list[float]:
        """Return every timed response's latency in seconds, expanded from the histogram."""
        return [value for value, count in self.histogram for _ in range(count)]

    def percentile(self, q: float) -> float:
        """Return the latency in ms below which a fraction q of the responses fall (nan if none)."""
        total = sum(count for _, count in self.histogram)
        if not total:
            return float("nan")
        rank = min(total - 1, int(q * total))
        seen = 0
        for value, count in self.histogram:
            seen += count
            if seen > rank:
                return value * 1000
        return self.histogram[-1][0] * 1000


def wrk_path() -> str | None:
    """Return the wrk executable here, or None when wrk is not installed."""
    return shutil.which("wrk")


def uncorrect(
    histogram: dict[int, int], duration_us: int, requests: int, connections: int
) -> dict[int, int]:
    """Return wrk's latency histogram (µs -> count) without its coordinated-omission samples.

    Undoes wrk 4's ``stats_correct``: with ``interval = duration_us //
    (requests // connections)``, each real sample at n >= 2 * interval added
    one sample at n - k * interval for every k >= 1 with n - k * interval >
    interval. Going down from the slowest value, what a value holds beyond
    the samples made from the values above it is real.
    """
    if requests // connections == 0:
        return dict(histogram)
    interval = duration_us // (requests // connections)
    if interval <= 0:
        return dict(histogram)
    real: dict[int, int] = {}
    made: dict[int, int] = {}  # value -> samples made at it from the values above
    for value in sorted(histogram, reverse=True):
        above = value + interval
        made[value] = real.get(above, 0) + made.get(above, 0) if value > interval else 0
        count = histogram[value] - made[value]
        if count < 0:
            raise ValueError(f"wrk histogram is not a corrected one at {value} µs")
        real[value] = count
    return {value: count for value, count in real.items() if count}


def parse_output(text: str, connections: int) -> WrkRun:
    """Return the numbers the script printed in wrk's output; raise ValueError if absent.

    ``connections`` is wrk's ``-c``, which its latency correction used.
    """
    summary = SUMMARY.search(text)
    histogram = HISTOGRAM.search(text)
    if summary is None or histogram is None:
        raise ValueError(f"no {MARK} lines in wrk's output:\n{text}")
    fields = {
        key: int(value)
        for key, value in (item.split("=") for item in summary.group("fields").split())
    }
    observed: dict[int, int] = {}
    for item in histogram.group("pairs").split(","):
        if item:
            value, count = item.split(":")
            observed[int(value)] = int(count)
    raw = uncorrect(observed, fields["duration_us"], fields["requests"], connections)
    socket_errors = sum(fields[key] for key in ("connect", "read", "write", "timeout"))
    return WrkRun(
        requests=fields["received"],
        errors=fields["non200"] + socket_errors,
        seconds=fields["elapsed_us"] / 1e6,
        histogram=[(value / 1e6, raw[value]) for value in sorted(raw)],
    )


def wrk_command(
    port: int, path: str, seconds: int, connections: int, threads: int, script: str, share: int
) -> list[str]:
    """Return the wrk command line for one bounded run against 127.0.0.1:port."""
    return [
        wrk_path() or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        script,
        f"http://{LOOPBACK}:{port}{path}",
        "--",
        str(share),
    ]


def run_wrk(
    port: int, path: str, total: int, seconds: int, connections: int = 8, threads: int = 1
) -> WrkRun:
    """Send GET path with wrk until total responses arrive or seconds pass; return the numbers.

    ``seconds`` is whole seconds (wrk's ``-d``), at least 1. Each thread stops
    after its share of ``total``.
    """
    if not path.startswith("/"):
        raise ValueError("path must start with /")
    threads = max(1, min(threads, connections))
    share = max(1, -(-total // threads))
    with tempfile.TemporaryDirectory(prefix="kvsite-wrk-") as folder:
        script = Path(folder) / "bounded.lua"
        script.write_text(SCRIPT)
        command = wrk_command(
            port, path, max(1, int(seconds)), connections, threads, str(script), share
        )
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr}")
    return parse_output(completed.stdout, connections)
