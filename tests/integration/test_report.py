"""`llmsweep report` and benchmarks.json against real GuideLLM files and GuideLLM itself.

- GuideLLM's own 0.3.x file (tests/fixtures/guidellm) parses and re-renders;
- a GuideLLM 0.8.1 file made now (GuideLLM's mock server, `guidellm run`) reads back
  with the same numbers;
- llmsweep's benchmarks.json (the unit test's hand-built run with an error and an
  incomplete request, and llmsweep's conversions of GuideLLM files) passes GuideLLM
  0.8.1's own loader, `guidellm export`;
- bad files fail with exit 2 and a message naming the place.
"""
import csv
import json
import os
import subprocess

import guidellm_peer  # noqa: E402
import testlib  # noqa: E402

ROOT = guidellm_peer.ROOT
ERA_A = os.path.join(ROOT, "tests", "fixtures", "guidellm", "benchmarks_v0.3.x_stripped.json")


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def close(a, b, rel=1e-9):
    return abs(float(a) - float(b)) <= rel * max(abs(float(b)), 1e-12)


def guidellm_export(ctx, env, path):
    """Loads `path` with GuideLLM 0.8.1 and re-exports it as JSON; returns that JSON."""
    out = ctx.path("exported-" + os.path.basename(os.path.dirname(path)) + ".json")
    r = ctx.run([env["GUIDELLM"], "export", path, "--output", f"kind=json,path={out}"],
                env=guidellm_peer.OFFLINE, timeout=180)
    assert r.returncode == 0 and os.path.exists(out), (
        f"guidellm export rejected {path}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    with open(out) as f:
        return json.load(f)


def keep_unit_outputs(ctx):
    """Runs the unit tests that write the hand-built run's outputs into a folder we keep."""
    folder = ctx.path("unit-outputs")
    os.makedirs(folder)
    unit = ctx.unit
    testlib.require_file(unit, "the unit test runner (tools/zig build unit)")
    r = subprocess.run([unit, "outputs_write_hand_run", "outputs_interrupted_run_is_marked"],
                       cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       env=dict(os.environ, LLMSWEEP_KEEP_OUTPUTS=folder))
    assert "2 passed, 0 failed" in r.stdout, r.stdout
    return os.path.join(folder, "out", "nested"), os.path.join(folder, "interrupted")


def test_reference_guidellm_03_file_rerenders(ctx):
    html, csv_path, summary, conv = (ctx.path(n) for n in
                                     ("a.html", "a.csv", "summary.json", "a-llmsweep.json"))
    r = ctx.llmsweep("report", ERA_A, "--html", html, "--csv", csv_path, "--summary", summary,
                     "--json", conv)
    assert r.returncode == 0, r.stderr
    assert "example_model" in r.stdout and "sync" in r.stdout, r.stdout
    with open(ERA_A) as f:
        b = json.load(f)["benchmarks"][0]
    rows = read_csv(csv_path)
    assert len(rows) == 1
    row = rows[0]
    m = b["metrics"]
    assert row["strategy"] == "synchronous"
    assert int(row["requests_successful"]) == b["request_totals"]["successful"] == 46
    assert int(row["requests_incomplete"]) == 1
    assert close(row["requests_per_second"], m["requests_per_second"]["successful"]["mean"])
    assert close(row["ttft_ms_p99"], m["time_to_first_token_ms"]["successful"]["percentiles"]["p99"])
    assert close(row["ttft_ms_p50"], m["time_to_first_token_ms"]["successful"]["median"])  # no p50 key
    assert close(row["itl_ms_p90"], m["inter_token_latency_ms"]["successful"]["percentiles"]["p90"])
    assert close(row["latency_s_p50"], m["request_latency"]["successful"]["median"])
    assert row["prompt_tokens_per_second"] == ""  # not in the 0.3 file
    assert os.path.getsize(summary) < 3000
    with open(html) as f:
        page = f.read()
    assert page.count("<svg") >= 8 and "example_model" in page
    with open(conv) as f:
        ext = json.load(f)["llmsweep"]
    assert ext["converted_from"] == {"format": "guidellm-A", "version": None}, ext
    assert ext["guidellm_tpot"] is True
    # The conversion reads back as the same numbers.
    r = ctx.llmsweep("report", conv, "--csv", ctx.path("b.csv"), "--quiet")
    assert r.returncode == 0, r.stderr
    again = read_csv(ctx.path("b.csv"))
    assert again == rows, [(k, v, again[0].get(k)) for k, v in rows[0].items()
                           if again[0].get(k) != v]


def test_our_benchmarks_json_passes_guidellm_export(ctx):
    env = guidellm_peer.environment()
    normal, interrupted = keep_unit_outputs(ctx)
    for folder in (normal, interrupted):
        doc = guidellm_export(ctx, env, os.path.join(folder, "benchmarks.json"))
        b = doc["benchmarks"][0]
        m = b["metrics"]
        # What the seed's publish step reads, in GuideLLM's units, after GuideLLM's loader.
        assert m["request_totals"] == {"successful": 2, "errored": 1, "incomplete": 1,
                                       "total": 4}, m["request_totals"]
        assert m["time_to_first_token_ms"]["successful"]["median"] == 100.0
        assert m["time_to_first_token_ms"]["successful"]["percentiles"]["p99"] == 300.0
        assert m["inter_token_latency_ms"]["successful"]["percentiles"]["p90"] == 100.0
        assert m["request_latency"]["successful"]["median"] == 0.5
        assert close(m["request_concurrency"]["successful"]["mean"], 0.13)
        assert close(m["tokens_per_second"]["successful"]["mean"], 4.5)
        assert b["duration"] == 10.0
        assert b["config"]["strategy"]["type_"] == "concurrent"
        # Our additions survive GuideLLM's round trip where GuideLLM keeps extra keys.
        assert close(b["llmsweep"]["cost"]["per_1k_output_tokens_usd"], 1.0)
        assert "inter_chunk_latency_ms" in m


def test_guidellm_081_file_made_now(ctx):
    env = guidellm_peer.environment()
    port = testlib.free_port()
    mock = ctx.start([env["GUIDELLM"], "mock-server", "--host", "127.0.0.1", "--port", str(port),
                      "--model", "mock-llama", "--ttft-ms", "40", "--itl-ms", "8",
                      "--output-tokens", "16", "--fail-after-requests", "25"],
                     name="guidellm-mock", env=guidellm_peer.OFFLINE)
    ctx.wait_for_log(mock, r"Worker ready", timeout=120)
    made = ctx.path("guidellm", "benchmarks.json")
    r = ctx.run([env["GUIDELLM"], "run",
                 "--backend", f"kind=openai_http,target=http://127.0.0.1:{port},model=mock-llama,"
                              "validate_backend=false",
                 "--profile", "kind=concurrent,streams=2",
                 "--constraint", "kind=max_duration,seconds=3",
                 "--data", "kind=synthetic_text,prompt_tokens=32,output_tokens=16",
                 "--tokenizer", f"kind=huggingface_auto,model={env['LLAMA3_TOKENIZER_DIR']}",
                 "--output", f"kind=json,path={made}", "--disable-console"],
                env=guidellm_peer.OFFLINE, timeout=300)
    assert r.returncode == 0 and os.path.exists(made), f"guidellm run failed:\n{r.stderr[-3000:]}"
    ctx.stop(mock)

    conv, csv_path = ctx.path("llmsweep", "benchmarks.json"), ctx.path("g.csv")
    os.makedirs(os.path.dirname(conv))
    r = ctx.llmsweep("report", made, "--csv", csv_path, "--json", conv,
                     "--html", ctx.path("g.html"))
    assert r.returncode == 0, r.stderr
    assert "mock-llama" in r.stdout and "c=2" in r.stdout, r.stdout
    with open(made) as f:
        b = json.load(f)["benchmarks"][0]
    m = b["metrics"]
    row = read_csv(csv_path)[0]
    assert row["strategy"] == "concurrent" and float(row["target"]) == 2
    for status in ("successful", "errored", "incomplete", "total"):
        key = "requests_" + status
        assert int(row[key]) == m["request_totals"][status], (key, row[key])
    assert m["request_totals"]["errored"] > 0, "the mock server was told to fail: no errors?"
    assert close(row["duration_s"], b["duration"])
    assert close(row["requests_per_second"], m["requests_per_second"]["successful"]["mean"])
    assert close(row["total_tokens_per_second"], m["tokens_per_second"]["successful"]["mean"])
    assert close(row["prompt_tokens_per_second"],
                 m["prompt_tokens_per_second"]["successful"]["mean"])
    assert close(row["concurrency_mean"], m["request_concurrency"]["successful"]["mean"])
    for col, key in (("ttft_ms", "time_to_first_token_ms"), ("itl_ms", "inter_token_latency_ms"),
                     ("latency_s", "request_latency")):
        for p in ("p50", "p90", "p99"):
            assert close(row[f"{col}_{p}"], m[key]["successful"]["percentiles"][p]), (col, p)
    # GuideLLM's TPOT is not vLLM's: the report says which one it shows.
    with open(ctx.path("g.html")) as f:
        assert "GuideLLM's time per output token" in f.read()
    # llmsweep's rendering of GuideLLM's file loads in GuideLLM again.
    doc = guidellm_export(ctx, env, conv)
    again = doc["benchmarks"][0]["metrics"]
    assert again["request_totals"] == m["request_totals"]
    for k in ("mean", "median", "min", "max", "count", "std_dev"):
        assert again["time_to_first_token_ms"]["successful"][k] == \
            m["time_to_first_token_ms"]["successful"][k], k


def test_report_rejects_bad_files(ctx):
    cases = {
        "truncated.json": ('{"benchmarks": [{"metrics": {"request_totals": {"successful": 1',
                           "truncated.json: not valid JSON at line 1"),
        "nototals.json": ('{"benchmarks": [{"metrics": {}}]}',
                          "benchmarks[0].metrics.request_totals: missing"),
        "string.json": ('{"benchmarks": [{"metrics": {"request_totals": {}, '
                        '"time_to_first_token_ms": {"successful": {"median": "12ms"}}}}]}',
                        "time_to_first_token_ms.successful.median: expected a number"),
        "other.json": ('{"hello": "world"}', "benchmarks: missing"),
    }
    for name, (text, message) in cases.items():
        path = ctx.path(name)
        with open(path, "w") as f:
            f.write(text)
        r = ctx.llmsweep("report", path)
        assert r.returncode == 2, (name, r.returncode, r.stderr)
        assert message in r.stderr, (name, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr and "Sanitizer" not in r.stderr
    r = ctx.llmsweep("report", ctx.path("missing.json"))
    assert r.returncode == 2 and "missing.json: cannot read" in r.stderr, r.stderr
    r = ctx.llmsweep("report")
    assert r.returncode == 2, r.stderr
    r = ctx.llmsweep("report", ERA_A, "--html", "/nonexistent-dir/r.html", "--quiet")
    assert r.returncode == 1 and "cannot write /nonexistent-dir/r.html" in r.stderr, r.stderr
