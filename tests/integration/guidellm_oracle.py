"""GuideLLM's own statistics functions as the oracle for llmsweep's (stats.h).

Run with the Python of the pinned GuideLLM venv (tools/peers/guidellm-env):

    $GUIDELLM_VENV/bin/python tests/integration/guidellm_oracle.py > oracle.json

It builds deterministic cases (hand-picked edge cases and seeded random ones:
ties, one sample, weights, zero and tiny weights, rate events closer than the
0.1 ms merge threshold, intervals crossing the window) and prints, for each,
the inputs and the summary GuideLLM 0.8.1 computes with
DistributionSummary.from_values, .rate_distribution_from_timings and
.concurrency_distribution_from_timings. tests/unit/test_stats_oracle.c checks
llmsweep's C against the output; tests/fixtures/stats/guidellm-oracle.json is
this script's output, and test_stats_oracle.py checks it is still what GuideLLM
computes.
"""
import json
import random
import sys

from guidellm.schemas.base.statistics import DistributionSummary

FIELDS = ("mean", "median", "mode", "variance", "std_dev", "min", "max", "count", "total_sum")


def summary(d):
    out = {k: float(getattr(d, k)) for k in FIELDS}
    out["percentiles"] = {k: float(v) for k, v in d.percentiles.model_dump().items()}
    return out


def values_case(name, pairs):
    d = DistributionSummary.from_values([(float(v), float(w)) for v, w in pairs])
    return {"kind": "values", "name": name, "samples": [[v, w] for v, w in pairs],
            "expected": summary(d)}


def rate_case(name, events, start, end):
    d = DistributionSummary.rate_distribution_from_timings(
        [(float(t), float(w)) for t, w in events], start_time=start, end_time=end)
    return {"kind": "rate", "name": name, "samples": [[t, w] for t, w in events],
            "start": start, "end": end, "expected": summary(d)}


def concurrency_case(name, intervals, start, end):
    d = DistributionSummary.concurrency_distribution_from_timings(
        [(float(a), float(b), 1.0) for a, b in intervals], start_time=start, end_time=end)
    return {"kind": "concurrency", "name": name, "samples": [[a, b] for a, b in intervals],
            "start": start, "end": end, "expected": summary(d)}


MASK = (1 << 64) - 1


def generated(seed, n, kind, coarse=0):
    """Large inputs both sides make from a seed (test_stats_oracle.c has the same
    generator), so the fixture need not hold them: a 64-bit LCG, exact arithmetic."""
    x, out = seed, []
    for _ in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) & MASK
        hi, mid = x >> 40, (x >> 20) & 0xFFFFF
        if kind == "values":
            out.append((float(hi % coarse) if coarse else hi / 8.0, 1.0 + mid % 3))
        elif kind == "rate":
            out.append((hi % 12000000 / 1000000.0 - 1.0, 1.0 + mid % 3))
        else:
            start = hi % 12000000 / 1000000.0 - 1.0
            out.append((start, start + mid % 3000000 / 1000000.0))
    return out


def generated_case(name, seed, n, kind, coarse=0):
    samples = generated(seed, n, kind, coarse)
    if kind == "values":
        case = values_case(name, samples)
    elif kind == "rate":
        case = rate_case(name, samples, 0.0, 10.0)
    else:
        case = concurrency_case(name, samples, 0.0, 10.0)
    del case["samples"]
    case["generate"] = {"seed": seed, "n": n, "coarse": coarse}
    return case


def cases():
    rng = random.Random(20261128)
    out = [
        values_case("one sample", [(3.25, 1)]),
        values_case("ties", [(5, 1), (5, 1), (1, 1), (1, 1), (1, 1), (2, 1)]),
        values_case("weights", [(10, 3), (20, 1)]),
        values_case("one to ten", [(i, 1) for i in range(1, 11)]),
        values_case("zero weights", [(1, 0), (2, 1), (3, 0)]),
        values_case("tiny weights", [(1, 1e-7), (2, 2e-7), (3, 1e-7)]),
        values_case("equal weights, mode is the smallest", [(9, 2), (4, 2), (7, 1)]),
    ]
    for i in range(24):
        n = rng.choice([1, 2, 3, 7, 8, 9, 50, 127, 128, 129, 300])
        coarse = i % 3 == 0  # few distinct values: many ties
        samples = []
        for _ in range(n):
            v = rng.randint(0, 9) * 12.5 if coarse else rng.lognormvariate(3, 0.7)
            w = rng.choice([1, 1, 1, 2, 31, 0]) if i % 2 else 1
            samples.append((v, w))
        out.append(values_case(f"random values {i} (n={n})", samples))

    out.append(rate_case("three events", [(1, 1), (2, 1), (3, 1), (5, 1)], 0.0, 4.0))
    out.append(rate_case("merged events", [(1, 2), (1.00005, 3)], 0.0, 2.0))
    out.append(rate_case("no events", [], 0.0, 10.0))
    for i in range(8):
        n = rng.choice([1, 5, 40, 200])
        events = []
        for _ in range(n):
            t = rng.uniform(-1.0, 11.0)
            events.append((t, rng.choice([1.0, 1.0, 64.0, 31 / 7])))
            if rng.random() < 0.2:  # a neighbour inside the merge threshold
                events.append((t + rng.uniform(0, 2e-4), 1.0))
        out.append(rate_case(f"random events {i} (n={len(events)})", events, 0.0, 10.0))

    out.append(concurrency_case("two overlapping", [(0, 2), (1, 3)], 0.0, 4.0))
    out.append(concurrency_case("before and after the window", [(-1, 1), (5, 6)], 0.0, 2.0))
    out.append(concurrency_case("none", [], 0.0, 2.0))
    for i in range(8):
        n = rng.choice([1, 4, 30, 150])
        intervals = []
        for _ in range(n):
            a = rng.uniform(-2.0, 11.0)
            intervals.append((a, a + rng.uniform(0.00001, 3.0)))
        out.append(concurrency_case(f"random intervals {i} (n={n})", intervals, 0.0, 10.0))
    # Large enough for stats.c's radix sort.
    out.append(generated_case("generated values with ties (n=6000)", 1, 6000, "values", 50))
    out.append(generated_case("generated values (n=10000)", 2, 10000, "values"))
    out.append(generated_case("generated events (n=8000)", 3, 8000, "rate"))
    out.append(generated_case("generated intervals (n=8000)", 4, 8000, "concurrency"))
    return out


if __name__ == "__main__":
    # One case per line: small, and a diff shows which case changed.
    lines = [json.dumps(c, separators=(",", ":")) for c in cases()]
    sys.stdout.write('{"generator":"guidellm 0.8.1 DistributionSummary","cases":[\n'
                     + ",\n".join(lines) + "\n]}\n")
