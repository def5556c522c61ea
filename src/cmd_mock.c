/* `llmsweep mock-server`: the mock server (mockserver.h) as a process of
 * its own, until SIGINT or SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "mockserver.h"

static const struct cli_option options[] = {
    {"host", 0, "ADDR", "address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)", false},
    {"port", 'p', "PORT", "port to listen on (default 8000; 0 picks a free one)", false},
    {"model", 'm', "NAME", "the served model name (default llmsweep-mock)", false},
    {"max-model-len", 0, "N",
     "context length: prompt + max_tokens beyond it is a 400 "
     "(default 8192)",
     false},
    {"ttft-ms", 0, "MS", "time to first token, base (default 50)", false},
    {"prefill-ms-per-token", 0, "MS", "TTFT added per prompt token (default 0)", false},
    {"itl-ms", 0, "MS", "inter-token latency (default 10)", false},
    {"ttft-jitter-ms", 0, "MS", "standard deviation of a Gaussian jitter on TTFT (default 0)",
     false},
    {"itl-jitter-ms", 0, "MS", "standard deviation of a Gaussian jitter on ITL (default 0)", false},
    {"load-knee", 0, "N", "streams in flight before TTFT and ITL grow (default 0: never)", false},
    {"load-slope", 0, "X", "past the knee, delays x (1 + X * (streams - knee)) (default 0.02)",
     false},
    {"output-tokens", 'n', "N",
     "tokens until \"EOS\": the length without max_tokens, or with a "
     "larger max_tokens and no ignore_eos (default 128)",
     false},
    {"seed", 0, "N", "seed of jitter, fault draws and ids (default 1)", false},
    {"faults", 0, "SPEC", "inject faults, e.g. 429@5%,reset-mid@every50 (see below)", false},
    {"tls-cert", 0, "FILE", "serve HTTPS with this PEM certificate (chain)", false},
    {"tls-key", 0, "FILE", "the PEM private key of --tls-cert", false},
    {0},
};

static const char description[] =
    "Serve an OpenAI-compatible API that behaves like vLLM (wire format, streaming,\n"
    "usage, errors), with a latency model and fault injection, for tests, demos and\n"
    "benchmarks. Prints \"listening on URL\" when ready; SIGINT/SIGTERM stop it.\n"
    "\n"
    "Endpoints: GET /health, GET /v1/models, POST /v1/completions and\n"
    "/v1/chat/completions (stream or not), GET /mock/stats (counters as JSON;\n"
    "DELETE resets them), GET /version.\n"
    "\n"
    "Timing: TTFT = (ttft-ms + prefill-ms-per-token x prompt tokens) x load,\n"
    "each later token ITL = itl-ms x load, plus jitter if asked; load = 1, or\n"
    "1 + load-slope x (streams - load-knee) past the knee. Deterministic per --seed.\n"
    "Prompt tokens: ceil(UTF-8 bytes / 4) of the prompt (chat: the contents\n"
    "concatenated). Each output token is a 4-byte word.\n"
    "Header \"X-Mock-Stamp: 1\": every event gets \"mock_sent_ns\" (CLOCK_MONOTONIC\n"
    "ns at send) and the response \"x-mock-headers-sent-ns\".\n"
    "\n"
    "--faults SPEC: comma-separated RULE = KIND[=ARG]@WHEN, WHEN = P% (probability)\n"
    "or everyN (the Nth, 2Nth... generation request); the first rule that fires\n"
    "wins. KIND:\n"
    "  429, 500, 503    that status with a vLLM-style JSON error body\n"
    "  reset            connection reset before any header\n"
    "  reset-mid[=N]    reset after N content events (default: half)\n"
    "  stall[=N]        headers, N events (default 0), then silence\n"
    "  bad-sse[=N]      event N sent without its \"data: \" prefix (default: half)\n"
    "  bad-json[=N]     event N with its JSON cut in half (default: half)\n"
    "  cut[=N]          clean end after N events, no usage, no [DONE] (default: half)\n"
    "  slow-headers[=D] wait D (default 2s) before anything is sent\n"
    "Example: --faults '429@5%,reset-mid@every50,slow-headers=500ms@1%'";

static bool read_ms(const struct cli_args *args, const char *name, double *out)
{
    if (!cli_double(args, name, out))
        return false;
    if (*out < 0) {
        cli_usage_error(args->command, "--%s must not be negative", name);
        return false;
    }
    return true;
}

static int run_mock_server(const struct cli_args *args)
{
    struct mock_config cfg;
    mock_config_defaults(&cfg);
    uint64_t port = cfg.port;
    struct mock_latency *lat = &cfg.latency;
    if (!cli_uint(args, "port", 0, 65535, &port) ||
        !cli_uint(args, "max-model-len", 1, UINT32_MAX, &cfg.max_model_len) ||
        !cli_uint(args, "output-tokens", 1, UINT32_MAX, &cfg.output_tokens) ||
        !cli_uint(args, "seed", 0, UINT64_MAX, &cfg.seed) ||
        !cli_uint(args, "load-knee", 0, UINT32_MAX, &lat->load_knee) ||
        !read_ms(args, "ttft-ms", &lat->ttft_ms) ||
        !read_ms(args, "prefill-ms-per-token", &lat->prefill_ms_per_token) ||
        !read_ms(args, "itl-ms", &lat->itl_ms) ||
        !read_ms(args, "ttft-jitter-ms", &lat->ttft_jitter_ms) ||
        !read_ms(args, "itl-jitter-ms", &lat->itl_jitter_ms) ||
        !read_ms(args, "load-slope", &lat->load_slope))
        return EXIT_USAGE;
    cfg.port = (unsigned)port;
    if (cli_get(args, "host"))
        cfg.host = cli_get(args, "host");
    if (cli_get(args, "model"))
        cfg.model = cli_get(args, "model");
    if (!*cfg.model || strlen(cfg.model) > 256)
        return cli_usage_error(args->command, "--model must be 1 to 256 bytes long");
    cfg.tls_cert = cli_get(args, "tls-cert");
    cfg.tls_key = cli_get(args, "tls-key");
    if (!cfg.tls_cert != !cfg.tls_key)
        return cli_usage_error(args->command, "--tls-cert and --tls-key go together");
    struct buf err = {0};
    if (cli_get(args, "faults") && !mock_faults_parse(cli_get(args, "faults"), &cfg.faults, &err)) {
        int rc = cli_usage_error(args->command, "%s", err.data);
        buf_free(&err);
        return rc;
    }

    /* Block the stop signals before the server thread exists, then wait
     * for them here: no handler, no flag, no race. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    struct mock_server *server = mock_server_start(&cfg, &err);
    if (!server) {
        cli_error("%s", err.data);
        buf_free(&err);
        return EXIT_FAILED;
    }
    printf("listening on %s\n", mock_server_url(server));
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);

    struct mock_stats s;
    mock_server_stats(server, &s);
    mock_server_stop(server);
    cli_info("stopped by %s: %llu generation requests (%llu completed, %llu faulted, %llu closed "
             "by the client), peak %llu concurrent streams",
             sig == SIGINT ? "SIGINT" : "SIGTERM", (unsigned long long)s.requests,
             (unsigned long long)s.completed, (unsigned long long)s.faulted,
             (unsigned long long)s.client_closed, (unsigned long long)s.peak_streams);
    return EXIT_OK;
}

const struct cli_command cmd_mock_server = {
    .name = "mock-server",
    .summary = "Serve an OpenAI-compatible API like vLLM's, with latency model and faults.",
    .description = description,
    .options = options,
    .max_args = 0,
    .run = run_mock_server,
};
