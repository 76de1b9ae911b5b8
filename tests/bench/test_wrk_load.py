"""bench/wrk_load.py: its Lua script runs in Debian's wrk and its output parses."""

import http.server
import threading

import pytest

from bench.wrk_load import SCRIPT, parse_output, run_wrk, uncorrect, wrk_command

# What Debian's wrk 4.1.0 printed with the script (-t1 -c2 -d1s) against a loopback
# server that answered in 50 ms, and in 300 ms once: wrk added one made-up sample
# (218665 µs) to correct for coordinated omission.
REAL_OUTPUT = (
    "Running 1s test @ http://127.0.0.1:18934/\n"
    "  1 threads and 2 connections\n"
    "  Thread Stats   Avg      Stdev     Max   +/- Stdev\n"
    "    Latency   108.72ms   67.60ms 343.73ms   88.89%\n"
    "    Req/Sec    17.00      6.75    30.00     50.00%\n"
    "  17 requests in 1.00s, 1.88KB read\n"
    "Requests/sec:     16.99\n"
    "Transfer/sec:      1.88KB\n"
    "kvsite-wrk summary requests=17 received=17 non200=0 connect=0 read=0 write=0 timeout=0 elapsed_us=973465 duration_us=1000486\n"
    "kvsite-wrk histogram 51177:1,51600:1,91784:1,91910:1,91920:1,91924:1,91933:1,91935:1,91942:1,91947:1,91993:1,92016:1,92044:1,92322:1,93854:1,94353:1,218665:1,343725:1\n"
)


def test_parse_output_reads_real_wrk_output():
    run = parse_output(REAL_OUTPUT, connections=2)
    assert run.requests == 17
    assert run.errors == 0
    assert run.seconds == pytest.approx(0.973465)
    assert len(run.latencies()) == 17
    assert run.histogram[0] == (pytest.approx(0.051177), 1)
    assert run.histogram[-1] == (pytest.approx(0.343725), 1)
    assert run.percentile(0.5) == pytest.approx(91.942)
    assert run.percentile(0.99) == pytest.approx(343.725)


def test_parse_output_takes_out_wrk_s_made_up_samples():
    values = [round(value * 1e6) for value, _ in parse_output(REAL_OUTPUT, 2).histogram]
    assert 218665 not in values
    # interval = 1000486 // (17 // 2) = 125060; 343725 - 125060 = 218665.
    assert uncorrect({100: 1, 218665: 1, 343725: 1}, 1000486, 17, 2) == {100: 1, 343725: 1}


def test_uncorrect_undoes_every_made_up_sample():
    # A real sample at 10 with interval 2 made samples at 8, 6 and 4 (not 2).
    assert uncorrect({1: 3, 4: 1, 6: 1, 8: 1, 10: 1}, 8, 16, 4) == {1: 3, 10: 1}
    assert uncorrect({1: 3, 4: 2, 6: 1, 8: 1, 10: 1}, 8, 16, 4) == {1: 3, 4: 1, 10: 1}
    with pytest.raises(ValueError):
        uncorrect({4: 2, 6: 2, 8: 1, 10: 2}, 8, 16, 4)


def test_parse_output_counts_socket_errors_and_non_200_as_errors():
    text = REAL_OUTPUT.replace(
        "non200=0 connect=0 read=0 write=0 timeout=0",
        "non200=2 connect=1 read=3 write=0 timeout=4",
    )
    assert parse_output(text, 2).errors == 2 + 1 + 3 + 4


def test_parse_output_without_the_script_lines_raises():
    with pytest.raises(ValueError):
        parse_output("Running 1s test @ http://127.0.0.1:1/\n", 1)


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


def test_run_wrk_stops_at_the_request_bound(loopback_server):
    run = run_wrk(loopback_server, "/", total=40, seconds=1, connections=4, threads=1)
    # Responses already read in the loop turn that stops the thread may add a few.
    assert 40 <= run.requests < 40 + 4
    assert run.errors == 0
    assert sum(count for _, count in run.histogram) == run.requests
    assert run.percentile(0.5) <= run.percentile(0.99)


def test_run_wrk_counts_non_200_responses_as_errors(loopback_server):
    run = run_wrk(loopback_server, "/missing", total=20, seconds=1, connections=2, threads=1)
    assert run.requests >= 20
    assert run.errors == run.requests
    assert sum(count for _, count in run.histogram) == run.requests
