#include "engine.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "loop.h"
#include "openai.h"
#include "unicode.h"
#include "util.h"

/* Workers start a level together this long after the controller says go,
 * so the first requests of every worker leave at the same instant. */
#define LEVEL_START_DELAY_NS (2 * NS_PER_MS)
/* libcurl's receive buffer per transfer. */
#define ENGINE_RECEIVE_BUFFER 8192
/* An HTTP error body is kept for its message, up to this size. */
#define ERROR_BODY_MAX 4096
/* A stream may carry this many content events, or 4 per output token asked
 * for if that is more (a server may split tokens, never by that much): a
 * server that ignores max_tokens and streams on must not take the memory
 * of every timestamp (and text) it sends until the level ends. */
#define STREAM_EVENTS_MIN_CAP 65536
#define STREAM_EVENTS_PER_TOKEN 4
/* Closed loop: when a whole round of requests (and at least a few) fails
 * in a row (the endpoint is down, or refuses everything), new ones wait,
 * 10 ms doubling to 1 s, until one succeeds. Requests that fail at once
 * would otherwise be sent by the ten thousand a second, each one a record
 * in memory and in the results, for as long as the outage lasts. A lone
 * error at low concurrency does not pause anything. */
#define FAILING_PAUSE_MIN_NS (10 * NS_PER_MS)
#define FAILING_PAUSE_MAX_NS NS_PER_SEC
#define FAILING_IN_ROW_MIN 4

struct worker;

/* One request in flight; recycled (with its easy handle) when it ends. */
struct request {
    struct worker *worker;
    CURL *easy;
    struct request_record rec;
    struct sse_parser sse;
    struct buf text;       /* generated text, for counting without usage */
    struct buf error_body; /* an HTTP error response's body */
    char *body;
    /* The timestamps of the stream in flight; grown as chunks arrive (a
     * stream holds memory for what it received, not for what it may), kept
     * for the slot's next request, copied to the record when it ends. */
    int64_t *chunks;
    uint32_t cap_chunks;
    uint32_t max_chunks; /* content events allowed before the stream fails */
    bool chunks_dropped; /* past max_chunks: the record keeps no timestamps */
    int64_t arrival_ns;  /* when the bytes being parsed arrived */
    bool got_done;
    bool got_usage;
    unsigned attempts;               /* connections the request was sent on */
    enum request_error stream_error; /* set by a callback that aborted it */
    char *stream_error_message;
    size_t active_index;
    struct request *next_free;
    char errbuf[CURL_ERROR_SIZE];
};

struct worker {
    struct engine *engine;
    unsigned index;
    pthread_t thread;
    struct loop *loop;
    CURLM *multi;
    struct openai_body *body; /* this worker's request body template */
    int start_fd;             /* the controller says: run the level (or shut down) */
    int stop_fd;              /* the controller says: end the level now */

    /* The level being run. */
    const struct level_plan *plan;
    uint32_t level_index;
    int64_t level_start_ns, deadline_ns;
    uint32_t streams;       /* closed loop: requests kept in flight */
    double rate;            /* open loop: this worker's requests/s */
    uint32_t max_in_flight; /* open loop: this worker's share of the level's cap */
    bool ending, level_done;
    int64_t ended_ns;
    int64_t io_ready_ns; /* while libcurl reads a ready socket: when it was ready */
    struct loop_timer *curl_timer, *start_timer, *end_timer, *arrival_timer, *resume_timer;
    uint32_t failed_in_row;  /* closed loop: errors since the last success or pause */
    int64_t pause_ns;        /* closed loop: the last pause after failures, 0: none */
    int64_t paused_until_ns; /* closed loop: no new request before this */
    int64_t next_arrival_ns;
    int64_t *queued; /* open loop: intended times waiting for a free slot */
    size_t n_queued, queue_head, cap_queued;
    uint64_t rng;

    struct request **active;
    size_t n_active, cap_active;
    struct request *free_list;

    struct request_record *records;
    size_t n_records, cap_records;
    struct timestamp_arena *timestamps; /* the records' chunk_ns, until gather() takes them */

    /* Read by the controller while the level runs. */
    _Atomic uint64_t ok, errored, in_flight, chunks;
};

struct engine {
    struct engine_config cfg;
    struct curl_slist *headers; /* every request's, read by all workers */
    struct worker workers[ENGINE_MAX_WORKERS];
    unsigned n_workers;
    struct loop *control;
    int done_fd;
    _Atomic uint64_t next_seq;
    /* Requests taken from the level's max_requests by all workers together
     * (a split per worker would strand the share of a worker that has no
     * stream, or finishes first). */
    _Atomic uint64_t claimed;
    atomic_bool shutting_down;
};

/* --- small helpers --------------------------------------------------------- */

static void signal_fd(int fd)
{
    uint64_t one = 1;
    while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

static uint64_t drain_fd(int fd)
{
    uint64_t value = 0;
    while (read(fd, &value, sizeof value) < 0 && errno == EINTR) {
    }
    return value;
}

static int64_t next_gap_ns(struct worker *w)
{
    double mean_gap_s = 1.0 / w->rate;
    if (w->plan->profile == PROFILE_POISSON)
        return (int64_t)(-log(1.0 - random_uniform(&w->rng)) * mean_gap_s * NS_PER_SEC);
    return (int64_t)(mean_gap_s * NS_PER_SEC);
}

static enum request_error error_from_http(enum http_error_class cls)
{
    switch (cls) {
    case HTTP_ERR_DNS:
    case HTTP_ERR_CONNECT: return REQERR_CONNECT;
    case HTTP_ERR_TIMEOUT: return REQERR_TIMEOUT;
    case HTTP_ERR_TLS_UNKNOWN_CA:
    case HTTP_ERR_TLS_HOSTNAME:
    case HTTP_ERR_TLS_EXPIRED:
    case HTTP_ERR_TLS: return REQERR_TLS;
    case HTTP_ERR_RESET: return REQERR_RESET;
    case HTTP_ERR_PARTIAL: return REQERR_STREAM_CUT;
    default: return REQERR_OTHER;
    }
}

/* --- streaming callbacks (libcurl calls these) ------------------------------ */

/* When the bytes libcurl hands over arrived. Bytes read because their
 * socket was ready arrived by the time epoll said so; libcurl's work since
 * then is ours, not the server's. But while it handles one socket libcurl
 * also runs other transfers whose timers expired, and may send one of them
 * and read its answer: an epoll wake-up from before the request was sent
 * says nothing about that answer. */
static int64_t arrival_time(const struct request *r)
{
    int64_t ready = r->worker->io_ready_ns;
    return ready > r->rec.send_ns ? ready : now_ns();
}

static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
    struct request *r = userdata;
    if (!r->rec.first_byte_ns)
        r->rec.first_byte_ns = arrival_time(r);
    (void)data;
    return size * n;
}

/* libcurl calls this when a connection is ready to carry the request, once
 * per attempt: a second call means a reused connection died before any
 * response byte and libcurl resent the request on a new one. */
static int on_connection_ready(void *userdata, char *remote_ip, char *local_ip, int remote_port,
                               int local_port)
{
    (void)remote_ip, (void)local_ip, (void)remote_port, (void)local_port;
    struct request *r = userdata;
    if (r->attempts++ > 0 && r->rec.connection_retries < UINT8_MAX)
        r->rec.connection_retries++;
    return CURL_PREREQFUNC_OK;
}

/* Servers repeat credentials in their error text: none reaches a record. */
static void redact_credentials(const struct request *r, char *message)
{
    const struct engine_config *cfg = &r->worker->engine->cfg;
    http_redact_header_values_text(message, cfg->headers, cfg->n_headers);
}

static void fail_stream(struct request *r, enum request_error error, char *message)
{
    redact_credentials(r, message);
    r->stream_error = error;
    free(r->stream_error_message);
    r->stream_error_message = message;
}

static bool on_event(void *ctx, const char *data, size_t len)
{
    struct request *r = ctx;
    struct openai_event ev;
    if (!openai_parse_event(data, len, &ev)) {
        /* Redacted before it is cut to 80 bytes, so no piece of a secret stays. */
        char head[1024];
        snprintf(head, sizeof head, "%.*s", (int)(len < sizeof head ? len : sizeof head - 1), data);
        redact_credentials(r, head);
        fail_stream(r, REQERR_MALFORMED, xasprintf("invalid JSON in an event: %.80s", head));
        return false;
    }
    if (ev.error) {
        fail_stream(r, REQERR_HTTP, xasprintf("error event in the stream: %s", ev.error));
        openai_event_free(&ev);
        return false;
    }
    if (ev.done)
        r->got_done = true;
    if (ev.has_text) {
        int64_t t = r->arrival_ns;
        struct request_record *rec = &r->rec;
        if (rec->n_chunks == r->max_chunks) {
            fail_stream(r, REQERR_MALFORMED,
                        xasprintf("the stream went on past %u content events for %d output "
                                  "tokens asked: the server does not stop at max_tokens",
                                  r->max_chunks, rec->requested_output_tokens));
            /* Nor is the record to hold them: the level may fail thousands
             * of such streams, and their timings say nothing (n_chunks
             * stays; readers take chunk_ns == NULL as no timestamps). */
            r->chunks_dropped = true;
            openai_event_free(&ev);
            return false;
        }
        if (rec->n_chunks == r->cap_chunks) {
            r->cap_chunks = r->cap_chunks ? r->cap_chunks * 2 : 64;
            r->chunks = xrealloc(r->chunks, r->cap_chunks * sizeof *r->chunks);
        }
        r->chunks[rec->n_chunks++] = t;
        if (!rec->first_token_ns) {
            rec->first_token_ns = t;
            rec->server_first_token_ns = ev.mock_sent_ns;
        }
        rec->last_token_ns = t;
        if (r->worker->engine->cfg.count_tokens)
            buf_append(&r->text, ev.text, ev.text_len); /* counted if no usage comes */
        atomic_fetch_add_explicit(&r->worker->chunks, 1, memory_order_relaxed);
    }
    if (ev.has_usage) {
        r->got_usage = true;
        r->rec.prompt_tokens = ev.prompt_tokens;
        r->rec.output_tokens = ev.completion_tokens;
    }
    if (ev.finish_reason[0]) {
        free(r->rec.finish_reason);
        r->rec.finish_reason = xstrdup(ev.finish_reason);
    }
    openai_event_free(&ev);
    return true;
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
    struct request *r = userdata;
    size_t len = size * n;
    r->arrival_ns = arrival_time(r);
    if (!r->rec.http_status) {
        long status = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
        r->rec.http_status = (int)status;
    }
    if (r->rec.http_status >= 400) {
        if (r->error_body.len < ERROR_BODY_MAX)
            buf_append(&r->error_body, data, len);
        return len;
    }
    if (sse_feed(&r->sse, data, len, on_event, r) == SSE_MALFORMED)
        fail_stream(r, REQERR_MALFORMED, xasprintf("malformed SSE line: %s", r->sse.bad_line));
    /* Returning less than len makes libcurl abort the transfer. */
    return r->stream_error ? 0 : len;
}

/* --- requests ------------------------------------------------------------ */

static struct request *request_new(struct worker *w)
{
    struct engine *e = w->engine;
    struct request *r = xcalloc(1, sizeof *r);
    r->worker = w;
    r->easy = curl_easy_init();
    if (!r->easy) {
        free(r);
        return NULL;
    }
    http_setup(r->easy, &e->cfg.http, r->errbuf);
    curl_easy_setopt(r->easy, CURLOPT_URL, e->cfg.url);
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, e->headers);
    curl_easy_setopt(r->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    /* Events are a few hundred bytes; libcurl's defaults (16 KiB to receive,
     * 64 KiB to send) would dominate the memory of a held-open stream. */
    curl_easy_setopt(r->easy, CURLOPT_BUFFERSIZE, (long)ENGINE_RECEIVE_BUFFER);
    curl_easy_setopt(r->easy, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
    curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
    curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
    curl_easy_setopt(r->easy, CURLOPT_PREREQFUNCTION, on_connection_ready);
    curl_easy_setopt(r->easy, CURLOPT_PREREQDATA, r);
    sse_init(&r->sse);
    return r;
}

static void request_destroy(struct request *r)
{
    curl_easy_cleanup(r->easy);
    sse_free(&r->sse);
    buf_free(&r->text);
    buf_free(&r->error_body);
    free(r->body);
    free(r->chunks);
    free(r->rec.finish_reason);
    free(r->rec.error_message);
    free(r->stream_error_message);
    free(r);
}

static void track_active(struct worker *w, struct request *r)
{
    if (w->n_active == w->cap_active) {
        w->cap_active = w->cap_active ? w->cap_active * 2 : 64;
        w->active = xrealloc(w->active, w->cap_active * sizeof *w->active);
    }
    r->active_index = w->n_active;
    w->active[w->n_active++] = r;
}

static void untrack_active(struct worker *w, struct request *r)
{
    struct request *last = w->active[--w->n_active];
    w->active[r->active_index] = last;
    last->active_index = r->active_index;
}

static void finish_request(struct worker *w, struct request *r, enum request_outcome outcome,
                           CURLcode rc);

/* Starts one request now; intended_ns is when the schedule wanted it.
 * False when it could not be started (out of memory, or libcurl refused
 * it: then it is recorded as an error); callers stop starting more for now
 * instead of spinning on the failure. */
static bool start_request(struct worker *w, int64_t intended_ns)
{
    struct engine *e = w->engine;
    struct request *r = w->free_list;
    if (r)
        w->free_list = r->next_free;
    else if (!(r = request_new(w)))
        return false; /* out of handles: the level runs with fewer */

    uint64_t seq = atomic_fetch_add(&e->next_seq, 1);
    struct engine_prompt prompt = {0};
    e->cfg.next_prompt(e->cfg.prompt_ctx, w->index, seq, &prompt);
    free(r->body);
    r->body = openai_body_render(w->body, prompt.text, prompt.output_tokens);

    r->rec = (struct request_record){
        .id = seq,
        .level = w->level_index,
        .worker = (uint16_t)w->index,
        .intended_ns = intended_ns,
        .prompt_tokens = -1,
        .output_tokens = -1,
        .token_source = TOKENS_NONE,
        .requested_prompt_tokens = prompt.prompt_tokens,
        .requested_output_tokens = prompt.output_tokens,
        .outcome = OUTCOME_INCOMPLETE,
    };
    r->chunks_dropped = false;
    uint64_t allowed =
        prompt.output_tokens > 0 ? (uint64_t)prompt.output_tokens * STREAM_EVENTS_PER_TOKEN : 0;
    if (allowed < STREAM_EVENTS_MIN_CAP)
        allowed = STREAM_EVENTS_MIN_CAP;
    r->max_chunks = allowed < UINT32_MAX ? (uint32_t)allowed : UINT32_MAX;
    r->got_done = r->got_usage = false;
    r->attempts = 0;
    r->stream_error = REQERR_NONE;
    free(r->stream_error_message);
    r->stream_error_message = NULL;
    sse_reset(&r->sse);
    buf_clear(&r->text);
    buf_clear(&r->error_body);

    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->body));
    curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, (long)(w->plan->request_timeout_s * 1000));

    track_active(w, r);
    atomic_fetch_add_explicit(&w->in_flight, 1, memory_order_relaxed);
    r->rec.send_ns = now_ns();
    if (!intended_ns)
        r->rec.intended_ns = r->rec.send_ns;
    CURLMcode mc = curl_multi_add_handle(w->multi, r->easy);
    if (mc != CURLM_OK) {
        fail_stream(r, REQERR_OTHER,
                    xasprintf("libcurl cannot start the request: %s", curl_multi_strerror(mc)));
        finish_request(w, r, OUTCOME_ERROR, CURLE_OK);
        return false;
    }
    return true;
}

/* The server's bytes become text in the results (messages, finish
 * reasons): they must be UTF-8 there, whatever was sent, and a message cut
 * at a byte count may end inside a character. Takes s; NULL stays NULL. */
static char *as_utf8(char *s)
{
    size_t len = s ? strlen(s) : 0;
    if (!s || utf8_valid_prefix(s, len) == len)
        return s;
    struct buf text = {0};
    utf8_append_lossy(&text, s, len);
    free(s);
    return buf_steal(&text);
}

static void keep_record(struct worker *w, struct request *r)
{
    /* Records live until the run ends: each keeps a copy of its timestamps
     * in the worker's arena, and the scratch array serves the next one. */
    if (r->rec.n_chunks && !r->chunks_dropped)
        r->rec.chunk_ns = timestamp_arena_copy(&w->timestamps, r->chunks, r->rec.n_chunks);
    r->rec.error_message = as_utf8(r->rec.error_message);
    r->rec.finish_reason = as_utf8(r->rec.finish_reason);
    if (w->n_records == w->cap_records) {
        w->cap_records = w->cap_records ? w->cap_records * 2 : 256;
        w->records = xrealloc(w->records, w->cap_records * sizeof *w->records);
    }
    w->records[w->n_records++] = r->rec;
    /* The record now owns these. */
    r->rec.chunk_ns = NULL;
    r->rec.finish_reason = NULL;
    r->rec.error_message = NULL;
}

/* Ends a request: removes it from libcurl, fills its record, recycles it. */
static void finish_request(struct worker *w, struct request *r, enum request_outcome outcome,
                           CURLcode rc)
{
    struct engine *e = w->engine;
    struct request_record *rec = &r->rec;
    curl_multi_remove_handle(w->multi, r->easy);
    rec->end_ns = now_ns();
    rec->outcome = outcome;
    if (!rec->http_status) {
        long status = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
        rec->http_status = (int)status;
    }

    if (outcome == OUTCOME_ERROR) {
        if (r->stream_error) {
            rec->error = r->stream_error;
            rec->error_message = r->stream_error_message;
            r->stream_error_message = NULL;
        } else if (rc != CURLE_OK) {
            struct http_failure failure;
            http_explain(r->easy, rc, r->errbuf, e->cfg.url, &e->cfg.http, &failure);
            rec->error = error_from_http(failure.cls);
            rec->error_message = xstrdup(failure.message);
        } else if (rec->http_status >= 400) {
            rec->error = REQERR_HTTP;
            http_redact_header_values(&r->error_body, e->cfg.headers, e->cfg.n_headers);
            char *msg = openai_error_message(r->error_body.data, r->error_body.len, 300);
            rec->error_message = xasprintf("HTTP %d: %s", rec->http_status, msg);
            free(msg);
        } else {
            rec->error = REQERR_STREAM_CUT;
            rec->error_message = xstrdup("the stream ended without data: [DONE]");
        }
    }

    if (r->got_usage) {
        rec->token_source = TOKENS_SERVER;
    } else if (e->cfg.count_tokens && r->text.len) {
        int n = e->cfg.count_tokens(e->cfg.prompt_ctx, w->index, r->text.data, r->text.len);
        if (n >= 0) {
            rec->output_tokens = n;
            rec->prompt_tokens = rec->requested_prompt_tokens;
            rec->token_source = TOKENS_TOKENIZER;
        }
    }

    untrack_active(w, r);
    atomic_fetch_sub_explicit(&w->in_flight, 1, memory_order_relaxed);
    if (outcome == OUTCOME_OK) {
        atomic_fetch_add_explicit(&w->ok, 1, memory_order_relaxed);
        w->failed_in_row = 0;
        w->pause_ns = 0;
    } else if (outcome == OUTCOME_ERROR) {
        atomic_fetch_add_explicit(&w->errored, 1, memory_order_relaxed);
        uint32_t round = w->streams > FAILING_IN_ROW_MIN ? w->streams : FAILING_IN_ROW_MIN;
        if (w->streams && ++w->failed_in_row >= round) {
            w->failed_in_row = 0;
            w->pause_ns = w->pause_ns ? 2 * w->pause_ns : FAILING_PAUSE_MIN_NS;
            if (w->pause_ns > FAILING_PAUSE_MAX_NS)
                w->pause_ns = FAILING_PAUSE_MAX_NS;
            w->paused_until_ns = now_ns() + w->pause_ns;
        }
    }
    keep_record(w, r);
    r->next_free = w->free_list;
    w->free_list = r;
}

/* --- the level ------------------------------------------------------------- */

static void end_level(struct worker *w);

/* Takes one request from the level's max_requests (none: unlimited). */
static bool claim_request(struct worker *w)
{
    uint64_t max = w->plan->max_requests;
    return !max || atomic_fetch_add_explicit(&w->engine->claimed, 1, memory_order_relaxed) < max;
}

static bool quota_left(const struct worker *w)
{
    uint64_t max = w->plan->max_requests;
    return !max || atomic_load_explicit(&w->engine->claimed, memory_order_relaxed) < max;
}

static void refill(struct worker *w);

static void on_resume(struct loop *loop, void *data)
{
    (void)loop;
    struct worker *w = data;
    w->resume_timer = NULL;
    refill(w);
}

static void refill(struct worker *w)
{
    /* Nothing starts before the level does: a libcurl timer or socket event
     * left from the last level can run the loop during the start delay. */
    if (w->ending || w->start_timer)
        return;
    bool open_loop = load_profile_is_open_loop(w->plan->profile);
    if (open_loop) {
        while (w->queue_head < w->n_queued && w->n_active < w->max_in_flight)
            if (!start_request(w, w->queued[w->queue_head++]))
                break;
    } else if (w->paused_until_ns > now_ns()) {
        if (!w->resume_timer && w->n_active < w->streams)
            w->resume_timer = loop_timer_at(w->loop, w->paused_until_ns, on_resume, w);
    } else {
        while (w->n_active < w->streams && claim_request(w))
            if (!start_request(w, 0))
                break;
    }
    /* A closed-loop worker with no stream of its own (fewer streams than
     * workers) has nothing to do: it must not hold the level open. */
    bool nothing_left =
        w->queue_head == w->n_queued && (!quota_left(w) || (!open_loop && w->streams == 0));
    if (nothing_left && w->n_active == 0)
        end_level(w);
}

/* Drains libcurl's finished transfers, then tops the load back up. */
static void collect_done(struct worker *w)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(w->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct request *r = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode rc = msg->data.result;
        bool ok = rc == CURLE_OK && !r->stream_error && r->rec.http_status < 400 && r->got_done;
        finish_request(w, r, ok ? OUTCOME_OK : OUTCOME_ERROR, rc);
    }
    refill(w);
}

static void on_socket_ready(struct loop *loop, int fd, unsigned events, void *data)
{
    struct worker *w = data;
    w->io_ready_ns = loop_woke_ns(loop);
    int mask = (events & LOOP_READ ? CURL_CSELECT_IN : 0) |
               (events & LOOP_WRITE ? CURL_CSELECT_OUT : 0) |
               (events & LOOP_ERROR ? CURL_CSELECT_ERR : 0);
    int running;
    curl_multi_socket_action(w->multi, fd, mask, &running);
    w->io_ready_ns = 0;
    collect_done(w);
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy, (void)socketp;
    struct worker *w = userp;
    if (what == CURL_POLL_REMOVE) {
        loop_unwatch(w->loop, s);
        return 0;
    }
    unsigned events =
        (what & CURL_POLL_IN ? LOOP_READ : 0u) | (what & CURL_POLL_OUT ? LOOP_WRITE : 0u);
    return loop_watch(w->loop, s, events, on_socket_ready, w) ? 0 : -1;
}

static void on_curl_timeout(struct loop *loop, void *data)
{
    (void)loop;
    struct worker *w = data;
    w->curl_timer = NULL;
    w->io_ready_ns = 0;
    int running;
    curl_multi_socket_action(w->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    collect_done(w);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct worker *w = userp;
    if (w->curl_timer) {
        loop_timer_cancel(w->loop, w->curl_timer);
        w->curl_timer = NULL;
    }
    if (timeout_ms >= 0)
        w->curl_timer =
            loop_timer_at(w->loop, now_ns() + timeout_ms * NS_PER_MS, on_curl_timeout, w);
    return 0;
}

static void queue_arrival(struct worker *w, int64_t intended_ns)
{
    if (w->n_queued == w->cap_queued) {
        w->cap_queued = w->cap_queued ? w->cap_queued * 2 : 256;
        w->queued = xrealloc(w->queued, w->cap_queued * sizeof *w->queued);
    }
    w->queued[w->n_queued++] = intended_ns;
}

static void on_arrival(struct loop *loop, void *data)
{
    struct worker *w = data;
    w->arrival_timer = NULL;
    int64_t now = now_ns();
    /* A late timer (a busy core) must not lose arrivals: every arrival
     * whose time has come is issued, each with its intended time; but none
     * meant for after the level's end (the deadline timer, due too, runs
     * next and would only cancel them). */
    while (!w->ending && w->next_arrival_ns <= now && w->next_arrival_ns < w->deadline_ns &&
           claim_request(w)) {
        if (w->n_active < w->max_in_flight && w->queue_head == w->n_queued)
            start_request(w, w->next_arrival_ns);
        else
            queue_arrival(w, w->next_arrival_ns);
        w->next_arrival_ns += next_gap_ns(w);
    }
    if (!w->ending && quota_left(w) && w->next_arrival_ns < w->deadline_ns)
        w->arrival_timer = loop_timer_at(loop, w->next_arrival_ns, on_arrival, w);
    refill(w);
}

static void on_level_start(struct loop *loop, void *data)
{
    struct worker *w = data;
    w->start_timer = NULL;
    if (load_profile_is_open_loop(w->plan->profile)) {
        if (w->rate > 0) {
            /* Workers share one arrival process: constant-rate workers are
             * offset by their index; Poisson streams superpose. */
            int64_t first = w->level_start_ns;
            if (w->plan->profile == PROFILE_CONSTANT)
                first +=
                    (int64_t)((double)w->index / (w->rate * w->engine->n_workers) * NS_PER_SEC);
            else
                first += next_gap_ns(w);
            w->next_arrival_ns = first;
            w->arrival_timer = loop_timer_at(loop, first, on_arrival, w);
        }
    }
    refill(w);
    if (load_profile_is_open_loop(w->plan->profile) && w->rate <= 0)
        end_level(w);
}

static void on_deadline(struct loop *loop, void *data)
{
    (void)loop;
    struct worker *w = data;
    w->end_timer = NULL;
    end_level(w);
}

static void on_stop(struct loop *loop, int fd, unsigned events, void *data)
{
    (void)loop, (void)events;
    drain_fd(fd);
    end_level(data);
}

/* Stops scheduling and cancels whatever is still in flight (incomplete). */
static void end_level(struct worker *w)
{
    if (w->ending)
        return;
    w->ending = true;
    struct loop_timer **timers[] = {&w->start_timer, &w->end_timer, &w->arrival_timer,
                                    &w->resume_timer};
    for (size_t i = 0; i < ARRAY_LEN(timers); i++) {
        loop_timer_cancel(w->loop, *timers[i]);
        *timers[i] = NULL;
    }
    while (w->n_active > 0)
        finish_request(w, w->active[w->n_active - 1], OUTCOME_INCOMPLETE, CURLE_OK);
    w->ended_ns = now_ns();
    w->level_done = true;
}

static void run_level(struct worker *w)
{
    w->ending = w->level_done = false;
    w->n_queued = w->queue_head = 0;
    w->failed_in_row = 0;
    w->pause_ns = w->paused_until_ns = 0;
    w->start_timer = loop_timer_at(w->loop, w->level_start_ns, on_level_start, w);
    w->end_timer = loop_timer_at(w->loop, w->deadline_ns, on_deadline, w);
    /* Keep as many idle connections as the level may use at once. */
    bool open_loop = load_profile_is_open_loop(w->plan->profile);
    curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS,
                      (long)(open_loop ? w->max_in_flight : w->streams) + 16);
    while (!w->level_done)
        loop_run_once(w->loop, -1);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    /* Arrival timers are meant to fire on time: ask for 1 ns of slack
     * instead of the default 50 us. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    for (;;) {
        drain_fd(w->start_fd);
        if (atomic_load(&w->engine->shutting_down))
            break;
        run_level(w);
        signal_fd(w->engine->done_fd);
    }
    return NULL;
}

/* --- the engine ------------------------------------------------------------ */

static bool worker_init(struct engine *e, struct worker *w, unsigned index, struct buf *err)
{
    w->engine = e;
    w->index = index;
    w->start_fd = eventfd(0, EFD_CLOEXEC);
    w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    w->loop = loop_create();
    w->multi = curl_multi_init();
    if (w->start_fd < 0 || w->stop_fd < 0 || !w->loop || !w->multi) {
        buf_printf(err, "cannot set up engine worker %u: %s", index, strerror(errno));
        return false;
    }
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(w->multi, CURLMOPT_SOCKETDATA, w);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(w->multi, CURLMOPT_TIMERDATA, w);
    /* No per-host or total cap: every request must be on the wire, never
     * queued invisibly inside libcurl. */
    curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    curl_multi_setopt(w->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    curl_multi_setopt(w->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);

    w->body = openai_body_new(e->cfg.api, e->cfg.model, e->cfg.extra_body, err);
    if (!w->body)
        return false;
    if (!loop_watch(w->loop, w->stop_fd, LOOP_READ, on_stop, w)) {
        buf_printf(err, "cannot watch the stop signal: %s", strerror(errno));
        return false;
    }
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        buf_printf(err, "cannot start engine worker %u", index);
        return false;
    }
    return true;
}

static void worker_cleanup(struct worker *w, bool started)
{
    if (started) {
        signal_fd(w->start_fd);
        pthread_join(w->thread, NULL);
    }
    while (w->free_list) {
        struct request *r = w->free_list;
        w->free_list = r->next_free;
        request_destroy(r);
    }
    if (w->multi)
        curl_multi_cleanup(w->multi);
    loop_destroy(w->loop);
    openai_body_free(w->body);
    if (w->start_fd >= 0)
        close(w->start_fd);
    if (w->stop_fd >= 0)
        close(w->stop_fd);
    free(w->active);
    free(w->queued);
    free(w->records);
    timestamp_arena_free(w->timestamps);
}

struct engine *engine_create(const struct engine_config *cfg, struct buf *err)
{
    if (cfg->workers < 1 || cfg->workers > ENGINE_MAX_WORKERS) {
        buf_printf(err, "workers must be between 1 and %d", ENGINE_MAX_WORKERS);
        return NULL;
    }
    struct engine *e = xcalloc(1, sizeof *e);
    e->cfg = *cfg;
    e->headers = curl_slist_append(NULL, "Content-Type: application/json");
    e->headers = curl_slist_append(e->headers, "Accept: text/event-stream");
    e->headers = curl_slist_append(e->headers, "Expect:");
    for (size_t i = 0; i < cfg->n_headers; i++)
        e->headers = curl_slist_append(e->headers, cfg->headers[i]);
    e->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    e->control = loop_create();
    if (e->done_fd < 0 || !e->control) {
        buf_printf(err, "cannot set up the engine: %s", strerror(errno));
        engine_destroy(e);
        return NULL;
    }
    for (unsigned i = 0; i < cfg->workers; i++) {
        e->workers[i].start_fd = e->workers[i].stop_fd = -1;
        if (!worker_init(e, &e->workers[i], i, err)) {
            worker_cleanup(&e->workers[i], false);
            engine_destroy(e);
            return NULL;
        }
        e->n_workers++;
    }
    return e;
}

void engine_destroy(struct engine *e)
{
    if (!e)
        return;
    atomic_store(&e->shutting_down, true);
    for (unsigned i = 0; i < e->n_workers; i++)
        worker_cleanup(&e->workers[i], true);
    loop_destroy(e->control);
    if (e->done_fd >= 0)
        close(e->done_fd);
    curl_slist_free_all(e->headers);
    free(e);
}

/* --- the controller -------------------------------------------------------- */

struct control {
    struct engine *engine;
    const struct level_plan *plan;
    unsigned workers_done;
    bool interrupted, aborted;
    char *abort_reason;
    int64_t level_start_ns;
    struct loop_timer *tick;
};

static int64_t tick_ns(const struct engine *e)
{
    double interval = e->cfg.progress_interval_s > 0 ? e->cfg.progress_interval_s : 1.0;
    return (int64_t)(interval * NS_PER_SEC);
}

static void snapshot(const struct control *c, struct engine_progress *p)
{
    const struct engine *e = c->engine;
    *p = (struct engine_progress){.level_start_ns = c->level_start_ns, .now_ns = now_ns()};
    for (unsigned i = 0; i < e->n_workers; i++) {
        const struct worker *w = &e->workers[i];
        p->ok += atomic_load_explicit(&w->ok, memory_order_relaxed);
        p->errored += atomic_load_explicit(&w->errored, memory_order_relaxed);
        p->in_flight += atomic_load_explicit(&w->in_flight, memory_order_relaxed);
        p->chunks += atomic_load_explicit(&w->chunks, memory_order_relaxed);
    }
}

static void stop_workers(struct engine *e)
{
    for (unsigned i = 0; i < e->n_workers; i++)
        signal_fd(e->workers[i].stop_fd);
}

static void on_tick(struct loop *loop, void *data)
{
    struct control *c = data;
    struct engine *e = c->engine;
    struct engine_progress p;
    snapshot(c, &p);
    uint64_t completed = p.ok + p.errored;
    if (!c->aborted && c->plan->max_error_rate < 1 &&
        completed >= PLAN_MIN_REQUESTS_FOR_ERROR_RATE &&
        (double)p.errored / (double)completed > c->plan->max_error_rate) {
        c->aborted = true;
        c->abort_reason =
            xasprintf("error rate %.1f %% (%llu of %llu requests) is above the "
                      "limit of %.1f %%",
                      100.0 * (double)p.errored / (double)completed, (unsigned long long)p.errored,
                      (unsigned long long)completed, 100.0 * c->plan->max_error_rate);
        stop_workers(e);
    }
    if (e->cfg.on_progress)
        e->cfg.on_progress(e->cfg.ctx, c->plan, &p);
    c->tick = loop_timer_at(loop, now_ns() + tick_ns(e), on_tick, c);
}

static void on_worker_done(struct loop *loop, int fd, unsigned events, void *data)
{
    (void)loop, (void)events;
    struct control *c = data;
    c->workers_done += (unsigned)drain_fd(fd);
}

static void on_interrupt_fd(struct loop *loop, int fd, unsigned events, void *data)
{
    (void)loop, (void)fd, (void)events;
    struct control *c = data;
    struct engine *e = c->engine;
    if (e->cfg.on_interrupt(e->cfg.ctx) && !c->interrupted) {
        c->interrupted = true;
        stop_workers(e);
    }
}

static int compare_send_time(const void *a, const void *b)
{
    const struct request_record *x = a, *y = b;
    return (x->send_ns > y->send_ns) - (x->send_ns < y->send_ns);
}

static void gather(struct control *c, struct level_run *out)
{
    struct engine *e = c->engine;
    const struct level_plan *plan = c->plan;
    size_t total = 0;
    int64_t end = 0; /* when the last worker ended the level */
    for (unsigned i = 0; i < e->n_workers; i++) {
        total += e->workers[i].n_records;
        if (e->workers[i].ended_ns > end)
            end = e->workers[i].ended_ns;
    }
    struct request_record *records = xcalloc(total ? total : 1, sizeof *records);
    size_t n = 0;
    for (unsigned i = 0; i < e->n_workers; i++) {
        struct worker *w = &e->workers[i];
        if (!w->n_records)
            continue; /* w->records may be NULL: memcpy from NULL is undefined */
        memcpy(records + n, w->records, w->n_records * sizeof *records);
        n += w->n_records;
        w->n_records = 0;
    }
    struct timestamp_arena *timestamps = NULL;
    for (unsigned i = 0; i < e->n_workers; i++)
        timestamp_arena_move(&timestamps, &e->workers[i].timestamps);
    qsort(records, n, sizeof *records, compare_send_time);
    int64_t start = c->level_start_ns;
    int64_t deadline = start + (int64_t)(plan->duration_s * NS_PER_SEC);
    int64_t measure_start = start + (int64_t)(plan->warmup_s * NS_PER_SEC);
    int64_t measure_end =
        (end < deadline ? end : deadline) - (int64_t)(plan->cooldown_s * NS_PER_SEC);
    for (size_t i = 0; i < n; i++) {
        struct request_record *r = &records[i];
        bool sent_inside = r->send_ns >= measure_start && r->send_ns < measure_end;
        r->measured = sent_inside && (r->outcome == OUTCOME_INCOMPLETE || r->end_ns <= measure_end);
    }
    *out = (struct level_run){
        .profile = plan->profile,
        .target = plan->target,
        .start_ns = start,
        .end_ns = end,
        .measure_start_ns = measure_start,
        .measure_end_ns = measure_end,
        .records = records,
        .n_records = n,
        .timestamps = timestamps,
        .aborted = c->aborted || c->interrupted,
        .abort_reason = c->interrupted ? xstrdup("interrupted") : c->abort_reason,
    };
    if (c->interrupted)
        free(c->abort_reason);
}

bool engine_run_level(struct engine *e, const struct level_plan *plan, uint32_t index,
                      struct level_run *out)
{
    struct control c = {.engine = e, .plan = plan};
    c.level_start_ns = now_ns() + LEVEL_START_DELAY_NS;
    int64_t deadline = c.level_start_ns + (int64_t)(plan->duration_s * NS_PER_SEC);
    unsigned n = e->n_workers;
    bool open_loop = load_profile_is_open_loop(plan->profile);
    uint64_t streams = (uint64_t)llround(plan->target);
    for (unsigned i = 0; i < n; i++) {
        struct worker *w = &e->workers[i];
        w->plan = plan;
        w->level_index = index;
        w->level_start_ns = c.level_start_ns;
        w->deadline_ns = deadline;
        w->streams = open_loop ? 0 : (uint32_t)(streams / n + (i < streams % n));
        w->rate = open_loop ? plan->target / n : 0;
        /* The cap is the level's, not each worker's. */
        w->max_in_flight = plan->max_in_flight / n + (i < plan->max_in_flight % n);
        if (w->max_in_flight == 0)
            w->max_in_flight = 1;
        w->rng = 0x9E3779B97F4A7C15ULL * (index + 1) ^ (0xD1B54A32D192ED03ULL * (i + 1));
        atomic_store(&w->ok, 0);
        atomic_store(&w->errored, 0);
        atomic_store(&w->in_flight, 0);
        atomic_store(&w->chunks, 0);
        drain_fd(w->stop_fd); /* a stop meant for an earlier level */
    }
    atomic_store(&e->claimed, 0);
    for (unsigned i = 0; i < n; i++)
        signal_fd(e->workers[i].start_fd);

    loop_watch(e->control, e->done_fd, LOOP_READ, on_worker_done, &c);
    if (e->cfg.interrupt_fd >= 0 && e->cfg.on_interrupt)
        loop_watch(e->control, e->cfg.interrupt_fd, LOOP_READ, on_interrupt_fd, &c);
    c.tick = loop_timer_at(e->control, c.level_start_ns + tick_ns(e), on_tick, &c);
    while (c.workers_done < n)
        loop_run_once(e->control, -1);
    loop_timer_cancel(e->control, c.tick);
    loop_unwatch(e->control, e->done_fd);
    if (e->cfg.interrupt_fd >= 0)
        loop_unwatch(e->control, e->cfg.interrupt_fd);

    if (e->cfg.on_progress) {
        struct engine_progress p;
        snapshot(&c, &p);
        e->cfg.on_progress(e->cfg.ctx, plan, &p);
    }
    gather(&c, out);
    return !c.interrupted;
}
