"""Under valgrind memcheck: the whole C unit suite, and the main paths of every
command (no invalid access, no use of uninitialised values, no definite leak).

valgrind cannot check the heap of the static musl binary (musl's malloc is
linked in, so valgrind sees no allocation at all); tools/test therefore also
builds the same sources for glibc, dynamically linked (zig-out/glibc), and
these tests run that build. Each run must show valgrind tracking allocations,
so the check cannot pass by checking nothing. The integration tests as a whole
run under ASan + UBSan instead (tests/run.py's asan/ pass): under valgrind they
would take hours, and their timing checks would measure valgrind."""
import os
import re
import signal

import testlib
from tokenizer_peers import real

NOT_UNDER_SANITIZERS = "runs the glibc build under valgrind"

VALGRIND = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
            "--error-exitcode=99"]


def glibc_binary(ctx):
    testlib.require_tool("valgrind", "Debian package valgrind")
    binary = os.path.join(ctx.root, "zig-out", "glibc", "bin", "llmsweep")
    testlib.require_file(binary, "the glibc build for valgrind (tools/test: -Dtarget=x86_64-linux-gnu)")
    return binary


def under_valgrind(ctx, *args, ok=(0,), min_allocs=1000, input=None):
    r = ctx.run(VALGRIND + [glibc_binary(ctx)] + list(args), timeout=600, input=input)
    check_report(r.stderr, r.returncode, ok, min_allocs)
    return r


def check_report(report, returncode, ok=(0,), min_allocs=1000):
    assert returncode in ok, f"valgrind found problems (exit {returncode}):\n{report[-6000:]}"
    m = re.search(r"total heap usage: ([\d,]+) allocs", report)
    assert m, f"valgrind printed no heap summary:\n{report[-2000:]}"
    allocs = int(m.group(1).replace(",", ""))
    assert allocs >= min_allocs, f"valgrind saw only {allocs} allocations: it is not checking the heap"
    assert "ERROR SUMMARY: 0 errors" in report, report[-4000:]


def test_unit_suite_is_clean(ctx):
    """Every unit test, each in its own forked child, with one valgrind log per
    process: every child must have been checked and be clean."""
    testlib.require_tool("valgrind", "Debian package valgrind")
    unit = os.path.join(ctx.root, "zig-out", "glibc", "bin", "llmsweep-unit")
    testlib.require_file(unit, "the glibc unit runner (tools/test: -Dtarget=x86_64-linux-gnu)")
    listed = ctx.run([unit, "--list"]).stdout.split()
    assert len(listed) > 100, f"the unit runner lists only {len(listed)} tests"
    logs = ctx.path("valgrind-logs")
    os.makedirs(logs)
    r = ctx.run(VALGRIND + ["--log-file=" + os.path.join(logs, "vg.%p"), unit], cwd=ctx.root,
                timeout=1800)
    assert r.stdout.rstrip().endswith(f"{len(listed)} passed, 0 failed"), r.stdout[-4000:]
    reports = sorted(os.listdir(logs))
    assert len(reports) >= len(listed) + 1, \
        f"valgrind checked {len(reports)} processes for {len(listed)} tests"
    for name in reports:
        with open(os.path.join(logs, name)) as f:
            report = f.read()
        assert "ERROR SUMMARY: 0 errors" in report, report[-4000:]


def test_demo_sweep_is_clean(ctx):
    """Engine threads, the in-process mock, stats and every output file."""
    under_valgrind(ctx, "run", "demo", "--duration", "1s", "--workers", "2", "--output-dir",
                   ctx.path("out"), "-q")
    under_valgrind(ctx, "report", ctx.path("out", "benchmarks.json"), "--html",
                   ctx.path("again.html"), "--csv", ctx.path("again.csv"))


def test_open_loop_is_clean(ctx):
    under_valgrind(ctx, "run", "demo", "--profile", "poisson", "--levels", "20", "--duration",
                   "1s", "--output-dir", ctx.path("poisson"), "-q")


def test_error_paths_are_clean(ctx):
    under_valgrind(ctx, "run", "demo", "--duration", "1s", "--set", "load.levels=0", ok=(2,),
                   min_allocs=100)
    port = testlib.free_port()
    under_valgrind(ctx, "run", "--endpoint", f"http://127.0.0.1:{port}/v1", "--model", "m",
                   "--duration", "1s", "--output-dir", ctx.path("x"), ok=(1,), min_allocs=100)
    under_valgrind(ctx, "validate", "demo", min_allocs=100)


def test_mock_server_with_faults_is_clean(ctx):
    """The mock server's request parser, streams and every fault path, driven by a
    real sweep, then stopped with SIGTERM."""
    mock = ctx.start(VALGRIND + [glibc_binary(ctx), "mock-server", "--port", "0", "--ttft-ms",
                                 "5", "--itl-ms", "1", "--faults",
                                 "500@10%,reset-mid@10%,bad-json@5%,cut@5%,stall=1@3%"],
                     name="mock")
    url = ctx.wait_for_log(mock, r"listening on (http://\S+)", timeout=120).group(1)
    r = ctx.llmsweep("run", "--endpoint", url + "/v1", "--model", "llmsweep-mock", "--duration",
                     "4s", "--set", "load.levels=[8]", "--set", "workload.output_tokens=16",
                     "--output-dir", ctx.path("out"), "-q")
    assert r.returncode == 0, r.stderr
    with open(ctx.path("out", "requests.jsonl")) as f:
        records = f.read()
    assert records.count("\n") >= 20 and '"error"' in records, "too few requests, or no fault"
    mock.send_signal(signal.SIGTERM)
    code = mock.wait(timeout=120)
    with open(mock.log_path) as f:
        check_report(f.read(), code)


def test_wait_tokenize_and_prompts_are_clean(ctx):
    r = ctx.llmsweep("run", "demo", "--duration", "1s", "--set", "load.levels=[2]",
                     "--output-dir", ctx.path("out"), "-q")
    assert r.returncode == 0, r.stderr
    under_valgrind(ctx, "wait", ctx.path("out"), "--timeout", "30s", min_allocs=10)
    tokenizer = real("LLAMA3_TOKENIZER_DIR")
    r = under_valgrind(ctx, "tokenize", "--tokenizer", tokenizer, "--text",
                       "Hello world, héllo 世界 <|begin_of_text|> 12345")
    assert r.stdout.startswith("["), r.stdout
    under_valgrind(ctx, "prompts", "--tokenizer", tokenizer, "--count", "20",
                   "--shared-prefix", "16", "--prompt-tokens", "64,16,8,128")
