/* `llmsweep run`: the benchmark. spec -> plan -> preflight -> engine, level
 * by level -> records -> outputs. Signals: the first SIGINT/SIGTERM stops
 * the sweep and keeps what was measured (exit 3); a second one exits at
 * once. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "commands.h"
#include "engine.h"
#include "http.h"
#include "mockserver.h"
#include "openai.h"
#include "plan.h"
#include "progress.h"
#include "record.h"
#include "spec.h"
#include "util.h"

static const struct cli_option options[] = {
    {"spec", 0, "FILE", "run spec file (YAML), e.g. a mounted ConfigMap", false},
    SPEC_CLI_OPTIONS,
    {"quiet", 'q', NULL, "no progress output", false},
    {0},
};

/* --- signals ------------------------------------------------------------- */

struct interrupts {
    int fd; /* signalfd for SIGINT and SIGTERM, blocked in every thread */
    int count;
};

static bool on_interrupt(void *ctx);

/* --- prompts without a tokenizer ---------------------------------------- */

/* Until a tokenizer is configured, a prompt of N tokens is approximated as
 * 4 * N bytes of text (the mock server counts ceil(bytes / 4)), led by the
 * request's sequence number so no two prompts share a prefix. */
struct approx_prompts {
    char **text; /* one buffer per worker */
    int prompt_tokens, output_tokens;
};

static void approx_next(void *ctx, unsigned worker, uint64_t seq, struct engine_prompt *out)
{
    static const char words[] = "benchmark token stream latency model serve measure price ";
    struct approx_prompts *ap = ctx;
    size_t bytes = (size_t)ap->prompt_tokens * 4;
    char *text = ap->text[worker];
    int head = snprintf(text, bytes + 1, "%llu ", (unsigned long long)seq);
    for (size_t i = (size_t)head; i < bytes; i++)
        text[i] = words[(i - (size_t)head) % (sizeof words - 1)];
    text[bytes] = '\0';
    *out = (struct engine_prompt){text, ap->prompt_tokens, ap->output_tokens};
}

/* --- the run ---------------------------------------------------------------- */

struct run_context {
    const struct spec *spec;
    struct progress progress;
    struct interrupts interrupts;
    const struct level_plan *current;
};

static bool on_interrupt(void *ctx)
{
    struct run_context *rc = ctx;
    struct signalfd_siginfo info;
    if (read(rc->interrupts.fd, &info, sizeof info) != sizeof info)
        return false;
    if (++rc->interrupts.count > 1) {
        static const char msg[] = "\nllmsweep: second signal: exiting now, results not written\n";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
        _exit(128 + (int)info.ssi_signo);
    }
    fprintf(stderr, "\nllmsweep: %s: stopping the sweep and writing what was measured "
                    "(send it again to exit at once)\n",
            strsignal((int)info.ssi_signo));
    return true;
}

static void on_progress(void *ctx, const struct level_plan *plan, const struct engine_progress *p)
{
    struct run_context *rc = ctx;
    progress_update(&rc->progress, plan, p);
}

static void raise_fd_limit(void)
{
    /* Thousands of streams need thousands of sockets. */
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

/* GET {endpoint}/models must answer and list the model. */
static bool preflight(const struct spec *spec, const char *endpoint, const struct http_config *http,
                      const char *const *headers, size_t n_headers)
{
    char *url = xasprintf("%s/models", endpoint);
    struct http_request req = {.url = url, .headers = headers, .n_headers = n_headers};
    struct http_response resp;
    struct http_failure fail;
    bool ok = false;
    if (!http_perform(http, &req, &resp, &fail)) {
        cli_error("preflight: %s", fail.message);
        goto done;
    }
    if (resp.status != 200) {
        char *msg = openai_error_message(resp.body.data, resp.body.len, 200);
        cli_error("preflight: GET %s answered HTTP %ld: %s", url, resp.status, msg);
        if (resp.status == 401 || resp.status == 403)
            cli_error("the endpoint wants credentials: set the spec's api_key_env or api_key_file");
        free(msg);
        goto done;
    }
    char **ids;
    int n = openai_parse_models(resp.body.data, resp.body.len, &ids);
    if (n < 0) {
        cli_error("preflight: GET %s did not return an OpenAI model list; is the endpoint the "
                  "server's /v1 URL?",
                  url);
        goto done;
    }
    struct buf served = {0};
    for (int i = 0; i < n; i++) {
        if (strcmp(ids[i], spec->model) == 0)
            ok = true;
        buf_printf(&served, "%s%s", i ? ", " : "", ids[i]);
        free(ids[i]);
    }
    free(ids);
    if (!ok)
        cli_error("preflight: %s does not serve model '%s'; it serves: %s", endpoint,
                  spec->model, served.len ? served.data : "(nothing)");
    buf_free(&served);
done:
    http_response_free(&resp);
    free(url);
    return ok;
}

/* The API key, from the environment variable or the file the spec names. */
static char *read_api_key(const struct spec *spec, struct buf *err)
{
    if (spec->api_key_env) {
        const char *v = getenv(spec->api_key_env);
        if (!v || !*v) {
            buf_printf(err, "the spec takes the API key from $%s, which is not set",
                       spec->api_key_env);
            return NULL;
        }
        return xstrdup(v);
    }
    if (spec->api_key_file) {
        struct buf key = {0};
        if (!read_file(spec->api_key_file, &key)) {
            buf_printf(err, "cannot read the API key file %s: %s", spec->api_key_file,
                       strerror(errno));
            buf_free(&key);
            return NULL;
        }
        while (key.len && (key.data[key.len - 1] == '\n' || key.data[key.len - 1] == '\r'))
            key.data[--key.len] = '\0';
        return buf_steal(&key);
    }
    return NULL;
}

static void summarize_level(const struct level_run *level, const struct level_plan *plan,
                            char *line, size_t n)
{
    uint64_t ok = 0, errored = 0, incomplete = 0, tokens = 0;
    for (size_t i = 0; i < level->n_records; i++) {
        const struct request_record *r = &level->records[i];
        if (r->outcome == OUTCOME_OK) {
            ok++;
            if (r->output_tokens > 0)
                tokens += (uint64_t)r->output_tokens;
        } else if (r->outcome == OUTCOME_ERROR) {
            errored++;
        } else {
            incomplete++;
        }
    }
    double seconds = (double)(level->end_ns - level->start_ns) / NS_PER_SEC;
    snprintf(line, n, "%s %g: %llu ok, %llu errors, %llu incomplete in %.1fs; %.2f req/s, %.1f output tok/s%s%s",
             load_profile_name(plan->profile), plan->target, (unsigned long long)ok,
             (unsigned long long)errored, (unsigned long long)incomplete, seconds,
             seconds > 0 ? (double)ok / seconds : 0, seconds > 0 ? (double)tokens / seconds : 0,
             level->abort_reason ? "; stopped: " : "", level->abort_reason ? level->abort_reason : "");
}

/* One JSON line per request: the raw measurements, monotonic ns relative
 * to the run's start. */
static bool write_records(const struct run *run, const char *dir, struct buf *err)
{
    char *path = xasprintf("%s/requests.jsonl", dir);
    char *tmp = xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        buf_printf(err, "cannot write %s: %s", tmp, strerror(errno));
        free(path), free(tmp);
        return false;
    }
    for (size_t l = 0; l < run->n_levels; l++) {
        const struct level_run *level = &run->levels[l];
        for (size_t i = 0; i < level->n_records; i++) {
            const struct request_record *r = &level->records[i];
#define REL(t) ((t) ? (long long)((t) - run->mono_start_ns) : -1LL)
            fprintf(f,
                    "{\"id\":%llu,\"level\":%u,\"worker\":%u,\"measured\":%s,\"outcome\":\"%s\","
                    "\"error\":\"%s\",\"http_status\":%d,\"intended_ns\":%lld,\"send_ns\":%lld,"
                    "\"first_byte_ns\":%lld,\"first_token_ns\":%lld,\"last_token_ns\":%lld,"
                    "\"end_ns\":%lld,\"chunks\":%u,\"prompt_tokens\":%d,\"output_tokens\":%d,"
                    "\"token_source\":\"%s\",\"connection_retries\":%u,\"server_first_token_ns\":%lld",
                    (unsigned long long)r->id, r->level, r->worker, r->measured ? "true" : "false",
                    request_outcome_name(r->outcome), request_error_name(r->error), r->http_status,
                    REL(r->intended_ns), REL(r->send_ns), REL(r->first_byte_ns),
                    REL(r->first_token_ns), REL(r->last_token_ns), REL(r->end_ns), r->n_chunks,
                    r->prompt_tokens, r->output_tokens, token_source_name(r->token_source),
                    r->connection_retries, REL(r->server_first_token_ns));
#undef REL
            if (r->error_message) {
                char *escaped = cJSON_PrintUnformatted(cJSON_CreateString(r->error_message));
                fprintf(f, ",\"message\":%s", escaped);
                free(escaped);
            }
            fputs("}\n", f);
        }
    }
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok)
        buf_printf(err, "cannot write %s: %s", path, strerror(errno));
    free(path), free(tmp);
    return ok;
}

/* --- the spec ---------------------------------------------------------------- */

/* The embedded spec NAME, or --spec FILE, or only the options; every option
 * that names a spec field overrides it (spec.h). */
static int build_spec(const struct cli_args *args, struct spec *spec)
{
    struct spec_overrides overrides = {0};
    struct buf err = {0};
    int rc = EXIT_USAGE;
    *spec = (struct spec){0};
    if (spec_overrides_from_args(&overrides, args, &err))
        rc = spec_load(args->npositional ? args->positional[0] : NULL, cli_get(args, "spec"),
                       overrides.items, overrides.count, spec, &err);
    if (rc != EXIT_OK)
        cli_error("%s", err.data);
    spec_overrides_free(&overrides);
    buf_free(&err);
    return rc;
}

/* --- main flow ---------------------------------------------------------------- */

static int run_levels(struct run_context *rc, struct engine *engine, struct run *run)
{
    const struct spec *spec = rc->spec;
    struct level_plan *plans;
    size_t n_plans = plan_levels(spec, &plans);
    bool sweep = spec->load.profile == PROFILE_SWEEP;
    size_t total = sweep ? 2 + (size_t)spec->load.sweep_rates : n_plans;
    run->levels = xcalloc(total ? total : 1, sizeof *run->levels);
    double rates[2] = {0, 0};
    int rc_code = EXIT_OK;
    for (size_t i = 0; i < total; i++) {
        struct level_plan plan;
        if (i < n_plans) {
            plan = plans[i];
        } else {
            double r[64];
            size_t k = plan_sweep_rates(rates[0], rates[1], spec->load.sweep_rates, r);
            if (i - 2 >= k)
                break;
            plan = plan_level(spec, PROFILE_CONSTANT, r[i - 2]);
        }
        progress_level_begin(&rc->progress, (unsigned)i + 1, (unsigned)total, &plan);
        struct level_run *level = &run->levels[run->n_levels++];
        bool go_on = engine_run_level(engine, &plan, (uint32_t)i, level);
        char line[300];
        summarize_level(level, &plan, line, sizeof line);
        progress_level_end(&rc->progress, line);
        if (sweep && i < 2) {
            uint64_t ok = 0;
            for (size_t j = 0; j < level->n_records; j++)
                ok += level->records[j].outcome == OUTCOME_OK;
            double seconds = (double)(level->end_ns - level->start_ns) / NS_PER_SEC;
            rates[i] = seconds > 0 ? (double)ok / seconds : 0;
        }
        if (!go_on) {
            run->interrupted = true;
            rc_code = EXIT_INTERRUPTED;
            break;
        }
    }
    free(plans);
    return rc_code;
}

static int run_main(const struct cli_args *args)
{
    struct spec spec;
    int rc = build_spec(args, &spec);
    if (rc != EXIT_OK) {
        spec_free(&spec);
        return rc;
    }
    struct buf err = {0};
    struct http_ca_bundle *ca = NULL;
    struct engine *engine = NULL;
    struct approx_prompts prompts = {0};
    struct run run = {0};
    char *api_key = NULL;
    char *auth_header = NULL;
    const char *headers[64];
    size_t n_headers = 0;
    struct mock_server *mock = NULL;
    char *endpoint = NULL;

    const char *ca_files[1] = {spec.ca_file};
    ca = http_ca_bundle_load(ca_files, spec.ca_file ? 1 : 0, &err);
    if (!ca) {
        cli_error("%s", err.data);
        rc = EXIT_USAGE;
        goto done;
    }
    if (spec.api_key_env || spec.api_key_file) {
        api_key = read_api_key(&spec, &err);
        if (!api_key) {
            cli_error("%s", err.data);
            rc = EXIT_USAGE;
            goto done;
        }
        auth_header = xasprintf("Authorization: Bearer %s", api_key);
        headers[n_headers++] = auth_header;
    }
    for (size_t i = 0; i < spec.n_headers && n_headers < ARRAY_LEN(headers); i++)
        headers[n_headers++] = xasprintf("%s: %s", spec.headers[i].name, spec.headers[i].value);

    struct http_config http = {
        .insecure = spec.insecure,
        .connect_timeout_s = 10,
        .total_timeout_s = 30,
        .ca = ca,
    };
    if (spec.insecure)
        cli_warn("TLS verification is off for %s", spec.endpoint);
    if (strcmp(spec.endpoint, "builtin") == 0) {
        /* The built-in mock, in-process on an ephemeral loopback port,
         * serving whatever model the spec names. */
        struct mock_config mock_cfg;
        mock_config_defaults(&mock_cfg);
        mock_cfg.port = 0;
        mock_cfg.model = spec.model;
        /* Like a small GPU: prefill costs per prompt token, and past 8
         * streams every delay grows, so a sweep shows saturation. */
        mock_cfg.latency.prefill_ms_per_token = 0.05;
        mock_cfg.latency.load_knee = 8;
        mock_cfg.latency.load_slope = 0.05;
        mock = mock_server_start(&mock_cfg, &err);
        if (!mock) {
            cli_error("cannot start the built-in mock server: %s", err.data);
            rc = EXIT_FAILED;
            goto done;
        }
        endpoint = xasprintf("%s/v1", mock_server_url(mock));
        cli_info("built-in mock server at %s", endpoint);
    } else {
        endpoint = xstrdup(spec.endpoint);
    }
    if (!preflight(&spec, endpoint, &http, headers, n_headers)) {
        rc = EXIT_FAILED;
        goto done;
    }

    if (mkdir(spec.outputs.dir, 0777) != 0 && errno != EEXIST) {
        cli_error("cannot create the output folder %s: %s", spec.outputs.dir, strerror(errno));
        rc = EXIT_FAILED;
        goto done;
    }

    raise_fd_limit();
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    /* Blocked before the workers start, so only the signalfd sees them. */
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    struct run_context ctx = {.spec = &spec};
    ctx.interrupts.fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    progress_init(&ctx.progress, stderr, cli_flag(args, "quiet"));

    unsigned workers = (unsigned)spec.load.workers;
    prompts.prompt_tokens = spec.workload.prompt_tokens.mean;
    prompts.output_tokens = spec.workload.output_tokens.mean;
    prompts.text = xcalloc(workers, sizeof *prompts.text);
    for (unsigned i = 0; i < workers; i++)
        prompts.text[i] = xmalloc((size_t)prompts.prompt_tokens * 4 + 1);

    char *url = xasprintf("%s%s", endpoint, openai_path(spec.api));
    struct engine_config cfg = {
        .url = url,
        .api = spec.api,
        .model = spec.model,
        .extra_body = spec.extra_body,
        .headers = headers,
        .n_headers = n_headers,
        .http = {.insecure = spec.insecure, .connect_timeout_s = 10, .ca = ca},
        .workers = workers,
        .next_prompt = approx_next,
        .prompt_ctx = &prompts,
        .interrupt_fd = ctx.interrupts.fd,
        .on_interrupt = on_interrupt,
        .on_progress = on_progress,
        .progress_interval_s = ctx.progress.tty ? 0.25 : 1,
        .ctx = &ctx,
    };
    engine = engine_create(&cfg, &err);
    if (!engine) {
        cli_error("%s", err.data);
        rc = EXIT_USAGE;
        free(url);
        goto done;
    }
    run.spec = &spec;
    run.prompts_approximate = true;
    run.mono_start_ns = now_ns();
    run.wall_start_ns = wall_ns();
    rc = run_levels(&ctx, engine, &run);
    run.mono_end_ns = now_ns();
    engine_destroy(engine);
    engine = NULL;
    free(url);

    if (!write_records(&run, spec.outputs.dir, &err)) {
        cli_error("%s", err.data);
        rc = EXIT_FAILED;
    } else {
        cli_info("wrote %s/requests.jsonl", spec.outputs.dir);
    }
    close(ctx.interrupts.fd);
done:
    run_free(&run);
    engine_destroy(engine);
    mock_server_stop(mock);
    free(endpoint);
    for (size_t i = auth_header ? 1 : 0; i < n_headers; i++)
        free((char *)headers[i]);
    free(auth_header);
    if (api_key) {
        memset(api_key, 0, strlen(api_key));
        free(api_key);
    }
    if (prompts.text) {
        for (int i = 0; i < spec.load.workers; i++)
            free(prompts.text[i]);
        free(prompts.text);
    }
    http_ca_bundle_free(ca);
    buf_free(&err);
    spec_free(&spec);
    return rc;
}

const struct cli_command cmd_run = {
    .name = "run",
    .synopsis = "[NAME]",
    .summary = "Sweep an endpoint through load levels and write the results.",
    .description = "NAME is an embedded spec (see 'llmsweep specs'); --spec FILE reads one from a\n"
                   "file. The options below override the spec. Results go to --output-dir.\n"
                   "Ctrl-C (or SIGTERM) stops the sweep and keeps what was measured (exit 3).",
    .options = options,
    .min_args = 0,
    .max_args = 1,
    .run = run_main,
};
