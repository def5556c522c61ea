/* results_summary.c: summary.json for Tekton task results and the console
 * table printed at the end of a run (outputs.h). */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outputs.h"

/* Four significant digits are plenty for a summary and keep it small. */
static double short_number(double v)
{
    char text[32];
    snprintf(text, sizeof text, "%.4g", v);
    return strtod(text, NULL);
}

static void add_short(cJSON *o, const char *key, double v)
{
    cJSON_AddNumberToObject(o, key, short_number(v));
}

static void add_percentiles(cJSON *o, const char *key, const struct distribution *d, bool p90)
{
    if (!d->present) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    cJSON *p = cJSON_AddObjectToObject(o, key);
    add_short(p, "p50", d->percentiles[P50]);
    if (p90)
        add_short(p, "p90", d->percentiles[P90]);
    add_short(p, "p99", d->percentiles[P99]);
}

/* detail 2: everything; 1: without p90s and prompt rates; 0: the minimum. */
static cJSON *level_json(const struct level_summary *l, int detail)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "strategy", l->strategy ? l->strategy : "");
    add_short(o, "target", l->target);
    cJSON_AddNumberToObject(o, "ok", (double)l->request_totals.successful);
    cJSON_AddNumberToObject(o, "errors", (double)l->request_totals.errored);
    if (detail > 0)
        cJSON_AddNumberToObject(o, "incomplete", (double)l->request_totals.incomplete);
    const struct status_distribution *m = l->metrics;
    add_short(o, "requests_per_s", m[METRIC_REQUESTS_PER_SECOND].successful.mean);
    add_short(o, "output_tokens_per_s", m[METRIC_OUTPUT_TOKENS_PER_SECOND].successful.mean);
    add_short(o, "total_tokens_per_s", m[METRIC_TOKENS_PER_SECOND].successful.mean);
    if (detail > 0)
        add_short(o, "concurrency", m[METRIC_REQUEST_CONCURRENCY].successful.mean);
    add_percentiles(o, "ttft_ms", &m[METRIC_TIME_TO_FIRST_TOKEN_MS].successful, detail > 1);
    add_percentiles(o, "itl_ms", &m[METRIC_INTER_TOKEN_LATENCY_MS].successful, detail > 1);
    if (detail > 0)
        add_percentiles(o, "latency_s", &m[METRIC_REQUEST_LATENCY].successful, detail > 1);
    if (l->has_cost) {
        add_short(o, "usd_per_1k_output_tokens", l->cost_per_1k_output_usd);
        add_short(o, "usd_per_1k_total_tokens", l->cost_per_1k_total_usd);
    }
    if (l->has_goodput && detail > 0)
        add_short(o, "goodput_requests_per_s", l->goodput_requests_per_second);
    if (l->aborted)
        cJSON_AddTrueToObject(o, "aborted");
    return o;
}

static char *render(const struct results *r, int detail, size_t max_levels)
{
    cJSON *root = cJSON_CreateObject();
    if (r->run_id)
        cJSON_AddStringToObject(root, "run_id", r->run_id);
    if (r->model)
        cJSON_AddStringToObject(root, "model", r->model);
    if (r->spec_name)
        cJSON_AddStringToObject(root, "spec", r->spec_name);
    if (r->instance.type)
        cJSON_AddStringToObject(root, "instance", r->instance.type);
    if (r->instance.hourly_usd > 0)
        add_short(root, "hourly_usd", r->instance.hourly_usd);
    cJSON_AddBoolToObject(root, "complete", !r->interrupted);
    cJSON_AddStringToObject(root, "results", RESULTS_FILE_NAME);
    cJSON *levels = cJSON_AddArrayToObject(root, "levels");
    size_t n = r->n_levels < max_levels ? r->n_levels : max_levels;
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(levels, level_json(&r->levels[i], detail));
    if (n < r->n_levels)
        cJSON_AddNumberToObject(root, "levels_omitted", (double)(r->n_levels - n));
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

void summary_render(const struct results *r, struct buf *out)
{
    /* Less detail first, then fewer levels, until it fits. */
    char *text = NULL;
    for (int detail = 2; detail >= 0; detail--) {
        free(text);
        text = render(r, detail, r->n_levels);
        if (strlen(text) < SUMMARY_MAX_BYTES)
            break;
    }
    for (size_t keep = r->n_levels; strlen(text) >= SUMMARY_MAX_BYTES && keep > 0; keep--) {
        free(text);
        text = render(r, 0, keep - 1);
    }
    buf_puts(out, text);
    buf_putc(out, '\n');
    free(text);
}

/* One cell: a number in a fixed width, "-" when absent. */
static void cell(FILE *out, int width, bool have, double v, int decimals)
{
    if (have)
        fprintf(out, " %*.*f", width, decimals, v);
    else
        fprintf(out, " %*s", width, "-");
}

static int decimals_for(double v)
{
    return v >= 100 ? 1 : v >= 1 ? 2 : 4;
}

void console_table(const struct results *r, FILE *out)
{
    fprintf(out, "\n%s%s%s  %s\n", r->model ? r->model : "results", r->instance.type ? " on " : "",
            r->instance.type ? r->instance.type : "", r->run_id ? r->run_id : "");
    fprintf(out, "%-14s %9s %9s %9s %9s %9s %9s %9s %9s %7s %9s %9s\n", "level", "req/s",
            "out tok/s", "tot tok/s", "TTFT p50", "TTFT p99", "ITL p50", "ITL p99", "lat p50",
            "errors", "$/1K out", "$/1K tot");
    fprintf(out, "%-14s %9s %9s %9s %9s %9s %9s %9s %9s %7s %9s %9s\n", "", "", "", "", "ms", "ms",
            "ms", "ms", "s", "", "", "");
    for (size_t i = 0; i < r->n_levels; i++) {
        const struct level_summary *l = &r->levels[i];
        const struct status_distribution *m = l->metrics;
        char *name = level_label(l);
        fprintf(out, "%-14s", name);
        free(name);
        const struct distribution *rps = &m[METRIC_REQUESTS_PER_SECOND].successful;
        const struct distribution *otps = &m[METRIC_OUTPUT_TOKENS_PER_SECOND].successful;
        const struct distribution *tps = &m[METRIC_TOKENS_PER_SECOND].successful;
        const struct distribution *ttft = &m[METRIC_TIME_TO_FIRST_TOKEN_MS].successful;
        const struct distribution *itl = &m[METRIC_INTER_TOKEN_LATENCY_MS].successful;
        const struct distribution *lat = &m[METRIC_REQUEST_LATENCY].successful;
        cell(out, 9, rps->present, rps->mean, decimals_for(rps->mean));
        cell(out, 9, otps->present, otps->mean, 1);
        cell(out, 9, tps->present, tps->mean, 1);
        cell(out, 9, ttft->present, ttft->percentiles[P50], 1);
        cell(out, 9, ttft->present, ttft->percentiles[P99], 1);
        cell(out, 9, itl->present, itl->percentiles[P50], 2);
        cell(out, 9, itl->present, itl->percentiles[P99], 2);
        cell(out, 9, lat->present, lat->percentiles[P50], 3);
        fprintf(out, " %7lld", (long long)l->request_totals.errored);
        cell(out, 9, l->has_cost, l->cost_per_1k_output_usd, 4);
        cell(out, 9, l->has_cost, l->cost_per_1k_total_usd, 4);
        fprintf(out, "%s\n", l->aborted ? "  (aborted)" : "");
    }
    if (r->interrupted)
        fprintf(out, "interrupted: these results are partial\n");
}
