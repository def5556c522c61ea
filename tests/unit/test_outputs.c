/* outputs: benchmarks.json (complete, valid, right units, the paths publish
 * reads), requests.jsonl, CSV, summary.json size, HTML, console table,
 * atomic writes and the completion marker, for the hand-built run with an
 * error and an incomplete request (run_fixture.h). */
#include <cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "outputs.h"
#include "run_fixture.h"
#include "stats.h"
#include "unicode.h"

/* Where LLMSWEEP_KEEP_OUTPUTS names a folder, outputs_write_hand_run leaves
 * its files there: test_report.py hands them to GuideLLM and Chromium. */
#define KEEP_ENV "LLMSWEEP_KEEP_OUTPUTS"

struct fixture {
    struct spec spec;
    struct run run;
    struct results results;
};

static void fixture_make(struct fixture *f, enum load_profile profile)
{
    f->spec = fixture_spec();
    fixture_run(&f->run, &f->spec, profile);
    stats_compute(&f->run, &f->results);
}

static void fixture_free(struct fixture *f)
{
    results_free(&f->results);
    f->run.spec = NULL;
    run_free(&f->run);
}

static const cJSON *at(const cJSON *node, const char *path)
{
    char *copy = strdup(path), *save = NULL;
    for (char *key = strtok_r(copy, ".", &save); key && node; key = strtok_r(NULL, ".", &save)) {
        if (cJSON_IsArray(node))
            node = cJSON_GetArrayItem(node, atoi(key));
        else
            node = cJSON_GetObjectItemCaseSensitive(node, key);
    }
    free(copy);
    return node;
}

static double num_at(const cJSON *root, const char *path)
{
    const cJSON *n = at(root, path);
    return cJSON_IsNumber(n) ? n->valuedouble : NAN;
}

static cJSON *render_json(const struct fixture *f, bool records_inline)
{
    struct buf text = {0};
    results_json_render(&f->results, &f->run, &f->spec, records_inline, &text);
    cJSON *root = cJSON_Parse(text.data);
    buf_free(&text);
    return root;
}

TEST(outputs_json_is_complete)
{
    struct fixture f;
    fixture_make(&f, PROFILE_CONCURRENT);
    cJSON *root = render_json(&f, true);
    CHECK(root != NULL);
    CHECK_EQ_INT(cJSON_GetArraySize(at(root, "benchmarks")), 1);
    const cJSON *m = at(root, "benchmarks.0.metrics");
    static const char *const statuses[] = {"successful", "errored", "incomplete", "total"};
    static const char *const stats[] = {"mean", "median", "mode",  "variance", "std_dev",
                                        "min",  "max",    "count", "total_sum"};
    for (int k = 0; k < METRIC_COUNT; k++) {
        if (k == METRIC_SCHEDULED_LATENCY || k == METRIC_SEND_LAG_MS) {
            CHECK(cJSON_IsNull(at(m, metric_keys[k]))); /* closed loop */
            continue;
        }
        for (size_t s = 0; s < 4; s++) {
            char path[128];
            for (size_t i = 0; i < ARRAY_LEN(stats); i++) {
                snprintf(path, sizeof path, "%s.%s.%s", metric_keys[k], statuses[s], stats[i]);
                if (!cJSON_IsNumber(at(m, path)))
                    test_report(test_failures_, __FILE__, __LINE__, "missing %s", path);
            }
            for (int p = 0; p < PERCENTILE_COUNT; p++) {
                snprintf(path, sizeof path, "%s.%s.percentiles.%s", metric_keys[k], statuses[s],
                         percentile_keys[p]);
                if (!cJSON_IsNumber(at(m, path)))
                    test_report(test_failures_, __FILE__, __LINE__, "missing %s", path);
            }
        }
    }
    CHECK_NEAR(num_at(m, "request_totals.successful"), 2, 0);
    CHECK_NEAR(num_at(m, "request_totals.errored"), 1, 0);
    CHECK_NEAR(num_at(m, "request_totals.incomplete"), 1, 0);
    CHECK_NEAR(num_at(m, "request_totals.total"), 4, 0);
    /* GuideLLM's required keys we do not measure are there, empty. */
    CHECK_NEAR(num_at(m, "time_to_first_output_token_ms.successful.count"), 0, 0);
    CHECK(cJSON_IsObject(at(m, "tool_call.tokens")));
    CHECK(cJSON_IsNull(at(m, "text.tokens.output")));
    /* Benchmark-level GuideLLM keys. */
    const cJSON *b = at(root, "benchmarks.0");
    CHECK_EQ_STR(cJSON_GetStringValue(at(b, "type_")), "generative_benchmark");
    CHECK_EQ_STR(cJSON_GetStringValue(at(b, "config.strategy.type_")), "concurrent");
    CHECK_NEAR(num_at(b, "config.strategy.streams"), 2, 0);
    CHECK_NEAR(num_at(b, "duration"), 10, 1e-9);
    CHECK_NEAR(num_at(b, "start_time"), 1795844057.0, 1e-6);
    CHECK_NEAR(num_at(b, "end_time"), 1795844067.0, 1e-6);
    CHECK(cJSON_IsArray(at(b, "requests.successful")));
    /* Our additions. */
    CHECK_NEAR(num_at(b, "llmsweep.cost.per_1k_output_tokens_usd"), 1.0, 1e-12);
    CHECK_NEAR(num_at(b, "llmsweep.goodput.requests"), 1, 0);
    CHECK_NEAR(num_at(b, "llmsweep.errors_by_class.http"), 1, 0);
    CHECK_EQ_INT(cJSON_GetArraySize(at(b, "llmsweep.records")), 5);
    CHECK_EQ_STR(cJSON_GetStringValue(at(b, "llmsweep.records.2.outcome")), "errored");
    CHECK_EQ_STR(cJSON_GetStringValue(at(b, "llmsweep.records.2.error")), "http");
    CHECK_EQ_STR(cJSON_GetStringValue(at(b, "llmsweep.records.0.error")), "none");
    CHECK_CONTAINS(cJSON_GetStringValue(at(b, "llmsweep.records.2.message")), "overloaded");
    CHECK_NEAR(num_at(b, "llmsweep.records.2.http_status"), 500, 0);
    CHECK_NEAR(num_at(b, "llmsweep.records.2.output_tokens"), -1, 0);
    CHECK_NEAR(num_at(b, "llmsweep.records.2.first_token_ns"), -1, 0); /* never */
    CHECK_EQ_STR(cJSON_GetStringValue(at(b, "llmsweep.records.3.outcome")), "incomplete");
    CHECK_NEAR(num_at(b, "llmsweep.records.0.send_ns"), 2e9, 0); /* since the run started */
    CHECK_NEAR(num_at(b, "llmsweep.records.0.chunks"), 4, 0);
    CHECK_NEAR(num_at(b, "llmsweep.records.0.chunk_ms.3"), 500, 1e-9);
    const cJSON *run = at(root, "llmsweep");
    CHECK_EQ_STR(cJSON_GetStringValue(at(run, "run_id")), "20261128T051944Z-3f9a1c");
    CHECK_EQ_STR(cJSON_GetStringValue(at(run, "started_at")), "2026-11-28T05:34:15Z");
    CHECK_EQ_STR(cJSON_GetStringValue(at(run, "instance.type")), "g6.4xlarge");
    CHECK_NEAR(num_at(run, "instance.hourly_usd"), 3.6, 0);
    CHECK_EQ_STR(cJSON_GetStringValue(at(run, "records")), "inline");
    CHECK(cJSON_IsFalse(at(run, "interrupted")));
    CHECK_EQ_STR(cJSON_GetStringValue(at(run, "prompt_lengths")), "exact");
    CHECK_EQ_STR(cJSON_GetStringValue(at(root, "config.spec.backend.model")), "m");
    CHECK_EQ_STR(cJSON_GetStringValue(at(root, "config.spec.backend.request_format")),
                 "/v1/chat/completions");
    CHECK_NEAR(num_at(root, "config.spec.profile.streams.0"), 2, 0);
    CHECK_NEAR(num_at(root, "metadata.version"), 2, 0);
    cJSON_Delete(root);
    fixture_free(&f);
}

/* The seed's publish step reads exactly these paths, per benchmark. */
TEST(outputs_json_publish_paths_and_units)
{
    struct fixture f;
    fixture_make(&f, PROFILE_CONCURRENT);
    cJSON *root = render_json(&f, false);
    const cJSON *m = at(root, "benchmarks.0.metrics");
    CHECK_NEAR(num_at(m, "request_concurrency.successful.mean"), 0.13, 1e-12);
    CHECK_NEAR(num_at(m, "tokens_per_second.successful.mean"), 4.5, 1e-12); /* tokens/s */
    /* TTFT and ITL in milliseconds: 100 and 300 ms; 100 ms. */
    CHECK_NEAR(num_at(m, "time_to_first_token_ms.successful.median"), 100, 1e-9);
    CHECK_NEAR(num_at(m, "time_to_first_token_ms.successful.percentiles.p90"), 300, 1e-9);
    CHECK_NEAR(num_at(m, "time_to_first_token_ms.successful.percentiles.p99"), 300, 1e-9);
    CHECK_NEAR(num_at(m, "inter_token_latency_ms.successful.median"), 100, 1e-9);
    CHECK_NEAR(num_at(m, "inter_token_latency_ms.successful.percentiles.p90"), 100, 1e-9);
    CHECK_NEAR(num_at(m, "inter_token_latency_ms.successful.percentiles.p99"), 100, 1e-9);
    /* Request latency in seconds: .5 and .6 s. */
    CHECK_NEAR(num_at(m, "request_latency.successful.median"), 0.5, 1e-12);
    CHECK_NEAR(num_at(m, "request_latency.successful.percentiles.p90"), 0.6, 1e-12);
    CHECK_NEAR(num_at(m, "request_latency.successful.percentiles.p99"), 0.6, 1e-12);
    /* Median is p50 everywhere. */
    for (int k = 0; k < METRIC_COUNT; k++) {
        char a[128], b[128];
        snprintf(a, sizeof a, "%s.total.median", metric_keys[k]);
        snprintf(b, sizeof b, "%s.total.percentiles.p50", metric_keys[k]);
        if (cJSON_IsObject(at(m, metric_keys[k])))
            CHECK(num_at(m, a) == num_at(m, b));
    }
    CHECK_EQ_STR(cJSON_GetStringValue(at(root, "llmsweep.records")), "requests.jsonl");
    CHECK(at(root, "benchmarks.0.llmsweep.records") == NULL);
    cJSON_Delete(root);
    fixture_free(&f);
}

TEST(outputs_json_open_loop_adds_schedule_metrics)
{
    struct fixture f;
    fixture_make(&f, PROFILE_CONSTANT);
    cJSON *root = render_json(&f, false);
    const cJSON *m = at(root, "benchmarks.0.metrics");
    CHECK_NEAR(num_at(m, "send_lag_ms.successful.max"), 10, 1e-9);
    CHECK_NEAR(num_at(m, "request_scheduled_latency.successful.max"), 0.61, 1e-9);
    /* GuideLLM's name for the send lag, in its unit (seconds). */
    CHECK_NEAR(num_at(m, "request_dispatch_delay.successful.max"), 0.01, 1e-12);
    CHECK_NEAR(num_at(m, "request_dispatch_delay.successful.variance"),
               num_at(m, "send_lag_ms.successful.variance") * 1e-6, 1e-15);
    CHECK_NEAR(num_at(root, "benchmarks.0.config.strategy.rate"), 2, 0);
    cJSON_Delete(root);
    fixture_free(&f);
}

static void check_same_distribution(int *test_failures_, const struct distribution *a,
                                    const struct distribution *b, const char *what)
{
    bool same = a->present == b->present && a->count == b->count && a->mean == b->mean &&
                a->median == b->median && a->mode == b->mode && a->variance == b->variance &&
                a->std_dev == b->std_dev && a->min == b->min && a->max == b->max &&
                a->total_sum == b->total_sum &&
                memcmp(a->percentiles, b->percentiles, sizeof a->percentiles) == 0;
    if (!same)
        test_report(test_failures_, __FILE__, __LINE__, "%s differs after the round trip", what);
}

TEST(outputs_json_round_trips_through_results_load)
{
    struct fixture f;
    fixture_make(&f, PROFILE_CONSTANT);
    f.results.interrupted = true;
    f.results.prompts_approximate = true;
    struct buf text = {0};
    results_json_render(&f.results, &f.run, &f.spec, true, &text);
    char path[512];
    snprintf(path, sizeof path, "%s/benchmarks.json", test_tmpdir());
    struct buf err = {0};
    CHECK(write_file_atomic(path, text.data, text.len, &err));
    struct results back;
    CHECK(results_load(path, &back, &err));
    CHECK_EQ_STR(back.format, "llmsweep");
    CHECK_EQ_STR(back.run_id, f.results.run_id);
    CHECK_EQ_STR(back.model, "m");
    CHECK_EQ_STR(back.api, "chat");
    CHECK_EQ_STR(back.instance.gpu_type, "NVIDIA L4");
    CHECK(back.interrupted);
    CHECK(back.prompts_approximate);
    CHECK_NEAR(back.slo.ttft_ms, 200, 0);
    CHECK_EQ_INT(back.n_levels, 1);
    const struct level_summary *a = &f.results.levels[0], *b = &back.levels[0];
    CHECK_EQ_STR(b->strategy, "constant");
    CHECK_NEAR(b->target, 2, 0);
    CHECK(a->duration == b->duration && a->start_time == b->start_time);
    CHECK_EQ_INT(b->request_totals.errored, 1);
    CHECK(b->has_cost && b->cost_per_1k_total_usd == a->cost_per_1k_total_usd);
    CHECK(b->has_goodput && b->goodput_determined == 3);
    CHECK_EQ_INT(b->errors_by_class[REQERR_HTTP], 1);
    for (int k = 0; k < METRIC_COUNT; k++) {
        const struct status_distribution *x = &a->metrics[k], *y = &b->metrics[k];
        check_same_distribution(test_failures_, &x->successful, &y->successful, metric_keys[k]);
        check_same_distribution(test_failures_, &x->errored, &y->errored, metric_keys[k]);
        check_same_distribution(test_failures_, &x->incomplete, &y->incomplete, metric_keys[k]);
        check_same_distribution(test_failures_, &x->total, &y->total, metric_keys[k]);
    }
    results_free(&back);
    buf_free(&text);
    buf_free(&err);
    fixture_free(&f);
}

TEST(outputs_records_jsonl)
{
    struct fixture f;
    fixture_make(&f, PROFILE_CONCURRENT);
    struct buf text = {0};
    records_jsonl_render(&f.run, &text);
    int lines = 0;
    for (char *line = strtok(text.data, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        cJSON *o = cJSON_Parse(line);
        CHECK(o != NULL);
        CHECK(cJSON_IsString(at(o, "outcome")));
        CHECK(cJSON_IsNumber(at(o, "send_ns")));
        CHECK_NEAR(num_at(o, "server_first_token_ns"), -1, 0); /* not stamped */
        CHECK_NEAR(num_at(o, "connection_retries"), 0, 0);
        cJSON_Delete(o);
    }
    CHECK_EQ_INT(lines, 5);
    buf_free(&text);
    fixture_free(&f);
}

/* chunk_ms is formatted without printf: the text must be printf's "%.3f"
 * byte for byte, at half microseconds and huge or negative times too. */
TEST(outputs_records_chunk_ms_as_printf)
{
    enum {
        N = 6000
    };
    int64_t *delta = malloc(N * sizeof *delta);
    size_t n = 0;
    for (int64_t ns = 0; ns < 3000; ns++)
        delta[n++] = ns;
    static const int64_t edges[] = {-1,
                                    -500,
                                    -1500,
                                    -1234567,
                                    999999500,
                                    1000000500,
                                    (INT64_C(1) << 53) - 1,
                                    INT64_C(1) << 53,
                                    (INT64_C(1) << 53) + 500,
                                    (INT64_C(1) << 60) + 1500};
    for (size_t i = 0; i < ARRAY_LEN(edges); i++)
        delta[n++] = edges[i];
    uint64_t x = 12345;
    while (n < N) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t v = (int64_t)(x >> (4 + (x & 63) % 56)); /* every magnitude below 2^60 */
        delta[n++] = (x & 64) ? v - v % 1000 + 500 : v;  /* many exact half microseconds */
    }
    int64_t send = INT64_C(1) << 61;
    struct request_record rec = {.send_ns = send, .n_chunks = N, .outcome = OUTCOME_OK};
    rec.chunk_ns = malloc(N * sizeof *rec.chunk_ns);
    for (size_t i = 0; i < N; i++)
        rec.chunk_ns[i] = send + delta[i];
    struct run run = {.n_levels = 1};
    run.levels = calloc(1, sizeof *run.levels);
    run.levels[0] = (struct level_run){.records = &rec, .n_records = 1};
    struct buf text = {0};
    records_jsonl_render(&run, &text);
    const char *p = text.data ? strstr(text.data, "\"chunk_ms\":[") : NULL;
    CHECK(p != NULL);
    p = p ? p + strlen("\"chunk_ms\":[") : "";
    for (size_t i = 0; i < N && *p; i++) {
        char want[40];
        snprintf(want, sizeof want, "%.3f", (double)delta[i] / (double)NS_PER_MS);
        size_t len = strcspn(p, ",]");
        if (strlen(want) != len || strncmp(p, want, len) != 0) {
            CHECK_EQ_STR(want, "the same as chunk_ms"); /* shows the expected text */
            fprintf(stderr, "    delta %lld ns: got %.*s\n", (long long)delta[i], (int)len, p);
            break;
        }
        p += len + (p[len] == ',');
    }
    CHECK(*p == ']');
    buf_free(&text);
    free(run.levels);
    free(rec.chunk_ns);
    free(delta);
}

/* A message past the 300 bytes kept is cut where a character ends, and a
 * record whose chunk timestamps were dropped (a stream failed for its
 * length) keeps its count with an empty chunk_ms. */
TEST(outputs_records_cut_messages_at_characters)
{
    struct buf message = {0};
    buf_puts(&message, "x");
    for (int i = 0; i < 200; i++)
        buf_puts(&message, "\xc3\xa9"); /* 'e' with an acute accent: 2 bytes */
    struct request_record rec = {.n_chunks = 70000,
                                 .outcome = OUTCOME_ERROR,
                                 .error = REQERR_MALFORMED,
                                 .error_message = message.data};
    struct run run = {.n_levels = 1};
    run.levels = calloc(1, sizeof *run.levels);
    run.levels[0] = (struct level_run){.records = &rec, .n_records = 1};
    struct buf text = {0};
    records_jsonl_render(&run, &text);
    CHECK(text.len > 0 && utf8_valid_prefix(text.data, text.len) == text.len);
    cJSON *o = cJSON_Parse(text.data);
    CHECK(o != NULL);
    const char *kept = cJSON_GetStringValue(at(o, "message"));
    CHECK(kept != NULL);
    CHECK_EQ_INT(kept ? (int)strlen(kept) : 0, 299); /* "x" and 149 whole characters */
    CHECK_NEAR(num_at(o, "chunks"), 70000, 0);
    CHECK(cJSON_GetArraySize(at(o, "chunk_ms")) == 0);
    cJSON_Delete(o);
    buf_free(&text);
    buf_free(&message);
    free(run.levels);
}

TEST(outputs_csv_one_row_per_level)
{
    struct fixture f;
    fixture_make(&f, PROFILE_CONCURRENT);
    struct buf text = {0};
    csv_render(&f.results, &text);
    CHECK(strncmp(text.data,
                  "level,strategy,target,duration_s,requests_successful,requests_errored,"
                  "requests_incomplete,requests_total,requests_per_second,"
                  "output_tokens_per_second,",
                  150) == 0);
    char *header = strtok(text.data, "\n"), *row = strtok(NULL, "\n");
    CHECK(row != NULL && strtok(NULL, "\n") == NULL);
    /* Split both lines and look cells up by column name. */
    char *names[64], *cells[64];
    int n = 0, m = 0;
    for (char *p = header, *c; (c = strsep(&p, ",")) && n < 64;)
        names[n++] = c;
    for (char *p = row, *c; (c = strsep(&p, ",")) && m < 64;)
        cells[m++] = c;
    CHECK_EQ_INT(n, m);
    static const char *const expected[][2] = {
        {"requests_errored", "1"},
        {"ttft_ms_p50", "100"},
        {"latency_s_p50", "0.5"},
        {"cost_per_1k_output_tokens_usd", "1"},
        {"send_lag_ms_p50", ""} /* closed loop: empty */,
        {"strategy", "concurrent"},
    };
    int found = 0;
    for (int i = 0; i < n && i < m; i++) {
        for (size_t e = 0; e < ARRAY_LEN(expected); e++) {
            if (strcmp(names[i], expected[e][0]) == 0) {
                found++;
                CHECK_EQ_STR(cells[i], expected[e][1]);
            }
        }
    }
    CHECK_EQ_INT(found, 6);
    buf_free(&text);
    fixture_free(&f);
}

TEST(outputs_summary_stays_under_3k)
{
    struct fixture f;
    fixture_make(&f, PROFILE_CONCURRENT);
    struct buf text = {0};
    summary_render(&f.results, &text);
    cJSON *root = cJSON_Parse(text.data);
    CHECK(root != NULL);
    CHECK_NEAR(num_at(root, "levels.0.total_tokens_per_s"), 4.5, 1e-9);
    CHECK_NEAR(num_at(root, "levels.0.ttft_ms.p50"), 100, 1e-9);
    CHECK_NEAR(num_at(root, "levels.0.usd_per_1k_output_tokens"), 1, 1e-9);
    CHECK(cJSON_IsTrue(at(root, "complete")));
    cJSON_Delete(root);

    /* A 60-level sweep still fits: less detail, then fewer levels. */
    struct results big = f.results;
    struct level_summary *many = calloc(60, sizeof *many);
    for (int i = 0; i < 60; i++) {
        many[i] = f.results.levels[0];
        many[i].strategy = (char *)"constant";
        many[i].abort_reason = NULL;
        many[i].target = 1.2345678 * (i + 1);
    }
    big.levels = many;
    big.n_levels = 60;
    buf_clear(&text);
    summary_render(&big, &text);
    CHECK(text.len < SUMMARY_MAX_BYTES);
    root = cJSON_Parse(text.data);
    CHECK(root != NULL);
    CHECK(cJSON_GetArraySize(at(root, "levels")) >= 10);
    CHECK_NEAR(num_at(root, "levels_omitted") + cJSON_GetArraySize(at(root, "levels")), 60, 0);
    cJSON_Delete(root);
    free(many);
    buf_free(&text);
    fixture_free(&f);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

TEST(outputs_html_is_self_contained)
{
    struct fixture f;
    fixture_make(&f, PROFILE_CONCURRENT);
    free(f.results.model);
    f.results.model = strdup("<b>m&m</b>");
    struct buf text = {0};
    html_render(&f.results, &text);
    CHECK(strncmp(text.data, "<!DOCTYPE html>", 15) == 0);
    CHECK(strstr(text.data, "<script") == NULL);
    CHECK(strstr(text.data, "<link") == NULL);
    CHECK(strstr(text.data, "@import") == NULL);
    CHECK(strstr(text.data, "url(") == NULL);
    CHECK(strstr(text.data, "<b>m&m") == NULL); /* escaped */
    CHECK_CONTAINS(text.data, "&lt;b&gt;m&amp;m&lt;/b&gt;");
    /* The only URLs: the SVG namespace and the endpoint in the metadata. */
    CHECK_EQ_INT(count(text.data, "http://"), count(text.data, "http://www.w3.org/2000/svg") + 1);
    CHECK_EQ_INT(count(text.data, "https://"), 0);
    CHECK_CONTAINS(text.data, "default-src 'none'");
    /* Throughput, requests, TTFT, ITL, latency, cost; three distributions. */
    CHECK_EQ_INT(count(text.data, "<svg"), 9);
    CHECK_CONTAINS(text.data, "Cost per 1K tokens");
    CHECK_CONTAINS(text.data, "g6.4xlarge");
    CHECK_CONTAINS(text.data, "<th>c=2");
    CHECK_CONTAINS(text.data, "<h2>Errors</h2>");
    buf_free(&text);
    fixture_free(&f);
}

TEST(outputs_console_table)
{
    struct fixture f;
    fixture_make(&f, PROFILE_CONCURRENT);
    char path[512];
    snprintf(path, sizeof path, "%s/table.txt", test_tmpdir());
    FILE *out = fopen(path, "w+");
    console_table(&f.results, out);
    fclose(out);
    struct buf text = {0};
    CHECK(read_file(path, &text));
    CHECK_CONTAINS(text.data, "TTFT p50");
    CHECK_CONTAINS(text.data, "$/1K out");
    /* c=2: 0.30 req/s, 1.0 output tok/s, 4.5 total, TTFT 100/300 ms,
     * ITL 100/100 ms, latency .5 s, 1 error, 1 $ and .2222 $ per 1K. */
    CHECK_CONTAINS(text.data, "c=2               0.3000       1.0       4.5     100.0     300.0"
                              "    100.00    100.00     0.500       1    1.0000    0.2222");
    buf_free(&text);
    fixture_free(&f);
}

static bool exists(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

TEST(outputs_write_hand_run)
{
    struct fixture f;
    fixture_make(&f, PROFILE_CONCURRENT);
    const char *keep = getenv(KEEP_ENV);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/out/nested", keep ? keep : test_tmpdir());
    struct buf err = {0};
    CHECK(outputs_begin(dir, &err));
    /* A stale marker from an earlier run goes away at the start. */
    char marker[600];
    snprintf(marker, sizeof marker, "%s/%s", dir, COMPLETION_MARKER);
    FILE *stale = fopen(marker, "w");
    CHECK(stale != NULL);
    if (stale)
        fclose(stale);
    CHECK(outputs_begin(dir, &err));
    CHECK(!exists(dir, COMPLETION_MARKER));

    struct output_set set = output_set_of(&f.spec);
    CHECK(outputs_write(&f.results, &f.run, &f.spec, &set, dir, &err));
    CHECK_EQ_STR(err.data ? err.data : "", "");
    static const char *const files[] = {"benchmarks.json", "requests.jsonl", "benchmarks.csv",
                                        "report.html",     "summary.json",   COMPLETION_MARKER};
    for (size_t i = 0; i < ARRAY_LEN(files); i++)
        CHECK(exists(dir, files[i]));
    /* No temporary file is left behind. */
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        CHECK(strstr(e->d_name, ".tmp-") == NULL);
    if (d)
        closedir(d);
    struct buf text = {0};
    CHECK(read_file(marker, &text));
    cJSON *m = cJSON_Parse(text.data);
    CHECK_EQ_STR(cJSON_GetStringValue(at(m, "run_id")), "20261128T051944Z-3f9a1c");
    CHECK(cJSON_IsFalse(at(m, "interrupted")));
    CHECK_EQ_INT(cJSON_GetArraySize(at(m, "files")), 5);
    cJSON_Delete(m);
    buf_free(&text);
    buf_free(&err);
    fixture_free(&f);
}

TEST(outputs_interrupted_run_is_marked)
{
    struct fixture f;
    fixture_make(&f, PROFILE_CONCURRENT);
    f.run.interrupted = true;
    f.run.levels[0].aborted = true;
    f.run.levels[0].abort_reason = strdup("interrupted (SIGTERM)");
    results_free(&f.results);
    stats_compute(&f.run, &f.results);
    const char *keep = getenv(KEEP_ENV);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/interrupted", keep ? keep : test_tmpdir());
    struct buf err = {0};
    struct output_set set = output_set_of(&f.spec);
    set.records_inline = true;
    CHECK(outputs_write(&f.results, &f.run, &f.spec, &set, dir, &err));
    char path[600];
    snprintf(path, sizeof path, "%s/benchmarks.json", dir);
    struct results back;
    CHECK(results_load(path, &back, &err));
    CHECK(back.interrupted);
    CHECK(back.levels[0].aborted);
    CHECK_EQ_STR(back.levels[0].abort_reason, "interrupted (SIGTERM)");
    results_free(&back);
    CHECK(!exists(dir, "requests.jsonl"));
    struct buf text = {0};
    snprintf(path, sizeof path, "%s/%s", dir, COMPLETION_MARKER);
    CHECK(read_file(path, &text));
    CHECK_CONTAINS(text.data, "\"interrupted\":true");
    buf_clear(&text);
    snprintf(path, sizeof path, "%s/report.html", dir);
    CHECK(read_file(path, &text));
    CHECK_CONTAINS(text.data, "id=\"interrupted\"");
    buf_free(&text);
    buf_free(&err);
    fixture_free(&f);
}

TEST(outputs_write_errors_say_where)
{
    struct buf err = {0};
    CHECK(!write_file_atomic("/nonexistent-folder/benchmarks.json", "x", 1, &err));
    CHECK_CONTAINS(err.data, "cannot write /nonexistent-folder/benchmarks.json");
    buf_clear(&err);
    char file[512];
    snprintf(file, sizeof file, "%s/plain-file", test_tmpdir());
    CHECK(write_file_atomic(file, "x", 1, &err));
    char dir[600];
    snprintf(dir, sizeof dir, "%s/sub", file);
    CHECK(!outputs_begin(dir, &err));
    CHECK_CONTAINS(err.data, "cannot create the output folder");
    buf_free(&err);
}

TEST(outputs_atomic_write_keeps_links_and_devices)
{
    struct buf err = {0}, text = {0};
    char real[512], link[512], fifo[512];
    snprintf(real, sizeof real, "%s/real.csv", test_tmpdir());
    snprintf(link, sizeof link, "%s/link.csv", test_tmpdir());
    snprintf(fifo, sizeof fifo, "%s/pipe", test_tmpdir());

    /* A link stays a link; the file it points to gets the content. */
    CHECK(write_file_atomic(real, "old", 3, &err));
    CHECK(symlink(real, link) == 0);
    CHECK(write_file_atomic(link, "new", 3, &err));
    struct stat st;
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(read_file(real, &text));
    CHECK_EQ_STR(text.data, "new");

    /* A FIFO (like /dev/null or /dev/stdout: not a regular file) is written
     * in place, not replaced by a file. */
    CHECK(mkfifo(fifo, 0600) == 0);
    fflush(NULL);
    pid_t reader = fork();
    if (reader == 0) {
        struct buf got = {0};
        _exit(read_file(fifo, &got) && got.len == 5 && memcmp(got.data, "hello", 5) == 0 ? 0 : 1);
    }
    CHECK(write_file_atomic(fifo, "hello", 5, &err));
    int status = -1;
    waitpid(reader, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));

    /* A folder is refused with a message. */
    buf_clear(&err);
    CHECK(!write_file_atomic(test_tmpdir(), "x", 1, &err));
    CHECK_CONTAINS(err.data, "it is a folder");
    buf_free(&err);
    buf_free(&text);
}

TEST(timestamp_arena_packs_copies_and_moves_lists)
{
    struct timestamp_arena *arena = NULL, *level = NULL;
    int64_t src[100];
    for (int i = 0; i < 100; i++)
        src[i] = 1000 + i;
    int64_t *a = timestamp_arena_copy(&arena, src, 100);
    int64_t *b = timestamp_arena_copy(&arena, src + 50, 50);
    CHECK(a != src && b == a + 100); /* back to back in one block */
    CHECK(a[0] == 1000 && a[99] == 1099 && b[0] == 1050 && b[49] == 1099);
    /* a copy larger than a block gets a block of its own */
    size_t big = ((size_t)1 << 16) + 10;
    int64_t *many = calloc(big, sizeof *many);
    many[big - 1] = 7;
    int64_t *c = timestamp_arena_copy(&arena, many, (uint32_t)big);
    CHECK(c[big - 1] == 7 && arena->used == big && arena->next && arena->next->used == 150);
    free(many);
    timestamp_arena_move(&level, &arena);
    CHECK(arena == NULL && level && level->next && !level->next->next);
    struct timestamp_arena *other = NULL;
    timestamp_arena_copy(&other, src, 1);
    timestamp_arena_move(&level, &other); /* the new list goes in front */
    CHECK(level->used == 1 && level->next->used == big);
    timestamp_arena_free(level);
}
