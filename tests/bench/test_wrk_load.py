"""bench/wrk_load.py: its Lua script runs in Debian's wrk and its output parses."""

import http.server
import threading

import pytest

from bench.wrk_load import SCRIPT, parse_output, run_wrk, wrk_command, wrk_path

# What Debian's wrk 4.1.0 printed with the script, against http.server on loopback.
REAL_OUTPUT = (
    "Running 1s test @ http://127.0.0.1:18932/index.html\n"
    "  1 threads and 2 connections\n"
    "  Thread Stats   Avg      Stdev     Max   +/- Stdev\n"
    "    Latency     1.34ms    1.39ms   5.93ms   90.00%\n"
    "    Req/Sec     0.00      0.00     0.00      -nan%\n"
    "  30 requests in 1.00s, 5.57KB read\n"
    "Requests/sec:     30.00\n"
    "Transfer/sec:      5.57KB\n"
    "kvsite-wrk summary requests=30 received=30 non200=0 connect=0 read=0 write=0 timeout=0 elapsed_us=21232 duration_us=1000119 p50_us=955 p99_us=5931\n"
    "kvsite-wrk histogram 343:1,406:1,471:1,577:1,588:1,597:1,625:1,647:1,678:1,697:1,746:1,757:1,802:1,803:1,842:1,955:1,965:1,1020:1,1071:1,1168:1,1170:1,1199:1,1223:1,1378:1,1516:1,1600:1,1620:1,4220:1,5647:1,5931:1\n"
)


def test_parse_output_reads_real_wrk_output():
    run = parse_output(REAL_OUTPUT)
    assert run.requests == 30
    assert run.errors == 0
    assert run.seconds == pytest.approx(0.021232)
    assert run.p50_ms == pytest.approx(0.955)
    assert run.p99_ms == pytest.approx(5.931)
    assert run.histogram[0] == (pytest.approx(343e-6), 1)
    assert run.histogram[-1] == (pytest.approx(5931e-6), 1)
    assert len(run.latencies()) == 30


def test_parse_output_counts_socket_errors_and_non_200_as_errors():
    text = REAL_OUTPUT.replace(
        "non200=0 connect=0 read=0 write=0 timeout=0",
        "non200=2 connect=1 read=3 write=0 timeout=4",
    )
    assert parse_output(text).errors == 2 + 1 + 3 + 4


def test_parse_output_without_the_script_lines_raises():
    with pytest.raises(ValueError):
        parse_output("Running 1s test @ http://127.0.0.1:1/\n")


def test_wrk_command_aims_at_loopback_only_and_passes_the_share():
    command = wrk_command(8000, "/posts/", 1, 8, 1, "s.lua", 250)
    assert "http://127.0.0.1:8000/posts/" in command
    assert command[-2:] == ["--", "250"]
    assert "-d1s" in command and "-c8" in command and "-t1" in command


def test_script_stops_each_thread_after_its_share():
    assert "wrk.thread:stop()" in SCRIPT


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = b"ok"
        self.send_response(200 if self.path == "/" else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.skipif(wrk_path() is None, reason="wrk is not installed")
def test_run_wrk_stops_at_the_request_bound(loopback_server):
    run = run_wrk(loopback_server, "/", total=40, seconds=1, connections=4, threads=1)
    # Responses already read in the loop turn that stops the thread may add a few.
    assert 40 <= run.requests < 40 + 4
    assert run.errors == 0
    assert sum(count for _, count in run.histogram) >= run.requests
    assert run.p50_ms <= run.p99_ms


@pytest.mark.skipif(wrk_path() is None, reason="wrk is not installed")
def test_run_wrk_counts_non_200_responses_as_errors(loopback_server):
    run = run_wrk(loopback_server, "/missing", total=20, seconds=1, connections=2, threads=1)
    assert run.requests >= 20
    assert run.errors == run.requests
