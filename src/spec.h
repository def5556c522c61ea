/* spec.h: a run spec, the declarative description of one benchmark.
 *
 * A spec is YAML (specs/README.md has the format, every field and an
 * annotated example), embedded in the binary (specs/NAME.yaml) or read from
 * a file (a ConfigMap mount). spec_load() reads it, expands ${VAR} from the
 * environment in text fields, applies CLI overrides (the named `run`
 * options and --set key.path=value), fills in defaults, looks the instance
 * up in the price table (prices.h) and validates everything; the result is a
 * `struct spec` in which every value is final. Later stages (plan, engine,
 * stats, outputs, publish) only read it.
 *
 * Numbers that may be absent use 0 (or NULL) for "not set" where 0 is not a
 * meaningful value; the comments say so.
 *
 * Bad input gives one line in `err` and EXIT_USAGE, in the form
 *   FILE:LINE:COLUMN: FIELD: what is wrong (how to fix it)
 * or, for an override, "--duration: ..." / "--set load.duration: ...".
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
    char *extra_body;   /* JSON object text merged into every request body, or NULL */
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
        char *type;        /* "g6.4xlarge", or NULL */
        int gpu_count;     /* > 0 */
        char *gpu_type;    /* "NVIDIA L4", or NULL */
        double hourly_usd; /* 0: unknown (no cost figures) */
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
        /* One entry per level, by profile:
         *   concurrent         concurrencies, whole numbers >= 1
         *   constant, poisson  requests/s, > 0 (no default: the spec must say)
         *   throughput         in-flight caps, whole numbers >= 1; {0} (one
         *                      uncapped level) when the spec sets none
         *   synchronous        {1}
         *   sweep              empty, or {cap} for its throughput step */
        double *levels;
        size_t n_levels;
        double duration_s;     /* per level, > 0 */
        uint64_t max_requests; /* per level; 0: no limit */
        /* Warm-up and cool-down are the first and last part of each level's
         * duration_s, excluded from the statistics (GuideLLM's meaning):
         * seconds, or a fraction of duration_s when *_is_fraction. Together
         * they always leave part of the level measured. */
        double warmup;
        bool warmup_is_fraction;
        double cooldown;
        bool cooldown_is_fraction;
        double request_timeout_s; /* 0: none */
        double max_error_rate;    /* 0..1; abort a level above it; 1: never */
        int sweep_rates;          /* K rates for PROFILE_SWEEP */
        int workers;              /* engine threads, >= 1 */
    } load;

    struct {
        char *dir; /* where results go */
        bool json, csv, html, summary;
        bool records_inline; /* per-request records inside benchmarks.json */
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

    /* Where every resolved field came from (for `validate` and the results'
     * metadata), in the order of the field table. */
    struct spec_origin *origins;
    size_t n_origins;
};

struct spec_origin {
    const char *path; /* "load.duration" (static) */
    enum value_source from;
    char *where; /* "FILE:12", "--duration", "--set", "instance-prices.yaml, TYPE", or NULL */
};

/* One command-line override, applied on top of the YAML in the order given
 * (the last one for a path wins). `origin` names the option for messages:
 * {"load.duration", "2m", "--duration"} or {"load.duration", "2m", "--set"}.
 * An empty value clears the field back to its default. */
struct spec_override {
    const char *path;
    const char *value;
    const char *origin;
};

/* Loads a spec: the embedded spec `name`, or the YAML file `file`, or (both
 * NULL) nothing but defaults and overrides. Returns EXIT_OK with *out
 * filled (free with spec_free), or EXIT_USAGE with one line in err. */
int spec_load(const char *name, const char *file, const struct spec_override *overrides,
              size_t n_overrides, struct spec *out, struct buf *err);
/* The same from YAML text; `label` names it in messages and in spec.source. */
int spec_load_text(const char *label, const char *text, size_t len,
                   const struct spec_override *overrides, size_t n_overrides, struct spec *out,
                   struct buf *err);

void spec_free(struct spec *spec);

/* How a command-line argument names a spec: one with a '/', ending in
 * .yaml/.yml, or naming an existing file is a file; anything else is an
 * embedded spec's name. */
bool spec_arg_is_file(const char *arg);

/* The `description` of a spec as written (no ${VAR} expansion, no checks),
 * for listings; NULL if it has none or does not parse. Owned. */
char *spec_peek_description(const char *text, size_t len);

/* Renders what `validate` prints: every resolved field with where it came
 * from, the levels with their durations, the expected total time and the
 * instance price used. */
void spec_render_plan(const struct spec *spec, struct buf *out);

/* Seconds one level takes (its warm-up and cool-down are part of it), the number of
 * levels the plan runs (a sweep: synchronous, throughput, then sweep_rates
 * rates), and their product, the expected total time at most. */
double spec_level_seconds(const struct spec *spec);
size_t spec_level_count(const struct spec *spec);
double spec_total_seconds(const struct spec *spec);
/* Warm-up and cool-down in seconds (a fraction taken of load.duration). */
double spec_warmup_seconds(const struct spec *spec);
double spec_cooldown_seconds(const struct spec *spec);
/* Seconds as a spec writes them: "90s", "2m", "1h", "2.5s"; longer
 * odd values as "8m 20s". */
void spec_format_duration(struct buf *out, double seconds);

/* --- overrides from the command line ------------------------------------ */

/* The named `run` options that set a spec field, and the path each sets:
 * --endpoint endpoint, --model model, --api api, --profile load.profile,
 * --levels load.levels, --duration load.duration, --max-requests
 * load.max_requests, --prompt-tokens workload.prompt_tokens,
 * --output-tokens workload.output_tokens, --tokenizer tokenizer (a local
 * file or folder sets tokenizer.path, anything else tokenizer.repo),
 * --output-dir outputs.dir, --workers load.workers. Ends with {0}. */
struct spec_option {
    const char *option; /* without "--" */
    const char *path;
    const char *origin; /* "--endpoint" */
};
extern const struct spec_option spec_options[];

/* The spec options as `struct cli_option` initializers (cli.h), for the
 * option tables of `run` and `validate`, so their help text is written once:
 *   static const struct cli_option options[] = {{"spec", ...}, SPEC_CLI_OPTIONS, {0}}; */
/* clang-format off */
#define SPEC_CLI_OPTIONS                                                                           \
    {"endpoint", 0, "URL", "base URL ending in /v1, or builtin (the mock server)", false},         \
    {"model", 0, "NAME", "served model name, as in /v1/models", false},                            \
    {"api", 0, "chat|completions", "API to call (default chat)", false},                           \
    {"profile", 0, "PROFILE", "concurrent, synchronous, throughput, constant, poisson or sweep",   \
     false},                                                                                       \
    {"levels", 0, "LIST", "concurrencies or requests/s, e.g. 1,5,10,25", false},                   \
    {"duration", 0, "DURATION", "time per level, e.g. 120s or 2m", false},                         \
    {"max-requests", 0, "N", "end a level after N requests", false},                               \
    {"prompt-tokens", 0, "N", "prompt length in tokens", false},                                   \
    {"output-tokens", 0, "N", "output length in tokens", false},                                   \
    {"tokenizer", 0, "FILE|REPO", "local tokenizer.json, or Hub repo[@revision]", false},          \
    {"output-dir", 'o', "DIR", "where results go (default results)", false},                       \
    {"workers", 0, "N", "engine threads (default 1)", false},                                      \
    {"set", 0, "KEY.PATH=VALUE", "set any spec field (paths: specs/README.md)", true}
/* clang-format on */

/* Overrides collected from argv, in command-line order. */
struct spec_overrides {
    struct spec_override *items;
    size_t count;
    char **owned; /* paths split off --set arguments */
    size_t n_owned;
};
/* Adds --OPTION VALUE if OPTION is one of spec_options; false otherwise. */
bool spec_overrides_add_option(struct spec_overrides *o, const char *option, const char *value);
/* Adds "--set key.path=value" (`assignment` must outlive the overrides).
 * The path is checked by spec_load; false (and err) only if there is no '='. */
bool spec_overrides_add_set(struct spec_overrides *o, const char *assignment, struct buf *err);
/* Collects every spec option and --set of a parsed command line, in order
 * (other options are skipped). False with err on a malformed --set. */
struct cli_args;
bool spec_overrides_from_args(struct spec_overrides *o, const struct cli_args *args,
                              struct buf *err);
void spec_overrides_free(struct spec_overrides *o);

/* The field table: every path a spec has, in the order specs/README.md
 * lists them (--set accepts each but `headers`, and "tokenizer", the
 * shortcut --tokenizer uses), and each field's resolved value as text
 * (header values that may hold secrets are masked). */
size_t spec_field_count(void);
const char *spec_field_path(size_t i);
void spec_field_format(const struct spec *spec, size_t i, struct buf *out);
/* The origin of the field at `path`, or NULL. */
const struct spec_origin *spec_origin_of(const struct spec *spec, const char *path);

const char *api_kind_name(enum api_kind api);
const char *load_profile_name(enum load_profile profile);
/* constant and poisson: levels are request rates and latency is also
 * measured from the intended send time. A sweep mixes both kinds. */
bool load_profile_is_open_loop(enum load_profile profile);
const char *publish_mode_name(enum publish_mode mode);
const char *value_source_name(enum value_source from);

#endif
