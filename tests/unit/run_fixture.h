/* run_fixture.h: one small run built by hand, shared by the stats and
 * outputs tests. Five requests on one level whose measured window is
 * [0 s, 10 s] (monotonic times are BASE + seconds):
 *
 *   r1 ok          send 0, chunks .1 .2 .3 .5, end .6; 10 prompt + 5 output tokens
 *   r2 ok          send 1, chunks 1.3 1.5, end 1.5; 20 + 3 tokens
 *   r3 errored     send 2, HTTP 500 at 2.05; token counts unknown
 *   r4 incomplete  send 9.5, first chunk 9.8, cut off at 10; output unknown
 *   r5 ok, warmup  send -.05, chunks .1 .15, end .2; 5 + 2 tokens (measured = false)
 *
 * Open loop (PROFILE_CONSTANT): r1 was due at -10 ms, the others on time.
 * The expected numbers are worked out in test_stats.c. */
#ifndef LLMSWEEP_TEST_RUN_FIXTURE_H
#define LLMSWEEP_TEST_RUN_FIXTURE_H

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

#define BASE 5000000000LL
#define AT(seconds) (BASE + (int64_t)llround((seconds)*1e9))

static inline int64_t *fixture_chunks(int n, ...)
{
    int64_t *c = malloc((size_t)n * sizeof *c);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        c[i] = AT(va_arg(ap, double));
    va_end(ap);
    return c;
}

static inline struct request_record fixture_record(double send, double end, int prompt, int output,
                                                   int n_chunks, int64_t *chunk_ns)
{
    struct request_record r = {
        .measured = true,
        .intended_ns = AT(send),
        .send_ns = AT(send),
        .first_byte_ns = AT(send),
        .end_ns = AT(end),
        .chunk_ns = chunk_ns,
        .n_chunks = (uint32_t)n_chunks,
        .prompt_tokens = prompt,
        .output_tokens = output,
        .token_source = TOKENS_SERVER,
        .outcome = OUTCOME_OK,
    };
    if (n_chunks) {
        r.first_token_ns = chunk_ns[0];
        r.last_token_ns = chunk_ns[n_chunks - 1];
    }
    return r;
}

/* Instance g6.4xlarge at 3.6 $/h (round numbers), TTFT SLO 200 ms. */
static inline struct spec fixture_spec(void)
{
    return (struct spec){
        .name = "hand",
        .model = "m",
        .endpoint = "http://127.0.0.1:1/v1",
        .api = API_CHAT,
        .instance = {.type = "g6.4xlarge",
                     .gpu_count = 1,
                     .gpu_type = "NVIDIA L4",
                     .hourly_usd = 3.6},
        .load = {.profile = PROFILE_CONCURRENT, .duration_s = 10, .workers = 1},
        .workload = {.prompt_tokens = {.mean = 10}, .output_tokens = {.mean = 5}},
        .outputs = {.json = true, .csv = true, .html = true, .summary = true},
        .slo = {.ttft_ms = 200},
    };
}

static inline void fixture_run(struct run *run, const struct spec *spec, enum load_profile profile)
{
    memset(run, 0, sizeof *run);
    strcpy(run->run_id, "20261128T051944Z-3f9a1c");
    run->wall_start_ns = 1795844055LL * NS_PER_SEC;
    run->mono_start_ns = BASE - 2 * NS_PER_SEC; /* the run began 2 s before the window */
    run->spec = spec;
    run->n_levels = 1;
    run->levels = calloc(1, sizeof *run->levels);
    struct level_run *l = &run->levels[0];
    l->profile = profile;
    l->target = 2;
    l->start_ns = AT(-2);
    l->measure_start_ns = AT(0);
    l->measure_end_ns = AT(10);
    l->end_ns = AT(10);
    l->n_records = 5;
    l->records = calloc(5, sizeof *l->records);
    l->records[0] = fixture_record(0, 0.6, 10, 5, 4, fixture_chunks(4, 0.1, 0.2, 0.3, 0.5));
    l->records[1] = fixture_record(1, 1.5, 20, 3, 2, fixture_chunks(2, 1.3, 1.5));
    l->records[2] = fixture_record(2, 2.05, -1, -1, 0, NULL);
    l->records[2].outcome = OUTCOME_ERROR;
    l->records[2].error = REQERR_HTTP;
    l->records[2].http_status = 500;
    l->records[2].error_message = strdup("{\"message\": \"overloaded\"}");
    l->records[2].token_source = TOKENS_NONE;
    l->records[3] = fixture_record(9.5, 10, 10, -1, 1, fixture_chunks(1, 9.8));
    l->records[3].outcome = OUTCOME_INCOMPLETE;
    l->records[4] = fixture_record(-0.05, 0.2, 5, 2, 2, fixture_chunks(2, 0.1, 0.15));
    l->records[4].measured = false;
    l->records[0].finish_reason = strdup("length");
    for (size_t i = 0; i < 5; i++) {
        l->records[i].id = i;
        l->records[i].requested_prompt_tokens = 10;
        l->records[i].requested_output_tokens = 5;
    }
    if (profile == PROFILE_CONSTANT)
        l->records[0].intended_ns = AT(-0.01);
}

#endif
