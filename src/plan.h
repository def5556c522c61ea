/* plan.h: from a spec's `load` section to the concrete levels the engine runs.
 *
 * Each level is one load profile at one target for one duration. A `sweep`
 * cannot be planned up front: it runs synchronous and throughput first,
 * then constant rates between the two rates they achieved
 * (plan_sweep_rates), as GuideLLM does.
 */
#ifndef LLMSWEEP_PLAN_H
#define LLMSWEEP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "spec.h"

/* Open-loop levels never have more than this many requests in flight
 * unless the spec says otherwise; beyond it, arrivals wait (and the wait
 * shows in the send lag and the latency from the intended send time). */
#define PLAN_DEFAULT_MAX_IN_FLIGHT 4096
/* A `throughput` level or a sweep's throughput step without a cap. */
#define PLAN_DEFAULT_THROUGHPUT_STREAMS 256
/* Errors are judged against max_error_rate only after this many requests
 * completed, so two early failures do not abort a level. */
#define PLAN_MIN_REQUESTS_FOR_ERROR_RATE 20

struct level_plan {
    enum load_profile profile; /* never PROFILE_SWEEP */
    double target;             /* streams (closed loop) or requests/s (open loop) */
    double duration_s;
    uint64_t max_requests;    /* 0: no limit */
    double warmup_s;          /* excluded from the statistics at the start */
    double cooldown_s;        /* ... and at the end */
    double max_error_rate;    /* 0..1; 1: never abort */
    uint32_t max_in_flight;   /* open loop only */
    double request_timeout_s; /* 0: none */
};

/* The levels of a spec that is not a sweep (a sweep yields its first two
 * steps: synchronous and throughput). Returns the count; *out is owned. */
size_t plan_levels(const struct spec *spec, struct level_plan **out);

/* The constant rates of a sweep: k rates evenly spaced strictly between the
 * synchronous and the throughput rate (requests/s). Returns the count. */
size_t plan_sweep_rates(double sync_rate, double throughput_rate, int k, double *rates);

/* One level at a given profile and target, with the spec's other settings. */
struct level_plan plan_level(const struct spec *spec, enum load_profile profile, double target);

#endif
