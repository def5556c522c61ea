/* The spec data model: names, freeing, timing and the plan `validate`
 * prints. Loading lives in spec_load.c. */
#include "spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "prices.h"

const char *api_kind_name(enum api_kind api)
{
    switch (api) {
    case API_COMPLETIONS: return "completions";
    case API_CHAT: return "chat";
    }
    return "unknown";
}

const char *load_profile_name(enum load_profile profile)
{
    switch (profile) {
    case PROFILE_CONCURRENT: return "concurrent";
    case PROFILE_SYNCHRONOUS: return "synchronous";
    case PROFILE_THROUGHPUT: return "throughput";
    case PROFILE_CONSTANT: return "constant";
    case PROFILE_POISSON: return "poisson";
    case PROFILE_SWEEP: return "sweep";
    }
    return "unknown";
}

bool load_profile_is_open_loop(enum load_profile profile)
{
    return profile == PROFILE_CONSTANT || profile == PROFILE_POISSON;
}

const char *publish_mode_name(enum publish_mode mode)
{
    switch (mode) {
    case PUBLISH_DESCRIPTION: return "description";
    case PUBLISH_PROPERTIES: return "properties";
    case PUBLISH_BOTH: return "both";
    }
    return "unknown";
}

const char *value_source_name(enum value_source from)
{
    switch (from) {
    case FROM_DEFAULT: return "default";
    case FROM_SPEC: return "spec";
    case FROM_TABLE: return "table";
    case FROM_OVERRIDE: return "override";
    }
    return "unknown";
}

void spec_free(struct spec *spec)
{
    free(spec->name);
    free(spec->description);
    free(spec->source);
    free(spec->model);
    free(spec->endpoint);
    for (size_t i = 0; i < spec->n_headers; i++) {
        free(spec->headers[i].name);
        free(spec->headers[i].value);
    }
    free(spec->headers);
    free(spec->extra_body);
    free(spec->api_key_env);
    free(spec->api_key_file);
    free(spec->ca_file);
    free(spec->tokenizer.repo);
    free(spec->tokenizer.revision);
    free(spec->tokenizer.path);
    free(spec->instance.type);
    free(spec->instance.gpu_type);
    free(spec->workload.dataset);
    free(spec->load.levels);
    free(spec->outputs.dir);
    free(spec->registry.url);
    free(spec->registry.model);
    free(spec->registry.version);
    free(spec->registry.token_file);
    free(spec->registry.ca_file);
    for (size_t i = 0; i < spec->n_origins; i++)
        free(spec->origins[i].where);
    free(spec->origins);
    *spec = (struct spec){0};
}

const struct spec_origin *spec_origin_of(const struct spec *spec, const char *path)
{
    for (size_t i = 0; i < spec->n_origins; i++) {
        if (strcmp(spec->origins[i].path, path) == 0)
            return &spec->origins[i];
    }
    return NULL;
}

const struct spec_option spec_options[] = {
    {"endpoint", "endpoint", "--endpoint"},
    {"model", "model", "--model"},
    {"api", "api", "--api"},
    {"profile", "load.profile", "--profile"},
    {"levels", "load.levels", "--levels"},
    {"duration", "load.duration", "--duration"},
    {"max-requests", "load.max_requests", "--max-requests"},
    {"prompt-tokens", "workload.prompt_tokens", "--prompt-tokens"},
    {"output-tokens", "workload.output_tokens", "--output-tokens"},
    {"tokenizer", "tokenizer", "--tokenizer"},
    {"output-dir", "outputs.dir", "--output-dir"},
    {"workers", "load.workers", "--workers"},
    {0},
};

/* --- overrides from argv ------------------------------------------------------------ */

static void add_override(struct spec_overrides *o, const char *path, const char *value,
                         const char *origin)
{
    o->items = xrealloc(o->items, (o->count + 1) * sizeof *o->items);
    o->items[o->count++] = (struct spec_override){path, value, origin};
}

bool spec_overrides_add_option(struct spec_overrides *o, const char *option, const char *value)
{
    for (const struct spec_option *opt = spec_options; opt->option; opt++) {
        if (strcmp(opt->option, option) == 0) {
            add_override(o, opt->path, value, opt->origin);
            return true;
        }
    }
    return false;
}

bool spec_overrides_add_set(struct spec_overrides *o, const char *assignment, struct buf *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) {
        buf_printf(err, "--set '%.80s': expected key.path=value, e.g. --set load.duration=2m",
                   assignment);
        return false;
    }
    char *path = xstrndup(assignment, (size_t)(eq - assignment));
    o->owned = xrealloc(o->owned, (o->n_owned + 1) * sizeof *o->owned);
    o->owned[o->n_owned++] = path;
    add_override(o, path, eq + 1, "--set");
    return true;
}

bool spec_overrides_from_args(struct spec_overrides *o, const struct cli_args *args,
                              struct buf *err)
{
    for (size_t i = 0; i < args->count; i++) {
        const char *option = args->option[i]->name;
        if (strcmp(option, "set") == 0) {
            if (!spec_overrides_add_set(o, args->value[i], err))
                return false;
        } else if (args->value[i]) {
            spec_overrides_add_option(o, option, args->value[i]);
        }
    }
    return true;
}

void spec_overrides_free(struct spec_overrides *o)
{
    for (size_t i = 0; i < o->n_owned; i++)
        free(o->owned[i]);
    free(o->owned);
    free(o->items);
    *o = (struct spec_overrides){0};
}

/* --- timing ----------------------------------------------------------------- */

double spec_level_seconds(const struct spec *spec)
{
    return spec->load.duration_s; /* warm-up and cool-down are inside it */
}

size_t spec_level_count(const struct spec *spec)
{
    switch (spec->load.profile) {
    case PROFILE_SYNCHRONOUS: return 1;
    case PROFILE_SWEEP: return 2 + (size_t)spec->load.sweep_rates;
    default: return spec->load.n_levels;
    }
}

double spec_total_seconds(const struct spec *spec)
{
    return spec_level_seconds(spec) * (double)spec_level_count(spec);
}

double spec_warmup_seconds(const struct spec *spec)
{
    return spec->load.warmup * (spec->load.warmup_is_fraction ? spec->load.duration_s : 1);
}

double spec_cooldown_seconds(const struct spec *spec)
{
    return spec->load.cooldown * (spec->load.cooldown_is_fraction ? spec->load.duration_s : 1);
}

void spec_format_duration(struct buf *out, double s)
{
    if (s < 60 || floor(s) != s || s > 1e12) {
        buf_printf(out, "%gs", s);
        return;
    }
    long long t = (long long)s, h = t / 3600, m = t % 3600 / 60, sec = t % 60;
    if (h && !m && !sec)
        buf_printf(out, "%lldh", h);
    else if (h)
        buf_printf(out, "%lldh %lldm %llds", h, m, sec);
    else if (!sec)
        buf_printf(out, "%lldm", m);
    else
        buf_printf(out, "%lldm %llds", m, sec);
}

/* --- the plan `validate` prints ------------------------------------------------ */

static void render_fields(const struct spec *spec, struct buf *out)
{
    buf_puts(out, "\nfields (value, and where it came from):\n");
    struct buf value = {0};
    for (size_t i = 0; i < spec_field_count(); i++) {
        const char *path = spec_field_path(i);
        buf_clear(&value);
        spec_field_format(spec, i, &value);
        const struct spec_origin *o = spec_origin_of(spec, path);
        buf_printf(out, "  %-30s %s", path, value.data);
        if (o)
            buf_printf(out, "  (%s%s%s)", value_source_name(o->from), o->where ? " " : "",
                       o->where ? o->where : "");
        buf_putc(out, '\n');
    }
    buf_free(&value);
}

static void render_window(const struct spec *spec, struct buf *out)
{
    double warm = spec_warmup_seconds(spec), cool = spec_cooldown_seconds(spec);
    if (warm <= 0 && cool <= 0) {
        buf_puts(out, "all of it measured");
        return;
    }
    if (warm > 0) {
        buf_puts(out, "first ");
        spec_format_duration(out, warm);
        buf_puts(out, " warm-up");
    }
    if (cool > 0) {
        buf_puts(out, warm > 0 ? " and last " : "last ");
        spec_format_duration(out, cool);
        buf_puts(out, " cool-down");
    }
    buf_puts(out, " not measured");
}

/* One level as `validate` lists it; x is its levels[] entry. */
static void describe_level(enum load_profile p, double x, char *what, size_t n)
{
    if (load_profile_is_open_loop(p))
        snprintf(what, n, "%g requests/s (%s arrivals)", x,
                 p == PROFILE_POISSON ? "Poisson" : "evenly spaced");
    else if (p == PROFILE_THROUGHPUT && x > 0)
        snprintf(what, n, "throughput, at most %g in flight", x);
    else if (p == PROFILE_THROUGHPUT)
        snprintf(what, n, "throughput (engine's in-flight cap)");
    else
        snprintf(what, n, "concurrency %g", x);
}

static void render_levels(const struct spec *spec, struct buf *out)
{
    enum load_profile p = spec->load.profile;
    struct buf each = {0};
    spec_format_duration(&each, spec_level_seconds(spec));
    buf_printf(out, "\nplan: profile %s, %zu level%s of %s each (", load_profile_name(p),
               spec_level_count(spec), spec_level_count(spec) == 1 ? "" : "s", each.data);
    render_window(spec, out);
    buf_puts(out, ")\n");
    if (p == PROFILE_SWEEP) {
        char cap[80];
        describe_level(PROFILE_THROUGHPUT, spec->load.n_levels ? spec->load.levels[0] : 0, cap,
                       sizeof cap);
        buf_printf(out, "  level 1      %-44s %s\n", "synchronous (one request at a time)",
                   each.data);
        buf_printf(out, "  level 2      %-44s %s\n", cap, each.data);
        buf_printf(out,
                   "  levels 3-%-3zu %d constant rates between those two, chosen at run "
                   "time, %s each\n",
                   spec_level_count(spec), spec->load.sweep_rates, each.data);
    } else {
        for (size_t i = 0; i < spec->load.n_levels; i++) {
            char what[80];
            describe_level(p, spec->load.levels[i], what, sizeof what);
            buf_printf(out, "  level %-6zu %-44s %s\n", i + 1, what, each.data);
        }
    }
    buf_puts(out, "  total        ");
    spec_format_duration(out, spec_total_seconds(spec));
    buf_puts(out, " at most");
    if (spec->load.max_requests)
        buf_printf(out, " (a level ends early after %llu requests)",
                   (unsigned long long)spec->load.max_requests);
    buf_putc(out, '\n');
    buf_free(&each);
}

static void render_instance(const struct spec *spec, struct buf *out)
{
    buf_puts(out, "\ninstance: ");
    if (!spec->instance.type && !(spec->instance.hourly_usd > 0)) {
        buf_puts(out, "not given: results carry no cost figures (set instance.type, or "
                      "instance.hourly_usd)\n");
        return;
    }
    buf_printf(out, "%s, %d x %s", spec->instance.type ? spec->instance.type : "(unnamed)",
               spec->instance.gpu_count, spec->instance.gpu_type ? spec->instance.gpu_type : "GPU");
    const struct spec_origin *o = spec_origin_of(spec, "instance.hourly_usd");
    enum value_source price_from = o ? o->from : FROM_DEFAULT;
    buf_printf(out, ", $%g per hour (%s", spec->instance.hourly_usd, value_source_name(price_from));
    if (o && o->where)
        buf_printf(out, " %s", o->where);
    buf_puts(out, ")\n");
    if (price_from == FROM_TABLE) {
        struct buf err = {0};
        struct price_table *t = price_table_embedded(&err);
        if (t) {
            buf_printf(out, "  price source: %s (as of %s)\n", t->source, t->as_of);
            price_table_free(t);
        }
        buf_free(&err);
    }
}

void spec_render_plan(const struct spec *spec, struct buf *out)
{
    buf_printf(out, "spec: %s (%s)\n", spec->name ? spec->name : "(unnamed)",
               spec->source ? spec->source : "command line");
    if (spec->description)
        buf_printf(out, "  %s\n", spec->description);
    buf_printf(out, "target: %s at %s (%s API)\n", spec->model,
               strcmp(spec->endpoint, "builtin") == 0 ? "the built-in mock server" : spec->endpoint,
               api_kind_name(spec->api));
    render_levels(spec, out);
    render_instance(spec, out);
    render_fields(spec, out);
}

bool spec_arg_is_file(const char *arg)
{
    size_t len = strlen(arg);
    return strchr(arg, '/') || (len > 5 && strcmp(arg + len - 5, ".yaml") == 0) ||
           (len > 4 && strcmp(arg + len - 4, ".yml") == 0) || access(arg, F_OK) == 0;
}
