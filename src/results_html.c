/* results_html.c: report.html, one self-contained page (outputs.h).
 *
 * Inline CSS and hand-made SVG only: no script, no font, no image, nothing
 * fetched (a Content-Security-Policy of default-src 'none' says so to the
 * browser, which then reports any attempt as an error). The page holds the
 * run's metadata, a table per level, line charts of throughput, TTFT, ITL,
 * latency and cost against load level, and the percentile curve of TTFT,
 * ITL and latency per level. Points carry SVG <title> tooltips. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "outputs.h"

#define CHART_W 560
#define CHART_H 300
#define PAD_LEFT 64
#define PAD_RIGHT 16
#define PAD_TOP 36
#define PAD_BOTTOM 56

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#17becf"};

struct series {
    const char *name;
    double *values; /* NAN: no value at this x */
};

static void escape(struct buf *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': buf_puts(out, "&lt;"); break;
        case '>': buf_puts(out, "&gt;"); break;
        case '&': buf_puts(out, "&amp;"); break;
        case '"': buf_puts(out, "&quot;"); break;
        case '\'': buf_puts(out, "&#39;"); break;
        default: buf_putc(out, *s); break;
        }
    }
}

/* A round step (1, 2 or 5 times a power of ten) giving about five ticks. */
static double nice_step(double max)
{
    if (!(max > 0))
        return 1;
    double raw = max / 5, power = pow(10, floor(log10(raw)));
    double f = raw / power;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}

static void number_text(char *text, size_t size, double v)
{
    snprintf(text, size, "%.4g", v);
}

/* A line chart of `n_series` series over categorical x labels. */
static void line_chart(struct buf *out, const char *title, const char *y_label,
                       char *const *x_labels, size_t n_x, const struct series *series,
                       size_t n_series)
{
    double max = 0;
    for (size_t s = 0; s < n_series; s++) {
        for (size_t i = 0; i < n_x; i++) {
            if (isfinite(series[s].values[i]) && series[s].values[i] > max)
                max = series[s].values[i];
        }
    }
    if (max > 1e300)
        max = 1e300; /* a damaged file's values must not break the axis */
    double step = nice_step(max), top = step * ceil(max / step);
    if (!(top > 0) || !isfinite(top))
        top = step;
    double plot_w = CHART_W - PAD_LEFT - PAD_RIGHT, plot_h = CHART_H - PAD_TOP - PAD_BOTTOM;
#define X(i) (PAD_LEFT + (n_x > 1 ? plot_w * (double)(i) / (double)(n_x - 1) : plot_w / 2))
#define Y(v) (PAD_TOP + plot_h - plot_h * fmin(fmax((v), 0), top) / top)

    buf_printf(out,
               "<figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" "
               "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"",
               CHART_W, CHART_H, CHART_W, CHART_H);
    escape(out, title);
    buf_puts(out, "\">\n<text class=\"title\" x=\"8\" y=\"20\">");
    escape(out, title);
    buf_puts(out, "</text>\n");
    char text[32];
    for (int k = 0; k <= 12 && k * step <= top * 1.0000001; k++) {
        double v = k * step;
        number_text(text, sizeof text, v);
        buf_printf(out,
                   "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
                   "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                   PAD_LEFT, CHART_W - PAD_RIGHT, Y(v), Y(v), PAD_LEFT - 6, Y(v) + 4, text);
    }
    for (size_t i = 0; i < n_x; i++) {
        buf_printf(out, "<text class=\"tick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", X(i),
                   CHART_H - PAD_BOTTOM + 16);
        escape(out, x_labels[i]);
        buf_puts(out, "</text>\n");
    }
    buf_printf(out,
               "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
               "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%.1f\"/>\n",
               PAD_LEFT, CHART_W - PAD_RIGHT, Y(0), Y(0), PAD_LEFT, PAD_LEFT, PAD_TOP, Y(0));
    buf_printf(out,
               "<text class=\"axis-label\" transform=\"translate(14 %d) rotate(-90)\" "
               "text-anchor=\"middle\">",
               PAD_TOP + (int)plot_h / 2);
    escape(out, y_label);
    buf_puts(out, "</text>\n");

    double legend_x = PAD_LEFT;
    for (size_t s = 0; s < n_series; s++) {
        const char *color = palette[s % ARRAY_LEN(palette)];
        buf_printf(out, "<g class=\"series\" data-series=\"%zu\">", s);
        bool open = false;
        for (size_t i = 0; i < n_x; i++) {
            double v = series[s].values[i];
            if (!isfinite(v)) {
                if (open)
                    buf_puts(out, "\"/>");
                open = false;
                continue;
            }
            if (!open)
                buf_printf(out,
                           "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                           "points=\"",
                           color);
            buf_printf(out, "%.1f,%.1f ", X(i), Y(v));
            open = true;
        }
        if (open)
            buf_puts(out, "\"/>");
        for (size_t i = 0; i < n_x; i++) {
            double v = series[s].values[i];
            if (!isfinite(v))
                continue;
            number_text(text, sizeof text, v);
            buf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>", X(i),
                       Y(v), color);
            escape(out, series[s].name);
            buf_puts(out, " @ ");
            escape(out, x_labels[i]);
            buf_printf(out, ": %s</title></circle>", text);
        }
        buf_puts(out, "</g>\n");
        /* Legend along the bottom, each entry as wide as its name needs. */
        double lx = legend_x;
        legend_x += 28 + 6.5 * (double)strlen(series[s].name);
        buf_printf(out,
                   "<rect x=\"%.1f\" y=\"%d\" width=\"12\" height=\"4\" fill=\"%s\"/>"
                   "<text class=\"legend\" x=\"%.1f\" y=\"%d\">",
                   lx, CHART_H - 18, color, lx + 16, CHART_H - 13);
        escape(out, series[s].name);
        buf_puts(out, "</text>\n");
    }
    buf_puts(out, "</svg></figure>\n");
#undef X
#undef Y
}

static char **level_labels(const struct results *r)
{
    char **labels = xcalloc(r->n_levels ? r->n_levels : 1, sizeof *labels);
    for (size_t i = 0; i < r->n_levels; i++)
        labels[i] = level_label(&r->levels[i]);
    return labels;
}

static void free_labels(char **labels, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(labels[i]);
    free(labels);
}

/* A series over levels: one statistic of one metric's successful split. */
static double *metric_values(const struct results *r, int metric, int percentile)
{
    double *v = xcalloc(r->n_levels ? r->n_levels : 1, sizeof *v);
    for (size_t i = 0; i < r->n_levels; i++) {
        const struct distribution *d = &r->levels[i].metrics[metric].successful;
        v[i] = !d->present || d->count == 0 ? NAN
               : percentile < 0             ? d->mean
                                            : d->percentiles[percentile];
    }
    return v;
}

static void percentile_chart_vs_level(struct buf *out, const struct results *r, char **labels,
                                      const char *title, const char *unit, int metric)
{
    static const int which[] = {P50, P90, P99};
    static const char *const names[] = {"p50", "p90", "p99"};
    struct series s[3];
    for (int k = 0; k < 3; k++)
        s[k] = (struct series){names[k], metric_values(r, metric, which[k])};
    line_chart(out, title, unit, labels, r->n_levels, s, 3);
    for (int k = 0; k < 3; k++)
        free(s[k].values);
}

/* One line per level across the percentiles: the shape of the distribution. */
static void distribution_chart(struct buf *out, const struct results *r, char **labels,
                               const char *title, const char *unit, int metric)
{
    static const int shown[] = {P01, P05, P10, P25, P50, P75, P90, P95, P99, P999};
    char *x[ARRAY_LEN(shown)];
    for (size_t k = 0; k < ARRAY_LEN(shown); k++)
        x[k] = (char *)percentile_keys[shown[k]];
    struct series *s = xcalloc(r->n_levels ? r->n_levels : 1, sizeof *s);
    for (size_t i = 0; i < r->n_levels; i++) {
        const struct distribution *d = &r->levels[i].metrics[metric].successful;
        s[i].name = labels[i];
        s[i].values = xcalloc(ARRAY_LEN(shown), sizeof *s[i].values);
        for (size_t k = 0; k < ARRAY_LEN(shown); k++)
            s[i].values[k] = d->present && d->count > 0 ? d->percentiles[shown[k]] : NAN;
    }
    line_chart(out, title, unit, x, ARRAY_LEN(shown), s, r->n_levels);
    for (size_t i = 0; i < r->n_levels; i++)
        free(s[i].values);
    free(s);
}

static void meta_row(struct buf *out, const char *name, const char *value)
{
    if (!value)
        return;
    buf_puts(out, "<tr><th>");
    escape(out, name);
    buf_puts(out, "</th><td>");
    escape(out, value);
    buf_puts(out, "</td></tr>\n");
}

static void metadata_table(struct buf *out, const struct results *r)
{
    buf_puts(out, "<table class=\"meta\">\n");
    meta_row(out, "model", r->model);
    meta_row(out, "endpoint", r->endpoint);
    meta_row(out, "API", r->api);
    meta_row(out, "run", r->run_id);
    meta_row(out, "started (UTC)", r->started_at);
    meta_row(out, "spec", r->spec_name);
    meta_row(out, "profile", r->profile);
    if (r->instance.type || r->instance.hourly_usd > 0) {
        char *inst = xasprintf("%s%s%s", r->instance.type ? r->instance.type : "unknown",
                               r->instance.gpu_type ? ", " : "",
                               r->instance.gpu_type ? r->instance.gpu_type : "");
        if (r->instance.gpu_count > 0) {
            char *with = xasprintf("%s x%d", inst, r->instance.gpu_count);
            free(inst);
            inst = with;
        }
        meta_row(out, "instance", inst);
        free(inst);
        if (r->instance.hourly_usd > 0) {
            char *price = xasprintf("$%.4f per hour", r->instance.hourly_usd);
            meta_row(out, "price", price);
            free(price);
        }
    }
    meta_row(out, "tokenizer", r->tokenizer_source ? r->tokenizer_source : "none");
    if (r->prompts_approximate)
        meta_row(out, "prompt lengths", "approximate (4 bytes a token, no tokenizer)");
    meta_row(out, "token counts from", r->token_counts_from);
    char *gen = xasprintf("%s %s", r->format ? r->format : "?",
                          r->generator_version ? r->generator_version : "");
    meta_row(out, "results format", gen);
    free(gen);
    buf_puts(out, "</table>\n");
}

static void num_cell(struct buf *out, bool have, double v, int decimals)
{
    if (have)
        buf_printf(out, "<td>%.*f</td>", decimals, v);
    else
        buf_puts(out, "<td class=\"na\">-</td>");
}

static void levels_table(struct buf *out, const struct results *r, char **labels)
{
    buf_puts(out, "<table class=\"levels\">\n<thead><tr><th>level</th><th>ok</th>"
                  "<th>errors</th><th>incomplete</th><th>req/s</th><th>output tok/s</th>"
                  "<th>total tok/s</th><th>concurrency</th><th>TTFT p50 ms</th>"
                  "<th>TTFT p99 ms</th><th>ITL p50 ms</th><th>ITL p99 ms</th>"
                  "<th>TPOT p50 ms</th><th>latency p50 s</th><th>latency p99 s</th>"
                  "<th>$ / 1K output</th><th>$ / 1K total</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < r->n_levels; i++) {
        const struct level_summary *l = &r->levels[i];
        const struct status_distribution *m = l->metrics;
        buf_puts(out, "<tr><th>");
        escape(out, labels[i]);
        if (l->aborted)
            buf_puts(out, " <span class=\"warn\">aborted</span>");
        buf_printf(out, "</th><td>%lld</td><td>%lld</td><td>%lld</td>",
                   (long long)l->request_totals.successful, (long long)l->request_totals.errored,
                   (long long)l->request_totals.incomplete);
#define D(id) (&m[id].successful)
        num_cell(out, D(METRIC_REQUESTS_PER_SECOND)->present, D(METRIC_REQUESTS_PER_SECOND)->mean,
                 3);
        num_cell(out, D(METRIC_OUTPUT_TOKENS_PER_SECOND)->present,
                 D(METRIC_OUTPUT_TOKENS_PER_SECOND)->mean, 1);
        num_cell(out, D(METRIC_TOKENS_PER_SECOND)->present, D(METRIC_TOKENS_PER_SECOND)->mean, 1);
        num_cell(out, D(METRIC_REQUEST_CONCURRENCY)->present, D(METRIC_REQUEST_CONCURRENCY)->mean,
                 2);
        num_cell(out, D(METRIC_TIME_TO_FIRST_TOKEN_MS)->present,
                 D(METRIC_TIME_TO_FIRST_TOKEN_MS)->percentiles[P50], 1);
        num_cell(out, D(METRIC_TIME_TO_FIRST_TOKEN_MS)->present,
                 D(METRIC_TIME_TO_FIRST_TOKEN_MS)->percentiles[P99], 1);
        num_cell(out, D(METRIC_INTER_TOKEN_LATENCY_MS)->present,
                 D(METRIC_INTER_TOKEN_LATENCY_MS)->percentiles[P50], 2);
        num_cell(out, D(METRIC_INTER_TOKEN_LATENCY_MS)->present,
                 D(METRIC_INTER_TOKEN_LATENCY_MS)->percentiles[P99], 2);
        num_cell(out, D(METRIC_TIME_PER_OUTPUT_TOKEN_MS)->present,
                 D(METRIC_TIME_PER_OUTPUT_TOKEN_MS)->percentiles[P50], 2);
        num_cell(out, D(METRIC_REQUEST_LATENCY)->present,
                 D(METRIC_REQUEST_LATENCY)->percentiles[P50], 3);
        num_cell(out, D(METRIC_REQUEST_LATENCY)->present,
                 D(METRIC_REQUEST_LATENCY)->percentiles[P99], 3);
#undef D
        num_cell(out, l->has_cost, l->cost_per_1k_output_usd, 5);
        num_cell(out, l->has_cost, l->cost_per_1k_total_usd, 5);
        buf_puts(out, "</tr>\n");
    }
    buf_puts(out, "</tbody></table>\n");
}

static void errors_table(struct buf *out, const struct results *r, char **labels)
{
    bool any = false;
    for (size_t i = 0; i < r->n_levels; i++)
        any = any || r->levels[i].request_totals.errored > 0 || r->levels[i].abort_reason;
    if (!any)
        return;
    buf_puts(out, "<h2>Errors</h2>\n<table class=\"levels\"><thead><tr><th>level</th>");
    for (int e = REQERR_CONNECT; e <= REQERR_OTHER; e++)
        buf_printf(out, "<th>%s</th>", request_error_name((enum request_error)e));
    buf_puts(out, "<th>stopped because</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < r->n_levels; i++) {
        const struct level_summary *l = &r->levels[i];
        buf_puts(out, "<tr><th>");
        escape(out, labels[i]);
        buf_puts(out, "</th>");
        for (int e = REQERR_CONNECT; e <= REQERR_OTHER; e++)
            buf_printf(out, "<td>%lld</td>", (long long)l->errors_by_class[e]);
        buf_puts(out, "<td>");
        escape(out, l->abort_reason ? l->abort_reason : "");
        buf_puts(out, "</td></tr>\n");
    }
    buf_puts(out, "</tbody></table>\n");
}

static const char style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;"
    "color:#222;background:#fff}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}"
    ".sub{color:#666;margin:0 0 16px}"
    "table{border-collapse:collapse;font-size:13px}"
    "th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}"
    "table.meta th,table.meta td{text-align:left}table.meta th{background:#f6f6f6}"
    "table.levels thead th{background:#f0f3f7}table.levels tbody th{text-align:left}"
    "td.na{color:#aaa}.warn{color:#b00;font-weight:600}"
    ".banner{background:#fff3cd;border:1px solid #e0c060;padding:8px 12px;margin:12px 0}"
    ".charts{display:flex;flex-wrap:wrap;gap:12px}"
    "figure.chart{margin:0;border:1px solid #e4e4e4;background:#fcfcfc}"
    "svg text{font-family:inherit}"
    "svg .title{font-size:14px;font-weight:600;fill:#222}"
    "svg .tick{font-size:11px;fill:#555}svg .legend{font-size:11px;fill:#333}"
    "svg .axis-label{font-size:11px;fill:#555}"
    "svg .grid{stroke:#e6e6e6;stroke-width:1}svg .axis{stroke:#888;stroke-width:1}"
    "dl{font-size:13px}dt{font-weight:600;margin-top:6px}dd{margin-left:16px}";

static void definitions(struct buf *out, const struct results *r)
{
    buf_puts(out, "<h2>Definitions</h2>\n<dl>\n"
                  "<dt>TTFT</dt><dd>time from sending a request to the first chunk carrying "
                  "generated text, ms</dd>\n"
                  "<dt>ITL</dt><dd>GuideLLM's inter-token latency: (last token - first token) "
                  "/ (output tokens - 1) per request, aggregated weighted by output tokens - 1, "
                  "ms</dd>\n"
                  "<dt>TPOT</dt><dd>");
    bool era_a = r->format && strcmp(r->format, "guidellm-A") == 0;
    buf_puts(out, !r->guidellm_tpot
                      ? "vLLM's time per output token: (latency - TTFT) / (output tokens - 1)"
                  : era_a ? "GuideLLM's time per output token (up to 0.3): (last token - first "
                            "token) / output tokens"
                          : "GuideLLM's time per output token (0.4 on): (last token - start) / "
                            "output tokens, TTFT included");
    buf_puts(out, ", ms</dd>\n"
                  "<dt>latency</dt><dd>time from sending a request to the end of its response, "
                  "s</dd>\n"
                  "<dt>throughput</dt><dd>successful requests and their tokens per second in "
                  "the measured window (warmup and cooldown excluded)</dd>\n"
                  "<dt>cost per 1K tokens</dt><dd>hourly price / (tokens per second x 3600) x "
                  "1000, over output tokens and over prompt + output tokens</dd>\n"
                  "<dt>percentiles</dt><dd>the smallest observed value whose cumulative share "
                  "reaches the percentile (no interpolation), as GuideLLM computes them; all "
                  "latency figures are of successful requests</dd>\n</dl>\n");
}

static bool any_cost(const struct results *r)
{
    for (size_t i = 0; i < r->n_levels; i++) {
        if (r->levels[i].has_cost)
            return true;
    }
    return false;
}

void html_render(const struct results *r, struct buf *out)
{
    char **labels = level_labels(r);
    buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "style-src 'unsafe-inline'\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<title>llmsweep report: ");
    escape(out, r->model ? r->model : "results");
    buf_printf(out, "</title>\n<style>%s</style></head>\n<body>\n<h1>", style);
    escape(out, r->model ? r->model : "Benchmark results");
    buf_puts(out, "</h1>\n<p class=\"sub\">llmsweep report");
    if (r->started_at) {
        buf_puts(out, ", run started ");
        escape(out, r->started_at);
    }
    buf_puts(out, "</p>\n");
    if (r->interrupted)
        buf_puts(out, "<div class=\"banner\" id=\"interrupted\">The run was interrupted: these "
                      "results are partial.</div>\n");
    metadata_table(out, r);

    buf_puts(out, "<h2>Results per load level</h2>\n");
    if (r->n_levels == 0)
        buf_puts(out, "<p>No load level finished.</p>\n");
    else
        levels_table(out, r, labels);
    errors_table(out, r, labels);

    if (r->n_levels > 0) {
        buf_puts(out, "<h2>Against load level</h2>\n<div class=\"charts\">\n");
        struct series tput[] = {
            {"output tok/s", metric_values(r, METRIC_OUTPUT_TOKENS_PER_SECOND, -1)},
            {"total tok/s", metric_values(r, METRIC_TOKENS_PER_SECOND, -1)},
        };
        line_chart(out, "Throughput", "tokens / s", labels, r->n_levels, tput, 2);
        struct series rps[] = {
            {"requests/s", metric_values(r, METRIC_REQUESTS_PER_SECOND, -1)},
            {"concurrency", metric_values(r, METRIC_REQUEST_CONCURRENCY, -1)},
        };
        line_chart(out, "Requests per second and concurrency", "requests", labels, r->n_levels, rps,
                   2);
        for (int k = 0; k < 2; k++) {
            free(tput[k].values);
            free(rps[k].values);
        }
        percentile_chart_vs_level(out, r, labels, "Time to first token", "ms",
                                  METRIC_TIME_TO_FIRST_TOKEN_MS);
        percentile_chart_vs_level(out, r, labels, "Inter-token latency", "ms",
                                  METRIC_INTER_TOKEN_LATENCY_MS);
        percentile_chart_vs_level(out, r, labels, "Request latency", "s", METRIC_REQUEST_LATENCY);
        if (any_cost(r)) {
            struct series cost[] = {{"per 1K output tokens", xcalloc(r->n_levels, sizeof(double))},
                                    {"per 1K total tokens", xcalloc(r->n_levels, sizeof(double))}};
            for (size_t i = 0; i < r->n_levels; i++) {
                const struct level_summary *l = &r->levels[i];
                cost[0].values[i] = l->has_cost ? l->cost_per_1k_output_usd : NAN;
                cost[1].values[i] = l->has_cost ? l->cost_per_1k_total_usd : NAN;
            }
            line_chart(out, "Cost per 1K tokens", "USD", labels, r->n_levels, cost, 2);
            free(cost[0].values);
            free(cost[1].values);
        }
        buf_puts(out, "</div>\n<h2>Distributions per level</h2>\n<div class=\"charts\">\n");
        distribution_chart(out, r, labels, "Time to first token by percentile", "ms",
                           METRIC_TIME_TO_FIRST_TOKEN_MS);
        distribution_chart(out, r, labels, "Inter-token latency by percentile", "ms",
                           METRIC_INTER_TOKEN_LATENCY_MS);
        distribution_chart(out, r, labels, "Request latency by percentile", "s",
                           METRIC_REQUEST_LATENCY);
        buf_puts(out, "</div>\n");
    }
    definitions(out, r);
    buf_puts(out, "</body></html>\n");
    free_labels(labels, r->n_levels);
}
