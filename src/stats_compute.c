/* stats_compute.c: a run's records -> struct results (stats.h says what each
 * metric is; this file gathers the samples and hands them to stats.c). */
#include <stdlib.h>
#include <string.h>

#include "prices.h"
#include "stats.h"

enum status {
    SUCCESSFUL,
    ERRORED,
    INCOMPLETE,
    N_STATUS
};

struct samples {
    struct weighted *items;
    size_t n, cap;
};

struct intervals {
    struct interval *items;
    size_t n, cap;
};

/* What one pass over a level's records gathers. The rate metrics' events
 * are not among them: they are made later, one metric at a time
 * (gather_rate_events), so a large run's millions of token events are never
 * held for several metrics at once. */
struct level_samples {
    struct samples metric[METRIC_COUNT][N_STATUS]; /* the per-request metrics */
    struct intervals in_flight[N_STATUS];
    bool *good; /* per record: successful and within every SLO; NULL without SLOs */
};

static void add(struct samples *s, double value, double weight)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->items = xrealloc(s->items, s->cap * sizeof *s->items);
    }
    s->items[s->n++] = (struct weighted){value, weight};
}

static void add_interval(struct intervals *s, double start, double end)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->items = xrealloc(s->items, s->cap * sizeof *s->items);
    }
    s->items[s->n++] = (struct interval){start, end, 1};
}

static enum status status_of(enum request_outcome outcome)
{
    switch (outcome) {
    case OUTCOME_OK: return SUCCESSFUL;
    case OUTCOME_ERROR: return ERRORED;
    case OUTCOME_INCOMPLETE: return INCOMPLETE;
    }
    return ERRORED;
}

static double ns_to_ms(int64_t ns)
{
    return (double)ns / (double)NS_PER_MS;
}

static double ns_to_s(int64_t ns)
{
    return (double)ns / (double)NS_PER_SEC;
}

/* Per-request values of one record; `has_*` false when it never happened. */
struct request_values {
    bool has_latency, has_ttft, has_itl, has_tpot;
    double latency_s, ttft_ms, itl_ms, tpot_ms;
};

static struct request_values values_of(const struct request_record *r)
{
    struct request_values v = {0};
    if (r->send_ns && r->end_ns >= r->send_ns) {
        v.has_latency = true;
        v.latency_s = ns_to_s(r->end_ns - r->send_ns);
    }
    if (r->send_ns && r->first_token_ns >= r->send_ns) {
        v.has_ttft = true;
        v.ttft_ms = ns_to_ms(r->first_token_ns - r->send_ns);
    }
    if (r->first_token_ns && r->last_token_ns >= r->first_token_ns && r->output_tokens > 1) {
        v.has_itl = true;
        v.itl_ms = ns_to_ms(r->last_token_ns - r->first_token_ns) / (r->output_tokens - 1);
    }
    /* vLLM's TPOT: (E2E latency - TTFT) / (output - 1) = (end - first) / (output - 1). */
    if (r->first_token_ns && r->end_ns >= r->first_token_ns && r->output_tokens > 1) {
        v.has_tpot = true;
        v.tpot_ms = ns_to_ms(r->end_ns - r->first_token_ns) / (r->output_tokens - 1);
    }
    return v;
}

/* A successful request meets every SLO the spec sets; an SLO on a value the
 * request does not have (no ITL for one output token) is not held against it,
 * except TTFT and latency, which every successful answer has. */
static bool meets_slos(const struct request_values *v, const struct results *res)
{
    if (res->slo.ttft_ms > 0 && (!v->has_ttft || v->ttft_ms > res->slo.ttft_ms))
        return false;
    if (res->slo.latency_s > 0 && (!v->has_latency || v->latency_s > res->slo.latency_s))
        return false;
    if (res->slo.itl_ms > 0 && v->has_itl && v->itl_ms > res->slo.itl_ms)
        return false;
    if (res->slo.tpot_ms > 0 && v->has_tpot && v->tpot_ms > res->slo.tpot_ms)
        return false;
    return true;
}

static bool has_slos(const struct results *res)
{
    return res->slo.ttft_ms > 0 || res->slo.itl_ms > 0 || res->slo.tpot_ms > 0 ||
           res->slo.latency_s > 0;
}

/* Output tokens as timed events: the first chunk carries one token, the
 * rest are spread evenly over the later chunks at their real times. Without
 * chunks, all of them arrive at the last token (or the end). */
static void add_output_token_events(struct samples *s, const struct request_record *r,
                                    int64_t origin)
{
    if (r->output_tokens <= 0)
        return;
    if (r->n_chunks >= 2 && r->chunk_ns) {
        add(s, ns_to_s(r->chunk_ns[0] - origin), 1.0);
        double per_chunk = (r->output_tokens - 1.0) / (double)(r->n_chunks - 1);
        for (uint32_t i = 1; i < r->n_chunks; i++)
            add(s, ns_to_s(r->chunk_ns[i] - origin), per_chunk);
        return;
    }
    int64_t at = r->last_token_ns ? r->last_token_ns : r->end_ns;
    if (at)
        add(s, ns_to_s(at - origin), r->output_tokens);
}

/* The prompt's tokens arrive with the first token (or the end). */
static void add_prompt_token_event(struct samples *s, const struct request_record *r,
                                   int64_t origin)
{
    int64_t at = r->first_token_ns ? r->first_token_ns : r->end_ns;
    if (r->prompt_tokens >= 0 && at)
        add(s, ns_to_s(at - origin), r->prompt_tokens);
}

/* The events of one rate metric for one record. */
static void add_rate_events(struct samples *s, int metric, const struct request_record *r,
                            int64_t origin)
{
    switch (metric) {
    case METRIC_REQUESTS_PER_SECOND:
        if (r->end_ns)
            add(s, ns_to_s(r->end_ns - origin), 1);
        break;
    case METRIC_PROMPT_TOKENS_PER_SECOND: add_prompt_token_event(s, r, origin); break;
    case METRIC_OUTPUT_TOKENS_PER_SECOND: add_output_token_events(s, r, origin); break;
    case METRIC_TOKENS_PER_SECOND:
        add_prompt_token_event(s, r, origin);
        add_output_token_events(s, r, origin);
        break;
    }
}

/* One rate metric's events from every record of the level, measured or
 * not (the window also counts what warmup requests deliver inside it), by
 * status; with `only`, from the records it marks. */
static void gather_rate_events(const struct level_run *lr, int metric, int64_t origin,
                               const bool *only, struct samples sets[N_STATUS])
{
    for (size_t i = 0; i < lr->n_records; i++) {
        const struct request_record *r = &lr->records[i];
        if (!only || only[i])
            add_rate_events(&sets[status_of(r->outcome)], metric, r, origin);
    }
}

static void gather_request_values(struct level_samples *ls, const struct request_record *r,
                                  const struct request_values *v, enum status st, bool open_loop)
{
#define METRIC(id) (&ls->metric[id][st])
    if (v->has_latency)
        add(METRIC(METRIC_REQUEST_LATENCY), v->latency_s, 1);
    if (v->has_ttft)
        add(METRIC(METRIC_TIME_TO_FIRST_TOKEN_MS), v->ttft_ms, 1);
    if (v->has_itl)
        add(METRIC(METRIC_INTER_TOKEN_LATENCY_MS), v->itl_ms, r->output_tokens - 1.0);
    if (v->has_tpot)
        add(METRIC(METRIC_TIME_PER_OUTPUT_TOKEN_MS), v->tpot_ms, 1);
    for (uint32_t i = 1; r->chunk_ns && i < r->n_chunks; i++)
        add(METRIC(METRIC_INTER_CHUNK_LATENCY_MS), ns_to_ms(r->chunk_ns[i] - r->chunk_ns[i - 1]),
            1);
    if (r->prompt_tokens >= 0)
        add(METRIC(METRIC_PROMPT_TOKEN_COUNT), r->prompt_tokens, 1);
    if (r->output_tokens >= 0)
        add(METRIC(METRIC_OUTPUT_TOKEN_COUNT), r->output_tokens, 1);
    if (r->prompt_tokens >= 0 && r->output_tokens >= 0)
        add(METRIC(METRIC_TOTAL_TOKEN_COUNT), (double)r->prompt_tokens + r->output_tokens, 1);
    if (open_loop && r->intended_ns && r->send_ns) {
        add(METRIC(METRIC_SEND_LAG_MS), ns_to_ms(r->send_ns - r->intended_ns), 1);
        if (r->end_ns)
            add(METRIC(METRIC_SCHEDULED_LATENCY), ns_to_s(r->end_ns - r->intended_ns), 1);
    }
#undef METRIC
}

static bool is_window_metric(int metric)
{
    return metric == METRIC_REQUESTS_PER_SECOND || metric == METRIC_PROMPT_TOKENS_PER_SECOND ||
           metric == METRIC_OUTPUT_TOKENS_PER_SECOND || metric == METRIC_TOKENS_PER_SECOND;
}

/* The samples of every status, in GuideLLM's order for the total split. */
static const enum status total_order[] = {SUCCESSFUL, INCOMPLETE, ERRORED};

/* The one status that has samples (the usual case: all successful), or -1. */
static int only_status(const size_t n[N_STATUS])
{
    int found = -1;
    for (int st = 0; st < N_STATUS; st++) {
        if (n[st] == 0)
            continue;
        if (found >= 0)
            return -1;
        found = st;
    }
    return found;
}

static void summarise_concurrency(struct level_samples *ls, double window_s,
                                  struct distribution *split[N_STATUS], struct distribution *total)
{
    size_t n[N_STATUS];
    for (int st = 0; st < N_STATUS; st++) {
        n[st] = ls->in_flight[st].n;
        distribution_of_concurrency(ls->in_flight[st].items, n[st], 0, window_s, split[st]);
    }
    int only = only_status(n);
    if (only >= 0) {
        *total = *split[only]; /* same intervals, same distribution */
        return;
    }
    struct intervals every = {0};
    for (size_t k = 0; k < N_STATUS; k++) {
        const struct intervals *iv = &ls->in_flight[total_order[k]];
        for (size_t i = 0; i < iv->n; i++)
            add_interval(&every, iv->items[i].start, iv->items[i].end);
    }
    distribution_of_concurrency(every.items, every.n, 0, window_s, total);
    free(every.items);
}

static void summarise_samples(struct samples sets[N_STATUS], bool window, double window_s,
                              struct distribution *split[N_STATUS], struct distribution *total)
{
    size_t n[N_STATUS];
    for (int st = 0; st < N_STATUS; st++)
        n[st] = sets[st].n;
    int only = only_status(n);
    /* Several statuses: gather the total before the splits overwrite their samples. */
    struct samples all = {0};
    for (size_t k = 0; only < 0 && k < N_STATUS; k++) {
        struct samples *s = &sets[total_order[k]];
        for (size_t i = 0; i < s->n; i++)
            add(&all, s->items[i].value, s->items[i].weight);
    }
    for (int st = 0; st < N_STATUS; st++) {
        if (window)
            distribution_of_rate(sets[st].items, n[st], 0, window_s, split[st]);
        else
            distribution_of(sets[st].items, n[st], -1, split[st]);
    }
    if (only >= 0)
        *total = *split[only]; /* same samples, same distribution */
    else if (window)
        distribution_of_rate(all.items, all.n, 0, window_s, total);
    else
        distribution_of(all.items, all.n, -1, total);
    free(all.items);
}

static void free_sets(struct samples sets[N_STATUS])
{
    for (int st = 0; st < N_STATUS; st++) {
        free(sets[st].items);
        sets[st] = (struct samples){0};
    }
}

static void summarise_metric(struct level_samples *ls, int m, const struct level_run *lr,
                             int64_t origin, double window_s, struct status_distribution *sd)
{
    struct distribution *split[N_STATUS] = {&sd->successful, &sd->errored, &sd->incomplete};
    if (m == METRIC_REQUEST_CONCURRENCY) {
        summarise_concurrency(ls, window_s, split, &sd->total);
    } else if (is_window_metric(m)) {
        struct samples events[N_STATUS] = {0};
        gather_rate_events(lr, m, origin, NULL, events);
        summarise_samples(events, true, window_s, split, &sd->total);
        free_sets(events);
    } else {
        summarise_samples(ls->metric[m], false, window_s, split, &sd->total);
        free_sets(ls->metric[m]);
    }
}

/* The per-request metrics first, each freed once summarised, then the rate
 * metrics: the biggest sample sets are never alive together. */
static void summarise(struct level_samples *ls, const struct level_run *lr, int64_t origin,
                      double window_s, bool open_loop, struct level_summary *out)
{
    for (int m = 0; m < METRIC_COUNT; m++) {
        /* Without an arrival schedule the open-loop metrics do not apply. */
        bool applies = open_loop || (m != METRIC_SCHEDULED_LATENCY && m != METRIC_SEND_LAG_MS);
        if (!is_window_metric(m) && applies)
            summarise_metric(ls, m, lr, origin, window_s, &out->metrics[m]);
    }
    for (int m = 0; m < METRIC_COUNT; m++) {
        if (is_window_metric(m))
            summarise_metric(ls, m, lr, origin, window_s, &out->metrics[m]);
    }
}

static void free_samples(struct level_samples *ls)
{
    for (int m = 0; m < METRIC_COUNT; m++)
        free_sets(ls->metric[m]);
    for (int st = 0; st < N_STATUS; st++)
        free(ls->in_flight[st].items);
    free(ls->good);
}

/* Events per second inside [0, window] of the records `good` marks (all
 * successful): what a rate distribution's mean is. */
static double good_rate(const struct level_run *lr, int metric, int64_t origin, const bool *good,
                        double window_s)
{
    struct samples events[N_STATUS] = {0};
    gather_rate_events(lr, metric, origin, good, events);
    struct distribution d;
    distribution_of_rate(events[SUCCESSFUL].items, events[SUCCESSFUL].n, 0, window_s, &d);
    free_sets(events);
    return d.mean;
}

static void compute_level(const struct run *run, const struct level_run *lr,
                          const struct results *res, struct level_summary *out)
{
    int64_t w0 = lr->measure_start_ns ? lr->measure_start_ns : lr->start_ns;
    int64_t w1 = lr->measure_end_ns ? lr->measure_end_ns : lr->end_ns;
    if (w1 < w0)
        w1 = w0;
    double window_s = ns_to_s(w1 - w0);
    bool open_loop = load_profile_is_open_loop(lr->profile);
    bool slos = has_slos(res);

    out->strategy = xstrdup(load_profile_name(lr->profile));
    out->target = lr->target;
    out->start_time = ns_to_s(run->wall_start_ns + (w0 - run->mono_start_ns));
    out->end_time = ns_to_s(run->wall_start_ns + (w1 - run->mono_start_ns));
    out->duration = window_s;
    out->aborted = lr->aborted;
    out->abort_reason = lr->abort_reason ? xstrdup(lr->abort_reason) : NULL;

    struct level_samples ls;
    memset(&ls, 0, sizeof ls);
    if (slos)
        ls.good = xcalloc(lr->n_records, sizeof *ls.good);
    for (size_t i = 0; i < lr->n_records; i++) {
        const struct request_record *r = &lr->records[i];
        enum status st = status_of(r->outcome);
        struct request_values v = values_of(r);
        bool good = slos && st == SUCCESSFUL && meets_slos(&v, res);
        if (slos)
            ls.good[i] = good;
        int64_t end = r->end_ns ? r->end_ns : lr->end_ns; /* in flight until the level ends */
        if (r->send_ns && end >= r->send_ns)
            add_interval(&ls.in_flight[st], ns_to_s(r->send_ns - w0), ns_to_s(end - w0));
        if (!r->measured)
            continue;
        gather_request_values(&ls, r, &v, st, open_loop);
        switch (st) {
        case SUCCESSFUL: out->request_totals.successful++; break;
        case ERRORED: out->request_totals.errored++; break;
        case INCOMPLETE: out->request_totals.incomplete++; break;
        case N_STATUS: break;
        }
        if (st == ERRORED && (size_t)r->error < ARRAY_LEN(out->errors_by_class))
            out->errors_by_class[r->error]++;
        if (slos && (st == SUCCESSFUL || st == ERRORED)) {
            out->goodput_determined++;
            out->goodput_requests += good;
        }
    }
    out->request_totals.total = out->request_totals.successful + out->request_totals.errored +
                                out->request_totals.incomplete;
    summarise(&ls, lr, w0, window_s, open_loop, out);

    if (slos) {
        out->has_goodput = true;
        out->goodput_requests_per_second =
            good_rate(lr, METRIC_REQUESTS_PER_SECOND, w0, ls.good, window_s);
        out->goodput_output_tokens_per_second =
            good_rate(lr, METRIC_OUTPUT_TOKENS_PER_SECOND, w0, ls.good, window_s);
    }
    double output_tps = out->metrics[METRIC_OUTPUT_TOKENS_PER_SECOND].successful.mean;
    double total_tps = out->metrics[METRIC_TOKENS_PER_SECOND].successful.mean;
    if (res->instance.hourly_usd > 0 && output_tps > 0 && total_tps > 0) {
        out->has_cost = true;
        out->cost_per_1k_output_usd = cost_per_1k_tokens(res->instance.hourly_usd, output_tps);
        out->cost_per_1k_total_usd = cost_per_1k_tokens(res->instance.hourly_usd, total_tps);
    }
    free_samples(&ls);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* "server", "tokenizer", "mixed" (both) or "none" over the measured
 * records; records without counts (cancelled ones, mostly) do not make the
 * others "mixed". */
static char *token_counts_from(const struct run *run)
{
    bool seen[3] = {false, false, false};
    for (size_t l = 0; l < run->n_levels; l++) {
        for (size_t i = 0; i < run->levels[l].n_records; i++) {
            const struct request_record *r = &run->levels[l].records[i];
            if (r->measured && r->token_source <= TOKENS_NONE)
                seen[r->token_source] = true;
        }
    }
    if (!seen[TOKENS_SERVER] && !seen[TOKENS_TOKENIZER] && !seen[TOKENS_NONE])
        return NULL;
    if (seen[TOKENS_SERVER] && seen[TOKENS_TOKENIZER])
        return xstrdup("mixed");
    return xstrdup(token_source_name(seen[TOKENS_SERVER]      ? TOKENS_SERVER
                                     : seen[TOKENS_TOKENIZER] ? TOKENS_TOKENIZER
                                                              : TOKENS_NONE));
}

static void copy_labels(const struct run *run, struct results *out)
{
    out->format = xstrdup("llmsweep");
    out->generator_version = xstrdup(LLMSWEEP_VERSION);
    out->run_id = xstrdup(run->run_id);
    out->started_at = run->wall_start_ns > 0 ? iso8601_utc(run->wall_start_ns / NS_PER_SEC) : NULL;
    out->interrupted = run->interrupted;
    out->tokenizer_source = dup_or_null(run->tokenizer_source);
    out->prompts_approximate = run->prompts_approximate;
    out->token_counts_from = token_counts_from(run);
    const struct spec *spec = run->spec;
    if (!spec)
        return;
    out->spec_name = dup_or_null(spec->name);
    out->model = dup_or_null(spec->model);
    out->endpoint = dup_or_null(spec->endpoint);
    out->api = xstrdup(api_kind_name(spec->api));
    out->profile = xstrdup(load_profile_name(spec->load.profile));
    out->instance.type = dup_or_null(spec->instance.type);
    out->instance.gpu_count = spec->instance.gpu_count;
    out->instance.gpu_type = dup_or_null(spec->instance.gpu_type);
    out->instance.hourly_usd = spec->instance.hourly_usd;
    out->slo.ttft_ms = spec->slo.ttft_ms;
    out->slo.itl_ms = spec->slo.itl_ms;
    out->slo.tpot_ms = spec->slo.tpot_ms;
    out->slo.latency_s = spec->slo.latency_s;
}

void stats_compute(const struct run *run, struct results *out)
{
    memset(out, 0, sizeof *out);
    copy_labels(run, out);
    out->levels = xcalloc(run->n_levels, sizeof *out->levels);
    out->n_levels = run->n_levels;
    for (size_t l = 0; l < run->n_levels; l++)
        compute_level(run, &run->levels[l], out, &out->levels[l]);
}
