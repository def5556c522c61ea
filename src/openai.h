/* openai.h: the OpenAI-compatible wire format, client side.
 *
 *   request bodies   openai_body_render() builds the JSON for one streamed
 *                    /v1/completions or /v1/chat/completions request, the way
 *                    vLLM needs it for exact benchmarks: max_tokens (or
 *                    max_completion_tokens for chat), ignore_eos, stream,
 *                    stream_options.include_usage, plus the spec's extra fields.
 *   SSE              struct sse_parser is fed whatever bytes arrive, split
 *                    anywhere; it hands back each event's data payload.
 *   events           openai_parse_event() reads one payload: does it carry
 *                    generated text, usage, a finish reason, an error?
 *
 * Strictness: a vLLM server only ever sends `data:` lines, so any other
 * non-empty, non-comment line is reported as malformed instead of being
 * skipped as the SSE spec would allow; a benchmark must not quietly lose
 * events.
 */
#ifndef LLMSWEEP_OPENAI_H
#define LLMSWEEP_OPENAI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"
#include "util.h"

/* The URL path under the base URL (which ends in /v1). */
const char *openai_path(enum api_kind api);

/* A request body built once and reused for every request: the fields
 * that never change (model, streaming options, ignore_eos, the spec's extra
 * fields) are set up front, so each request only swaps in its prompt and
 * output length. Not shared between threads: one per engine worker. */
struct openai_body;

/* `extra_body` (a JSON object as text, or NULL) is merged last, so it can
 * override any field. NULL when extra_body is not a JSON object (err says so). */
struct openai_body *openai_body_new(enum api_kind api, const char *model, const char *extra_body,
                                    struct buf *err);
/* The body of one request, as a new string (the caller frees it). */
char *openai_body_render(struct openai_body *body, const char *prompt, int max_output_tokens);
void openai_body_free(struct openai_body *body);

/* --- Server-sent events ------------------------------------------------ */

/* The longest line or event accepted; longer ones are malformed (a vLLM
 * event is a few hundred bytes). */
#define SSE_MAX_EVENT_BYTES (1 << 20)

enum sse_status {
    SSE_OK,
    SSE_MALFORMED, /* a line that is neither data:, event:, id:, retry: nor a comment */
};

struct sse_parser {
    struct buf line; /* the current, unfinished line */
    struct buf data; /* data lines of the current event, joined by '\n' */
    bool have_data;
    bool last_was_cr;  /* a CR ended the previous line: skip one LF */
    char bad_line[96]; /* the start of the malformed line, for messages */
};

/* Called once per complete event with its data (NUL-terminated). Return
 * false to stop feeding. */
typedef bool sse_event_fn(void *ctx, const char *data, size_t len);

void sse_init(struct sse_parser *p);
void sse_reset(struct sse_parser *p);
void sse_free(struct sse_parser *p);
enum sse_status sse_feed(struct sse_parser *p, const char *bytes, size_t n, sse_event_fn *on_event,
                         void *ctx);

/* --- Events -------------------------------------------------------------- */

struct openai_event {
    bool done;        /* data: [DONE] */
    bool has_text;    /* carries generated text (content or reasoning content) */
    const char *text; /* the text (into the parsed document; valid until free) */
    size_t text_len;
    bool has_usage;
    int prompt_tokens, completion_tokens;
    char finish_reason[16]; /* "" when absent */
    int64_t mock_sent_ns;   /* llmsweep's mock server's send stamp, or 0 */
    char *error;            /* an {"error": ...} event's message (owned), or NULL */
    void *doc;              /* the parsed document (cJSON), owned */
};

/* Parses one event payload. Returns false if it is not valid JSON. */
bool openai_parse_event(const char *data, size_t len, struct openai_event *out);
void openai_event_free(struct openai_event *ev);

/* The message of an error response body ({"error": {"message": ...}},
 * vLLM's {"object":"error","message":...}, or plain text), trimmed to one
 * line of at most max_len bytes. Always returns an owned string. */
char *openai_error_message(const char *body, size_t len, size_t max_len);

/* The model ids of a GET /v1/models response; returns the count, or -1 if
 * the body is not such a list. Ids are owned by *ids (free each, then it). */
int openai_parse_models(const char *body, size_t len, char ***ids);

#endif
