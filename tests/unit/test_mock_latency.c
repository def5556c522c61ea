#include <math.h>

#include "harness.h"
#include "mock_latency.h"
#include "util.h"

TEST(mock_latency_without_jitter_is_exact)
{
    struct mock_latency m = {.ttft_ms = 50, .prefill_ms_per_token = 0.25, .itl_ms = 10};
    struct mock_rng rng;
    mock_rng_seed(&rng, 7);
    uint64_t before = rng.state;
    CHECK_EQ_INT(mock_ttft_ns(&m, 0, 1, &rng), 50 * NS_PER_MS);
    CHECK_EQ_INT(mock_ttft_ns(&m, 400, 1, &rng), 150 * NS_PER_MS);
    CHECK_EQ_INT(mock_itl_ns(&m, 1000, &rng), 10 * NS_PER_MS); /* no knee: no load effect */
    CHECK(rng.state == before);                                /* no draws without jitter */
}

TEST(mock_latency_load_model_grows_past_the_knee)
{
    struct mock_latency m = {.ttft_ms = 100, .itl_ms = 10, .load_knee = 8, .load_slope = 0.5};
    struct mock_rng rng;
    mock_rng_seed(&rng, 1);
    CHECK_NEAR(mock_load_factor(&m, 1), 1.0, 0);
    CHECK_NEAR(mock_load_factor(&m, 8), 1.0, 0);
    CHECK_NEAR(mock_load_factor(&m, 9), 1.5, 1e-12);
    CHECK_NEAR(mock_load_factor(&m, 12), 3.0, 1e-12);
    CHECK_EQ_INT(mock_itl_ns(&m, 12, &rng), 30 * NS_PER_MS);
    CHECK_EQ_INT(mock_ttft_ns(&m, 0, 10, &rng), 200 * NS_PER_MS);
}

TEST(mock_latency_jitter_is_gaussian_seeded_and_never_negative)
{
    struct mock_latency m = {.itl_ms = 10, .itl_jitter_ms = 2};
    struct mock_rng a, b;
    mock_rng_seed(&a, 99);
    mock_rng_seed(&b, 99);
    double sum = 0, sumsq = 0;
    int n = 50000;
    for (int i = 0; i < n; i++) {
        int64_t x = mock_itl_ns(&m, 1, &a);
        CHECK_EQ_INT(x, mock_itl_ns(&m, 1, &b));
        double ms = (double)x / NS_PER_MS;
        sum += ms;
        sumsq += ms * ms;
    }
    double mean = sum / n, sd = sqrt(sumsq / n - mean * mean);
    CHECK_NEAR(mean, 10.0, 0.05); /* standard error 0.009 */
    CHECK_NEAR(sd, 2.0, 0.05);

    struct mock_latency wide = {.itl_ms = 1, .itl_jitter_ms = 5};
    for (int i = 0; i < 1000; i++)
        CHECK(mock_itl_ns(&wide, 1, &a) >= 0);
}

TEST(mock_rng_uniform_range)
{
    struct mock_rng r;
    mock_rng_seed(&r, 0);
    for (int i = 0; i < 10000; i++) {
        double u = mock_rng_uniform(&r);
        CHECK(u >= 0.0 && u < 1.0);
    }
}
