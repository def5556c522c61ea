/* mock_latency.h: when the mock server sends each token.
 *
 *   TTFT = (ttft_ms + prefill_ms_per_token x prompt_tokens) x load + jitter
 *   ITL  =  itl_ms x load + jitter                      (for every later token)
 *
 *   load    1 while at most load_knee generation requests are in flight,
 *           1 + load_slope x (active - load_knee) beyond the knee, so a sweep
 *           over concurrency shows a saturation curve; load_knee 0 turns the
 *           load model off. `active` counts the request being timed.
 *   jitter  Gaussian, mean 0, standard deviation ttft_jitter_ms/itl_jitter_ms;
 *           a delay never goes below 0 (the clamp is the only bias, and
 *           only when the deviation is comparable to the delay).
 *
 * Deterministic: the same seed and the same order of calls give the same
 * delays. The generator is SplitMix64 (tiny, fast, statistically sound for
 * this); normal deviates come from the Box-Muller transform.
 */
#ifndef LLMSWEEP_MOCK_LATENCY_H
#define LLMSWEEP_MOCK_LATENCY_H

#include <stdint.h>

struct mock_rng {
    uint64_t state;
};

void mock_rng_seed(struct mock_rng *rng, uint64_t seed);
uint64_t mock_rng_next(struct mock_rng *rng);
double mock_rng_uniform(struct mock_rng *rng); /* [0, 1) */
double mock_rng_normal(struct mock_rng *rng);  /* mean 0, standard deviation 1 */

struct mock_latency {
    double ttft_ms;
    double prefill_ms_per_token;
    double itl_ms;
    double ttft_jitter_ms;
    double itl_jitter_ms;
    uint64_t load_knee;
    double load_slope;
};

double mock_load_factor(const struct mock_latency *m, uint64_t active);
int64_t mock_ttft_ns(const struct mock_latency *m, uint64_t prompt_tokens, uint64_t active,
                     struct mock_rng *rng);
int64_t mock_itl_ns(const struct mock_latency *m, uint64_t active, struct mock_rng *rng);

#endif
