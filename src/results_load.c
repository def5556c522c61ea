/* results_load.c: reading a results file back into `struct results`.
 *
 * Four layouts are accepted (json-field-map.md has the GuideLLM paths):
 *   llmsweep    GuideLLM's v0.7+ layout plus a top-level "llmsweep" object
 *               and a "llmsweep" object in each benchmark;
 *   guidellm-A  GuideLLM <= 0.3.1: request_totals, args and worker directly
 *               in each benchmark;
 *   guidellm-B  GuideLLM 0.4-0.6: {metadata?, args, benchmarks}, each
 *               benchmark with config and metrics.request_totals;
 *   guidellm-C  GuideLLM 0.7+: {metadata, config{spec}, benchmarks}.
 * The benchmark bodies of B, C and llmsweep are read by the same code.
 *
 * Missing metrics stay absent; a value of the wrong type is an error that
 * names the JSON path, so a hand-edited or truncated file is caught here
 * rather than published.
 */
#include "results.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

/* More requests than any run makes; bigger "counts" are damage. */
#define MAX_COUNT 1e15

/* What the reader carries down the tree: the file name for messages and
 * the first error, which ends the load. */
struct loader {
    const char *file;
    struct buf *err;
    bool failed;
};

static bool fail(struct loader *ld, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(struct loader *ld, const char *path, const char *fmt, ...)
{
    if (ld->failed)
        return false;
    ld->failed = true;
    buf_printf(ld->err, "%s: %s%s", ld->file, path ? path : "", path ? ": " : "");
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(ld->err, fmt, ap);
    va_end(ap);
    return false;
}

static const char *json_type_name(const cJSON *item)
{
    if (!item)
        return "nothing";
    if (cJSON_IsNumber(item))
        return "a number";
    if (cJSON_IsString(item))
        return "a string";
    if (cJSON_IsBool(item))
        return "a boolean";
    if (cJSON_IsNull(item))
        return "null";
    if (cJSON_IsArray(item))
        return "a list";
    return "an object";
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* obj.a.b.c for a NULL-terminated key list; NULL when any step is missing. */
static const cJSON *get_path(const cJSON *obj, const char *const *keys)
{
    for (; obj && *keys; keys++)
        obj = get(obj, *keys);
    return obj;
}
#define GET_PATH(obj, ...) get_path((obj), (const char *const[]){__VA_ARGS__, NULL})

/* A string value, or NULL when absent, null, empty or not a string. */
static char *dup_string(const cJSON *item)
{
    if (!cJSON_IsString(item) || !item->valuestring || !item->valuestring[0])
        return NULL;
    return xstrdup(item->valuestring);
}

/* Reads a number that may be absent or null (then *out keeps its value).
 * Anything else is an error naming `path.key`. */
static bool read_number(struct loader *ld, const cJSON *obj, const char *path, const char *key,
                        double *out)
{
    const cJSON *item = get(obj, key);
    if (!item || cJSON_IsNull(item))
        return true;
    if (!cJSON_IsNumber(item)) {
        char where[256];
        snprintf(where, sizeof where, "%s.%s", path, key);
        return fail(ld, where, "expected a number, got %s", json_type_name(item));
    }
    *out = item->valuedouble;
    return true;
}

static bool read_distribution(struct loader *ld, const cJSON *obj, const char *path,
                              struct distribution *out)
{
    memset(out, 0, sizeof *out);
    if (!obj || cJSON_IsNull(obj))
        return true;
    if (!cJSON_IsObject(obj))
        return fail(ld, path, "expected an object, got %s", json_type_name(obj));
    static const struct {
        const char *key;
        size_t offset;
    } fields[] = {
        {"count", offsetof(struct distribution, count)},
        {"total_sum", offsetof(struct distribution, total_sum)},
        {"mean", offsetof(struct distribution, mean)},
        {"median", offsetof(struct distribution, median)},
        {"mode", offsetof(struct distribution, mode)},
        {"variance", offsetof(struct distribution, variance)},
        {"std_dev", offsetof(struct distribution, std_dev)},
        {"min", offsetof(struct distribution, min)},
        {"max", offsetof(struct distribution, max)},
    };
    for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
        if (!read_number(ld, obj, path, fields[i].key, (double *)((char *)out + fields[i].offset)))
            return false;
    }
    const cJSON *pct = get(obj, "percentiles");
    char pct_path[256];
    snprintf(pct_path, sizeof pct_path, "%s.percentiles", path);
    if (pct && !cJSON_IsNull(pct) && !cJSON_IsObject(pct))
        return fail(ld, pct_path, "expected an object, got %s", json_type_name(pct));
    for (int i = 0; i < PERCENTILE_COUNT; i++) {
        /* GuideLLM files from before July 2025 have no p50: it is the median. */
        out->percentiles[i] = i == P50 ? out->median : 0;
        if (!read_number(ld, pct, pct_path, percentile_keys[i], &out->percentiles[i]))
            return false;
    }
    out->present = true;
    return true;
}

static bool read_status_distribution(struct loader *ld, const cJSON *obj, const char *path,
                                     struct status_distribution *out)
{
    if (!obj || cJSON_IsNull(obj))
        return true;
    if (!cJSON_IsObject(obj))
        return fail(ld, path, "expected an object, got %s", json_type_name(obj));
    static const char *const statuses[] = {"successful", "errored", "incomplete", "total"};
    struct distribution *slots[] = {&out->successful, &out->errored, &out->incomplete, &out->total};
    for (size_t i = 0; i < ARRAY_LEN(statuses); i++) {
        char where[256];
        snprintf(where, sizeof where, "%s.%s", path, statuses[i]);
        if (!read_distribution(ld, get(obj, statuses[i]), where, slots[i]))
            return false;
    }
    return true;
}

static bool read_request_totals(struct loader *ld, const cJSON *obj, const char *path,
                                struct request_totals *out)
{
    if (!obj)
        return fail(ld, path, "missing");
    if (!cJSON_IsObject(obj))
        return fail(ld, path, "expected an object, got %s", json_type_name(obj));
    double v[4] = {0};
    static const char *const keys[] = {"successful", "errored", "incomplete", "total"};
    for (size_t i = 0; i < 4; i++) {
        if (!read_number(ld, obj, path, keys[i], &v[i]))
            return false;
        if (!(v[i] >= 0 && v[i] <= MAX_COUNT)) {
            char where[256];
            snprintf(where, sizeof where, "%s.%s", path, keys[i]);
            return fail(ld, where, "%g is not a number of requests", v[i]);
        }
    }
    out->successful = (int64_t)v[0];
    out->errored = (int64_t)v[1];
    out->incomplete = (int64_t)v[2];
    out->total =
        get(obj, "total") ? (int64_t)v[3] : out->successful + out->errored + out->incomplete;
    return true;
}

/* A count from a field that may hold anything: 0 unless it is a sane one. */
static int64_t count_of(double v)
{
    return v >= 0 && v <= MAX_COUNT ? (int64_t)v : 0;
}

static double number_or(const cJSON *item, double fallback)
{
    return cJSON_IsNumber(item) ? item->valuedouble : fallback;
}

/* The load level a strategy ran at: streams for closed loops, requests/s for
 * open loops, 1 for synchronous, the concurrency cap (or 0) for throughput. */
static double strategy_target(const cJSON *strategy, const char *type)
{
    if (!type)
        return 0;
    if (strcmp(type, "synchronous") == 0)
        return 1;
    if (strcmp(type, "concurrent") == 0)
        return number_or(get(strategy, "streams"), number_or(get(strategy, "max_concurrency"), 0));
    if (strcmp(type, "constant") == 0 || strcmp(type, "poisson") == 0 || strcmp(type, "async") == 0)
        return number_or(get(strategy, "rate"), 0);
    return number_or(get(strategy, "max_concurrency"), 0);
}

static bool read_llmsweep_level(struct loader *ld, const cJSON *ext, const char *path,
                                struct level_summary *level)
{
    if (!ext)
        return true;
    if (!cJSON_IsObject(ext))
        return fail(ld, path, "expected an object, got %s", json_type_name(ext));
    const cJSON *cost = get(ext, "cost");
    if (cJSON_IsObject(cost)) {
        level->has_cost = true;
        char where[256];
        snprintf(where, sizeof where, "%s.cost", path);
        if (!read_number(ld, cost, where, "per_1k_output_tokens_usd",
                         &level->cost_per_1k_output_usd) ||
            !read_number(ld, cost, where, "per_1k_total_tokens_usd", &level->cost_per_1k_total_usd))
            return false;
    }
    const cJSON *goodput = get(ext, "goodput");
    if (cJSON_IsObject(goodput)) {
        level->has_goodput = true;
        char where[256];
        snprintf(where, sizeof where, "%s.goodput", path);
        double requests = 0, determined = 0;
        if (!read_number(ld, goodput, where, "requests_per_second",
                         &level->goodput_requests_per_second) ||
            !read_number(ld, goodput, where, "output_tokens_per_second",
                         &level->goodput_output_tokens_per_second) ||
            !read_number(ld, goodput, where, "requests", &requests) ||
            !read_number(ld, goodput, where, "determined_requests", &determined))
            return false;
        level->goodput_requests = count_of(requests);
        level->goodput_determined = count_of(determined);
    }
    const cJSON *errors = get(ext, "errors_by_class");
    if (cJSON_IsObject(errors)) {
        for (int e = REQERR_NONE; e <= REQERR_OTHER; e++)
            level->errors_by_class[e] =
                count_of(number_or(get(errors, request_error_name((enum request_error)e)), 0));
    }
    const cJSON *absent = get(ext, "absent_metrics");
    for (const cJSON *name = cJSON_IsArray(absent) ? absent->child : NULL; name;
         name = name->next) {
        for (int m = 0; m < METRIC_COUNT; m++) {
            if (cJSON_IsString(name) && strcmp(name->valuestring, metric_keys[m]) == 0)
                memset(&level->metrics[m], 0, sizeof level->metrics[m]);
        }
    }
    level->aborted = cJSON_IsTrue(get(ext, "aborted"));
    level->abort_reason = dup_string(get(ext, "abort_reason"));
    return true;
}

static bool read_level(struct loader *ld, const cJSON *bench, size_t index, bool era_a,
                       struct level_summary *level)
{
    char path[64];
    snprintf(path, sizeof path, "benchmarks[%zu]", index);
    if (!cJSON_IsObject(bench))
        return fail(ld, path, "expected an object, got %s", json_type_name(bench));

    /* Era A: args.strategy; Eras B and C: config.strategy; the unreleased
     * 2025-10 layout in between (read as era A: request_totals is still at
     * the benchmark's level): scheduler.strategy. */
    const cJSON *strategy =
        era_a ? GET_PATH(bench, "args", "strategy") : GET_PATH(bench, "config", "strategy");
    if (!strategy)
        strategy = GET_PATH(bench, "scheduler", "strategy");
    const cJSON *type = get(strategy, "type_");
    level->strategy = dup_string(type);
    level->target = strategy_target(strategy, level->strategy);

    if (!read_number(ld, bench, path, "start_time", &level->start_time) ||
        !read_number(ld, bench, path, "end_time", &level->end_time) ||
        !read_number(ld, bench, path, "duration", &level->duration))
        return false;

    const cJSON *metrics = get(bench, "metrics");
    char where[256];
    snprintf(where, sizeof where, "%s.metrics", path);
    if (!metrics)
        return fail(ld, where, "missing");
    if (!cJSON_IsObject(metrics))
        return fail(ld, where, "expected an object, got %s", json_type_name(metrics));

    if (era_a) {
        snprintf(where, sizeof where, "%s.request_totals", path);
        if (!read_request_totals(ld, get(bench, "request_totals"), where, &level->request_totals))
            return false;
    } else {
        snprintf(where, sizeof where, "%s.metrics.request_totals", path);
        if (!read_request_totals(ld, get(metrics, "request_totals"), where, &level->request_totals))
            return false;
    }
    for (int m = 0; m < METRIC_COUNT; m++) {
        snprintf(where, sizeof where, "%s.metrics.%s", path, metric_keys[m]);
        if (!read_status_distribution(ld, get(metrics, metric_keys[m]), where, &level->metrics[m]))
            return false;
    }
    snprintf(where, sizeof where, "%s.llmsweep", path);
    return read_llmsweep_level(ld, get(bench, "llmsweep"), where, level);
}

static char *api_from_request_format(const cJSON *item)
{
    if (!cJSON_IsString(item))
        return NULL;
    if (strstr(item->valuestring, "chat"))
        return xstrdup("chat");
    if (strstr(item->valuestring, "completions"))
        return xstrdup("completions");
    return NULL;
}

static void read_llmsweep_run(const cJSON *ext, struct results *out)
{
    out->generator_version = dup_string(get(ext, "version"));
    out->run_id = dup_string(get(ext, "run_id"));
    out->started_at = dup_string(get(ext, "started_at"));
    out->spec_name = dup_string(GET_PATH(ext, "spec", "name"));
    out->model = dup_string(get(ext, "model"));
    out->endpoint = dup_string(get(ext, "endpoint"));
    out->api = dup_string(get(ext, "api"));
    out->profile = dup_string(get(ext, "profile"));
    const cJSON *inst = get(ext, "instance");
    out->instance.type = dup_string(get(inst, "type"));
    out->instance.gpu_count = (int)(count_of(number_or(get(inst, "gpu_count"), 0)) % 100000);
    out->instance.gpu_type = dup_string(get(inst, "gpu_type"));
    out->instance.hourly_usd = number_or(get(inst, "hourly_usd"), 0);
    out->tokenizer_source = dup_string(get(ext, "tokenizer_source"));
    const cJSON *lengths = get(ext, "prompt_lengths");
    out->prompts_approximate =
        cJSON_IsString(lengths) && strncmp(lengths->valuestring, "approx", 6) == 0;
    out->token_counts_from = dup_string(get(ext, "token_counts_from"));
    out->interrupted = cJSON_IsTrue(get(ext, "interrupted"));
    out->guidellm_tpot = cJSON_IsTrue(get(ext, "guidellm_tpot"));
    const cJSON *slo = get(ext, "slo");
    out->slo.ttft_ms = number_or(get(slo, "ttft_ms"), 0);
    out->slo.itl_ms = number_or(get(slo, "itl_ms"), 0);
    out->slo.tpot_ms = number_or(get(slo, "tpot_ms"), 0);
    out->slo.latency_s = number_or(get(slo, "latency_s"), 0);
}

/* Run-level labels from a GuideLLM file; only what it actually carries. */
static void read_guidellm_run(const cJSON *root, const cJSON *first, bool era_a,
                              struct results *out)
{
    out->generator_version = dup_string(GET_PATH(root, "metadata", "guidellm_version"));
    out->guidellm_tpot = true;
    if (era_a) {
        out->run_id = dup_string(get(first, "run_id"));
        out->model = dup_string(GET_PATH(first, "worker", "backend_model"));
        out->endpoint = dup_string(GET_PATH(first, "worker", "backend_target"));
        out->profile = dup_string(GET_PATH(first, "args", "profile", "type_"));
        out->tokenizer_source = dup_string(GET_PATH(first, "request_loader", "processor"));
        const cJSON *ok = GET_PATH(first, "requests", "successful");
        const cJSON *req = cJSON_IsArray(ok) ? cJSON_GetArrayItem(ok, 0) : NULL;
        const cJSON *type = get(req, "request_type");
        if (cJSON_IsString(type))
            out->api = xstrdup(strstr(type->valuestring, "chat") ? "chat" : "completions");
        return;
    }
    const cJSON *backend = GET_PATH(first, "config", "backend");
    const cJSON *spec_backend = GET_PATH(root, "config", "spec", "backend");
    out->run_id = dup_string(GET_PATH(first, "config", "run_id"));
    out->model = dup_string(get(backend, "model"));
    if (!out->model)
        out->model = dup_string(get(spec_backend, "model"));
    out->endpoint = dup_string(get(backend, "target"));
    if (!out->endpoint)
        out->endpoint = dup_string(get(spec_backend, "target"));
    out->api = api_from_request_format(get(backend, "request_format"));
    out->profile = dup_string(GET_PATH(root, "config", "spec", "profile", "kind"));
    if (!out->profile)
        out->profile = dup_string(GET_PATH(first, "config", "profile", "type_"));
    out->tokenizer_source = dup_string(GET_PATH(root, "config", "spec", "tokenizer", "model"));
}

static bool load_tree(struct loader *ld, const cJSON *root, struct results *out)
{
    if (!cJSON_IsObject(root))
        return fail(ld, NULL, "not a benchmarks file: the top level is %s, not an object",
                    json_type_name(root));
    const cJSON *benchmarks = get(root, "benchmarks");
    if (!benchmarks)
        return fail(ld, "benchmarks", "missing: not a llmsweep or GuideLLM results file");
    if (!cJSON_IsArray(benchmarks))
        return fail(ld, "benchmarks", "expected a list, got %s", json_type_name(benchmarks));

    const cJSON *first = cJSON_GetArrayItem(benchmarks, 0);
    const cJSON *ext = get(root, "llmsweep");
    bool era_a = !ext && get(first, "request_totals") != NULL;
    if (ext)
        out->format = xstrdup("llmsweep");
    else if (era_a)
        out->format = xstrdup("guidellm-A");
    else if (cJSON_IsObject(GET_PATH(root, "config", "spec")))
        out->format = xstrdup("guidellm-C");
    else
        out->format = xstrdup("guidellm-B");

    if (ext)
        read_llmsweep_run(ext, out);
    else
        read_guidellm_run(root, first, era_a, out);

    int n = cJSON_GetArraySize(benchmarks);
    out->levels = xcalloc((size_t)n, sizeof *out->levels);
    for (int i = 0; i < n; i++) {
        out->n_levels++;
        if (!read_level(ld, cJSON_GetArrayItem(benchmarks, i), (size_t)i, era_a, &out->levels[i]))
            return false;
    }
    double start = out->n_levels > 0 ? out->levels[0].start_time : 0;
    /* A start_time beyond int64_t is damage; converting it would be undefined. */
    if (!out->started_at && start > 0 && start < (double)INT64_MAX)
        out->started_at = iso8601_utc((int64_t)start);
    return true;
}

/* Line and column of a byte offset, for parse errors in large files. */
static void line_column(const char *text, size_t offset, int *line, int *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}

bool results_load_text(const char *name, const char *text, size_t len, struct results *out,
                       struct buf *err)
{
    memset(out, 0, sizeof *out);
    struct loader ld = {.file = name, .err = err};
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    bool ok;
    if (!root) {
        size_t offset = end && end >= text ? (size_t)(end - text) : 0;
        int line, column;
        line_column(text, offset < len ? offset : len, &line, &column);
        if (len == 0)
            ok = fail(&ld, NULL, "empty file (is a run still writing it?)");
        else
            ok = fail(&ld, NULL, "not valid JSON at line %d, column %d", line, column);
    } else {
        ok = load_tree(&ld, root, out);
    }
    cJSON_Delete(root);
    if (!ok)
        results_free(out);
    return ok;
}

bool results_load(const char *path, struct results *out, struct buf *err)
{
    memset(out, 0, sizeof *out);
    struct buf text = {0};
    if (!read_file(path, &text)) {
        buf_printf(err, "%s: cannot read: %s", path, strerror(errno));
        return false;
    }
    bool ok = results_load_text(path, text.data ? text.data : "", text.len, out, err);
    buf_free(&text);
    return ok;
}
