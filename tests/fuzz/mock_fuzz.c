/* libFuzzer target: the mock server's request parsing (tools/fuzz).
 *
 * The input is what a client sends on one connection: pipelined HTTP/1.x
 * requests (httpreq_parse), whose /v1/completions and /v1/chat/completions
 * bodies go through mock_request_parse as the server would. Invariants:
 *   - a parsed request lies inside the bytes given (head, body, slices);
 *   - the parser is stateless over the bytes received so far: every prefix
 *     of a complete request is INCOMPLETE (head cut short), NEED_BODY (head
 *     whole, body short: the same head as the full parse) or the same error;
 *   - a refused body has a 400 or 404 status and a JSON error body in vLLM's
 *     shape; an accepted one has a prompt that fits the model;
 *   - json_append_string writes a JSON string that reads back as the same
 *     bytes (the mock echoes model names and messages in it);
 *   - what the mock streams for an accepted request (served under the model
 *     the query names, any bytes) reads back through the client's SSE
 *     parser and event reader (openai.h) as the same text, usage, finish
 *     reason, stamp and model; so does the whole non-streamed response.
 * Any crash, sanitizer report or leak is a failure. */
#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpreq.h"
#include "mock_wire.h"
#include "openai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MODEL_LEN 4096

static bool inside(struct slice s, const char *data, size_t len)
{
    return s.len == 0 || (s.ptr >= data && s.ptr + s.len <= data + len);
}

static void check_request(const struct httpreq *r, const char *data, size_t len)
{
    if (r->head_len == 0 || r->head_len > len || r->total_len != r->head_len + r->content_length ||
        !inside(r->method, data, len) || !inside(r->path, data, len) ||
        !inside(r->query, data, len) || r->method.len == 0 || r->path.len == 0 ||
        r->path.ptr[0] != '/' || (r->minor_version != 0 && r->minor_version != 1) ||
        r->content_length > HTTPREQ_MAX_BODY)
        abort();
}

static bool same_head(const struct httpreq *a, const struct httpreq *b)
{
    return a->method.ptr == b->method.ptr && a->method.len == b->method.len &&
           a->path.ptr == b->path.ptr && a->path.len == b->path.len &&
           a->query.len == b->query.len && a->minor_version == b->minor_version &&
           a->keep_alive == b->keep_alive && a->expect_continue == b->expect_continue &&
           a->mock_stamp == b->mock_stamp && a->content_length == b->content_length &&
           a->head_len == b->head_len;
}

/* Every prefix of a request the full parse completed, as reads deliver it. */
static void check_prefixes(const char *data, const struct httpreq *full)
{
    size_t step = full->total_len > 512 ? full->total_len / 97 + 1 : 1;
    for (size_t k = 0; k < full->total_len; k += step) {
        struct httpreq r;
        enum httpreq_status st = httpreq_parse(data, k, &r);
        if (st == HTTPREQ_INCOMPLETE) {
            if (k >= full->head_len)
                abort(); /* the whole head was there */
        } else if (st == HTTPREQ_NEED_BODY) {
            if (k < full->head_len || !same_head(&r, full))
                abort();
        } else {
            abort(); /* COMPLETE before its end, or an error the whole request has not */
        }
    }
}

/* What the client reads of a stream the mock writes. */
struct client_view {
    struct buf text;
    int events, prompt_tokens, completion_tokens;
    bool done, has_usage;
    char finish_reason[16];
    int64_t stamp;
    const char *model;
};

static bool on_event(void *ctx, const char *data, size_t len)
{
    struct client_view *v = ctx;
    struct openai_event ev;
    if (!openai_parse_event(data, len, &ev) || ev.error)
        abort(); /* the client cannot read what the mock wrote */
    v->events++;
    v->done |= ev.done;
    if (ev.has_text)
        buf_append(&v->text, ev.text, ev.text_len);
    if (ev.has_usage) {
        v->has_usage = true;
        v->prompt_tokens = ev.prompt_tokens;
        v->completion_tokens = ev.completion_tokens;
    }
    if (ev.finish_reason[0])
        memcpy(v->finish_reason, ev.finish_reason, sizeof v->finish_reason);
    if (!ev.done) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(ev.doc, "model");
        if (!cJSON_IsString(m) || strcmp(m->valuestring, v->model) != 0)
            abort(); /* the model name did not survive the escaping */
        v->stamp = ev.mock_sent_ns;
    }
    openai_event_free(&ev);
    return true;
}

/* An accepted request's stream (and whole response), served under `model`
 * (any bytes but NUL), read back with the client's SSE parser and event
 * reader: the same text, usage, finish reason, stamp and model. */
static void check_stream(const struct mock_request *req, const char *model)
{
    uint64_t n = req->max_tokens > 0 && req->max_tokens < 4 ? (uint64_t)req->max_tokens : 4;
    struct mock_usage usage = {req->prompt_tokens, n};
    const struct mock_usage *each = req->continuous_usage ? &usage : NULL;
    const int64_t stamp = 123456789;
    struct mock_event_head h;
    mock_event_head_init(&h, req->api, true, 1, 2, 1700000000, model);
    struct buf out = {0}, want = {0};
    if (req->api == MOCK_API_CHAT)
        mock_event_role(&out, &h, each, stamp);
    for (uint64_t i = 0; i < n; i++) {
        mock_event_token(&out, &h, mock_token_text(i), i + 1 == n ? "length" : NULL, each, stamp);
        buf_puts(&want, mock_token_text(i));
    }
    if (req->include_usage)
        mock_event_usage(&out, &h, &usage, stamp);
    mock_event_done(&out);
    mock_event_head_free(&h);

    struct client_view v = {.model = model};
    struct sse_parser p;
    sse_init(&p);
    if (sse_feed(&p, out.data, out.len, on_event, &v) != SSE_OK || !v.done || v.stamp != stamp ||
        v.text.len != want.len || memcmp(v.text.data, want.data, want.len) != 0 ||
        strcmp(v.finish_reason, "length") != 0 || v.has_usage != req->include_usage ||
        (v.has_usage &&
         ((uint64_t)v.prompt_tokens != usage.prompt_tokens || (uint64_t)v.completion_tokens != n)))
        abort();
    sse_free(&p);

    /* The whole response, for "stream": false. */
    mock_event_head_init(&h, req->api, false, 1, 2, 1700000000, model);
    buf_clear(&out);
    mock_response_body(&out, &h, want.data, want.len, "length", &usage);
    mock_event_head_free(&h);
    cJSON *doc = cJSON_ParseWithLength(out.data, out.len);
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "choices"), 0);
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(choice, "message");
    const cJSON *text =
        cJSON_GetObjectItemCaseSensitive(req->api == MOCK_API_CHAT ? message : choice,
                                         req->api == MOCK_API_CHAT ? "content" : "text");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "model");
    if (!cJSON_IsString(text) || strcmp(text->valuestring, want.data) != 0 || !cJSON_IsString(m) ||
        strcmp(m->valuestring, model) != 0)
        abort();
    cJSON_Delete(doc);
    buf_free(&out);
    buf_free(&want);
    buf_free(&v.text);
}

static void check_body(enum mock_api api, const char *body, size_t len, const char *model)
{
    const struct mock_served served = {
        .model = "m",
        .max_model_len = MAX_MODEL_LEN,
        .count_tokens = mock_approx_tokens,
    };
    struct mock_request req;
    struct buf err = {0};
    int rc = mock_request_parse(api, body, len, &served, &req, &err);
    if (rc == 0) {
        if (err.len || req.api != api || req.max_tokens == 0 || req.max_tokens < -1 ||
            req.prompt_tokens >= MAX_MODEL_LEN || (req.continuous_usage && !req.include_usage))
            abort();
        check_stream(&req, model);
    } else {
        if (rc != 400 && rc != 404)
            abort();
        cJSON *e = cJSON_ParseWithLength(err.data, err.len);
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
        if (!cJSON_IsNumber(code) || code->valueint != rc || !cJSON_IsString(msg))
            abort();
        cJSON_Delete(e);
    }
    buf_free(&err);
}

/* The bytes as a JSON string must read back the same (up to a NUL, which
 * a C string cannot hold). */
static void check_json_string(const char *s, size_t len)
{
    const char *nul = memchr(s, '\0', len);
    if (nul)
        len = (size_t)(nul - s);
    struct buf out = {0};
    json_append_string(&out, s, len);
    cJSON *doc = cJSON_ParseWithLength(out.data, out.len);
    if (!cJSON_IsString(doc) || strlen(doc->valuestring) != len ||
        memcmp(doc->valuestring, s, len) != 0)
        abort();
    cJSON_Delete(doc);
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t pos = 0;
    for (int n = 0; n < 16 && pos < size; n++) {
        const char *at = text + pos;
        size_t len = size - pos;
        struct httpreq r;
        enum httpreq_status st = httpreq_parse(at, len, &r);
        if (st == HTTPREQ_ERROR) {
            if (!r.error || !r.error[0] ||
                (r.error_status != 400 && r.error_status != 413 && r.error_status != 431 &&
                 r.error_status != 501 && r.error_status != 505))
                abort();
            break; /* the server answers and closes */
        }
        if (st == HTTPREQ_INCOMPLETE)
            break;
        check_request(&r, at, st == HTTPREQ_COMPLETE ? len : r.head_len);
        if (st == HTTPREQ_NEED_BODY) {
            if (r.total_len <= len)
                abort();
            break;
        }
        if (r.body.len != r.content_length || r.body.ptr != at + r.head_len)
            abort();
        check_prefixes(at, &r);
        /* The query, if any, names the model the stream is served under;
         * xstrndup stops at a NUL, which a model name cannot hold. */
        char *model = r.query.len ? xstrndup(r.query.ptr, r.query.len) : xstrdup("m");
        if (slice_eq(r.path, "/v1/completions"))
            check_body(MOCK_API_COMPLETIONS, r.body.ptr, r.body.len, model);
        else if (slice_eq(r.path, "/v1/chat/completions"))
            check_body(MOCK_API_CHAT, r.body.ptr, r.body.len, model);
        else /* the request target: path, then '?' and the query if there is one */
            check_json_string(r.path.ptr, r.query.len
                                              ? (size_t)(r.query.ptr + r.query.len - r.path.ptr)
                                              : r.path.len);
        free(model);
        if (!r.keep_alive)
            break;
        pos += r.total_len;
    }
    /* Bodies without the HTTP around them, as the fuzzer finds them. */
    check_body((size % 2) ? MOCK_API_CHAT : MOCK_API_COMPLETIONS, text, size, "m");
    check_json_string(text, size);
    return 0;
}
