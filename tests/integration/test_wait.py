"""Issue 8: `llmsweep wait`, the stability wait before publishing."""
import json
import os
import sys
import time

WRITER = r"""
import sys, time
path, done = sys.argv[1], sys.argv[2]
parts = ['{"benchmarks": [', '{"a": 1}', ', {"b": 2}', ', {"c": 3}', ']}\n']
with open(path, "w") as f:
    for i, part in enumerate(parts):
        if i:
            time.sleep(0.4)  # every state before the last is cut-off JSON
        f.write(part)
        f.flush()
open(done, "w").close()
"""


def test_wait_returns_when_a_growing_file_is_stable_and_complete(ctx):
    path, done = ctx.path("benchmarks.json"), ctx.path("writer-done")
    waiter = ctx.start([ctx.bin, "wait", path, "--interval", "150ms", "--stable-checks", "4",
                        "--timeout", "60s"], name="wait")
    time.sleep(0.3)  # the file does not exist yet when wait starts
    writer = ctx.start([sys.executable, "-c", WRITER, path, done], name="writer")
    assert waiter.wait(timeout=60) == 0, open(waiter.log_path).read()
    log = open(waiter.log_path).read()
    assert os.path.exists(done), f"wait ended before the writer finished:\n{log}"
    assert writer.wait(timeout=10) == 0
    with open(path) as f:
        json.load(f)
    assert "does not exist yet" in log and "complete JSON" in log, log
    assert "unchanged for 4 checks" in log, log


def test_wait_times_out_with_exit_4_and_says_what_it_saw(ctx):
    path = ctx.path("cut.json")
    with open(path, "w") as f:
        f.write('{"benchmarks": [{"a": ')
    r = ctx.llmsweep("wait", path, "--interval", "100ms", "--timeout", "700ms")
    assert r.returncode == 4, (r.returncode, r.stderr)
    assert "timed out" in r.stderr and "not complete JSON" in r.stderr, r.stderr
    r = ctx.llmsweep("wait", ctx.path("never.json"), "--interval", "100ms", "--timeout", "300ms")
    assert r.returncode == 4 and "does not exist yet" in r.stderr, r.stderr


def test_wait_needs_the_marker_for_llmsweep_results(ctx):
    folder = ctx.path("run")
    os.makedirs(folder)
    path = os.path.join(folder, "benchmarks.json")
    with open(path, "w") as f:
        json.dump({"llmsweep": {"run_id": "r1"}, "benchmarks": []}, f)
    r = ctx.llmsweep("wait", folder, "--interval", "100ms", "--timeout", "600ms")
    assert r.returncode == 4, (r.returncode, r.stderr)
    assert "no completion marker" in r.stderr and "benchmarks.json.complete" in r.stderr, r.stderr
    open(path + ".complete", "w").close()
    r = ctx.llmsweep("wait", folder, "--interval", "100ms", "--timeout", "5s")
    assert r.returncode == 0, r.stderr
    assert "marker" in r.stderr, r.stderr


def test_wait_usage_errors(ctx):
    r = ctx.llmsweep("wait")
    assert r.returncode == 2 and "missing argument" in r.stderr, r.stderr
    r = ctx.llmsweep("wait", "x.json", "--interval", "0")
    assert r.returncode == 2 and "--interval" in r.stderr, r.stderr
    r = ctx.llmsweep("wait", "x.json", "--stable-checks", "0")
    assert r.returncode == 2 and "--stable-checks" in r.stderr, r.stderr
    r = ctx.llmsweep("wait", "--help")
    assert r.returncode == 0 and "completion marker" in r.stdout, r.stdout
