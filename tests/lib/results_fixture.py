"""Results files in llmsweep's layout with chosen numbers (stdlib only).

The publish tests need results whose every figure they know in advance, so
that what lands in the registry can be checked against an independent
computation. `llmsweep_results(...)` returns the JSON object of a
benchmarks.json as `llmsweep run` writes it (GuideLLM's v0.7+ layout plus the
top-level "llmsweep" object; src/results_load.c reads it), one benchmark per
level:

    doc = llmsweep_results("run-1", [level("concurrent", 5, concurrency=4.8, ...)])
    write(path, doc)
"""
import json

PERCENTILES = ("p001", "p01", "p05", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "p999")


def dist(mean, p50=None, p90=None, p99=None):
    p50 = mean if p50 is None else p50
    p90 = p50 if p90 is None else p90
    p99 = p90 if p99 is None else p99
    pct = {k: p50 for k in PERCENTILES}
    pct.update(p90=p90, p95=p90, p99=p99, p999=p99)
    d = {"mean": mean, "median": p50, "mode": p50, "variance": 0.0, "std_dev": 0.0,
         "min": min(mean, p50), "max": p99, "count": 10, "total_sum": mean * 10,
         "percentiles": pct}
    return {"successful": d, "errored": None, "incomplete": None, "total": dict(d)}


def level(strategy, target, concurrency, tps, out_tps, rps=2.0, ttft=(100.0, 150.0, 200.0),
          itl=(10.0, 12.0, 15.0), latency=(4.0, 4.5, 5.0), successful=100, errored=0,
          incomplete=0, start=1795843000.0):
    """One benchmark (level) with the given figures (ms for TTFT/ITL, s for latency)."""
    strat = {"type_": strategy}
    if strategy == "concurrent":
        strat["streams"] = target
    elif strategy in ("constant", "poisson"):
        strat["rate"] = target
    return {
        "type_": "generative_benchmark",
        "config": {"strategy": strat, "run_id": None},
        "start_time": start,
        "end_time": start + 120,
        "duration": 120.0,
        "metrics": {
            "request_totals": {"successful": successful, "errored": errored,
                               "incomplete": incomplete,
                               "total": successful + errored + incomplete},
            "request_concurrency": dist(concurrency),
            "requests_per_second": dist(rps),
            "tokens_per_second": dist(tps),
            "output_tokens_per_second": dist(out_tps),
            "time_to_first_token_ms": dist(sum(ttft) / 3, *ttft),
            "inter_token_latency_ms": dist(sum(itl) / 3, *itl),
            "request_latency": dist(sum(latency) / 3, *latency),
        },
    }


def sweep(start=1795843000.0):
    """Concurrency 1, 5, 10, 25 with distinct, known figures. Throughputs are not whole
    numbers on purpose: the registry writes a double 1250.0 back as `1250`, which the
    Python client then returns as an int."""
    return [
        level("synchronous", 1, 1.0, 300.0, 200.0, rps=0.25, ttft=(50, 60, 70), itl=(8, 9, 10),
              latency=(3.0, 3.2, 3.5), start=start),
        level("concurrent", 5, 4.8, 1250.5, 800.5, rps=1.2, ttft=(100, 150, 200),
              itl=(10, 12, 15), latency=(4.0, 4.5, 5.0), start=start + 120),
        level("concurrent", 10, 9.6, 2100.75, 1400.25, rps=2.1, ttft=(180, 260, 330),
              itl=(13, 16, 21), latency=(4.8, 5.5, 6.1), start=start + 240),
        level("concurrent", 25, 23.9, 3300.0, 2200.0, rps=3.0, ttft=(420, 610, 900),
              itl=(20, 26, 35), latency=(7.1, 8.0, 9.4), errored=3, start=start + 360),
    ]


def llmsweep_results(run_id, levels, model="mistral-small-24b", instance_type="g6.4xlarge",
                     gpu_count=1, hourly_usd=1.3232, started_at="2026-11-28T05:00:00Z"):
    return {
        "metadata": {"version": 2},
        "llmsweep": {
            "version": "0.1.0",
            "run_id": run_id,
            "started_at": started_at,
            "model": model,
            "profile": "concurrent",
            "instance": {"type": instance_type, "gpu_count": gpu_count,
                         "hourly_usd": hourly_usd},
        },
        "benchmarks": levels,
    }


def write(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def cost_per_1k(hourly_usd, tokens_per_second):
    """The oracle for the cost figures: hourly / (tokens/s * 3600) * 1000."""
    return hourly_usd / (tokens_per_second * 3600.0) * 1000.0
