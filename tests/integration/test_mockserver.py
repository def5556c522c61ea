"""Issue 4: `llmsweep mock-server` driven by Debian's curl CLI: vLLM's SSE framing,
usage and finish reasons, errors, every fault, stats, stamps, TLS, signals."""
import json
import math
import os
import signal
import subprocess
import threading

import testlib

MODEL = "mock-7b"


def start_mock(ctx, *extra, name="mock"):
    """Starts the mock on a free port; returns (proc, base URL). `extra` options
    replace the defaults given here."""
    options = {"--port": "0", "--model": MODEL, "--ttft-ms": "20", "--itl-ms": "2",
               "--output-tokens": "16"}
    argv = [ctx.bin, "mock-server"]
    extra = [str(e) for e in extra]
    for key, value in zip(extra[::2], extra[1::2]):
        options[key] = value
    for key, value in options.items():
        argv += [key, value]
    proc = ctx.start(argv, name=name)
    url = ctx.wait_for_log(proc, r"listening on (https?://\S+)\n").group(1)
    return proc, url


def curl(ctx, url, *args, body=None, check=True, timeout=60):
    testlib.require_tool("curl", "Debian package curl")
    argv = ["curl", "-sS", "-N"] + list(args)
    if body is not None:
        argv += ["-H", "Content-Type: application/json",
                 "--data-binary", body if isinstance(body, str) else json.dumps(body)]
    # Bytes, not text mode: text mode would turn the CRLFs we check into LFs.
    r = subprocess.run(argv + [url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, cwd=ctx.tmp)
    r.stdout, r.stderr = r.stdout.decode(), r.stderr.decode(errors="replace")
    if check:
        assert r.returncode == 0, f"curl {url} exited {r.returncode}: {r.stderr}"
    return r


def status_and_body(ctx, url, *args, body=None):
    r = curl(ctx, url, "-w", "\n%{http_code}", *args, body=body)
    text, _, code = r.stdout.rpartition("\n")
    return int(code), text


def sse_events(text):
    """Splits an SSE body into its events' lines; every event must be one data: line."""
    assert text.endswith("\n\n"), f"the stream does not end with a blank line: {text[-80:]!r}"
    events = text[:-2].split("\n\n")
    for e in events:
        assert e.startswith("data: ") and "\n" not in e, f"not one data: line: {e!r}"
    return [e[len("data: "):] for e in events]


def stream(ctx, url, api, body, *args):
    r = curl(ctx, f"{url}/v1/{api}", *args, body=dict(body, stream=True))
    events = sse_events(r.stdout)
    assert events[-1] == "[DONE]", events[-3:]
    return [json.loads(e) for e in events[:-1]]


def prompt_tokens(text):
    return math.ceil(len(text.encode()) / 4)


def test_completions_stream_framing_and_usage(ctx):
    proc, url = start_mock(ctx)
    prompt = "Tell me about the sea, in detail, please. \u00e9t\u00e9"
    # --raw shows the chunked transfer coding: one HTTP chunk per SSE event, like uvicorn.
    raw = curl(ctx, f"{url}/v1/completions", "--raw", "-i",
               body={"model": MODEL, "prompt": prompt, "max_tokens": 5, "stream": True,
                     "stream_options": {"include_usage": True}}).stdout
    head, _, chunked = raw.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200 OK\r\n"), head
    assert "content-type: text/event-stream; charset=utf-8" in head.lower(), head
    assert "transfer-encoding: chunked" in head.lower(), head
    pos, chunks = 0, []
    while True:
        line_end = chunked.index("\r\n", pos)
        size = int(chunked[pos:line_end], 16)
        data = chunked[line_end + 2:line_end + 2 + size]
        assert chunked[line_end + 2 + size:line_end + 4 + size] == "\r\n"
        pos = line_end + 4 + size
        if size == 0:
            break
        chunks.append(data)
    assert pos == len(chunked), f"bytes after the last chunk: {chunked[pos:]!r}"
    assert all(c.startswith("data: ") and c.endswith("\n\n") for c in chunks), chunks
    assert chunks[-1] == "data: [DONE]\n\n"
    events = [json.loads(c[6:]) for c in chunks[:-1]]
    tokens, usage = events[:-1], events[-1]
    assert len(tokens) == 5
    ids = {e["id"] for e in events}
    assert len(ids) == 1 and ids.pop().startswith("cmpl-")
    for i, e in enumerate(tokens):
        assert list(e) == ["id", "object", "created", "model", "choices"], list(e)
        assert e["object"] == "text_completion" and e["model"] == MODEL
        (choice,) = e["choices"]
        assert choice["index"] == 0 and choice["logprobs"] is None
        assert len(choice["text"].encode()) == 4
        assert choice["finish_reason"] == ("length" if i == 4 else None)
        assert choice["stop_reason"] is None
    assert usage["choices"] == []
    assert usage["usage"] == {"prompt_tokens": prompt_tokens(prompt), "total_tokens":
                              prompt_tokens(prompt) + 5, "completion_tokens": 5}
    assert "mock_sent_ns" not in raw


def test_chat_stream_role_first_and_list_content(ctx):
    proc, url = start_mock(ctx)
    parts = [{"type": "text", "text": "You are terse."}, {"type": "text", "text": "Hi there"}]
    body = {"model": MODEL, "messages": [{"role": "user", "content": parts}],
            "max_completion_tokens": 3, "ignore_eos": True,
            "stream_options": {"include_usage": True, "continuous_usage_stats": True}}
    events = stream(ctx, url, "chat/completions", body)
    role, tokens, usage = events[0], events[1:-1], events[-1]
    assert role["object"] == "chat.completion.chunk" and role["id"].startswith("chatcmpl-")
    assert role["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert len(tokens) == 3
    expected_prompt = prompt_tokens("You are terse.Hi there")
    for i, e in enumerate(tokens, 1):
        delta = e["choices"][0]["delta"]
        assert list(delta) == ["content"] and len(delta["content"]) == 4
        assert e["usage"]["completion_tokens"] == i  # continuous usage
        assert e["usage"]["prompt_tokens"] == expected_prompt
    assert [e["choices"][0]["finish_reason"] for e in tokens] == [None, None, "length"]
    assert usage["usage"]["completion_tokens"] == 3
    # The string form of content counts the same.
    body["messages"] = [{"role": "system", "content": "You are terse."},
                        {"role": "user", "content": "Hi there"}]
    assert stream(ctx, url, "chat/completions", body)[-1]["usage"]["prompt_tokens"] == \
        expected_prompt


def test_finish_reasons_follow_max_tokens_and_ignore_eos(ctx):
    proc, url = start_mock(ctx)  # "EOS" after 16 tokens
    cases = [({}, 16, "stop"), ({"max_tokens": 4}, 4, "length"),
             ({"max_tokens": 40}, 16, "stop"), ({"max_tokens": 40, "ignore_eos": True}, 40, "length"),
             ({"max_tokens": 16}, 16, "length")]
    for extra, n, reason in cases:
        body = dict({"prompt": "abc", "stream_options": {"include_usage": True}}, **extra)
        events = stream(ctx, url, "completions", body)
        tokens = [e for e in events if e["choices"]]
        assert len(tokens) == n, (extra, len(tokens))
        assert tokens[-1]["choices"][0]["finish_reason"] == reason, extra
        assert events[-1]["usage"]["completion_tokens"] == n, extra
    # Without include_usage there is no usage event at all.
    events = stream(ctx, url, "completions", {"prompt": "abc", "max_tokens": 2})
    assert len(events) == 2 and all("usage" not in e for e in events)


def test_non_streaming_responses(ctx):
    proc, url = start_mock(ctx)
    code, text = status_and_body(ctx, f"{url}/v1/completions",
                                 body={"prompt": [1, 2, 3], "max_tokens": 6})
    assert code == 200, text
    doc = json.loads(text)
    assert doc["object"] == "text_completion"
    assert len(doc["choices"][0]["text"].encode()) == 4 * 6
    assert doc["usage"] == {"prompt_tokens": 3, "total_tokens": 9, "completion_tokens": 6}
    code, text = status_and_body(ctx, f"{url}/v1/chat/completions",
                                 body={"messages": [{"role": "user", "content": "hey"}]})
    doc = json.loads(text)
    assert doc["object"] == "chat.completion", doc
    msg = doc["choices"][0]["message"]
    assert msg["role"] == "assistant" and len(msg["content"]) == 4 * 16
    assert doc["choices"][0]["finish_reason"] == "stop"


def test_health_models_and_http_errors(ctx):
    proc, url = start_mock(ctx, "--max-model-len", "2048")
    assert status_and_body(ctx, f"{url}/health") == (200, "")
    code, text = status_and_body(ctx, f"{url}/v1/models")
    doc = json.loads(text)
    assert code == 200 and doc["object"] == "list"
    (m,) = doc["data"]
    assert (m["id"], m["object"], m["root"], m["max_model_len"]) == (MODEL, "model", MODEL, 2048)
    assert isinstance(m["created"], int) and m["owned_by"]

    def error(path, body, status, message, kind="BadRequestError"):
        code, text = status_and_body(ctx, f"{url}{path}", body=body)
        assert code == status, (path, body, code, text)
        doc = json.loads(text)
        assert doc == {"object": "error", "message": doc["message"], "type": kind,
                       "param": None, "code": status}, doc
        assert message in doc["message"], doc["message"]

    code, text = status_and_body(ctx, f"{url}/v1/completions",
                                 body={"model": "nope", "prompt": "x"})
    assert code == 404
    assert json.loads(text) == {"object": "error", "message": "The model `nope` does not exist.",
                                "type": "NotFoundError", "param": None, "code": 404}
    error("/v1/completions", '{"prompt": "x",', 400, "Invalid JSON")
    error("/v1/completions", {"model": MODEL}, 400, "'prompt' is required")
    error("/v1/chat/completions", {"model": MODEL, "prompt": "x"}, 400, "'messages' is required")
    error("/v1/completions", {"prompt": "x", "max_tokens": 4000}, 400,
          "maximum context length is 2048 tokens")
    assert status_and_body(ctx, f"{url}/v1/completions") == (405, '{"detail":"Method Not Allowed"}')
    assert status_and_body(ctx, f"{url}/v1/models", "-X", "POST") == \
        (405, '{"detail":"Method Not Allowed"}')
    assert status_and_body(ctx, f"{url}/v2/nothing") == (404, '{"detail":"Not Found"}')
    stats = json.loads(curl(ctx, f"{url}/mock/stats").stdout)
    assert stats["requests"]["rejected"] == 5 and stats["requests"]["total"] == 0, stats


def fault_mock(ctx, spec):
    return start_mock(ctx, "--faults", spec, name="mock-" + spec.split("@")[0])


STREAM_BODY = {"prompt": "abcd", "max_tokens": 10, "stream": True,
               "stream_options": {"include_usage": True}}


def test_fault_status_codes_every_nth(ctx):
    for status, kind in ((429, "RateLimitError"), (500, "InternalServerError"),
                         (503, "ServiceUnavailableError")):
        proc, url = fault_mock(ctx, f"{status}@every2")
        results = [status_and_body(ctx, f"{url}/v1/completions", body=STREAM_BODY)
                   for _ in range(4)]
        assert [c for c, _ in results] == [200, status, 200, status], results
        doc = json.loads(results[1][1])
        assert doc["object"] == "error" and doc["code"] == status and doc["type"] == kind, doc
        stats = json.loads(curl(ctx, f"{url}/mock/stats").stdout)
        assert stats["faults"][str(status)] == 2, stats
        assert stats["requests"] == dict(stats["requests"], total=4, completed=2, faulted=2)
        ctx.stop(proc)


def test_fault_reset_before_headers(ctx):
    proc, url = fault_mock(ctx, "reset@every1")
    r = curl(ctx, f"{url}/v1/completions", "-i", body=STREAM_BODY, check=False)
    # 56: "Connection reset by peer"; 52: empty reply (the RST raced the read)
    assert r.returncode in (52, 56), (r.returncode, r.stderr)
    assert r.stdout == "", r.stdout


def test_fault_reset_mid_stream(ctx):
    proc, url = fault_mock(ctx, "reset-mid=3@every1")
    r = curl(ctx, f"{url}/v1/completions", body=STREAM_BODY, check=False)
    assert r.returncode in (18, 56), (r.returncode, r.stderr)
    assert r.stdout.count("data: ") == 3 and "[DONE]" not in r.stdout, r.stdout


def test_fault_stall_after_headers(ctx):
    proc, url = fault_mock(ctx, "stall@every1")
    r = curl(ctx, f"{url}/v1/completions", "-i", "--max-time", "1.5", body=STREAM_BODY,
             check=False)
    assert r.returncode == 28, (r.returncode, r.stderr)  # timed out
    assert r.stdout.startswith("HTTP/1.1 200 OK") and "data:" not in r.stdout, r.stdout
    stats = json.loads(curl(ctx, f"{url}/mock/stats").stdout)
    assert stats["faults"]["stall"] == 1 and stats["requests"]["faulted"] == 1, stats
    assert stats["current_streams"] == 0, stats  # curl gave up: the stream is over


def test_fault_bad_sse_line(ctx):
    proc, url = fault_mock(ctx, "bad-sse=2@every1")
    r = curl(ctx, f"{url}/v1/completions", body=STREAM_BODY)
    events = r.stdout[:-2].split("\n\n")
    bad = [e for e in events if not e.startswith("data: ")]
    assert len(bad) == 1 and events.index(bad[0]) == 2, events
    assert json.loads(bad[0])["choices"][0]["text"]  # the payload, just no "data: "
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[-2][6:])["usage"]["completion_tokens"] == 10


def test_fault_bad_json_in_event(ctx):
    proc, url = fault_mock(ctx, "bad-json@every1")
    events = sse_events(curl(ctx, f"{url}/v1/completions", body=STREAM_BODY).stdout)
    broken = []
    for i, e in enumerate(events[:-1]):
        try:
            json.loads(e)
        except ValueError:
            broken.append(i)
    assert broken == [5], broken  # default: the middle of 10 tokens
    assert events[-1] == "[DONE]"


def test_fault_cut_without_done(ctx):
    proc, url = fault_mock(ctx, "cut=4@every1")
    r = curl(ctx, f"{url}/v1/completions", body=STREAM_BODY)  # a clean HTTP end: exit 0
    events = sse_events(r.stdout)
    assert len(events) == 4 and "[DONE]" not in events, events
    assert all("usage" not in json.loads(e) for e in events)


def test_fault_slow_headers(ctx):
    proc, url = fault_mock(ctx, "slow-headers=600ms@every1")
    r = curl(ctx, f"{url}/v1/completions", "-o", "/dev/null", "-w", "%{time_starttransfer}",
             body=STREAM_BODY)
    assert float(r.stdout) >= 0.6, r.stdout  # a lower bound only: no upper wall-clock check


def test_fault_spec_errors_are_usage_errors(ctx):
    r = ctx.llmsweep("mock-server", "--faults", "429@5%,stal@every2")
    assert r.returncode == 2, r
    assert "unknown fault 'stal'" in r.stderr and "did you mean 'stall'" in r.stderr, r.stderr
    r = ctx.llmsweep("mock-server", "--tls-cert", "x.pem")
    assert r.returncode == 2 and "--tls-key" in r.stderr, r.stderr
    r = ctx.llmsweep("mock-server", "--help")
    assert r.returncode == 0 and "reset-mid" in r.stdout and "every" in r.stdout


def test_stats_peak_equals_parallel_streams(ctx):
    proc, url = start_mock(ctx, "--ttft-ms", "300")
    body = json.dumps(STREAM_BODY)
    procs = [subprocess.Popen(["curl", "-sS", "-N", "-o", os.devnull, "--data-binary", body,
                               f"{url}/v1/completions"]) for _ in range(6)]
    assert [p.wait(timeout=30) for p in procs] == [0] * 6
    stats = json.loads(curl(ctx, f"{url}/mock/stats").stdout)
    assert stats["peak_streams"] == 6 and stats["current_streams"] == 0, stats
    assert stats["requests"]["completed"] == 6, stats
    assert stats["events_sent"] == 6 * 12, stats  # 10 tokens + usage + [DONE]
    stats = json.loads(curl(ctx, f"{url}/mock/stats", "-X", "DELETE").stdout)
    assert stats["peak_streams"] == 0 and stats["requests"]["total"] == 0, stats


def test_stamps_and_latency_model(ctx):
    # TTFT = 30 + 0.5 x 40 prompt tokens = 50 ms; ITL 5 ms.
    proc, url = start_mock(ctx, "--ttft-ms", "30", "--prefill-ms-per-token", "0.5",
                           "--itl-ms", "5")
    r = curl(ctx, f"{url}/v1/completions", "-i", "-H", "X-Mock-Stamp: 1",
             body=dict(STREAM_BODY, prompt="x" * 160))
    head, _, body = r.stdout.partition("\r\n\r\n")
    headers_ns = int(head.split("x-mock-headers-sent-ns: ")[1].split("\r\n")[0])
    stamps = [json.loads(e)["mock_sent_ns"] for e in sse_events(body)[:-1]]
    assert stamps == sorted(stamps)
    ttft_ms = (stamps[0] - headers_ns) / 1e6
    # Timers never fire early; a loaded machine fires them late, so only generous upper bounds.
    # (TTFT counts from the request's arrival, a few microseconds before the header stamp.)
    assert 49.9 <= ttft_ms < 50 * 2 + 10, ttft_ms
    assert all(b >= a for a, b in zip(stamps, stamps[1:]))
    # Each token is planned from the previous one's due time, so lateness does not add up.
    mean_itl = (stamps[-2] - stamps[0]) / 1e6 / 9
    assert 4.0 <= mean_itl < 10, mean_itl


def test_load_model_slows_streams_past_the_knee(ctx):
    # knee 1, slope 1: two concurrent streams run at twice the ITL.
    proc, url = start_mock(ctx, "--ttft-ms", "0", "--itl-ms", "10", "--load-knee", "1",
                           "--load-slope", "1")
    body = dict(STREAM_BODY, max_tokens=20)
    spans = []

    def one():
        r = curl(ctx, f"{url}/v1/completions", "-H", "X-Mock-Stamp: 1", body=body)
        stamps = [json.loads(e)["mock_sent_ns"] for e in sse_events(r.stdout)[:-1]]
        spans.append((stamps[-2] - stamps[0]) / 1e6 / 19)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    one()  # alone: 10 ms
    alone = spans.pop()
    assert all(s > 1.5 * alone for s in spans), (spans, alone)


def test_http10_and_expect_continue(ctx):
    proc, url = start_mock(ctx)
    r = curl(ctx, f"{url}/v1/completions", "-0", "-i", body=STREAM_BODY)
    head, _, body = r.stdout.partition("\r\n\r\n")
    assert "transfer-encoding" not in head.lower() and "connection: close" in head.lower(), head
    assert sse_events(body)[-1] == "[DONE]"
    r = curl(ctx, f"{url}/v1/completions", "-v", "-H", "Expect: 100-continue",
             body=dict(STREAM_BODY, prompt="y" * 5000))
    assert "< HTTP/1.1 100 Continue" in r.stderr, r.stderr
    assert sse_events(r.stdout)[-1] == "[DONE]"


def test_tls_with_test_ca(ctx):
    ca = ctx.make_ca()
    cert = ctx.make_cert(ca, "localhost")
    proc, url = start_mock(ctx, "--tls-cert", cert["pem"], "--tls-key", cert["key"], "--itl-ms", "0")
    assert url.startswith("https://127.0.0.1:"), url
    port = url.rsplit(":", 1)[1]
    events = stream(ctx, f"https://localhost:{port}", "completions", STREAM_BODY,
                    "--cacert", ca["pem"])
    assert events[-1]["usage"]["completion_tokens"] == 10
    # A body larger than one TLS record (16 KiB) goes out in several writes.
    r = curl(ctx, f"https://localhost:{port}/v1/completions", "--cacert", ca["pem"],
             body={"prompt": "x", "max_tokens": 6000, "ignore_eos": True})
    assert len(json.loads(r.stdout)["choices"][0]["text"]) == 4 * 6000
    # Keep-alive over TLS: two requests, one connection.
    r = curl(ctx, f"https://localhost:{port}/health", "--cacert", ca["pem"], "-w", "%{http_code}",
             "-o", os.devnull, f"https://localhost:{port}/health")
    assert r.stdout == "200200", r.stdout
    # Our own client (libcurl + mbedTLS) agrees.
    r = ctx.llmsweep("fetch", "--ca-file", ca["pem"], f"https://localhost:{port}/v1/models")
    assert r.returncode == 0 and json.loads(r.stdout)["data"][0]["id"] == MODEL, r
    # A client that does not trust the CA is refused.
    r = curl(ctx, f"https://localhost:{port}/health", check=False)
    assert r.returncode == 60, r


def test_tls_bad_key_file(ctx):
    ca = ctx.make_ca()
    cert = ctx.make_cert(ca, "localhost")
    r = ctx.llmsweep("mock-server", "--port", "0", "--tls-cert", cert["pem"], "--tls-key",
                     ca["pem"], timeout=10)
    assert r.returncode == 1, r
    assert "private key" in r.stderr and ca["pem"] in r.stderr, r.stderr


def test_signals_end_the_server_cleanly(ctx):
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc, url = start_mock(ctx, "--faults", "stall@every1")
        # A stalled stream in flight must not keep the server from ending.
        hang = subprocess.Popen(["curl", "-sS", "-N", "-o", os.devnull, "--data-binary",
                                 json.dumps(STREAM_BODY), f"{url}/v1/completions"],
                                stderr=subprocess.DEVNULL)
        ctx.run(["curl", "-sS", "--retry", "0", f"{url}/health"])
        rc = ctx.stop(proc, sig=sig)
        assert rc == 0, rc
        assert hang.wait(timeout=10) != 0
        with open(proc.log_path) as f:
            log = f.read()
        assert log.startswith("listening on http://127.0.0.1:"), log
        assert log.count("listening on") == 1
        assert "stopped by SIG" in log and "peak" in log, log


def test_port_in_use_fails_cleanly(ctx):
    proc, url = start_mock(ctx)
    port = url.rsplit(":", 1)[1]
    r = ctx.llmsweep("mock-server", "--port", port, timeout=10)
    assert r.returncode == 1, r
    assert "Address in use" in r.stderr or "address already in use" in r.stderr.lower(), r.stderr
    assert "--port" in r.stderr, r.stderr
