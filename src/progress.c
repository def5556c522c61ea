#include "progress.h"

#include <unistd.h>

#include "util.h"

void progress_init(struct progress *p, FILE *out, bool quiet)
{
    *p = (struct progress){
        .out = out,
        .tty = isatty(fileno(out)),
        .quiet = quiet,
        .log_interval_s = 10,
    };
}

static void describe_level(char *text, size_t n, const struct level_plan *plan)
{
    if (load_profile_is_open_loop(plan->profile))
        snprintf(text, n, "%s %g req/s", load_profile_name(plan->profile), plan->target);
    else
        snprintf(text, n, "%s %g", load_profile_name(plan->profile), plan->target);
}

void progress_level_begin(struct progress *p, unsigned number, unsigned count,
                          const struct level_plan *plan)
{
    p->level_number = number;
    p->level_count = count;
    p->last_log_ns = now_ns();
    p->last_chunks = 0;
    p->last_ns = 0;
    p->live_rate = 0;
    if (p->quiet)
        return;
    char what[64];
    describe_level(what, sizeof what, plan);
    fprintf(p->out, "llmsweep: level %u/%u: %s for %gs\n", number, count, what, plan->duration_s);
    fflush(p->out);
}

void progress_update(struct progress *p, const struct level_plan *plan,
                     const struct engine_progress *e)
{
    if (p->quiet)
        return;
    double elapsed = (double)(e->now_ns - e->level_start_ns) / NS_PER_SEC;
    if (elapsed < 0)
        elapsed = 0;
    if (p->last_ns) {
        double dt = (double)(e->now_ns - p->last_ns) / NS_PER_SEC;
        if (dt > 0) {
            double rate = (double)(e->chunks - p->last_chunks) / dt;
            p->live_rate = p->live_rate ? 0.5 * p->live_rate + 0.5 * rate : rate;
        }
    }
    p->last_ns = e->now_ns;
    p->last_chunks = e->chunks;

    char line[200];
    snprintf(line, sizeof line,
             "level %u/%u [%5.0fs/%gs] ok %llu  errors %llu  in flight %llu  %.0f tok/s now",
             p->level_number, p->level_count, elapsed, plan->duration_s, (unsigned long long)e->ok,
             (unsigned long long)e->errored, (unsigned long long)e->in_flight, p->live_rate);
    if (p->tty) {
        fprintf(p->out, "\r\033[K%s", line);
        fflush(p->out);
    } else if ((double)(e->now_ns - p->last_log_ns) / NS_PER_SEC >= p->log_interval_s) {
        p->last_log_ns = e->now_ns;
        fprintf(p->out, "llmsweep: %s\n", line);
        fflush(p->out);
    }
}

void progress_level_end(struct progress *p, const char *summary)
{
    if (p->quiet)
        return;
    if (p->tty)
        fprintf(p->out, "\r\033[K");
    fprintf(p->out, "llmsweep: %s\n", summary);
    fflush(p->out);
}
