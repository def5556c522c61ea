#include "plan.h"

#include <stdlib.h>

struct level_plan plan_level(const struct spec *spec, enum load_profile profile, double target)
{
    double duration = spec->load.duration_s;
    struct level_plan level = {
        .profile = profile,
        .target = target,
        .duration_s = duration,
        .max_requests = spec->load.max_requests,
        .warmup_s = spec_warmup_seconds(spec),
        .cooldown_s = spec_cooldown_seconds(spec),
        .max_error_rate = spec->load.max_error_rate,
        .max_in_flight = PLAN_DEFAULT_MAX_IN_FLIGHT,
        .request_timeout_s = spec->load.request_timeout_s,
    };
    if (profile == PROFILE_SYNCHRONOUS)
        level.target = 1;
    if (profile == PROFILE_THROUGHPUT && level.target < 1)
        level.target = PLAN_DEFAULT_THROUGHPUT_STREAMS;
    return level;
}

size_t plan_levels(const struct spec *spec, struct level_plan **out)
{
    enum load_profile profile = spec->load.profile;
    if (profile == PROFILE_SWEEP) {
        *out = xcalloc(2, sizeof **out);
        double cap = spec->load.n_levels ? spec->load.levels[0] : 0;
        (*out)[0] = plan_level(spec, PROFILE_SYNCHRONOUS, 1);
        (*out)[1] = plan_level(spec, PROFILE_THROUGHPUT, cap);
        return 2;
    }
    if (profile == PROFILE_SYNCHRONOUS) {
        *out = xcalloc(1, sizeof **out);
        (*out)[0] = plan_level(spec, PROFILE_SYNCHRONOUS, 1);
        return 1;
    }
    size_t n = spec->load.n_levels;
    *out = xcalloc(n ? n : 1, sizeof **out);
    for (size_t i = 0; i < n; i++)
        (*out)[i] = plan_level(spec, profile, spec->load.levels[i]);
    return n;
}

size_t plan_sweep_rates(double sync_rate, double throughput_rate, int k, double *rates)
{
    if (k <= 0 || !(throughput_rate > sync_rate) || sync_rate <= 0)
        return 0;
    double step = (throughput_rate - sync_rate) / (k + 1);
    for (int i = 0; i < k; i++)
        rates[i] = sync_rate + step * (i + 1);
    return (size_t)k;
}
