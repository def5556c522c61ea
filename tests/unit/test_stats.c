/* stats: every statistic against values worked out by hand in the comments,
 * plus properties (monotone percentiles). GuideLLM's own functions are the
 * oracle in test_stats_oracle.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "run_fixture.h"
#include "stats.h"

static struct distribution of_values(const double *v, const double *w, size_t n)
{
    struct weighted *s = malloc((n ? n : 1) * sizeof *s);
    for (size_t i = 0; i < n; i++)
        s[i] = (struct weighted){v[i], w ? w[i] : 1};
    struct distribution d;
    distribution_of(s, n, -1, &d);
    free(s);
    return d;
}

TEST(stats_four_values)
{
    /* 1 2 3 4, equal weights: cdf .25 .5 .75 1. */
    struct distribution d = of_values((double[]){3, 1, 4, 2}, NULL, 4);
    CHECK(d.present);
    CHECK_NEAR(d.count, 4, 0);
    CHECK_NEAR(d.total_sum, 10, 1e-12);
    CHECK_NEAR(d.mean, 2.5, 1e-12);
    CHECK_NEAR(d.median, 2, 0); /* first value whose cdf reaches .5: no interpolation */
    CHECK_NEAR(d.percentiles[P50], 2, 0);
    CHECK_NEAR(d.percentiles[P25], 1, 0);
    CHECK_NEAR(d.percentiles[P75], 3, 0);
    CHECK_NEAR(d.percentiles[P90], 4, 0);
    CHECK_NEAR(d.percentiles[P001], 1, 0);
    CHECK_NEAR(d.percentiles[P999], 4, 0);
    CHECK_NEAR(d.variance, 1.25, 1e-12); /* population: (2.25 + .25 + .25 + 2.25) / 4 */
    CHECK_NEAR(d.std_dev, sqrt(1.25), 1e-12);
    CHECK_NEAR(d.mode, 1, 0); /* all equally likely: the smallest */
    CHECK_NEAR(d.min, 1, 0);
    CHECK_NEAR(d.max, 4, 0);
}

TEST(stats_ties_merge)
{
    /* 5 5 1: values {1: 1/3, 5: 2/3}. */
    struct distribution d = of_values((double[]){5, 5, 1}, NULL, 3);
    CHECK_NEAR(d.count, 3, 0);
    CHECK_NEAR(d.mode, 5, 0);
    CHECK_NEAR(d.median, 5, 0);
    CHECK_NEAR(d.percentiles[P25], 1, 0);
    CHECK_NEAR(d.mean, 11.0 / 3, 1e-12);
    CHECK_NEAR(d.total_sum, 11, 1e-12);
}

TEST(stats_one_sample)
{
    struct distribution d = of_values((double[]){7.25}, NULL, 1);
    CHECK_NEAR(d.count, 1, 0);
    for (int k = 0; k < PERCENTILE_COUNT; k++)
        CHECK_NEAR(d.percentiles[k], 7.25, 0);
    CHECK_NEAR(d.mean, 7.25, 0);
    CHECK_NEAR(d.mode, 7.25, 0);
    CHECK_NEAR(d.variance, 0, 0);
    CHECK_NEAR(d.std_dev, 0, 0);
}

TEST(stats_weights)
{
    /* 10 weighs 3, 20 weighs 1: probabilities .75 .25. */
    struct distribution d = of_values((double[]){20, 10}, (double[]){1, 3}, 2);
    CHECK_NEAR(d.count, 4, 0); /* the sum of the weights */
    CHECK_NEAR(d.mean, 12.5, 1e-12);
    CHECK_NEAR(d.total_sum, 50, 1e-12);
    CHECK_NEAR(d.median, 10, 0);
    CHECK_NEAR(d.percentiles[P75], 10, 0); /* cdf .75 reaches .75 */
    CHECK_NEAR(d.percentiles[P90], 20, 0);
    CHECK_NEAR(d.variance, 18.75, 1e-12); /* .75 * 2.5^2 + .25 * 7.5^2 */
    CHECK_NEAR(d.mode, 10, 0);
}

TEST(stats_zero_weights_and_empty)
{
    struct distribution d = of_values((double[]){1, 2}, (double[]){0, 1}, 2);
    CHECK_NEAR(d.count, 1, 0);
    CHECK_NEAR(d.min, 2, 0);
    CHECK_NEAR(d.mean, 2, 0);
    struct distribution e = of_values(NULL, NULL, 0);
    CHECK(e.present);
    CHECK_NEAR(e.count, 0, 0);
    CHECK_NEAR(e.mean, 0, 0);
    CHECK_NEAR(e.percentiles[P99], 0, 0);
}

TEST(stats_cumulative_rounding_as_guidellm)
{
    /* 1..10 equally weighted: 0.1 summed nine times is 0.8999999999999999,
     * below 0.9, so GuideLLM's p90 is 10, not 9. */
    double v[10];
    for (int i = 0; i < 10; i++)
        v[i] = i + 1;
    struct distribution d = of_values(v, NULL, 10);
    CHECK_NEAR(d.percentiles[P90], 10, 0);
    CHECK_NEAR(d.percentiles[P50], 5, 0);
    CHECK_NEAR(d.percentiles[P10], 1, 0);
}

TEST(stats_percentiles_monotone)
{
    uint64_t x = 42;
    for (int round = 0; round < 50; round++) {
        size_t n = 1 + round * 37 % 500;
        double *v = malloc(n * sizeof *v), *w = malloc(n * sizeof *w);
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            v[i] = (double)(x >> 40) / 1000.0;
            w[i] = (double)((x >> 20) % 5); /* some zero weights */
        }
        struct distribution d = of_values(v, w, n);
        if (d.count == 0)
            continue;
        CHECK(d.min <= d.percentiles[P001]);
        for (int k = 1; k < PERCENTILE_COUNT; k++)
            CHECK(d.percentiles[k - 1] <= d.percentiles[k]);
        CHECK(d.percentiles[P999] <= d.max);
        CHECK(d.median == d.percentiles[P50]);
        CHECK(d.min <= d.mean && d.mean <= d.max);
        CHECK(d.variance >= 0);
        free(v);
        free(w);
    }
}

TEST(stats_pairwise_sum_blocks)
{
    /* Exact for integers at every block size numpy's pairwise sum uses. */
    size_t sizes[] = {0, 1, 7, 8, 9, 127, 128, 129, 1000, 4097};
    for (size_t s = 0; s < ARRAY_LEN(sizes); s++) {
        size_t n = sizes[s];
        double *a = malloc((n ? n : 1) * sizeof *a);
        for (size_t i = 0; i < n; i++)
            a[i] = (double)(i + 1);
        CHECK_NEAR(pairwise_sum(a, n), n * (n + 1) / 2.0, 0);
        free(a);
    }
}

TEST(stats_rate_distribution)
{
    /* Events at 1, 2, 3 in [0, 4]: points 0 1 2 3 4, each standing for the
     * time between the midpoints around it: .5 1 1 1 .5; rates 0 1 1 1 0. */
    struct weighted ev[] = {{2, 1}, {1, 1}, {3, 1}, {5, 1} /* outside */};
    struct distribution d;
    distribution_of_rate(ev, 4, 0, 4, &d);
    CHECK_NEAR(d.count, 3, 0);
    CHECK_NEAR(d.mean, 0.75, 1e-12); /* = events / window */
    CHECK_NEAR(d.median, 1, 0);
    CHECK_NEAR(d.percentiles[P10], 0, 0);
    CHECK_NEAR(d.mode, 1, 0);
    CHECK_NEAR(d.min, 0, 0);
    CHECK_NEAR(d.max, 1, 0);

    /* Events closer than 0.1 ms are one event carrying both weights. */
    struct weighted close[] = {{1, 2}, {1.00005, 3}};
    distribution_of_rate(close, 2, 0, 2, &d);
    CHECK_NEAR(d.count, 5, 0);
    CHECK_NEAR(d.mean, 2.5, 1e-12);
    CHECK_NEAR(d.max, 5, 1e-12); /* 5 events over the 1 s around t = 1 */

    distribution_of_rate(NULL, 0, 0, 10, &d);
    CHECK_NEAR(d.mean, 0, 0);
    CHECK_NEAR(d.count, 0, 0);
}

TEST(stats_concurrency_distribution)
{
    /* [0,2] and [1,3] in [0,4]: 1 for 1 s, 2 for 1 s, 1 for 1 s, 0 for 1 s. */
    struct interval iv[] = {{0, 2, 1}, {1, 3, 1}};
    struct distribution d;
    distribution_of_concurrency(iv, 2, 0, 4, &d);
    CHECK_NEAR(d.count, 2, 0);
    CHECK_NEAR(d.mean, 1.0, 1e-12);
    CHECK_NEAR(d.max, 2, 0);
    CHECK_NEAR(d.min, 0, 0);
    CHECK_NEAR(d.median, 1, 0); /* 1 holds half the time */
    CHECK_NEAR(d.mode, 1, 0);

    /* Begun before the window: in flight at its start, for 1 s of 2. */
    struct interval early[] = {{-1, 1, 1}, {5, 6, 1} /* after: ignored */};
    distribution_of_concurrency(early, 2, 0, 2, &d);
    CHECK_NEAR(d.count, 1, 0);
    CHECK_NEAR(d.mean, 0.5, 1e-12);

    distribution_of_concurrency(NULL, 0, 0, 2, &d);
    CHECK_NEAR(d.count, 0, 0);
    CHECK_NEAR(d.mean, 0, 0);
}

TEST(stats_compute_hand_run)
{
    struct spec spec = fixture_spec();
    struct run run;
    fixture_run(&run, &spec, PROFILE_CONCURRENT);
    struct results r;
    stats_compute(&run, &r);
    CHECK_EQ_STR(r.format, "llmsweep");
    CHECK_EQ_STR(r.run_id, "20261128T051944Z-3f9a1c");
    CHECK_EQ_STR(r.model, "m");
    CHECK_EQ_STR(r.api, "chat");
    CHECK_EQ_STR(r.spec_name, "hand");
    /* The errored request had no counts: that does not make the others mixed. */
    CHECK_EQ_STR(r.token_counts_from, "server");
    CHECK_EQ_INT(r.n_levels, 1);
    const struct level_summary *l = &r.levels[0];
    CHECK_EQ_STR(l->strategy, "concurrent");
    CHECK_NEAR(l->target, 2, 0);
    CHECK_NEAR(l->duration, 10, 1e-9);
    CHECK_NEAR(l->start_time, 1795844057.0, 1e-6); /* wall start + 2 s */
    CHECK_NEAR(l->end_time, 1795844067.0, 1e-6);
    CHECK_EQ_INT(l->request_totals.successful, 2);
    CHECK_EQ_INT(l->request_totals.errored, 1);
    CHECK_EQ_INT(l->request_totals.incomplete, 1);
    CHECK_EQ_INT(l->request_totals.total, 4);
    CHECK_EQ_INT(l->errors_by_class[REQERR_HTTP], 1);

    const struct status_distribution *m = l->metrics;
    /* Latency in seconds: .6 and .5 (successful), .05 (errored), .5 (incomplete). */
    CHECK_NEAR(m[METRIC_REQUEST_LATENCY].successful.mean, 0.55, 1e-12);
    CHECK_NEAR(m[METRIC_REQUEST_LATENCY].successful.median, 0.5, 1e-12);
    CHECK_NEAR(m[METRIC_REQUEST_LATENCY].successful.max, 0.6, 1e-12);
    CHECK_NEAR(m[METRIC_REQUEST_LATENCY].errored.mean, 0.05, 1e-12);
    CHECK_NEAR(m[METRIC_REQUEST_LATENCY].incomplete.mean, 0.5, 1e-12);
    CHECK_NEAR(m[METRIC_REQUEST_LATENCY].total.count, 4, 0);
    /* TTFT in milliseconds: 100 and 300; the incomplete one 300. */
    CHECK_NEAR(m[METRIC_TIME_TO_FIRST_TOKEN_MS].successful.mean, 200, 1e-9);
    CHECK_NEAR(m[METRIC_TIME_TO_FIRST_TOKEN_MS].successful.percentiles[P99], 300, 1e-9);
    CHECK_NEAR(m[METRIC_TIME_TO_FIRST_TOKEN_MS].errored.count, 0, 0);
    CHECK_NEAR(m[METRIC_TIME_TO_FIRST_TOKEN_MS].total.mean, 700.0 / 3, 1e-9);
    /* ITL (GuideLLM): (.5 - .1) / 4 = 100 ms weighing 4, (.2) / 2 = 100 ms weighing 2. */
    CHECK_NEAR(m[METRIC_INTER_TOKEN_LATENCY_MS].successful.mean, 100, 1e-9);
    CHECK_NEAR(m[METRIC_INTER_TOKEN_LATENCY_MS].successful.count, 6, 0);
    /* TPOT (vLLM): (.6 - .1) / 4 = 125 ms and (1.5 - 1.3) / 2 = 100 ms, one each. */
    CHECK_NEAR(m[METRIC_TIME_PER_OUTPUT_TOKEN_MS].successful.mean, 112.5, 1e-9);
    CHECK_NEAR(m[METRIC_TIME_PER_OUTPUT_TOKEN_MS].successful.count, 2, 0);
    /* Gaps between chunks: 100 100 200 and 200 ms. */
    CHECK_NEAR(m[METRIC_INTER_CHUNK_LATENCY_MS].successful.mean, 150, 1e-9);
    CHECK_NEAR(m[METRIC_INTER_CHUNK_LATENCY_MS].successful.count, 4, 0);
    CHECK_NEAR(m[METRIC_INTER_CHUNK_LATENCY_MS].successful.median, 100, 1e-9);
    /* Token counts; unknown counts are left out, not zero. */
    CHECK_NEAR(m[METRIC_PROMPT_TOKEN_COUNT].successful.total_sum, 30, 1e-9);
    CHECK_NEAR(m[METRIC_OUTPUT_TOKEN_COUNT].successful.mean, 4, 1e-9);
    CHECK_NEAR(m[METRIC_TOTAL_TOKEN_COUNT].successful.total_sum, 38, 1e-9);
    CHECK_NEAR(m[METRIC_PROMPT_TOKEN_COUNT].incomplete.count, 1, 0);
    CHECK_NEAR(m[METRIC_OUTPUT_TOKEN_COUNT].incomplete.count, 0, 0);
    CHECK_NEAR(m[METRIC_OUTPUT_TOKEN_COUNT].errored.count, 0, 0);
    /* Window rates over 10 s, the warmup request's in-window events included:
     * successful ends at .2 .6 1.5; output tokens 2 + 5 + 3; prompt 5 + 10 + 20. */
    CHECK_NEAR(m[METRIC_REQUESTS_PER_SECOND].successful.mean, 0.3, 1e-12);
    CHECK_NEAR(m[METRIC_REQUESTS_PER_SECOND].successful.count, 3, 0);
    CHECK_NEAR(m[METRIC_REQUESTS_PER_SECOND].errored.mean, 0.1, 1e-12);
    CHECK_NEAR(m[METRIC_REQUESTS_PER_SECOND].incomplete.mean, 0.1, 1e-12);
    CHECK_NEAR(m[METRIC_REQUESTS_PER_SECOND].total.mean, 0.5, 1e-12);
    CHECK_NEAR(m[METRIC_OUTPUT_TOKENS_PER_SECOND].successful.mean, 1.0, 1e-12);
    CHECK_NEAR(m[METRIC_PROMPT_TOKENS_PER_SECOND].successful.mean, 3.5, 1e-12);
    CHECK_NEAR(m[METRIC_TOKENS_PER_SECOND].successful.mean, 4.5, 1e-12);
    /* In flight: .6 + .5 + .2 s successful, + .05 errored + .5 incomplete. */
    CHECK_NEAR(m[METRIC_REQUEST_CONCURRENCY].successful.mean, 0.13, 1e-12);
    CHECK_NEAR(m[METRIC_REQUEST_CONCURRENCY].total.mean, 0.185, 1e-12);
    CHECK_NEAR(m[METRIC_REQUEST_CONCURRENCY].total.max, 2, 0); /* r5 and r1 overlap */
    /* Closed loop: no schedule, so no scheduled latency or send lag. */
    CHECK(!m[METRIC_SCHEDULED_LATENCY].successful.present);
    CHECK(!m[METRIC_SEND_LAG_MS].total.present);
    /* Cost: 3.6 $/h over 1 output tok/s = 1 $ per 1K; over 4.5 tok/s = .2222. */
    CHECK(l->has_cost);
    CHECK_NEAR(l->cost_per_1k_output_usd, 1.0, 1e-12);
    CHECK_NEAR(l->cost_per_1k_total_usd, 1.0 / 4.5, 1e-12);
    /* Goodput, TTFT <= 200 ms: r1 (100) and warmup r5 (150) are good, r2 (300)
     * is not; judged: 2 successful + 1 errored measured requests. */
    CHECK(l->has_goodput);
    CHECK_EQ_INT(l->goodput_requests, 1);
    CHECK_EQ_INT(l->goodput_determined, 3);
    CHECK_NEAR(l->goodput_requests_per_second, 0.2, 1e-12);
    CHECK_NEAR(l->goodput_output_tokens_per_second, 0.7, 1e-12);
    results_free(&r);
    run.spec = NULL;
    run_free(&run);
}

TEST(stats_compute_open_loop)
{
    struct spec spec = fixture_spec();
    struct run run;
    fixture_run(&run, &spec, PROFILE_CONSTANT);
    struct results r;
    stats_compute(&run, &r);
    const struct status_distribution *m = r.levels[0].metrics;
    CHECK_EQ_STR(r.levels[0].strategy, "constant");
    /* r1 was sent 10 ms late and ended .61 s after it was due; r2 on time. */
    CHECK_NEAR(m[METRIC_SEND_LAG_MS].successful.max, 10, 1e-9);
    CHECK_NEAR(m[METRIC_SEND_LAG_MS].successful.min, 0, 1e-9);
    CHECK_NEAR(m[METRIC_SEND_LAG_MS].successful.mean, 5, 1e-9);
    CHECK_NEAR(m[METRIC_SCHEDULED_LATENCY].successful.max, 0.61, 1e-9);
    CHECK_NEAR(m[METRIC_SCHEDULED_LATENCY].successful.mean, 0.555, 1e-9);
    CHECK_NEAR(m[METRIC_REQUEST_LATENCY].successful.max, 0.6, 1e-9);
    results_free(&r);
    run.spec = NULL;
    run_free(&run);
}

TEST(stats_compute_without_price_or_slos)
{
    struct spec spec = fixture_spec();
    struct run run;
    fixture_run(&run, &spec, PROFILE_CONCURRENT);
    struct spec bare = spec;
    bare.instance.hourly_usd = 0;
    bare.slo.ttft_ms = 0;
    run.spec = &bare;
    struct results r;
    stats_compute(&run, &r);
    CHECK(!r.levels[0].has_cost);
    CHECK(!r.levels[0].has_goodput);
    results_free(&r);
    run.spec = NULL;
    run_free(&run);
}

static int cmp_weighted(const void *pa, const void *pb)
{
    const struct weighted *a = pa, *b = pb;
    if (a->value != b->value)
        return (a->value > b->value) - (a->value < b->value);
    return (a->weight > b->weight) - (a->weight < b->weight);
}

TEST(stats_radix_sort_orders_like_qsort)
{
    /* Large arrays take the radix path: negatives, zeros, ties, tiny and huge values. */
    size_t sizes[] = {4095, 4096, 50000};
    uint64_t x = 99;
    for (size_t s = 0; s < ARRAY_LEN(sizes); s++) {
        size_t n = sizes[s];
        struct weighted *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        for (size_t i = 0; i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            double v = (double)(int64_t)(x >> 20) / (double)(1ULL << (x % 60));
            if (i % 7 == 0)
                v = (double)(i % 13); /* ties */
            if (i % 11 == 0)
                v = -v;
            a[i] = b[i] = (struct weighted){v, (double)i};
        }
        sort_by_value(a, n);
        for (size_t i = 1; i < n; i++)
            CHECK(a[i - 1].value <= a[i].value);
        /* The same samples: sort both fully and compare. */
        qsort(a, n, sizeof *a, cmp_weighted);
        qsort(b, n, sizeof *b, cmp_weighted);
        CHECK(memcmp(a, b, n * sizeof *a) == 0);
        free(a);
        free(b);
    }
}
