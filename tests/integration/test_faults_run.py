"""Issue 10: the fault matrix of `llmsweep run` (tests/reliability.md, section `run`).

Every test here breaks the world around a run in one way and checks what the
user sees (the message, the exit code) and what is left in the output folder:
results that are valid JSON (strict UTF-8), that say what happened
(interrupted, errors by class), with every request the engine sent kept and
counted the way the server counted it.
"""
import http.server
import json
import os
import random
import resource
import signal
import subprocess
import threading
import time
import urllib.request

import testlib

# --- helpers ---------------------------------------------------------------------

RESULT_FILES = ["benchmarks.json", "requests.jsonl", "benchmarks.csv", "report.html",
                "summary.json"]


def mock_stats(url, reset=False):
    req = urllib.request.Request(url + "/mock/stats", method="DELETE" if reset else "GET")
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read()
    return json.loads(body) if body else {}


class Result:
    """A finished `llmsweep run`: exit code, output, peak memory (KiB)."""

    def __init__(self, rc, stdout, stderr, peak_kib):
        self.returncode = rc
        self.stdout = stdout
        self.stderr = stderr
        self.peak_kib = peak_kib

    def __repr__(self):
        return f"exit {self.returncode}, stderr:\n{self.stderr}"


def run_args(ctx, url, out, *args, quiet=True):
    return [ctx.bin, "run", "--endpoint", url + "/v1", "--model", "m", "--output-dir",
            ctx.path(out), "--prompt-tokens", "8"] + (["--quiet"] if quiet else []) + \
        [str(a) for a in args]


def peak_memory_kib(pid):
    """The process's peak resident memory since it became llmsweep (VmHWM
    starts afresh at exec; wait4's ru_maxrss would count the forking Python
    process too), or 0 before the exec."""
    try:
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return 0
    if status.get("Name", "").strip() != "llmsweep":
        return 0
    return int(status.get("VmHWM", "0 kB").split()[0])


def memory_bound(ctx, kib):
    """A peak-memory bound for the product binary; three times it for the ASan
    build (shadow memory, redzones, quarantine), still far below what the
    unbounded growth it guards against reaches in a second."""
    return kib * 3 if ctx.sanitized else kib


def run(ctx, url, *args, out="out", preexec_fn=None, timeout=120):
    """Runs `llmsweep run`, watching its peak memory."""
    testlib.require_file(ctx.bin, "the llmsweep binary (run tools/zig build)")
    name = f"run-{out.replace('/', '-')}-{len(os.listdir(ctx.tmp))}"
    with open(ctx.path(name + ".stdout"), "w+", errors="replace") as so, \
            open(ctx.path(name + ".stderr"), "w+", errors="replace") as se:
        proc = subprocess.Popen(run_args(ctx, url, out, *args), stdout=so, stderr=se,
                                cwd=ctx.tmp, preexec_fn=preexec_fn)
        deadline = time.monotonic() + timeout
        peak = 0
        while proc.poll() is None:
            peak = max(peak, peak_memory_kib(proc.pid))
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise AssertionError(f"llmsweep run {args} did not end within {timeout}s (hung)")
            time.sleep(0.01)
        so.seek(0)
        se.seek(0)
        return Result(proc.returncode, so.read(), se.read(), peak)


def read_json_strict(path):
    """JSON as a strict reader sees it: UTF-8 only, no NaN."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        near = raw[max(0, e.start - 60):e.end + 20]
        raise AssertionError(f"{path} is not valid UTF-8 ({e}): {near!r}")

    def no_constants(name):
        raise AssertionError(f"{path} holds {name}, which is not JSON")
    return text, json.loads(text, parse_constant=no_constants)


def load_results(ctx, out="out"):
    """Reads and checks an output folder; returns (benchmarks, records).

    The files must agree: the completion marker lists what was written and
    says interrupted the way benchmarks.json does; each level's request
    totals and errors by class equal what requests.jsonl holds; no
    temporary file is left behind."""
    folder = ctx.path(out)
    leftovers = [f for f in os.listdir(folder) if ".tmp-" in f]
    assert not leftovers, f"temporary files left in {folder}: {leftovers}"
    _, bench = read_json_strict(os.path.join(folder, "benchmarks.json"))
    records = []
    with open(os.path.join(folder, "requests.jsonl"), "rb") as f:
        for n, line in enumerate(f, 1):
            try:
                records.append(json.loads(line.decode("utf-8")))
            except (UnicodeDecodeError, ValueError) as e:
                raise AssertionError(
                    f"requests.jsonl line {n} is not valid JSON: {e}: {line[:200]!r}")
    _, marker = read_json_strict(os.path.join(folder, "benchmarks.json.complete"))
    interrupted = bench["llmsweep"]["interrupted"]
    assert marker["interrupted"] == interrupted, (marker, interrupted)
    assert marker["run_id"] == bench["llmsweep"]["run_id"], (marker, bench["llmsweep"]["run_id"])
    assert sorted(marker["files"]) == sorted(RESULT_FILES), marker
    read_json_strict(os.path.join(folder, "summary.json"))
    for i, b in enumerate(bench["benchmarks"]):
        # The totals count the level's measured window; a request that ends
        # past the level's deadline (its last event and the deadline timer
        # came together) is kept in requests.jsonl, marked not measured.
        mine = [r for r in records if r["level"] == i and r["measured"]]
        totals = b["metrics"]["request_totals"]
        for outcome in ("successful", "errored", "incomplete"):
            n = sum(r["outcome"] == outcome for r in mine)
            assert totals[outcome] == n, f"level {i}: {outcome} {totals[outcome]} != {n} records"
        assert totals["total"] == len(mine), (totals, len(mine))
        by_class = b["llmsweep"]["errors_by_class"]
        for cls, n in by_class.items():
            got = sum(r["outcome"] == "errored" and r["error"] == cls for r in mine)
            assert n == got, f"level {i}: errors_by_class[{cls}] = {n}, records say {got}"
    assert len([r for r in records if r["measured"]]) == \
        sum(b["metrics"]["request_totals"]["total"] for b in bench["benchmarks"])
    return bench, records


def count(records, outcome=None, error=None):
    return sum((outcome is None or r["outcome"] == outcome) and
               (error is None or r["error"] == error) for r in records)


class Server:
    """A misbehaving HTTP server in a thread of the test: answers GET /v1/models
    with model "m" (so preflight passes) and hands every other request to
    `answer(handler)`."""

    def __init__(self, answer, models=None):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if models:
                    try:
                        models(self)
                    except OSError:
                        pass  # the client hung up
                    self.close_connection = True
                    return
                body = b'{"object":"list","data":[{"id":"m","object":"model"}]}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                with outer.lock:
                    outer.posts += 1
                    self.n = outer.posts  # this request's number, from 1
                try:
                    answer(self)
                except OSError:
                    pass  # the client hung up: that is what the tests make it do
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.posts = 0
        self.lock = threading.Lock()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def sse_headers(h):
    h.send_response(200)
    h.send_header("Content-Type", "text/event-stream")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()


def send_chunk(h, data):
    h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))


def event(content=None, finish=None, usage=None):
    choice = {"index": 0, "delta": {"content": content} if content is not None else {},
              "finish_reason": finish}
    doc = {"id": "x", "object": "chat.completion.chunk", "model": "m", "choices": [choice]}
    if usage:
        doc = {"id": "x", "object": "chat.completion.chunk", "model": "m", "choices": [],
               "usage": usage}
    return b"data: " + json.dumps(doc).encode() + b"\n\n"


# --- the endpoint ------------------------------------------------------------------

def test_endpoint_down_at_start(ctx):
    """Nothing listens: preflight says so, exit 1, no results are written
    (there is nothing to say about an endpoint never reached)."""
    port = testlib.free_port()
    r = run(ctx, f"http://127.0.0.1:{port}", "--levels", "1", "--duration", "1s")
    assert r.returncode == 1, r
    assert f"preflight: connection to 127.0.0.1:{port} refused: is the server running and is " \
           "the port right?" in r.stderr, r
    assert not os.path.exists(ctx.path("out")), "a run that never started must not write results"


def test_dns_failure(ctx):
    r = run(ctx, "http://no-such-host.invalid:8000", "--levels", "1", "--duration", "1s")
    assert r.returncode == 1, r
    assert "preflight: cannot resolve no-such-host.invalid:8000 (DNS lookup failed): check the " \
           "host name in the URL" in r.stderr, r
    assert not os.path.exists(ctx.path("out")), os.listdir(ctx.path("out"))


# --- every fault of the mock server at 1 %, 10 % and 100 % --------------------------

# kind (as --faults names it) -> (argument, error class of the request, or
# "none" when the request still succeeds, and the start of its message).
MOCK_FAULTS = {
    "429": ("", "http", "HTTP 429: "),
    "500": ("", "http", "HTTP 500: "),
    "503": ("", "http", "HTTP 503: "),
    "reset": ("", "reset", "127.0.0.1:"),
    "reset-mid": ("", "reset", "127.0.0.1:"),
    "stall": ("", "timeout", "the response from 127.0.0.1:"),
    "bad-sse": ("", "malformed", "malformed SSE line: "),
    "bad-json": ("", "malformed", "invalid JSON in an event: "),
    "cut": ("", "stream_cut", "the stream ended without data: [DONE]"),
    "slow-headers": ("=50ms", "none", ""),
}
# Requests per run: enough that 1 % fires (the mock's draws are seeded).
REQUESTS = {"1%": 400, "10%": 200, "100%": 48}


def test_every_mock_fault_at_1_10_and_100_percent(ctx):
    """Each fault kind at each rate: the run ends, every request the mock saw
    is a record, each failed one has the fault's error class (counted per
    class in benchmarks.json), each successful one is kept; a run where
    nothing succeeded says so and exits 1, with its results still written."""
    for kind, (arg, error, message) in MOCK_FAULTS.items():
        for rate, n in REQUESTS.items():
            label = f"{kind}@{rate}"
            url = ctx.mock_server("--model", "m", "--ttft-ms", "0", "--itl-ms", "0",
                                  "--output-tokens", "4", "--faults", f"{kind}{arg}@{rate}",
                                  name=f"mock-{kind}-{rate}")
            out = f"{kind}-{rate[:-1]}"
            r = run(ctx, url, "--levels", "16", "--duration", "60s", "--max-requests", n,
                    "--output-tokens", "4", "--set", "load.request_timeout=500ms", out=out)
            stats = mock_stats(url)
            fired = stats["faults"][kind]
            assert fired > 0, f"{label}: the fault never fired in {n} requests: {stats}"
            bench, recs = load_results(ctx, out)
            assert not bench["llmsweep"]["interrupted"], label
            assert len(recs) == n, f"{label}: {len(recs)} records for {n} requests"
            ok = count(recs, "successful")
            assert count(recs, "incomplete") == 0, f"{label}: {recs}"
            failed = [x for x in recs if x["outcome"] == "errored"]
            retried = sum(x["connection_retries"] for x in recs)
            if error == "none":
                assert not failed, f"{label}: {failed[:2]}"
                assert fired == (n if rate == "100%" else fired), (label, stats)
            elif kind == "reset":
                # A reset on a reused connection is resent by libcurl on a
                # fresh one (record.connection_retries), which may reset too.
                assert retried + len(failed) == fired, \
                    f"{label}: {retried} + {len(failed)} != {fired}"
            else:
                assert len(failed) == fired, \
                    f"{label}: {len(failed)} errors, the mock faulted {fired}"
            for x in failed:
                assert x["error"] == error, f"{label}: classified {x['error']}, not {error}: {x}"
                assert x.get("message", "").startswith(message), \
                    f"{label}: message {x.get('message')!r}"
            # Every request the mock completed is a kept, successful record.
            completed = stats["requests"]["completed"] + (fired if error == "none" else 0)
            assert ok == completed, \
                f"{label}: {ok} successful records, the mock completed {completed}: {stats}"
            for x in recs:
                if x["outcome"] == "successful":
                    assert x["output_tokens"] == 4 and x["chunks"] == 4, f"{label}: {x}"
            by_class = bench["benchmarks"][0]["llmsweep"]["errors_by_class"]
            assert by_class.get(error, 0) == len(failed), (label, by_class)
            if ok:
                assert r.returncode == 0, f"{label}: {r}"
            else:
                assert r.returncode == 1, f"{label}: {r}"
                first = f"error: no request succeeded ({n} errors; the first: {message}"
                assert first in r.stderr, f"{label}: {r}"


def run_through_outage(ctx, run_extra, down_s):
    """A mock on a fixed port; a run started against it with run_extra; one
    second into the level the mock is killed and, down_s later, started
    again on the same port. Returns the run's exit code, its log and the URL."""
    port = testlib.free_port()
    mock_args = [ctx.bin, "mock-server", "--port", str(port), "--model", "m", "--ttft-ms", "5",
                 "--itl-ms", "3", "--output-tokens", "10"]
    first = ctx.start(mock_args, name="mock-first")
    ctx.wait_for_log(first, r"listening on")
    url = f"http://127.0.0.1:{port}"
    proc = ctx.start(run_args(ctx, url, "out", *run_extra, quiet=False), name="run")
    ctx.wait_for_log(proc, r"level 1/1")
    time.sleep(1)
    ctx.stop(first, sig=signal.SIGKILL)
    time.sleep(down_s)
    second = ctx.start(mock_args, name="mock-second")
    ctx.wait_for_log(second, r"listening on")
    rc = proc.wait(timeout=60)
    with open(proc.log_path) as f:
        return rc, f.read(), url


def test_endpoint_dies_mid_level_and_comes_back(ctx):
    """The server is killed mid-level and restarted on the same port: the
    requests sent while it is down fail as connect errors (those in flight
    at the kill as reset or cut), the level goes on, the ones after the
    restart succeed again; the run ends normally (exit 0)."""
    # Open loop at 50 requests/s: the outage costs a bounded number of
    # requests, and --max-requests ends the level with none in flight.
    rc, log, url = run_through_outage(ctx, ["--profile", "constant", "--levels", "50",
                                            "--duration", "60s", "--max-requests", "150",
                                            "--output-tokens", "10"], 0.6)
    port = int(url.rsplit(":", 1)[1])
    assert rc == 0, f"exit {rc}:\n{log}"
    bench, recs = load_results(ctx)
    assert len(recs) == 150 and not bench["llmsweep"]["interrupted"], len(recs)
    stats = mock_stats(url)
    # In send order: successes, then the outage's errors, then successes
    # again, exactly as many as the restarted server completed.
    recs.sort(key=lambda x: x["send_ns"])
    outcomes = "".join("o" if x["outcome"] == "successful" else "e" for x in recs)
    before = len(outcomes) - len(outcomes.lstrip("o"))
    after = len(outcomes) - len(outcomes.rstrip("o"))
    outage = recs[before:len(recs) - after]
    assert before > 0 and after > 0 and outage, outcomes
    assert all(x["outcome"] == "errored" for x in outage), \
        f"a success in the middle of the outage: {outcomes}"
    classes = {x["error"] for x in outage}
    assert "connect" in classes and classes <= {"connect", "reset", "stream_cut"}, classes
    assert after == stats["requests"]["completed"] == stats["requests"]["total"], (after, stats)
    for x in outage:
        if x["error"] == "connect":
            assert x["message"] == f"connection to 127.0.0.1:{port} refused: is the server " \
                                   "running and is the port right?", x
    assert f"constant 50: {before + after} ok, {len(outage)} errors, 0 incomplete" in log, log


def test_endpoint_dies_mid_level_closed_loop(ctx):
    """The same outage under the default (concurrent) profile, where a slot
    is refilled as soon as its request fails: once a whole round of requests
    (at least 4) has failed, new ones wait (10 ms doubling to 1 s) until one
    succeeds, so an outage costs a few dozen error records, not ten thousand
    a second; after the restart the streams come back."""
    rc, log, url = run_through_outage(ctx, ["--levels", "4", "--duration", "4s",
                                            "--output-tokens", "10"], 1)
    assert rc == 0, f"exit {rc}:\n{log}"
    bench, recs = load_results(ctx)
    recs.sort(key=lambda x: x["send_ns"])
    errors = [x for x in recs if x["outcome"] == "errored"]
    classes = {x["error"] for x in errors}
    assert errors and classes <= {"connect", "reset", "stream_cut"}, brief(errors)
    # 1 s down at 4 streams: 10+20+...+640 ms of pauses, 4 requests a round.
    assert len(errors) <= 60, f"{len(errors)} error records for a 1 s outage"
    last_error = max(x["send_ns"] for x in errors)
    after = [x for x in recs if x["send_ns"] > last_error]
    completed = mock_stats(url)["requests"]["completed"]
    ok_after = count(after, "successful")
    assert ok_after > 0, f"no success after the restart: {brief(after)}"
    assert ok_after <= completed <= ok_after + count(after, "incomplete"), (ok_after, completed)
    assert f"concurrent 4: {count(recs, 'successful')} ok, {len(errors)} errors" in log, log


def tls_mock(ctx, cert, name):
    url = ctx.mock_server("--model", "m", "--ttft-ms", "1", "--itl-ms", "1", "--output-tokens", "4",
                          "--tls-cert", cert["pem"], "--tls-key", cert["key"], name=name)
    return int(url.rsplit(":", 1)[1])


def test_tls_failures(ctx):
    """Each way TLS can fail stops the run at preflight with one line that
    says what is wrong and how to fix it (exit 1, nothing written); with the
    right CA the same server is benchmarked."""
    ca = ctx.make_ca()
    good = tls_mock(ctx, ctx.make_cert(ca, "localhost"), "mock-tls")
    other = tls_mock(ctx, ctx.make_cert(ca, "other.example"), "mock-other-host")
    expired = tls_mock(ctx, ctx.make_cert(ca, "localhost", expired=True), "mock-expired")
    plain = ctx.mock_server("--model", "m", name="mock-plain")
    plain_port = int(plain.rsplit(":", 1)[1])
    trust = ["--set", f"ca_file={ca['pem']}"]
    cases = [
        ("unknown CA", f"https://localhost:{good}", [],
         f"preflight: TLS: the certificate of localhost:{good} is not signed by a trusted CA: "
         "set ca_file in the spec (or --set ca_file=FILE) to the CA that issued it"),
        ("host name", f"https://localhost:{other}", trust,
         f"preflight: TLS: the certificate of localhost:{other} was issued for another host "
         "name: use the name the certificate names, or fix the certificate"),
        ("expired", f"https://localhost:{expired}", trust,
         f"preflight: TLS: the certificate of localhost:{expired} has expired: renew it on the "
         "server"),
        ("https to a plain server", f"https://localhost:{plain_port}", trust,
         f"preflight: TLS handshake with localhost:{plain_port} failed: "),
        ("plain http to a TLS server", f"http://localhost:{good}", trust,
         f"preflight: localhost:{good} closed or reset the connection: "),
    ]
    for label, url, extra, message in cases:
        out = label.replace(" ", "-")
        r = run(ctx, url, "--levels", "1", "--duration", "1s", *extra, out=out)
        assert r.returncode == 1, f"{label}: {r}"
        assert message in r.stderr, f"{label}: expected {message!r} in:\n{r.stderr}"
        errors = [line for line in r.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1, f"{label}: expected one error line:\n{r.stderr}"
        assert not os.path.exists(ctx.path(out)), f"{label}: results written"
    r = run(ctx, f"https://localhost:{good}", "--levels", "2", "--duration", "1s",
            "--max-requests", "10", "--output-tokens", "4", *trust, out="ok")
    assert r.returncode == 0, r
    _, recs = load_results(ctx, "ok")
    assert count(recs, "successful") == 10, recs


# --- servers that misbehave in ways the mock does not ------------------------------

def test_server_that_accepts_and_never_answers(ctx):
    """The server takes the request and says nothing. Without a request
    timeout the requests are cut at the level's end (incomplete); with one
    they fail as timeouts. Either way the run ends at its deadline, exit 1,
    and the results say what happened."""
    release = threading.Event()
    server = Server(lambda h: release.wait(60))
    try:
        r = run(ctx, server.url, "--levels", "3", "--duration", "1s", out="no-timeout")
        assert r.returncode == 1, r
        assert "error: no request completed: the endpoint sent no response to any of the 3 " \
               "requests before its level ended; is the server hung? (load.request_timeout " \
               "makes such requests fail as timeouts)" in r.stderr, r
        _, recs = load_results(ctx, "no-timeout")
        assert [x["outcome"] for x in recs] == ["incomplete"] * 3, recs
        assert all(x["first_byte_ns"] == -1 for x in recs), brief(recs)  # not a byte came

        r = run(ctx, server.url, "--levels", "2", "--duration", "1.5s", "--set",
                "load.request_timeout=400ms", out="timeout")
        assert r.returncode == 1, r
        port = server.httpd.server_port
        message = f"127.0.0.1:{port} sent no response within 0.4 s"
        assert f"error: no request succeeded (" in r.stderr and message in r.stderr, r
        _, recs = load_results(ctx, "timeout")
        timeouts = [x for x in recs if x["outcome"] == "errored"]
        assert len(timeouts) >= 4 and all(x["error"] == "timeout" for x in timeouts), recs
        assert all(x["message"] == message for x in timeouts), timeouts[0]
        assert count(recs, "successful") == 0, recs

        # At preflight too: a request timeout bounds GET /models as well.
        server.close()
        server = Server(lambda h: None, models=lambda h: release.wait(60))
        r = run(ctx, server.url, "--levels", "1", "--duration", "1s", "--set",
                "load.request_timeout=400ms", out="preflight")
        assert r.returncode == 1, r
        port = server.httpd.server_port
        assert f"preflight: 127.0.0.1:{port} sent no response within 0.4 s" in r.stderr, r
        assert not os.path.exists(ctx.path("preflight")), os.listdir(ctx.path("preflight"))
    finally:
        release.set()
        server.close()


def endless(h, gap_s=0):
    """200, then content events forever (every gap_s, or as fast as the
    socket takes them): never a finish, never [DONE]."""
    sse_headers(h)
    batch = event("tok ") * (1 if gap_s else 512)
    while True:
        send_chunk(h, batch)
        if gap_s:
            time.sleep(gap_s)


def brief(recs, n=2):
    """The first records, without their chunk timestamps, for messages."""
    return [{k: v for k, v in x.items() if k != "chunk_ms"} for x in recs[:n]]


def test_endless_stream(ctx):
    """A server that streams forever (max_tokens ignored). A slow one: the
    streams are cut at the level's deadline (incomplete), or fail at the
    request timeout. A fast one: each stream fails once it has gone far past
    its length (65536 content events here) and memory stays bounded however
    long the level (the failed stream's timestamps are not kept)."""
    slow = Server(lambda h: endless(h, 0.01))
    fast = Server(endless)
    try:
        r = run(ctx, slow.url, "--levels", "2", "--duration", "1s", out="slow")
        assert r.returncode == 1, r
        assert "error: no request completed: every one was still running when its level " \
               "ended; make the levels longer than a request takes (--duration)" in r.stderr, r
        _, recs = load_results(ctx, "slow")
        assert [x["outcome"] for x in recs] == ["incomplete"] * 2, brief(recs)
        assert all(x["chunks"] > 10 for x in recs), brief(recs)

        r = run(ctx, slow.url, "--levels", "2", "--duration", "1.5s", "--set",
                "load.request_timeout=300ms", out="timeout")
        assert r.returncode == 1, r
        message = f"the response from 127.0.0.1:{slow.httpd.server_port} did not complete " \
                  "within 0.3 s"
        _, recs = load_results(ctx, "timeout")
        errors = [x for x in recs if x["outcome"] == "errored"]
        assert len(errors) >= 4, brief(recs)
        assert all(x["error"] == "timeout" and x["message"] == message for x in errors), \
            brief(errors)

        r = run(ctx, fast.url, "--levels", "2", "--duration", "3s", "--output-tokens", "16",
                out="fast")
        assert r.returncode == 1, r
        message = "the stream went on past 65536 content events for 16 output tokens asked: " \
                  "the server does not stop at max_tokens"
        assert f"no request succeeded (" in r.stderr and message in r.stderr, r
        bench, recs = load_results(ctx, "fast")
        errors = [x for x in recs if x["outcome"] == "errored"]
        assert len(errors) >= 2, brief(recs)
        assert all(x["error"] == "malformed" and x["message"] == message for x in errors), \
            brief(errors)
        assert all(x["chunks"] == 65536 and x["chunk_ms"] == [] for x in errors), brief(errors)
        assert count(recs, "incomplete") == len(recs) - len(errors) <= 2, brief(recs)
        assert bench["benchmarks"][0]["duration"] < 10, bench["benchmarks"][0]["duration"]
        assert r.peak_kib < memory_bound(ctx, 48 * 1024), f"peak memory {r.peak_kib} KiB"
    finally:
        slow.close()
        fast.close()


HUNDRED_MB = 100 << 20


def huge_line(h):
    """200, then one 100 MB "data:" line."""
    sse_headers(h)
    send_chunk(h, b"data: ")
    block = b"x" * (1 << 20)
    for _ in range(HUNDRED_MB >> 20):
        send_chunk(h, block)
    send_chunk(h, b"\n\n")


def test_hundred_megabyte_line(ctx):
    """One 100 MB line: the SSE parser stops at its 1 MiB event cap and fails
    the request as malformed; the client never holds the 100 MB. A 100 MB
    model list stops preflight at 16 MiB."""
    server = Server(huge_line)
    try:
        r = run(ctx, server.url, "--levels", "1", "--duration", "5s", "--max-requests", "3",
                out="line")
        assert r.returncode == 1, r
        message = "malformed SSE line: an event longer than 1048576 bytes"
        assert f"no request succeeded (3 errors; the first: {message})" in r.stderr, r
        _, recs = load_results(ctx, "line")
        assert all(x["error"] == "malformed" and x["message"] == message for x in recs), recs
        assert r.peak_kib < memory_bound(ctx, 48 * 1024), \
            f"peak memory {r.peak_kib} KiB for a 1 MiB cap"
    finally:
        server.close()
    # The same in the answer to preflight's GET /models: it stops at 16 MiB.
    server = Server(lambda h: None, models=huge_models)
    try:
        r = run(ctx, server.url, "--levels", "1", "--duration", "1s", out="models")
        assert r.returncode == 1, r
        assert f"error: preflight: the response from 127.0.0.1:{server.httpd.server_port} is " \
               "larger than 16777216 bytes, the most this request takes" in r.stderr, r
        assert r.peak_kib < memory_bound(ctx, 64 * 1024), \
            f"peak memory {r.peak_kib} KiB for a 16 MiB cap"
        assert not os.path.exists(ctx.path("models")), os.listdir(ctx.path("models"))
    finally:
        server.close()


def huge_models(h):
    """A 100 MB answer to GET /v1/models."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(HUNDRED_MB))
    h.end_headers()
    block = b" " * (1 << 20)
    for _ in range(HUNDRED_MB >> 20):
        h.wfile.write(block)


# Bytes that are not UTF-8: a lone continuation byte, 0xFF, a truncated
# three-byte sequence. And text whose cut at a byte count splits a character.
BAD = b"\x80 \xff\xfe \xe2\x82"
ACCENTS = "\u00e9".encode() * 400


def invalid_utf8(h):
    """Cycles through every place a server's bytes reach the results."""
    variant = (h.n - 1) % 7
    if variant in (1, 5):  # an HTTP error whose message is not UTF-8 / is cut mid-character
        message = BAD if variant == 1 else ACCENTS
        body = b'{"object":"error","message":"' + message + b'","code":500}'
        h.send_response(500)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
        return
    sse_headers(h)
    if variant == 0:  # content and finish_reason that are not UTF-8; the request succeeds
        send_chunk(h, b'data: {"choices":[{"index":0,"delta":{"content":"a' + BAD + b'"}}]}\n\n')
        send_chunk(h, b'data: {"choices":[{"index":0,"delta":{"content":"b"},"finish_reason":"'
                   b'len' + BAD + b'"}]}\n\n')
        send_chunk(h, b'data: {"choices":[],"usage":{"prompt_tokens":8,"completion_tokens":2}}'
                   b'\n\ndata: [DONE]\n\n')
    elif variant == 2:  # an event that is not JSON, with bytes that are not UTF-8
        send_chunk(h, b'data: {"choices":[' + BAD + b"\n\n")
    elif variant == 3:  # a line that is not SSE
        send_chunk(h, BAD + b" not sse\n\n")
    elif variant == 4:  # an error event
        send_chunk(h, b'data: {"error":{"message":"overloaded ' + BAD + b'"}}\n\n')
    elif variant == 6:  # an event that is not JSON, cut at 80 bytes mid-character
        send_chunk(h, b'data: {"xy":"' + ACCENTS + b"\n\n")
    send_chunk(h, b"")


def test_invalid_utf8_from_the_server(ctx):
    """Content, finish_reason, error messages and malformed lines that are
    not UTF-8 (or are cut in the middle of a character): the results files
    stay valid UTF-8 JSON, with U+FFFD where the server's bytes were not
    text (a malformed SSE line shows them as \\xNN); every request is
    classified as usual."""
    server = Server(invalid_utf8)
    try:
        r = run(ctx, server.url, "--levels", "1", "--duration", "10s", "--max-requests", "14",
                "--output-tokens", "2", out="utf8")
        assert r.returncode == 0, r
        bench, recs = load_results(ctx, "utf8")
        recs.sort(key=lambda x: x["id"])
        assert len(recs) == 14, brief(recs, 14)
        expected = ["none", "http", "malformed", "malformed", "http", "http", "malformed"] * 2
        assert [x["error"] for x in recs] == expected, brief(recs, 14)
        ok = recs[0]
        assert ok["outcome"] == "successful" and ok["output_tokens"] == 2, ok
        assert ok["finish_reason"] == "len\ufffd \ufffd\ufffd \ufffd", ok
        assert recs[1]["message"] == "HTTP 500: \ufffd \ufffd\ufffd \ufffd", recs[1]
        assert "\ufffd" in recs[2]["message"], recs[2]
        # a malformed SSE line is named in printable ASCII, its bad bytes as \xNN
        assert recs[3]["message"] == "malformed SSE line: \\x80 \\xff\\xfe \\xe2\\x82 not sse", \
            recs[3]
        assert recs[4]["message"] == "error event in the stream: overloaded \ufffd \ufffd\ufffd " \
                                     "\ufffd", recs[4]
        # Cut at a byte count: where a character ends, or the half marked.
        message = recs[5]["message"]
        assert message.startswith("HTTP 500: \u00e9") and set(message[10:]) == {"\u00e9"}, message
        assert len(message.encode()) <= 300, message
        cut = 'invalid JSON in an event: {"xy":"' + "\u00e9" * 36 + "\ufffd"
        assert recs[6]["message"] == cut, recs[6]
    finally:
        server.close()


# --- the disk --------------------------------------------------------------------

def file_size_limit(limit):
    """preexec_fn: writes past `limit` bytes fail with EFBIG, as on a full
    disk (SIGXFSZ ignored so write() returns the error instead of the
    signal killing the process)."""
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return apply


def snapshot(folder):
    out = {}
    for name in os.listdir(folder):
        with open(os.path.join(folder, name), "rb") as f:
            out[name] = f.read()
    return out


def test_disk_full_while_writing_results(ctx):
    """The results cannot be written (file too large, no space): the error
    names the file and the reason, exit 1; files are replaced atomically, so
    each one is the new run's complete file or the old one untouched (never
    a partial file, never a temporary one left); the completion marker is
    gone, so `wait` does not take the old results for the new."""
    url = ctx.mock_server("--model", "m", "--ttft-ms", "0", "--itl-ms", "0", "--output-tokens", "4")
    args = ["--levels", "4", "--duration", "60s", "--max-requests", "400", "--output-tokens", "4"]
    r = run(ctx, url, *args)
    assert r.returncode == 0, r
    old = snapshot(ctx.path("out"))
    old_id = json.loads(old["benchmarks.json"])["llmsweep"]["run_id"]
    # benchmarks.json is about 50 KB and requests.jsonl about 200 KB: a
    # limit under the first fails the first file, one between them the second.
    assert len(old["benchmarks.json"]) > 16 << 10 and len(old["requests.jsonl"]) > 150 << 10, \
        {k: len(v) for k, v in old.items()}
    for limit, failing in [(8 << 10, "benchmarks.json"), (120 << 10, "requests.jsonl")]:
        r = run(ctx, url, *args, preexec_fn=file_size_limit(limit))
        assert r.returncode == 1, f"limit {limit}: {r}"
        message = f"error: cannot write {ctx.path('out', failing)}: File too large"
        assert message in r.stderr, f"limit {limit}: expected {message!r}:\n{r.stderr}"
        now = snapshot(ctx.path("out"))
        assert not [f for f in now if ".tmp-" in f], f"limit {limit}: {list(now)}"
        assert "benchmarks.json.complete" not in now, f"limit {limit}: the old marker is there"
        assert now[failing] == old[failing], f"limit {limit}: {failing} changed"
        _, bench = read_json_strict(ctx.path("out", "benchmarks.json"))
        if failing == "requests.jsonl":  # written before the failure: the new run's, whole
            assert bench["llmsweep"]["run_id"] != old_id, "benchmarks.json was not rewritten"
            assert bench["benchmarks"][0]["metrics"]["request_totals"]["successful"] == 400, bench
        assert now["report.html"] == old["report.html"], "report.html written after a failure"

    # No space left: the same, with ENOSPC (/dev/full in place of the file).
    os.makedirs(ctx.path("full"))
    os.symlink("/dev/full", ctx.path("full", "benchmarks.json"))
    r = run(ctx, url, *args, out="full")
    assert r.returncode == 1, r
    assert f"error: cannot write {ctx.path('full', 'benchmarks.json')}: No space left on " \
           "device" in r.stderr, r
    assert sorted(os.listdir(ctx.path("full"))) == ["benchmarks.json"], os.listdir(ctx.path("full"))

    # A real full file system, where one can be mounted (root).
    mnt = ctx.path("tmpfs")
    os.makedirs(mnt)
    mount = ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", mnt]
    mounted = os.geteuid() == 0 and subprocess.run(mount, capture_output=True).returncode == 0
    if not mounted:
        print("    note: the tmpfs part needs root and mount(8); the file-size limit and "
              "/dev/full parts ran")
        return
    try:
        r = run(ctx, url, *args, out="tmpfs/out")
        assert r.returncode == 1, r
        assert f"error: cannot write {ctx.path('tmpfs', 'out', 'requests.jsonl')}: No space left " \
               "on device" in r.stderr, r
        left = sorted(os.listdir(ctx.path("tmpfs", "out")))
        assert left == ["benchmarks.json"], left
        read_json_strict(ctx.path("tmpfs", "out", "benchmarks.json"))
    finally:
        subprocess.run(["umount", mnt])


# --- signals ---------------------------------------------------------------------

SIGTERM_SEED = 20261128
SIGTERM_RUNS = 24


def test_sigterm_at_random_moments(ctx):
    """SIGTERM at a random moment of a run's life (start-up, preflight, a
    level, between levels, writing the outputs), many times over:

    - before the sweep starts (start-up, preflight), the signal ends the
      process at once, as it would any program: exit 143, nothing written
      (nothing was measured; an earlier run's files are left as they were);
    - once the sweep has started: exit 3, and the results say interrupted,
      with every request that completed kept (the server's count agrees);
    - after the last level: the run is complete, exit 0.
    """
    rng = random.Random(SIGTERM_SEED)
    url = ctx.mock_server("--model", "m", "--ttft-ms", "1", "--itl-ms", "1", "--output-tokens", "4")
    seen = {}
    for i in range(SIGTERM_RUNS):
        # The first at once (start-up), a third in the first 20 ms (start-up,
        # preflight), the others across the two levels and the writing.
        early = i == 0 or rng.random() < 0.33
        delay = 0 if i == 0 else rng.uniform(0, 0.02) if early else rng.uniform(0.02, 1.3)
        where = f"run {i} (seed {SIGTERM_SEED}, SIGTERM after {delay * 1000:.1f} ms)"
        mock_stats(url, reset=True)
        out = f"out{i}"
        with open(ctx.path(f"sigterm{i}.log"), "w+") as log:
            proc = subprocess.Popen(run_args(ctx, url, out, "--levels", "4,8", "--duration",
                                             "0.5s", "--output-tokens", "4", quiet=False),
                                    stdout=log, stderr=subprocess.STDOUT, cwd=ctx.tmp)
            time.sleep(delay)
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise AssertionError(f"{where}: still running 30 s after SIGTERM")
            log.seek(0)
            text = log.read()
        stats = mock_stats(url)
        seen[rc] = seen.get(rc, 0) + 1
        if rc == -signal.SIGTERM:
            assert not os.path.exists(ctx.path(out, "benchmarks.json")), where
            assert stats["requests"]["total"] == 0, f"{where}: killed after sending: {stats}"
            continue
        assert rc in (0, 3), f"{where}: exit {rc}:\n{text}"
        bench, recs = load_results(ctx, out)
        interrupted = bench["llmsweep"]["interrupted"]
        assert interrupted == (rc == 3), f"{where}: exit {rc} but interrupted={interrupted}"
        levels = bench["benchmarks"]
        if rc == 3:
            assert "Terminated: stopping the sweep and writing what was measured" in text, \
                f"{where}:\n{text}"
            last = levels[-1]["llmsweep"]
            assert last["abort_reason"] == "interrupted", f"{where}: {last}"
            assert all(not b["llmsweep"]["aborted"] for b in levels[:-1]), where
        else:
            assert len(levels) == 2, f"{where}: complete with {len(levels)} levels"
            assert "stopping the sweep" not in text, f"{where}: a finished sweep is not stopped:\n{text}"
            if "Terminated" in text:  # came after the last level, before the process ended
                assert "Terminated: the sweep had finished; writing the results (send it again " \
                       "to exit at once)" in text, f"{where}:\n{text}"
        ok, incomplete = count(recs, "successful"), count(recs, "incomplete")
        completed = stats["requests"]["completed"]
        # Each success the client kept, the server completed; what the server
        # completed and the client did not see end was cut (incomplete).
        assert ok <= completed <= ok + incomplete, \
            f"{where}: {ok} successful + {incomplete} incomplete records, " \
            f"the server completed {completed}"
        assert stats["requests"]["total"] <= len(recs), f"{where}: {len(recs)} records, {stats}"
        errored = [x for x in recs if x["outcome"] == "errored"]
        assert not errored, f"{where}: {brief(errored)}"
    print(f"    exits: {seen}")
    # The seed must reach each kind of moment, or the test tests less than it says.
    assert seen.get(-signal.SIGTERM) and seen.get(3), f"exits seen: {seen}"


def test_sigterm_while_results_are_written(ctx):
    """A signal after the last level, while the results are written (tens of
    thousands of records take a moment): the writing finishes and the run
    is complete (exit 0); a second signal then exits at once (143), leaving
    no completion marker."""
    url = ctx.mock_server("--model", "m", "--ttft-ms", "0", "--itl-ms", "0", "--output-tokens", "2")
    for signals in (1, 2):
        out = f"out{signals}"
        proc = ctx.start(run_args(ctx, url, out, "--levels", "64", "--duration", "2s",
                                  "--output-tokens", "2", quiet=False), name=f"run{signals}")
        ctx.wait_for_log(proc, r"concurrent 64: \d+ ok")  # the sweep is over; writing begins
        proc.send_signal(signal.SIGTERM)
        ctx.wait_for_log(proc, r"Terminated: the sweep had finished; writing the results \(send "
                               r"it again to exit at once\)")
        if signals == 2:
            proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
        with open(proc.log_path) as f:
            log = f.read()
        if signals == 1:
            assert rc == 0, f"exit {rc}:\n{log}"
            bench, recs = load_results(ctx, out)
            assert not bench["llmsweep"]["interrupted"] and len(recs) > 1000, len(recs)
        else:
            assert rc == 128 + signal.SIGTERM, f"exit {rc}: the second signal was not acted on"
            assert "second signal: exiting now, results not written" in log, log
            assert not os.path.exists(ctx.path(out, "benchmarks.json.complete"))
            # The handler removes the file being written (a narrow window
            # here, where rendering takes the time; fsync on a slow volume
            # makes it wide).
            leftovers = [f for f in os.listdir(ctx.path(out)) if ".tmp-" in f]
            assert not leftovers, f"the file being written was left: {leftovers}"
