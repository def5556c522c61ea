"""Issue 5: the sweep engine against the mock server (exact concurrency, timing,
open-loop rates, cancellation, faults, interruption, preflight)."""
import http.server
import json
import os
import signal
import statistics
import threading
import time
import urllib.request

import testlib


def start_mock(ctx, *args):
    return ctx.mock_server("--model", "m", *args)


def mock_stats(url, reset=False):
    req = urllib.request.Request(url + "/mock/stats", method="DELETE" if reset else "GET")
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read()
    return json.loads(body) if body else {}


def run(ctx, url, *args, out="out", check=True, timeout=120):
    r = ctx.llmsweep("run", "--endpoint", url + "/v1", "--model", "m", "--output-dir",
                     ctx.path(out), "--quiet", *args, timeout=timeout)
    if check:
        assert r.returncode == 0, f"run exited {r.returncode}:\n{r.stderr}"
    return r


def records(ctx, out="out"):
    with open(ctx.path(out, "requests.jsonl")) as f:
        return [json.loads(line) for line in f]


def test_concurrency_is_exact(ctx):
    """The mock's peak of streams in flight equals the level's concurrency, never more."""
    url = start_mock(ctx, "--ttft-ms", "20", "--itl-ms", "5", "--output-tokens", "20")
    for n, workers in [(1, 1), (7, 1), (32, 1), (9, 2)]:
        mock_stats(url, reset=True)
        run(ctx, url, "--levels", str(n), "--duration", "1.5s", "--output-tokens", "20",
            "--prompt-tokens", "16", "--workers", str(workers), out=f"c{n}")
        stats = mock_stats(url)
        assert stats["peak_streams"] == n, f"concurrency {n} (workers {workers}): mock saw peak {stats['peak_streams']}"
        recs = records(ctx, f"c{n}")
        ok = [r for r in recs if r["outcome"] == "successful"]
        assert len(ok) >= n, f"concurrency {n}: only {len(ok)} successful requests"
        assert all(r["error"] == "none" for r in recs), [r for r in recs if r["error"] != "none"][:3]


def test_ttft_and_itl_match_the_mock(ctx):
    """Measured TTFT and inter-chunk gaps equal the mock's deterministic delays."""
    url = start_mock(ctx, "--ttft-ms", "80", "--itl-ms", "15")
    run(ctx, url, "--levels", "1", "--duration", "3s", "--output-tokens", "16",
        "--prompt-tokens", "32")
    ok = [r for r in records(ctx) if r["outcome"] == "successful"]
    assert len(ok) >= 5, len(ok)
    ttft = statistics.median((r["first_token_ns"] - r["send_ns"]) / 1e6 for r in ok)
    itl = statistics.median((r["last_token_ns"] - r["first_token_ns"]) / 1e6 / (r["output_tokens"] - 1)
                            for r in ok)
    assert abs(ttft - 80) <= 0.05 * 80 + 2, f"median TTFT {ttft:.2f} ms, mock says 80 ms"
    assert abs(itl - 15) <= 0.05 * 15 + 1, f"median ITL {itl:.2f} ms, mock says 15 ms"
    for r in ok:
        assert r["output_tokens"] == 16 and r["chunks"] == 16, r
        assert r["prompt_tokens"] == 32, f"the mock counts ceil(bytes/4): {r}"
        assert r["token_source"] == "server", r


def test_no_timestamp_before_the_send(ctx):
    """Arrivals are stamped with the time epoll reported their socket ready;
    an answer read in the same round its request was sent in (instant answers
    on reused connections, under load) must not get that earlier time."""
    url = start_mock(ctx, "--ttft-ms", "0", "--itl-ms", "0", "--output-tokens", "2")
    run(ctx, url, "--levels", "64", "--duration", "2s", "--output-tokens", "2",
        "--prompt-tokens", "4")
    recs = [r for r in records(ctx) if r["outcome"] == "successful"]
    assert len(recs) > 1000, len(recs)
    early = [r for r in recs if min(r["first_byte_ns"], r["first_token_ns"]) < r["send_ns"]]
    assert not early, f"{len(early)} of {len(recs)} answers stamped before their send: {early[:1]}"


def test_open_loop_rates(ctx):
    url = start_mock(ctx, "--ttft-ms", "5", "--itl-ms", "1", "--output-tokens", "4")
    run(ctx, url, "--profile", "constant", "--levels", "20", "--duration", "3s",
        "--output-tokens", "4", "--prompt-tokens", "8", out="constant")
    recs = records(ctx, "constant")
    assert 58 <= len(recs) <= 61, f"constant 20 req/s for 3 s sent {len(recs)} requests"
    intended = sorted(r["intended_ns"] for r in recs)
    gaps = [(b - a) / 1e6 for a, b in zip(intended, intended[1:])]
    assert all(abs(g - 50) < 0.01 for g in gaps), "constant arrivals are not 50 ms apart"
    lag = statistics.median((r["send_ns"] - r["intended_ns"]) / 1e6 for r in recs)
    assert 0 <= lag < 5, f"median send lag {lag:.3f} ms"

    run(ctx, url, "--profile", "poisson", "--levels", "40", "--duration", "4s", "--workers", "2",
        "--output-tokens", "4", "--prompt-tokens", "8", out="poisson")
    recs = records(ctx, "poisson")
    assert 0.7 * 160 <= len(recs) <= 1.3 * 160, f"poisson 40 req/s for 4 s sent {len(recs)}"
    gaps = sorted(r["intended_ns"] for r in recs)
    gaps = [(b - a) / 1e6 for a, b in zip(gaps, gaps[1:])]
    # Exponential gaps: the coefficient of variation is about 1 (constant: 0).
    cv = statistics.pstdev(gaps) / statistics.mean(gaps)
    assert 0.7 < cv < 1.3, f"poisson gaps have CV {cv:.2f}"


def test_level_end_cancels_in_flight_requests(ctx):
    url = start_mock(ctx, "--ttft-ms", "10", "--itl-ms", "50", "--output-tokens", "100")
    r = run(ctx, url, "--levels", "3", "--duration", "1s", "--output-tokens", "100",
            "--prompt-tokens", "8", check=False)
    assert r.returncode == 1 and "no request completed" in r.stderr, r.stderr
    recs = records(ctx)
    assert [r["outcome"] for r in recs] == ["incomplete"] * 3, recs
    for r in recs:
        assert r["first_token_ns"] > 0 and r["chunks"] > 5, r
    time.sleep(0.2)
    stats = mock_stats(url)
    assert stats["requests"]["client_closed"] == 3 and stats["current_streams"] == 0, stats


def test_max_requests_ends_a_level(ctx):
    url = start_mock(ctx, "--ttft-ms", "1", "--itl-ms", "1", "--output-tokens", "4")
    run(ctx, url, "--levels", "4", "--duration", "30s", "--max-requests", "10",
        "--output-tokens", "4", "--prompt-tokens", "8")
    recs = records(ctx)
    assert len(recs) == 10 and all(r["outcome"] == "successful" for r in recs), recs


def test_max_requests_are_shared_by_the_workers(ctx):
    """--max-requests counts across workers: two workers at concurrency 1 still
    send every request, and a level ends when they are done, not at its duration
    (a worker with no stream of its own must not hold the level open)."""
    url = start_mock(ctx, "--ttft-ms", "1", "--itl-ms", "1", "--output-tokens", "4")
    for profile, level in [("concurrent", "1"), ("concurrent", "3"), ("constant", "100")]:
        out = f"{profile}{level}"
        run(ctx, url, "--profile", profile, "--levels", level, "--duration", "20s",
            "--max-requests", "7", "--workers", "2", "--output-tokens", "4",
            "--prompt-tokens", "8", out=out, timeout=60)
        recs = records(ctx, out)
        assert len(recs) == 7, f"{profile} {level}: {len(recs)} requests, expected 7: {recs}"
        assert all(r["outcome"] == "successful" for r in recs), recs
        with open(ctx.path(out, "benchmarks.json")) as f:
            level_s = json.load(f)["benchmarks"][0]["duration"]
        assert level_s < 10, f"{profile} {level}: the level lasted {level_s:.1f} s of its 20 s"


def test_a_stalled_client_sends_nothing_past_the_deadline(ctx):
    """Open loop, the client stopped (SIGSTOP) across the level's end: on waking,
    the arrivals it missed are sent late, each with its intended time, but none
    whose intended time is past the level's end."""
    url = start_mock(ctx, "--ttft-ms", "1", "--itl-ms", "1", "--output-tokens", "4")
    proc = ctx.start([ctx.bin, "run", "--endpoint", url + "/v1", "--model", "m", "--profile",
                      "constant", "--levels", "20", "--duration", "2s", "--output-dir",
                      ctx.path("out"), "--output-tokens", "4", "--prompt-tokens", "8"], name="run")
    ctx.wait_for_log(proc, r"level 1/1")
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGSTOP)
    time.sleep(3)  # past the 2 s deadline
    os.kill(proc.pid, signal.SIGCONT)
    assert proc.wait(timeout=60) == 0
    recs = records(ctx)
    first = min(r["intended_ns"] for r in recs)  # constant: the first arrival is the level start
    late = [r for r in recs if r["intended_ns"] >= first + 2_000_000_000]
    assert not late, f"{len(late)} requests intended after the level's end: {late[:2]}"
    assert sum(r["send_ns"] - r["intended_ns"] > 500_000_000 for r in recs) > 0, \
        "the stall did not delay any arrival: the test did not test anything"


FAULTS = [
    ("429@every4", "http", "HTTP 429"),
    ("503@every4", "http", "HTTP 503"),
    ("reset-mid@every4", "reset", ""),
    ("bad-sse@every4", "malformed", "malformed SSE line"),
    ("bad-json@every4", "malformed", "invalid JSON"),
    ("cut@every4", "stream_cut", "[DONE]"),
    ("stall@every4", "timeout", "did not complete within 1.0 s"),
]


def test_faults_are_classified_and_the_sweep_goes_on(ctx):
    for spec, error, message in FAULTS:
        url = start_mock(ctx, "--ttft-ms", "5", "--itl-ms", "2", "--output-tokens", "10",
                         "--faults", spec)
        out = spec.split("@")[0]
        run(ctx, url, "--levels", "2", "--duration", "10s", "--max-requests", "16",
            "--output-tokens", "10", "--prompt-tokens", "8", "--set", "load.request_timeout=1s",
            out=out)
        recs = records(ctx, out)
        failed = [r for r in recs if r["outcome"] == "errored"]
        ok = [r for r in recs if r["outcome"] == "successful"]
        assert len(failed) == 4, f"{spec}: expected every 4th of 16 requests to fail: {recs}"
        assert len(ok) == 12, f"{spec}: the other requests must succeed: {recs}"
        for r in failed:
            assert r["error"] == error, f"{spec}: classified as {r['error']}, expected {error}: {r}"
            assert message in r.get("message", ""), f"{spec}: message {r.get('message')!r}"


def test_reset_before_headers_is_counted(ctx):
    """A reused connection reset before any byte: libcurl resends the request on
    a new connection (as it should for a stale keep-alive connection); the record
    says so. A reset on a fresh connection is an error of class reset."""
    url = start_mock(ctx, "--ttft-ms", "5", "--itl-ms", "2", "--output-tokens", "10",
                     "--faults", "reset@every4")
    run(ctx, url, "--levels", "2", "--duration", "2s", "--max-requests", "16",
        "--output-tokens", "10", "--prompt-tokens", "8")
    recs = records(ctx)
    retried = sum(r["connection_retries"] for r in recs)
    reset = [r for r in recs if r["error"] == "reset"]
    assert len(recs) == 16, recs
    assert retried + len(reset) == mock_stats(url)["faults"]["reset"] > 0, recs
    assert all(r["outcome"] == "successful" for r in recs if r["error"] != "reset"), recs


def test_interruption_keeps_what_was_measured(ctx):
    url = start_mock(ctx, "--ttft-ms", "5", "--itl-ms", "5", "--output-tokens", "20")
    proc = ctx.start([ctx.bin, "run", "--endpoint", url + "/v1", "--model", "m", "--levels", "2,4",
                      "--duration", "30s", "--output-dir", ctx.path("out"), "--output-tokens",
                      "20", "--prompt-tokens", "8"], name="run")
    ctx.wait_for_log(proc, r"level 1/2")
    time.sleep(1.5)
    os.kill(proc.pid, signal.SIGTERM)
    rc = proc.wait(timeout=30)
    assert rc == 3, f"interrupted run exited {rc}, expected 3"
    recs = records(ctx)
    assert sum(r["outcome"] == "successful" for r in recs) >= 10, recs
    assert sum(r["outcome"] == "incomplete" for r in recs) == 2, recs
    assert all(r["level"] == 0 for r in recs), "the second level must never start"


def test_second_signal_exits_at_once(ctx):
    url = start_mock(ctx, "--ttft-ms", "5", "--itl-ms", "5", "--output-tokens", "20")
    proc = ctx.start([ctx.bin, "run", "--endpoint", url + "/v1", "--model", "m", "--levels", "2",
                      "--duration", "30s", "--output-dir", ctx.path("out")], name="run")
    ctx.wait_for_log(proc, r"level 1/1")
    # Both signals must be pending together (a stopped process cannot act on
    # the first before the second arrives); two of the same kind would merge.
    os.kill(proc.pid, signal.SIGSTOP)
    os.kill(proc.pid, signal.SIGINT)
    os.kill(proc.pid, signal.SIGTERM)
    os.kill(proc.pid, signal.SIGCONT)
    rc = proc.wait(timeout=10)
    assert rc in (128 + signal.SIGINT, 128 + signal.SIGTERM), rc
    with open(proc.log_path) as f:
        log = f.read()
    assert "second signal: exiting now" in log, log
    assert not os.path.exists(ctx.path("out", "benchmarks.json")), "nothing is written then"


def test_second_signal_exits_at_once_while_results_are_written(ctx):
    """After the first signal the sweep stops and the results are written; a
    second signal during that writing (tens of thousands of records take a
    while) must still exit at once, not be ignored."""
    url = start_mock(ctx, "--ttft-ms", "0", "--itl-ms", "0", "--output-tokens", "2")
    proc = ctx.start([ctx.bin, "run", "--endpoint", url + "/v1", "--model", "m", "--levels", "64",
                      "--duration", "60s", "--output-dir", ctx.path("out"), "--output-tokens", "2",
                      "--prompt-tokens", "4"], name="run")
    ctx.wait_for_log(proc, r"level 1/1")
    time.sleep(2)
    os.kill(proc.pid, signal.SIGINT)
    ctx.wait_for_log(proc, r"stopped: interrupted")  # the engine is done; writing begins
    os.kill(proc.pid, signal.SIGINT)
    rc = proc.wait(timeout=60)
    assert rc == 128 + signal.SIGINT, f"exit {rc}: the second signal was not acted on"
    assert not os.path.exists(ctx.path("out", "benchmarks.json.complete"))


def test_preflight_failures(ctx):
    url = start_mock(ctx)
    r = ctx.llmsweep("run", "--endpoint", url + "/v1", "--model", "other", "--levels", "1",
                     "--duration", "1s", "--output-dir", ctx.path("x"))
    assert r.returncode == 1, r
    assert "does not serve model 'other'" in r.stderr and "it serves: m" in r.stderr, r.stderr
    port = testlib.free_port()
    r = ctx.llmsweep("run", "--endpoint", f"http://127.0.0.1:{port}/v1", "--model", "m",
                     "--levels", "1", "--duration", "1s", "--output-dir", ctx.path("y"))
    assert r.returncode == 1 and "refused" in r.stderr, r


def test_every_spec_header_is_sent_with_the_api_key(ctx):
    """The spec may name 64 headers; with the API key's that is 65 to send."""
    seen = []

    class Models(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(dict(self.headers))
            body = b'{"object":"list","data":[]}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Models)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        headers = "".join(f"  - {{name: X-H{i}, value: v{i}}}\n" for i in range(64))
        with open(ctx.path("spec.yaml"), "w") as f:
            f.write(f"name: h\nmodel: m\nendpoint: http://127.0.0.1:{server.server_port}/v1\n"
                    f"api_key_env: LLMSWEEP_TEST_KEY\nheaders:\n{headers}")
        r = ctx.llmsweep("run", "--spec", ctx.path("spec.yaml"), "--levels", "1", "--duration",
                         "1s", "--output-dir", ctx.path("out"),
                         env={"LLMSWEEP_TEST_KEY": "secret"})
    finally:
        server.shutdown()
    assert r.returncode == 1 and "does not serve model 'm'" in r.stderr, r.stderr
    assert seen and seen[0].get("Authorization") == "Bearer secret", seen
    missing = [i for i in range(64) if seen[0].get(f"X-H{i}") != f"v{i}"]
    assert not missing, f"headers not sent: {missing}"


def test_unusable_credentials_are_bad_input(ctx):
    """A CA file or API key the spec names but that cannot be used is bad input
    (exit 2, like `fetch --ca-file`), not a failed endpoint (exit 1)."""
    url = start_mock(ctx)
    cases = [("ca_file=" + ctx.path("missing.pem"), "missing.pem"),
             ("api_key_env=LLMSWEEP_UNSET_KEY", "LLMSWEEP_UNSET_KEY"),
             ("api_key_file=" + ctx.path("no-key"), "no-key")]
    for setting, named in cases:
        r = run(ctx, url, "--levels", "1", "--duration", "1s", "--set", setting, check=False)
        assert r.returncode == 2 and named in r.stderr, f"{setting}: exit {r.returncode}: {r.stderr}"
