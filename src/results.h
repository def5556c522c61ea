/* results.h: benchmark results, the form every output and `publish` reads.
 *
 * `struct results` mirrors GuideLLM's results layout (v0.4+ key names), so
 * one model serves both directions:
 *   - stats turns the engine's records (record.h) into it;
 *   - the writers render it (benchmarks.json, CSV, HTML, console, summary);
 *   - results_load() reads benchmarks.json back, ours or GuideLLM's of any
 *     era (json-field-map.md: A <= 0.3.1, B 0.4-0.6, C 0.7+), for `report`,
 *     `compare` and `publish`.
 * Values that a file does not carry stay absent (`present == false`) rather
 * than zero, so a reader can tell "0 ms" from "not reported".
 *
 * Units follow GuideLLM: *_ms metrics in milliseconds, request latency in
 * seconds, rates per second; times are Unix epoch seconds.
 */
#ifndef LLMSWEEP_RESULTS_H
#define LLMSWEEP_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Where `run` writes its results, and the marker it writes last, which
 * `wait` looks for: FILE + RESULTS_MARKER_SUFFIX. */
#define RESULTS_FILE_NAME "benchmarks.json"
#define RESULTS_MARKER_SUFFIX ".complete"

/* GuideLLM's percentile set, in this order: p001 p01 p05 p10 p25 p50 p75
 * p90 p95 p99 p999 (0.1 % ... 99.9 %). */
#define PERCENTILE_COUNT 11
extern const char *const percentile_keys[PERCENTILE_COUNT];
extern const double percentile_levels[PERCENTILE_COUNT]; /* 0.001 ... 0.999 */
enum percentile_index {
    P001,
    P01,
    P05,
    P10,
    P25,
    P50,
    P75,
    P90,
    P95,
    P99,
    P999
};

struct distribution {
    bool present;
    double count, total_sum, mean, median, mode, variance, std_dev, min, max;
    double percentiles[PERCENTILE_COUNT];
};

/* GuideLLM's StatusDistributionSummary. */
struct status_distribution {
    struct distribution successful, errored, incomplete, total;
};

enum metric_id {
    METRIC_REQUESTS_PER_SECOND,
    METRIC_REQUEST_CONCURRENCY,
    METRIC_REQUEST_LATENCY, /* seconds */
    METRIC_PROMPT_TOKEN_COUNT,
    METRIC_OUTPUT_TOKEN_COUNT,
    METRIC_TOTAL_TOKEN_COUNT,
    METRIC_TIME_TO_FIRST_TOKEN_MS,
    METRIC_TIME_PER_OUTPUT_TOKEN_MS, /* vLLM's TPOT: (latency - TTFT) / (output - 1) */
    METRIC_INTER_TOKEN_LATENCY_MS,   /* GuideLLM's weighted per-request ITL */
    METRIC_PROMPT_TOKENS_PER_SECOND,
    METRIC_OUTPUT_TOKENS_PER_SECOND,
    METRIC_TOKENS_PER_SECOND, /* prompt + output */
    /* llmsweep's additions; GuideLLM has no key for them. */
    METRIC_INTER_CHUNK_LATENCY_MS, /* gaps between consecutive chunks (vLLM's ITL) */
    METRIC_SCHEDULED_LATENCY,      /* open loop: end - intended send time, seconds */
    METRIC_SEND_LAG_MS,            /* open loop: actual - intended send time */
    METRIC_COUNT
};
/* The JSON key of each metric ("time_to_first_token_ms", ...). */
extern const char *const metric_keys[METRIC_COUNT];

struct request_totals {
    int64_t successful, errored, incomplete, total;
};

struct level_summary {
    char *strategy; /* "synchronous", "concurrent", "throughput", "constant", "poisson" */
    double target;  /* streams (closed loop) or requests/s (open loop); 0: unknown */
    double start_time, end_time; /* epoch seconds */
    double duration;             /* the measured window, seconds */
    struct request_totals request_totals;
    struct status_distribution metrics[METRIC_COUNT];

    /* llmsweep's additions */
    bool has_cost;
    double cost_per_1k_output_usd; /* hourly / (output tok/s * 3600) * 1000 */
    double cost_per_1k_total_usd;  /* same over prompt + output tokens */
    bool has_goodput;              /* the spec had SLOs */
    double goodput_requests_per_second;
    double goodput_output_tokens_per_second;
    int64_t goodput_requests;
    int64_t errors_by_class[16]; /* indexed by enum request_error (record.h) */
    bool aborted;
    char *abort_reason;
    int64_t goodput_determined; /* requests the SLOs were judged on (successful + errored) */
};

struct results {
    char *format;            /* "llmsweep", "guidellm-A", "guidellm-B", "guidellm-C" */
    char *generator_version; /* llmsweep's or GuideLLM's version, when known */
    char *run_id;
    char *started_at; /* ISO 8601 UTC */
    char *spec_name;
    char *model;
    char *endpoint;
    char *api; /* "chat" / "completions" */
    struct {
        char *type;
        int gpu_count; /* 0: unknown */
        char *gpu_type;
        double hourly_usd; /* 0: unknown */
    } instance;
    char *tokenizer_source;   /* NULL: no tokenizer */
    bool prompts_approximate; /* prompt lengths estimated (4 bytes a token), not counted */
    char *token_counts_from;  /* "server", "tokenizer", "mixed", or NULL */
    bool interrupted;         /* partial results */
    char *profile;            /* the run's load profile ("sweep", "concurrent", ...), or NULL */
    /* time_per_output_token_ms holds GuideLLM's TPOT, not vLLM's: true for
     * GuideLLM files ((last token - first token) / output tokens up to 0.3,
     * (last token - start) / output tokens from 0.4). */
    bool guidellm_tpot;
    struct {
        double ttft_ms, itl_ms, tpot_ms, latency_s; /* 0: not set */
    } slo;
    struct level_summary *levels;
    size_t n_levels;
};

/* Reads a results file: llmsweep's benchmarks.json or GuideLLM's of any
 * era. On failure returns false with one line in err naming the file and the
 * field (e.g. "results.json: benchmarks[2].metrics.request_totals: missing"). */
bool results_load(const char *path, struct results *out, struct buf *err);
/* The same for a file already in memory; `name` labels the messages. */
bool results_load_text(const char *name, const char *text, size_t len, struct results *out,
                       struct buf *err);
void results_free(struct results *results);

/* An epoch second as started_at writes it, "2026-11-28T05:19:44Z"; NULL
 * when the calendar cannot hold it. */
char *iso8601_utc(int64_t epoch_seconds);

#endif
