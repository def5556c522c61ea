/* progress.h: what a running sweep tells the person (or the log) watching.
 *
 * On a terminal, one status line per level, rewritten in place; otherwise
 * (Tekton, CI, a pipe) a plain line every `log_interval_s`, so logs stay
 * readable. Everything goes to stderr; stdout is kept for results.
 */
#ifndef LLMSWEEP_PROGRESS_H
#define LLMSWEEP_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"

struct progress {
    FILE *out;
    bool tty;
    bool quiet;
    double log_interval_s;
    int64_t last_log_ns;
    uint64_t last_chunks;
    int64_t last_ns;
    double live_rate; /* content events per second, smoothed */
    unsigned level_number, level_count;
};

void progress_init(struct progress *p, FILE *out, bool quiet);
void progress_level_begin(struct progress *p, unsigned number, unsigned count,
                          const struct level_plan *plan);
/* engine_config.on_progress calls this (through the run command). */
void progress_update(struct progress *p, const struct level_plan *plan,
                     const struct engine_progress *e);
/* Ends the status line and prints the level's one-line summary. */
void progress_level_end(struct progress *p, const char *summary);

#endif
