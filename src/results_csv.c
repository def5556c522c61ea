/* results_csv.c: benchmarks.csv, one row per level. The column names are a
 * contract (scripts read them): add columns at the end, never rename.
 * Latencies and token counts are of successful requests; rates count
 * successful requests in the measured window; empty cells are values the
 * results do not have (e.g. send lag of a closed-loop level). */
#include <string.h>

#include "outputs.h"

/* Which statistic: a percentile index (results.h) or one of these. */
enum {
    MEAN = -1,
    MAX = -2
};

/* A column is a statistic of a metric's successful split, or one of the
 * level's own fields (metric < 0). */
enum special {
    LEVEL = -1,
    STRATEGY = -2,
    TARGET = -3,
    DURATION = -4,
    SUCCESSFUL = -5,
    ERRORED = -6,
    INCOMPLETE = -7,
    TOTAL = -8,
    GOODPUT_RPS = -9,
    GOODPUT_TPS = -10,
    COST_OUTPUT = -11,
    COST_TOTAL = -12,
    ABORTED = -13,
};

static const struct column {
    const char *name;
    int metric;
    int stat;
} columns[] = {
    {"level", LEVEL, MEAN},
    {"strategy", STRATEGY, MEAN},
    {"target", TARGET, MEAN},
    {"duration_s", DURATION, MEAN},
    {"requests_successful", SUCCESSFUL, MEAN},
    {"requests_errored", ERRORED, MEAN},
    {"requests_incomplete", INCOMPLETE, MEAN},
    {"requests_total", TOTAL, MEAN},
    {"requests_per_second", METRIC_REQUESTS_PER_SECOND, MEAN},
    {"output_tokens_per_second", METRIC_OUTPUT_TOKENS_PER_SECOND, MEAN},
    {"prompt_tokens_per_second", METRIC_PROMPT_TOKENS_PER_SECOND, MEAN},
    {"total_tokens_per_second", METRIC_TOKENS_PER_SECOND, MEAN},
    {"concurrency_mean", METRIC_REQUEST_CONCURRENCY, MEAN},
    {"ttft_ms_mean", METRIC_TIME_TO_FIRST_TOKEN_MS, MEAN},
    {"ttft_ms_p50", METRIC_TIME_TO_FIRST_TOKEN_MS, P50},
    {"ttft_ms_p90", METRIC_TIME_TO_FIRST_TOKEN_MS, P90},
    {"ttft_ms_p95", METRIC_TIME_TO_FIRST_TOKEN_MS, P95},
    {"ttft_ms_p99", METRIC_TIME_TO_FIRST_TOKEN_MS, P99},
    {"itl_ms_mean", METRIC_INTER_TOKEN_LATENCY_MS, MEAN},
    {"itl_ms_p50", METRIC_INTER_TOKEN_LATENCY_MS, P50},
    {"itl_ms_p90", METRIC_INTER_TOKEN_LATENCY_MS, P90},
    {"itl_ms_p95", METRIC_INTER_TOKEN_LATENCY_MS, P95},
    {"itl_ms_p99", METRIC_INTER_TOKEN_LATENCY_MS, P99},
    {"tpot_ms_mean", METRIC_TIME_PER_OUTPUT_TOKEN_MS, MEAN},
    {"tpot_ms_p50", METRIC_TIME_PER_OUTPUT_TOKEN_MS, P50},
    {"tpot_ms_p90", METRIC_TIME_PER_OUTPUT_TOKEN_MS, P90},
    {"tpot_ms_p99", METRIC_TIME_PER_OUTPUT_TOKEN_MS, P99},
    {"inter_chunk_ms_p50", METRIC_INTER_CHUNK_LATENCY_MS, P50},
    {"inter_chunk_ms_p99", METRIC_INTER_CHUNK_LATENCY_MS, P99},
    {"inter_chunk_ms_max", METRIC_INTER_CHUNK_LATENCY_MS, MAX},
    {"latency_s_mean", METRIC_REQUEST_LATENCY, MEAN},
    {"latency_s_p50", METRIC_REQUEST_LATENCY, P50},
    {"latency_s_p90", METRIC_REQUEST_LATENCY, P90},
    {"latency_s_p95", METRIC_REQUEST_LATENCY, P95},
    {"latency_s_p99", METRIC_REQUEST_LATENCY, P99},
    {"prompt_tokens_mean", METRIC_PROMPT_TOKEN_COUNT, MEAN},
    {"output_tokens_mean", METRIC_OUTPUT_TOKEN_COUNT, MEAN},
    {"send_lag_ms_p50", METRIC_SEND_LAG_MS, P50},
    {"send_lag_ms_p99", METRIC_SEND_LAG_MS, P99},
    {"scheduled_latency_s_p50", METRIC_SCHEDULED_LATENCY, P50},
    {"scheduled_latency_s_p99", METRIC_SCHEDULED_LATENCY, P99},
    {"goodput_requests_per_second", GOODPUT_RPS, MEAN},
    {"goodput_output_tokens_per_second", GOODPUT_TPS, MEAN},
    {"cost_per_1k_output_tokens_usd", COST_OUTPUT, MEAN},
    {"cost_per_1k_total_tokens_usd", COST_TOTAL, MEAN},
    {"aborted", ABORTED, MEAN},
};

static bool statistic(const struct distribution *d, int stat, double *out)
{
    if (!d->present)
        return false;
    *out = stat == MEAN ? d->mean : stat == MAX ? d->max : d->percentiles[stat];
    return true;
}

/* RFC 4180: quote a field that holds a comma, quote or line break. */
static void put_text(struct buf *out, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        buf_puts(out, s);
        return;
    }
    buf_putc(out, '"');
    for (; *s; s++) {
        if (*s == '"')
            buf_putc(out, '"');
        buf_putc(out, *s);
    }
    buf_putc(out, '"');
}

static void put_cell(struct buf *out, const struct level_summary *l, size_t index,
                     const struct column *c)
{
    double v = 0;
    bool have = true;
    switch (c->metric) {
    case LEVEL: buf_printf(out, "%zu", index); return;
    case STRATEGY: put_text(out, l->strategy); return;
    case ABORTED: buf_puts(out, l->aborted ? "true" : "false"); return;
    case SUCCESSFUL: buf_printf(out, "%lld", (long long)l->request_totals.successful); return;
    case ERRORED: buf_printf(out, "%lld", (long long)l->request_totals.errored); return;
    case INCOMPLETE: buf_printf(out, "%lld", (long long)l->request_totals.incomplete); return;
    case TOTAL: buf_printf(out, "%lld", (long long)l->request_totals.total); return;
    case TARGET: v = l->target; break;
    case DURATION: v = l->duration; break;
    case GOODPUT_RPS: have = l->has_goodput, v = l->goodput_requests_per_second; break;
    case GOODPUT_TPS: have = l->has_goodput, v = l->goodput_output_tokens_per_second; break;
    case COST_OUTPUT: have = l->has_cost, v = l->cost_per_1k_output_usd; break;
    case COST_TOTAL: have = l->has_cost, v = l->cost_per_1k_total_usd; break;
    default: have = statistic(&l->metrics[c->metric].successful, c->stat, &v); break;
    }
    if (have)
        buf_printf(out, "%.10g", v);
}

void csv_render(const struct results *r, struct buf *out)
{
    for (size_t c = 0; c < ARRAY_LEN(columns); c++)
        buf_printf(out, "%s%s", c ? "," : "", columns[c].name);
    buf_putc(out, '\n');
    for (size_t i = 0; i < r->n_levels; i++) {
        for (size_t c = 0; c < ARRAY_LEN(columns); c++) {
            if (c)
                buf_putc(out, ',');
            put_cell(out, &r->levels[i], i, &columns[c]);
        }
        buf_putc(out, '\n');
    }
}
