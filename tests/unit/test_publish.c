#include <math.h>
#include <stdlib.h>

#include "harness.h"
#include "outputs.h"
#include "publish.h"
#include "waitfile.h"

/* ---- a hand-made results model ------------------------------------------ */

static void set_dist(struct distribution *d, double mean, double p50, double p90, double p99)
{
    d->present = true;
    d->mean = mean;
    d->median = p50;
    d->percentiles[P50] = p50;
    d->percentiles[P90] = p90;
    d->percentiles[P99] = p99;
}

static void make_level(struct level_summary *l, const char *strategy, double target,
                       double concurrency, double total_tps, double output_tps)
{
    *l = (struct level_summary){.strategy = (char *)strategy, .target = target};
    set_dist(&l->metrics[METRIC_REQUEST_CONCURRENCY].successful, concurrency, concurrency,
             concurrency, concurrency);
    set_dist(&l->metrics[METRIC_TOKENS_PER_SECOND].successful, total_tps, 0, 0, 0);
    set_dist(&l->metrics[METRIC_OUTPUT_TOKENS_PER_SECOND].successful, output_tps, 0, 0, 0);
    set_dist(&l->metrics[METRIC_REQUESTS_PER_SECOND].successful, 2.5, 0, 0, 0);
    set_dist(&l->metrics[METRIC_TIME_TO_FIRST_TOKEN_MS].successful, 110, 100 + target, 150 + target,
             200 + target);
    set_dist(&l->metrics[METRIC_INTER_TOKEN_LATENCY_MS].successful, 11, 10, 12, 15);
    set_dist(&l->metrics[METRIC_REQUEST_LATENCY].successful, 4, 4.125, 4.5, 5);
    l->request_totals =
        (struct request_totals){.successful = 100, .errored = 2, .incomplete = 1, .total = 103};
}

struct fixture {
    struct results r;
    struct level_summary levels[4];
};

static void make_sweep(struct fixture *f)
{
    make_level(&f->levels[0], "synchronous", 0, 1.0, 300, 200);
    make_level(&f->levels[1], "concurrent", 5, 4.6, 1200, 800);
    make_level(&f->levels[2], "concurrent", 10, 9.7, 2000, 1400);
    make_level(&f->levels[3], "constant", 2.5, 6.2, 900, 600);
    f->r = (struct results){
        .format = "llmsweep",
        .generator_version = "0.1.0",
        .run_id = "run-42",
        .started_at = "2026-11-28T05:39:12Z",
        .model = "mistral-small",
        .levels = f->levels,
        .n_levels = 4,
    };
}

static const struct publish_pricing g6 = {"g6.4xlarge", 1, 1.3232};

/* ---- level selection ------------------------------------------------------ */

TEST(publish_default_level_is_concurrency_5_within_1)
{
    struct fixture f;
    make_sweep(&f);
    struct publish_plan plan;
    struct buf err = {0};
    CHECK(publish_plan_make(&f.r, NULL, &g6, &plan, &err));
    CHECK_EQ_INT(plan.n_levels, 1);
    CHECK_EQ_STR(plan.levels[0].label, "c5");
    CHECK_EQ_INT(plan.levels[0].index, 1);
    publish_plan_free(&plan);

    /* the closest to 5 wins when two are within 1 */
    f.levels[3].metrics[METRIC_REQUEST_CONCURRENCY].successful.mean = 5.1;
    CHECK(publish_plan_make(&f.r, NULL, &g6, &plan, &err));
    CHECK_EQ_STR(plan.levels[0].label, "r2_5");
    publish_plan_free(&plan);

    /* none within 1: the first */
    f.levels[1].metrics[METRIC_REQUEST_CONCURRENCY].successful.mean = 3.9;
    f.levels[3].metrics[METRIC_REQUEST_CONCURRENCY].successful.mean = 6.01;
    CHECK(publish_plan_make(&f.r, NULL, &g6, &plan, &err));
    CHECK_EQ_STR(plan.levels[0].label, "c1");
    publish_plan_free(&plan);
    buf_free(&err);
}

TEST(publish_level_by_target_label_or_measured_concurrency)
{
    struct fixture f;
    make_sweep(&f);
    struct publish_plan plan;
    struct buf err = {0};
    CHECK(publish_plan_make(&f.r, "10", &g6, &plan, &err));
    CHECK_EQ_STR(plan.levels[0].label, "c10");
    publish_plan_free(&plan);
    CHECK(publish_plan_make(&f.r, "1", &g6, &plan, &err)); /* synchronous is concurrency 1 */
    CHECK_EQ_STR(plan.levels[0].label, "c1");
    CHECK_EQ_STR(plan.levels[0].title, "concurrency 1 (synchronous)");
    publish_plan_free(&plan);
    CHECK(publish_plan_make(&f.r, "2.5", &g6, &plan, &err)); /* a rate target */
    CHECK_EQ_STR(plan.levels[0].label, "r2_5");
    publish_plan_free(&plan);
    CHECK(publish_plan_make(&f.r, "r2_5", &g6, &plan, &err));
    CHECK_EQ_INT(plan.levels[0].index, 3);
    publish_plan_free(&plan);
    CHECK(publish_plan_make(&f.r, "6", &g6, &plan, &err)); /* measured 6.2 */
    CHECK_EQ_STR(plan.levels[0].label, "r2_5");
    publish_plan_free(&plan);

    CHECK(!publish_plan_make(&f.r, "25", &g6, &plan, &err));
    CHECK_CONTAINS(err.data, "no level '25'");
    CHECK_CONTAINS(err.data, "c1 (mean concurrency 1.00), c5");
    buf_clear(&err);
    CHECK(!publish_plan_make(&f.r, "fast", &g6, &plan, &err));
    CHECK_CONTAINS(err.data, "no level 'fast'");
    buf_free(&err);
}

TEST(publish_level_all_keeps_default_as_primary)
{
    struct fixture f;
    make_sweep(&f);
    struct publish_plan plan;
    struct buf err = {0};
    CHECK(publish_plan_make(&f.r, "all", &g6, &plan, &err));
    CHECK(plan.all);
    CHECK_EQ_INT(plan.n_levels, 4);
    CHECK_EQ_INT(plan.primary, 1);
    publish_plan_free(&plan);
    buf_free(&err);
}

TEST(publish_duplicate_labels_get_distinct_keys)
{
    struct fixture f;
    make_sweep(&f);
    make_level(&f.levels[2], "concurrent", 5, 5.0, 1300, 850);
    struct publish_plan plan;
    struct buf err = {0};
    CHECK(publish_plan_make(&f.r, "all", &g6, &plan, &err));
    CHECK_EQ_STR(plan.levels[1].label, "c5");
    CHECK_EQ_STR(plan.levels[2].label, "c5_3");
    publish_plan_free(&plan);
    buf_free(&err);
}

TEST(publish_no_levels_is_an_error)
{
    struct results r = {.format = "llmsweep"};
    struct publish_plan plan;
    struct buf err = {0};
    CHECK(!publish_plan_make(&r, NULL, &g6, &plan, &err));
    CHECK_CONTAINS(err.data, "no benchmark");
    buf_free(&err);
}

/* ---- cost and refusal ----------------------------------------------------- */

TEST(publish_cost_per_1k_tokens)
{
    struct fixture f;
    make_sweep(&f);
    struct publish_plan plan;
    struct buf err = {0};
    CHECK(publish_plan_make(&f.r, "5", &g6, &plan, &err));
    /* 1.3232 $/h over 1200 tok/s: 1.3232 / (1200 * 3600) * 1000 */
    CHECK_NEAR(plan.levels[0].cost_per_1k_total, 1.3232 / (1200.0 * 3600) * 1000, 1e-15);
    CHECK_NEAR(plan.levels[0].cost_per_1k_output, 1.3232 / (800.0 * 3600) * 1000, 1e-15);
    publish_plan_free(&plan);

    struct publish_pricing unknown = {0};
    CHECK(publish_plan_make(&f.r, "5", &unknown, &plan, &err));
    CHECK(isnan(plan.levels[0].cost_per_1k_total));
    cJSON *props = publish_render_properties(&plan);
    CHECK(!cJSON_GetObjectItemCaseSensitive(props, "benchmark_cost_per_1k"));
    CHECK(!cJSON_GetObjectItemCaseSensitive(props, "benchmark_instance"));
    cJSON_Delete(props);
    publish_plan_free(&plan);
    buf_free(&err);
}

TEST(publish_refuses_levels_without_successes)
{
    struct fixture f;
    make_sweep(&f);
    f.levels[2].request_totals = (struct request_totals){.errored = 7, .total = 7};
    struct publish_plan plan;
    struct buf err = {0};
    CHECK(publish_plan_make(&f.r, "5", &g6, &plan, &err));
    CHECK(publish_plan_has_successes(&plan, &err));
    publish_plan_free(&plan);
    CHECK(publish_plan_make(&f.r, "all", &g6, &plan, &err));
    CHECK(!publish_plan_has_successes(&plan, &err));
    CHECK_CONTAINS(err.data, "level c10 has no successful request (7 errored");
    publish_plan_free(&plan);
    buf_free(&err);
}

/* ---- typed properties ----------------------------------------------------- */

static const char *type_of(const cJSON *map, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, key);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "metadataType");
    return cJSON_IsString(t) ? t->valuestring : "(missing)";
}

TEST(publish_properties_are_typed)
{
    struct fixture f;
    make_sweep(&f);
    struct publish_plan plan;
    struct buf err = {0};
    CHECK(publish_plan_make(&f.r, NULL, &g6, &plan, &err));
    cJSON *p = publish_render_properties(&plan);
    CHECK_EQ_STR(type_of(p, "benchmark_date"), "MetadataStringValue");
    CHECK_EQ_STR(type_of(p, "benchmark_tool"), "MetadataStringValue");
    CHECK_EQ_STR(type_of(p, "benchmark_concurrency"), "MetadataIntValue");
    CHECK_EQ_STR(type_of(p, "benchmark_throughput"), "MetadataDoubleValue");
    CHECK_EQ_STR(type_of(p, "benchmark_ttft_p99"), "MetadataDoubleValue");
    CHECK_EQ_STR(type_of(p, "benchmark_itl_p50"), "MetadataDoubleValue");
    CHECK_EQ_STR(type_of(p, "benchmark_cost_per_1k"), "MetadataDoubleValue");
    CHECK_EQ_STR(type_of(p, "benchmark_instance"), "MetadataStringValue");
    CHECK_EQ_STR(type_of(p, "benchmark_gpu_count"), "MetadataIntValue");
    CHECK_EQ_STR(type_of(p, "benchmark_requests_errored"), "MetadataIntValue");
    CHECK_EQ_STR(type_of(p, "benchmark_run_id"), "MetadataStringValue");

    const cJSON *conc = cJSON_GetObjectItemCaseSensitive(p, "benchmark_concurrency");
    CHECK_EQ_STR(cJSON_GetObjectItemCaseSensitive(conc, "int_value")->valuestring, "5");
    const cJSON *tput = cJSON_GetObjectItemCaseSensitive(p, "benchmark_throughput");
    CHECK_NEAR(cJSON_GetObjectItemCaseSensitive(tput, "double_value")->valuedouble, 1200, 0);
    const cJSON *ttft = cJSON_GetObjectItemCaseSensitive(p, "benchmark_ttft_p90");
    CHECK_NEAR(cJSON_GetObjectItemCaseSensitive(ttft, "double_value")->valuedouble, 155, 0);
    const cJSON *date = cJSON_GetObjectItemCaseSensitive(p, "benchmark_date");
    CHECK_EQ_STR(cJSON_GetObjectItemCaseSensitive(date, "string_value")->valuestring,
                 "2026-11-28T05:39:12Z");
    /* every key is ours, so a later publish can clean up after this one */
    const cJSON *item;
    cJSON_ArrayForEach(item, p) CHECK(publish_key_is_owned(item->string));
    CHECK(!cJSON_GetObjectItemCaseSensitive(p, "benchmark_levels"));
    cJSON_Delete(p);
    publish_plan_free(&plan);
    buf_free(&err);
}

TEST(publish_measurements_are_rounded_to_six_digits)
{
    struct fixture f;
    make_sweep(&f);
    f.levels[1].metrics[METRIC_INTER_TOKEN_LATENCY_MS].successful.percentiles[P50] = 12.3456789;
    struct publish_plan plan;
    struct buf err = {0};
    CHECK(publish_plan_make(&f.r, NULL, &g6, &plan, &err));
    cJSON *p = publish_render_properties(&plan);
    const cJSON *itl = cJSON_GetObjectItemCaseSensitive(p, "benchmark_itl_p50");
    CHECK_NEAR(cJSON_GetObjectItemCaseSensitive(itl, "double_value")->valuedouble, 12.3457, 1e-12);
    cJSON_Delete(p);
    publish_plan_free(&plan);
    buf_free(&err);
}

TEST(publish_level_all_adds_per_level_keys)
{
    struct fixture f;
    make_sweep(&f);
    struct publish_plan plan;
    struct buf err = {0};
    CHECK(publish_plan_make(&f.r, "all", &g6, &plan, &err));
    cJSON *p = publish_render_properties(&plan);
    CHECK_EQ_STR(type_of(p, "benchmark_level_c10_throughput"), "MetadataDoubleValue");
    CHECK_EQ_STR(type_of(p, "benchmark_level_r2_5_ttft_p50"), "MetadataDoubleValue");
    CHECK_EQ_STR(type_of(p, "benchmark_level_c1_requests_successful"), "MetadataIntValue");
    const cJSON *levels = cJSON_GetObjectItemCaseSensitive(p, "benchmark_levels");
    CHECK_EQ_STR(cJSON_GetObjectItemCaseSensitive(levels, "string_value")->valuestring,
                 "c1,c5,c10,r2_5");
    /* the seed keys describe the default level */
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(p, "benchmark_concurrency");
    CHECK_EQ_STR(cJSON_GetObjectItemCaseSensitive(c, "int_value")->valuestring, "5");
    cJSON_Delete(p);
    publish_plan_free(&plan);
    buf_free(&err);
}

TEST(publish_values_respect_registry_types)
{
    cJSON *v = publish_value_int(2147483647);
    CHECK_EQ_STR(cJSON_GetObjectItemCaseSensitive(v, "int_value")->valuestring, "2147483647");
    cJSON_Delete(v);
    v = publish_value_int(-2147483648LL);
    CHECK_EQ_STR(cJSON_GetObjectItemCaseSensitive(v, "int_value")->valuestring, "-2147483648");
    cJSON_Delete(v);
    /* beyond int32 the registry answers 400: publish a double instead */
    v = publish_value_int(2147483648LL);
    CHECK_EQ_STR(cJSON_GetObjectItemCaseSensitive(v, "metadataType")->valuestring,
                 "MetadataDoubleValue");
    CHECK_NEAR(cJSON_GetObjectItemCaseSensitive(v, "double_value")->valuedouble, 2147483648.0, 1e3);
    cJSON_Delete(v);
    v = publish_value_string("h\xc3\xa9llo \"q\" % _");
    CHECK_EQ_STR(cJSON_GetObjectItemCaseSensitive(v, "string_value")->valuestring,
                 "h\xc3\xa9llo \"q\" % _");
    cJSON_Delete(v);
}

/* ---- the block ------------------------------------------------------------ */

TEST(publish_block_has_every_seed_figure)
{
    struct fixture f;
    make_sweep(&f);
    struct publish_plan plan;
    struct buf err = {0}, block = {0};
    CHECK(publish_plan_make(&f.r, NULL, &g6, &plan, &err));
    publish_render_block(&plan, &block);
    CHECK(strncmp(block.data, "[llmsweep benchmark run-42]\n", 28) == 0);
    CHECK_CONTAINS(block.data, "2026-11-28T05:39:12Z by llmsweep 0.1.0");
    CHECK_CONTAINS(block.data, "g6.4xlarge, 1 GPU, $1.3232/hour");
    CHECK_CONTAINS(block.data, "concurrency 5, measured mean concurrency 4.60");
    CHECK_CONTAINS(block.data, "1200.0 tokens/s (prompt + output), 800.0 output tokens/s");
    CHECK_CONTAINS(block.data, "TTFT p50/p90/p99: 105.0 / 155.0 / 205.0 ms");
    CHECK_CONTAINS(block.data, "ITL p50/p90/p99: 10.00 / 12.00 / 15.00 ms");
    CHECK_CONTAINS(block.data, "latency p50/p90: 4.125 / 4.500 s");
    CHECK_CONTAINS(block.data, "cost per 1K tokens: $0.0003063 total, $0.0004594 output");
    CHECK_CONTAINS(block.data, "100 requests, 2 errored, 1 incomplete");
    const char *end = "\n[/llmsweep benchmark run-42]";
    CHECK(block.len > strlen(end) && strcmp(block.data + block.len - strlen(end), end) == 0);
    publish_plan_free(&plan);
    buf_free(&block);
    buf_free(&err);
}

TEST(publish_block_of_all_levels_has_one_line_each)
{
    struct fixture f;
    make_sweep(&f);
    struct publish_plan plan;
    struct buf err = {0}, block = {0};
    CHECK(publish_plan_make(&f.r, "all", &g6, &plan, &err));
    publish_render_block(&plan, &block);
    CHECK_CONTAINS(block.data,
                   "\n- concurrency 5 (mean 4.60): 1200.0 tokens/s, 800.0 output tokens/s; "
                   "TTFT p50/p90/p99 105.0 / 155.0 / 205.0 ms; ITL p50/p90/p99 10.00 / 12.00 / "
                   "15.00 ms; latency p50/p90 4.125 / 4.500 s; per 1K tokens $0.0003063 total, "
                   "$0.0004594 output; 100 requests, 2 errored, 1 incomplete\n- concurrency 10 "
                   "(mean 9.70): ");
    CHECK_CONTAINS(block.data, "\n- rate 2.5/s (constant) (mean 6.20): 900.0 tokens/s");
    publish_plan_free(&plan);
    buf_free(&block);
    buf_free(&err);
}

TEST(publish_block_key_is_sanitized)
{
    struct buf k = {0};
    publish_sanitize_key("a]b\nc[d", &k);
    CHECK_EQ_STR(k.data, "a_b_c_d");
    buf_free(&k);
    publish_sanitize_key("", &k);
    CHECK_EQ_STR(k.data, "unnamed");
    buf_free(&k);
}

/* ---- description merge ---------------------------------------------------- */

#define B(key, body) "[llmsweep benchmark " key "]\n" body "\n[/llmsweep benchmark " key "]"

static char *merge(const char *old, const char *key, const char *block, int keep,
                   struct publish_merge_report *rep)
{
    *rep = (struct publish_merge_report){0};
    return publish_merge_description(old, key, block, keep, rep);
}

TEST(publish_description_first_publish_appends_after_text)
{
    struct publish_merge_report rep;
    char *d = merge("Quantized w4a16 build.", "r1", B("r1", "x"), 5, &rep);
    CHECK_EQ_STR(d, "Quantized w4a16 build.\n\n" B("r1", "x"));
    free(d);
    d = merge("ends with newline\n", "r1", B("r1", "x"), 5, &rep);
    CHECK_EQ_STR(d, "ends with newline\n\n" B("r1", "x"));
    free(d);
    d = merge("", "r1", B("r1", "x"), 5, &rep);
    CHECK_EQ_STR(d, B("r1", "x"));
    free(d);
    d = merge(NULL, "r1", B("r1", "x"), 5, &rep);
    CHECK_EQ_STR(d, B("r1", "x"));
    free(d);
    CHECK_EQ_INT(rep.replaced, 0);
}

TEST(publish_description_republish_replaces_in_place)
{
    struct publish_merge_report rep;
    const char *old = "Intro line.\n\n" B("r1", "old numbers") "\n\nNotes after, kept.\n";
    char *d = merge(old, "r1", B("r1", "new numbers"), 5, &rep);
    CHECK_EQ_STR(d, "Intro line.\n\n" B("r1", "new numbers") "\n\nNotes after, kept.\n");
    CHECK_EQ_INT(rep.replaced, 1);
    /* and again: identical, so a retried publish changes nothing */
    char *again = merge(d, "r1", B("r1", "new numbers"), 5, &rep);
    CHECK_EQ_STR(again, d);
    free(again);
    free(d);
}

TEST(publish_description_never_duplicates)
{
    struct publish_merge_report rep;
    const char *old = "Text\n\n" B("r1", "a") "\n\n" B("r1", "b") "\nTail";
    char *d = merge(old, "r1", B("r1", "c"), 5, &rep);
    CHECK_EQ_STR(d, "Text\n\n" B("r1", "c") "\nTail");
    CHECK_EQ_INT(rep.duplicates_removed, 1);
    free(d);
}

TEST(publish_description_other_runs_stay_and_new_run_appends)
{
    struct publish_merge_report rep;
    const char *old = "Text\n\n" B("r1", "a");
    char *d = merge(old, "r2", B("r2", "b"), 5, &rep);
    CHECK_EQ_STR(d, "Text\n\n" B("r1", "a") "\n\n" B("r2", "b"));
    free(d);
}

TEST(publish_description_keeps_at_most_n_blocks)
{
    struct publish_merge_report rep;
    const char *old = "Text\n\n" B("r1", "a") "\n\n" B("r2", "b") "\n\n" B("r3", "c");
    char *d = merge(old, "r4", B("r4", "d"), 3, &rep);
    CHECK_EQ_STR(d, "Text\n\n" B("r2", "b") "\n\n" B("r3", "c") "\n\n" B("r4", "d"));
    CHECK_EQ_INT(rep.pruned, 1);
    free(d);
    /* blocks first in the description */
    d = merge(B("r1", "a") "\n\n" B("r2", "b") "\n\nUser text", "r3", B("r3", "c"), 2, &rep);
    CHECK_EQ_STR(d, B("r2", "b") "\n\nUser text\n\n" B("r3", "c"));
    free(d);
    /* the last block pruned, ours replaced before it */
    d = merge("Text\n\n" B("r1", "a") "\n\n" B("r2", "b"), "r1", B("r1", "z"), 1, &rep);
    CHECK_EQ_STR(d, "Text\n\n" B("r1", "z"));
    free(d);
    /* 0: no limit */
    d = merge(old, "r4", B("r4", "d"), 0, &rep);
    CHECK_CONTAINS(d, B("r1", "a"));
    free(d);
}

TEST(publish_description_leaves_broken_markers_alone)
{
    struct publish_merge_report rep;
    /* a begin line without its end line is someone's text, not a block */
    const char *old = "[llmsweep benchmark r1]\nhand-edited, end marker deleted\nmore text";
    char *d = merge(old, "r1", B("r1", "x"), 5, &rep);
    CHECK_EQ_STR(
        d, "[llmsweep benchmark r1]\nhand-edited, end marker deleted\nmore text\n\n" B("r1", "x"));
    CHECK_EQ_INT(rep.replaced, 0);
    /* the next publish pairs only the complete block, not the orphan begin line */
    char *again = merge(d, "r1", B("r1", "y"), 5, &rep);
    CHECK_EQ_STR(again, "[llmsweep benchmark r1]\nhand-edited, end marker deleted\nmore text\n\n" B(
                            "r1", "y"));
    free(again);
    free(d);
    /* an end marker of another key does not close a block */
    d = merge("[llmsweep benchmark a]\n[/llmsweep benchmark b]", "a", B("a", "n"), 5, &rep);
    CHECK_CONTAINS(d, "[/llmsweep benchmark b]\n\n" B("a", "n"));
    free(d);
}

TEST(publish_description_tolerates_crlf_and_trailing_spaces)
{
    struct publish_merge_report rep;
    const char *old = "Top\r\n[llmsweep benchmark r1]  \r\nold\r\n[/llmsweep benchmark r1]\r\nEnd";
    char *d = merge(old, "r1", B("r1", "new"), 5, &rep);
    CHECK_EQ_STR(d, "Top\r\n" B("r1", "new") "\nEnd");
    CHECK_EQ_INT(rep.replaced, 1);
    free(d);
}

/* ---- properties merge ----------------------------------------------------- */

TEST(publish_properties_merge_keeps_others_and_drops_stale_own_keys)
{
    cJSON *existing = cJSON_Parse(
        "{\"owner_team\":{\"metadataType\":\"MetadataStringValue\",\"string_value\":\"ml\"},"
        "\"accuracy\":{\"metadataType\":\"MetadataDoubleValue\",\"double_value\":0.91},"
        "\"benchmark_throughput\":{\"metadataType\":\"MetadataDoubleValue\",\"double_value\":1},"
        "\"benchmark_level_c25_ttft_p50\":{\"metadataType\":\"MetadataDoubleValue\","
        "\"double_value\":9},"
        "\"Benchmark_TTFT_P50\":{\"metadataType\":\"MetadataDoubleValue\",\"double_value\":7},"
        "\"benchmark_notes\":{\"metadataType\":\"MetadataStringValue\",\"string_value\":\"x\"}}");
    cJSON *ours = cJSON_CreateObject();
    cJSON_AddItemToObject(ours, "benchmark_throughput", publish_value_double(1200));
    cJSON_AddItemToObject(ours, "benchmark_ttft_p50", publish_value_double(105));
    struct publish_merge_report rep = {0};
    cJSON *m = publish_merge_properties(existing, ours, &rep);
    CHECK_EQ_STR(type_of(m, "owner_team"), "MetadataStringValue");
    CHECK_EQ_STR(type_of(m, "accuracy"), "MetadataDoubleValue");
    CHECK_EQ_STR(type_of(m, "benchmark_notes"), "MetadataStringValue"); /* not ours: kept */
    CHECK(!cJSON_GetObjectItemCaseSensitive(m, "benchmark_level_c25_ttft_p50"));
    CHECK(!cJSON_GetObjectItemCaseSensitive(m, "Benchmark_TTFT_P50"));
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "benchmark_throughput");
    CHECK_NEAR(cJSON_GetObjectItemCaseSensitive(t, "double_value")->valuedouble, 1200, 0);
    CHECK_EQ_INT(cJSON_GetArraySize(m), 5);
    CHECK_EQ_INT(rep.kept, 3);
    CHECK_EQ_INT(rep.removed, 2);
    CHECK_EQ_INT(rep.set, 2);

    /* merging the result again gives the same map: idempotent */
    struct publish_merge_report rep2 = {0};
    cJSON *m2 = publish_merge_properties(m, ours, &rep2);
    CHECK(cJSON_Compare(m, m2, true));
    cJSON_Delete(m2);
    cJSON_Delete(m);
    m = publish_merge_properties(NULL, ours, &rep);
    CHECK_EQ_INT(cJSON_GetArraySize(m), 2);
    cJSON_Delete(m);
    cJSON_Delete(ours);
    cJSON_Delete(existing);
}

/* ---- what `run` writes is what `publish` and `wait` read ------------------ */

TEST(publish_reads_back_what_outputs_write)
{
    struct fixture f;
    make_sweep(&f);
    f.r.instance.type = "g6.4xlarge";
    f.r.instance.gpu_count = 1;
    f.r.instance.hourly_usd = 1.3232;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/run", test_tmpdir());
    struct output_set set = {.json = true};
    struct buf err = {0};
    CHECK(outputs_write(&f.r, NULL, NULL, &set, dir, &err));
    CHECK_EQ_STR(err.data ? err.data : "", "");

    /* wait: the marker outputs_write puts last is the one wait looks for */
    char *path = waitfile_results_path(dir);
    struct waitfile_state st;
    struct waitfile_observation obs;
    waitfile_init(&st, path, 2);
    CHECK(waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_DONE_MARKER);
    waitfile_free(&st);

    struct results loaded;
    CHECK(results_load(path, &loaded, &err));
    struct publish_plan want, got;
    CHECK(publish_plan_make(&f.r, "all", &g6, &want, &err));
    struct publish_pricing from_file = {loaded.instance.type, loaded.instance.gpu_count,
                                        loaded.instance.hourly_usd};
    CHECK(publish_plan_make(&loaded, "all", &from_file, &got, &err));
    CHECK_EQ_STR(got.key, "run-42");
    CHECK_EQ_STR(got.date, "2026-11-28T05:39:12Z");
    CHECK_EQ_STR(got.tool, "llmsweep 0.1.0");
    CHECK_EQ_INT(got.n_levels, want.n_levels);
    CHECK_EQ_INT(got.primary, want.primary);
    for (size_t i = 0; i < got.n_levels && i < want.n_levels; i++) {
        const struct publish_level *a = &got.levels[i], *b = &want.levels[i];
        CHECK_EQ_STR(a->label, b->label);
        CHECK_NEAR(a->throughput_total, b->throughput_total, 1e-9);
        CHECK_NEAR(a->throughput_output, b->throughput_output, 1e-9);
        CHECK_NEAR(a->concurrency_mean, b->concurrency_mean, 1e-9);
        for (int q = 0; q < Q_COUNT; q++) {
            CHECK_NEAR(a->ttft_ms[q], b->ttft_ms[q], 1e-9);
            CHECK_NEAR(a->itl_ms[q], b->itl_ms[q], 1e-9);
            CHECK_NEAR(a->latency_s[q], b->latency_s[q], 1e-9);
        }
        CHECK_NEAR(a->cost_per_1k_total, b->cost_per_1k_total, 1e-15);
        CHECK_EQ_INT(a->successful, b->successful);
        CHECK_EQ_INT(a->errored, b->errored);
    }
    publish_plan_free(&want);
    publish_plan_free(&got);
    results_free(&loaded);
    free(path);
    buf_free(&err);
}
