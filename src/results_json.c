/* results_json.c: benchmarks.json (GuideLLM's v0.7+ layout plus llmsweep's
 * additions) and requests.jsonl; outputs.h describes both. */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outputs.h"
#include "unicode.h"
#include "version.h"

#define ERROR_MESSAGE_MAX 300 /* server error text kept per record */

/* GuideLLM metrics llmsweep does not measure: written empty, as GuideLLM
 * writes a metric without samples, because its schema requires them. */
static const char *const guidellm_only_metrics[] = {
    "request_streaming_iterations_count", "time_to_first_output_token_ms",
    "time_to_last_round_trip_ms",         "avg_round_trip_time_ms",
    "output_tokens_per_iteration",        "iter_tokens_per_iteration",
};

/* GuideLLM's per-modality blocks and their sub-blocks, written as nulls. */
static const struct {
    const char *name;
    const char *parts[4];
} modality_blocks[] = {
    {"text", {"tokens", "words", "characters", NULL}},
    {"image", {"tokens", "images", "pixels", "bytes"}},
    {"video", {"tokens", "frames", "seconds", "bytes"}},
    {"audio", {"tokens", "samples", "seconds", "bytes"}},
    {"tool_call", {"tokens", "mixed_tokens", "count", NULL}},
};
static const char *const modality_fields[] = {
    "input",  "input_per_second",  "input_concurrency",
    "output", "output_per_second", "output_concurrency",
    "total",  "total_per_second",  "total_concurrency",
};

/* What each metric means, written into the file for whoever reads it later. */
static const char *const metric_definitions[METRIC_COUNT] = {
    [METRIC_REQUESTS_PER_SECOND] = "requests completed per second in the measured window",
    [METRIC_REQUEST_CONCURRENCY] = "requests in flight, time-weighted over the measured window",
    [METRIC_REQUEST_LATENCY] = "seconds from sending the request to the end of the response",
    [METRIC_PROMPT_TOKEN_COUNT] = "prompt tokens per request",
    [METRIC_OUTPUT_TOKEN_COUNT] = "output tokens per request",
    [METRIC_TOTAL_TOKEN_COUNT] = "prompt + output tokens per request",
    [METRIC_TIME_TO_FIRST_TOKEN_MS] = "ms from sending to the first chunk carrying generated text",
    [METRIC_TIME_PER_OUTPUT_TOKEN_MS] =
        "vLLM's TPOT: (latency - TTFT) / (output tokens - 1), ms, one sample per request "
        "(GuideLLM's TPOT differs: (last token - start) / output tokens)",
    [METRIC_INTER_TOKEN_LATENCY_MS] = "GuideLLM's ITL: (last token - first token) / (output "
                                      "tokens - 1), ms, weighted by output tokens - 1",
    [METRIC_PROMPT_TOKENS_PER_SECOND] = "prompt tokens per second in the measured window",
    [METRIC_OUTPUT_TOKENS_PER_SECOND] = "output tokens per second in the measured window",
    [METRIC_TOKENS_PER_SECOND] = "prompt + output tokens per second in the measured window",
    [METRIC_INTER_CHUNK_LATENCY_MS] = "vLLM's ITL: ms between consecutive content chunks, one "
                                      "sample per gap",
    [METRIC_SCHEDULED_LATENCY] = "open loop: seconds from the intended send time to the end",
    [METRIC_SEND_LAG_MS] = "open loop: ms from the intended to the actual send time",
};

/* cJSON prints 15 digits whenever they read back approximately; results
 * must read back exactly (results_load, publish, report), so numbers are
 * printed with the fewest digits (15 to 17) that strtod turns back into the
 * same double. Non-finite values have no JSON form: null. */
static cJSON *json_number(double v)
{
    if (!isfinite(v))
        return cJSON_CreateNull();
    char text[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (strtod(text, NULL) == v)
            break;
    }
    return cJSON_CreateRaw(text);
}

static void add_number(cJSON *obj, const char *key, double value)
{
    cJSON_AddItemToObject(obj, key, json_number(value));
}

static void add_string(cJSON *obj, const char *key, const char *value)
{
    if (value)
        cJSON_AddStringToObject(obj, key, value);
    else
        cJSON_AddNullToObject(obj, key);
}

/* A positive number, or null for "not set / unknown". */
static void add_positive(cJSON *obj, const char *key, double value)
{
    if (value > 0)
        add_number(obj, key, value);
    else
        cJSON_AddNullToObject(obj, key);
}

static cJSON *distribution_json(const struct distribution *d, double scale)
{
    cJSON *o = cJSON_CreateObject();
    add_number(o, "mean", d->mean * scale);
    add_number(o, "median", d->median * scale);
    add_number(o, "mode", d->mode * scale);
    add_number(o, "variance", d->variance * scale * scale);
    add_number(o, "std_dev", d->std_dev * scale);
    add_number(o, "min", d->min * scale);
    add_number(o, "max", d->max * scale);
    add_number(o, "count", d->count);
    add_number(o, "total_sum", d->total_sum * scale);
    cJSON *pct = cJSON_AddObjectToObject(o, "percentiles");
    for (int k = 0; k < PERCENTILE_COUNT; k++)
        add_number(pct, percentile_keys[k], d->percentiles[k] * scale);
    cJSON_AddNullToObject(o, "pdf");
    return o;
}

static bool status_present(const struct status_distribution *sd)
{
    return sd->successful.present || sd->errored.present || sd->incomplete.present ||
           sd->total.present;
}

/* The four splits; an absent split is written as GuideLLM writes an empty
 * one (zeros, count 0). `scale` converts units (send lag ms -> s). */
static cJSON *status_json(const struct status_distribution *sd, double scale)
{
    static const struct distribution empty = {0};
    cJSON *o = cJSON_CreateObject();
    const struct distribution *split[] = {&sd->successful, &sd->errored, &sd->incomplete,
                                          &sd->total};
    static const char *const names[] = {"successful", "errored", "incomplete", "total"};
    for (size_t i = 0; i < 4; i++)
        cJSON_AddItemToObject(o, names[i],
                              distribution_json(split[i]->present ? split[i] : &empty, scale));
    return o;
}

static const char *request_format(const char *api)
{
    return api && strcmp(api, "completions") == 0 ? "/v1/completions" : "/v1/chat/completions";
}

static bool strategy_is(const char *strategy, const char *name)
{
    return strategy && strcmp(strategy, name) == 0;
}

/* A whole number of streams for GuideLLM's schema: 1 or more (and sane). */
static int at_least_one(double v)
{
    return v >= 1 ? (v < 1e9 ? (int)(v + 0.5) : 1000000000) : 1;
}

/* GuideLLM's profile object: the kind plus the list of levels it takes. */
static cJSON *profile_json(const struct results *r)
{
    cJSON *o = cJSON_CreateObject();
    const char *first = r->n_levels ? r->levels[0].strategy : NULL;
    const char *kind = r->profile ? r->profile : first ? first : "synchronous";
    cJSON_AddStringToObject(o, "kind", kind);
    if (strcmp(kind, "concurrent") == 0 || strcmp(kind, "constant") == 0 ||
        strcmp(kind, "poisson") == 0) {
        bool streams = strcmp(kind, "concurrent") == 0;
        cJSON *list = cJSON_AddArrayToObject(o, streams ? "streams" : "rate");
        for (size_t i = 0; i < r->n_levels; i++)
            cJSON_AddItemToArray(list, json_number(streams ? at_least_one(r->levels[i].target)
                                                           : r->levels[i].target));
        if (r->n_levels == 0)
            cJSON_AddItemToArray(list, json_number(1));
    } else if (strcmp(kind, "throughput") == 0) {
        double max = 0;
        for (size_t i = 0; i < r->n_levels; i++)
            max = r->levels[i].target > max ? r->levels[i].target : max;
        add_number(o, "max_concurrency", at_least_one(max));
    }
    return o;
}

static cJSON *backend_json(const struct results *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", "openai_http");
    cJSON_AddStringToObject(o, "target", r->endpoint ? r->endpoint : "");
    cJSON_AddStringToObject(o, "model", r->model ? r->model : "");
    cJSON_AddStringToObject(o, "request_format", request_format(r->api));
    return o;
}

/* GuideLLM's run configuration (its BenchmarkScenario), so its tools load
 * the file; the token counts are the spec's, else the measured means. */
static cJSON *config_json(const struct results *r, const struct spec *spec)
{
    cJSON *config = cJSON_CreateObject();
    cJSON *labels = cJSON_AddObjectToObject(cJSON_AddObjectToObject(config, "metadata"), "labels");
    cJSON_AddStringToObject(labels, "generator", "llmsweep");
    cJSON *s = cJSON_AddObjectToObject(config, "spec");
    cJSON_AddItemToObject(s, "backend", backend_json(r));
    cJSON_AddItemToObject(s, "profile", profile_json(r));
    int prompt = 1, output = 1;
    if (spec) {
        prompt = spec->workload.prompt_tokens.mean;
        output = spec->workload.output_tokens.mean;
    } else if (r->n_levels) {
        prompt = at_least_one(r->levels[0].metrics[METRIC_PROMPT_TOKEN_COUNT].successful.mean);
        output = at_least_one(r->levels[0].metrics[METRIC_OUTPUT_TOKEN_COUNT].successful.mean);
    }
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "kind", "synthetic_text");
    add_number(item, "prompt_tokens", prompt > 0 ? prompt : 1);
    add_number(item, "output_tokens", output > 0 ? output : 1);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(s, "data"), item);
    return config;
}

static cJSON *token_dist_json(const struct token_dist *t)
{
    cJSON *o = cJSON_CreateObject();
    add_number(o, "mean", t->mean);
    add_number(o, "stdev", t->stdev);
    add_positive(o, "min", t->min);
    add_positive(o, "max", t->max);
    return o;
}

/* The run's arguments, as GuideLLM 0.4-0.6 kept them under "args". */
static cJSON *args_json(const struct results *r, const struct spec *spec)
{
    cJSON *a = cJSON_CreateObject();
    add_string(a, "model", r->model);
    add_string(a, "target", r->endpoint);
    add_string(a, "api", r->api);
    add_string(a, "profile", r->profile);
    cJSON *levels = cJSON_AddArrayToObject(a, "levels");
    for (size_t i = 0; i < r->n_levels; i++)
        cJSON_AddItemToArray(levels, json_number(r->levels[i].target));
    if (!spec)
        return a;
    add_string(a, "spec", spec->name);
    add_string(a, "spec_source", spec->source);
    add_number(a, "duration_s", spec->load.duration_s);
    add_positive(a, "max_requests", (double)spec->load.max_requests);
    add_number(a, spec->load.warmup_is_fraction ? "warmup_fraction" : "warmup_s",
               spec->load.warmup);
    add_number(a, spec->load.cooldown_is_fraction ? "cooldown_fraction" : "cooldown_s",
               spec->load.cooldown);
    add_positive(a, "request_timeout_s", spec->load.request_timeout_s);
    add_number(a, "max_error_rate", spec->load.max_error_rate);
    add_number(a, "workers", spec->load.workers);
    cJSON_AddItemToObject(a, "prompt_tokens", token_dist_json(&spec->workload.prompt_tokens));
    cJSON_AddItemToObject(a, "output_tokens", token_dist_json(&spec->workload.output_tokens));
    add_positive(a, "shared_prefix_tokens", spec->workload.shared_prefix_tokens);
    add_string(a, "dataset", spec->workload.dataset);
    add_number(a, "seed", (double)spec->workload.seed);
    return a;
}

static cJSON *run_json(const struct results *r, const struct spec *spec, const char *records)
{
    cJSON *o = cJSON_CreateObject();
    add_number(o, "format_version", 1);
    add_string(o, "version", LLMSWEEP_VERSION);
    bool converted = r->format && strcmp(r->format, "llmsweep") != 0;
    if (converted) { /* `report --json` of a GuideLLM file */
        cJSON *from = cJSON_AddObjectToObject(o, "converted_from");
        add_string(from, "format", r->format);
        add_string(from, "version", r->generator_version);
    }
    add_string(o, "run_id", r->run_id);
    add_string(o, "started_at", r->started_at);
    cJSON_AddBoolToObject(o, "interrupted", r->interrupted);
    cJSON *sp = cJSON_AddObjectToObject(o, "spec");
    add_string(sp, "name", r->spec_name);
    add_string(sp, "source", spec ? spec->source : NULL);
    add_string(o, "model", r->model);
    add_string(o, "endpoint", r->endpoint);
    add_string(o, "api", r->api);
    add_string(o, "profile", r->profile);
    cJSON *inst = cJSON_AddObjectToObject(o, "instance");
    add_string(inst, "type", r->instance.type);
    add_positive(inst, "gpu_count", r->instance.gpu_count);
    add_string(inst, "gpu_type", r->instance.gpu_type);
    add_positive(inst, "hourly_usd", r->instance.hourly_usd);
    add_string(o, "tokenizer_source", r->tokenizer_source);
    cJSON_AddStringToObject(o, "prompt_lengths",
                            r->prompts_approximate ? "approximate (4 bytes a token, no tokenizer)"
                                                   : "exact");
    add_string(o, "token_counts_from", r->token_counts_from);
    cJSON *slo = cJSON_AddObjectToObject(o, "slo");
    add_positive(slo, "ttft_ms", r->slo.ttft_ms);
    add_positive(slo, "itl_ms", r->slo.itl_ms);
    add_positive(slo, "tpot_ms", r->slo.tpot_ms);
    add_positive(slo, "latency_s", r->slo.latency_s);
    add_string(o, "records", records);
    /* Which TPOT the file holds: ours (vLLM's) or, converted, GuideLLM's. */
    cJSON_AddBoolToObject(o, "guidellm_tpot", r->guidellm_tpot);
    cJSON *defs = cJSON_AddObjectToObject(o, "metric_definitions");
    for (int m = 0; m < METRIC_COUNT; m++)
        cJSON_AddStringToObject(defs, metric_keys[m],
                                m == METRIC_TIME_PER_OUTPUT_TOKEN_MS && r->guidellm_tpot
                                    ? "GuideLLM's TPOT, as converted from its file"
                                    : metric_definitions[m]);
    return o;
}

/* One request's raw measurements, in the form the run command has always
 * written them: times in ns since the run started (monotonic), -1 for
 * "never"; token counts -1 when unknown; error "none" unless it failed. */
static void add_time(cJSON *o, const char *key, int64_t ns, int64_t origin)
{
    add_number(o, key, ns ? (double)(ns - origin) : -1);
}

/* printf("%.3f", ns / 1e6) without printf, which a long run's records
 * would call millions of times: for 0 <= ns < 2^53 the double is closer to
 * the exact quotient than any rounding boundary is, except at an exact half
 * microsecond, where (as outside that range) printf still decides. */
static void put_ms(struct buf *out, int64_t ns)
{
    if (ns < 0 || ns >= (INT64_C(1) << 53) || ns % NS_PER_US == NS_PER_US / 2) {
        buf_printf(out, "%.3f", (double)ns / (double)NS_PER_MS);
        return;
    }
    int64_t us = ns / NS_PER_US + (ns % NS_PER_US > NS_PER_US / 2);
    char text[24], *p = text + sizeof text;
    for (int i = 0; i < 3; i++, us /= 10)
        *--p = (char)('0' + us % 10);
    *--p = '.';
    do {
        *--p = (char)('0' + us % 10);
        us /= 10;
    } while (us > 0);
    buf_append(out, p, (size_t)(text + sizeof text - p));
}

static cJSON *record_json(const struct request_record *rec, int64_t origin)
{
    cJSON *o = cJSON_CreateObject();
    add_number(o, "id", (double)rec->id);
    add_number(o, "level", rec->level);
    add_number(o, "worker", rec->worker);
    cJSON_AddBoolToObject(o, "measured", rec->measured);
    cJSON_AddStringToObject(o, "outcome", request_outcome_name(rec->outcome));
    cJSON_AddStringToObject(o, "error", request_error_name(rec->error));
    add_number(o, "http_status", rec->http_status);
    add_time(o, "intended_ns", rec->intended_ns, origin);
    add_time(o, "send_ns", rec->send_ns, origin);
    add_time(o, "first_byte_ns", rec->first_byte_ns, origin);
    add_time(o, "first_token_ns", rec->first_token_ns, origin);
    add_time(o, "last_token_ns", rec->last_token_ns, origin);
    add_time(o, "end_ns", rec->end_ns, origin);
    add_number(o, "chunks", rec->n_chunks);
    add_number(o, "prompt_tokens", rec->prompt_tokens);
    add_number(o, "output_tokens", rec->output_tokens);
    cJSON_AddStringToObject(o, "token_source", token_source_name(rec->token_source));
    add_number(o, "connection_retries", rec->connection_retries);
    add_time(o, "server_first_token_ns", rec->server_first_token_ns, origin);
    add_number(o, "requested_prompt_tokens", rec->requested_prompt_tokens);
    add_number(o, "requested_output_tokens", rec->requested_output_tokens);
    if (rec->finish_reason)
        cJSON_AddStringToObject(o, "finish_reason", rec->finish_reason);
    if (rec->error_message) {
        /* Cut where a character ends: the engine's messages are UTF-8. */
        size_t len = strnlen(rec->error_message, ERROR_MESSAGE_MAX);
        size_t valid = utf8_valid_prefix(rec->error_message, len);
        if (len == ERROR_MESSAGE_MAX && len - valid < 4)
            len = valid;
        char *msg = xstrndup(rec->error_message, len);
        cJSON_AddStringToObject(o, "message", msg);
        free(msg);
    }
    /* Chunk arrivals in ms after the send, to the microsecond: printed
     * directly, because a long answer has thousands of them. */
    struct buf chunks = {0};
    buf_putc(&chunks, '[');
    for (uint32_t i = 0; rec->chunk_ns && i < rec->n_chunks; i++) {
        if (i)
            buf_putc(&chunks, ',');
        put_ms(&chunks, rec->chunk_ns[i] - rec->send_ns);
    }
    buf_putc(&chunks, ']');
    cJSON_AddRawToObject(o, "chunk_ms", chunks.data);
    buf_free(&chunks);
    return o;
}

void records_jsonl_render(const struct run *run, struct buf *out)
{
    for (size_t l = 0; run && l < run->n_levels; l++) {
        const struct level_run *lr = &run->levels[l];
        for (size_t i = 0; i < lr->n_records; i++) {
            cJSON *o = record_json(&lr->records[i], run->mono_start_ns);
            char *text = cJSON_PrintUnformatted(o);
            buf_puts(out, text);
            buf_putc(out, '\n');
            free(text);
            cJSON_Delete(o);
        }
    }
}

static cJSON *level_extension_json(const struct level_summary *l, size_t index,
                                   const struct results *r, const struct level_run *lr,
                                   int64_t origin)
{
    cJSON *o = cJSON_CreateObject();
    add_number(o, "level_index", (double)index);
    add_number(o, "target", l->target);
    if (l->has_cost) {
        cJSON *cost = cJSON_AddObjectToObject(o, "cost");
        add_number(cost, "hourly_usd", r->instance.hourly_usd);
        add_number(cost, "per_1k_output_tokens_usd", l->cost_per_1k_output_usd);
        add_number(cost, "per_1k_total_tokens_usd", l->cost_per_1k_total_usd);
    } else {
        cJSON_AddNullToObject(o, "cost");
    }
    if (l->has_goodput) {
        cJSON *g = cJSON_AddObjectToObject(o, "goodput");
        add_number(g, "requests_per_second", l->goodput_requests_per_second);
        add_number(g, "output_tokens_per_second", l->goodput_output_tokens_per_second);
        add_number(g, "requests", (double)l->goodput_requests);
        add_number(g, "determined_requests", (double)l->goodput_determined);
    } else {
        cJSON_AddNullToObject(o, "goodput");
    }
    cJSON *errors = cJSON_AddObjectToObject(o, "errors_by_class");
    for (int e = REQERR_CONNECT; e <= REQERR_OTHER; e++)
        add_number(errors, request_error_name((enum request_error)e),
                   (double)l->errors_by_class[e]);
    cJSON_AddBoolToObject(o, "aborted", l->aborted);
    add_string(o, "abort_reason", l->abort_reason);
    /* GuideLLM's schema requires these keys, so they are written empty; this
     * list lets a reader tell "not reported" from zero. */
    cJSON *absent = cJSON_AddArrayToObject(o, "absent_metrics");
    for (int k = 0; k < METRIC_COUNT; k++) {
        if (!status_present(&l->metrics[k]))
            cJSON_AddItemToArray(absent, cJSON_CreateString(metric_keys[k]));
    }
    if (lr) {
        cJSON *records = cJSON_AddArrayToObject(o, "records");
        for (size_t i = 0; i < lr->n_records; i++)
            cJSON_AddItemToArray(records, record_json(&lr->records[i], origin));
    }
    return o;
}

static cJSON *strategy_json(const struct level_summary *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type_", l->strategy ? l->strategy : "concurrent");
    if (strategy_is(l->strategy, "concurrent")) {
        add_number(o, "streams", at_least_one(l->target));
        add_number(o, "max_concurrency", at_least_one(l->target));
    } else if (strategy_is(l->strategy, "synchronous")) {
        add_number(o, "max_concurrency", 1);
    } else if (strategy_is(l->strategy, "throughput")) {
        add_positive(o, "max_concurrency", l->target);
    } else {
        add_number(o, "rate", l->target);
    }
    return o;
}

static cJSON *scheduler_metrics_json(const struct level_summary *l)
{
    static const char *const averages[] = {
        "queued_time_avg",
        "resolve_start_delay_avg",
        "resolve_targeted_start_delay_avg",
        "request_start_delay_avg",
        "request_targeted_start_delay_avg",
        "request_time_avg",
        "resolve_end_delay_avg",
        "resolve_time_avg",
        "finalized_delay_avg",
        "processed_delay_avg",
    };
    cJSON *o = cJSON_CreateObject();
    static const char *const times[] = {"start_time", "request_start_time", "measure_start_time"};
    for (size_t i = 0; i < ARRAY_LEN(times); i++)
        add_number(o, times[i], l->start_time);
    static const char *const ends[] = {"measure_end_time", "request_end_time", "end_time"};
    for (size_t i = 0; i < ARRAY_LEN(ends); i++)
        add_number(o, ends[i], l->end_time);
    cJSON *made = cJSON_AddObjectToObject(o, "requests_made");
    add_number(made, "successful", (double)l->request_totals.successful);
    add_number(made, "errored", (double)l->request_totals.errored);
    add_number(made, "incomplete", (double)l->request_totals.incomplete);
    add_number(made, "total", (double)l->request_totals.total);
    for (size_t i = 0; i < ARRAY_LEN(averages); i++)
        add_number(o, averages[i], 0);
    return o;
}

static cJSON *metrics_json(const struct level_summary *l)
{
    static const struct status_distribution none = {0};
    cJSON *m = cJSON_CreateObject();
    cJSON *totals = cJSON_AddObjectToObject(m, "request_totals");
    add_number(totals, "successful", (double)l->request_totals.successful);
    add_number(totals, "errored", (double)l->request_totals.errored);
    add_number(totals, "incomplete", (double)l->request_totals.incomplete);
    add_number(totals, "total", (double)l->request_totals.total);
    for (int k = 0; k < METRIC_COUNT; k++) {
        const struct status_distribution *sd = &l->metrics[k];
        bool ours = k >= METRIC_INTER_CHUNK_LATENCY_MS; /* null when absent, like GuideLLM's */
        if (status_present(sd) || !ours)
            cJSON_AddItemToObject(m, metric_keys[k], status_json(sd, 1));
        else
            cJSON_AddNullToObject(m, metric_keys[k]);
    }
    /* GuideLLM's dispatch delay is our send lag, in seconds. */
    if (status_present(&l->metrics[METRIC_SEND_LAG_MS]))
        cJSON_AddItemToObject(m, "request_dispatch_delay",
                              status_json(&l->metrics[METRIC_SEND_LAG_MS], 1e-3));
    else
        cJSON_AddNullToObject(m, "request_dispatch_delay");
    for (size_t i = 0; i < ARRAY_LEN(guidellm_only_metrics); i++)
        cJSON_AddItemToObject(m, guidellm_only_metrics[i], status_json(&none, 1));
    for (size_t i = 0; i < ARRAY_LEN(modality_blocks); i++) {
        cJSON *block = cJSON_AddObjectToObject(m, modality_blocks[i].name);
        for (size_t p = 0; p < 4 && modality_blocks[i].parts[p]; p++) {
            cJSON *part = cJSON_AddObjectToObject(block, modality_blocks[i].parts[p]);
            for (size_t f = 0; f < ARRAY_LEN(modality_fields); f++)
                cJSON_AddNullToObject(part, modality_fields[f]);
        }
    }
    if (l->has_goodput && l->goodput_determined > 0) {
        add_number(m, "slo_attainment",
                   (double)l->goodput_requests / (double)l->goodput_determined);
        add_number(m, "slo_determined_requests", (double)l->goodput_determined);
    } else {
        cJSON_AddNullToObject(m, "slo_attainment");
        add_number(m, "slo_determined_requests", 0);
    }
    return m;
}

static cJSON *benchmark_json(const struct results *r, size_t index, const struct run *run,
                             bool records_inline)
{
    const struct level_summary *l = &r->levels[index];
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "type_", "generative_benchmark");
    cJSON *config = cJSON_AddObjectToObject(b, "config");
    char *id = xasprintf("%s-%zu", r->run_id ? r->run_id : "run", index);
    cJSON_AddStringToObject(config, "id_", id);
    free(id);
    cJSON_AddStringToObject(config, "run_id", r->run_id ? r->run_id : "");
    add_number(config, "run_index", (double)index);
    cJSON_AddItemToObject(config, "strategy", strategy_json(l));
    cJSON_AddObjectToObject(config, "constraints");
    cJSON_AddItemToObject(config, "profile", profile_json(r));
    cJSON_AddObjectToObject(config, "requests");
    cJSON_AddItemToObject(config, "backend", backend_json(r));
    cJSON_AddObjectToObject(config, "environment");
    cJSON_AddObjectToObject(b, "scheduler_state");
    cJSON_AddItemToObject(b, "scheduler_metrics", scheduler_metrics_json(l));
    cJSON_AddItemToObject(b, "metrics", metrics_json(l));
    cJSON *requests = cJSON_AddObjectToObject(b, "requests");
    cJSON_AddArrayToObject(requests, "successful");
    cJSON_AddArrayToObject(requests, "errored");
    cJSON_AddArrayToObject(requests, "incomplete");
    cJSON_AddNullToObject(requests, "total");
    cJSON_AddArrayToObject(b, "warnings");
    add_number(b, "start_time", l->start_time);
    add_number(b, "end_time", l->end_time);
    add_number(b, "duration", l->duration);
    const struct level_run *lr =
        records_inline && run && index < run->n_levels ? &run->levels[index] : NULL;
    cJSON_AddItemToObject(b, "llmsweep",
                          level_extension_json(l, index, r, lr, run ? run->mono_start_ns : 0));
    return b;
}

void results_json_render(const struct results *r, const struct run *run, const struct spec *spec,
                         bool records_inline, struct buf *out)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "metadata");
    add_number(meta, "version", 2);
    cJSON_AddStringToObject(meta, "generator", "llmsweep");
    cJSON_AddStringToObject(meta, "llmsweep_version", LLMSWEEP_VERSION);
    cJSON_AddStringToObject(meta, "platform", version_target());
    const char *records = !run ? NULL : records_inline ? "inline" : "requests.jsonl";
    cJSON_AddItemToObject(root, "llmsweep", run_json(r, spec, records));
    cJSON_AddItemToObject(root, "args", args_json(r, spec));
    cJSON_AddItemToObject(root, "config", config_json(r, spec));
    cJSON *benchmarks = cJSON_AddArrayToObject(root, "benchmarks");
    for (size_t i = 0; i < r->n_levels; i++)
        cJSON_AddItemToArray(benchmarks, benchmark_json(r, i, run, records_inline));
    cJSON_AddArrayToObject(root, "conclusions");
    char *text = cJSON_Print(root);
    buf_puts(out, text);
    buf_putc(out, '\n');
    free(text);
    cJSON_Delete(root);
}
