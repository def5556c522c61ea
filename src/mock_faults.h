/* mock_faults.h: the `--faults SPEC` language of the mock server.
 *
 *   SPEC  = RULE { "," RULE }
 *   RULE  = KIND [ "=" ARG ] "@" WHEN
 *   WHEN  = PERCENT "%"       with this probability (0 < PERCENT <= 100)
 *         | "every" N         the Nth, 2Nth, 3Nth... generation request
 *
 *   KIND          what the client gets                              ARG
 *   429 500 503   that status, a vLLM-style JSON error body          -
 *   reset         the connection reset (RST) before any header       -
 *   reset-mid     a reset after ARG content events                   events (default: half)
 *   stall         headers, ARG events, then nothing until the client
 *                 gives up                                           events (default 0)
 *   bad-sse       event number ARG without its "data: " prefix       event (default: half)
 *   bad-json      event number ARG with its JSON cut in the middle   event (default: half)
 *   cut           the stream ends cleanly after ARG events, without
 *                 usage and without "data: [DONE]"                   events (default: half)
 *   slow-headers  the response (status line included) waits ARG
 *                 before anything is sent                            duration (default 2s)
 *
 * Example: "429@5%,reset-mid@every50,slow-headers=500ms@1%".
 *
 * Only generation requests (POST /v1/completions, /v1/chat/completions that
 * passed validation) are counted and faulted. Rules are tried in the order
 * written and the first that fires wins, so a request gets at most one
 * fault. Probabilities draw from the caller's generator (seeded by --seed),
 * so a run is reproducible. Faults that need a stream (bad-sse, cut) do not
 * fire on non-streaming requests; the others apply to both (a non-streaming
 * response counts as one event at its end).
 */
#ifndef LLMSWEEP_MOCK_FAULTS_H
#define LLMSWEEP_MOCK_FAULTS_H

#include <stdbool.h>
#include <stdint.h>

#include "mock_latency.h"
#include "util.h"

#define MOCK_MAX_FAULT_RULES 16

enum mock_fault {
    MOCK_FAULT_NONE,
    MOCK_FAULT_429,
    MOCK_FAULT_500,
    MOCK_FAULT_503,
    MOCK_FAULT_RESET,
    MOCK_FAULT_RESET_MID,
    MOCK_FAULT_STALL,
    MOCK_FAULT_BAD_SSE,
    MOCK_FAULT_BAD_JSON,
    MOCK_FAULT_CUT,
    MOCK_FAULT_SLOW_HEADERS,
    MOCK_FAULT_KINDS,
};

struct mock_fault_rule {
    enum mock_fault kind;
    double probability; /* 0..1; 0 when `every` is used */
    uint64_t every;     /* 0 when `probability` is used */
    bool has_arg;
    uint64_t events;  /* ARG of the event-counting kinds */
    int64_t delay_ns; /* ARG of slow-headers */
};

struct mock_faults {
    struct mock_fault_rule rules[MOCK_MAX_FAULT_RULES];
    unsigned n;
};

/* The name used in SPEC and in /mock/stats ("reset-mid"); "none" for NONE. */
const char *mock_fault_name(enum mock_fault kind);

/* Parses SPEC into *out (n = 0 for an empty string). On error, err gets one
 * line naming the bad rule and what would be valid. */
bool mock_faults_parse(const char *spec, struct mock_faults *out, struct buf *err);

/* The rule that fires for generation request number `seq` (1-based), or
 * NULL. `streaming`: false skips the kinds that need a stream. */
const struct mock_fault_rule *mock_faults_pick(const struct mock_faults *f, uint64_t seq,
                                               bool streaming, struct mock_rng *rng);

#endif
