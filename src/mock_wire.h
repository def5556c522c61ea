/* mock_wire.h: the OpenAI wire format as vLLM's server speaks it (server
 * side): reading request bodies, writing events, responses and errors.
 *
 * Requests   mock_request_parse() validates a /v1/completions or
 *            /v1/chat/completions body the way vLLM does and reduces it to
 *            what the mock needs (stream, usage options, max tokens,
 *            ignore_eos, prompt token count). Accepted forms:
 *              completions  "prompt": a string, [one string] or [token ids]
 *              chat         "messages": [{role, content}], content a string,
 *                           a list of parts [{"type":"text","text":...}]
 *                           (what GuideLLM 0.8 sends) or null
 *            max_tokens, max_completion_tokens (chat; wins over max_tokens),
 *            ignore_eos, stream, stream_options.{include_usage,
 *            continuous_usage_stats}, n (only 1); other fields are ignored.
 *
 * Prompt tokens, without a tokenizer: ceil(UTF-8 bytes / 4) of the prompt
 * text; for chat, of the message contents concatenated with nothing in
 * between (no chat template, so a real server counts a few more). A token id
 * list counts its length. A tokenizer plugs in through mock_count_tokens_fn.
 *
 * Output tokens are words of exactly 4 bytes (" the", " and", ...), one per
 * event, so the same approximation counts the generated text back exactly.
 *
 * Events     one `data: {json}\n\n` SSE event each, appended to a buffer.
 *            Field order and presence follow vLLM's OpenAI server: chat
 *            starts with a role chunk, the last token chunk carries
 *            finish_reason (and stop_reason: null), the usage chunk has
 *            "choices": [] and prompt/total/completion tokens. A stamp
 *            (CLOCK_MONOTONIC ns, 0 = none) adds "mock_sent_ns" to the event.
 * Errors     vLLM's body: {"object":"error","message":...,"type":...,
 *            "param":null,"code":N}.
 */
#ifndef LLMSWEEP_MOCK_WIRE_H
#define LLMSWEEP_MOCK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum mock_api {
    MOCK_API_COMPLETIONS,
    MOCK_API_CHAT
};

/* Counts the tokens of `len` bytes of prompt text. */
typedef uint64_t mock_count_tokens_fn(void *ctx, const char *text, size_t len);

/* ceil(len / 4): the approximation used without a tokenizer. */
uint64_t mock_approx_tokens(void *unused, const char *text, size_t len);

struct mock_request {
    enum mock_api api;
    bool stream;
    bool include_usage;
    bool continuous_usage; /* usage on every chunk (needs include_usage) */
    bool ignore_eos;
    int64_t max_tokens; /* -1: not given */
    uint64_t prompt_tokens;
};

struct mock_served {
    const char *model;
    uint64_t max_model_len;
    mock_count_tokens_fn *count_tokens;
    void *count_ctx;
};

/* Returns 0 when the request can be served; otherwise the HTTP status (400,
 * 404) with the complete JSON error body in *error_body. */
int mock_request_parse(enum mock_api api, const char *body, size_t len,
                       const struct mock_served *served, struct mock_request *out,
                       struct buf *error_body);

/* vLLM's error body. `type` e.g. "BadRequestError". */
void mock_error_body(struct buf *out, int code, const char *type, const char *message);

/* The text of output token number i (0-based): always 4 bytes. */
const char *mock_token_text(uint64_t i);
#define MOCK_TOKEN_BYTES 4

struct mock_usage {
    uint64_t prompt_tokens, completion_tokens;
};

/* What every event of one response starts with (or a whole response, for
 * `stream` false): id, object, created, model. */
struct mock_event_head {
    enum mock_api api;
    struct buf text; /* {"id":"...","object":"...","created":N,"model":"..." */
};

void mock_event_head_init(struct mock_event_head *h, enum mock_api api, bool stream,
                          uint64_t id_bits_hi, uint64_t id_bits_lo, int64_t created,
                          const char *model);
void mock_event_head_free(struct mock_event_head *h);

/* Each appends one complete SSE event. usage NULL: no usage field. */
void mock_event_role(struct buf *out, const struct mock_event_head *h,
                     const struct mock_usage *usage, int64_t stamp_ns);
void mock_event_token(struct buf *out, const struct mock_event_head *h, const char *text,
                      const char *finish_reason, const struct mock_usage *usage, int64_t stamp_ns);
void mock_event_usage(struct buf *out, const struct mock_event_head *h,
                      const struct mock_usage *usage, int64_t stamp_ns);
void mock_event_done(struct buf *out);

/* A non-streaming response body with the whole text (h made with stream false). */
void mock_response_body(struct buf *out, const struct mock_event_head *h, const char *text,
                        size_t text_len, const char *finish_reason, const struct mock_usage *usage);

/* GET /v1/models, vLLM's shape. */
void mock_models_body(struct buf *out, const char *model, uint64_t max_model_len, int64_t created);

/* Appends `s` as a JSON string literal (quotes included). */
void json_append_string(struct buf *out, const char *s, size_t len);

#endif
