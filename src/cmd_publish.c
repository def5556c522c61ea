/* `llmsweep publish RESULTS`: put a benchmark's summary on its model version
 * in the Model Registry (description block and/or typed customProperties).
 *
 * The command reads top to bottom as it runs: load the results, choose the
 * levels and price them (publish.h), find the model and the version by exact
 * name (registry.h), merge our block and our properties into what is there,
 * PATCH only when something changes, then read the version back and check
 * that what we wrote is what the registry holds. When the PATCH fails in a
 * retryable way, or the read-back shows another writer's PATCH in place of
 * ours, the whole cycle runs again after a jittered pause: the registry has
 * no ETag, so re-reading is the only way not to overwrite what others wrote
 * since our read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "prices.h"
#include "publish.h"
#include "registry.h"
#include "results.h"
#include "spec.h"
#include "util.h"
#include "version.h"
#include "waitfile.h"

#define MAX_CA_FILES 16
/* Read-merge-write cycles again when another writer raced us: --retries,
 * but at least this many (--retries 0 still merges once more). */
#define PUBLISH_MIN_CONFLICT_RETRIES 1
#define PUBLISH_AGAIN (-1) /* publish_once: read, merge and write once more */

static const struct cli_option options[] = {
    {"registry-url", 0, "URL", "Model Registry REST endpoint (a path prefix is fine)", false},
    {"model", 0, "NAME", "registered model name (exact, case-sensitive)", false},
    {"version", 0, "NAME", "model version name (exact, case-sensitive)", false},
    {"mode", 0, "WHAT", "description, properties or both (default both, one PATCH)", false},
    {"level", 0, "N|LABEL|all", "target concurrency/rate (5), label (c5, r2_5) or all", false},
    {"spec", 0, "NAME|FILE", "instance, price and registry settings from this run spec", false},
    {"instance-type", 0, "TYPE", "the instance that served the model (g6.4xlarge)", false},
    {"gpu-count", 0, "N", "GPUs serving the model", false},
    {"hourly-usd", 0, "PRICE", "instance price per hour, USD (for cost per 1K tokens)", false},
    {"token-file", 0, "FILE", "bearer token file, read again for every request", false},
    {"token-env", 0, "NAME", "environment variable holding the bearer token", false},
    {"ca-file", 0, "FILE", "also trust the CA certificates in FILE (PEM)", true},
    {"insecure", 0, NULL, "do not verify the registry's certificate (unsafe; warned)", false},
    {"retries", 0, "N", "retries on 429, 5xx, connection errors, cut answers, races (default 5)",
     false},
    {"retry-delay", 0, "DURATION", "first pause before a retry, doubling (default 1s)", false},
    {"retry-max-delay", 0, "DURATION", "longest pause before a retry (default 30s)", false},
    {"request-timeout", 0, "DURATION", "give up on one request after this long (default 60s)",
     false},
    {"keep-blocks", 0, "N", "llmsweep blocks kept in the description (default 5; 0: all)", false},
    {"force", 0, NULL, "publish even when a chosen level has no successful request", false},
    {"dry-run", 'n', NULL, "print the requests; send only GETs, change nothing", false},
    {"verbose", 'v', NULL, "print every request (token redacted) and its status", false},
    {0},
};

/* --mode takes the names of the spec's registry.mode. */
static bool parse_mode(const char *text, enum publish_mode *mode)
{
    for (enum publish_mode m = PUBLISH_DESCRIPTION; m <= PUBLISH_BOTH; m++) {
        if (strcmp(text, publish_mode_name(m)) == 0) {
            *mode = m;
            return true;
        }
    }
    return false;
}

/* The instance and its price: the results file's own, then the spec's, then
 * the options, each overriding what came before. An --instance-type without
 * --hourly-usd takes its price (and GPU count) from the price table. */
static int resolve_pricing(const struct cli_args *args, const struct results *r,
                           const struct spec *spec, struct publish_pricing *p)
{
    *p = (struct publish_pricing){
        .instance_type = r->instance.type,
        .gpu_count = r->instance.gpu_count,
        .hourly_usd = r->instance.hourly_usd,
    };
    if (spec && (spec->instance.type || spec->instance.hourly_usd > 0)) {
        p->instance_type = spec->instance.type;
        p->gpu_count = spec->instance.gpu_count;
        p->hourly_usd = spec->instance.hourly_usd;
    }
    const char *type = cli_get(args, "instance-type");
    if (type) {
        if (!*type)
            return cli_usage_error(args->command, "--instance-type must not be empty");
        p->instance_type = type;
        p->hourly_usd = 0;
        struct buf err = {0};
        struct price_table *table = price_table_embedded(&err);
        const struct instance_price *known = table ? price_table_find(table, type) : NULL;
        if (known) {
            p->hourly_usd = known->hourly_usd;
            p->gpu_count = known->gpu_count;
        } else if (!cli_get(args, "hourly-usd")) {
            const char *near = table ? price_table_closest(table, type) : NULL;
            cli_warn("instance type '%s' is not in the price table%s%s%s: pass --hourly-usd", type,
                     near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        }
        price_table_free(table);
        buf_free(&err);
    }
    uint64_t gpus = p->gpu_count > 0 ? (uint64_t)p->gpu_count : 0;
    if (!cli_uint(args, "gpu-count", 1, 1024, &gpus))
        return EXIT_USAGE;
    p->gpu_count = (int)gpus;
    if (cli_get(args, "hourly-usd")) {
        if (!cli_double(args, "hourly-usd", &p->hourly_usd))
            return EXIT_USAGE;
        if (!(p->hourly_usd > 0))
            return cli_usage_error(args->command, "--hourly-usd must be more than 0");
    }
    return -1;
}

/* --spec: only its instance and registry sections matter here, so the
 * endpoint (whose ${VAR}s belong to the benchmark's environment) is set
 * aside rather than expanded. */
static int load_spec(const char *arg, struct spec *spec)
{
    struct spec_override no_endpoint = {"endpoint", "builtin", "publish"};
    bool is_file = spec_arg_is_file(arg);
    struct buf err = {0};
    int rc = spec_load(is_file ? NULL : arg, is_file ? arg : NULL, &no_endpoint, 1, spec, &err);
    if (rc != EXIT_OK)
        cli_error("%s", err.data);
    buf_free(&err);
    return rc;
}

struct publish_job {
    struct registry_client *client;
    const char *model_name, *version_name;
    bool set_description, set_properties; /* from --mode */
    int keep_blocks;
    const struct publish_plan *plan;
    const char *block;
    const cJSON *ours;
};

/* What we wrote, as the registry now holds it. The PATCH answer echoes the
 * request, so this reads the version again. */
static bool verify(const struct publish_job *job, const cJSON *version, struct buf *why)
{
    if (job->set_description) {
        const char *d = registry_string(version, "description");
        const char *first = d ? strstr(d, job->block) : NULL;
        if (!first) {
            buf_puts(why, "the description does not hold our block");
            return false;
        }
        if (strstr(first + 1, job->block)) {
            buf_puts(why, "the description holds our block twice");
            return false;
        }
    }
    if (job->set_properties) {
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(version, "customProperties");
        const cJSON *item;
        cJSON_ArrayForEach(item, job->ours)
        {
            const cJSON *got = cJSON_GetObjectItemCaseSensitive(props, item->string);
            if (!got || !cJSON_Compare(got, item, true)) {
                buf_printf(why, "customProperties.%s is %s", item->string,
                           got ? "not what we wrote" : "missing");
                return false;
            }
        }
    }
    return true;
}

/* What earlier read-merge-write cycles ran into. */
struct publish_attempts {
    int conflicts;     /* read back something else than we wrote: another writer */
    int patch_retries; /* PATCHes that failed in a retryable way */
    bool vanished;     /* the PATCH answered 404: the version went away */
};

/* A PATCH that failed. The registry has no ETag: its body is a full map
 * merged into what we read, so after a pause it may undo another writer's
 * change. A retryable failure is therefore retried by reading the version
 * again (an applied PATCH whose answer was lost then reads as done), and a
 * 404 (deleted, or deleted and created again) by looking it up again. */
static int patch_failed(const struct publish_job *job, struct publish_attempts *a,
                        struct registry_reply *reply, const char *where)
{
    struct registry_client *c = job->client;
    if (reply->status == 404 && !a->vanished) {
        a->vanished = true;
        cli_warn("%s is gone (%s): deleted while publishing? looking it up again", where,
                 reply->message);
        return PUBLISH_AGAIN;
    }
    if (reply->retryable && a->patch_retries < c->retry.retries) {
        double delay =
            registry_backoff_delay(&c->retry, a->patch_retries, random_uniform(&c->jitter_state));
        a->patch_retries++;
        cli_warn("%s; reading the version again and retrying in %.1fs (retry %d of %d)",
                 reply->message, delay, a->patch_retries, c->retry.retries);
        sleep_seconds(delay);
        return PUBLISH_AGAIN;
    }
    if (reply->retryable && c->retry.retries > 0)
        cli_error("%s (gave up after %d attempts)", reply->message, a->patch_retries + 1);
    else
        cli_error("%s", reply->message);
    return EXIT_FAILED;
}

/* One read-merge-write cycle. Returns an exit code, or PUBLISH_AGAIN. */
static int publish_once(const struct publish_job *job, struct publish_attempts *a)
{
    struct registry_client *c = job->client;
    int conflict_retries = c->retry.retries > PUBLISH_MIN_CONFLICT_RETRIES
                               ? c->retry.retries
                               : PUBLISH_MIN_CONFLICT_RETRIES;
    bool last_try = a->conflicts >= conflict_retries;
    struct buf err = {0};
    cJSON *model = NULL, *version = NULL;
    int rc = EXIT_FAILED;
    enum registry_lookup found = registry_find_model(c, job->model_name, &model, &err);
    if (found == REGISTRY_FOUND)
        found = registry_find_version(c, model, job->version_name, &version, &err);
    if (found != REGISTRY_FOUND) {
        cli_error("%s", err.data);
        goto done;
    }
    const char *id = registry_string(version, "id");
    if (!id) {
        cli_error("the registry's model version has no \"id\"");
        goto done;
    }

    struct publish_merge_report rep = {0};
    cJSON *body = cJSON_CreateObject();
    bool changed = false;
    if (job->set_description) {
        const char *old = registry_string(version, "description");
        char *text =
            publish_merge_description(old, job->plan->key, job->block, job->keep_blocks, &rep);
        changed |= !old || strcmp(old, text) != 0;
        cJSON_AddStringToObject(body, "description", text);
        free(text);
    }
    if (job->set_properties) {
        const cJSON *existing = cJSON_GetObjectItemCaseSensitive(version, "customProperties");
        cJSON *merged = publish_merge_properties(existing, job->ours, &rep);
        changed |= !existing || !cJSON_Compare(existing, merged, true);
        cJSON_AddItemToObject(body, "customProperties", merged);
    }
    char where[600];
    snprintf(where, sizeof where, "model '%s' version '%s' (id %s)", job->model_name,
             job->version_name, id);
    if (!changed) {
        if (a->patch_retries)
            cli_info("published run %s (%s) to %s: the PATCH whose answer was lost had been "
                     "applied",
                     job->plan->key, job->plan->all ? "all levels" : job->plan->levels[0].label,
                     where);
        else
            cli_info("%s already holds this run's summary: nothing to change", where);
        cJSON_Delete(body);
        rc = EXIT_OK;
        goto done;
    }
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    struct buf path = {0};
    buf_puts(&path, "/model_versions/");
    http_url_encode(id, &path);
    struct registry_reply reply;
    struct registry_retry_policy policy = c->retry;
    c->retry.retries = 0; /* patch_failed retries, reading the version first */
    bool ok = registry_call(c, "PATCH", path.data, text, &reply);
    c->retry = policy;
    free(text);
    if (!ok) {
        rc = patch_failed(job, a, &reply, where);
        registry_reply_free(&reply);
        buf_free(&path);
        goto done;
    }
    bool dry = reply.not_sent;
    registry_reply_free(&reply);
    if (dry) {
        cli_info("dry run: the PATCH above was not sent; %s would change", where);
        buf_free(&path);
        rc = EXIT_OK;
        goto done;
    }
    ok = registry_call(c, "GET", path.data, NULL, &reply);
    buf_free(&path);
    if (!ok) {
        cli_error("published, but reading %s back failed: %s", where, reply.message);
        registry_reply_free(&reply);
        goto done;
    }
    struct buf why = {0};
    if (!verify(job, reply.json, &why)) {
        if (last_try) {
            cli_error("%s after publishing to %s: another writer changed it at the same time, "
                      "%d times in a row (the registry has no ETag; last writer wins): publish "
                      "again",
                      why.data, where, a->conflicts + 1);
            rc = EXIT_FAILED;
        } else {
            /* Writers that collided at once would collide again: a
             * jittered pause sets them apart. */
            double delay =
                registry_backoff_delay(&c->retry, a->conflicts, random_uniform(&c->jitter_state));
            a->conflicts++;
            cli_warn("%s after publishing to %s (another writer?); merging and publishing again "
                     "in %.1fs (retry %d of %d)",
                     why.data, where, delay, a->conflicts, conflict_retries);
            sleep_seconds(delay);
            rc = PUBLISH_AGAIN;
        }
    } else {
        struct buf what = {0};
        if (job->set_description)
            buf_printf(&what, "description block %s%s%s", rep.replaced ? "replaced" : "added",
                       rep.duplicates_removed ? " (a duplicate removed)" : "",
                       rep.pruned ? ", older blocks dropped" : "");
        if (job->set_properties)
            buf_printf(&what, "%s%d properties set, %d others kept, %d stale removed",
                       what.len ? "; " : "", rep.set, rep.kept, rep.removed);
        cli_info("published run %s (%s) to %s: %s", job->plan->key,
                 job->plan->all ? "all levels" : job->plan->levels[0].label, where, what.data);
        buf_free(&what);
        rc = EXIT_OK;
    }
    buf_free(&why);
    registry_reply_free(&reply);
done:
    cJSON_Delete(model);
    cJSON_Delete(version);
    buf_free(&err);
    return rc;
}

static int run_publish(const struct cli_args *args)
{
    const struct cli_command *cmd = args->command;
    struct spec spec_storage = {0}, *spec = NULL;
    if (cli_get(args, "spec")) {
        int src = load_spec(cli_get(args, "spec"), &spec_storage);
        if (src != EXIT_OK)
            return src;
        spec = &spec_storage;
    }
    /* The options first, then the spec's registry section. */
    const char *url = cli_get(args, "registry-url");
    const char *model = cli_get(args, "model");
    const char *version = cli_get(args, "version");
    const char *token_file = cli_get(args, "token-file");
    const char *token_env = cli_get(args, "token-env");
    const char *ca_files[MAX_CA_FILES + 1];
    size_t n_ca = cli_get_all(args, "ca-file", ca_files, MAX_CA_FILES);
    enum publish_mode mode = spec ? spec->registry.mode : PUBLISH_BOTH;
    if (spec) {
        url = url ? url : spec->registry.url;
        model = model ? model : spec->registry.model;
        version = version ? version : spec->registry.version;
        if (!token_file && !token_env)
            token_file = spec->registry.token_file;
        if (spec->registry.ca_file && n_ca < MAX_CA_FILES)
            ca_files[n_ca++] = spec->registry.ca_file;
    }
    int rc = EXIT_USAGE;
    if (!url || !model || !version) {
        cli_usage_error(cmd, "--registry-url, --model and --version are required (or a --spec "
                             "whose registry section names them)");
        goto out_spec;
    }
    if (!*model || !*version) {
        cli_usage_error(cmd, "--model and --version must not be empty");
        goto out_spec;
    }
    if (cli_get(args, "mode") && !parse_mode(cli_get(args, "mode"), &mode)) {
        cli_usage_error(cmd, "--mode must be description, properties or both, not '%s'",
                        cli_get(args, "mode"));
        goto out_spec;
    }
    uint64_t retries = REGISTRY_DEFAULT_RETRIES, keep = PUBLISH_DEFAULT_KEEP_BLOCKS;
    struct registry_retry_policy retry = {
        .base_delay_s = REGISTRY_DEFAULT_BASE_DELAY_S,
        .max_delay_s = REGISTRY_DEFAULT_MAX_DELAY_S,
    };
    double request_timeout = REGISTRY_REQUEST_TIMEOUT_S;
    if (!cli_uint(args, "retries", 0, 100, &retries) ||
        !cli_uint(args, "keep-blocks", 0, 1000, &keep) ||
        !cli_duration(args, "retry-delay", &retry.base_delay_s) ||
        !cli_duration(args, "retry-max-delay", &retry.max_delay_s) ||
        !cli_duration(args, "request-timeout", &request_timeout))
        goto out_spec;
    if (!(request_timeout > 0)) {
        cli_usage_error(cmd, "--request-timeout must be more than 0");
        goto out_spec;
    }
    retry.retries = (int)retries;
    if (retry.max_delay_s < retry.base_delay_s)
        retry.max_delay_s = retry.base_delay_s;
    if (cli_get_all(args, "ca-file", NULL, 0) > MAX_CA_FILES) {
        cli_usage_error(cmd, "at most %d --ca-file options", MAX_CA_FILES);
        goto out_spec;
    }
    if (cli_get(args, "token-file") && token_env) {
        cli_usage_error(cmd, "give --token-file or --token-env, not both");
        goto out_spec;
    }

    char *path = waitfile_results_path(args->positional[0]);
    struct results results;
    struct buf err = {0};
    struct publish_plan plan = {0};
    struct buf block = {0};
    cJSON *ours = NULL;
    struct registry_client client = {0};
    bool client_open = false;
    if (!results_load(path, &results, &err)) {
        cli_error("%s", err.data);
        goto out_path;
    }
    if (results.interrupted)
        cli_warn("%s holds the partial results of an interrupted run", path);

    struct publish_pricing pricing;
    int prc = resolve_pricing(args, &results, spec, &pricing);
    if (prc >= 0) {
        rc = prc;
        goto out;
    }
    if (!publish_plan_make(&results, cli_get(args, "level"), &pricing, &plan, &err)) {
        cli_error("%s: %s", path, err.data);
        goto out;
    }
    if (!(pricing.hourly_usd > 0))
        cli_warn("no instance price (pass --spec, --instance-type or --hourly-usd): publishing "
                 "without cost figures");
    if (!publish_plan_has_successes(&plan, &err)) {
        if (!cli_flag(args, "force")) {
            cli_error("refusing to publish zeros: %s; check the endpoint and the run's errors, "
                      "or pass --force to publish anyway",
                      err.data);
            rc = EXIT_FAILED;
            goto out;
        }
        cli_warn("publishing anyway (--force): %s", err.data);
    }
    publish_render_block(&plan, &block);
    ours = publish_render_properties(&plan);

    struct registry_options ro = {
        .url = url,
        .token_file = token_file,
        .token_env = token_env,
        .ca_files = ca_files,
        .n_ca_files = n_ca,
        .insecure = cli_flag(args, "insecure"),
        .retry = retry,
        .request_timeout_s = request_timeout,
        .dry_run = cli_flag(args, "dry-run"),
        .verbose = cli_flag(args, "verbose"),
        .out = stdout,
    };
    buf_clear(&err);
    if (!registry_open(&client, &ro, &err)) {
        cli_error("%s", err.data);
        goto out;
    }
    client_open = true;
    struct publish_job job = {
        .client = &client,
        .model_name = model,
        .version_name = version,
        .set_description = mode != PUBLISH_PROPERTIES,
        .set_properties = mode != PUBLISH_DESCRIPTION,
        .keep_blocks = (int)keep,
        .plan = &plan,
        .block = block.data,
        .ours = ours,
    };
    struct publish_attempts attempts = {0};
    do
        rc = publish_once(&job, &attempts);
    while (rc == PUBLISH_AGAIN);
out:
    if (client_open)
        registry_close(&client);
    cJSON_Delete(ours);
    buf_free(&block);
    publish_plan_free(&plan);
    results_free(&results);
out_path:
    buf_free(&err);
    free(path);
out_spec:
    if (spec)
        spec_free(spec);
    return rc;
}

const struct cli_command cmd_publish = {
    .name = "publish",
    .synopsis = "RESULTS",
    .summary = "Publish a results file to its model version in the Model Registry.",
    .description =
        "RESULTS is llmsweep's benchmarks.json or GuideLLM's results file of any era\n"
        "(a directory means DIR/benchmarks.json). The model version gets a summary block\n"
        "in its description and typed customProperties (benchmark_throughput,\n"
        "benchmark_ttft_p50, benchmark_cost_per_1k, ...; --level all adds\n"
        "benchmark_level_<label>_* keys). The block is keyed by the run id: publishing\n"
        "the same run again replaces its own block; other text and other properties stay.\n"
        "Default level: the one whose mean concurrency is 5 +/- 1, else the first.\n"
        "Price: the results file's instance, overridden by --spec, then by the options;\n"
        "cost per 1K tokens = hourly_usd / (tokens/s * 3600) * 1000, for total (prompt +\n"
        "output) and for output tokens/s of successful requests.\n"
        "Token: --token-file, --token-env NAME, $" REGISTRY_TOKEN_VARIABLE ", else the pod's\n"
        "ServiceAccount token (https or loopback only); read per request, never printed.\n"
        "CA: the system bundle, the ServiceAccount ca.crt and service-ca.crt, --ca-file.\n"
        "429, 5xx, connection errors and cut-off answers are retried with back-off and\n"
        "jitter; other errors stop at once with the registry's message. A failed PATCH,\n"
        "or one another writer overwrote (the registry has no ETag), is retried by\n"
        "reading the version, merging and writing again. --dry-run sends only GETs (to\n"
        "compute the exact PATCH) and prints every request.\n"
        "Exit codes: 0 published (or nothing to change), 1 the registry refused or could\n"
        "not be reached, or a level has no successful request, 2 bad options or results.",
    .options = options,
    .min_args = 1,
    .max_args = 1,
    .run = run_publish,
};
