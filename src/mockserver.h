/* mockserver.h: an OpenAI-compatible streaming server that behaves like
 * vLLM, for tests, demos and benchmarks of the client (`llmsweep
 * mock-server`, and `llmsweep run --endpoint builtin` in-process).
 *
 * One thread runs one loop.h event loop: HTTP/1.1 with keep-alive and
 * pipelining (httpreq.h), optional TLS (mock_tls.h), vLLM's wire format
 * (mock_wire.h), token timing (mock_latency.h) and injected faults
 * (mock_faults.h). Nothing blocks and nothing sleeps: every delay is a loop
 * timer, so thousands of streams share the thread.
 *
 *   GET  /health               200, empty body (GuideLLM checks it first)
 *   GET  /v1/models            the served model, vLLM's shape
 *   POST /v1/completions       streaming (SSE) and non-streaming
 *   POST /v1/chat/completions  streaming (SSE) and non-streaming
 *   GET  /mock/stats           JSON counters (below); DELETE resets them
 *   GET  /version              {"version": ...}
 *   anything else              404 {"detail":"Not Found"} or 405, like vLLM
 *
 * A generation request is "in flight" from the moment its body was parsed
 * and accepted until the last byte of its response was handed to the kernel
 * (or its connection died). current_streams counts those; peak_streams is
 * the most there ever were at once. Rejected requests (400, 404) never count.
 *
 * Stamps: a request with the header "X-Mock-Stamp: 1" gets the header
 * "x-mock-headers-sent-ns: N" on its response and a top-level field
 * "mock_sent_ns": N in every JSON event, N being CLOCK_MONOTONIC in ns just
 * before the write (comparable with now_ns() in any process on the host).
 *
 * Outcomes (each accepted request gets exactly one): completed (served as a
 * healthy server would), faulted (a fault was injected), client_closed (the
 * client went away first), aborted (the server stopped first). Separately,
 * faults[kind] counts injections and rejected counts 400/404 answers to
 * generation requests.
 */
#ifndef LLMSWEEP_MOCKSERVER_H
#define LLMSWEEP_MOCKSERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "mock_faults.h"
#include "mock_latency.h"
#include "mock_wire.h"
#include "util.h"

struct mock_config {
    const char *host;       /* address to listen on ("127.0.0.1", "::1", "0.0.0.0") */
    unsigned port;          /* 0: any free port */
    const char *model;      /* the served model name */
    uint64_t max_model_len; /* advertised; prompt + max_tokens beyond it is a 400 */
    uint64_t output_tokens; /* where "EOS" falls: the length without max_tokens, or
                               with max_tokens above it unless ignore_eos is set */
    struct mock_latency latency;
    uint64_t seed; /* latency jitter, fault draws and ids derive from it */
    struct mock_faults faults;
    const char *tls_cert, *tls_key; /* PEM files: serve HTTPS; both or neither */
    /* Prompt token counting; NULL: mock_approx_tokens (ceil(bytes / 4)). */
    mock_count_tokens_fn *count_tokens;
    void *count_ctx;
};

/* The defaults of `llmsweep mock-server`: 127.0.0.1:8000, model
 * "llmsweep-mock", max_model_len 8192, 128 output tokens, TTFT 50 ms,
 * ITL 10 ms, no prefill cost, no jitter, no load model, seed 1, no faults. */
void mock_config_defaults(struct mock_config *cfg);

struct mock_stats {
    uint64_t current_streams, peak_streams;
    uint64_t requests; /* accepted generation requests */
    uint64_t completed, faulted, client_closed, aborted;
    uint64_t rejected; /* generation requests answered 400/404 */
    uint64_t faults[MOCK_FAULT_KINDS];
    uint64_t events_sent;    /* SSE events written, "data: [DONE]" included */
    uint64_t other_requests; /* health, models, stats, errors of other paths */
    uint64_t connections_open, connections_total;
};

struct mock_server;

/* Binds, listens and starts serving on a thread of its own; returns once
 * the socket listens. NULL on failure with one line in err. The config is
 * copied (the model name too; the other strings are only read here). */
struct mock_server *mock_server_start(const struct mock_config *cfg, struct buf *err);
/* "http://127.0.0.1:PORT" (https:// with TLS; a wildcard host is shown as
 * the loopback address, so the URL can be connected to). */
const char *mock_server_url(const struct mock_server *m);
unsigned mock_server_port(const struct mock_server *m);
/* A snapshot, safe from any thread. The server books a stream as done
 * right after its last write, so a client that has just read that byte may
 * for a few microseconds still see it counted (GET /mock/stats never does:
 * the server thread answers it). */
void mock_server_stats(const struct mock_server *m, struct mock_stats *out);
/* Stops the loop (from any thread), joins it, closes every connection
 * (in-flight requests count as aborted) and frees. NULL is fine. */
void mock_server_stop(struct mock_server *m);

/* The stats as the JSON object GET /mock/stats returns. */
void mock_stats_json(const struct mock_stats *s, const char *model, struct buf *out);

#endif
