/* The mock server: connections, routing, streaming, faults, counters.
 * Read mockserver.h first; the wire format is in mock_wire.c. */
#include "mockserver.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "httpreq.h"
#include "loop.h"
#include "mock_tls.h"

#define READ_CHUNK (64 * 1024)
#define MAX_BUFFERED_INPUT (HTTPREQ_MAX_HEAD + HTTPREQ_MAX_BODY)
#define LISTEN_BACKLOG 4096
#define ACCEPT_RETRY_NS (100 * NS_PER_MS) /* after EMFILE: wait for fds to free up */

enum outcome {
    OUTCOME_COMPLETED,
    OUTCOME_FAULTED,
    OUTCOME_CLIENT_CLOSED,
    OUTCOME_ABORTED
};

/* Written by the server thread only; read from anywhere. */
struct counters {
    _Atomic uint64_t current_streams, peak_streams, requests;
    _Atomic uint64_t completed, faulted, client_closed, aborted, rejected;
    _Atomic uint64_t faults[MOCK_FAULT_KINDS];
    _Atomic uint64_t events_sent, other_requests, connections_open, connections_total;
};

/* One accepted generation request, from body parsed to last byte written. */
struct stream {
    struct mock_request req;
    enum mock_fault fault;
    uint64_t fault_at; /* content events before the fault acts */
    int64_t fault_delay_ns;
    uint64_t n_tokens, sent;
    const char *finish_reason;
    bool stamp, chunked;
    int64_t due_ns; /* when the next token was planned */
    struct mock_event_head head;
    bool finishing; /* the last bytes are queued: done when they are written */
};

struct conn {
    struct mock_server *srv;
    struct conn *prev, *next;
    int fd;
    struct mock_tls_conn *tls;
    struct buf in;
    struct buf out;
    size_t out_off;
    unsigned watching;
    struct loop_timer *timer;
    struct stream *stream;     /* a generation request under way: later requests wait */
    bool keep_alive;           /* false: close once the current response is written */
    bool tls_read_wants_write; /* a TLS read (the handshake) waits for the socket to drain */
    bool continue_sent;
    bool dead; /* closed; freed when the loop callback that closed it returns */
};

struct mock_server {
    struct mock_config cfg;
    char *model; /* owned copy behind cfg.model */
    struct mock_served served;
    struct loop *loop;
    int listen_fd, stop_fd;
    pthread_t thread;
    bool thread_started;
    struct mock_tls *tls;
    char url[128];
    unsigned port;
    struct conn *conns;
    struct mock_rng latency_rng, fault_rng, id_rng;
    uint64_t generation_requests; /* numbers requests for everyN faults; never reset */
    int64_t started_wall_s;
    struct buf scratch; /* one event, before chunk framing */
    struct counters c;
};

static void count(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static uint64_t load(const _Atomic uint64_t *counter)
{
    return atomic_load_explicit(counter, memory_order_relaxed);
}

/* --- connections: life and I/O ------------------------------------------- *
 * Every loop callback on a connection ends in conn_pump() then conn_release():
 * whatever closed the connection on the way only marked it dead, so no
 * function below ever touches freed memory. */

static void stream_end(struct conn *conn, enum outcome why);

static void conn_close(struct conn *conn, bool reset, enum outcome why)
{
    if (conn->dead)
        return;
    struct mock_server *srv = conn->srv;
    stream_end(conn, why);
    if (conn->timer) {
        loop_timer_cancel(srv->loop, conn->timer);
        conn->timer = NULL;
    }
    loop_unwatch(srv->loop, conn->fd);
    if (reset) {
        /* SO_LINGER with a zero timeout turns close() into an RST. */
        struct linger lg = {1, 0};
        setsockopt(conn->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        mock_tls_drop(conn->tls);
    } else {
        mock_tls_close(conn->tls);
    }
    conn->tls = NULL;
    close(conn->fd);
    conn->fd = -1;
    conn->dead = true;
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        srv->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    atomic_fetch_sub_explicit(&srv->c.connections_open, 1, memory_order_relaxed);
}

static void conn_release(struct conn *conn)
{
    if (!conn->dead)
        return;
    buf_free(&conn->in);
    buf_free(&conn->out);
    free(conn);
}

static void on_conn_io(struct loop *loop, int fd, unsigned events, void *data);

static void conn_watch(struct conn *conn)
{
    unsigned want = 0;
    if (conn->in.len < MAX_BUFFERED_INPUT)
        want |= LOOP_READ;
    if (conn->out.len > conn->out_off || conn->tls_read_wants_write)
        want |= LOOP_WRITE;
    if (want != conn->watching) {
        if (want)
            loop_watch(conn->srv->loop, conn->fd, want, on_conn_io, conn);
        else
            loop_unwatch(conn->srv->loop, conn->fd);
        conn->watching = want;
    }
}

static ssize_t conn_send_some(struct conn *conn, const char *data, size_t len)
{
    if (conn->tls) {
        ssize_t n = mock_tls_write(conn->tls, data, len);
        if (n == MOCK_TLS_WANT_READ || n == MOCK_TLS_WANT_WRITE) {
            errno = EAGAIN;
            return -1;
        }
        if (n < 0)
            errno = EPIPE;
        return n;
    }
    return send(conn->fd, data, len, MSG_NOSIGNAL);
}

/* Writes what the socket takes; a dead peer closes the connection. */
static void conn_write_out(struct conn *conn)
{
    while (!conn->dead && conn->out_off < conn->out.len) {
        ssize_t n =
            conn_send_some(conn, conn->out.data + conn->out_off, conn->out.len - conn->out_off);
        if (n > 0)
            conn->out_off += (size_t)n;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        else
            conn_close(conn, false, OUTCOME_CLIENT_CLOSED);
    }
    if (!conn->dead) {
        buf_clear(&conn->out);
        conn->out_off = 0;
    }
}

/* Reads what is there; the end of the input closes the connection. */
static void conn_read_in(struct conn *conn)
{
    while (!conn->dead && conn->in.len < MAX_BUFFERED_INPUT) {
        buf_reserve(&conn->in, READ_CHUNK);
        ssize_t n;
        if (conn->tls) {
            n = mock_tls_read(conn->tls, conn->in.data + conn->in.len, READ_CHUNK);
            conn->tls_read_wants_write = n == MOCK_TLS_WANT_WRITE;
            if (n == MOCK_TLS_WANT_READ || n == MOCK_TLS_WANT_WRITE)
                return;
        } else {
            n = recv(conn->fd, conn->in.data + conn->in.len, READ_CHUNK, 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
                return;
        }
        if (n <= 0) {
            conn_close(conn, false, OUTCOME_CLIENT_CLOSED);
            return;
        }
        conn->in.len += (size_t)n;
        conn->in.data[conn->in.len] = '\0';
        if (!conn->tls && (size_t)n < READ_CHUNK)
            return; /* drained; TLS may hold decrypted bytes still, so it reads on */
    }
}

static bool conn_next_request(struct conn *conn);

/* Moves the connection along: write, finish a written stream, answer the
 * next pipelined request, until nothing more can happen now. */
static void conn_pump(struct conn *conn)
{
    while (!conn->dead) {
        conn_write_out(conn);
        if (conn->dead || conn->out.len > 0)
            break; /* the socket is full: LOOP_WRITE brings us back */
        if (conn->stream && conn->stream->finishing)
            stream_end(conn, OUTCOME_COMPLETED); /* the last byte is out: see mockserver.h */
        if (!conn->keep_alive && !conn->stream) {
            conn_close(conn, false, OUTCOME_ABORTED);
            break;
        }
        if (conn->stream || !conn_next_request(conn))
            break;
    }
    if (!conn->dead)
        conn_watch(conn);
}

static void on_conn_io(struct loop *loop, int fd, unsigned events, void *data)
{
    (void)loop;
    (void)fd;
    struct conn *conn = data;
    /* TLS can need a write to read or a read to write: try both every time. */
    if ((events & (LOOP_READ | LOOP_ERROR)) || conn->tls)
        conn_read_in(conn);
    conn_pump(conn);
    conn_release(conn);
}

/* --- responses ----------------------------------------------------------- */

static const char *reason_phrase(long status)
{
    const char *phrase = http_reason_phrase(status);
    return phrase ? phrase : "Unknown";
}

struct head_opts {
    const char *content_type;
    int64_t content_length; /* -1: none (chunked, or until close) */
    bool chunked;
    bool stamp;
    const char *extra; /* more header lines, each ending in \r\n, or NULL */
};

static void put_head(struct conn *conn, int status, const struct head_opts *o)
{
    struct buf *out = &conn->out;
    buf_printf(out, "HTTP/1.1 %d %s\r\nserver: llmsweep-mock\r\ncontent-type: %s\r\n", status,
               reason_phrase(status), o->content_type);
    if (o->content_length >= 0)
        buf_printf(out, "content-length: %" PRId64 "\r\n", o->content_length);
    if (o->chunked)
        buf_puts(out, "transfer-encoding: chunked\r\n");
    if (!conn->keep_alive)
        buf_puts(out, "connection: close\r\n");
    if (o->extra)
        buf_puts(out, o->extra);
    if (o->stamp)
        buf_printf(out, "x-mock-headers-sent-ns: %" PRId64 "\r\n", now_ns());
    buf_puts(out, "\r\n");
}

/* A whole response; the connection closes after it unless keep-alive. */
static void respond(struct conn *conn, int status, const char *body, size_t len, bool stamp,
                    const char *extra)
{
    struct head_opts o = {"application/json", (int64_t)len, false, stamp, extra};
    put_head(conn, status, &o);
    buf_append(&conn->out, body, len);
}

static void respond_error(struct conn *conn, int status, const char *type, const char *message,
                          const char *extra)
{
    struct buf body = {0};
    mock_error_body(&body, status, type, message);
    respond(conn, status, body.data, body.len, false, extra);
    buf_free(&body);
}

/* FastAPI's answers (vLLM's too) for unknown routes and wrong methods. */
static void respond_detail(struct conn *conn, int status, const char *allow)
{
    char extra[64];
    snprintf(extra, sizeof extra, "allow: %s\r\n", allow ? allow : "");
    const char *body =
        status == 405 ? "{\"detail\":\"Method Not Allowed\"}" : "{\"detail\":\"Not Found\"}";
    respond(conn, status, body, strlen(body), false, allow ? extra : NULL);
}

/* --- streams ------------------------------------------------------------- */

static void stream_end(struct conn *conn, enum outcome why)
{
    struct stream *s = conn->stream;
    if (!s)
        return;
    struct counters *c = &conn->srv->c;
    if (s->fault && why != OUTCOME_ABORTED)
        why = OUTCOME_FAULTED;
    switch (why) {
    case OUTCOME_COMPLETED: count(&c->completed, 1); break;
    case OUTCOME_FAULTED: count(&c->faulted, 1); break;
    case OUTCOME_CLIENT_CLOSED: count(&c->client_closed, 1); break;
    case OUTCOME_ABORTED: count(&c->aborted, 1); break;
    }
    atomic_fetch_sub_explicit(&c->current_streams, 1, memory_order_relaxed);
    if (conn->timer) {
        loop_timer_cancel(conn->srv->loop, conn->timer);
        conn->timer = NULL;
    }
    mock_event_head_free(&s->head);
    free(s);
    conn->stream = NULL;
}

/* Frames one event into the output: one HTTP chunk each, as uvicorn does. */
static void put_event(struct conn *conn, const char *data, size_t len)
{
    if (conn->stream->chunked) {
        /* "%zx\r\n" by hand: snprintf took more time than building the event. */
        char size[2 * sizeof len + 2];
        size_t at = sizeof size;
        size[--at] = '\n';
        size[--at] = '\r';
        size_t rest = len;
        do
            size[--at] = "0123456789abcdef"[rest & 15];
        while (rest >>= 4);
        buf_reserve(&conn->out, sizeof size - at + len + 2);
        buf_append(&conn->out, size + at, sizeof size - at);
        buf_append(&conn->out, data, len);
        buf_append(&conn->out, "\r\n", 2);
    } else {
        buf_append(&conn->out, data, len);
    }
    count(&conn->srv->c.events_sent, 1);
}

static void put_stream_end(struct conn *conn)
{
    if (conn->stream->chunked)
        buf_append(&conn->out, "0\r\n\r\n", 5);
    else
        conn->keep_alive = false; /* HTTP/1.0: the close ends the body */
    conn->stream->finishing = true;
}

/* The next event(s) of a streamed response, and its end after the last. */
static void stream_token(struct conn *conn, int64_t now)
{
    struct stream *s = conn->stream;
    struct buf *ev = &conn->srv->scratch;
    int64_t stamp = s->stamp ? now : 0;
    bool last = s->sent + 1 == s->n_tokens;
    struct mock_usage usage = {s->req.prompt_tokens, s->sent + 1};
    const struct mock_usage *running = s->req.continuous_usage ? &usage : NULL;
    if (s->sent == 0 && s->req.api == MOCK_API_CHAT) {
        struct mock_usage none = {s->req.prompt_tokens, 0};
        buf_clear(ev);
        mock_event_role(ev, &s->head, running ? &none : NULL, stamp);
        put_event(conn, ev->data, ev->len);
    }
    buf_clear(ev);
    mock_event_token(ev, &s->head, mock_token_text(s->sent), last ? s->finish_reason : NULL,
                     running, stamp);
    if (s->sent == s->fault_at && s->fault == MOCK_FAULT_BAD_SSE) {
        put_event(conn, ev->data + 6, ev->len - 6); /* without "data: " */
    } else if (s->sent == s->fault_at && s->fault == MOCK_FAULT_BAD_JSON) {
        ev->len = 6 + (ev->len - 8) / 2; /* "data: " and half of the JSON */
        buf_append(ev, "\n\n", 2);
        put_event(conn, ev->data, ev->len);
    } else {
        put_event(conn, ev->data, ev->len);
    }
    s->sent++;
    if (!last)
        return;
    if (s->req.include_usage) {
        buf_clear(ev);
        mock_event_usage(ev, &s->head, &usage, stamp);
        put_event(conn, ev->data, ev->len);
    }
    buf_clear(ev);
    mock_event_done(ev);
    put_event(conn, ev->data, ev->len);
    put_stream_end(conn);
}

/* A non-streaming response, once its last token is "generated". */
static void whole_response(struct conn *conn)
{
    struct stream *s = conn->stream;
    struct buf text = {0}, body = {0};
    for (uint64_t i = 0; i < s->n_tokens; i++)
        buf_append(&text, mock_token_text(i), MOCK_TOKEN_BYTES);
    struct mock_usage usage = {s->req.prompt_tokens, s->n_tokens};
    mock_response_body(&body, &s->head, text.data, text.len, s->finish_reason, &usage);
    buf_free(&text);
    size_t len = s->fault == MOCK_FAULT_BAD_JSON ? body.len / 2 : body.len;
    struct head_opts o = {"application/json", (int64_t)len, false, s->stamp, NULL};
    put_head(conn, 200, &o);
    if (s->fault == MOCK_FAULT_RESET_MID) {
        conn_write_out(conn);
        conn_close(conn, true, OUTCOME_FAULTED);
    } else if (s->fault != MOCK_FAULT_STALL) { /* a stall sends the head only */
        buf_append(&conn->out, body.data, len);
        count(&conn->srv->c.events_sent, 1);
        s->finishing = true;
    }
    buf_free(&body);
}

static void on_token_due(struct loop *loop, void *data);

static void schedule_token(struct conn *conn, int64_t when)
{
    conn->stream->due_ns = when;
    conn->timer = loop_timer_at(conn->srv->loop, when, on_token_due, conn);
}

static void token_due(struct conn *conn)
{
    struct mock_server *srv = conn->srv;
    struct stream *s = conn->stream;
    int64_t now = now_ns();
    if (s->req.stream && s->sent == s->fault_at) {
        switch (s->fault) {
        case MOCK_FAULT_RESET_MID: conn_close(conn, true, OUTCOME_FAULTED); return;
        case MOCK_FAULT_STALL: return; /* no next token, ever */
        case MOCK_FAULT_CUT: put_stream_end(conn); return;
        default: break;
        }
    }
    if (s->req.stream) {
        stream_token(conn, now);
    } else if (++s->sent == s->n_tokens) {
        whole_response(conn);
        return; /* written, reset or stalled: no next token */
    }
    if (s->finishing)
        return;
    /* Planned from the previous due time, so timer latency does not add up;
     * a server that fell behind sends the next token at once, no burst. */
    int64_t next = s->due_ns +
                   mock_itl_ns(&srv->cfg.latency, load(&srv->c.current_streams), &srv->latency_rng);
    schedule_token(conn, next > now ? next : now);
}

static void on_token_due(struct loop *loop, void *data)
{
    (void)loop;
    struct conn *conn = data;
    conn->timer = NULL;
    token_due(conn);
    conn_pump(conn);
    conn_release(conn);
}

/* Headers (streaming) at once, the first token after TTFT. */
static void stream_begin(struct conn *conn)
{
    struct mock_server *srv = conn->srv;
    struct stream *s = conn->stream;
    int64_t now = now_ns();
    if (s->req.stream) {
        struct head_opts o = {"text/event-stream; charset=utf-8", -1, s->chunked, s->stamp, NULL};
        put_head(conn, 200, &o);
        if (s->fault == MOCK_FAULT_STALL && s->fault_at == 0)
            return; /* headers, then silence: no token is ever planned */
    }
    int64_t ttft = mock_ttft_ns(&srv->cfg.latency, s->req.prompt_tokens,
                                load(&srv->c.current_streams), &srv->latency_rng);
    schedule_token(conn, now + ttft);
}

static void on_slow_headers_done(struct loop *loop, void *data)
{
    (void)loop;
    struct conn *conn = data;
    conn->timer = NULL;
    stream_begin(conn);
    conn_pump(conn);
    conn_release(conn);
}

static uint64_t output_length(const struct mock_config *cfg, const struct mock_request *req,
                              const char **finish_reason)
{
    uint64_t natural = cfg->output_tokens;
    if (req->max_tokens < 0) {
        *finish_reason = "stop";
        return natural;
    }
    uint64_t max = (uint64_t)req->max_tokens;
    if (!req->ignore_eos && natural < max) {
        *finish_reason = "stop";
        return natural;
    }
    *finish_reason = "length";
    return max;
}

static void respond_fault_status(struct conn *conn, enum mock_fault kind)
{
    switch (kind) {
    case MOCK_FAULT_429:
        respond_error(conn, 429, "RateLimitError",
                      "Too many requests: the server is at capacity, retry later "
                      "(mock fault 429).",
                      "retry-after: 1\r\n");
        break;
    case MOCK_FAULT_503:
        respond_error(conn, 503, "ServiceUnavailableError",
                      "The engine is not ready to serve requests, retry later "
                      "(mock fault 503).",
                      "retry-after: 1\r\n");
        break;
    default:
        respond_error(conn, 500, "InternalServerError",
                      "EngineCore encountered an issue while generating (mock fault 500).", NULL);
    }
}

static void pick_fault(struct mock_server *srv, struct stream *s)
{
    const struct mock_fault_rule *rule = mock_faults_pick(
        &srv->cfg.faults, ++srv->generation_requests, s->req.stream, &srv->fault_rng);
    s->fault_at = UINT64_MAX;
    if (!rule)
        return;
    s->fault = rule->kind;
    count(&srv->c.faults[rule->kind], 1);
    s->fault_at = rule->has_arg                    ? rule->events
                  : rule->kind == MOCK_FAULT_STALL ? 0
                                                   : s->n_tokens / 2;
    if (s->fault_at >= s->n_tokens)
        s->fault_at = s->n_tokens - 1; /* so that the fault always acts */
    s->fault_delay_ns = rule->has_arg ? rule->delay_ns : 2 * NS_PER_SEC;
}

static void start_generation(struct conn *conn, const struct httpreq *req, enum mock_api api)
{
    struct mock_server *srv = conn->srv;
    struct mock_request parsed;
    struct buf error = {0};
    int status =
        mock_request_parse(api, req->body.ptr, req->body.len, &srv->served, &parsed, &error);
    if (status) {
        count(&srv->c.rejected, 1);
        respond(conn, status, error.data, error.len, req->mock_stamp, NULL);
        buf_free(&error);
        return;
    }
    struct stream *s = xcalloc(1, sizeof *s);
    s->req = parsed;
    s->stamp = req->mock_stamp;
    s->chunked = req->minor_version == 1;
    s->n_tokens = output_length(&srv->cfg, &parsed, &s->finish_reason);
    uint64_t hi = mock_rng_next(&srv->id_rng), lo = mock_rng_next(&srv->id_rng);
    mock_event_head_init(&s->head, api, parsed.stream, hi, lo, wall_ns() / NS_PER_SEC,
                         srv->cfg.model);
    conn->stream = s;
    count(&srv->c.requests, 1);
    uint64_t active =
        atomic_fetch_add_explicit(&srv->c.current_streams, 1, memory_order_relaxed) + 1;
    if (active > load(&srv->c.peak_streams))
        atomic_store_explicit(&srv->c.peak_streams, active, memory_order_relaxed);
    pick_fault(srv, s);
    switch (s->fault) {
    case MOCK_FAULT_429:
    case MOCK_FAULT_500:
    case MOCK_FAULT_503:
        respond_fault_status(conn, s->fault);
        s->finishing = true;
        break;
    case MOCK_FAULT_RESET: conn_close(conn, true, OUTCOME_FAULTED); break;
    case MOCK_FAULT_SLOW_HEADERS:
        conn->timer =
            loop_timer_at(srv->loop, now_ns() + s->fault_delay_ns, on_slow_headers_done, conn);
        break;
    default: stream_begin(conn);
    }
}

/* --- routing ------------------------------------------------------------- */

static void reset_counters(struct counters *c)
{
    _Atomic uint64_t *all[] = {&c->requests, &c->completed, &c->faulted,     &c->client_closed,
                               &c->aborted,  &c->rejected,  &c->events_sent, &c->other_requests};
    for (size_t i = 0; i < ARRAY_LEN(all); i++)
        atomic_store_explicit(all[i], 0, memory_order_relaxed);
    for (int k = 0; k < MOCK_FAULT_KINDS; k++)
        atomic_store_explicit(&c->faults[k], 0, memory_order_relaxed);
    atomic_store_explicit(&c->peak_streams, load(&c->current_streams), memory_order_relaxed);
}

enum route_kind {
    ROUTE_HEALTH,
    ROUTE_MODELS,
    ROUTE_COMPLETIONS,
    ROUTE_CHAT,
    ROUTE_STATS,
    ROUTE_VERSION
};

struct route {
    const char *path;
    const char *allow; /* methods, as the Allow header lists them */
    enum route_kind kind;
};

static const struct route routes[] = {
    {"/health", "GET", ROUTE_HEALTH},
    {"/v1/models", "GET", ROUTE_MODELS},
    {"/v1/completions", "POST", ROUTE_COMPLETIONS},
    {"/v1/chat/completions", "POST", ROUTE_CHAT},
    {"/mock/stats", "GET, DELETE", ROUTE_STATS},
    {"/version", "GET", ROUTE_VERSION},
};

static bool method_allowed(const struct route *route, struct slice method)
{
    if (route->kind == ROUTE_STATS)
        return slice_eq(method, "GET") || slice_eq(method, "DELETE");
    return slice_eq(method, route->allow);
}

static void dispatch(struct conn *conn, const struct httpreq *req)
{
    struct mock_server *srv = conn->srv;
    const struct route *route = NULL;
    for (size_t i = 0; i < ARRAY_LEN(routes); i++) {
        if (slice_eq(req->path, routes[i].path))
            route = &routes[i];
    }
    bool generation = route && (route->kind == ROUTE_COMPLETIONS || route->kind == ROUTE_CHAT);
    if (!route || !method_allowed(route, req->method) || !generation)
        count(&srv->c.other_requests, 1);
    if (!route) {
        respond_detail(conn, 404, NULL);
        return;
    }
    if (!method_allowed(route, req->method)) {
        respond_detail(conn, 405, route->allow);
        return;
    }
    struct buf body = {0};
    switch (route->kind) {
    case ROUTE_HEALTH: respond(conn, 200, "", 0, req->mock_stamp, NULL); break;
    case ROUTE_MODELS:
        mock_models_body(&body, srv->cfg.model, srv->cfg.max_model_len, srv->started_wall_s);
        respond(conn, 200, body.data, body.len, req->mock_stamp, NULL);
        break;
    case ROUTE_VERSION:
        buf_puts(&body, "{\"version\":\"llmsweep-mock " LLMSWEEP_VERSION "\"}");
        respond(conn, 200, body.data, body.len, req->mock_stamp, NULL);
        break;
    case ROUTE_STATS: {
        if (slice_eq(req->method, "DELETE"))
            reset_counters(&srv->c);
        struct mock_stats stats;
        mock_server_stats(srv, &stats);
        mock_stats_json(&stats, srv->cfg.model, &body);
        respond(conn, 200, body.data, body.len, req->mock_stamp, NULL);
        break;
    }
    case ROUTE_COMPLETIONS: start_generation(conn, req, MOCK_API_COMPLETIONS); break;
    case ROUTE_CHAT: start_generation(conn, req, MOCK_API_CHAT); break;
    }
    buf_free(&body);
}

/* Answers the next complete request in the input, if there is one. */
static bool conn_next_request(struct conn *conn)
{
    if (conn->in.len == 0)
        return false;
    struct httpreq req;
    enum httpreq_status st = httpreq_parse(conn->in.data, conn->in.len, &req);
    if (st == HTTPREQ_INCOMPLETE)
        return false;
    if (st == HTTPREQ_NEED_BODY) {
        if (req.expect_continue && !conn->continue_sent) {
            buf_puts(&conn->out, "HTTP/1.1 100 Continue\r\n\r\n");
            conn->continue_sent = true;
            return true;
        }
        return false;
    }
    conn->continue_sent = false;
    if (st == HTTPREQ_ERROR) {
        count(&conn->srv->c.other_requests, 1);
        conn->keep_alive = false;
        respond_error(conn, req.error_status, "BadRequestError", req.error, NULL);
        buf_clear(&conn->in);
        return true;
    }
    /* HTTP/1.0 gets one request per connection: simpler, and all it needs. */
    conn->keep_alive = req.keep_alive && req.minor_version == 1;
    dispatch(conn, &req);
    if (!conn->dead) {
        size_t n = req.total_len;
        memmove(conn->in.data, conn->in.data + n, conn->in.len - n);
        conn->in.len -= n;
        conn->in.data[conn->in.len] = '\0';
    }
    return true;
}

/* --- listening and the thread -------------------------------------------- */

static void on_accept_retry(struct loop *loop, void *data);

static void on_accept(struct loop *loop, int fd, unsigned events, void *data)
{
    (void)events;
    struct mock_server *srv = data;
    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: level-triggered epoll would spin, so pause. */
                loop_unwatch(loop, fd);
                loop_timer_at(loop, now_ns() + ACCEPT_RETRY_NS, on_accept_retry, srv);
            }
            return;
        }
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* SSE: no Nagle */
        struct conn *conn = xcalloc(1, sizeof *conn);
        conn->srv = srv;
        conn->fd = cfd;
        conn->keep_alive = true;
        if (srv->tls && !(conn->tls = mock_tls_accept(srv->tls, cfd))) {
            close(cfd);
            free(conn);
            continue;
        }
        conn->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = conn;
        srv->conns = conn;
        count(&srv->c.connections_open, 1);
        count(&srv->c.connections_total, 1);
        conn_watch(conn);
    }
}

static void on_accept_retry(struct loop *loop, void *data)
{
    struct mock_server *srv = data;
    loop_watch(loop, srv->listen_fd, LOOP_READ, on_accept, srv);
}

static void on_stop(struct loop *loop, int fd, unsigned events, void *data)
{
    (void)events;
    (void)data;
    uint64_t v;
    if (read(fd, &v, sizeof v) < 0) {
        /* nothing to do: the wake-up itself is the message */
    }
    loop_stop(loop);
}

static void *serve(void *arg)
{
    struct mock_server *srv = arg;
    loop_run(srv->loop);
    return NULL;
}

static bool is_wildcard(const char *host)
{
    return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 || strcmp(host, "") == 0;
}

static int listen_on(const char *host, unsigned port, unsigned *bound_port, int *family,
                     struct buf *err)
{
    char service[16];
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *list;
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        buf_printf(err, "cannot resolve --host %s: %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = list; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
            saved = errno;
            close(fd);
            fd = -1;
            continue;
        }
        *family = ai->ai_family;
    }
    freeaddrinfo(list);
    if (fd < 0) {
        buf_printf(err, "cannot listen on %s port %u: %s%s", host, port, strerror(saved),
                   saved == EADDRINUSE ? " (pick another --port, or 0 for any free one)" : "");
        return -1;
    }
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &len);
    *bound_port = ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                                   : ((struct sockaddr_in *)&addr)->sin_port);
    return fd;
}

void mock_config_defaults(struct mock_config *cfg)
{
    *cfg = (struct mock_config){
        .host = "127.0.0.1",
        .port = 8000,
        .model = "llmsweep-mock",
        .max_model_len = 8192,
        .output_tokens = 128,
        .latency = {.ttft_ms = 50, .itl_ms = 10, .load_slope = 0.02},
        .seed = 1,
    };
}

static void server_free(struct mock_server *srv)
{
    while (srv->conns) {
        struct conn *conn = srv->conns;
        conn_close(conn, false, OUTCOME_ABORTED);
        conn_release(conn);
    }
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    if (srv->stop_fd >= 0)
        close(srv->stop_fd);
    loop_destroy(srv->loop);
    mock_tls_destroy(srv->tls);
    buf_free(&srv->scratch);
    free(srv->model);
    free(srv);
}

struct mock_server *mock_server_start(const struct mock_config *cfg, struct buf *err)
{
    if (!cfg->tls_cert != !cfg->tls_key) {
        buf_puts(err, "--tls-cert and --tls-key go together: give both or neither");
        return NULL;
    }
    if (cfg->output_tokens < 1) {
        buf_puts(err, "--output-tokens must be at least 1");
        return NULL;
    }
    struct mock_server *srv = xcalloc(1, sizeof *srv);
    srv->listen_fd = srv->stop_fd = -1;
    srv->cfg = *cfg;
    srv->cfg.model = srv->model = xstrdup(cfg->model);
    srv->cfg.host = srv->cfg.tls_cert = srv->cfg.tls_key = NULL; /* read here only, from cfg */
    if (!srv->cfg.count_tokens)
        srv->cfg.count_tokens = mock_approx_tokens;
    srv->served = (struct mock_served){srv->cfg.model, srv->cfg.max_model_len,
                                       srv->cfg.count_tokens, srv->cfg.count_ctx};
    /* Separate streams, so that adding a fault rule does not change the jitter. */
    mock_rng_seed(&srv->latency_rng, cfg->seed);
    mock_rng_seed(&srv->fault_rng, cfg->seed ^ 0x6661756c74730000ULL);
    mock_rng_seed(&srv->id_rng, cfg->seed ^ 0x6964730000000000ULL);
    srv->started_wall_s = wall_ns() / NS_PER_SEC;
    raise_fd_limit();

    if (cfg->tls_cert && !(srv->tls = mock_tls_create(cfg->tls_cert, cfg->tls_key, err)))
        goto fail;
    int family = AF_INET;
    srv->listen_fd = listen_on(cfg->host, cfg->port, &srv->port, &family, err);
    if (srv->listen_fd < 0)
        goto fail;
    const char *shown = cfg->host;
    if (is_wildcard(cfg->host))
        shown = family == AF_INET6 ? "::1" : "127.0.0.1";
    bool v6 = strchr(shown, ':') != NULL;
    snprintf(srv->url, sizeof srv->url, "%s://%s%s%s:%u", srv->tls ? "https" : "http",
             v6 ? "[" : "", shown, v6 ? "]" : "", srv->port);

    srv->loop = loop_create();
    srv->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!srv->loop || srv->stop_fd < 0 ||
        !loop_watch(srv->loop, srv->listen_fd, LOOP_READ, on_accept, srv) ||
        !loop_watch(srv->loop, srv->stop_fd, LOOP_READ, on_stop, srv)) {
        buf_printf(err, "cannot set up the mock server's event loop: %s", strerror(errno));
        goto fail;
    }
    /* The thread takes no signals: they belong to the embedding program. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&srv->thread, NULL, serve, srv);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        buf_printf(err, "cannot start the mock server's thread: %s", strerror(rc));
        goto fail;
    }
    srv->thread_started = true;
    return srv;
fail:
    server_free(srv);
    return NULL;
}

const char *mock_server_url(const struct mock_server *m)
{
    return m->url;
}

unsigned mock_server_port(const struct mock_server *m)
{
    return m->port;
}

void mock_server_stats(const struct mock_server *m, struct mock_stats *out)
{
    const struct counters *c = &m->c;
    *out = (struct mock_stats){
        .current_streams = load(&c->current_streams),
        .peak_streams = load(&c->peak_streams),
        .requests = load(&c->requests),
        .completed = load(&c->completed),
        .faulted = load(&c->faulted),
        .client_closed = load(&c->client_closed),
        .aborted = load(&c->aborted),
        .rejected = load(&c->rejected),
        .events_sent = load(&c->events_sent),
        .other_requests = load(&c->other_requests),
        .connections_open = load(&c->connections_open),
        .connections_total = load(&c->connections_total),
    };
    for (int k = 0; k < MOCK_FAULT_KINDS; k++)
        out->faults[k] = load(&c->faults[k]);
}

void mock_server_stop(struct mock_server *m)
{
    if (!m)
        return;
    if (m->thread_started) {
        uint64_t one = 1;
        if (write(m->stop_fd, &one, sizeof one) < 0) {
            /* an eventfd write fails only on overflow: it is already signalled */
        }
        pthread_join(m->thread, NULL);
    }
    server_free(m);
}

void mock_stats_json(const struct mock_stats *s, const char *model, struct buf *out)
{
    buf_puts(out, "{\"model\":");
    json_append_string(out, model, strlen(model));
    buf_printf(out,
               ",\"current_streams\":%" PRIu64 ",\"peak_streams\":%" PRIu64
               ",\"requests\":{\"total\":%" PRIu64 ",\"completed\":%" PRIu64 ",\"faulted\":%" PRIu64
               ",\"client_closed\":%" PRIu64 ",\"aborted\":%" PRIu64 ",\"rejected\":%" PRIu64
               ",\"other\":%" PRIu64 "},\"faults\":{",
               s->current_streams, s->peak_streams, s->requests, s->completed, s->faulted,
               s->client_closed, s->aborted, s->rejected, s->other_requests);
    for (int k = MOCK_FAULT_NONE + 1; k < MOCK_FAULT_KINDS; k++)
        buf_printf(out, "%s\"%s\":%" PRIu64, k > 1 ? "," : "", mock_fault_name(k), s->faults[k]);
    buf_printf(out,
               "},\"events_sent\":%" PRIu64 ",\"connections\":{\"open\":%" PRIu64
               ",\"total\":%" PRIu64 "}}",
               s->events_sent, s->connections_open, s->connections_total);
}
