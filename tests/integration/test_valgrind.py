"""The main paths of the debug binary under valgrind: no invalid access, no
uninitialised value that matters, no definite leak. (The unit runner is not run
under valgrind: valgrind computes long double in 64 bits, so musl's strtod and
printf round differently there and exact-value tests would fail for no bug.)"""
import testlib

VALGRIND = ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
            "--error-exitcode=99", "--quiet"]


def under_valgrind(ctx, *args, ok=(0,)):
    testlib.require_tool("valgrind", "Debian package valgrind")
    r = ctx.run(VALGRIND + [ctx.bin] + list(args), timeout=600)
    assert r.returncode in ok, f"valgrind found problems (exit {r.returncode}):\n{r.stderr[-6000:]}"
    return r


def test_demo_sweep_is_clean(ctx):
    """Engine threads, the in-process mock, stats and every output file."""
    under_valgrind(ctx, "run", "demo", "--duration", "1s", "--output-dir", ctx.path("out"), "-q")
    under_valgrind(ctx, "report", ctx.path("out", "benchmarks.json"), "--html",
                   ctx.path("again.html"), "--csv", ctx.path("again.csv"))


def test_error_paths_are_clean(ctx):
    under_valgrind(ctx, "run", "demo", "--duration", "1s", "--set", "load.levels=0", ok=(2,))
    port = testlib.free_port()
    under_valgrind(ctx, "run", "--endpoint", f"http://127.0.0.1:{port}/v1", "--model", "m",
                   "--duration", "1s", "--output-dir", ctx.path("x"), ok=(1,))
    under_valgrind(ctx, "validate", "mistral-24b", ok=(0, 2))
