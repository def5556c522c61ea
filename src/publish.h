/* publish.h: benchmark results -> what the Model Registry shows.
 *
 * Pure functions (no I/O), so every rule here is unit-tested; `llmsweep
 * publish` (cmd_publish.c) adds the registry round trip around them:
 *
 *   results --publish_plan_make--> plan (chosen levels, their numbers, price)
 *   plan --publish_render_block-->      the summary block for humans
 *   plan --publish_render_properties--> typed customProperties for machines
 *   version's description + block --publish_merge_description--> new text
 *   version's customProperties + ours --publish_merge_properties--> new map
 *
 * Levels: by default the one whose measured mean concurrency is 5 +/- 1
 * (the closest; as the seed did), else the first; `--level N` picks the level
 * whose target (streams, or requests/s) is N, else whose measured mean
 * concurrency is closest to N within 10 % (at least +/- 1); `--level c5`,
 * `r2_5`, `throughput` name a level by label; `--level all` takes every
 * level (the seed keys then describe the default level, and each level also
 * gets `benchmark_level_<label>_*` keys).
 *
 * Numbers: the statistics of successful requests (GuideLLM's `successful`,
 * falling back to `total` when a file has no `successful`). Throughput is
 * total (prompt + output) tokens/s, the seed's "throughput"; output tokens/s
 * is published beside it. Cost per 1K tokens = hourly_usd /
 * (tokens_per_second * 3600) * 1000, for total and for output tokens.
 *
 * The summary block is keyed by the run id: lines
 *     [llmsweep benchmark RUN_ID]
 *     ...
 *     [/llmsweep benchmark RUN_ID]
 * Publishing the same run again replaces its block in place (and removes any
 * duplicate of it); another run's block is appended after the existing text;
 * all text outside llmsweep blocks stays byte for byte; at most `keep_blocks`
 * llmsweep blocks are kept (the oldest, i.e. first, others are dropped), so a
 * nightly pipeline does not grow the description forever. A begin line
 * without its end line is left alone as ordinary text.
 *
 * Properties: publish owns the keys in publish_owned_keys[] and every key
 * starting with PUBLISH_LEVEL_PREFIX. Merging keeps every other key as it
 * is, sets ours, and removes owned keys this publish does not set (a level
 * published last time but not now), so the map never mixes two runs. An
 * existing key equal to one of ours except for letter case is replaced by
 * ours (the registry's database compares keys case-insensitively).
 */
#ifndef LLMSWEEP_PUBLISH_H
#define LLMSWEEP_PUBLISH_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "results.h"
#include "util.h"

#define PUBLISH_BLOCK_BEGIN "[llmsweep benchmark "
#define PUBLISH_BLOCK_END "[/llmsweep benchmark "
#define PUBLISH_DEFAULT_KEEP_BLOCKS 5
#define PUBLISH_LEVEL_PREFIX "benchmark_level_"
#define PUBLISH_DEFAULT_CONCURRENCY 5.0 /* the seed's choice, +/- tolerance */
#define PUBLISH_DEFAULT_TOLERANCE 1.0
#define PUBLISH_INT32_MAX 2147483647LL /* the registry stores int_value in int(11) */

/* The fixed keys (the seed's and ours), NULL-terminated. */
extern const char *const publish_owned_keys[];

struct publish_pricing {
    const char *instance_type; /* NULL: unknown */
    int gpu_count;             /* 0: unknown */
    double hourly_usd;         /* 0: unknown, no cost figures */
};

enum {
    Q_P50,
    Q_P90,
    Q_P99,
    Q_COUNT
};

struct publish_level {
    size_t index;     /* in results->levels */
    char label[32];   /* "c5", "r2_5", "throughput", "l3": a property-key fragment */
    char title[64];   /* "concurrency 5", "rate 2.5/s", "throughput (max)" */
    double target;    /* streams or requests/s; 0: unknown */
    bool closed_loop; /* concurrent/synchronous: target is a concurrency */
    /* NAN when the file does not carry it */
    double concurrency_mean, requests_per_second, throughput_total, throughput_output;
    double ttft_ms[Q_COUNT], itl_ms[Q_COUNT], latency_s[Q_COUNT];
    double cost_per_1k_total, cost_per_1k_output;
    int64_t successful, errored, incomplete;
};

struct publish_plan {
    char *key;   /* the block key: the run id (or a stand-in, see plan_make) */
    char *date;  /* the run's start, "2026-11-28T05:39:12Z" */
    char *tool;  /* "llmsweep 0.1.0", "GuideLLM 0.8.1" */
    char *model; /* served model, or NULL */
    struct publish_pricing pricing;
    struct publish_level *levels;
    size_t n_levels;
    size_t primary; /* index into levels: what the seed's keys describe */
    bool all;       /* --level all */
};

/* Picks the levels (`level_arg` NULL: the default rule) and computes their
 * numbers and cost. err says what was wrong and which levels exist. */
bool publish_plan_make(const struct results *r, const char *level_arg,
                       const struct publish_pricing *pricing, struct publish_plan *plan,
                       struct buf *err);
void publish_plan_free(struct publish_plan *plan);

/* False (and why in err) when a chosen level has no successful request:
 * publishing zeros would mislead whoever reads the registry. */
bool publish_plan_has_successes(const struct publish_plan *plan, struct buf *err);

/* The summary block, marker lines included, no trailing newline. */
void publish_render_block(const struct publish_plan *plan, struct buf *out);
/* The customProperties this plan sets (an object of Metadata*Value). */
cJSON *publish_render_properties(const struct publish_plan *plan);

struct publish_merge_report {
    int replaced; /* our block was there and was replaced */
    int duplicates_removed;
    int pruned;             /* other llmsweep blocks dropped by keep_blocks */
    int set, removed, kept; /* properties */
};

/* The new description (a new string). keep_blocks 0: no limit. */
char *publish_merge_description(const char *old, const char *key, const char *block,
                                int keep_blocks, struct publish_merge_report *rep);
/* The full new map; `existing` may be NULL. */
cJSON *publish_merge_properties(const cJSON *existing, const cJSON *ours,
                                struct publish_merge_report *rep);
bool publish_key_is_owned(const char *key);

/* Typed values as the registry wants them. An integer outside int32 is
 * published as a double (the registry would reject it). */
cJSON *publish_value_double(double v);
cJSON *publish_value_int(int64_t v);
cJSON *publish_value_string(const char *s);

/* A block key as markers can hold it: no ']' or line breaks. */
void publish_sanitize_key(const char *in, struct buf *out);

#endif
