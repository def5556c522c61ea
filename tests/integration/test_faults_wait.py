"""Issue 10: `llmsweep wait` when the results file misbehaves: it never
appears, grows forever, is cut, or is replaced. `wait` must never end with
success on a file that is not whole, and must say what it saw.

llmsweep's own results come from real `llmsweep run --endpoint builtin`
runs (a results file and its completion marker); GuideLLM-style files (no
marker: stability and complete JSON decide) from the GuideLLM fixture.
"""
import json
import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
GUIDELLM = os.path.join(ROOT, "tests", "fixtures", "guidellm", "benchmarks_v0.3.x_stripped.json")


def wait_args(path, *extra):
    return ["wait", path, "--interval", "100ms", *extra]


def start_wait(ctx, path, *extra):
    return ctx.start([ctx.bin] + wait_args(path, *extra), name="wait")


def finished(proc, timeout=120):
    """(exit code, log) of a background `wait`."""
    code = proc.wait(timeout=timeout)
    with open(proc.log_path) as f:
        return code, f.read()


def real_run(ctx, folder):
    """A real llmsweep run's results in folder; returns (benchmarks.json, its run id)."""
    r = ctx.llmsweep("run", "--endpoint", "builtin", "--model", "m", "--levels", "1",
                     "--max-requests", "3", "--prompt-tokens", "16", "--output-tokens", "8",
                     "--output-dir", folder)
    assert r.returncode == 0, r.stderr
    path = os.path.join(folder, "benchmarks.json")
    with open(path + ".complete") as f:
        return path, json.load(f)["run_id"]


def never_complete(log):
    assert " is complete (" not in log, f"wait took an incomplete file for complete:\n{log}"


# --- the file never appears -------------------------------------------------------

def test_file_never_appears(ctx):
    path = ctx.path("out", "benchmarks.json")
    r = ctx.llmsweep(*wait_args(path, "--timeout", "500ms"))
    assert r.returncode == 4, (r.returncode, r.stderr)
    assert (f"error: timed out after 0.5s waiting for {path}; last seen: {path} does not exist "
            "yet") in r.stderr, r.stderr
    assert r.stderr.count("does not exist yet") == 2, r.stderr  # once as progress, once at the end

    # a folder that the run creates only later is looked into once it exists
    folder = ctx.path("later")
    waiter = start_wait(ctx, folder, "--timeout", "60s")
    ctx.wait_for_log(waiter, "does not exist yet")
    real_run(ctx, folder)
    code, log = finished(waiter)
    assert code == 0, log
    assert f"{folder}/benchmarks.json is complete (" in log and "marker" in log, log


# --- the file grows forever -------------------------------------------------------

GROWER = r"""
import sys, time
with open(sys.argv[1], "w") as f:
    f.write('{"benchmarks": [')
    while True:
        f.write('{"request": 1}, ')
        f.flush()
        time.sleep(0.02)
"""


def test_file_that_grows_forever_times_out_saying_it_grew(ctx):
    path = ctx.path("growing.json")
    writer = ctx.start([sys.executable, "-c", GROWER, path], name="writer")
    deadline = time.monotonic() + 30
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.02)
    r = ctx.llmsweep(*wait_args(path, "--timeout", "1s"))
    ctx.stop(writer)
    assert r.returncode == 4, (r.returncode, r.stderr)
    m = re.search(r"error: timed out after 1s waiting for (\S+): it was still changing; last "
                  r"seen: \S+ grew from (\d+) to (\d+) bytes since the last check \(changed at "
                  r"each of the last (\d+) checks, from (\d+) bytes\)", r.stderr)
    assert m, r.stderr
    assert m.group(1) == path
    before, after, checks, first = (int(g) for g in m.groups()[1:])
    assert first < before < after and checks >= 2, m.group(0)
    never_complete(r.stderr)


# --- the file is cut ---------------------------------------------------------------

def test_file_cut_while_waiting_is_never_taken_for_complete(ctx):
    # a GuideLLM file (no marker) cut to half while wait counts its stable checks
    path = ctx.path("guidellm.json")
    shutil.copy(GUIDELLM, path)
    full = os.path.getsize(path)
    waiter = start_wait(ctx, path, "--stable-checks", "20", "--timeout", "4s")
    ctx.wait_for_log(waiter, "first look")
    os.truncate(path, full // 2)
    code, log = finished(waiter)
    assert code == 4, log
    assert f"{path} shrank from {full} to {full // 2} bytes since the last check (cut or " \
        "rewritten in place)" in log, log
    never_complete(log)
    # what it says once the cut file has been stable long enough
    r = ctx.llmsweep(*wait_args(path, "--stable-checks", "2", "--timeout", "1s"))
    assert r.returncode == 4, r.stderr
    assert re.search(rf"last seen: {re.escape(path)}: {full // 2} bytes, unchanged for 2 checks "
                     rf"or more, but not complete JSON \(parsing stops at byte \d+ of "
                     rf"{full // 2}\)", r.stderr), r.stderr
    assert r.stderr.count("but not complete JSON") == 2, r.stderr  # progress once, then the end

    # llmsweep's results cut after the run wrote its marker: the marker does not make them whole
    results, run_id = real_run(ctx, ctx.path("run"))
    size = os.path.getsize(results)
    with open(results, "rb") as f:
        whole = f.read()
    os.truncate(results, size // 3)
    waiter = start_wait(ctx, ctx.path("run"), "--timeout", "60s")
    ctx.wait_for_log(waiter, "has a completion marker")
    # the run's folder is restored (a copy finishing, a rewrite): wait follows and ends
    tmp = results + ".tmp"
    with open(tmp, "wb") as f:
        f.write(whole)
    os.rename(tmp, results)
    code, log = finished(waiter)
    assert code == 0, log
    assert (f"waiting: {results} has a completion marker, but its {size // 3} bytes are not "
            f"complete JSON (parsing stops at byte") in log, log
    assert "cut off or replaced after the run finished" in log, log
    assert f"{results} is complete ({size} bytes; marker" in log, log

    os.truncate(results, size // 3)
    r = ctx.llmsweep(*wait_args(ctx.path("run"), "--timeout", "300ms"))
    assert r.returncode == 4, r.stderr
    assert "has a completion marker, but its" in r.stderr, r.stderr
    never_complete(r.stderr)


# --- the file is replaced -----------------------------------------------------------

def test_file_replaced_is_followed_and_validated(ctx):
    # a cut file replaced (renamed over) by a whole one: wait follows the new file
    path = ctx.path("replaced.json")
    with open(path, "w") as f:
        f.write('{"benchmarks": [{"a": ')
    waiter = start_wait(ctx, path, "--stable-checks", "2", "--timeout", "60s")
    ctx.wait_for_log(waiter, "first look")
    tmp = path + ".tmp"
    shutil.copy(GUIDELLM, tmp)
    os.rename(tmp, path)
    code, log = finished(waiter)
    assert code == 0, log
    size = os.path.getsize(GUIDELLM)
    assert f"{path} was replaced by another file: {size} bytes (was 22)" in log, log
    assert f"{path} is complete ({size} bytes, unchanged for 2 checks, complete JSON)" in log, log

    # another run's results copied over a finished run's: its marker names the first run
    first, first_id = real_run(ctx, ctx.path("a"))
    second, second_id = real_run(ctx, ctx.path("b"))
    assert first_id != second_id
    shutil.copy(second, first + ".tmp")
    os.rename(first + ".tmp", first)
    waiter = start_wait(ctx, ctx.path("a"), "--timeout", "60s")
    ctx.wait_for_log(waiter, "completion marker")
    shutil.copy(second + ".complete", first + ".complete")  # the copy's marker arrives last
    code, log = finished(waiter)
    assert code == 0, log
    assert (f"waiting: {first} holds run {second_id}, but its completion marker "
            f"{first}.complete is for run {first_id}: the file was replaced after that run "
            "finished") in log, log
    assert f"{first} is complete (" in log, log
