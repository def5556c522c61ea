/* Loading a run spec: YAML -> text per field -> overrides -> typed values.
 *
 * libcyaml loads the YAML into `struct raw_spec`, in which every leaf is
 * text. Overrides from the command line are text too, so one converter per
 * field kind checks both the same way and says where a bad value came from
 * (FILE:LINE:COLUMN from yamlload's positions, or the option's name). The
 * field table below is the single list of paths: it drives conversion,
 * --set, defaults, provenance and `validate`'s listing. */
#include <cJSON.h>
#include <ctype.h>
#include <cyaml/cyaml.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "embedded.h"
#include "envexpand.h"
#include "prices.h"
#include "spec.h"
#include "yamlload.h"

#define MAX_LEVELS 1000
#define MAX_HEADERS 64
#define MAX_CONCURRENCY 100000
#define MAX_RATE 1e6
#define MAX_TOKENS 1000000
#define MAX_DURATION_S (7 * 24 * 3600.0)
#define MAX_WORKERS 64 /* engine.h: ENGINE_MAX_WORKERS */
#define MAX_GPUS 1024

/* --- the YAML as libcyaml loads it: every leaf is text -------------------- */

struct raw_header {
    char *name;
    char *value;
};

struct raw_tokenizer {
    char *repo, *revision, *path;
};

struct raw_instance {
    char *type, *gpu_count, *gpu_type, *hourly_usd;
};

struct raw_workload {
    char *prompt_tokens, *prompt_tokens_stdev, *prompt_tokens_min, *prompt_tokens_max;
    char *output_tokens, *output_tokens_stdev, *output_tokens_min, *output_tokens_max;
    char *shared_prefix_tokens, *dataset, *seed;
};

struct raw_load {
    char *profile;
    char **levels;
    unsigned levels_count;
    char *duration, *max_requests, *warmup, *cooldown, *request_timeout, *max_error_rate;
    char *sweep_rates, *workers;
};

struct raw_outputs {
    char *dir;
    char **formats;
    unsigned formats_count;
    char *records_inline;
};

struct raw_registry {
    char *url, *model, *version, *mode, *token_file, *ca_file;
};

struct raw_slo {
    char *ttft_ms, *itl_ms, *tpot_ms, *latency_s;
};

struct raw_spec {
    char *name, *description, *model, *endpoint, *api;
    struct raw_header *headers;
    unsigned headers_count;
    char *api_key_env, *api_key_file, *insecure, *ca_file;
    struct raw_tokenizer *tokenizer;
    struct raw_instance *instance;
    struct raw_workload *workload;
    struct raw_load *load;
    struct raw_outputs *outputs;
    struct raw_registry *registry;
    struct raw_slo *slo;
};

/* Absent, `key:`, `key: ~` and `key: null` all mean "not set". */
#define OPT (CYAML_FLAG_OPTIONAL | CYAML_FLAG_POINTER_NULL_STR)
#define TEXT(key, type, member) CYAML_FIELD_STRING_PTR(key, OPT, type, member, 0, CYAML_UNLIMITED)
#define LIST(key, type, member, max)                                                               \
    CYAML_FIELD_SEQUENCE(key, OPT, type, member, &text_entry, 0, max)
#define SECTION(key, member, fields)                                                               \
    CYAML_FIELD_MAPPING_PTR(key, OPT, struct raw_spec, member, fields)

static const cyaml_schema_value_t text_entry = {
    CYAML_VALUE_STRING(CYAML_FLAG_POINTER, char, 0, CYAML_UNLIMITED),
};

static const cyaml_schema_field_t header_fields[] = {
    CYAML_FIELD_STRING_PTR("name", CYAML_FLAG_POINTER, struct raw_header, name, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("value", CYAML_FLAG_POINTER, struct raw_header, value, 0,
                           CYAML_UNLIMITED),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t header_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct raw_header, header_fields),
};

static const cyaml_schema_field_t tokenizer_fields[] = {
    TEXT("repo", struct raw_tokenizer, repo),
    TEXT("revision", struct raw_tokenizer, revision),
    TEXT("path", struct raw_tokenizer, path),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t instance_fields[] = {
    TEXT("type", struct raw_instance, type),
    TEXT("gpu_count", struct raw_instance, gpu_count),
    TEXT("gpu_type", struct raw_instance, gpu_type),
    TEXT("hourly_usd", struct raw_instance, hourly_usd),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t workload_fields[] = {
    TEXT("prompt_tokens", struct raw_workload, prompt_tokens),
    TEXT("prompt_tokens_stdev", struct raw_workload, prompt_tokens_stdev),
    TEXT("prompt_tokens_min", struct raw_workload, prompt_tokens_min),
    TEXT("prompt_tokens_max", struct raw_workload, prompt_tokens_max),
    TEXT("output_tokens", struct raw_workload, output_tokens),
    TEXT("output_tokens_stdev", struct raw_workload, output_tokens_stdev),
    TEXT("output_tokens_min", struct raw_workload, output_tokens_min),
    TEXT("output_tokens_max", struct raw_workload, output_tokens_max),
    TEXT("shared_prefix_tokens", struct raw_workload, shared_prefix_tokens),
    TEXT("dataset", struct raw_workload, dataset),
    TEXT("seed", struct raw_workload, seed),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t load_fields[] = {
    TEXT("profile", struct raw_load, profile),
    LIST("levels", struct raw_load, levels, MAX_LEVELS),
    TEXT("duration", struct raw_load, duration),
    TEXT("max_requests", struct raw_load, max_requests),
    TEXT("warmup", struct raw_load, warmup),
    TEXT("cooldown", struct raw_load, cooldown),
    TEXT("request_timeout", struct raw_load, request_timeout),
    TEXT("max_error_rate", struct raw_load, max_error_rate),
    TEXT("sweep_rates", struct raw_load, sweep_rates),
    TEXT("workers", struct raw_load, workers),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t outputs_fields[] = {
    TEXT("dir", struct raw_outputs, dir),
    LIST("formats", struct raw_outputs, formats, 16),
    TEXT("records_inline", struct raw_outputs, records_inline),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t registry_fields[] = {
    TEXT("url", struct raw_registry, url),
    TEXT("model", struct raw_registry, model),
    TEXT("version", struct raw_registry, version),
    TEXT("mode", struct raw_registry, mode),
    TEXT("token_file", struct raw_registry, token_file),
    TEXT("ca_file", struct raw_registry, ca_file),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t slo_fields[] = {
    TEXT("ttft_ms", struct raw_slo, ttft_ms),
    TEXT("itl_ms", struct raw_slo, itl_ms),
    TEXT("tpot_ms", struct raw_slo, tpot_ms),
    TEXT("latency_s", struct raw_slo, latency_s),
    CYAML_FIELD_END,
};

static const cyaml_schema_field_t spec_fields[] = {
    TEXT("name", struct raw_spec, name),
    TEXT("description", struct raw_spec, description),
    TEXT("model", struct raw_spec, model),
    TEXT("endpoint", struct raw_spec, endpoint),
    TEXT("api", struct raw_spec, api),
    CYAML_FIELD_SEQUENCE("headers", OPT, struct raw_spec, headers, &header_entry, 0, MAX_HEADERS),
    CYAML_FIELD_IGNORE("extra_body", CYAML_FLAG_OPTIONAL),
    TEXT("api_key_env", struct raw_spec, api_key_env),
    TEXT("api_key_file", struct raw_spec, api_key_file),
    TEXT("insecure", struct raw_spec, insecure),
    TEXT("ca_file", struct raw_spec, ca_file),
    SECTION("tokenizer", tokenizer, tokenizer_fields),
    SECTION("instance", instance, instance_fields),
    SECTION("workload", workload, workload_fields),
    SECTION("load", load, load_fields),
    SECTION("outputs", outputs, outputs_fields),
    SECTION("registry", registry, registry_fields),
    SECTION("slo", slo, slo_fields),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t spec_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct raw_spec, spec_fields),
};

/* --- the field table -------------------------------------------------------- */

enum kind {
    K_TEXT,     /* text, ${VAR} expanded; empty after expansion = not set */
    K_ENDPOINT, /* K_TEXT that is "builtin" or an http(s) URL ending in /v1 */
    K_URL,      /* K_TEXT that is an http(s) URL */
    K_ENVNAME,  /* the name of an environment variable that must be set */
    K_ENUM,     /* one of `names`, stored as its index */
    K_BOOL,
    K_INT,      /* whole number in [min, max], stored as int */
    K_U64,      /* whole number, stored as uint64_t */
    K_NUMBER,   /* decimal number in range, stored as double */
    K_DURATION, /* 120s, 2m, 1.5h, 250ms or seconds, stored as double seconds */
    K_WINDOW,   /* a K_DURATION or a percentage of load.duration ("10%") */
    K_LEVELS,   /* list of numbers, checked against load.profile */
    K_FORMATS,  /* list of output formats */
    K_JSON,     /* a JSON object (YAML mapping, or JSON text) */
    K_HEADERS,  /* list of {name, value}; YAML only */
};

#define NONE ((size_t)-1)

struct field {
    const char *path;
    enum kind kind;
    size_t section;       /* offsetof(struct raw_spec, SECTION), or NONE for top-level keys */
    size_t raw;           /* offset of the text (or list) within that section */
    size_t raw_count;     /* lists: offset of the entry count */
    size_t dest;          /* offsetof(struct spec, ...) */
    size_t dest_flag;     /* K_WINDOW: the bool "is a fraction" */
    const char *fallback; /* the default as text, or NULL: not set */
    double min, max;
    bool above_min; /* min is exclusive */
    const char *const *names;
    const char *example; /* how a right value looks, for messages */
};

static const char *const api_names[] = {"completions", "chat", NULL};
static const char *const profile_names[] = {"concurrent", "synchronous", "throughput", "constant",
                                            "poisson",    "sweep",       NULL};
static const char *const mode_names[] = {"description", "properties", "both", NULL};
static const char *const format_names[] = {"json", "csv", "html", "summary", NULL};

#define TOP(member) .section = NONE, .raw = offsetof(struct raw_spec, member)
#define IN(sec, member)                                                                            \
    .section = offsetof(struct raw_spec, sec), .raw = offsetof(struct raw_##sec, member)
#define TO(member) .dest = offsetof(struct spec, member)
#define TOKENS(label, member, sec_member, lo, dflt)                                                \
    {                                                                                              \
        "workload." label, K_INT, IN(workload, sec_member), TO(workload.member),                   \
            .fallback = dflt, .min = lo, .max = MAX_TOKENS, .example = "a token count such as 512" \
    }

static const struct field fields[] = {
    {"name", K_TEXT, TOP(name), TO(name)},
    {"description", K_TEXT, TOP(description), TO(description)},
    {"model", K_TEXT, TOP(model), TO(model)},
    {"endpoint", K_ENDPOINT, TOP(endpoint), TO(endpoint),
     .example = "https://HOST/v1, or builtin for the built-in mock server"},
    {"api", K_ENUM, TOP(api), TO(api), .fallback = "chat", .names = api_names},
    {"headers", K_HEADERS, TOP(headers), .raw_count = offsetof(struct raw_spec, headers_count)},
    {"extra_body", K_JSON, .section = NONE, TO(extra_body),
     .example = "a mapping such as {temperature: 0}"},
    {"api_key_env", K_ENVNAME, TOP(api_key_env), TO(api_key_env)},
    {"api_key_file", K_TEXT, TOP(api_key_file), TO(api_key_file)},
    {"insecure", K_BOOL, TOP(insecure), TO(insecure), .fallback = "false"},
    {"ca_file", K_TEXT, TOP(ca_file), TO(ca_file)},
    {"tokenizer.repo", K_TEXT, IN(tokenizer, repo), TO(tokenizer.repo)},
    {"tokenizer.revision", K_TEXT, IN(tokenizer, revision), TO(tokenizer.revision)},
    {"tokenizer.path", K_TEXT, IN(tokenizer, path), TO(tokenizer.path)},
    {"instance.type", K_TEXT, IN(instance, type), TO(instance.type)},
    {"instance.gpu_count", K_INT, IN(instance, gpu_count), TO(instance.gpu_count), .fallback = "1",
     .min = 1, .max = MAX_GPUS, .example = "a GPU count such as 4"},
    {"instance.gpu_type", K_TEXT, IN(instance, gpu_type), TO(instance.gpu_type)},
    {"instance.hourly_usd", K_NUMBER, IN(instance, hourly_usd), TO(instance.hourly_usd), .min = 0,
     .above_min = true, .max = 1e5, .example = "US dollars per hour such as 1.3232"},
    TOKENS("prompt_tokens", prompt_tokens.mean, prompt_tokens, 1, "512"),
    TOKENS("prompt_tokens_stdev", prompt_tokens.stdev, prompt_tokens_stdev, 0, "0"),
    TOKENS("prompt_tokens_min", prompt_tokens.min, prompt_tokens_min, 0, "0"),
    TOKENS("prompt_tokens_max", prompt_tokens.max, prompt_tokens_max, 0, "0"),
    TOKENS("output_tokens", output_tokens.mean, output_tokens, 1, "256"),
    TOKENS("output_tokens_stdev", output_tokens.stdev, output_tokens_stdev, 0, "0"),
    TOKENS("output_tokens_min", output_tokens.min, output_tokens_min, 0, "0"),
    TOKENS("output_tokens_max", output_tokens.max, output_tokens_max, 0, "0"),
    TOKENS("shared_prefix_tokens", shared_prefix_tokens, shared_prefix_tokens, 0, "0"),
    {"workload.dataset", K_TEXT, IN(workload, dataset), TO(workload.dataset)},
    {"workload.seed", K_U64, IN(workload, seed), TO(workload.seed), .fallback = "42", .min = 0,
     .max = 1.8e19, .example = "a whole number"},
    {"load.profile", K_ENUM, IN(load, profile), TO(load.profile), .fallback = "concurrent",
     .names = profile_names},
    {"load.levels", K_LEVELS, IN(load, levels),
     .raw_count = offsetof(struct raw_load, levels_count)},
    {"load.duration", K_DURATION, IN(load, duration), TO(load.duration_s), .fallback = "120s",
     .min = 0, .above_min = true, .max = MAX_DURATION_S, .example = "120s, 2m or 90"},
    {"load.max_requests", K_U64, IN(load, max_requests), TO(load.max_requests), .fallback = "0",
     .min = 0, .max = 1e12, .example = "a request count, 0 for no limit"},
    {"load.warmup", K_WINDOW, IN(load, warmup), TO(load.warmup),
     .dest_flag = offsetof(struct spec, load.warmup_is_fraction), .fallback = "0", .min = 0,
     .max = MAX_DURATION_S, .example = "10s, or 10% of load.duration"},
    {"load.cooldown", K_WINDOW, IN(load, cooldown), TO(load.cooldown),
     .dest_flag = offsetof(struct spec, load.cooldown_is_fraction), .fallback = "0", .min = 0,
     .max = MAX_DURATION_S, .example = "10s, or 10% of load.duration"},
    {"load.request_timeout", K_DURATION, IN(load, request_timeout), TO(load.request_timeout_s),
     .fallback = "0", .min = 0, .max = MAX_DURATION_S, .example = "5m, or 0 for none"},
    {"load.max_error_rate", K_NUMBER, IN(load, max_error_rate), TO(load.max_error_rate),
     .fallback = "1", .min = 0, .max = 1, .example = "a fraction such as 0.1 (1: never abort)"},
    {"load.sweep_rates", K_INT, IN(load, sweep_rates), TO(load.sweep_rates), .fallback = "8",
     .min = 1, .max = 100, .example = "a count such as 8"},
    {"load.workers", K_INT, IN(load, workers), TO(load.workers), .fallback = "1", .min = 1,
     .max = MAX_WORKERS, .example = "a thread count such as 2"},
    {"outputs.dir", K_TEXT, IN(outputs, dir), TO(outputs.dir), .fallback = "results"},
    {"outputs.formats", K_FORMATS, IN(outputs, formats),
     .raw_count = offsetof(struct raw_outputs, formats_count), .fallback = "json,csv,html,summary",
     .names = format_names},
    {"outputs.records_inline", K_BOOL, IN(outputs, records_inline), TO(outputs.records_inline),
     .fallback = "false"},
    {"registry.url", K_URL, IN(registry, url), TO(registry.url)},
    {"registry.model", K_TEXT, IN(registry, model), TO(registry.model)},
    {"registry.version", K_TEXT, IN(registry, version), TO(registry.version)},
    {"registry.mode", K_ENUM, IN(registry, mode), TO(registry.mode), .fallback = "both",
     .names = mode_names},
    {"registry.token_file", K_TEXT, IN(registry, token_file), TO(registry.token_file)},
    {"registry.ca_file", K_TEXT, IN(registry, ca_file), TO(registry.ca_file)},
    {"slo.ttft_ms", K_NUMBER, IN(slo, ttft_ms), TO(slo.ttft_ms), .min = 0, .above_min = true,
     .max = 1e9, .example = "milliseconds such as 500"},
    {"slo.itl_ms", K_NUMBER, IN(slo, itl_ms), TO(slo.itl_ms), .min = 0, .above_min = true,
     .max = 1e9, .example = "milliseconds such as 50"},
    {"slo.tpot_ms", K_NUMBER, IN(slo, tpot_ms), TO(slo.tpot_ms), .min = 0, .above_min = true,
     .max = 1e9, .example = "milliseconds such as 50"},
    {"slo.latency_s", K_NUMBER, IN(slo, latency_s), TO(slo.latency_s), .min = 0, .above_min = true,
     .max = 1e7, .example = "seconds such as 10"},
};

#define N_FIELDS ARRAY_LEN(fields)

size_t spec_field_count(void)
{
    return N_FIELDS;
}

const char *spec_field_path(size_t i)
{
    return i < N_FIELDS ? fields[i].path : NULL;
}

/* --- loading state ---------------------------------------------------------- */

/* One field's value before conversion: where it came from and its text. */
struct value {
    bool present;
    const char *text;         /* scalars */
    const char *const *items; /* lists */
    size_t n_items;
    enum value_source from;
    const char *origin;             /* overrides: "--duration", "--set" */
    const struct yaml_position *at; /* YAML: where the value sits */
};

struct loader {
    const char *label;
    struct yaml_doc doc;
    struct raw_spec *raw;
    struct value values[N_FIELDS];
    struct spec *out;
    struct buf *err;
    bool failed;
    char **owned; /* texts made while loading (list items, table values) */
    size_t n_owned;
    struct price_table *prices;
    const struct instance_price *listed; /* instance.type in the price table */
    bool have_text;                      /* a spec was given (not only command-line options) */
};

static const char *keep(struct loader *L, char *text)
{
    L->owned = xrealloc(L->owned, (L->n_owned + 1) * sizeof *L->owned);
    L->owned[L->n_owned++] = text;
    return text;
}

static size_t field_index(const char *path)
{
    for (size_t i = 0; i < N_FIELDS; i++) {
        if (strcmp(fields[i].path, path) == 0)
            return i;
    }
    return NONE;
}

/* Writes "WHERE: PATH: " for a value: a YAML position, or the override. */
static void where(struct loader *L, const struct field *f, const struct value *v, size_t item)
{
    struct buf *e = L->err;
    if (v->from == FROM_SPEC) {
        const struct yaml_position *at = v->at;
        if (item != NONE) {
            char *path = xasprintf("%s[%zu]", f->path, item);
            const struct yaml_position *item_at = yaml_doc_position(&L->doc, path);
            free(path);
            if (item_at)
                at = item_at;
        }
        if (at)
            buf_printf(e, "%s:%d:%d: ", L->label, at->line, at->column);
        else
            buf_printf(e, "%s: ", L->label);
        buf_printf(e, "%s: ", f->path);
    } else if (v->from == FROM_OVERRIDE) {
        if (strcmp(v->origin, "--set") == 0)
            buf_printf(e, "--set %s: ", f->path);
        else
            buf_printf(e, "%s (%s): ", v->origin, f->path);
    } else {
        buf_printf(e, "%s (%s): ", f->path, value_source_name(v->from));
    }
}

static void fail(struct loader *L, const struct field *f, const struct value *v, size_t item,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void fail(struct loader *L, const struct field *f, const struct value *v, size_t item,
                 const char *fmt, ...)
{
    if (L->failed)
        return;
    L->failed = true;
    where(L, f, v, item);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(L->err, fmt, ap);
    va_end(ap);
}

/* A problem with the spec as a whole (a missing or conflicting field):
 * reported at the start of the document, or as the label alone. */
static void fail_spec(struct loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_spec(struct loader *L, const char *fmt, ...)
{
    if (L->failed)
        return;
    L->failed = true;
    /* the line a missing top-level key would go: the document's first */
    const struct yaml_position *root = yaml_doc_position(&L->doc, "");
    if (L->have_text)
        buf_printf(L->err, "%s:%d:%d: ", L->label, root ? root->line : 1, root ? root->column : 1);
    else
        buf_printf(L->err, "no spec given: ");
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(L->err, fmt, ap);
    va_end(ap);
}

/* --- from YAML and overrides to text values ---------------------------------- */

static void *raw_section(const struct loader *L, const struct field *f)
{
    if (!L->raw)
        return NULL;
    if (f->section == NONE)
        return L->raw;
    void *section;
    memcpy(&section, (const char *)L->raw + f->section, sizeof section);
    return section;
}

static void collect_yaml(struct loader *L)
{
    for (size_t i = 0; i < N_FIELDS; i++) {
        const struct field *f = &fields[i];
        struct value *v = &L->values[i];
        *v = (struct value){.from = FROM_DEFAULT};
        const struct yaml_position *at = yaml_doc_position(&L->doc, f->path);
        if (!at || at->null)
            continue;
        if (f->kind == K_JSON) {
            const char *json = yaml_doc_captured(&L->doc, f->path);
            if (!json || strcmp(json, "null") == 0)
                continue;
            v->text = json;
        } else {
            const char *section = raw_section(L, f);
            if (!section)
                continue;
            if (f->kind == K_LEVELS || f->kind == K_FORMATS) {
                char **items;
                unsigned count;
                memcpy(&items, section + f->raw, sizeof items);
                memcpy(&count, section + f->raw_count, sizeof count);
                v->items = (const char *const *)items;
                v->n_items = count;
            } else if (f->kind != K_HEADERS) {
                memcpy(&v->text, section + f->raw, sizeof v->text);
                if (!v->text)
                    continue;
            }
        }
        v->present = true;
        v->from = FROM_SPEC;
        v->at = at;
    }
}

/* "1,5,10", "1, 5, 10" or "[1, 5, 10]" -> items. */
static void split_list(struct loader *L, const char *text, struct value *v)
{
    size_t len = strlen(text);
    while (len && isspace((unsigned char)text[len - 1]))
        len--;
    while (len && isspace((unsigned char)*text))
        text++, len--;
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']')
        text++, len -= 2;
    const char **items = NULL;
    size_t n = 0;
    const char *p = text, *end = text + len;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        const char *a = p, *b = stop;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (b > a || comma || n) {
            items = xrealloc(items, (n + 1) * sizeof *items);
            items[n++] = keep(L, xstrndup(a, (size_t)(b - a)));
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    keep(L, (char *)items);
    v->items = items;
    v->n_items = n;
}

static void set_override(struct loader *L, size_t idx, const char *value, const char *origin)
{
    const struct field *f = &fields[idx];
    struct value *v = &L->values[idx];
    *v = (struct value){.from = FROM_OVERRIDE, .origin = origin};
    if (!*value) {
        v->from = FROM_DEFAULT; /* an empty override clears the field */
        return;
    }
    v->present = true;
    if (f->kind == K_LEVELS || f->kind == K_FORMATS)
        split_list(L, value, v);
    else
        v->text = value;
}

/* True if `value` names something on this machine rather than a Hub repo. */
static bool looks_local(const char *value)
{
    return value[0] == '/' || value[0] == '.' || value[0] == '~' || strstr(value, ".json") ||
           access(value, F_OK) == 0;
}

/* --tokenizer X: a local file or folder, or a Hub repo (REPO[@REVISION]). */
static void set_tokenizer(struct loader *L, const char *value, const char *origin)
{
    size_t repo = field_index("tokenizer.repo"), rev = field_index("tokenizer.revision"),
           path = field_index("tokenizer.path");
    set_override(L, repo, "", origin);
    set_override(L, rev, "", origin);
    set_override(L, path, "", origin);
    if (!*value)
        return;
    if (looks_local(value)) {
        set_override(L, path, value, origin);
        return;
    }
    const char *at = strchr(value, '@');
    if (at) {
        set_override(L, repo, keep(L, xstrndup(value, (size_t)(at - value))), origin);
        set_override(L, rev, at + 1, origin);
    } else {
        set_override(L, repo, value, origin);
    }
}

static bool apply_overrides(struct loader *L, const struct spec_override *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *origin = o[i].origin ? o[i].origin : "--set";
        const char *value = o[i].value ? o[i].value : "";
        if (strcmp(o[i].path, "tokenizer") == 0) {
            set_tokenizer(L, value, origin);
            continue;
        }
        size_t idx = field_index(o[i].path);
        if (idx != NONE && fields[idx].kind == K_HEADERS) {
            buf_printf(L->err, "%s %s: headers are a list of {name, value}; set them in the spec",
                       origin, o[i].path);
            return false;
        }
        if (idx == NONE) {
            const char *names[N_FIELDS + 2];
            for (size_t j = 0; j < N_FIELDS; j++)
                names[j] = fields[j].path;
            names[N_FIELDS] = "tokenizer";
            names[N_FIELDS + 1] = NULL;
            const char *near = closest_match(o[i].path, names);
            buf_printf(L->err, "%s %s: unknown spec field", origin, o[i].path);
            if (near)
                buf_printf(L->err, " (did you mean '%s'?)", near);
            else
                buf_puts(L->err, " (specs/README.md lists the fields)");
            return false;
        }
        set_override(L, idx, value, origin);
    }
    return true;
}

/* --- converters ------------------------------------------------------------------ */

static void store(void *base, size_t offset, const void *value, size_t size)
{
    memcpy((char *)base + offset, value, size);
}

/* ${VAR} expansion (envexpand.h); NULL (with the message) if it fails. */
static char *expand_env(struct loader *L, const struct field *f, const struct value *v, size_t item,
                        const char *text)
{
    char *out, *name;
    switch (env_expand(text, &out, &name)) {
    case ENV_OK: return out;
    case ENV_UNSET:
        fail(L, f, v, item,
             "environment variable %s is not set or empty (export %s=..., or write "
             "${%s:-default})",
             name, name, name);
        free(name);
        return NULL;
    case ENV_SYNTAX: break;
    }
    fail(L, f, v, item,
         "bad variable reference (write ${NAME} or ${NAME:-default}; $${ for a literal ${)");
    return NULL;
}

/* Parses a number and checks its range; `whole` also rejects fractions. */
static bool number_in_range(struct loader *L, const struct field *f, const struct value *v,
                            size_t item, const char *text, bool whole, double *out)
{
    double d;
    if (!parse_double(text, &d)) {
        fail(L, f, v, item, "'%.60s' is not a number (expected %s)", text,
             f->example ? f->example : "a number");
        return false;
    }
    if (f->above_min && !(d > f->min)) {
        if (f->min == 0)
            fail(L, f, v, item, "'%.60s' must be more than zero", text);
        else
            fail(L, f, v, item, "'%.60s' must be more than %g", text, f->min);
        return false;
    }
    if (!f->above_min && !(d >= f->min)) {
        fail(L, f, v, item, "'%.60s' must be at least %g", text, f->min);
        return false;
    }
    if (d > f->max) {
        fail(L, f, v, item, "'%.60s' must be at most %g", text, f->max);
        return false;
    }
    if (whole && floor(d) != d) {
        fail(L, f, v, item, "'%.60s' is not a whole number (expected %s)", text,
             f->example ? f->example : "a whole number");
        return false;
    }
    *out = d;
    return true;
}

static bool duration_in_range(struct loader *L, const struct field *f, const struct value *v,
                              const char *text, double *out)
{
    double s;
    if (!parse_duration(text, &s)) {
        double d;
        if (*text == '-' || (parse_double(text, &d) && d < 0))
            fail(L, f, v, NONE, "'%.60s' is negative (expected %s)", text, f->example);
        else
            fail(L, f, v, NONE, "'%.60s' is not a duration (expected %s)", text, f->example);
        return false;
    }
    if (f->above_min && !(s > 0)) {
        fail(L, f, v, NONE, "'%.60s' must be more than zero (expected %s)", text, f->example);
        return false;
    }
    if (s > f->max) {
        fail(L, f, v, NONE, "'%.60s' is longer than a week", text);
        return false;
    }
    *out = s;
    return true;
}

static bool convert_enum(struct loader *L, const struct field *f, const struct value *v,
                         const char *text, int *out)
{
    for (int i = 0; f->names[i]; i++) {
        if (strcmp(f->names[i], text) == 0) {
            *out = i;
            return true;
        }
    }
    fail(L, f, v, NONE, "'%.60s' is not one of:", text);
    for (int i = 0; f->names[i]; i++)
        buf_printf(L->err, "%s %s", i ? "," : "", f->names[i]);
    const char *near = closest_match(text, f->names);
    if (near)
        buf_printf(L->err, " (did you mean '%s'?)", near);
    return false;
}

static bool convert_bool(struct loader *L, const struct field *f, const struct value *v,
                         const char *text, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"};
    static const char *const no[] = {"false", "False", "FALSE"};
    for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
        if (strcmp(text, yes[i]) == 0 || strcmp(text, no[i]) == 0) {
            *out = strcmp(text, yes[i]) == 0;
            return true;
        }
    }
    fail(L, f, v, NONE, "'%.60s' is not true or false", text);
    return false;
}

static bool check_url(struct loader *L, const struct field *f, const struct value *v,
                      const char *url)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        fail(L, f, v, NONE, "'%.80s' is not an http:// or https:// URL%s%s", url,
             f->example ? " (expected " : "", f->example ? f->example : "");
        if (f->example)
            buf_putc(L->err, ')');
        return false;
    }
    return true;
}

/* "builtin", or an http(s) base URL ending in /v1 (a trailing / is dropped). */
static bool check_endpoint(struct loader *L, const struct field *f, const struct value *v,
                           char *url)
{
    if (strcmp(url, "builtin") == 0)
        return true;
    if (!check_url(L, f, v, url))
        return false;
    size_t len = strlen(url);
    while (len > 8 && url[len - 1] == '/')
        url[--len] = '\0';
    if (len < 3 || strcmp(url + len - 3, "/v1") != 0) {
        fail(L, f, v, NONE,
             "'%.80s' does not end in /v1 (give the OpenAI base URL, e.g. https://HOST/v1)", url);
        return false;
    }
    return true;
}

static bool check_env_name(struct loader *L, const struct field *f, const struct value *v,
                           const char *name)
{
    size_t len = env_name_length(name);
    if (!len || name[len]) {
        fail(L, f, v, NONE, "'%.60s' is not an environment variable name (such as OPENAI_API_KEY)",
             name);
        return false;
    }
    if (!getenv(name)) {
        fail(L, f, v, NONE, "environment variable %s is not set (export it before the run)", name);
        return false;
    }
    return true;
}

static bool convert_json(struct loader *L, const struct field *f, const struct value *v, char **out)
{
    cJSON *doc = cJSON_Parse(v->text);
    if (doc && cJSON_IsString(doc)) {
        /* extra_body: '{"temperature": 0}' - JSON written as a YAML string */
        cJSON *inner = cJSON_Parse(doc->valuestring);
        cJSON_Delete(doc);
        doc = inner;
    }
    if (!doc || !cJSON_IsObject(doc)) {
        fail(L, f, v, NONE, "must be a mapping of request fields (expected %s)", f->example);
        cJSON_Delete(doc);
        return false;
    }
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (!text) {
        fail(L, f, v, NONE, "out of memory");
        return false;
    }
    *out = xstrdup(text);
    cJSON_free(text);
    return true;
}

static bool convert_levels(struct loader *L, const struct field *f, const struct value *v)
{
    struct spec *s = L->out;
    enum load_profile profile = s->load.profile;
    static const char *const concurrent[] = {"1", "5", "10", "25"};
    static const char *const one[] = {"1"};
    static const char *const uncapped[] = {"0"};
    const char *const *items = v->items;
    size_t n = v->n_items;
    if (!v->present) {
        switch (profile) {
        case PROFILE_CONCURRENT: items = concurrent, n = ARRAY_LEN(concurrent); break;
        case PROFILE_SYNCHRONOUS: items = one, n = 1; break;
        case PROFILE_THROUGHPUT: items = uncapped, n = 1; break;
        case PROFILE_SWEEP: n = 0; break;
        case PROFILE_CONSTANT:
        case PROFILE_POISSON:
            fail_spec(L,
                      "load.levels is required for profile %s: the request rates to run, "
                      "e.g. [1, 2, 4] (requests/s)",
                      load_profile_name(profile));
            return false;
        }
    } else if (n == 0) {
        fail(L, f, v, NONE, "empty list; give at least one level, e.g. [1, 5, 10, 25]");
        return false;
    } else if (profile == PROFILE_SYNCHRONOUS) {
        items = one, n = 1; /* synchronous is concurrency 1 */
    } else if (profile == PROFILE_SWEEP && n > 1) {
        fail(L, f, v, NONE,
             "a sweep takes at most one level (the in-flight cap of its throughput step), "
             "not %zu",
             n);
        return false;
    }
    bool open = load_profile_is_open_loop(profile);
    struct field range = *f;
    range.min = 0;
    range.above_min = true;
    range.max = open ? MAX_RATE : MAX_CONCURRENCY;
    range.example = open ? "requests/s such as 2.5" : "a concurrency such as 10";
    s->load.levels = n ? xcalloc(n, sizeof *s->load.levels) : NULL;
    s->load.n_levels = n;
    for (size_t i = 0; i < n; i++) {
        if (!v->present && strcmp(items[i], "0") == 0)
            continue; /* throughput without a cap */
        if (!number_in_range(L, &range, v, i, items[i], !open, &s->load.levels[i]))
            return false;
    }
    return true;
}

static bool convert_formats(struct loader *L, const struct field *f, const struct value *v)
{
    struct spec *s = L->out;
    if (v->present && v->n_items == 0) {
        fail(L, f, v, NONE, "empty list; give at least one of json, csv, html, summary");
        return false;
    }
    for (size_t i = 0; i < v->n_items; i++) {
        const char *name = v->items[i];
        bool *flag = strcmp(name, "json") == 0      ? &s->outputs.json
                     : strcmp(name, "csv") == 0     ? &s->outputs.csv
                     : strcmp(name, "html") == 0    ? &s->outputs.html
                     : strcmp(name, "summary") == 0 ? &s->outputs.summary
                                                    : NULL;
        if (!flag) {
            const char *near = closest_match(name, f->names);
            fail(L, f, v, i, "'%.40s' is not one of: json, csv, html, summary%s%s%s", name,
                 near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
            return false;
        }
        *flag = true;
    }
    return true;
}

static bool convert_headers(struct loader *L, const struct field *f, const struct value *v)
{
    struct spec *s = L->out;
    if (!v->present || !L->raw || !L->raw->headers_count)
        return true;
    size_t n = L->raw->headers_count;
    s->headers = xcalloc(n, sizeof *s->headers);
    for (size_t i = 0; i < n; i++) {
        const struct raw_header *h = &L->raw->headers[i];
        bool token = *h->name != '\0';
        for (const char *p = h->name; token && *p; p++)
            token = isalnum((unsigned char)*p) || strchr("!#$%&'*+-.^_`|~", *p);
        if (!token) {
            fail(L, f, v, i, "'%.40s' is not a valid header name", h->name);
            return false;
        }
        /* A header value may hold a secret: never echo it. */
        char *value = expand_env(L, f, v, i, h->value);
        if (!value)
            return false;
        if (strpbrk(value, "\r\n")) {
            fail(L, f, v, i, "the value of %s contains a line break", h->name);
            free(value);
            return false;
        }
        s->headers[s->n_headers].name = xstrdup(h->name);
        s->headers[s->n_headers++].value = value;
    }
    return true;
}

/* Default text for an absent field: the price table's entry for the
 * instance, the spec's own name, or the field's fallback. */
static const char *default_text(struct loader *L, const struct field *f, enum value_source *from)
{
    *from = FROM_DEFAULT;
    if (L->listed && strncmp(f->path, "instance.", 9) == 0) {
        *from = FROM_TABLE;
        if (strcmp(f->path, "instance.gpu_count") == 0)
            return keep(L, xasprintf("%d", L->listed->gpu_count));
        if (strcmp(f->path, "instance.gpu_type") == 0)
            return L->listed->gpu_type;
        if (strcmp(f->path, "instance.hourly_usd") == 0)
            return keep(L, xasprintf("%.17g", L->listed->hourly_usd));
        *from = FROM_DEFAULT;
    }
    if (strcmp(f->path, "name") == 0 && L->have_text) {
        /* "embedded:demo" -> demo; "dir/my-run.v2.yaml" -> my-run.v2 */
        const char *label = L->out->source;
        const char *slash = strrchr(label, '/');
        const char *base = strncmp(label, "embedded:", 9) == 0 ? label + 9
                           : slash                             ? slash + 1
                                                               : label;
        const char *dot = strrchr(base, '.');
        size_t len = dot && dot > base ? (size_t)(dot - base) : strlen(base);
        return len ? keep(L, xstrndup(base, len)) : NULL;
    }
    if (strcmp(f->path, "name") == 0 && L->out->model)
        return L->out->model;
    return f->fallback;
}

/* Looks instance.type up once it is known; unknown types need a price. */
static void look_up_instance(struct loader *L, const char *type)
{
    struct buf err = {0};
    L->prices = price_table_embedded(&err);
    if (!L->prices) {
        fail_spec(L, "%s", err.data);
        buf_free(&err);
        return;
    }
    L->listed = price_table_find(L->prices, type);
}

static bool convert(struct loader *L, size_t idx)
{
    const struct field *f = &fields[idx];
    struct value *v = &L->values[idx];
    struct spec *s = L->out;
    if (f->kind == K_LEVELS)
        return convert_levels(L, f, v);
    if (f->kind == K_HEADERS)
        return convert_headers(L, f, v);
    if (f->kind == K_FORMATS && !v->present) {
        struct value dflt = {.present = false, .from = FROM_DEFAULT};
        split_list(L, f->fallback, &dflt);
        return convert_formats(L, f, &dflt);
    }
    if (f->kind == K_FORMATS)
        return convert_formats(L, f, v);

    if (!v->present) {
        v->text = default_text(L, f, &v->from);
        if (!v->text)
            return true;
    }
    if (f->kind == K_JSON) {
        char *json;
        if (!convert_json(L, f, v, &json))
            return false;
        store(s, f->dest, &json, sizeof json);
        return true;
    }

    const char *text = v->text;
    char *expanded = NULL;
    if (f->kind == K_TEXT || f->kind == K_ENDPOINT || f->kind == K_URL) {
        expanded = expand_env(L, f, v, NONE, text);
        if (!expanded)
            return false;
        if (!*expanded) { /* ${VAR:-} and "" leave the field unset */
            free(expanded);
            v->present = false;
            v->from = FROM_DEFAULT;
            return true;
        }
        for (const char *p = expanded; *p; p++) {
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                fail(L, f, v, NONE, "contains a line break or control character");
                free(expanded);
                return false;
            }
        }
        if ((f->kind == K_ENDPOINT && !check_endpoint(L, f, v, expanded)) ||
            (f->kind == K_URL && !check_url(L, f, v, expanded))) {
            free(expanded);
            return false;
        }
        store(s, f->dest, &expanded, sizeof expanded);
        if (strcmp(f->path, "instance.type") == 0)
            look_up_instance(L, expanded);
        return !L->failed;
    }

    switch (f->kind) {
    case K_ENVNAME: {
        if (!check_env_name(L, f, v, text))
            return false;
        char *copy = xstrdup(text);
        store(s, f->dest, &copy, sizeof copy);
        return true;
    }
    case K_ENUM: {
        int value;
        if (!convert_enum(L, f, v, text, &value))
            return false;
        store(s, f->dest, &value, sizeof value);
        return true;
    }
    case K_BOOL: {
        bool value;
        if (!convert_bool(L, f, v, text, &value))
            return false;
        store(s, f->dest, &value, sizeof value);
        return true;
    }
    case K_INT: {
        double d;
        if (!number_in_range(L, f, v, NONE, text, true, &d))
            return false;
        int value = (int)d;
        store(s, f->dest, &value, sizeof value);
        return true;
    }
    case K_U64: {
        /* exact for plain digits; through double for 1e6 and the like */
        uint64_t value;
        double d;
        if (!parse_uint(text, 0, (uint64_t)f->max, &value)) {
            if (!number_in_range(L, f, v, NONE, text, true, &d))
                return false;
            value = (uint64_t)d;
        }
        store(s, f->dest, &value, sizeof value);
        return true;
    }
    case K_NUMBER: {
        double value;
        if (!number_in_range(L, f, v, NONE, text, false, &value))
            return false;
        store(s, f->dest, &value, sizeof value);
        return true;
    }
    case K_DURATION: {
        double value;
        if (!duration_in_range(L, f, v, text, &value))
            return false;
        store(s, f->dest, &value, sizeof value);
        return true;
    }
    case K_WINDOW: {
        size_t len = strlen(text);
        double value;
        bool fraction = len > 1 && text[len - 1] == '%';
        if (fraction) {
            char *number = xstrndup(text, len - 1);
            bool ok = parse_double(number, &value);
            free(number);
            if (!ok || value < 0 || value >= 100) {
                fail(L, f, v, NONE, "'%.60s' is not a percentage from 0%% to 99%% (expected %s)",
                     text, f->example);
                return false;
            }
            value /= 100;
        } else if (!duration_in_range(L, f, v, text, &value)) {
            return false;
        }
        store(s, f->dest, &value, sizeof value);
        store(s, f->dest_flag, &fraction, sizeof fraction);
        return true;
    }
    default: fail(L, f, v, NONE, "internal error: unhandled field kind"); return false;
    }
}

/* --- checks across fields ---------------------------------------------------------- */

static const struct value *value_of(const struct loader *L, const char *path)
{
    return &L->values[field_index(path)];
}

static void fail_field(struct loader *L, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_field(struct loader *L, const char *path, const char *fmt, ...)
{
    if (L->failed)
        return;
    size_t idx = field_index(path);
    where(L, &fields[idx], &L->values[idx], NONE);
    L->failed = true;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(L->err, fmt, ap);
    va_end(ap);
}

static bool check_token_dist(struct loader *L, const char *name, const struct token_dist *d)
{
    char path[64];
    if (d->min && d->min > d->mean) {
        snprintf(path, sizeof path, "workload.%s_min", name);
        fail_field(L, path, "%d is above the mean workload.%s (%d)", d->min, name, d->mean);
        return false;
    }
    if (d->max && d->max < d->mean) {
        snprintf(path, sizeof path, "workload.%s_max", name);
        fail_field(L, path, "%d is below the mean workload.%s (%d)", d->max, name, d->mean);
        return false;
    }
    return true;
}

static bool check_whole(struct loader *L)
{
    struct spec *s = L->out;
    if (!s->model) {
        fail_spec(L, "missing required field 'model': the served model name, as in /v1/models "
                     "(add `model: NAME`, or pass --model)");
        return false;
    }
    if (!s->endpoint) {
        fail_spec(L, "missing required field 'endpoint': the base URL ending in /v1, or builtin "
                     "(add `endpoint: URL`, or pass --endpoint)");
        return false;
    }
    if (s->tokenizer.repo && s->tokenizer.path) {
        fail_field(L, "tokenizer.path",
                   "give tokenizer.repo (a Hugging Face repo) or tokenizer.path (a local file), "
                   "not both");
        return false;
    }
    if (s->tokenizer.revision && !s->tokenizer.repo) {
        fail_field(L, "tokenizer.revision", "a revision needs tokenizer.repo");
        return false;
    }
    if (s->api_key_env && s->api_key_file) {
        fail_field(L, "api_key_file", "give api_key_env or api_key_file, not both");
        return false;
    }
    if (s->instance.type && !L->listed && !value_of(L, "instance.hourly_usd")->present) {
        const char *near = L->prices ? price_table_closest(L->prices, s->instance.type) : NULL;
        fail_field(L, "instance.type",
                   "'%.60s' is not in the price table%s%s%s; set instance.hourly_usd (and "
                   "instance.gpu_count) to use it",
                   s->instance.type, near ? " (did you mean '" : "", near ? near : "",
                   near ? "'?)" : "");
        return false;
    }
    if (!check_token_dist(L, "prompt_tokens", &s->workload.prompt_tokens) ||
        !check_token_dist(L, "output_tokens", &s->workload.output_tokens))
        return false;
    if (s->workload.shared_prefix_tokens >= s->workload.prompt_tokens.mean) {
        fail_field(L, "workload.shared_prefix_tokens",
                   "%d leaves no unique part in prompts of %d tokens (make it smaller than "
                   "workload.prompt_tokens)",
                   s->workload.shared_prefix_tokens, s->workload.prompt_tokens.mean);
        return false;
    }
    double d = s->load.duration_s, warm = spec_warmup_seconds(s), cool = spec_cooldown_seconds(s);
    if (warm + cool >= d) {
        const char *path = value_of(L, "load.warmup")->present ? "load.warmup" : "load.cooldown";
        fail_field(L, path,
                   "warm-up (%gs) and cool-down (%gs) leave nothing to measure in a %gs level "
                   "(they are part of load.duration)",
                   warm, cool, d);
        return false;
    }
    return true;
}

static void record_origins(struct loader *L)
{
    struct spec *s = L->out;
    s->origins = xcalloc(N_FIELDS, sizeof *s->origins);
    s->n_origins = N_FIELDS;
    for (size_t i = 0; i < N_FIELDS; i++) {
        const struct value *v = &L->values[i];
        struct spec_origin *o = &s->origins[i];
        o->path = fields[i].path;
        o->from = v->from;
        if (v->from == FROM_SPEC && v->at)
            o->where = xasprintf("%s:%d", L->label, v->at->line);
        else if (v->from == FROM_OVERRIDE)
            o->where = xstrdup(v->origin);
        else if (v->from == FROM_TABLE)
            o->where = xasprintf("instance-prices.yaml, %s", s->instance.type);
    }
}

int spec_load_text(const char *label, const char *text, size_t len,
                   const struct spec_override *overrides, size_t n_overrides, struct spec *out,
                   struct buf *err)
{
    *out = (struct spec){.source = xstrdup(label)};
    size_t err_start = err->len;
    struct loader L = {.label = label, .out = out, .err = err, .have_text = text != NULL};
    void *data = NULL;
    bool ok = false;
    if (text && !yaml_load(label, text, len, &spec_schema, &data, &L.doc, err))
        goto done;
    L.raw = data;
    collect_yaml(&L);
    if (!apply_overrides(&L, overrides, n_overrides))
        goto done;
    /* model before name: an ad-hoc run is named after its model */
    size_t model = field_index("model");
    if (!convert(&L, model))
        goto done;
    for (size_t i = 0; i < N_FIELDS; i++) {
        if (i != model && !convert(&L, i))
            goto done;
    }
    if (!check_whole(&L))
        goto done;
    record_origins(&L);
    ok = true;
done:
    for (size_t i = 0; i < L.n_owned; i++)
        free(L.owned[i]);
    free(L.owned);
    if (L.prices)
        price_table_free(L.prices);
    yaml_free_data(&spec_schema, data);
    yaml_doc_free(&L.doc);
    if (!ok) {
        if (err->len == err_start)
            buf_printf(err, "%s: invalid spec", label);
        yaml_one_line(err, err_start);
        spec_free(out);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

char *spec_peek_description(const char *text, size_t len)
{
    void *data = NULL;
    struct yaml_doc doc;
    struct buf err = {0};
    char *description = NULL;
    if (yaml_load("peek", text, len, &spec_schema, &data, &doc, &err) && data) {
        const struct raw_spec *raw = data;
        if (raw->description)
            description = xstrdup(raw->description);
    }
    yaml_free_data(&spec_schema, data);
    yaml_doc_free(&doc);
    buf_free(&err);
    return description;
}

static const struct embedded_file *find_embedded(const char *name)
{
    for (const struct embedded_file *f = embedded_specs; f->name; f++) {
        if (strcmp(f->name, name) == 0)
            return f;
    }
    return NULL;
}

int spec_load(const char *name, const char *file, const struct spec_override *overrides,
              size_t n_overrides, struct spec *out, struct buf *err)
{
    *out = (struct spec){0};
    if (name && file) {
        buf_printf(err, "give an embedded spec name (%s) or a spec file (%s), not both", name,
                   file);
        return EXIT_USAGE;
    }
    if (name) {
        const struct embedded_file *f = find_embedded(name);
        if (!f) {
            const char *names[64];
            size_t n = 0;
            for (const struct embedded_file *e = embedded_specs; e->name && n < 63; e++)
                names[n++] = e->name;
            names[n] = NULL;
            const char *near = closest_match(name, names);
            buf_printf(err, "no embedded spec named '%s'", name);
            if (near)
                buf_printf(err, " (did you mean '%s'?)", near);
            buf_puts(err, "; 'llmsweep specs' lists them");
            return EXIT_USAGE;
        }
        char *label = xasprintf("embedded:%s", f->name);
        int rc = spec_load_text(label, f->data, f->len, overrides, n_overrides, out, err);
        free(label);
        return rc;
    }
    if (file) {
        struct buf text = {0};
        if (!read_file(file, &text)) {
            buf_printf(err, "%s: cannot read the spec: %s", file, strerror(errno));
            buf_free(&text);
            return EXIT_USAGE;
        }
        int rc = spec_load_text(file, text.data ? text.data : "", text.len, overrides, n_overrides,
                                out, err);
        buf_free(&text);
        return rc;
    }
    return spec_load_text("command line", NULL, 0, overrides, n_overrides, out, err);
}

/* --- rendering resolved values -------------------------------------------------------- */

void spec_field_format(const struct spec *spec, size_t i, struct buf *out)
{
    if (i >= N_FIELDS)
        return;
    const struct field *f = &fields[i];
    const char *base = (const char *)spec;
    switch (f->kind) {
    case K_TEXT:
    case K_ENDPOINT:
    case K_URL:
    case K_ENVNAME:
    case K_JSON: {
        const char *text;
        memcpy(&text, base + f->dest, sizeof text);
        buf_puts(out, text ? text : "(not set)");
        break;
    }
    case K_ENUM: {
        int v;
        memcpy(&v, base + f->dest, sizeof v);
        buf_puts(out, f->names[v]);
        break;
    }
    case K_BOOL: {
        bool v;
        memcpy(&v, base + f->dest, sizeof v);
        buf_puts(out, v ? "true" : "false");
        break;
    }
    case K_INT: {
        int v;
        memcpy(&v, base + f->dest, sizeof v);
        buf_printf(out, "%d", v);
        break;
    }
    case K_U64: {
        uint64_t v;
        memcpy(&v, base + f->dest, sizeof v);
        buf_printf(out, "%llu", (unsigned long long)v);
        break;
    }
    case K_NUMBER: {
        double v;
        memcpy(&v, base + f->dest, sizeof v);
        if (v == 0 && !f->fallback)
            buf_puts(out, "(not set)");
        else
            buf_printf(out, "%g", v);
        break;
    }
    case K_DURATION: {
        double v;
        memcpy(&v, base + f->dest, sizeof v);
        spec_format_duration(out, v);
        break;
    }
    case K_WINDOW: {
        double v;
        bool fraction;
        memcpy(&v, base + f->dest, sizeof v);
        memcpy(&fraction, base + f->dest_flag, sizeof fraction);
        if (fraction)
            buf_printf(out, "%g%%", v * 100);
        else
            spec_format_duration(out, v);
        break;
    }
    case K_LEVELS:
        if (!spec->load.n_levels)
            buf_puts(out, "(none)");
        for (size_t j = 0; j < spec->load.n_levels; j++)
            buf_printf(out, "%s%g", j ? ", " : "", spec->load.levels[j]);
        break;
    case K_FORMATS: {
        const bool on[] = {spec->outputs.json, spec->outputs.csv, spec->outputs.html,
                           spec->outputs.summary};
        bool first = true;
        for (size_t j = 0; j < ARRAY_LEN(on); j++) {
            if (on[j]) {
                buf_printf(out, "%s%s", first ? "" : ", ", format_names[j]);
                first = false;
            }
        }
        break;
    }
    case K_HEADERS:
        if (!spec->n_headers)
            buf_puts(out, "(none)");
        for (size_t j = 0; j < spec->n_headers; j++) {
            const struct header *h = &spec->headers[j];
            buf_printf(out, "%s%s: %s", j ? "; " : "", h->name,
                       header_is_secret(h->name) ? "(hidden)" : h->value);
        }
        break;
    }
}
