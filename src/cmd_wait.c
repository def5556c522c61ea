/* `llmsweep wait FILE`: block until a results file is complete (waitfile.h),
 * printing what it sees; exit 4 with the last observation on --timeout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "util.h"
#include "waitfile.h"

static const struct cli_option options[] = {
    {"interval", 0, "DURATION", "time between checks (default 20s)", false},
    {"stable-checks", 0, "N",
     "a file without a completion marker must stay unchanged for N consecutive checks "
     "(default 2)",
     false},
    {"timeout", 0, "DURATION", "give up after this long with exit code 4 (default 15m)", false},
    {"quiet", 'q', NULL, "print only the final line", false},
    {0},
};

static int run_wait(const struct cli_args *args)
{
    double interval = WAITFILE_DEFAULT_INTERVAL_S, timeout = WAITFILE_DEFAULT_TIMEOUT_S;
    uint64_t stable_checks = WAITFILE_DEFAULT_STABLE_CHECKS;
    if (!cli_duration(args, "interval", &interval) || !cli_duration(args, "timeout", &timeout) ||
        !cli_uint(args, "stable-checks", 1, 1000, &stable_checks))
        return EXIT_USAGE;
    if (interval <= 0)
        return cli_usage_error(args->command, "--interval must be more than 0");
    bool quiet = cli_flag(args, "quiet");

    struct waitfile_state st;
    waitfile_init(&st, args->positional[0], (int)stable_checks);
    int64_t deadline = now_ns() + (int64_t)(timeout * NS_PER_SEC);
    struct waitfile_observation obs;
    char last[sizeof obs.line] = "";
    int rc;
    for (;;) {
        if (waitfile_check(&st, &obs)) {
            cli_info("%s", obs.line);
            rc = EXIT_OK;
            break;
        }
        if (!quiet && strcmp(obs.line, last) != 0)
            cli_info("waiting: %s", obs.line);
        snprintf(last, sizeof last, "%s", obs.line);
        int64_t left = deadline - now_ns();
        if (left <= 0) {
            cli_error("timed out after %gs waiting for %s%s; last seen: %s", timeout, st.path,
                      obs.verdict == WAITFILE_CHANGING ? ": it was still changing" : "", obs.line);
            rc = EXIT_TIMEOUT;
            break;
        }
        double pause = (double)left / NS_PER_SEC;
        sleep_seconds(pause < interval ? pause : interval);
    }
    waitfile_free(&st);
    return rc;
}

const struct cli_command cmd_wait = {
    .name = "wait",
    .synopsis = "FILE|DIR",
    .summary = "Wait until a results file is complete (before publishing it).",
    .description =
        "Done when FILE" WAITFILE_MARKER_SUFFIX " (the completion marker `llmsweep run` writes\n"
        "after its final write) exists, or, for files written by other tools such as\n"
        "GuideLLM, when FILE is non-empty, stayed unchanged (size, inode, mtime) for\n"
        "--stable-checks consecutive checks --interval apart and parses as complete JSON.\n"
        "llmsweep's own results always need the marker (a run rewrites the file after\n"
        "each level, so a stable, valid file may still be half of the sweep).\n"
        "With the marker, FILE must still be complete JSON of the run the marker names\n"
        "(a file cut or replaced after the run is not taken for its results).\n"
        "A DIR means DIR/benchmarks.json, also when DIR is created while waiting. A file\n"
        "that does not exist yet is waited for.\n"
        "Prints a line whenever what it sees changes; exits 4 on --timeout, saying what\n"
        "it saw last.",
    .options = options,
    .min_args = 1,
    .max_args = 1,
    .run = run_wait,
};
