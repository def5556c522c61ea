/* libFuzzer target for results_load (built by tools/fuzz).
 *
 * The input is a results file (llmsweep's or GuideLLM's layout, any era). A
 * file that loads is rendered by every writer (benchmarks.json, CSV, HTML,
 * summary, console table), as `llmsweep report` would, and the JSON written
 * must load again with the same levels (strategy, request counts) and
 * model. Any crash, sanitizer report, leak, a failure that is not exactly
 * one line, or a summary over its size limit is a failure.
 * Corpus (tests/fuzz/corpus/results): the unit tests' hand-written files of
 * each layout, a GuideLLM 0.8.1 file and an llmsweep file, both trimmed. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outputs.h"
#include "results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_string(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct results r;
    struct buf err = {0};
    if (!results_load_text("fuzz.json", (const char *)data, size, &r, &err)) {
        if (!err.data || !*err.data || strchr(err.data, '\n'))
            abort(); /* every failure is exactly one line */
        buf_free(&err);
        return 0;
    }
    struct buf out = {0};
    results_json_render(&r, NULL, NULL, false, &out);
    struct results again;
    if (!results_load_text("rendered.json", out.data, out.len, &again, &err))
        abort(); /* what we write, we read */
    /* ... and read back what was written: the same levels, strategies and
     * request counts, the same model. */
    if (again.n_levels != r.n_levels || !same_string(again.model, r.model))
        abort();
    for (size_t i = 0; i < r.n_levels; i++) {
        const struct level_summary *a = &r.levels[i], *b = &again.levels[i];
        /* (A level without a strategy is written as "concurrent": GuideLLM's
         * layout needs a type_.) */
        if ((a->strategy && !same_string(a->strategy, b->strategy)) ||
            memcmp(&a->request_totals, &b->request_totals, sizeof a->request_totals) != 0) {
            fprintf(stderr,
                    "level %zu read back differs: strategy %s -> %s, totals %lld/%lld/%lld/%lld "
                    "-> %lld/%lld/%lld/%lld\n",
                    i, a->strategy ? a->strategy : "(none)", b->strategy ? b->strategy : "(none)",
                    (long long)a->request_totals.successful, (long long)a->request_totals.errored,
                    (long long)a->request_totals.incomplete, (long long)a->request_totals.total,
                    (long long)b->request_totals.successful, (long long)b->request_totals.errored,
                    (long long)b->request_totals.incomplete, (long long)b->request_totals.total);
            abort();
        }
    }
    results_free(&again);
    buf_clear(&out);
    csv_render(&r, &out);
    buf_clear(&out);
    html_render(&r, &out);
    buf_clear(&out);
    summary_render(&r, &out);
    if (out.len >= SUMMARY_MAX_BYTES + 1)
        abort();
    FILE *null = fopen("/dev/null", "w");
    if (null) {
        console_table(&r, null);
        fclose(null);
    }
    buf_free(&out);
    buf_free(&err);
    results_free(&r);
    return 0;
}
