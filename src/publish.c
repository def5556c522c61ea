#include "publish.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "prices.h"

const char *const publish_owned_keys[] = {
    /* the seed's keys */
    "benchmark_date",
    "benchmark_tool",
    "benchmark_concurrency",
    "benchmark_throughput",
    "benchmark_ttft_p50",
    "benchmark_ttft_p90",
    "benchmark_ttft_p99",
    "benchmark_itl_p50",
    "benchmark_itl_p90",
    "benchmark_itl_p99",
    "benchmark_cost_per_1k",
    "benchmark_instance",
    "benchmark_gpu_count",
    /* ours */
    "benchmark_run_id",
    "benchmark_model",
    "benchmark_level",
    "benchmark_levels",
    "benchmark_concurrency_mean",
    "benchmark_output_throughput",
    "benchmark_requests_per_second",
    "benchmark_latency_p50",
    "benchmark_latency_p90",
    "benchmark_latency_p99",
    "benchmark_cost_per_1k_output",
    "benchmark_hourly_usd",
    "benchmark_requests_successful",
    "benchmark_requests_errored",
    "benchmark_requests_incomplete",
    NULL,
};

/* ---- numbers of one level ------------------------------------------------- */

static const struct distribution *pick(const struct level_summary *l, enum metric_id m)
{
    const struct status_distribution *sd = &l->metrics[m];
    if (sd->successful.present)
        return &sd->successful;
    if (sd->total.present)
        return &sd->total;
    return NULL;
}

static double mean_of(const struct level_summary *l, enum metric_id m)
{
    const struct distribution *d = pick(l, m);
    return d ? d->mean : NAN;
}

static void quantiles_of(const struct level_summary *l, enum metric_id m, double out[Q_COUNT])
{
    const struct distribution *d = pick(l, m);
    out[Q_P50] = d ? d->percentiles[P50] : NAN;
    out[Q_P90] = d ? d->percentiles[P90] : NAN;
    out[Q_P99] = d ? d->percentiles[P99] : NAN;
}

/* prices.h's formula; NAN (no key, "n/a") rather than its 0 for "unknown". */
static double cost_per_1k(double hourly_usd, double tokens_per_second)
{
    if (!isfinite(tokens_per_second))
        return NAN;
    double cost = cost_per_1k_tokens(hourly_usd, tokens_per_second);
    return cost > 0 ? cost : NAN;
}

/* "2.5" -> "2_5": a label is part of property keys, which stay plain. */
static void number_label(char *out, size_t n, const char *prefix, double v)
{
    snprintf(out, n, "%s%g", prefix, v);
    for (char *p = out; *p; p++) {
        if (*p == '.')
            *p = '_';
    }
}

static void describe_level(const struct level_summary *l, size_t index, struct publish_level *pl)
{
    const char *s = l->strategy ? l->strategy : "";
    *pl = (struct publish_level){.index = index, .target = l->target};
    if (strcmp(s, "synchronous") == 0) {
        pl->closed_loop = true;
        pl->target = 1;
        snprintf(pl->label, sizeof pl->label, "c1");
        snprintf(pl->title, sizeof pl->title, "concurrency 1 (synchronous)");
    } else if (strcmp(s, "concurrent") == 0 && l->target > 0) {
        pl->closed_loop = true;
        number_label(pl->label, sizeof pl->label, "c", l->target);
        snprintf(pl->title, sizeof pl->title, "concurrency %g", l->target);
    } else if (strcmp(s, "throughput") == 0) {
        snprintf(pl->label, sizeof pl->label, "throughput");
        snprintf(pl->title, sizeof pl->title, "throughput (as many requests as possible)");
    } else if ((strcmp(s, "constant") == 0 || strcmp(s, "poisson") == 0) && l->target > 0) {
        number_label(pl->label, sizeof pl->label, "r", l->target);
        snprintf(pl->title, sizeof pl->title, "rate %g/s (%s)", l->target, s);
    } else {
        snprintf(pl->label, sizeof pl->label, "l%zu", index + 1);
        snprintf(pl->title, sizeof pl->title, "level %zu%s%s%s", index + 1, s[0] ? " (" : "", s,
                 s[0] ? ")" : "");
    }
    pl->concurrency_mean = mean_of(l, METRIC_REQUEST_CONCURRENCY);
    pl->requests_per_second = mean_of(l, METRIC_REQUESTS_PER_SECOND);
    pl->throughput_total = mean_of(l, METRIC_TOKENS_PER_SECOND);
    pl->throughput_output = mean_of(l, METRIC_OUTPUT_TOKENS_PER_SECOND);
    quantiles_of(l, METRIC_TIME_TO_FIRST_TOKEN_MS, pl->ttft_ms);
    quantiles_of(l, METRIC_INTER_TOKEN_LATENCY_MS, pl->itl_ms);
    quantiles_of(l, METRIC_REQUEST_LATENCY, pl->latency_s);
    pl->successful = l->request_totals.successful;
    pl->errored = l->request_totals.errored;
    pl->incomplete = l->request_totals.incomplete;
}

/* ---- level selection ------------------------------------------------------ */

/* The seed's rule: mean concurrency 5 +/- 1 (the closest), else the first. */
static size_t default_level(const struct publish_level *levels, size_t n)
{
    size_t best = 0;
    double best_d = INFINITY;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(levels[i].concurrency_mean - PUBLISH_DEFAULT_CONCURRENCY);
        if (d <= PUBLISH_DEFAULT_TOLERANCE && d < best_d) {
            best = i;
            best_d = d;
        }
    }
    return best;
}

static bool level_by_arg(const struct publish_level *levels, size_t n, const char *arg, size_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(levels[i].label, arg) == 0) {
            *out = i;
            return true;
        }
    }
    double want;
    if (!parse_double(arg, &want) || want <= 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (levels[i].target > 0 && fabs(levels[i].target - want) < 1e-9) {
            *out = i;
            return true;
        }
    }
    double tolerance = want * 0.1 > 1 ? want * 0.1 : 1;
    double best_d = INFINITY;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(levels[i].concurrency_mean - want);
        if (d <= tolerance && d < best_d) {
            best_d = d;
            *out = i;
        }
    }
    return isfinite(best_d);
}

static void list_levels(const struct publish_level *levels, size_t n, struct buf *out)
{
    for (size_t i = 0; i < n; i++) {
        buf_printf(out, "%s%s", i ? ", " : "", levels[i].label);
        if (isfinite(levels[i].concurrency_mean))
            buf_printf(out, " (mean concurrency %.2f)", levels[i].concurrency_mean);
    }
}

/* ---- plan ----------------------------------------------------------------- */

static char *tool_of(const struct results *r)
{
    const char *format = r->format ? r->format : "";
    const char *v = r->generator_version;
    if (strncmp(format, "guidellm", 8) == 0)
        return v ? xasprintf("GuideLLM %s", v) : xstrdup("GuideLLM");
    if (strcmp(format, "llmsweep") == 0 || !format[0])
        return v ? xasprintf("llmsweep %s", v) : xstrdup("llmsweep");
    return v ? xasprintf("%s %s", format, v) : xstrdup(format);
}

bool publish_plan_make(const struct results *r, const char *level_arg,
                       const struct publish_pricing *pricing, struct publish_plan *plan,
                       struct buf *err)
{
    *plan = (struct publish_plan){0};
    if (r->n_levels == 0) {
        buf_puts(err, "the results file holds no benchmark (no level was measured)");
        return false;
    }
    struct publish_level *all = xcalloc(r->n_levels, sizeof *all);
    for (size_t i = 0; i < r->n_levels; i++) {
        describe_level(&r->levels[i], i, &all[i]);
        /* Two levels with one label (a repeated target): keep keys apart. */
        for (size_t j = 0; j < i; j++) {
            if (strcmp(all[j].label, all[i].label) == 0) {
                size_t len = strlen(all[i].label);
                snprintf(all[i].label + len, sizeof all[i].label - len, "_%zu", i + 1);
                break;
            }
        }
    }
    size_t chosen = default_level(all, r->n_levels);
    plan->all = level_arg && strcmp(level_arg, "all") == 0;
    if (level_arg && !plan->all && !level_by_arg(all, r->n_levels, level_arg, &chosen)) {
        buf_printf(err, "no level '%s' in the results file; it has: ", level_arg);
        list_levels(all, r->n_levels, err);
        buf_puts(err, " (use a label, a target concurrency or rate, or 'all')");
        free(all);
        return false;
    }
    if (plan->all) {
        plan->levels = all;
        plan->n_levels = r->n_levels;
        plan->primary = chosen;
    } else {
        plan->levels = xmalloc(sizeof *plan->levels);
        plan->levels[0] = all[chosen];
        plan->n_levels = 1;
        free(all);
    }

    plan->pricing = *pricing;
    for (size_t i = 0; i < plan->n_levels; i++) {
        struct publish_level *pl = &plan->levels[i];
        pl->cost_per_1k_total = cost_per_1k(pricing->hourly_usd, pl->throughput_total);
        pl->cost_per_1k_output = cost_per_1k(pricing->hourly_usd, pl->throughput_output);
    }

    struct buf key = {0};
    if (r->run_id && r->run_id[0])
        publish_sanitize_key(r->run_id, &key);
    else if (r->started_at && r->started_at[0])
        publish_sanitize_key(r->started_at, &key);
    else if (r->levels[0].start_time > 0)
        buf_printf(&key, "started-%.0f", r->levels[0].start_time);
    else
        buf_puts(&key, "unknown-run");
    plan->key = buf_steal(&key);
    /* results_load dates every start_time that is a date at all. */
    if (r->started_at && r->started_at[0])
        plan->date = xstrdup(r->started_at);
    plan->tool = tool_of(r);
    plan->model = r->model ? xstrdup(r->model) : NULL;
    return true;
}

void publish_plan_free(struct publish_plan *plan)
{
    free(plan->key);
    free(plan->date);
    free(plan->tool);
    free(plan->model);
    free(plan->levels);
    *plan = (struct publish_plan){0};
}

bool publish_plan_has_successes(const struct publish_plan *plan, struct buf *err)
{
    bool ok = true;
    for (size_t i = 0; i < plan->n_levels; i++) {
        const struct publish_level *pl = &plan->levels[i];
        if (pl->successful > 0)
            continue;
        buf_printf(err, "%slevel %s has no successful request (%lld errored, %lld incomplete)",
                   ok ? "" : "; ", pl->label, (long long)pl->errored, (long long)pl->incomplete);
        ok = false;
    }
    return ok;
}

/* ---- the block -------------------------------------------------------------- */

/* A number with `decimals` digits after the point, or "n/a". */
static void put_num(struct buf *out, double v, int decimals)
{
    if (isfinite(v))
        buf_printf(out, "%.*f", decimals, v);
    else
        buf_puts(out, "n/a");
}

static void put_triple(struct buf *out, const double q[Q_COUNT], int count, int decimals,
                       const char *unit)
{
    for (int i = 0; i < count; i++) {
        if (i)
            buf_puts(out, " / ");
        put_num(out, q[i], decimals);
    }
    buf_printf(out, " %s", unit);
}

static void put_usd(struct buf *out, double v)
{
    if (isfinite(v))
        buf_printf(out, "$%.4g", v);
    else
        buf_puts(out, "n/a");
}

static void put_cost(struct buf *out, const struct publish_level *pl)
{
    put_usd(out, pl->cost_per_1k_total);
    buf_puts(out, " total, ");
    put_usd(out, pl->cost_per_1k_output);
    buf_puts(out, " output");
}

/* TTFT, ITL and latency, each "NAME<colon>VALUES", separated by `sep`: one
 * level's block gives each a line, --level all puts a level on one line. */
static void put_latencies(struct buf *out, const struct publish_level *pl, const char *colon,
                          const char *sep)
{
    buf_printf(out, "TTFT p50/p90/p99%s", colon);
    put_triple(out, pl->ttft_ms, 3, 1, "ms");
    buf_printf(out, "%sITL p50/p90/p99%s", sep, colon);
    put_triple(out, pl->itl_ms, 3, 2, "ms");
    buf_printf(out, "%slatency p50/p90%s", sep, colon);
    put_triple(out, pl->latency_s, 2, 3, "s");
}

static void put_requests(struct buf *out, const struct publish_level *pl)
{
    buf_printf(out, "%lld requests, %lld errored, %lld incomplete", (long long)pl->successful,
               (long long)pl->errored, (long long)pl->incomplete);
}

void publish_render_block(const struct publish_plan *plan, struct buf *out)
{
    buf_printf(out, "%s%s]\n", PUBLISH_BLOCK_BEGIN, plan->key);
    buf_printf(out, "Benchmark of %s by %s", plan->date ? plan->date : "an unknown date",
               plan->tool);
    if (plan->model)
        buf_printf(out, ", served model %s", plan->model);
    buf_puts(out, "\n");
    const struct publish_pricing *p = &plan->pricing;
    buf_printf(out, "- instance: %s, ", p->instance_type ? p->instance_type : "unknown");
    if (p->gpu_count > 0)
        buf_printf(out, "%d GPU%s", p->gpu_count, p->gpu_count == 1 ? "" : "s");
    else
        buf_puts(out, "GPU count unknown");
    if (p->hourly_usd > 0)
        buf_printf(out, ", $%.6g/hour", p->hourly_usd);
    else
        buf_puts(out, ", price unknown (no cost figures)");
    buf_puts(out, "\n");
    if (!plan->all) {
        const struct publish_level *pl = &plan->levels[0];
        buf_printf(out, "- %s, measured mean concurrency ", pl->title);
        put_num(out, pl->concurrency_mean, 2);
        buf_puts(out, ": ");
        put_requests(out, pl);
        buf_puts(out, "\n- throughput: ");
        put_num(out, pl->throughput_total, 1);
        buf_puts(out, " tokens/s (prompt + output), ");
        put_num(out, pl->throughput_output, 1);
        buf_puts(out, " output tokens/s, ");
        put_num(out, pl->requests_per_second, 2);
        buf_puts(out, " requests/s\n- ");
        put_latencies(out, pl, ": ", "\n- ");
        buf_puts(out, "\n- cost per 1K tokens: ");
        put_cost(out, pl);
        buf_puts(out, "\n");
    } else {
        for (size_t i = 0; i < plan->n_levels; i++) {
            const struct publish_level *pl = &plan->levels[i];
            buf_printf(out, "- %s (mean ", pl->title);
            put_num(out, pl->concurrency_mean, 2);
            buf_puts(out, "): ");
            put_num(out, pl->throughput_total, 1);
            buf_puts(out, " tokens/s, ");
            put_num(out, pl->throughput_output, 1);
            buf_puts(out, " output tokens/s; ");
            put_latencies(out, pl, " ", "; ");
            buf_puts(out, "; per 1K tokens ");
            put_cost(out, pl);
            buf_puts(out, "; ");
            put_requests(out, pl);
            buf_puts(out, "\n");
        }
    }
    buf_printf(out, "%s%s]", PUBLISH_BLOCK_END, plan->key);
}

/* ---- typed properties ----------------------------------------------------- */

/* Six significant digits: what a person reads, and stable across runs of
 * the same file (so a re-publish compares equal and changes nothing). */
static double rounded(double v)
{
    char text[32];
    snprintf(text, sizeof text, "%.6g", v);
    return strtod(text, NULL);
}

cJSON *publish_value_double(double v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "metadataType", "MetadataDoubleValue");
    cJSON_AddNumberToObject(o, "double_value", v);
    return o;
}

cJSON *publish_value_int(int64_t v)
{
    if (v > PUBLISH_INT32_MAX || v < -PUBLISH_INT32_MAX - 1)
        return publish_value_double((double)v);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "metadataType", "MetadataIntValue");
    char text[24];
    snprintf(text, sizeof text, "%lld", (long long)v);
    cJSON_AddStringToObject(o, "int_value", text);
    return o;
}

cJSON *publish_value_string(const char *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "metadataType", "MetadataStringValue");
    cJSON_AddStringToObject(o, "string_value", s);
    return o;
}

static void put_prop(cJSON *map, const char *prefix, const char *name, cJSON *value)
{
    char key[128];
    snprintf(key, sizeof key, "%s%s", prefix, name);
    cJSON_AddItemToObject(map, key, value);
}

static void put_double_prop(cJSON *map, const char *prefix, const char *name, double v)
{
    if (isfinite(v)) /* absent from the file: no key rather than a made-up zero */
        put_prop(map, prefix, name, publish_value_double(rounded(v)));
}

static void put_level_props(cJSON *map, const char *prefix, const struct publish_level *pl)
{
    static const char *const q[Q_COUNT] = {"p50", "p90", "p99"};
    char name[64];
    put_double_prop(map, prefix, "concurrency_mean", pl->concurrency_mean);
    put_double_prop(map, prefix, "throughput", pl->throughput_total);
    put_double_prop(map, prefix, "output_throughput", pl->throughput_output);
    put_double_prop(map, prefix, "requests_per_second", pl->requests_per_second);
    for (int i = 0; i < Q_COUNT; i++) {
        snprintf(name, sizeof name, "ttft_%s", q[i]);
        put_double_prop(map, prefix, name, pl->ttft_ms[i]);
        snprintf(name, sizeof name, "itl_%s", q[i]);
        put_double_prop(map, prefix, name, pl->itl_ms[i]);
        snprintf(name, sizeof name, "latency_%s", q[i]);
        put_double_prop(map, prefix, name, pl->latency_s[i]);
    }
    put_double_prop(map, prefix, "cost_per_1k", pl->cost_per_1k_total);
    put_double_prop(map, prefix, "cost_per_1k_output", pl->cost_per_1k_output);
    put_prop(map, prefix, "requests_successful", publish_value_int(pl->successful));
    put_prop(map, prefix, "requests_errored", publish_value_int(pl->errored));
    put_prop(map, prefix, "requests_incomplete", publish_value_int(pl->incomplete));
}

cJSON *publish_render_properties(const struct publish_plan *plan)
{
    cJSON *map = cJSON_CreateObject();
    const struct publish_level *main_level = &plan->levels[plan->primary];
    if (plan->date)
        cJSON_AddItemToObject(map, "benchmark_date", publish_value_string(plan->date));
    cJSON_AddItemToObject(map, "benchmark_tool", publish_value_string(plan->tool));
    cJSON_AddItemToObject(map, "benchmark_run_id", publish_value_string(plan->key));
    if (plan->model)
        cJSON_AddItemToObject(map, "benchmark_model", publish_value_string(plan->model));
    cJSON_AddItemToObject(map, "benchmark_level", publish_value_string(main_level->label));
    /* The concurrency the level ran at: its target for closed-loop levels,
     * else the measured mean, rounded (the seed published a count). */
    double conc = main_level->closed_loop ? main_level->target : main_level->concurrency_mean;
    if (isfinite(conc))
        cJSON_AddItemToObject(map, "benchmark_concurrency", publish_value_int(llround(conc)));
    put_level_props(map, "benchmark_", main_level);
    if (plan->pricing.instance_type)
        cJSON_AddItemToObject(map, "benchmark_instance",
                              publish_value_string(plan->pricing.instance_type));
    if (plan->pricing.gpu_count > 0)
        cJSON_AddItemToObject(map, "benchmark_gpu_count",
                              publish_value_int(plan->pricing.gpu_count));
    if (plan->pricing.hourly_usd > 0)
        put_double_prop(map, "benchmark_", "hourly_usd", plan->pricing.hourly_usd);
    if (plan->all) {
        struct buf labels = {0};
        for (size_t i = 0; i < plan->n_levels; i++) {
            const struct publish_level *pl = &plan->levels[i];
            buf_printf(&labels, "%s%s", i ? "," : "", pl->label);
            char prefix[96];
            snprintf(prefix, sizeof prefix, "%s%s_", PUBLISH_LEVEL_PREFIX, pl->label);
            put_level_props(map, prefix, pl);
        }
        cJSON_AddItemToObject(map, "benchmark_levels", publish_value_string(labels.data));
        buf_free(&labels);
    }
    return map;
}

/* ---- merging -------------------------------------------------------------- */

bool publish_key_is_owned(const char *key)
{
    if (strncmp(key, PUBLISH_LEVEL_PREFIX, strlen(PUBLISH_LEVEL_PREFIX)) == 0)
        return true;
    for (const char *const *k = publish_owned_keys; *k; k++) {
        if (strcmp(*k, key) == 0)
            return true;
    }
    return false;
}

cJSON *publish_merge_properties(const cJSON *existing, const cJSON *ours,
                                struct publish_merge_report *rep)
{
    cJSON *merged = cJSON_CreateObject();
    const cJSON *item;
    cJSON_ArrayForEach(item, existing)
    {
        const char *k = item->string;
        if (!k)
            continue;
        if (cJSON_GetObjectItemCaseSensitive(ours, k))
            continue; /* set below */
        bool drop = publish_key_is_owned(k);
        const cJSON *o;
        cJSON_ArrayForEach(o, ours)
        {
            if (strcasecmp(o->string, k) == 0)
                drop = true; /* one key to the registry: ours wins */
        }
        if (drop) {
            rep->removed++;
            continue;
        }
        cJSON_AddItemToObject(merged, k, cJSON_Duplicate(item, true));
        rep->kept++;
    }
    cJSON_ArrayForEach(item, ours)
    {
        cJSON_AddItemToObject(merged, item->string, cJSON_Duplicate(item, true));
        rep->set++;
    }
    return merged;
}

void publish_sanitize_key(const char *in, struct buf *out)
{
    for (const char *p = in; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        buf_putc(out, ch < 0x20 || ch == ']' || ch == '[' || ch == 0x7f ? '_' : (char)ch);
    }
    if (!out->len)
        buf_puts(out, "unnamed");
}

struct span {
    size_t start, end; /* [start, end): begin line start .. end line end (before '\n') */
    char *key;
};

/* Finds every complete block: a begin line followed by the end line with the
 * same key and no other begin line in between. */
static size_t find_blocks(const char *text, struct span **out)
{
    size_t n = 0, cap = 0;
    *out = NULL;
    bool open = false;
    size_t open_start = 0;
    char *open_key = NULL;
    size_t begin_len = strlen(PUBLISH_BLOCK_BEGIN), end_len = strlen(PUBLISH_BLOCK_END);
    for (size_t pos = 0; text[pos];) {
        size_t eol = pos + strcspn(text + pos, "\n");
        size_t trimmed = eol;
        while (trimmed > pos && strchr(" \t\r", text[trimmed - 1]))
            trimmed--;
        const char *line = text + pos;
        size_t len = trimmed - pos;
        if (len > begin_len + 1 && strncmp(line, PUBLISH_BLOCK_BEGIN, begin_len) == 0 &&
            line[len - 1] == ']') {
            free(open_key);
            open = true;
            open_start = pos;
            open_key = xstrndup(line + begin_len, len - begin_len - 1);
        } else if (open && len > end_len + 1 && strncmp(line, PUBLISH_BLOCK_END, end_len) == 0 &&
                   line[len - 1] == ']' && len - end_len - 1 == strlen(open_key) &&
                   strncmp(line + end_len, open_key, len - end_len - 1) == 0) {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                *out = xrealloc(*out, cap * sizeof **out);
            }
            (*out)[n++] = (struct span){open_start, eol, open_key};
            open_key = NULL;
            open = false;
        }
        pos = text[eol] ? eol + 1 : eol;
    }
    free(open_key);
    return n;
}

enum block_fate {
    KEEP,
    REPLACE,
    DROP
};

char *publish_merge_description(const char *old, const char *key, const char *block,
                                int keep_blocks, struct publish_merge_report *rep)
{
    old = old ? old : "";
    struct span *blocks;
    size_t n = find_blocks(old, &blocks);
    enum block_fate *fate = xcalloc(n ? n : 1, sizeof *fate);
    bool have_ours = false;
    size_t others = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(blocks[i].key, key) == 0) {
            fate[i] = have_ours ? DROP : REPLACE;
            if (have_ours)
                rep->duplicates_removed++;
            else
                rep->replaced++;
            have_ours = true;
        } else {
            others++;
        }
    }
    /* keep_blocks counts ours too; the oldest (first) others go. */
    if (keep_blocks > 0 && others + 1 > (size_t)keep_blocks) {
        size_t excess = others + 1 - (size_t)keep_blocks;
        for (size_t i = 0; i < n && excess; i++) {
            if (fate[i] == KEEP && strcmp(blocks[i].key, key) != 0) {
                fate[i] = DROP;
                rep->pruned++;
                excess--;
            }
        }
    }

    struct buf out = {0};
    buf_reserve(&out, strlen(old) + strlen(block) + 4);
    size_t cursor = 0;
    for (size_t i = 0; i < n; i++) {
        buf_append(&out, old + cursor, blocks[i].start - cursor);
        cursor = blocks[i].end;
        if (fate[i] == KEEP) {
            buf_append(&out, old + blocks[i].start, blocks[i].end - blocks[i].start);
        } else if (fate[i] == REPLACE) {
            buf_puts(&out, block);
        } else {
            /* Take the block's line break and the blank line we put before it. */
            if (old[cursor] == '\n')
                cursor++;
            if (out.len == 0 && old[cursor] == '\n')
                cursor++;
            else if (out.len >= 2 && out.data[out.len - 1] == '\n' && out.data[out.len - 2] == '\n')
                out.data[--out.len] = '\0';
        }
    }
    if (n > 0 && fate[n - 1] == DROP && !old[cursor]) {
        /* The last block went: so does the separator we put before it. */
        while (out.len && out.data[out.len - 1] == '\n')
            out.data[--out.len] = '\0';
    }
    buf_puts(&out, old + cursor);
    if (!have_ours) {
        /* After the existing text, one blank line apart. */
        if (out.len > 0 && strspn(out.data, " \t\r\n") == out.len)
            buf_clear(&out);
        if (out.len > 0 && out.data[out.len - 1] != '\n')
            buf_puts(&out, "\n\n");
        else if (out.len > 1 && out.data[out.len - 2] != '\n')
            buf_puts(&out, "\n");
        buf_puts(&out, block);
    }
    for (size_t i = 0; i < n; i++)
        free(blocks[i].key);
    free(blocks);
    free(fate);
    return buf_steal(&out);
}
