#!/usr/bin/env python3
"""llmsweep's test runner: the C unit tests, then every integration test,
then the integration tests again under the sanitizers.

    python3 tests/run.py [--unit-only] [--integration-only] [--no-asan] [--keep] [PATTERN ...]

Integration tests are the functions named test_* in tests/integration/test_*.py
(plain functions taking one argument, a tests/lib/testlib.Context). They fail
with an AssertionError (or any exception) and pass by returning. A test that
needs something missing fails and says what; nothing is skipped silently.

The unit runner runs three times: the product build (static musl), the glibc
build and the ASan + UBSan build (tools/sanitize). The sanitizer pass ("asan/"
before the name) runs the integration tests again with zig-out/asan/bin/llmsweep
and fails a test when any llmsweep process it started wrote a sanitizer report
(ASan, LeakSanitizer, UBSan), whatever its exit code. Tests of build artifacts
and tools (marked testlib.not_under_sanitizers) are not repeated; the pass
names them.

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
    ("unit-asan", os.path.join("zig-out", "asan", "bin", "llmsweep-unit"), "tools/sanitize build"),
]

ASAN_BINARY = os.path.join(ROOT, "zig-out", "asan", "bin", "llmsweep")
ASAN_UNIT = ASAN_BINARY + "-unit"


def sanitizer_env(report_dir):
    """Sanitizer settings for the processes one test starts: reports go to
    files in report_dir (a test may not read a background process' output),
    and the exit code differs from all of llmsweep's own. (Not
    strict_string_checks: with it every strtol inside a 15 MB tokenizer file
    scans to the file's end, and a one-second test takes an hour. A 16 MB
    quarantine instead of 256: tests that bound memory stay meaningful.)"""
    prefix = os.path.join(report_dir, "report")
    return {
        "ASAN_OPTIONS": f"log_path={prefix}:exitcode=86:detect_leaks=1:"
                        "detect_stack_use_after_return=1:quarantine_size_mb=16:"
                        "check_initialization_order=1",
        "UBSAN_OPTIONS": f"log_path={prefix}:print_stacktrace=1:halt_on_error=1:exitcode=86",
    }


def sanitizer_reports(report_dir):
    if not os.path.isdir(report_dir):
        return ""
    text = ""
    for name in sorted(os.listdir(report_dir)):
        with open(os.path.join(report_dir, name), errors="replace") as f:
            text += f"--- {name}\n" + f.read()[-6000:]
    return text


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


def integration_tests():
    """(file, name, function, module) for every integration test, in file
    order and, within a file, in source order."""
    folder = os.path.join(ROOT, "tests", "integration")
    for fname in sorted(os.listdir(folder)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        try:
            module = load_module(os.path.join(folder, fname))
        except Exception:
            yield fname, None, traceback.format_exc(), None
            continue
        tests = [(n, f) for n, f in vars(module).items() if n.startswith("test_") and callable(f)]
        tests.sort(key=lambda nf: nf[1].__code__.co_firstlineno)
        for name, fn in tests:
            yield fname, f"{fname[5:-3]}/{name[5:]}", fn, module


def run_integration(patterns, keep, results, sanitizers=False):
    label = "asan/" if sanitizers else ""
    if sanitizers and not os.path.exists(ASAN_BINARY):
        print(f"FAIL asan-pass\n    {ASAN_BINARY} is missing: run tools/sanitize build (tools/test does)")
        results["failed"] += 1
        return
    not_repeated = []
    for fname, full, fn, module in integration_tests():
        if full is None:
            if not sanitizers:
                results["failed"] += 1
                print(f"FAIL {fname}\n" + indent(fn))
            continue
        if patterns and not any(p in label + full for p in patterns):
            continue
        if sanitizers:
            reason = getattr(fn, "not_under_sanitizers", None) or getattr(
                module, "NOT_UNDER_SANITIZERS", None)
            if reason:
                not_repeated.append(f"{full} ({reason})")
                continue
        run_one(label + full, fn, keep, results, sanitizers)
    if not_repeated:
        print("asan pass: not repeated, they check artifacts or tools rather than the program:")
        for line in not_repeated:
            print(f"    {line}")


def run_one(full, fn, keep, results, sanitizers):
    ctx = testlib.Context(ROOT, full, keep=keep, binary=ASAN_BINARY if sanitizers else None,
                          unit=ASAN_UNIT if sanitizers else None)
    report_dir = ctx.path("sanitizer-reports")
    saved_env = dict(os.environ)
    if sanitizers:
        os.makedirs(report_dir)
        os.environ.update(sanitizer_env(report_dir))
    started = time.monotonic()
    try:
        fn(ctx)
        ctx.stop_all()
        reports = sanitizer_reports(report_dir)
        if reports:
            raise AssertionError("a sanitizer reported a bug in llmsweep:\n" + reports)
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
        ctx.stop_all()
        reports = sanitizer_reports(report_dir)
        if reports:
            detail += indent("sanitizer reports:\n" + reports)
    finally:
        ctx.close()
        os.environ.clear()
        os.environ.update(saved_env)
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
    parser.add_argument("--no-asan", action="store_true",
                        help="skip the integration tests' sanitizer pass (quicker local runs)")
    parser.add_argument("--keep", action="store_true", help="keep each test's temporary folder")
    parser.add_argument("patterns", nargs="*", help="run only tests whose names contain one")
    args = parser.parse_args()
    results = {"passed": 0, "failed": 0, "skipped": 0}
    if not args.integration_only:
        run_unit(args.patterns, results)
    if not args.unit_only:
        run_integration(args.patterns, args.keep, results)
        testlib.end_pass()
        if not args.no_asan:
            run_integration(args.patterns, args.keep, results, sanitizers=True)
    line = f"{results['passed']} passed, {results['failed']} failed"
    if results["skipped"]:
        line += f", {results['skipped']} skipped"
    print(line)
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
