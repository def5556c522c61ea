"""The main paths under valgrind: no invalid access, no use of uninitialised
values, no definite leak.

valgrind cannot check the heap of the static musl binary (musl's malloc is
linked in, so valgrind sees no allocation at all); tools/test therefore also
builds the same sources for glibc, dynamically linked (zig-out/glibc), and
these tests run that build. Each run must show valgrind tracking thousands of
allocations, so the check cannot pass by checking nothing. (The unit runner is
not run under valgrind: valgrind computes long double in 64 bits, and the
exact-value tests of strtod and printf would fail for no bug.)"""
import os
import re

import testlib

VALGRIND = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
            "--error-exitcode=99"]


def under_valgrind(ctx, *args, ok=(0,), min_allocs=1000):
    testlib.require_tool("valgrind", "Debian package valgrind")
    binary = os.path.join(ctx.root, "zig-out", "glibc", "bin", "llmsweep")
    testlib.require_file(binary, "the glibc build for valgrind (tools/test: -Dtarget=x86_64-linux-gnu)")
    r = ctx.run(VALGRIND + [binary] + list(args), timeout=600)
    report = r.stderr
    assert r.returncode in ok, f"valgrind found problems (exit {r.returncode}):\n{report[-6000:]}"
    m = re.search(r"total heap usage: ([\d,]+) allocs", report)
    assert m, f"valgrind printed no heap summary:\n{report[-2000:]}"
    allocs = int(m.group(1).replace(",", ""))
    assert allocs >= min_allocs, f"valgrind saw only {allocs} allocations: it is not checking the heap"
    assert "ERROR SUMMARY: 0 errors" in report, report[-4000:]
    return r


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
