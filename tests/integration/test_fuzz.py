"""The libFuzzer targets (tools/fuzz, tests/fuzz/*_fuzz.c), as part of the tests.

For every target `tools/fuzz targets` names:
  - its seed corpus (tests/fuzz/corpus/TARGET) and the inputs of every crash
    fixed so far (tests/fuzz/regressions/TARGET) run once each: a fixed bug
    stays fixed;
  - a bounded fuzz run: a fixed number of inputs (-runs, not seconds, so the
    amount of work does not depend on the machine's speed) from a fixed
    seed, starting from the corpus.
A crash fails the test with the input that caused it and the sanitizer's
report. `tools/fuzz build` (which tools/test runs) builds the targets.
"""
import os
import re

import testlib

# The targets are built with ASan and UBSan already: tests/run.py's sanitizer
# pass has nothing to add.
NOT_UNDER_SANITIZERS = "runs the fuzz targets, themselves built with ASan and UBSan"

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = os.path.join(ROOT, "tests", "fuzz")

# Inputs per bounded run: about 10 s per target on a busy 2-core machine
# (the rates differ a hundredfold: the tokenizer encodes big inputs, the
# mock's request parser is cheap).
RUNS = {
    "spec": 60000,
    "tokenizer": 8000,
    "results": 30000,
    "sse": 20000,
    "registry": 120000,
    "mock": 120000,
}

# Every target's options: the same everywhere, so a crash here reproduces
# with `zig-out/fuzz/TARGET_fuzz FILE`.
OPTIONS = ["-max_len=8192", "-timeout=30", "-rss_limit_mb=2048", "-print_final_stats=1"]
ENV = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
       "UBSAN_OPTIONS": "print_stacktrace=1"}


def targets(ctx):
    r = ctx.run(["sh", os.path.join(ROOT, "tools", "fuzz"), "targets"])
    assert r.returncode == 0, f"tools/fuzz targets failed:\n{r.stderr}"
    names = r.stdout.split()
    assert names, "tools/fuzz names no targets"
    return names


def fuzzer(name):
    path = os.path.join(ROOT, "zig-out", "fuzz", f"{name}_fuzz")
    testlib.require_file(path, f"the {name} fuzzer (tools/fuzz build; tools/test runs it)")
    return path


def report(r, limit=6000):
    """The sanitizer's or libFuzzer's report: from the first ==PID== line."""
    text = r.stderr
    m = re.search(r"^==\d+==.*|^(?:\S+: )?runtime error:.*", text, re.M)
    start = m.start() if m else max(0, len(text) - limit)
    end = text.find("Shadow bytes around", start)  # ASan's memory map: noise here
    return text[start:min(start + limit, end if end > 0 else len(text))]


def inputs_of(folder):
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, f) for f in os.listdir(folder)
                  if os.path.isfile(os.path.join(folder, f)))


def test_every_target_has_seeds_and_a_bounded_run(ctx):
    """Each target tools/fuzz builds has a corpus and a run size here."""
    for name in targets(ctx):
        seeds = inputs_of(os.path.join(FUZZ, "corpus", name))
        assert len(seeds) >= 5, f"tests/fuzz/corpus/{name} has only {len(seeds)} seeds"
        big = [s for s in seeds if os.path.getsize(s) > 16384]
        assert not big, f"seeds over 16 KiB (keep the corpus small): {big}"
        assert name in RUNS, f"tests/integration/test_fuzz.py has no run size for '{name}'"
    assert set(RUNS) == set(targets(ctx)), "RUNS names a target tools/fuzz does not build"


def test_corpus_and_fixed_crashes_still_pass(ctx):
    """Every seed and every committed crash input, run once (no mutation)."""
    failures = []
    for name in targets(ctx):
        binary = fuzzer(name)
        files = inputs_of(os.path.join(FUZZ, "corpus", name)) + \
            inputs_of(os.path.join(FUZZ, "regressions", name))
        # Named files (not folders) are each run whole, once, in order.
        r = ctx.run([binary] + OPTIONS + files, env=ENV, timeout=600)
        if r.returncode != 0:
            ran = re.findall(r"^Running: (.*)$", r.stderr, re.M)
            culprit = ran[-1] if ran else "(unknown: see the report)"
            failures.append(f"{name}: {culprit} fails (exit {r.returncode}); reproduce with "
                            f"{binary} {culprit}\n{report(r)}")
            continue
        done = len(re.findall(r"^Executed .* in \d+ ms$", r.stderr, re.M))
        if done != len(files):
            failures.append(f"{name}: ran {done} of {len(files)} inputs:\n{r.stderr[-2000:]}")
    assert not failures, "\n\n".join(failures)


def bounded_run(ctx, name):
    binary = fuzzer(name)
    work = ctx.path(f"corpus-{name}")
    os.makedirs(work)
    artifacts = ctx.path(f"artifacts-{name}") + os.sep
    os.makedirs(artifacts)
    regressions = os.path.join(FUZZ, "regressions", name)
    dirs = [work, os.path.join(FUZZ, "corpus", name)] + \
        ([regressions] if os.path.isdir(regressions) else [])
    r = ctx.run([binary, f"-runs={RUNS[name]}", "-seed=1", f"-artifact_prefix={artifacts}"] +
                OPTIONS + dirs, env=ENV, timeout=900)
    crashes = [os.path.join(artifacts, f) for f in sorted(os.listdir(artifacts))]
    if r.returncode != 0 or crashes:
        kept = os.path.join(ROOT, "zig-out", "fuzz", f"crashes-{name}")
        os.makedirs(kept, exist_ok=True)
        saved = []
        for c in crashes:  # the temporary folder goes away with the test: keep the inputs
            dest = os.path.join(kept, os.path.basename(c))
            with open(c, "rb") as src, open(dest, "wb") as out:
                out.write(src.read())
            saved.append(dest)
        raise AssertionError(
            f"the {name} fuzzer crashed (exit {r.returncode}) on {saved or 'an input it did not save'};"
            f" reproduce with {binary} FILE, fix the bug, and commit the input to "
            f"tests/fuzz/regressions/{name}/\n{report(r)}")
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", r.stderr)
    assert runs and int(runs.group(1)) >= RUNS[name], \
        f"the {name} fuzzer stopped early:\n{r.stderr[-2000:]}"


def _bounded(name):
    def test(ctx):
        bounded_run(ctx, name)
    test.__name__ = f"test_bounded_run_{name}"
    test.__doc__ = f"{RUNS[name]} inputs of the {name} fuzzer from a fixed seed: no crash."
    return test


for _name in RUNS:
    globals()[f"test_bounded_run_{_name}"] = _bounded(_name)
