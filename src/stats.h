/* stats.h: per-request records (record.h) -> the numbers in results.h.
 *
 * stats_compute() fills one `struct level_summary` per level of a run. Every
 * metric is split the GuideLLM way into successful / errored / incomplete /
 * total, and every split is a `struct distribution` computed exactly as
 * GuideLLM 0.8.1 computes its DistributionSummary, so the two tools give the
 * same numbers for the same samples:
 *
 *   - samples carry weights; equal values are merged, zero weights dropped,
 *     the weights normalised to probabilities;
 *   - percentile q is the smallest value whose cumulative probability reaches
 *     q (no interpolation); median = p50; mode = the most probable value
 *     (the smallest on ties); variance is the weighted population variance;
 *     count = the sum of the weights (rounded), total_sum = mean * count;
 *   - sums use numpy's pairwise summation, so results agree to the last bit.
 *
 * What goes in (all times CLOCK_MONOTONIC, converted to seconds):
 *
 *   per request, measured records only (warmup and cooldown excluded):
 *     request_latency          end - send, seconds
 *     time_to_first_token_ms   first token - send
 *     inter_token_latency_ms   (last token - first token) / (output - 1),
 *                              weighted by output - 1 (GuideLLM's ITL)
 *     time_per_output_token_ms (latency - TTFT) / (output - 1), one per request
 *                              (vLLM's TPOT; GuideLLM's differs, see below)
 *     inter_chunk_latency_ms   every gap between consecutive content chunks
 *                              (vLLM's ITL), one sample per gap
 *     prompt/output/total_token_count, where the count is known (a request
 *                              with unknown counts is left out, not counted 0)
 *     open-loop levels only:   request_scheduled_latency = end - intended
 *                              send (seconds), send_lag_ms = send - intended
 *
 *   over the measured window [measure_start, measure_end] of the level, from
 *   every record whose event falls inside it (GuideLLM's definition: a
 *   request sent during warmup that completes inside the window counts its
 *   completion and the tokens it delivers inside the window):
 *     requests_per_second      request ends; mean = ends in window / window
 *     output_tokens_per_second first chunk = 1 token, the other output - 1
 *                              tokens spread evenly over the later chunks at
 *                              their real arrival times (GuideLLM spreads them
 *                              over a linspace between first and last token)
 *     prompt_tokens_per_second the prompt's tokens at the first token
 *     tokens_per_second        both
 *     request_concurrency      requests in flight (send .. end), weighted by
 *                              time; mean = time-weighted mean concurrency
 *   A rate's distribution is GuideLLM's: each event's local rate (its tokens
 *   over the time between the midpoints to its neighbours), weighted by that
 *   time; events closer than 0.1 ms are merged first.
 *
 * Goodput (spec SLOs set): a successful request is good when it meets every
 * SLO given (TTFT, ITL, TPOT, latency; an SLO on a value the request does not
 * have, such as ITL of a one-token answer, does not count against it).
 * goodput_requests counts good measured requests, goodput_determined the
 * measured successful + errored ones (errors count as misses, as in
 * GuideLLM); the goodput rates use the window like requests_per_second.
 *
 * Cost per 1K tokens = hourly_usd / (tokens/s * 3600) * 1000, over the
 * successful output tokens/s and successful prompt+output tokens/s.
 *
 * Differences from GuideLLM 0.8.1, on purpose:
 *   - time_per_output_token_ms is vLLM's TPOT (DESIGN.md); GuideLLM's is
 *     (last token - start) / output tokens, TTFT included;
 *   - unknown token counts are left out instead of counted as 0;
 *   - token rate events use real chunk times instead of a linspace.
 */
#ifndef LLMSWEEP_STATS_H
#define LLMSWEEP_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h"
#include "results.h"

/* One observation and its weight (1 for plain samples). */
struct weighted {
    double value;
    double weight;
};

/* A time interval [start, end] with a weight, for concurrency. */
struct interval {
    double start, end;
    double weight;
};

/* GuideLLM's DistributionSummary.from_values. `samples` is overwritten
 * (sorted, then merged in place).
 * count < 0: the count is the rounded sum of the weights. */
void distribution_of(struct weighted *samples, size_t n, double count, struct distribution *out);

/* GuideLLM's rate_distribution_from_timings: `events` are (time in seconds,
 * occurrences); only those in [start, end] count. `events` is reordered. */
void distribution_of_rate(struct weighted *events, size_t n, double start, double end,
                          struct distribution *out);

/* GuideLLM's concurrency_distribution_from_timings over [start, end]. */
void distribution_of_concurrency(const struct interval *intervals, size_t n, double start,
                                 double end, struct distribution *out);

/* Sorts by value (ties in any order). */
void sort_by_value(struct weighted *samples, size_t n);

/* numpy's pairwise sum (np.sum of a float64 array), bit for bit. */
double pairwise_sum(const double *values, size_t n);

/* Every statistic of every level of `run` into `out` (labels from run->spec,
 * which may be NULL). `out` is overwritten; free it with results_free(). */
void stats_compute(const struct run *run, struct results *out);

#endif
