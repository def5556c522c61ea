/* record.h: what the engine measured, request by request.
 *
 * The engine fills one `struct request_record` per request it sent and one
 * `struct level_run` per load level; `struct run` holds them all. The
 * statistics, the outputs and the JSONL writer read these and nothing else
 * (data flows one way: engine -> records -> stats -> outputs).
 *
 * Every timestamp is CLOCK_MONOTONIC nanoseconds (util.h now_ns), 0 when
 * the moment never came (no first token on a failed request, say). Only
 * `run.wall_start_ns` is wall-clock time, for labels: wall time of a
 * monotonic t is wall_start_ns + (t - mono_start_ns).
 */
#ifndef LLMSWEEP_RECORD_H
#define LLMSWEEP_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

enum request_outcome {
    OUTCOME_OK,         /* complete response, [DONE] seen (or non-streaming body) */
    OUTCOME_ERROR,      /* failed: see `error` */
    OUTCOME_INCOMPLETE, /* still running when its level ended or the run was stopped */
};

/* Why a request failed, as users need to tell failures apart. */
enum request_error {
    REQERR_NONE,
    REQERR_CONNECT,    /* DNS, refused, unreachable */
    REQERR_TLS,        /* handshake or certificate */
    REQERR_TIMEOUT,    /* request timeout from the spec */
    REQERR_HTTP,       /* HTTP status >= 400: see http_status and message */
    REQERR_RESET,      /* connection reset or closed before headers */
    REQERR_MALFORMED,  /* an SSE line or JSON event we could not parse */
    REQERR_STREAM_CUT, /* the stream ended without data: [DONE] */
    REQERR_OTHER,
};

/* Where a request's token counts came from. */
enum token_source {
    TOKENS_SERVER,    /* the usage event the server sent */
    TOKENS_TOKENIZER, /* our tokenizer, over the text received */
    TOKENS_NONE,      /* unknown: counts are -1 */
};

struct request_record {
    uint64_t id;    /* sequence number within the run */
    uint32_t level; /* index into run.levels */
    uint16_t worker;
    bool measured; /* false: in the level's warmup or cooldown window */

    int64_t intended_ns;    /* when the schedule wanted it sent (open loop); else = send_ns */
    int64_t send_ns;        /* request handed to the connection */
    int64_t first_byte_ns;  /* response headers arrived */
    int64_t first_token_ns; /* first event carrying generated text */
    int64_t last_token_ns;  /* last event carrying generated text */
    int64_t end_ns;         /* response complete (or failure seen) */

    /* The mock server's CLOCK_MONOTONIC send time of the first token's
     * event, when it stamps events (X-Mock-Stamp); 0 otherwise. With the
     * same clock on one host, first_token_ns - server_first_token_ns is the
     * delay the client adds. */
    int64_t server_first_token_ns;

    /* Monotonic time of every content-bearing event, in order (n_chunks of
     * them; the first equals first_token_ns, the last last_token_ns). Its
     * own allocation, or inside the level's timestamp arena (below). */
    int64_t *chunk_ns;
    uint32_t n_chunks;

    int32_t prompt_tokens; /* -1: unknown */
    int32_t output_tokens; /* -1: unknown */
    enum token_source token_source;
    int32_t requested_prompt_tokens;
    int32_t requested_output_tokens;

    enum request_outcome outcome;
    enum request_error error;
    uint8_t connection_retries; /* times libcurl resent it on a fresh connection because a
                                   reused one died before any response byte */
    int http_status;            /* 0: none received */
    char *error_message;        /* the server's message or the transport's, or NULL */
    char *finish_reason;        /* "length", "stop", ... or NULL */
};

/* Blocks that hold many records' timestamps back to back. A long run keeps
 * millions of timestamps; one small allocation per record would cost up to
 * twice their size in allocator size classes (musl's rounds 1 KiB up to 2). */
struct timestamp_arena {
    struct timestamp_arena *next;
    size_t used, cap; /* entries */
    int64_t data[];
};

/* A copy of n timestamps inside *arena (a new block in front when the
 * current one is full). Never NULL. */
int64_t *timestamp_arena_copy(struct timestamp_arena **arena, const int64_t *src, uint32_t n);
/* Frees every block of the list. */
void timestamp_arena_free(struct timestamp_arena *arena);
/* Puts list `from` in front of *to (O(length of from)). */
void timestamp_arena_move(struct timestamp_arena **to, struct timestamp_arena **from);

struct level_run {
    enum load_profile profile; /* never PROFILE_SWEEP: a sweep's levels are concrete */
    double target;             /* concurrency (closed loop) or requests/s (open loop) */
    int64_t start_ns, end_ns;  /* when the level started and ended */
    int64_t measure_start_ns, measure_end_ns; /* the window after warmup, before cooldown */
    struct request_record *records;
    size_t n_records;
    /* Set by the engine: every record's chunk_ns points into it. NULL: each
     * chunk_ns is its own allocation (results read back, tests). */
    struct timestamp_arena *timestamps;
    bool aborted;       /* stopped early: too many errors, or interrupted */
    char *abort_reason; /* why, or NULL */
};

struct run {
    char run_id[40];       /* unique per run: "20261128T051944Z-3f9a1c" */
    int64_t wall_start_ns; /* CLOCK_REALTIME at mono_start_ns */
    int64_t mono_start_ns;
    const struct spec *spec;
    struct level_run *levels;
    size_t n_levels;
    bool interrupted;         /* SIGINT/SIGTERM: results are partial */
    char *tokenizer_source;   /* "RedHatAI/...@main", a path, or NULL (approximation) */
    bool prompts_approximate; /* no tokenizer: prompt lengths are estimates */
};

void run_free(struct run *run);
const char *request_error_name(enum request_error error);
const char *request_outcome_name(enum request_outcome outcome);
const char *token_source_name(enum token_source source);

#endif
