/* spec.h: a run spec, the declarative description of one benchmark.
 *
 * A spec is YAML (docs/specs.md), embedded in the binary (specs/NAME.yaml) or
 * read from a file (a ConfigMap mount). Loading it expands ${VAR} from the
 * environment, applies defaults and CLI overrides (--set key.path=value and
 * the named run options), looks the instance up in the price table and
 * validates everything; the result is a `struct spec` in which every value
 * is final. Later stages (plan, engine, stats, outputs, publish) only read it.
 *
 * Numbers that may be absent use 0 (or NULL) for "not set" where 0 is not a
 * meaningful value; the comments say so.
 */
#ifndef LLMSWEEP_SPEC_H
#define LLMSWEEP_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum api_kind {
    API_COMPLETIONS, /* POST /v1/completions, "prompt" */
    API_CHAT,        /* POST /v1/chat/completions, "messages" */
};

enum load_profile {
    PROFILE_CONCURRENT,  /* closed loop: exactly N requests in flight */
    PROFILE_SYNCHRONOUS, /* concurrent with N = 1 */
    PROFILE_THROUGHPUT,  /* as many in flight as the cap (levels[i]) allows */
    PROFILE_CONSTANT,    /* open loop: R requests/s, evenly spaced */
    PROFILE_POISSON,     /* open loop: R requests/s, exponential gaps */
    PROFILE_SWEEP,       /* synchronous, throughput, then K rates between */
};

enum publish_mode {
    PUBLISH_DESCRIPTION,
    PUBLISH_PROPERTIES,
    PUBLISH_BOTH,
};

/* Where a resolved value came from, for `validate`. */
enum value_source {
    FROM_DEFAULT,
    FROM_SPEC,
    FROM_TABLE,    /* the embedded instance price table */
    FROM_OVERRIDE, /* a command-line option or --set */
};

/* A token count drawn per request: mean, optionally spread. */
struct token_dist {
    int mean;  /* > 0 */
    int stdev; /* 0: every request gets exactly `mean` */
    int min;   /* 0: no lower bound beyond 1 */
    int max;   /* 0: no upper bound */
};

struct header {
    char *name;
    char *value;
};

struct spec {
    char *name;        /* "mistral-24b-quantized" */
    char *description; /* one line, for `llmsweep specs` */
    char *source;      /* "embedded:NAME" or the file path */

    /* The endpoint under test. */
    char *model;    /* served model name, as in /v1/models */
    char *endpoint; /* base URL ending in /v1, or "builtin" (in-process mock) */
    enum api_kind api;
    struct header *headers; /* extra request headers */
    size_t n_headers;
    char *extra_body; /* JSON object text merged into every request body, or NULL */
    char *api_key_env;  /* name of an environment variable holding the key, or NULL */
    char *api_key_file; /* file holding the key (read per run, never logged), or NULL */
    bool insecure;      /* skip TLS verification (warned) */
    char *ca_file;      /* extra CA for the endpoint, or NULL */

    /* Tokenizer: a Hugging Face repo (with revision) or a local path. */
    struct {
        char *repo;     /* "RedHatAI/Mistral-Small-24B-Instruct-2501-quantized.w4a16", or NULL */
        char *revision; /* NULL: "main" */
        char *path;     /* local tokenizer.json or folder, or NULL */
    } tokenizer;

    /* What serves the model, and what it costs. */
    struct {
        char *type;     /* "g6.4xlarge", or NULL */
        int gpu_count;  /* > 0 */
        char *gpu_type; /* "NVIDIA L4", or NULL */
        double hourly_usd; /* 0: unknown (no cost figures) */
        enum value_source price_from, gpu_count_from;
    } instance;

    struct {
        struct token_dist prompt_tokens;
        struct token_dist output_tokens;
        int shared_prefix_tokens; /* 0: none */
        char *dataset;            /* JSONL of prompts instead of synthetic ones, or NULL */
        uint64_t seed;
    } workload;

    struct {
        enum load_profile profile;
        double *levels; /* concurrencies (closed loop) or requests/s (open loop) */
        size_t n_levels;
        double duration_s;     /* per level, > 0 */
        uint64_t max_requests; /* per level; 0: no limit */
        double warmup;         /* seconds, or a fraction of the level when warmup_is_fraction */
        bool warmup_is_fraction;
        double cooldown;
        bool cooldown_is_fraction;
        double request_timeout_s; /* 0: none */
        double max_error_rate;    /* 0..1; abort a level above it; 1: never */
        int sweep_rates;          /* K rates for PROFILE_SWEEP */
        int workers;              /* engine threads, >= 1 */
    } load;

    struct {
        char *dir;            /* where results go */
        bool json, csv, html, summary;
        bool records_inline;  /* per-request records inside benchmarks.json */
    } outputs;

    struct {
        char *url;     /* Model Registry base URL, or NULL */
        char *model;   /* registered model name */
        char *version; /* model version name */
        enum publish_mode mode;
        char *token_file;
        char *ca_file;
    } registry;

    /* Service-level objectives; 0: not set. */
    struct {
        double ttft_ms;
        double itl_ms;
        double tpot_ms;
        double latency_s;
    } slo;
};

void spec_free(struct spec *spec);

const char *api_kind_name(enum api_kind api);
const char *load_profile_name(enum load_profile profile);
bool load_profile_is_open_loop(enum load_profile profile);

#endif
