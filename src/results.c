/* results.c: the results model's tables and its destructor (results.h).
 * Reading files is in results_load.c, writing them in the output modules. */
#include "results.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const percentile_keys[PERCENTILE_COUNT] = {
    "p001", "p01", "p05", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "p999",
};

const double percentile_levels[PERCENTILE_COUNT] = {
    0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999,
};

const char *const metric_keys[METRIC_COUNT] = {
    [METRIC_REQUESTS_PER_SECOND] = "requests_per_second",
    [METRIC_REQUEST_CONCURRENCY] = "request_concurrency",
    [METRIC_REQUEST_LATENCY] = "request_latency",
    [METRIC_PROMPT_TOKEN_COUNT] = "prompt_token_count",
    [METRIC_OUTPUT_TOKEN_COUNT] = "output_token_count",
    [METRIC_TOTAL_TOKEN_COUNT] = "total_token_count",
    [METRIC_TIME_TO_FIRST_TOKEN_MS] = "time_to_first_token_ms",
    [METRIC_TIME_PER_OUTPUT_TOKEN_MS] = "time_per_output_token_ms",
    [METRIC_INTER_TOKEN_LATENCY_MS] = "inter_token_latency_ms",
    [METRIC_PROMPT_TOKENS_PER_SECOND] = "prompt_tokens_per_second",
    [METRIC_OUTPUT_TOKENS_PER_SECOND] = "output_tokens_per_second",
    [METRIC_TOKENS_PER_SECOND] = "tokens_per_second",
    [METRIC_INTER_CHUNK_LATENCY_MS] = "inter_chunk_latency_ms",
    /* GuideLLM >= 0.7 has this key with the same meaning and unit. */
    [METRIC_SCHEDULED_LATENCY] = "request_scheduled_latency",
    [METRIC_SEND_LAG_MS] = "send_lag_ms",
};

char *iso8601_utc(int64_t epoch_seconds)
{
    time_t t = (time_t)epoch_seconds;
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return NULL;
    char text[32];
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return xstrdup(text);
}

void results_free(struct results *results)
{
    if (!results)
        return;
    for (size_t i = 0; i < results->n_levels; i++) {
        free(results->levels[i].strategy);
        free(results->levels[i].abort_reason);
    }
    free(results->levels);
    free(results->format);
    free(results->generator_version);
    free(results->run_id);
    free(results->started_at);
    free(results->spec_name);
    free(results->model);
    free(results->endpoint);
    free(results->api);
    free(results->instance.type);
    free(results->instance.gpu_type);
    free(results->tokenizer_source);
    free(results->token_counts_from);
    free(results->profile);
    memset(results, 0, sizeof *results);
}
