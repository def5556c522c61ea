/* `llmsweep run`: the benchmark, top to bottom as it happens:
 *
 *   spec -> endpoint (or the built-in mock) -> preflight -> tokenizer and
 *   prompts -> engine, level by level -> statistics -> output files.
 *
 * Everything the run holds lives in one `struct session`, released in one
 * place. Signals: the first SIGINT/SIGTERM stops the sweep and writes what
 * was measured, marked interrupted (exit 3), or, after the last level, lets
 * the results be written (exit 0); a second one exits at once, whenever it
 * comes (in the sweep, or while the results are written). Before the sweep
 * (start-up, preflight) they end the process as they would any program. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "engine.h"
#include "http.h"
#include "hub.h"
#include "mockserver.h"
#include "openai.h"
#include "outputs.h"
#include "plan.h"
#include "progress.h"
#include "prompts.h"
#include "record.h"
#include "spec.h"
#include "stats.h"
#include "tokenizer.h"
#include "util.h"

#define MAX_SPEC_HEADERS 64                /* spec_load.c's limit */
#define MAX_HEADERS (MAX_SPEC_HEADERS + 1) /* and the API key's */
#define PREFLIGHT_TIMEOUT_S 30
#define CONNECT_TIMEOUT_S 10
/* A model list is kilobytes; an endpoint that streams more must not take
 * the memory before preflight gives up on it. */
#define PREFLIGHT_MAX_BODY (16u << 20)

static const struct cli_option options[] = {
    {"spec", 0, "FILE", "run spec file (YAML), e.g. a mounted ConfigMap", false},
    SPEC_CLI_OPTIONS,
    {"quiet", 'q', NULL, "no progress output and no table at the end", false},
    {0},
};

struct session {
    struct spec spec;
    struct mock_server *mock;
    char *endpoint; /* where requests go: the spec's, or the built-in mock's */
    char *url;      /* endpoint + the API's path */
    struct http_ca_bundle *ca;
    struct http_config http;
    char *headers[MAX_HEADERS]; /* "Name: value", the API key's first */
    size_t n_headers;

    struct tokenizer *tokenizer; /* NULL: prompt lengths are approximate */
    char *tokenizer_source;
    struct tokenizer_session *mock_session; /* the built-in mock counts with it */
    struct prompt_source *prompts;
    struct tokenizer_session **sessions; /* per engine worker */
    struct prompt *prompt_of;            /* per engine worker */
    unsigned workers;

    struct engine *engine;
    struct run run;
    struct progress progress;
    int signal_fd;
    bool signalled;  /* the first signal came: the next one exits at once */
    bool sweep_done; /* every level ran: a signal now stops nothing */
};

/* --- endpoint ----------------------------------------------------------- */

static uint64_t mock_counts_with_tokenizer(void *ctx, const char *text, size_t len)
{
    return tokenizer_count(ctx, text, len);
}

/* The built-in mock, in-process on an ephemeral loopback port, serving the
 * spec's model. Like a small GPU: prefill costs per prompt token, and past
 * 8 streams every delay grows, so a sweep shows saturation. */
static bool start_builtin(struct session *s, struct buf *err)
{
    struct mock_config cfg;
    mock_config_defaults(&cfg);
    cfg.port = 0;
    cfg.model = s->spec.model;
    cfg.latency.prefill_ms_per_token = 0.05;
    cfg.latency.load_knee = 8;
    cfg.latency.load_slope = 0.05;
    if (s->tokenizer) {
        s->mock_session = tokenizer_session_new(s->tokenizer);
        cfg.count_tokens = mock_counts_with_tokenizer;
        cfg.count_ctx = s->mock_session;
    }
    s->mock = mock_server_start(&cfg, err);
    if (!s->mock)
        return false;
    s->endpoint = xasprintf("%s/v1", mock_server_url(s->mock));
    cli_info("built-in mock server at %s", s->endpoint);
    return true;
}

/* The API key, from the environment variable or the file the spec names.
 * Never printed, never written anywhere. */
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
    struct buf key = {0};
    if (!read_trimmed_file(spec->api_key_file, &key)) {
        buf_printf(err, "cannot read the API key file %s: %s", spec->api_key_file, strerror(errno));
        buf_free(&key);
        return NULL;
    }
    return buf_steal(&key);
}

/* The CA bundle, the API key and the spec's headers. What the spec names
 * must be usable: a missing CA file or key is bad input, not a failed
 * endpoint. */
static bool load_credentials(struct session *s, struct buf *err)
{
    const struct spec *spec = &s->spec;
    const char *ca_files[1] = {spec->ca_file};
    s->ca = http_ca_bundle_load(ca_files, spec->ca_file ? 1 : 0, err);
    if (!s->ca)
        return false;
    s->http = (struct http_config){
        .insecure = spec->insecure,
        .connect_timeout_s = CONNECT_TIMEOUT_S,
        .ca = s->ca,
        .ca_file_hint = "set ca_file in the spec (or --set ca_file=FILE) to",
    };
    if (spec->api_key_env || spec->api_key_file) {
        char *key = read_api_key(spec, err);
        if (!key)
            return false;
        s->headers[s->n_headers++] = xasprintf("Authorization: Bearer %s", key);
        memset(key, 0, strlen(key));
        free(key);
    }
    for (size_t i = 0; i < spec->n_headers && i < MAX_SPEC_HEADERS; i++)
        s->headers[s->n_headers++] =
            xasprintf("%s: %s", spec->headers[i].name, spec->headers[i].value);
    return true;
}

static bool open_endpoint(struct session *s, struct buf *err)
{
    const struct spec *spec = &s->spec;
    if (strcmp(spec->endpoint, "builtin") == 0) {
        if (!start_builtin(s, err))
            return false;
    } else {
        s->endpoint = xstrdup(spec->endpoint);
        if (spec->insecure)
            cli_warn("TLS verification is off for %s", spec->endpoint);
    }
    s->url = xasprintf("%s%s", s->endpoint, openai_path(spec->api));
    return true;
}

/* GET {endpoint}/models must answer and list the model. */
static bool preflight(struct session *s)
{
    char *url = xasprintf("%s/models", s->endpoint);
    struct http_config http = s->http;
    /* A request timeout in the spec bounds this request too. */
    double limit = s->spec.load.request_timeout_s;
    http.total_timeout_s = limit > 0 && limit < PREFLIGHT_TIMEOUT_S ? limit : PREFLIGHT_TIMEOUT_S;
    struct http_request req = {
        .url = url,
        .headers = (const char *const *)s->headers,
        .n_headers = s->n_headers,
        .max_body = PREFLIGHT_MAX_BODY,
    };
    struct http_response resp;
    struct http_failure fail;
    bool ok = false;
    if (!http_perform(&http, &req, &resp, &fail)) {
        cli_error("preflight: %s", fail.message);
        goto done;
    }
    if (resp.status != 200) {
        http_redact_header_values(&resp.body, (const char *const *)s->headers, s->n_headers);
        char *msg = openai_error_message(resp.body.data, resp.body.len, 200);
        cli_error("preflight: GET %s answered HTTP %ld: %s", url, resp.status, msg);
        if ((resp.status == 401 || resp.status == 403) &&
            (s->spec.api_key_env || s->spec.api_key_file))
            cli_error("the endpoint refused the API key from %s: check that it is current and "
                      "meant for this endpoint",
                      s->spec.api_key_env ? s->spec.api_key_env : s->spec.api_key_file);
        else if (resp.status == 401 || resp.status == 403)
            cli_error(
                "the endpoint wants credentials: set api_key_env or api_key_file in the spec");
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
        ok = ok || strcmp(ids[i], s->spec.model) == 0;
        buf_printf(&served, "%s%s", i ? ", " : "", ids[i]);
        free(ids[i]);
    }
    free(ids);
    if (!ok)
        cli_error("preflight: %s does not serve model '%s'; it serves: %s", s->endpoint,
                  s->spec.model, served.len ? served.data : "(nothing)");
    buf_free(&served);
done:
    http_response_free(&resp);
    free(url);
    return ok;
}

/* --- prompts ------------------------------------------------------------ */

static bool load_tokenizer(struct session *s, struct buf *err)
{
    const struct spec *spec = &s->spec;
    s->tokenizer = hub_load_tokenizer(spec->tokenizer.path, spec->tokenizer.repo,
                                      spec->tokenizer.revision, &s->tokenizer_source, err);
    if (!s->tokenizer && err->len)
        return false;
    if (!s->tokenizer)
        cli_warn("no tokenizer in the spec: prompt lengths are approximate (4 bytes a token) "
                 "and the results say so; set tokenizer: or --tokenizer for exact lengths");
    return true;
}

static bool prepare_prompts(struct session *s, struct buf *err)
{
    s->prompts = prompt_source_new(&s->spec, s->tokenizer, err);
    if (!s->prompts)
        return false;
    s->sessions = xcalloc(s->workers, sizeof *s->sessions);
    s->prompt_of = xcalloc(s->workers, sizeof *s->prompt_of);
    for (unsigned i = 0; s->tokenizer && i < s->workers; i++)
        s->sessions[i] = tokenizer_session_new(s->tokenizer);
    return true;
}

/* engine_config.next_prompt: runs on worker `worker`'s thread. */
static void next_prompt(void *ctx, unsigned worker, uint64_t seq, struct engine_prompt *out)
{
    struct session *s = ctx;
    struct prompt *p = &s->prompt_of[worker];
    prompt_make(s->prompts, s->sessions[worker], seq, p);
    *out = (struct engine_prompt){p->text, p->prompt_tokens, p->output_tokens};
}

/* engine_config.count_tokens: output text when the server sent no usage. */
static int count_tokens(void *ctx, unsigned worker, const char *text, size_t len)
{
    struct session *s = ctx;
    return s->sessions[worker] ? (int)tokenizer_count(s->sessions[worker], text, len) : -1;
}

/* --- signals and progress ------------------------------------------------ */

/* The signals that stop a run: Ctrl-C, and a pod being deleted. */
static sigset_t stop_signals(void)
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    return signals;
}

static bool block_signals(struct session *s)
{
    sigset_t signals = stop_signals();
    /* Blocked before any engine thread exists, so every thread inherits
     * the mask and only the signalfd sees them. */
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    s->signal_fd = signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    return s->signal_fd >= 0;
}

/* The second signal's handler: only async-signal-safe calls. */
static void exit_at_once(int signo)
{
    write_file_atomic_abandon(); /* no half-written temporary file is left */
    static const char msg[] = "\nllmsweep: second signal: exiting now, results not written\n";
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(128 + signo);
}

/* After the first signal, the next one is handled by exit_at_once() in
 * this (the main) thread, the only one that stops blocking them: the
 * signalfd is read only while a level runs, and the results may take a
 * while to write. */
static void arm_second_signal(void)
{
    struct sigaction sa = {.sa_handler = exit_at_once};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigset_t signals = stop_signals();
    pthread_sigmask(SIG_UNBLOCK, &signals, NULL);
}

/* Signals that come while the results of a finished sweep are written (no
 * signal came before): the first lets the writing finish, the next exits at
 * once. Only async-signal-safe calls. */
static volatile sig_atomic_t signals_while_writing;

static void signal_while_writing(int signo)
{
    if (signals_while_writing++ > 0)
        exit_at_once(signo);
    static const char interrupt[] = "\nllmsweep: Interrupt: the sweep had finished; writing the "
                                    "results (send it again to exit at once)\n";
    static const char terminated[] = "\nllmsweep: Terminated: the sweep had finished; writing the "
                                     "results (send it again to exit at once)\n";
    ssize_t ignored = signo == SIGINT ? write(2, interrupt, sizeof interrupt - 1)
                                      : write(2, terminated, sizeof terminated - 1);
    (void)ignored;
}

static void arm_signals_while_writing(void)
{
    /* Restarted: an interrupted fsync or rename must not fail the writing. */
    struct sigaction sa = {.sa_handler = signal_while_writing, .sa_flags = SA_RESTART};
    sa.sa_mask = stop_signals();
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigset_t signals = stop_signals();
    pthread_sigmask(SIG_UNBLOCK, &signals, NULL);
}

/* engine_config.on_interrupt, and once after the sweep for a signal that
 * came after the last level: consumes one signal from the signalfd. */
static bool on_interrupt(void *ctx)
{
    struct session *s = ctx;
    struct signalfd_siginfo info;
    if (read(s->signal_fd, &info, sizeof info) != sizeof info)
        return false;
    if (s->signalled) /* two were pending at once: the handler missed this one */
        exit_at_once((int)info.ssi_signo);
    s->signalled = true;
    fprintf(stderr, "\nllmsweep: %s: %s (send it again to exit at once)\n",
            strsignal((int)info.ssi_signo),
            s->sweep_done ? "the sweep had finished; writing the results"
                          : "stopping the sweep and writing what was measured");
    arm_second_signal();
    return true;
}

static void on_progress(void *ctx, const struct level_plan *plan, const struct engine_progress *p)
{
    struct session *s = ctx;
    progress_update(&s->progress, plan, p);
}

/* "20261128T051944Z-3f9a1c": sortable by time, unique per run. */
static void make_run_id(char *out, size_t n, int64_t wall)
{
    time_t secs = (time_t)(wall / NS_PER_SEC);
    struct tm tm;
    gmtime_r(&secs, &tm);
    uint32_t noise = 0;
    if (getrandom(&noise, sizeof noise, GRND_NONBLOCK) != sizeof noise)
        noise = (uint32_t)(wall ^ getpid());
    char stamp[24];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out, n, "%s-%06x", stamp, noise & 0xffffff);
}

/* --- the sweep ------------------------------------------------------------ */

static bool create_engine(struct session *s, struct buf *err)
{
    struct engine_config cfg = {
        .url = s->url,
        .api = s->spec.api,
        .model = s->spec.model,
        .extra_body = s->spec.extra_body,
        .headers = (const char *const *)s->headers,
        .n_headers = s->n_headers,
        .http = s->http,
        .workers = s->workers,
        .next_prompt = next_prompt,
        /* Without a tokenizer there is nothing to count the text with:
         * the engine need not keep it. */
        .count_tokens = s->tokenizer ? count_tokens : NULL,
        .prompt_ctx = s,
        .interrupt_fd = s->signal_fd,
        .on_interrupt = on_interrupt,
        .on_progress = on_progress,
        .progress_interval_s = s->progress.tty ? 0.25 : 1,
        .ctx = s,
    };
    s->engine = engine_create(&cfg, err);
    return s->engine != NULL;
}

static uint64_t successful(const struct level_run *level)
{
    uint64_t ok = 0;
    for (size_t i = 0; i < level->n_records; i++)
        ok += level->records[i].outcome == OUTCOME_OK;
    return ok;
}

static void level_line(const struct level_run *level, const struct level_plan *plan, char *line,
                       size_t n)
{
    uint64_t counts[3] = {0, 0, 0};
    for (size_t i = 0; i < level->n_records; i++)
        counts[level->records[i].outcome]++;
    double seconds = (double)(level->end_ns - level->start_ns) / NS_PER_SEC;
    snprintf(line, n, "%s %g: %llu ok, %llu errors, %llu incomplete in %.1fs%s%s",
             load_profile_name(plan->profile), plan->target, (unsigned long long)counts[OUTCOME_OK],
             (unsigned long long)counts[OUTCOME_ERROR],
             (unsigned long long)counts[OUTCOME_INCOMPLETE], seconds,
             level->abort_reason ? "; stopped: " : "",
             level->abort_reason ? level->abort_reason : "");
}

/* Runs every level; a sweep plans its constant rates from the achieved
 * rates of its synchronous and throughput steps. Returns false when
 * interrupted. */
static bool sweep(struct session *s)
{
    const struct spec *spec = &s->spec;
    struct run *run = &s->run;
    struct level_plan *plans;
    size_t n_plans = plan_levels(spec, &plans);
    bool is_sweep = spec->load.profile == PROFILE_SWEEP;
    size_t total = is_sweep ? n_plans + (size_t)spec->load.sweep_rates : n_plans;
    run->levels = xcalloc(total ? total : 1, sizeof *run->levels);
    double achieved[2] = {0, 0};
    double *rates = xcalloc((size_t)spec->load.sweep_rates + 1, sizeof *rates);
    size_t n_rates = 0;
    bool completed = true;
    for (size_t i = 0; i < total; i++) {
        struct level_plan plan;
        if (i < n_plans) {
            plan = plans[i];
        } else {
            if (i == n_plans)
                n_rates = plan_sweep_rates(achieved[0], achieved[1], spec->load.sweep_rates, rates);
            if (i - n_plans >= n_rates) {
                cli_warn("sweep: the throughput step was not faster than the synchronous one "
                         "(%.2f vs %.2f req/s); no rates to sweep between them",
                         achieved[1], achieved[0]);
                break;
            }
            plan = plan_level(spec, PROFILE_CONSTANT, rates[i - n_plans]);
        }
        progress_level_begin(&s->progress, (unsigned)i + 1, (unsigned)total, &plan);
        struct level_run *level = &run->levels[run->n_levels++];
        completed = engine_run_level(s->engine, &plan, (uint32_t)i, level);
        char line[300];
        level_line(level, &plan, line, sizeof line);
        progress_level_end(&s->progress, line);
        if (is_sweep && i < 2) {
            double seconds = (double)(level->end_ns - level->start_ns) / NS_PER_SEC;
            achieved[i] = seconds > 0 ? (double)successful(level) / seconds : 0;
        }
        if (!completed)
            break;
    }
    free(rates);
    free(plans);
    return completed;
}

/* One line about the failures when nothing succeeded, so a dead endpoint
 * is not mistaken for a slow one. */
static bool anything_succeeded(const struct run *run)
{
    const struct request_record *first_error = NULL;
    uint64_t errors = 0, incomplete = 0, answered = 0;
    for (size_t l = 0; l < run->n_levels; l++) {
        const struct level_run *level = &run->levels[l];
        if (successful(level))
            return true;
        for (size_t i = 0; i < level->n_records; i++) {
            const struct request_record *rec = &level->records[i];
            if (rec->outcome == OUTCOME_ERROR) {
                errors++;
                if (!first_error)
                    first_error = rec;
            } else if (rec->outcome == OUTCOME_INCOMPLETE) {
                incomplete++;
                answered += rec->first_byte_ns != 0;
            }
        }
    }
    if (first_error)
        cli_error("no request succeeded (%llu errors; the first: %s)", (unsigned long long)errors,
                  first_error->error_message ? first_error->error_message
                                             : request_error_name(first_error->error));
    else if (incomplete && !answered) /* longer levels would not help: the server is silent */
        cli_error("no request completed: the endpoint sent no response to any of the %llu "
                  "requests before its level ended; is the server hung? (load.request_timeout "
                  "makes such requests fail as timeouts)",
                  (unsigned long long)incomplete);
    else
        cli_error("no request completed: every one was still running when its level ended; "
                  "make the levels longer than a request takes (--duration)");
    return false;
}

static bool write_outputs(struct session *s, bool quiet, struct buf *err)
{
    struct results results;
    stats_compute(&s->run, &results);
    struct output_set set = output_set_of(&s->spec);
    bool ok = outputs_write(&results, &s->run, &s->spec, &set, s->spec.outputs.dir, err);
    if (ok && !quiet)
        console_table(&results, stdout);
    if (ok)
        cli_info("results in %s/", s->spec.outputs.dir);
    results_free(&results);
    return ok;
}

/* --- the command ------------------------------------------------------------ */

/* The embedded spec NAME, or a spec file (--spec FILE, or a NAME that is a
 * path, as `validate` and `publish --spec` read it: a Tekton Task passes one
 * argument either way), or only the options; every option that names a spec
 * field overrides it (spec.h). */
static int load_spec(const struct cli_args *args, struct spec *spec)
{
    struct spec_overrides overrides = {0};
    struct buf err = {0};
    int rc = EXIT_USAGE;
    *spec = (struct spec){0};
    const char *name = args->npositional ? args->positional[0] : NULL;
    const char *file = cli_get(args, "spec");
    if (name && !file && spec_arg_is_file(name)) {
        file = name;
        name = NULL;
    }
    if (spec_overrides_from_args(&overrides, args, &err))
        rc = spec_load(name, file, overrides.items, overrides.count, spec, &err);
    if (rc != EXIT_OK)
        cli_error("%s", err.data);
    spec_overrides_free(&overrides);
    buf_free(&err);
    return rc;
}

static void session_close(struct session *s)
{
    engine_destroy(s->engine); /* before the prompts its workers use */
    run_free(&s->run);
    if (s->prompt_of) {
        for (unsigned i = 0; i < s->workers; i++) {
            prompt_free(&s->prompt_of[i]);
            tokenizer_session_free(s->sessions[i]);
        }
    }
    free(s->prompt_of);
    free(s->sessions);
    prompt_source_free(s->prompts);
    mock_server_stop(s->mock); /* before the tokenizer session it counts with */
    tokenizer_session_free(s->mock_session);
    tokenizer_free(s->tokenizer);
    free(s->tokenizer_source);
    for (size_t i = 0; i < s->n_headers; i++) {
        memset(s->headers[i], 0, strlen(s->headers[i])); /* the API key is in one */
        free(s->headers[i]);
    }
    http_ca_bundle_free(s->ca);
    free(s->url);
    free(s->endpoint);
    if (s->signal_fd >= 0)
        close(s->signal_fd);
    spec_free(&s->spec);
}

static int run_main(const struct cli_args *args)
{
    struct session s = {.signal_fd = -1};
    struct buf err = {0};
    bool quiet = cli_flag(args, "quiet");
    int rc = load_spec(args, &s.spec);
    if (rc != EXIT_OK)
        goto done;
    s.workers = (unsigned)s.spec.load.workers;
    progress_init(&s.progress, stderr, quiet);

    /* Input problems first (exit 2), then the network (exit 1); a tokenizer
     * that must come from the Hub is the network's. */
    rc = s.spec.tokenizer.repo && !s.spec.tokenizer.path ? EXIT_FAILED : EXIT_USAGE;
    if (!load_tokenizer(&s, &err))
        goto fail;
    rc = EXIT_USAGE;
    if (!prepare_prompts(&s, &err) || !load_credentials(&s, &err))
        goto fail;
    rc = EXIT_FAILED;
    if (!open_endpoint(&s, &err))
        goto fail;
    if (!preflight(&s))
        goto done;
    if (!outputs_begin(s.spec.outputs.dir, &err))
        goto fail;
    raise_fd_limit();
    if (!block_signals(&s)) {
        buf_printf(&err, "cannot watch for signals: %s", strerror(errno));
        goto fail;
    }
    if (!create_engine(&s, &err))
        goto fail;

    s.run = (struct run){
        .spec = &s.spec,
        .mono_start_ns = now_ns(),
        .wall_start_ns = wall_ns(),
        .tokenizer_source = s.tokenizer_source ? xstrdup(s.tokenizer_source) : NULL,
        .prompts_approximate = !prompt_source_exact(s.prompts),
    };
    make_run_id(s.run.run_id, sizeof s.run.run_id, s.run.wall_start_ns);
    bool completed = sweep(&s);
    s.run.interrupted = !completed;
    engine_destroy(s.engine);
    s.engine = NULL;
    s.sweep_done = completed;
    on_interrupt(&s); /* a signal after the last level: the next one exits at once */
    if (!s.signalled)
        arm_signals_while_writing();

    if (!write_outputs(&s, quiet, &err))
        goto fail;
    if (!completed)
        rc = EXIT_INTERRUPTED;
    else
        rc = anything_succeeded(&s.run) ? EXIT_OK : EXIT_FAILED;
    goto done;
fail:
    cli_error("%s", err.data);
done:
    session_close(&s);
    buf_free(&err);
    return rc;
}

const struct cli_command cmd_run = {
    .name = "run",
    .synopsis = "[NAME|FILE]",
    .summary = "Sweep an endpoint through load levels and write the results.",
    .description =
        "NAME is an embedded spec (see 'llmsweep specs'); --spec FILE reads one from a\n"
        "file, and so does a NAME with a '/', ending in .yaml/.yml or naming an existing\n"
        "file. The options below override the spec. Results go to --output-dir:\n"
        "benchmarks.json (GuideLLM's layout), benchmarks.csv, report.html,\n"
        "summary.json, requests.jsonl and the completion marker benchmarks.json.complete.\n"
        "Ctrl-C (or SIGTERM) stops the sweep and writes what was measured (exit 3).\n"
        "Exit codes: 0 done, 1 endpoint or outputs failed or no request succeeded,\n"
        "2 bad spec or options (or a CA file or API key it names), 3 interrupted.",
    .options = options,
    .min_args = 0,
    .max_args = 1,
    .run = run_main,
};
