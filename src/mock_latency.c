#include "mock_latency.h"

#include <math.h>

#include "util.h"

void mock_rng_seed(struct mock_rng *rng, uint64_t seed)
{
    rng->state = seed;
}

uint64_t mock_rng_next(struct mock_rng *rng)
{
    uint64_t z = (rng->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double mock_rng_uniform(struct mock_rng *rng)
{
    return (double)(mock_rng_next(rng) >> 11) * 0x1.0p-53;
}

double mock_rng_normal(struct mock_rng *rng)
{
    /* One of the Box-Muller pair is thrown away: simpler than caching the
     * second and keeps every call the same number of draws. */
    double u1 = 1.0 - mock_rng_uniform(rng); /* (0, 1]: log() stays finite */
    double u2 = mock_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double mock_load_factor(const struct mock_latency *m, uint64_t active)
{
    if (m->load_knee == 0 || active <= m->load_knee)
        return 1.0;
    return 1.0 + m->load_slope * (double)(active - m->load_knee);
}

static int64_t to_ns(double ms, double jitter_ms, struct mock_rng *rng)
{
    if (jitter_ms > 0)
        ms += jitter_ms * mock_rng_normal(rng);
    return ms > 0 ? (int64_t)llround(ms * (double)NS_PER_MS) : 0;
}

int64_t mock_ttft_ns(const struct mock_latency *m, uint64_t prompt_tokens, uint64_t active,
                     struct mock_rng *rng)
{
    double ms = (m->ttft_ms + m->prefill_ms_per_token * (double)prompt_tokens) *
                mock_load_factor(m, active);
    return to_ns(ms, m->ttft_jitter_ms, rng);
}

int64_t mock_itl_ns(const struct mock_latency *m, uint64_t active, struct mock_rng *rng)
{
    return to_ns(m->itl_ms * mock_load_factor(m, active), m->itl_jitter_ms, rng);
}
