/* The spec loader: embedded specs, defaults, every bad-input case of issue 3
 * (each names file, line, column and field, and returns EXIT_USAGE),
 * overrides, ${VAR} and the price table lookup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "embedded.h"
#include "harness.h"
#include "spec.h"

/* Loads YAML text as "t.yaml"; returns the exit code, message in *err. */
static int load(const char *yaml, const struct spec_override *o, size_t n, struct spec *s,
                struct buf *err)
{
    buf_clear(err);
    return spec_load_text("t.yaml", yaml, strlen(yaml), o, n, s, err);
}

/* Expects `yaml` to fail with a message that contains `want`, on one line. */
#define CHECK_FAILS(yaml, want)                                                                    \
    do {                                                                                           \
        struct spec s_;                                                                            \
        struct buf e_ = {0};                                                                       \
        CHECK_EQ_INT(load(yaml, NULL, 0, &s_, &e_), EXIT_USAGE);                                   \
        CHECK_CONTAINS(e_.data, want);                                                             \
        CHECK(e_.data && !strchr(e_.data, '\n'));                                                  \
        CHECK(s_.model == NULL && s_.origins == NULL); /* nothing left to free */                  \
        buf_free(&e_);                                                                             \
    } while (0)

#define BASE "model: m\nendpoint: builtin\n"

static const struct spec_origin *origin(const struct spec *s, const char *path)
{
    const struct spec_origin *o = spec_origin_of(s, path);
    if (!o) {
        static const struct spec_origin none = {.path = "(missing)",
                                                .from = (enum value_source) - 1};
        return &none;
    }
    return o;
}

TEST(spec_demo_is_short_and_builtin)
{
    struct spec s;
    struct buf err = {0};
    CHECK_EQ_INT(spec_load("demo", NULL, NULL, 0, &s, &err), EXIT_OK);
    CHECK_EQ_STR(s.name, "demo");
    CHECK_EQ_STR(s.source, "embedded:demo");
    CHECK_EQ_STR(s.endpoint, "builtin");
    CHECK_EQ_STR(s.model, "demo-model");
    CHECK_EQ_INT(s.api, API_CHAT);
    CHECK_EQ_INT(s.load.profile, PROFILE_CONCURRENT);
    CHECK_EQ_INT(s.load.n_levels, 3);
    CHECK(spec_total_seconds(&s) > 0 && spec_total_seconds(&s) < 60);
    CHECK(s.tokenizer.repo == NULL); /* no registry, no network */
    CHECK(s.description && *s.description);
    spec_free(&s);
    buf_free(&err);
}

TEST(spec_mistral_quantized_matches_the_deployment)
{
    setenv("CLUSTER_DOMAIN", "apps.example.com", 1);
    struct spec s;
    struct buf err = {0};
    CHECK_EQ_INT(spec_load("mistral-24b-quantized", NULL, NULL, 0, &s, &err), EXIT_OK);
    CHECK_EQ_STR(err.data ? err.data : "", "");
    CHECK_EQ_STR(s.model, "mistral-24b-quantized");
    CHECK_EQ_STR(s.endpoint, "https://mistral-24b-quantized-private-ai-demo.apps.example.com/v1");
    CHECK_EQ_STR(s.tokenizer.repo, "RedHatAI/Mistral-Small-24B-Instruct-2501-quantized.w4a16");
    CHECK_EQ_STR(s.instance.type, "g6.4xlarge");
    CHECK_EQ_INT(s.instance.gpu_count, 1);
    CHECK_EQ_STR(s.instance.gpu_type, "NVIDIA L4");
    CHECK_NEAR(s.instance.hourly_usd, 1.3232, 1e-9);
    CHECK_EQ_INT(origin(&s, "instance.hourly_usd")->from, FROM_TABLE);
    CHECK_EQ_INT(s.load.n_levels, 4);
    const double want[] = {1, 5, 10, 25};
    for (size_t i = 0; i < 4 && i < s.load.n_levels; i++)
        CHECK_NEAR(s.load.levels[i], want[i], 0);
    CHECK_NEAR(s.load.duration_s, 120, 0);
    CHECK_NEAR(spec_total_seconds(&s), 480, 0);
    spec_free(&s);
    buf_free(&err);
}

TEST(spec_mistral_full_runs_on_four_gpus)
{
    setenv("CLUSTER_DOMAIN", "apps.example.com", 1);
    struct spec s;
    struct buf err = {0};
    CHECK_EQ_INT(spec_load("mistral-24b", NULL, NULL, 0, &s, &err), EXIT_OK);
    CHECK_EQ_STR(s.endpoint, "https://mistral-24b-private-ai-demo.apps.example.com/v1");
    CHECK_EQ_STR(s.tokenizer.repo, "mistralai/Mistral-Small-24B-Instruct-2501");
    CHECK_EQ_STR(s.instance.type, "g6.12xlarge");
    CHECK_EQ_INT(s.instance.gpu_count, 4);
    CHECK_NEAR(s.instance.hourly_usd, 4.6016, 1e-9);
    CHECK_EQ_INT(s.load.n_levels, 4);
    CHECK_NEAR(s.load.duration_s, 120, 0);
    spec_free(&s);
    buf_free(&err);
}

TEST(spec_every_embedded_spec_loads)
{
    setenv("CLUSTER_DOMAIN", "apps.example.com", 1);
    int n = 0;
    for (const struct embedded_file *f = embedded_specs; f->name; f++, n++) {
        struct spec s;
        struct buf err = {0};
        int rc = spec_load(f->name, NULL, NULL, 0, &s, &err);
        if (rc != EXIT_OK)
            fprintf(stderr, "%s: %s\n", f->name, err.data);
        CHECK_EQ_INT(rc, EXIT_OK);
        if (rc == EXIT_OK) {
            CHECK_EQ_STR(s.name, f->name); /* a spec's name is its file's name */
            CHECK(s.description != NULL);
            spec_free(&s);
        }
        buf_free(&err);
    }
    CHECK(n >= 3);
}

TEST(spec_defaults_are_documented_values)
{
    struct spec s;
    struct buf err = {0};
    CHECK_EQ_INT(load(BASE, NULL, 0, &s, &err), EXIT_OK);
    CHECK_EQ_STR(s.name, "t"); /* from the file name */
    CHECK_EQ_INT(s.api, API_CHAT);
    CHECK_EQ_INT(s.load.profile, PROFILE_CONCURRENT);
    CHECK_EQ_INT(s.load.n_levels, 4);
    CHECK_NEAR(s.load.levels[3], 25, 0);
    CHECK_NEAR(s.load.duration_s, 120, 0);
    CHECK_NEAR(s.load.warmup, 0, 0);
    CHECK_NEAR(s.load.cooldown, 0, 0);
    CHECK_NEAR(s.load.max_error_rate, 1, 0);
    CHECK_NEAR(s.load.request_timeout_s, 0, 0);
    CHECK_EQ_INT(s.load.max_requests, 0);
    CHECK_EQ_INT(s.load.workers, 1);
    CHECK_EQ_INT(s.load.sweep_rates, 8);
    CHECK_EQ_INT(s.workload.prompt_tokens.mean, 512);
    CHECK_EQ_INT(s.workload.output_tokens.mean, 256);
    CHECK_EQ_STR(s.outputs.dir, "results");
    CHECK(s.outputs.json && s.outputs.csv && s.outputs.html && s.outputs.summary);
    CHECK(!s.outputs.records_inline);
    CHECK_EQ_INT(s.registry.mode, PUBLISH_BOTH);
    CHECK(!s.insecure);
    CHECK_EQ_INT(s.instance.gpu_count, 1);
    CHECK_NEAR(s.instance.hourly_usd, 0, 0); /* no instance: no cost figures */
    CHECK_EQ_INT(origin(&s, "load.duration")->from, FROM_DEFAULT);
    CHECK_EQ_INT(origin(&s, "model")->from, FROM_SPEC);
    CHECK_EQ_STR(origin(&s, "model")->where, "t.yaml:1");
    CHECK_EQ_INT(s.n_origins, spec_field_count());
    spec_free(&s);
    buf_free(&err);
}

TEST(spec_full_example_round_trip)
{
    setenv("LLMSWEEP_TEST_TOKEN_VAR", "x", 1);
    const char *yaml = "name: full\n"
                       "model: m\n"
                       "endpoint: https://h.example/v1/\n"
                       "api: completions\n"
                       "headers:\n"
                       "  - {name: X-Tenant, value: t1}\n"
                       "extra_body: {temperature: 0, top_p: 0.9, stop: [\"x\"]}\n"
                       "api_key_env: LLMSWEEP_TEST_TOKEN_VAR\n"
                       "tokenizer: {repo: org/model, revision: abc123}\n"
                       "instance: {type: g6.12xlarge, hourly_usd: 3.5}\n"
                       "workload:\n"
                       "  prompt_tokens: 1000\n"
                       "  prompt_tokens_stdev: 100\n"
                       "  prompt_tokens_min: 800\n"
                       "  prompt_tokens_max: 1200\n"
                       "  output_tokens: 200\n"
                       "  shared_prefix_tokens: 100\n"
                       "  seed: 7\n"
                       "load:\n"
                       "  profile: poisson\n"
                       "  levels: [0.5, 1, 2.5]\n"
                       "  duration: 2m\n"
                       "  max_requests: 500\n"
                       "  warmup: 10%\n"
                       "  cooldown: 5s\n"
                       "  request_timeout: 5m\n"
                       "  max_error_rate: 0.1\n"
                       "  workers: 2\n"
                       "outputs: {dir: out, formats: [json, html], records_inline: true}\n"
                       "registry:\n"
                       "  url: https://registry.example:8443\n"
                       "  model: Mistral\n"
                       "  version: v1\n"
                       "  mode: properties\n"
                       "slo: {ttft_ms: 500, itl_ms: 50, tpot_ms: 60, latency_s: 20}\n";
    struct spec s;
    struct buf err = {0};
    CHECK_EQ_INT(load(yaml, NULL, 0, &s, &err), EXIT_OK);
    CHECK_EQ_STR(err.data ? err.data : "", "");
    CHECK_EQ_STR(s.endpoint, "https://h.example/v1"); /* trailing / dropped */
    CHECK_EQ_INT(s.api, API_COMPLETIONS);
    CHECK_EQ_INT(s.n_headers, 1);
    CHECK_EQ_STR(s.n_headers ? s.headers[0].value : NULL, "t1");
    CHECK_EQ_STR(s.extra_body, "{\"temperature\":0,\"top_p\":0.9,\"stop\":[\"x\"]}");
    CHECK_EQ_STR(s.api_key_env, "LLMSWEEP_TEST_TOKEN_VAR");
    CHECK_EQ_STR(s.tokenizer.revision, "abc123");
    CHECK_NEAR(s.instance.hourly_usd, 3.5, 0);
    CHECK_EQ_INT(origin(&s, "instance.hourly_usd")->from, FROM_SPEC);
    CHECK_EQ_INT(s.instance.gpu_count, 4); /* still from the table */
    CHECK_EQ_INT(origin(&s, "instance.gpu_count")->from, FROM_TABLE);
    CHECK_EQ_INT(s.workload.prompt_tokens.stdev, 100);
    CHECK_EQ_INT(s.workload.prompt_tokens.max, 1200);
    CHECK_EQ_INT(s.workload.shared_prefix_tokens, 100);
    CHECK_EQ_INT(s.workload.seed, 7);
    CHECK_EQ_INT(s.load.profile, PROFILE_POISSON);
    CHECK(load_profile_is_open_loop(s.load.profile));
    CHECK_NEAR(s.load.levels[2], 2.5, 0);
    CHECK_NEAR(s.load.duration_s, 120, 0);
    CHECK_EQ_INT(s.load.max_requests, 500);
    CHECK(s.load.warmup_is_fraction);
    CHECK_NEAR(s.load.warmup, 0.1, 1e-12);
    CHECK(!s.load.cooldown_is_fraction);
    CHECK_NEAR(s.load.cooldown, 5, 0);
    CHECK_NEAR(s.load.request_timeout_s, 300, 0);
    CHECK_NEAR(s.load.max_error_rate, 0.1, 0);
    CHECK(s.outputs.json && s.outputs.html && !s.outputs.csv && !s.outputs.summary);
    CHECK(s.outputs.records_inline);
    CHECK_EQ_INT(s.registry.mode, PUBLISH_PROPERTIES);
    CHECK_NEAR(s.slo.tpot_ms, 60, 0);
    CHECK_NEAR(s.slo.latency_s, 20, 0);
    spec_free(&s);
    buf_free(&err);
}

/* --- the bad-input cases of issue 3 ------------------------------------------ */

TEST(spec_yaml_syntax_error_has_line_and_column)
{
    CHECK_FAILS(BASE "load:\n  levels: [1, 5\n  duration: 2m\n",
                "t.yaml:5:11: YAML syntax error: did not find expected ',' or ']'");
    CHECK_FAILS("model: m\n  endpoint: x\n", "t.yaml:2:11: YAML syntax error:");
    CHECK_FAILS("model: \"unterminated\n", "t.yaml:2:1: YAML syntax error:");
    CHECK_FAILS("model: m\n\tendpoint: builtin\n", "t.yaml:2:1: YAML syntax error:");
}

TEST(spec_unknown_field_suggests_the_nearest)
{
    CHECK_FAILS(BASE "load:\n  duraton: 5s\n",
                "t.yaml:4:3: unknown field 'duraton' in load (did you mean 'duration'?)");
    CHECK_FAILS(BASE "modle_name: x\n", "t.yaml:3:1: unknown field 'modle_name'");
    CHECK_FAILS(BASE "endpiont: x\n", "(did you mean 'endpoint'?)");
    CHECK_FAILS(BASE "zzzz: 1\n", "valid fields: name, description, model,");
    CHECK_FAILS(BASE "workload:\n  prompt_token: 5\n",
                "t.yaml:4:3: unknown field 'prompt_token' in workload (did you mean "
                "'prompt_tokens'?)");
    CHECK_FAILS(BASE "headers:\n  - {name: a, value: b, vlaue: c}\n",
                "t.yaml:4:25: unknown field 'vlaue' in headers[0] (did you mean 'value'?)");
}

TEST(spec_wrong_type_names_field_and_expectation)
{
    CHECK_FAILS(BASE "load:\n  duration: [5]\n",
                "t.yaml:4:13: load.duration: expected a single value, found a list");
    CHECK_FAILS(BASE "load: 5\n", "t.yaml:3:7: load: expected a mapping");
    CHECK_FAILS(BASE "load:\n  levels: 5\n", "t.yaml:4:11: load.levels: expected a list");
    CHECK_FAILS(BASE "workload:\n  prompt_tokens: many\n",
                "t.yaml:4:18: workload.prompt_tokens: 'many' is not a number");
    CHECK_FAILS(BASE "workload:\n  prompt_tokens: 1.5\n", "'1.5' is not a whole number");
    CHECK_FAILS(BASE "insecure: maybe\n", "t.yaml:3:11: insecure: 'maybe' is not true or false");
    CHECK_FAILS(BASE "api: chatt\n",
                "t.yaml:3:6: api: 'chatt' is not one of: completions, chat (did you mean "
                "'chat'?)");
    CHECK_FAILS(BASE "load:\n  profile: concurent\n", "(did you mean 'concurrent'?)");
    CHECK_FAILS(BASE "load:\n  max_error_rate: 2\n", "load.max_error_rate: '2' must be at most 1");
    CHECK_FAILS(BASE "extra_body: 5\n", "t.yaml:3:13: extra_body: must be a mapping");
    CHECK_FAILS(BASE "outputs:\n  formats: [json, pdf]\n",
                "t.yaml:4:19: outputs.formats: 'pdf' is not one of: json, csv, html, summary");
    CHECK_FAILS("- model: m\n", "t.yaml:1:1: the document must be a mapping");
    CHECK_FAILS(BASE "headers: {X-A: b}\n", "t.yaml:3:10: headers: expected a list");
}

TEST(spec_missing_required_field)
{
    CHECK_FAILS("endpoint: builtin\n", "t.yaml:1:1: missing required field 'model'");
    CHECK_FAILS("model: m\n", "t.yaml:1:1: missing required field 'endpoint'");
    CHECK_FAILS("", "t.yaml:1:1: missing required field 'model'");
    CHECK_FAILS(BASE "headers:\n  - name: X-A\n",
                "t.yaml:4:5: headers[0]: missing required field 'value'");
    struct spec s;
    struct buf err = {0};
    CHECK_EQ_INT(spec_load(NULL, NULL, NULL, 0, &s, &err), EXIT_USAGE);
    CHECK_CONTAINS(err.data, "no spec given: missing required field 'model'");
    CHECK_CONTAINS(err.data, "--model");
    buf_free(&err);
}

TEST(spec_levels_must_be_present_and_positive)
{
    CHECK_FAILS(BASE "load:\n  levels: []\n",
                "t.yaml:4:11: load.levels: empty list; give at least one level");
    CHECK_FAILS(BASE "load:\n  levels: [1, 0, 5]\n",
                "t.yaml:4:15: load.levels: '0' must be more than zero");
    CHECK_FAILS(BASE "load:\n  levels:\n    - 1\n    - -3\n",
                "t.yaml:6:7: load.levels: '-3' must be more than zero");
    CHECK_FAILS(BASE "load:\n  levels: [1, 2.5]\n",
                "t.yaml:4:15: load.levels: '2.5' is not a whole number (expected a concurrency");
    CHECK_FAILS(BASE "load:\n  levels: [1, x]\n", "t.yaml:4:15: load.levels: 'x' is not a number");
    CHECK_FAILS(BASE "load:\n  profile: constant\n",
                "load.levels is required for profile constant");
    CHECK_FAILS(BASE "load:\n  profile: sweep\n  levels: [1, 2]\n",
                "t.yaml:5:11: load.levels: a sweep takes at most one level");
    CHECK_FAILS(BASE "load:\n  levels: [1, 200000]\n", "'200000' must be at most 100000");
}

TEST(spec_levels_by_profile)
{
    struct spec s;
    struct buf err = {0};
    CHECK_EQ_INT(load(BASE "load: {profile: constant, levels: [0.5, 2]}\n", NULL, 0, &s, &err),
                 EXIT_OK);
    CHECK_NEAR(s.load.levels[0], 0.5, 0);
    spec_free(&s);
    CHECK_EQ_INT(load(BASE "load: {profile: synchronous, levels: [5, 10]}\n", NULL, 0, &s, &err),
                 EXIT_OK);
    CHECK_EQ_INT(s.load.n_levels, 1);
    CHECK_NEAR(s.load.levels[0], 1, 0);
    CHECK_EQ_INT(spec_level_count(&s), 1);
    spec_free(&s);
    CHECK_EQ_INT(load(BASE "load: {profile: throughput}\n", NULL, 0, &s, &err), EXIT_OK);
    CHECK_EQ_INT(s.load.n_levels, 1);
    CHECK_NEAR(s.load.levels[0], 0, 0); /* uncapped */
    spec_free(&s);
    CHECK_EQ_INT(load(BASE "load: {profile: sweep, duration: 30s}\n", NULL, 0, &s, &err), EXIT_OK);
    CHECK_EQ_INT(s.load.n_levels, 0);
    CHECK_EQ_INT(spec_level_count(&s), 10); /* synchronous, throughput, 8 rates */
    CHECK_NEAR(spec_total_seconds(&s), 300, 0);
    spec_free(&s);
    buf_free(&err);
}

TEST(spec_duration_must_be_positive)
{
    CHECK_FAILS(BASE "load:\n  duration: 0\n",
                "t.yaml:4:13: load.duration: '0' must be more than zero (expected 120s, 2m or 90)");
    CHECK_FAILS(BASE "load:\n  duration: 0s\n", "load.duration: '0s' must be more than zero");
    CHECK_FAILS(BASE "load:\n  duration: -5s\n", "t.yaml:4:13: load.duration: '-5s' is negative");
    CHECK_FAILS(BASE "load:\n  duration: -5\n", "load.duration: '-5' is negative");
    CHECK_FAILS(BASE "load:\n  duration: soon\n", "load.duration: 'soon' is not a duration");
    CHECK_FAILS(BASE "load:\n  duration: 9999h\n", "longer than a week");
    CHECK_FAILS(BASE "load:\n  request_timeout: -1s\n", "load.request_timeout: '-1s' is negative");
    CHECK_FAILS(BASE "load:\n  duration: 10s\n  warmup: 6s\n  cooldown: 4s\n",
                "t.yaml:5:11: load.warmup: warm-up (6s) and cool-down (4s) leave nothing to "
                "measure in a 10s level");
    CHECK_FAILS(BASE "load:\n  warmup: 100%\n",
                "t.yaml:4:11: load.warmup: '100%' is not a percentage from 0% to 99%");
    CHECK_FAILS(BASE "load:\n  cooldown: \"-5%\"\n", "load.cooldown: '-5%' is not a percentage");
}

TEST(spec_unknown_instance_needs_a_price)
{
    CHECK_FAILS(BASE "instance:\n  type: g6.5xlarge\n",
                "t.yaml:4:9: instance.type: 'g6.5xlarge' is not in the price table (did you mean "
                "'g6.xlarge'?); set instance.hourly_usd");
    CHECK_FAILS(BASE "instance:\n  type: p9.mega\n", "'p9.mega' is not in the price table;");
    struct spec s;
    struct buf err = {0};
    CHECK_EQ_INT(
        load(BASE "instance: {type: p9.mega, hourly_usd: 12.5, gpu_count: 8}\n", NULL, 0, &s, &err),
        EXIT_OK);
    CHECK_NEAR(s.instance.hourly_usd, 12.5, 0);
    CHECK_EQ_INT(s.instance.gpu_count, 8);
    CHECK(s.instance.gpu_type == NULL);
    spec_free(&s);
    /* A price without a type is fine too: the cost of "this machine". */
    CHECK_EQ_INT(load(BASE "instance: {hourly_usd: 2}\n", NULL, 0, &s, &err), EXIT_OK);
    CHECK_NEAR(s.instance.hourly_usd, 2, 0);
    spec_free(&s);
    buf_free(&err);
    CHECK_FAILS(BASE "instance: {type: g6.xlarge, hourly_usd: 0}\n",
                "instance.hourly_usd: '0' must be more than zero");
}

TEST(spec_unset_variable_is_named)
{
    unsetenv("LLMSWEEP_NOT_SET");
    CHECK_FAILS("model: m\nendpoint: https://x.${LLMSWEEP_NOT_SET}/v1\n",
                "t.yaml:2:11: endpoint: environment variable LLMSWEEP_NOT_SET is not set");
    CHECK_FAILS(BASE "tokenizer:\n  path: ${LLMSWEEP_NOT_SET}/tok.json\n",
                "t.yaml:4:9: tokenizer.path: environment variable LLMSWEEP_NOT_SET is not set");
    CHECK_FAILS("model: m\nendpoint: https://x.${bad-name}/v1\n",
                "t.yaml:2:11: endpoint: bad variable reference");
    CHECK_FAILS(BASE "api_key_env: LLMSWEEP_NOT_SET\n",
                "t.yaml:3:14: api_key_env: environment variable LLMSWEEP_NOT_SET is not set");
    CHECK_FAILS(BASE "headers:\n  - {name: X-A, value: \"${LLMSWEEP_NOT_SET}\"}\n",
                "t.yaml:4:5: headers: environment variable LLMSWEEP_NOT_SET is not set");
}

TEST(spec_variables_expand_in_text_fields)
{
    setenv("LLMSWEEP_DOMAIN", "apps.example.com", 1);
    setenv("LLMSWEEP_VERSION_NAME", "v7", 1);
    unsetenv("LLMSWEEP_NOT_SET");
    struct spec s;
    struct buf err = {0};
    CHECK_EQ_INT(load("model: m-${LLMSWEEP_NOT_SET:-default}\n"
                      "endpoint: https://m.${LLMSWEEP_DOMAIN}/v1\n"
                      "description: costs $$5, literal $${X}\n"
                      "registry: {version: \"${LLMSWEEP_VERSION_NAME}\"}\n",
                      NULL, 0, &s, &err),
                 EXIT_OK);
    CHECK_EQ_STR(s.model, "m-default");
    CHECK_EQ_STR(s.endpoint, "https://m.apps.example.com/v1");
    CHECK_EQ_STR(s.description, "costs $$5, literal ${X}");
    CHECK_EQ_STR(s.registry.version, "v7");
    spec_free(&s);
    /* Numbers are not expanded: a duration stays a duration. */
    setenv("LLMSWEEP_DURATION", "30s", 1);
    buf_free(&err);
    CHECK_FAILS(BASE "load: {duration: \"${LLMSWEEP_DURATION}\"}\n", "is not a duration");
}

TEST(spec_unreadable_file)
{
    struct spec s;
    struct buf err = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/nope.yaml", test_tmpdir());
    CHECK_EQ_INT(spec_load(NULL, path, NULL, 0, &s, &err), EXIT_USAGE);
    CHECK_CONTAINS(err.data, path);
    CHECK_CONTAINS(err.data, "cannot read the spec: No such file or directory");
    buf_clear(&err);
    CHECK_EQ_INT(spec_load(NULL, test_tmpdir(), NULL, 0, &s, &err), EXIT_USAGE);
    CHECK_CONTAINS(err.data, "cannot read the spec: Is a directory");
    buf_clear(&err);
    CHECK_EQ_INT(spec_load("no-such-spec", NULL, NULL, 0, &s, &err), EXIT_USAGE);
    CHECK_CONTAINS(err.data, "no embedded spec named 'no-such-spec'");
    buf_clear(&err);
    CHECK_EQ_INT(spec_load("dmeo", NULL, NULL, 0, &s, &err), EXIT_USAGE);
    CHECK_CONTAINS(err.data, "(did you mean 'demo'?)");
    buf_free(&err);
}

TEST(spec_file_is_read_and_named_in_messages)
{
    char path[512];
    snprintf(path, sizeof path, "%s/my-run.v2.yaml", test_tmpdir());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(BASE "load:\n  duration: 0\n", f);
    fclose(f);
    struct spec s;
    struct buf err = {0};
    CHECK_EQ_INT(spec_load(NULL, path, NULL, 0, &s, &err), EXIT_USAGE);
    char want[600];
    snprintf(want, sizeof want, "%s:4:13: load.duration:", path);
    CHECK_CONTAINS(err.data, want);
    buf_clear(&err);
    const struct spec_override fix = {"load.duration", "30s", "--duration"};
    CHECK_EQ_INT(spec_load(NULL, path, &fix, 1, &s, &err), EXIT_OK);
    CHECK_EQ_STR(s.name, "my-run.v2");
    CHECK_EQ_STR(s.source, path);
    spec_free(&s);
    buf_free(&err);
}

TEST(spec_yaml_structure_problems)
{
    CHECK_FAILS("model: m\nmodel: n\nendpoint: builtin\n",
                "t.yaml:2:1: field 'model' appears twice");
    CHECK_FAILS("model: &a m\nendpoint: *a\n", "t.yaml:2:11: endpoint: aliases (*name) are not");
    CHECK_FAILS(BASE "---\nmodel: x\n", "t.yaml:3:1: a second YAML document");
    CHECK_FAILS("model: m\xff\n", "t.yaml: byte 8: invalid leading UTF-8 octet");
    CHECK_FAILS(BASE "? [a, b]\n: c\n", "t.yaml:3:3: the document: keys must be plain names");
    /* free-form extra_body is depth-limited */
    struct buf deep = {0};
    buf_puts(&deep, BASE "extra_body: ");
    for (int i = 0; i < 40; i++)
        buf_puts(&deep, "{a: ");
    buf_puts(&deep, "1");
    for (int i = 0; i < 40; i++)
        buf_puts(&deep, "}");
    buf_puts(&deep, "\n");
    CHECK_FAILS(deep.data, "nested more than 32 levels deep");
    buf_free(&deep);
    CHECK_FAILS(BASE "extra_body: {a: 1, a: 2}\n", "extra_body: key 'a' appears twice");
}

TEST(spec_endpoint_must_be_a_v1_base_url)
{
    CHECK_FAILS("model: m\nendpoint: ftp://x/v1\n", "endpoint: 'ftp://x/v1' is not an http://");
    CHECK_FAILS("model: m\nendpoint: https://x.example\n",
                "t.yaml:2:11: endpoint: 'https://x.example' does not end in /v1");
    CHECK_FAILS(BASE "registry: {url: registry.example}\n",
                "registry.url: 'registry.example' is not an http:// or https:// URL");
}

TEST(spec_cross_field_conflicts)
{
    CHECK_FAILS(BASE "tokenizer: {repo: a/b, path: ./t.json}\n", "give tokenizer.repo");
    CHECK_FAILS(BASE "tokenizer: {revision: main}\n", "tokenizer.revision: a revision needs");
    setenv("LLMSWEEP_KEY_VAR", "k", 1);
    CHECK_FAILS(BASE "api_key_env: LLMSWEEP_KEY_VAR\napi_key_file: /k\n",
                "api_key_file: give api_key_env or api_key_file, not both");
    CHECK_FAILS(BASE "api_key_env: not-a-name\n", "is not an environment variable name");
    CHECK_FAILS(BASE "api_key_env: 9LIVES\n", "is not an environment variable name");
    CHECK_FAILS(BASE "workload: {prompt_tokens: 100, prompt_tokens_min: 200}\n",
                "workload.prompt_tokens_min: 200 is above the mean");
    CHECK_FAILS(BASE "workload: {output_tokens: 100, output_tokens_max: 50}\n",
                "workload.output_tokens_max: 50 is below the mean");
    CHECK_FAILS(BASE "workload: {prompt_tokens: 100, shared_prefix_tokens: 100}\n",
                "workload.shared_prefix_tokens: 100 leaves no unique part");
    CHECK_FAILS("model: \"m\\nx\"\nendpoint: builtin\n",
                "t.yaml:1:8: model: contains a line break or control character");
    CHECK_FAILS(BASE "workload: {seed: -1}\n", "workload.seed: '-1' must be at least 0");
    CHECK_FAILS(BASE "workload: {seed: 1e30}\n", "workload.seed: '1e30' must be at most");
    CHECK_FAILS(BASE "headers:\n  - {name: \"X A\", value: b}\n",
                "t.yaml:4:5: headers: 'X A' is not a valid header name");
    CHECK_FAILS(BASE "headers:\n  - {name: X-A, value: \"a\\r\\nInjected: yes\"}\n",
                "the value of X-A contains a line break");
}

TEST(spec_null_and_empty_values_mean_not_set)
{
    struct spec s;
    struct buf err = {0};
    CHECK_EQ_INT(load(BASE "description: ~\nregistry:\nload:\n  duration: null\n  levels:\n", NULL,
                      0, &s, &err),
                 EXIT_OK);
    CHECK_EQ_STR(err.data ? err.data : "", "");
    CHECK(s.description == NULL);
    CHECK_NEAR(s.load.duration_s, 120, 0);
    CHECK_EQ_INT(s.load.n_levels, 4);
    CHECK_EQ_INT(origin(&s, "load.duration")->from, FROM_DEFAULT);
    spec_free(&s);
    buf_free(&err);
}

/* --- overrides ---------------------------------------------------------------------- */

TEST(spec_overrides_win_in_order_and_are_recorded)
{
    struct spec_overrides o = {0};
    struct buf err = {0};
    CHECK(spec_overrides_add_option(&o, "duration", "2m"));
    CHECK(spec_overrides_add_set(&o, "load.duration=45s", &err));
    CHECK(spec_overrides_add_option(&o, "levels", "2, 8"));
    CHECK(spec_overrides_add_set(&o, "instance.type=g6.12xlarge", &err));
    CHECK(spec_overrides_add_set(&o, "load.warmup=5s", &err));
    CHECK(spec_overrides_add_option(&o, "model", "other"));
    CHECK(spec_overrides_add_option(&o, "endpoint", "http://127.0.0.1:8000/v1"));
    CHECK(!spec_overrides_add_option(&o, "spec", "x.yaml")); /* not a spec field */
    struct spec s;
    CHECK_EQ_INT(load(BASE, o.items, o.count, &s, &err), EXIT_OK);
    CHECK_NEAR(s.load.duration_s, 45, 0);
    CHECK_EQ_STR(origin(&s, "load.duration")->where, "--set");
    CHECK_EQ_INT(origin(&s, "load.duration")->from, FROM_OVERRIDE);
    CHECK_EQ_INT(s.load.n_levels, 2);
    CHECK_NEAR(s.load.levels[1], 8, 0);
    CHECK_EQ_STR(origin(&s, "load.levels")->where, "--levels");
    CHECK_EQ_STR(s.model, "other");
    CHECK_EQ_STR(s.endpoint, "http://127.0.0.1:8000/v1");
    CHECK_EQ_INT(s.instance.gpu_count, 4);
    CHECK_NEAR(s.instance.hourly_usd, 4.6016, 1e-9);
    CHECK_EQ_INT(origin(&s, "instance.hourly_usd")->from, FROM_TABLE);
    CHECK_NEAR(s.load.warmup, 5, 0);
    spec_free(&s);
    spec_overrides_free(&o);
    buf_free(&err);
}

TEST(spec_override_errors_name_the_option)
{
    struct spec s;
    struct buf err = {0};
    struct spec_override bad_duration = {"load.duration", "0s", "--duration"};
    CHECK_EQ_INT(load(BASE, &bad_duration, 1, &s, &err), EXIT_USAGE);
    CHECK_CONTAINS(err.data, "--duration (load.duration): '0s' must be more than zero");
    struct spec_override bad_set = {"load.duration", "-1m", "--set"};
    CHECK_EQ_INT(load(BASE, &bad_set, 1, &s, &err), EXIT_USAGE);
    CHECK_CONTAINS(err.data, "--set load.duration: '-1m' is negative");
    struct spec_override typo = {"load.duraton", "1m", "--set"};
    CHECK_EQ_INT(load(BASE, &typo, 1, &s, &err), EXIT_USAGE);
    CHECK_CONTAINS(err.data, "--set load.duraton: unknown spec field (did you mean "
                             "'load.duration'?)");
    struct spec_override levels = {"load.levels", "1,,3", "--levels"};
    CHECK_EQ_INT(load(BASE, &levels, 1, &s, &err), EXIT_USAGE);
    CHECK_CONTAINS(err.data, "--levels (load.levels): '' is not a number");
    struct spec_override headers = {"headers", "x", "--set"};
    CHECK_EQ_INT(load(BASE, &headers, 1, &s, &err), EXIT_USAGE);
    CHECK_CONTAINS(err.data, "set them in the spec");
    struct spec_overrides o = {0};
    buf_clear(&err);
    CHECK(!spec_overrides_add_set(&o, "load.duration", &err));
    CHECK_CONTAINS(err.data, "expected key.path=value");
    CHECK(!spec_overrides_add_set(&o, "=5", &err));
    spec_overrides_free(&o);
    buf_free(&err);
}

TEST(spec_empty_override_restores_the_default)
{
    struct spec s;
    struct buf err = {0};
    const struct spec_override o[] = {{"load.levels", "", "--set"}, {"instance.type", "", "--set"}};
    CHECK_EQ_INT(load(BASE "instance: {type: g6.xlarge}\nload: {levels: [3]}\n", o, 2, &s, &err),
                 EXIT_OK);
    CHECK_EQ_INT(s.load.n_levels, 4);
    CHECK(s.instance.type == NULL);
    CHECK_NEAR(s.instance.hourly_usd, 0, 0);
    CHECK_EQ_INT(origin(&s, "load.levels")->from, FROM_DEFAULT);
    spec_free(&s);
    buf_free(&err);
}

TEST(spec_tokenizer_option_picks_repo_or_path)
{
    struct spec s;
    struct buf err = {0};
    const char *yaml = BASE "tokenizer: {repo: a/b, revision: r1}\n";
    struct spec_override repo = {"tokenizer", "org/name@abc", "--tokenizer"};
    CHECK_EQ_INT(load(yaml, &repo, 1, &s, &err), EXIT_OK);
    CHECK_EQ_STR(s.tokenizer.repo, "org/name");
    CHECK_EQ_STR(s.tokenizer.revision, "abc");
    CHECK(s.tokenizer.path == NULL);
    spec_free(&s);
    struct spec_override path = {"tokenizer", "./tokenizer.json", "--tokenizer"};
    CHECK_EQ_INT(load(yaml, &path, 1, &s, &err), EXIT_OK);
    CHECK_EQ_STR(s.tokenizer.path, "./tokenizer.json");
    CHECK(s.tokenizer.repo == NULL && s.tokenizer.revision == NULL);
    spec_free(&s);
    struct spec_override plain = {"tokenizer", "org/other", "--tokenizer"};
    CHECK_EQ_INT(load(yaml, &plain, 1, &s, &err), EXIT_OK);
    CHECK_EQ_STR(s.tokenizer.repo, "org/other");
    CHECK(s.tokenizer.revision == NULL); /* r1 belonged to the spec's repo */
    spec_free(&s);
    buf_free(&err);
}

TEST(spec_command_line_only_run)
{
    struct spec_overrides o = {0};
    spec_overrides_add_option(&o, "endpoint", "http://localhost:8000/v1");
    spec_overrides_add_option(&o, "model", "qwen");
    spec_overrides_add_option(&o, "api", "completions");
    spec_overrides_add_option(&o, "profile", "constant");
    spec_overrides_add_option(&o, "levels", "[1, 2.5]");
    spec_overrides_add_option(&o, "max-requests", "100");
    spec_overrides_add_option(&o, "prompt-tokens", "128");
    spec_overrides_add_option(&o, "output-tokens", "64");
    spec_overrides_add_option(&o, "output-dir", "/tmp/out");
    spec_overrides_add_option(&o, "workers", "4");
    struct spec s;
    struct buf err = {0};
    CHECK_EQ_INT(spec_load(NULL, NULL, o.items, o.count, &s, &err), EXIT_OK);
    CHECK_EQ_STR(err.data ? err.data : "", "");
    CHECK_EQ_STR(s.name, "qwen");
    CHECK_EQ_INT(s.api, API_COMPLETIONS);
    CHECK_EQ_INT(s.load.profile, PROFILE_CONSTANT);
    CHECK_NEAR(s.load.levels[1], 2.5, 0);
    CHECK_EQ_INT(s.load.max_requests, 100);
    CHECK_EQ_INT(s.workload.prompt_tokens.mean, 128);
    CHECK_EQ_INT(s.workload.output_tokens.mean, 64);
    CHECK_EQ_STR(s.outputs.dir, "/tmp/out");
    CHECK_EQ_INT(s.load.workers, 4);
    spec_free(&s);
    spec_overrides_free(&o);
    buf_free(&err);
}

TEST(spec_every_run_option_maps_to_a_field)
{
    int n = 0;
    for (const struct spec_option *opt = spec_options; opt->option; opt++, n++) {
        bool found = strcmp(opt->path, "tokenizer") == 0;
        for (size_t i = 0; i < spec_field_count() && !found; i++)
            found = strcmp(spec_field_path(i), opt->path) == 0;
        CHECK(found);
        CHECK(strncmp(opt->origin, "--", 2) == 0 && strcmp(opt->origin + 2, opt->option) == 0);
    }
    CHECK_EQ_INT(n, 12);

    /* the option table `run` and `validate` share has each of them, and --set */
    static const struct cli_option table[] = {SPEC_CLI_OPTIONS, {0}};
    int in_table = 0;
    for (const struct cli_option *c = table; c->name; c++, in_table++) {
        struct spec_overrides o = {0};
        bool known = spec_overrides_add_option(&o, c->name, "x");
        CHECK(known || strcmp(c->name, "set") == 0);
        CHECK(c->value && c->help);
        spec_overrides_free(&o);
    }
    CHECK_EQ_INT(in_table, n + 1);
}

/* --- rendering -------------------------------------------------------------------- */

TEST(spec_plan_shows_levels_time_price_and_sources)
{
    setenv("CLUSTER_DOMAIN", "apps.example.com", 1);
    struct spec s;
    struct buf err = {0};
    const struct spec_override o = {"load.duration", "90s", "--duration"};
    CHECK_EQ_INT(spec_load("mistral-24b", NULL, &o, 1, &s, &err), EXIT_OK);
    struct buf plan = {0};
    spec_render_plan(&s, &plan);
    CHECK_CONTAINS(plan.data, "plan: profile concurrent, 4 levels of 1m 30s each");
    CHECK_CONTAINS(plan.data, "concurrency 25");
    CHECK_CONTAINS(plan.data, "total        6m at most");
    CHECK_CONTAINS(plan.data, "instance: g6.12xlarge, 4 x NVIDIA L4, $4.6016 per hour (table");
    CHECK_CONTAINS(plan.data, "price source: AWS EC2 On-Demand");
    CHECK_CONTAINS(plan.data, "load.duration                  1m 30s  (override --duration)");
    CHECK_CONTAINS(plan.data, "api                            chat  (spec "
                              "embedded:mistral-24b:10)");
    CHECK_CONTAINS(plan.data, "load.workers                   1  (default)");
    spec_free(&s);
    buf_free(&plan);
    buf_free(&err);
}

TEST(spec_plan_hides_secret_header_values)
{
    struct spec s;
    struct buf err = {0};
    CHECK_EQ_INT(load(BASE "headers:\n  - {name: Authorization, value: Bearer sekrit}\n"
                           "  - {name: X-Tenant, value: blue}\n",
                      NULL, 0, &s, &err),
                 EXIT_OK);
    struct buf plan = {0};
    spec_render_plan(&s, &plan);
    CHECK(!strstr(plan.data, "sekrit"));
    CHECK_CONTAINS(plan.data, "Authorization: (hidden); X-Tenant: blue");
    spec_free(&s);
    buf_free(&plan);
    buf_free(&err);
}

TEST(spec_durations_format_like_specs)
{
    struct buf b = {0};
    const struct {
        double s;
        const char *text;
    } cases[] = {{5, "5s"},      {2.5, "2.5s"}, {60, "1m"},          {120, "2m"},
                 {90, "1m 30s"}, {3600, "1h"},  {5400, "1h 30m 0s"}, {0, "0s"}};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        buf_clear(&b);
        spec_format_duration(&b, cases[i].s);
        CHECK_EQ_STR(b.data, cases[i].text);
    }
    buf_free(&b);
}

TEST(spec_names_of_enums)
{
    CHECK_EQ_STR(api_kind_name(API_CHAT), "chat");
    CHECK_EQ_STR(api_kind_name(API_COMPLETIONS), "completions");
    CHECK_EQ_STR(load_profile_name(PROFILE_POISSON), "poisson");
    CHECK_EQ_STR(load_profile_name(PROFILE_SWEEP), "sweep");
    CHECK(load_profile_is_open_loop(PROFILE_CONSTANT));
    CHECK(!load_profile_is_open_loop(PROFILE_CONCURRENT));
    CHECK(!load_profile_is_open_loop(PROFILE_SWEEP));
    CHECK_EQ_STR(publish_mode_name(PUBLISH_BOTH), "both");
    CHECK_EQ_STR(value_source_name(FROM_TABLE), "table");
}
