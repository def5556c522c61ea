#!/usr/bin/env python3
"""llmsweep's test runner: the C unit tests, then every integration test.

    python3 tests/run.py [--unit-only] [--keep] [PATTERN ...]

Integration tests are the functions named test_* in tests/integration/test_*.py
(plain functions taking one argument, a tests/lib/testlib.Context). They fail
with an AssertionError (or any exception) and pass by returning. A test that
needs something missing fails and says what; nothing is skipped silently.

Each result is one line ("ok", "FAIL" with the reason below it); the last line
is "N passed, N failed" (", N skipped" when a test called ctx.skip()).
"""
import argparse
import importlib.util
import os
import subprocess
import sys
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import testlib  # noqa: E402


# The unit runner of the product build (static musl) and of the glibc build,
# whose headers let UBSan also check non-null arguments of libc calls.
UNIT_BUILDS = [
    ("unit", os.path.join("zig-out", "bin", "llmsweep-unit"), "tools/zig build unit"),
    ("unit-glibc", os.path.join("zig-out", "glibc", "bin", "llmsweep-unit"),
     "tools/zig build -Dtarget=x86_64-linux-gnu unit install -p zig-out/glibc"),
]


def run_unit(patterns, results):
    for label, path, how in UNIT_BUILDS:
        run_unit_build(label, os.path.join(ROOT, path), how, patterns, results)


def run_unit_build(label, unit, how, patterns, results):
    if not os.path.exists(unit):
        print(f"FAIL {label}-tests\n    {unit} is missing: run {how} (tools/test does)")
        results["failed"] += 1
        return
    proc = subprocess.run([unit] + patterns, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    summary_seen = False
    for line in proc.stdout.splitlines():
        if line.startswith("ok   "):
            results["passed"] += 1
            print(f"ok   {label}/" + line[5:])
        elif line.startswith("FAIL "):
            results["failed"] += 1
            print(f"FAIL {label}/" + line[5:])
        elif line.endswith(" failed") and " passed, " in line:
            summary_seen = True
        else:
            print(line)
    if not summary_seen:
        results["failed"] += 1
        print(f"FAIL {label}-tests\n    the unit runner ended without its summary (exit {proc.returncode})")


def load_module(path):
    name = "itest_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_integration(patterns, keep, results):
    folder = os.path.join(ROOT, "tests", "integration")
    for fname in sorted(os.listdir(folder)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        try:
            module = load_module(os.path.join(folder, fname))
        except Exception:
            results["failed"] += 1
            print(f"FAIL {fname}\n" + indent(traceback.format_exc()))
            continue
        tests = [(n, f) for n, f in vars(module).items() if n.startswith("test_") and callable(f)]
        tests.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
        for name, fn in tests:
            full = f"{fname[5:-3]}/{name[5:]}"
            if patterns and not any(p in full for p in patterns):
                continue
            ctx = testlib.Context(ROOT, full, keep=keep)
            started = time.monotonic()
            try:
                fn(ctx)
                status = "ok  "
                results["passed"] += 1
                detail = ""
            except testlib.Skipped as skip:
                status = "skip"
                results["skipped"] += 1
                detail = f"    {skip}\n"
            except Exception:
                status = "FAIL"
                results["failed"] += 1
                detail = indent(traceback.format_exc()) + ctx.describe_logs()
            finally:
                ctx.close()
            elapsed = time.monotonic() - started
            print(f"{status} {full} ({elapsed:.1f}s)")
            if detail:
                print(detail, end="")
            sys.stdout.flush()


def indent(text):
    return "".join("    " + line + "\n" for line in text.rstrip().splitlines())


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unit-only", action="store_true", help="run only the C unit tests")
    parser.add_argument("--integration-only", action="store_true", help="skip the C unit tests")
    parser.add_argument("--keep", action="store_true", help="keep each test's temporary folder")
    parser.add_argument("patterns", nargs="*", help="run only tests whose names contain one")
    args = parser.parse_args()
    results = {"passed": 0, "failed": 0, "skipped": 0}
    if not args.integration_only:
        run_unit(args.patterns, results)
    if not args.unit_only:
        run_integration(args.patterns, args.keep, results)
    line = f"{results['passed']} passed, {results['failed']} failed"
    if results["skipped"]:
        line += f", {results['skipped']} skipped"
    print(line)
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
