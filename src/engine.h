/* engine.h: drives streamed requests at a load level and records each one.
 *
 * The engine owns `workers` threads. Each has its own epoll loop (loop.h)
 * and its own libcurl multi handle driven through the socket API
 * (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION), its own connections
 * (kept across levels) and its share of the load: closed-loop levels split
 * the streams, open-loop levels split the arrival process and the cap on
 * requests in flight; a level's max_requests is one count that all workers
 * take from. Arrivals are timed by the loop's timerfd in nanoseconds, not
 * by libcurl's millisecond timers. No request ever waits inside libcurl:
 * connection limits are at least the level's concurrency.
 *
 * The thread that calls engine_run_level() is the controller: it starts
 * the workers on the level, reports progress, watches the interrupt fd and
 * the error rate, and collects the records when every worker is done.
 *
 * Closed-loop workers pause (10 ms doubling to 1 s) after a whole round of
 * their requests (at least 4) failed in a row, until one succeeds: an
 * endpoint that is down costs a few records a second, not thousands. A
 * stream that goes on far past the length asked for fails (the server
 * ignores max_tokens).
 *
 * What a request records is in record.h; how it is sent is decided by the
 * caller through engine_config (URL, body parts, headers, prompts).
 */
#ifndef LLMSWEEP_ENGINE_H
#define LLMSWEEP_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "plan.h"
#include "record.h"
#include "spec.h"

#define ENGINE_MAX_WORKERS 64

/* One request's prompt, from the caller's prompt generator. `text` must
 * stay valid until the next call for the same worker. */
struct engine_prompt {
    const char *text;
    int prompt_tokens; /* what the generator made (exact with a tokenizer) */
    int output_tokens; /* max tokens to ask for */
};

/* Called on worker `worker`'s thread: callbacks for different workers may
 * run at the same time, so per-worker state must be indexed by `worker`. */
typedef void engine_prompt_fn(void *ctx, unsigned worker, uint64_t seq, struct engine_prompt *out);
/* Tokens in a generated text, or -1 when no tokenizer is available. */
typedef int engine_count_fn(void *ctx, unsigned worker, const char *text, size_t len);

struct engine_progress {
    uint64_t ok, errored, in_flight;
    uint64_t chunks; /* content events received so far (the live token rate) */
    int64_t level_start_ns, now_ns;
};

struct engine_config {
    const char *url; /* the full endpoint URL (.../v1/chat/completions) */
    enum api_kind api;
    const char *model;
    const char *extra_body;     /* JSON object text, or NULL */
    const char *const *headers; /* extra "Name: value" lines (API key included) */
    size_t n_headers;
    struct http_config http;
    unsigned workers;

    engine_prompt_fn *next_prompt;
    engine_count_fn *count_tokens; /* may be NULL */
    void *prompt_ctx;

    /* Controller callbacks (run on the thread calling engine_run_level). */
    int interrupt_fd;                /* readable when the user wants to stop, or -1 */
    bool (*on_interrupt)(void *ctx); /* consumes interrupt_fd; true: stop the run */
    void (*on_progress)(void *ctx, const struct level_plan *plan, const struct engine_progress *p);
    double progress_interval_s; /* 0: 1 s */
    void *ctx;
};

struct engine;

struct engine *engine_create(const struct engine_config *cfg, struct buf *err);
void engine_destroy(struct engine *engine);

/* Runs one level to its end (duration, max requests, error-rate abort or
 * interruption) and fills *out, which owns the records. Returns false when
 * the run was interrupted (out holds what was measured, aborted = true). */
bool engine_run_level(struct engine *engine, const struct level_plan *plan, uint32_t index,
                      struct level_run *out);

#endif
