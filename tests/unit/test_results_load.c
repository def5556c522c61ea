/* results_load on small hand-written files of every layout, and its errors.
 * The real GuideLLM files (0.3.x reference, 0.8.1 generated at test time)
 * are read in tests/integration/test_report.py. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "results.h"

static const char *write_fixture(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    if (!f)
        return path;
    fputs(text, f);
    fclose(f);
    return path;
}

/* One distribution with distinct values so a misplaced field shows. */
#define DIST(base)                                                                                 \
    "{\"mean\":" #base ".5,\"median\":" #base ".25,\"mode\":" #base ",\"variance\":4,"             \
    "\"std_dev\":2,\"min\":" #base ",\"max\":" #base "9,\"count\":10,\"total_sum\":" #base         \
    "5,\"percentiles\":{\"p001\":1,\"p01\":2,\"p05\":3,\"p10\":4,\"p25\":5,\"p50\":" #base         \
    ".25,\"p75\":7,\"p90\":8,\"p95\":9,\"p99\":10,\"p999\":11}}"
#define SDS(base)                                                                                  \
    "{\"successful\":" DIST(base) ",\"errored\":" DIST(1) ",\"incomplete\":" DIST(                 \
        2) ",\"total\":" DIST(3) "}"

/* Era C (GuideLLM 0.7+), reduced to what a reader needs. */
static const char era_c[] =
    "{\"metadata\":{\"version\":2,\"guidellm_version\":\"0.8.1\"},"
    "\"config\":{\"spec\":{\"backend\":{\"model\":\"\",\"target\":\"http://h:8000\"},"
    "\"profile\":{\"kind\":\"concurrent\"},\"tokenizer\":{\"model\":\"/tok\"}}},"
    "\"benchmarks\":[{\"type_\":\"generative_benchmark\","
    "\"config\":{\"run_id\":\"r-1\",\"strategy\":{\"type_\":\"concurrent\",\"streams\":5},"
    "\"backend\":{\"model\":\"m\",\"target\":\"http://h:8000\","
    "\"request_format\":\"/v1/chat/completions\"}},"
    "\"start_time\":1700000000.5,\"end_time\":1700000012.5,\"duration\":12.0,"
    "\"metrics\":{\"request_totals\":{\"successful\":32,\"errored\":1,\"incomplete\":2,"
    "\"total\":35},"
    "\"time_to_first_token_ms\":" SDS(50) ",\"request_latency\":" SDS(
        7) ","
           "\"request_scheduled_latency\":null,\"text\":{\"tokens\":null}}}],\"conclusions\":[]}";

TEST(results_load_era_c)
{
    struct results r;
    struct buf err = {0};
    CHECK(results_load(write_fixture("c.json", era_c), &r, &err));
    CHECK_EQ_STR(r.format, "guidellm-C");
    CHECK_EQ_STR(r.generator_version, "0.8.1");
    CHECK_EQ_STR(r.model, "m");
    CHECK_EQ_STR(r.endpoint, "http://h:8000");
    CHECK_EQ_STR(r.api, "chat");
    CHECK_EQ_STR(r.run_id, "r-1");
    CHECK_EQ_STR(r.profile, "concurrent");
    CHECK_EQ_STR(r.tokenizer_source, "/tok");
    CHECK_EQ_STR(r.started_at, "2023-11-14T22:13:20Z");
    CHECK(r.guidellm_tpot);
    CHECK(!r.interrupted);
    CHECK_EQ_INT(r.n_levels, 1);
    const struct level_summary *l = &r.levels[0];
    CHECK_EQ_STR(l->strategy, "concurrent");
    CHECK_NEAR(l->target, 5, 0);
    CHECK_NEAR(l->duration, 12, 0);
    CHECK_NEAR(l->start_time, 1700000000.5, 1e-6);
    CHECK_EQ_INT(l->request_totals.successful, 32);
    CHECK_EQ_INT(l->request_totals.errored, 1);
    CHECK_EQ_INT(l->request_totals.incomplete, 2);
    CHECK_EQ_INT(l->request_totals.total, 35);
    const struct distribution *ttft = &l->metrics[METRIC_TIME_TO_FIRST_TOKEN_MS].successful;
    CHECK(ttft->present);
    CHECK_NEAR(ttft->mean, 50.5, 0);
    CHECK_NEAR(ttft->median, 50.25, 0);
    CHECK_NEAR(ttft->mode, 50, 0);
    CHECK_NEAR(ttft->variance, 4, 0);
    CHECK_NEAR(ttft->std_dev, 2, 0);
    CHECK_NEAR(ttft->min, 50, 0);
    CHECK_NEAR(ttft->max, 509, 0);
    CHECK_NEAR(ttft->count, 10, 0);
    CHECK_NEAR(ttft->total_sum, 505, 0);
    CHECK_NEAR(ttft->percentiles[P001], 1, 0);
    CHECK_NEAR(ttft->percentiles[P50], 50.25, 0);
    CHECK_NEAR(ttft->percentiles[P999], 11, 0);
    CHECK_NEAR(l->metrics[METRIC_TIME_TO_FIRST_TOKEN_MS].errored.mean, 1.5, 0);
    CHECK_NEAR(l->metrics[METRIC_TIME_TO_FIRST_TOKEN_MS].incomplete.mean, 2.5, 0);
    CHECK_NEAR(l->metrics[METRIC_TIME_TO_FIRST_TOKEN_MS].total.mean, 3.5, 0);
    CHECK_NEAR(l->metrics[METRIC_REQUEST_LATENCY].successful.median, 7.25, 0);
    /* Absent and null metrics stay absent. */
    CHECK(!l->metrics[METRIC_INTER_TOKEN_LATENCY_MS].successful.present);
    CHECK(!l->metrics[METRIC_SCHEDULED_LATENCY].successful.present);
    CHECK(!l->has_cost);
    results_free(&r);
    buf_free(&err);
}

/* Era A (GuideLLM <= 0.3.1): totals beside metrics, no p50 key. */
static const char era_a[] =
    "{\"benchmarks\":[{\"type_\":\"generative_benchmark\",\"run_id\":\"a-run\","
    "\"args\":{\"profile\":{\"type_\":\"sweep\"},\"strategy\":{\"type_\":\"constant\","
    "\"rate\":2.5}},"
    "\"worker\":{\"backend_model\":\"am\",\"backend_target\":\"http://a\"},"
    "\"request_loader\":{\"processor\":\"proc\"},"
    "\"requests\":{\"successful\":[{\"request_type\":\"text_completions\"}]},"
    "\"start_time\":1,\"end_time\":31,\"duration\":30,"
    "\"request_totals\":{\"successful\":46,\"errored\":0,\"incomplete\":1,\"total\":47},"
    "\"metrics\":{\"inter_token_latency_ms\":{\"successful\":{\"mean\":9,\"median\":8.5,"
    "\"count\":3,\"percentiles\":{\"p001\":1,\"p25\":2,\"p75\":3,\"p99\":12}},"
    "\"errored\":null,\"incomplete\":null,\"total\":null}}}]}";

TEST(results_load_era_a)
{
    struct results r;
    struct buf err = {0};
    CHECK(results_load(write_fixture("a.json", era_a), &r, &err));
    CHECK_EQ_STR(r.format, "guidellm-A");
    CHECK_EQ_STR(r.model, "am");
    CHECK_EQ_STR(r.endpoint, "http://a");
    CHECK_EQ_STR(r.api, "completions");
    CHECK_EQ_STR(r.profile, "sweep");
    CHECK_EQ_STR(r.run_id, "a-run");
    CHECK(r.guidellm_tpot);
    CHECK_EQ_INT(r.n_levels, 1);
    CHECK_EQ_STR(r.levels[0].strategy, "constant");
    CHECK_NEAR(r.levels[0].target, 2.5, 0);
    CHECK_EQ_INT(r.levels[0].request_totals.successful, 46);
    CHECK_EQ_INT(r.levels[0].request_totals.incomplete, 1);
    const struct distribution *itl = &r.levels[0].metrics[METRIC_INTER_TOKEN_LATENCY_MS].successful;
    CHECK(itl->present);
    CHECK_NEAR(itl->percentiles[P50], 8.5, 0); /* no p50 key: the median */
    CHECK_NEAR(itl->percentiles[P99], 12, 0);
    CHECK_NEAR(itl->percentiles[P90], 0, 0); /* absent key */
    CHECK(!r.levels[0].metrics[METRIC_INTER_TOKEN_LATENCY_MS].errored.present);
    results_free(&r);
    buf_free(&err);
}

/* Era B (GuideLLM 0.4-0.6): {metadata v1, args, benchmarks}, no config.spec. */
static const char era_b[] =
    "{\"metadata\":{\"version\":1,\"guidellm_version\":\"0.5.0\"},\"args\":{},"
    "\"benchmarks\":[{\"config\":{\"run_id\":\"b\",\"strategy\":{\"type_\":\"throughput\","
    "\"max_concurrency\":64},\"backend\":{\"model\":\"bm\",\"target\":\"http://b\","
    "\"request_format\":\"/v1/completions\"}},\"start_time\":1,\"end_time\":2,\"duration\":1,"
    "\"metrics\":{\"request_totals\":{\"successful\":3,\"errored\":0,\"incomplete\":0,"
    "\"total\":3}}},"
    "{\"config\":{\"strategy\":{\"type_\":\"synchronous\"}},\"duration\":1,"
    "\"metrics\":{\"request_totals\":{\"successful\":1,\"errored\":2,\"incomplete\":0}}}]}";

TEST(results_load_era_b)
{
    struct results r;
    struct buf err = {0};
    CHECK(results_load(write_fixture("b.json", era_b), &r, &err));
    CHECK_EQ_STR(r.format, "guidellm-B");
    CHECK_EQ_STR(r.generator_version, "0.5.0");
    CHECK_EQ_STR(r.model, "bm");
    CHECK_EQ_STR(r.api, "completions");
    CHECK_EQ_INT(r.n_levels, 2);
    CHECK_EQ_STR(r.levels[0].strategy, "throughput");
    CHECK_NEAR(r.levels[0].target, 64, 0);
    CHECK_EQ_STR(r.levels[1].strategy, "synchronous");
    CHECK_NEAR(r.levels[1].target, 1, 0);
    CHECK_EQ_INT(r.levels[1].request_totals.total, 3); /* missing total: the sum */
    results_free(&r);
    buf_free(&err);
}

static const char ours[] =
    "{\"metadata\":{\"version\":2},\"llmsweep\":{\"version\":\"0.1.0\",\"run_id\":\"x\","
    "\"started_at\":\"2026-11-28T05:19:44Z\",\"spec\":{\"name\":\"s\"},\"model\":\"mm\","
    "\"endpoint\":\"http://e/v1\",\"api\":\"chat\",\"profile\":\"concurrent\","
    "\"instance\":{\"type\":\"g6.4xlarge\",\"gpu_count\":1,\"gpu_type\":\"NVIDIA L4\","
    "\"hourly_usd\":1.3232},\"tokenizer_source\":\"t\",\"token_counts_from\":\"server\","
    "\"interrupted\":true,\"slo\":{\"ttft_ms\":200,\"latency_s\":5}},"
    "\"benchmarks\":[{\"config\":{\"strategy\":{\"type_\":\"concurrent\",\"streams\":1}},"
    "\"start_time\":1,\"end_time\":2,\"duration\":1,"
    "\"metrics\":{\"request_totals\":{\"successful\":1,\"errored\":1,\"incomplete\":0,"
    "\"total\":2}},\"llmsweep\":{\"cost\":{\"per_1k_output_tokens_usd\":0.25,"
    "\"per_1k_total_tokens_usd\":0.125},\"goodput\":{\"requests_per_second\":0.5,"
    "\"output_tokens_per_second\":64,\"requests\":1,\"determined_requests\":2},"
    "\"errors_by_class\":{\"timeout\":1},\"aborted\":true,\"abort_reason\":\"interrupted\"}}]}";

TEST(results_load_llmsweep)
{
    struct results r;
    struct buf err = {0};
    CHECK(results_load(write_fixture("ours.json", ours), &r, &err));
    CHECK_EQ_STR(r.format, "llmsweep");
    CHECK_EQ_STR(r.generator_version, "0.1.0");
    CHECK_EQ_STR(r.spec_name, "s");
    CHECK_EQ_STR(r.instance.type, "g6.4xlarge");
    CHECK_EQ_INT(r.instance.gpu_count, 1);
    CHECK_NEAR(r.instance.hourly_usd, 1.3232, 0);
    CHECK_EQ_STR(r.token_counts_from, "server");
    CHECK(r.interrupted);
    CHECK(!r.guidellm_tpot);
    CHECK_NEAR(r.slo.ttft_ms, 200, 0);
    CHECK_NEAR(r.slo.latency_s, 5, 0);
    const struct level_summary *l = &r.levels[0];
    CHECK(l->has_cost);
    CHECK_NEAR(l->cost_per_1k_output_usd, 0.25, 0);
    CHECK_NEAR(l->cost_per_1k_total_usd, 0.125, 0);
    CHECK(l->has_goodput);
    CHECK_NEAR(l->goodput_requests_per_second, 0.5, 0);
    CHECK_EQ_INT(l->goodput_requests, 1);
    CHECK_EQ_INT(l->goodput_determined, 2);
    CHECK_EQ_INT(l->errors_by_class[3], 1); /* REQERR_TIMEOUT */
    CHECK(l->aborted);
    CHECK_EQ_STR(l->abort_reason, "interrupted");
    results_free(&r);
    buf_free(&err);
}

static void check_error(int *test_failures_, const char *name, const char *text,
                        const char *expected)
{
    struct results r;
    struct buf err = {0};
    CHECK(!results_load(write_fixture(name, text), &r, &err));
    CHECK_CONTAINS(err.data, name);
    CHECK_CONTAINS(err.data, expected);
    CHECK(r.levels == NULL);
    buf_free(&err);
}

TEST(results_load_errors_name_the_field)
{
    check_error(test_failures_, "empty.json", "", "empty file");
    check_error(test_failures_, "bad.json", "{\n  \"benchmarks\": [,]\n}", "line 2, column");
    check_error(test_failures_, "list.json", "[1]", "not an object");
    check_error(test_failures_, "none.json", "{\"x\":1}", "benchmarks: missing");
    check_error(test_failures_, "type.json", "{\"benchmarks\":{}}",
                "benchmarks: expected a list, got an object");
    check_error(test_failures_, "nototals.json",
                "{\"benchmarks\":[{\"metrics\":{}},{\"metrics\":{}}]}",
                "benchmarks[0].metrics.request_totals: missing");
    check_error(test_failures_, "nometrics.json", "{\"benchmarks\":[{\"duration\":1}]}",
                "benchmarks[0].metrics: missing");
    check_error(test_failures_, "str.json",
                "{\"benchmarks\":[{\"metrics\":{\"request_totals\":{\"successful\":1},"
                "\"request_latency\":{\"successful\":{\"mean\":\"fast\"}}}}]}",
                "benchmarks[0].metrics.request_latency.successful.mean: expected a number, "
                "got a string");
    check_error(test_failures_, "pct.json",
                "{\"benchmarks\":[{\"metrics\":{\"request_totals\":{},"
                "\"request_latency\":{\"total\":{\"percentiles\":{\"p99\":[]}}}}}]}",
                "request_latency.total.percentiles.p99: expected a number, got a list");

    check_error(test_failures_, "count.json",
                "{\"benchmarks\":[{\"metrics\":{\"request_totals\":{\"errored\":1e300}}}]}",
                "benchmarks[0].metrics.request_totals.errored: 1e+300 is not a number of requests");
    check_error(test_failures_, "negative.json",
                "{\"benchmarks\":[{\"metrics\":{\"request_totals\":{\"successful\":-2}}}]}",
                "request_totals.successful: -2 is not a number of requests");

    struct results r;
    struct buf err = {0};
    CHECK(!results_load("/nonexistent/benchmarks.json", &r, &err));
    CHECK_CONTAINS(err.data, "/nonexistent/benchmarks.json: cannot read");
    buf_free(&err);
}

/* GuideLLM's own 0.3.x test asset (tests/fixtures/guidellm/README.md). */
TEST(results_load_guidellm_reference_file)
{
    const char *path = "tests/fixtures/guidellm/benchmarks_v0.3.x_stripped.json";
    struct results r;
    struct buf err = {0};
    bool ok = results_load(path, &r, &err);
    CHECK(ok);
    if (!ok) {
        fprintf(stderr, "%s (the runner starts in the repository root)\n", err.data);
        buf_free(&err);
        return;
    }
    CHECK_EQ_STR(r.format, "guidellm-A");
    CHECK_EQ_STR(r.model, "example_model");
    CHECK_EQ_STR(r.api, "completions");
    CHECK_EQ_INT(r.n_levels, 1);
    const struct level_summary *l = &r.levels[0];
    CHECK_EQ_STR(l->strategy, "synchronous");
    CHECK_EQ_INT(l->request_totals.successful, 46);
    CHECK_EQ_INT(l->request_totals.incomplete, 1);
    CHECK_NEAR(l->duration, 29.997201442718506, 1e-12);
    const struct distribution *rps = &l->metrics[METRIC_REQUESTS_PER_SECOND].successful;
    CHECK_NEAR(rps->mean, 1.5481806532737452, 1e-15);
    CHECK_NEAR(rps->percentiles[P50], rps->median, 0);
    CHECK_NEAR(rps->percentiles[P90], 1.5583715343236735, 1e-15);
    for (int m = 0; m < METRIC_COUNT; m++) {
        bool era_a_key = m <= METRIC_OUTPUT_TOKEN_COUNT || m == METRIC_TIME_TO_FIRST_TOKEN_MS ||
                         m == METRIC_TIME_PER_OUTPUT_TOKEN_MS ||
                         m == METRIC_INTER_TOKEN_LATENCY_MS ||
                         m == METRIC_OUTPUT_TOKENS_PER_SECOND || m == METRIC_TOKENS_PER_SECOND;
        CHECK_EQ_INT(l->metrics[m].successful.present, era_a_key);
    }
    results_free(&r);
}

/* Every truncation and a few thousand byte changes of a valid file: the
 * loader either succeeds or names the file in one line, never crashes (a
 * crash or a sanitizer trap fails this test in its own process). */
TEST(results_load_survives_damage)
{
    size_t len = strlen(era_c);
    char *text = malloc(len + 1);
    char name[64];
    uint64_t x = 7;
    int loaded = 0, refused = 0;
    for (size_t i = 0; i < len + 3000; i++) {
        memcpy(text, era_c, len + 1);
        if (i < len) {
            text[i] = '\0'; /* truncated at i */
        } else {
            for (int k = 0; k < 3; k++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                text[(x >> 33) % len] = "{}[]\",:0-9.eE tnfu\\"[(x >> 20) % 20];
            }
        }
        snprintf(name, sizeof name, "damaged-%zu.json", i % 7);
        struct results r;
        struct buf err = {0};
        if (results_load(write_fixture(name, text), &r, &err)) {
            loaded++;
            results_free(&r);
        } else {
            refused++;
            CHECK(err.data && strstr(err.data, name) && !strchr(err.data, '\n'));
        }
        buf_free(&err);
    }
    CHECK(refused > (int)len);
    CHECK(loaded > 0);
    free(text);
}

/* A start time no calendar holds, or none at all, leaves started_at unknown
 * (1e300 used to be converted to time_t: undefined, a trap in debug builds). */
TEST(results_load_start_time_beyond_calendar)
{
    static const char *const starts[] = {"1e300", "-1e300", "1e17", "0"};
    for (size_t i = 0; i < ARRAY_LEN(starts); i++) {
        char text[256];
        snprintf(text, sizeof text,
                 "{\"benchmarks\":[{\"start_time\":%s,\"metrics\":{\"request_totals\":{}}}]}",
                 starts[i]);
        struct results r;
        struct buf err = {0};
        CHECK(results_load_text("t.json", text, strlen(text), &r, &err));
        CHECK(r.started_at == NULL);
        results_free(&r);
        buf_free(&err);
    }
}

TEST(results_load_unreleased_2025_10_layout_reads_scheduler_strategy)
{
    /* GuideLLM main between 2025-10-17 and 2025-11-13 kept the strategy in
     * benchmarks[].scheduler (the fuzz corpus holds such a file). */
    struct results r;
    struct buf err = {0};
    CHECK(results_load("tests/fuzz/corpus/results/unreleased_main_2025_10.json", &r, &err));
    CHECK_EQ_INT(r.n_levels, 1);
    CHECK_EQ_STR(r.levels[0].strategy, "concurrent");
    CHECK_NEAR(r.levels[0].target, 4, 0);
    CHECK_EQ_INT(r.levels[0].request_totals.total, 1);
    results_free(&r);
    buf_free(&err);
}
