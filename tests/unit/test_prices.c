/* The instance price table (specs/instance-prices.yaml) and cost per token. */
#include <string.h>

#include "harness.h"
#include "prices.h"

TEST(prices_g6_family_has_the_gpu_counts_aws_lists)
{
    struct buf err = {0};
    struct price_table *t = price_table_embedded(&err);
    CHECK(t != NULL);
    if (!t) {
        buf_free(&err);
        return;
    }
    const struct {
        const char *type;
        int gpus;
    } g6[] = {{"g6.xlarge", 1},   {"g6.2xlarge", 1},  {"g6.4xlarge", 1},  {"g6.8xlarge", 1},
              {"g6.12xlarge", 4}, {"g6.16xlarge", 1}, {"g6.24xlarge", 4}, {"g6.48xlarge", 8}};
    double previous = 0;
    for (size_t i = 0; i < ARRAY_LEN(g6); i++) {
        const struct instance_price *p = price_table_find(t, g6[i].type);
        CHECK(p != NULL);
        if (!p)
            continue;
        CHECK_EQ_INT(p->gpu_count, g6[i].gpus);
        CHECK_EQ_STR(p->gpu_type, "NVIDIA L4");
        CHECK(p->hourly_usd > 0.5 && p->hourly_usd < 20);
        /* within one GPU count, bigger instances cost more */
        if (i > 0 && g6[i].gpus == g6[i - 1].gpus)
            CHECK(p->hourly_usd > previous);
        previous = p->hourly_usd;
    }
    CHECK_NEAR(price_table_find(t, "g6.4xlarge")->hourly_usd, 1.3232, 1e-9);
    CHECK_NEAR(price_table_find(t, "g6.12xlarge")->hourly_usd, 4.6016, 1e-9);
    CHECK(price_table_find(t, "G6.4XLARGE") == NULL); /* exact names only */
    CHECK(price_table_find(t, "g6.5xlarge") == NULL);
    CHECK_EQ_STR(price_table_closest(t, "g6.4xlarg"), "g6.4xlarge");
    CHECK(price_table_closest(t, "zz") == NULL);
    CHECK_CONTAINS(t->source, "us-east-1");
    CHECK_CONTAINS(t->source, "re-check");
    CHECK_EQ_STR(t->currency, "USD");
    CHECK(t->as_of && *t->as_of);
    price_table_free(t);
    buf_free(&err);
}

TEST(prices_cost_per_1k_tokens)
{
    /* $1.3232/h at 1000 tokens/s: 3.6M tokens an hour, $0.00036756 per 1K */
    CHECK_NEAR(cost_per_1k_tokens(1.3232, 1000), 1.3232 / 3600.0, 1e-15);
    CHECK_NEAR(cost_per_1k_tokens(4.6016, 250), 4.6016 / (250 * 3600.0) * 1000, 1e-15);
    CHECK_NEAR(cost_per_1k_tokens(0, 1000), 0, 0); /* no price known */
    CHECK_NEAR(cost_per_1k_tokens(1.0, 0), 0, 0);  /* nothing produced */
    CHECK_NEAR(cost_per_1k_tokens(1.0, -5), 0, 0);
}

static void check_bad_table(int *test_failures_, const char *yaml, const char *want)
{
    struct buf err = {0};
    struct price_table *t = price_table_parse("p.yaml", yaml, strlen(yaml), &err);
    CHECK(t == NULL);
    CHECK_CONTAINS(err.data, want);
    if (t)
        price_table_free(t);
    buf_free(&err);
}

#define HEAD "source: s\nas_of: \"2025\"\nregion: r\ncurrency: USD\ninstances:\n"

TEST(prices_bad_tables_are_reported_with_positions)
{
    /* A value libcyaml rejects: its error, with the position of its backtrace. */
    check_bad_table(test_failures_,
                    HEAD "  - {type: a, gpu_count: 1, gpu_type: L4, hourly_usd: 1}\n"
                         "  - {type: b, gpu_count: four, gpu_type: L4, hourly_usd: 1}\n",
                    "p.yaml:7:26: instances[1].gpu_count: Invalid INT value: 'four'");
    check_bad_table(test_failures_,
                    HEAD "  - {type: a, gpu_count: 1, gpu_type: L4, hourly_usd: cheap}\n",
                    "p.yaml:6:55: instances[0].hourly_usd: Invalid FLOAT value: cheap");
    check_bad_table(test_failures_,
                    HEAD "  - {type: a, gpu_count: 1, gpu_type: L4, hourly_usd: 1}\n"
                         "  - {type: a, gpu_count: 1, gpu_type: L4, hourly_usd: 2}\n",
                    "p.yaml:7:12: instances[1].type: a is listed twice");
    check_bad_table(test_failures_,
                    HEAD "  - {type: a, gpu_count: 0, gpu_type: L4, hourly_usd: 1}\n",
                    "instances[0].gpu_count: a must be 1 or more");
    check_bad_table(test_failures_,
                    HEAD "  - {type: a, gpu_count: 1, gpu_type: L4, hourly_usd: -1}\n",
                    "instances[0].hourly_usd: a must be more than zero");
    check_bad_table(test_failures_, HEAD "  - {type: a, gpu_count: 1, hourly_usd: 1}\n",
                    "p.yaml:6:5: instances[0]: missing required field 'gpu_type'");
    check_bad_table(test_failures_, HEAD "  []\n", "instances: needs at least 1 entries");
    check_bad_table(test_failures_, "", "p.yaml: the price table is empty");
}
