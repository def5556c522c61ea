/* waitfile.h: `llmsweep wait FILE`, the stability wait before `publish`.
 *
 * A results file is complete when either
 *   - its completion marker exists (FILE + WAITFILE_MARKER_SUFFIX, written
 *     by `llmsweep run` after the final atomic write of FILE) and FILE is
 *     complete JSON of the run the marker names (a file cut or replaced
 *     after the run finished is not taken for its results), or
 *   - for files written by other tools (GuideLLM), it is non-empty, it did
 *     not change (same size, inode and mtime) for `stable_checks`
 *     consecutive checks, and it parses as one complete JSON document.
 * llmsweep's own files (a top-level "llmsweep" object) need the marker:
 * `run` rewrites the file after every level, and each of those writes is
 * complete JSON, so stability alone would end the wait between two levels.
 *
 * The check itself is one call, `waitfile_check`, so the command's loop
 * (sleep `--interval`, give up after `--timeout`) and the unit tests drive
 * the same state machine. Every observation carries a line a person can
 * read ("12345 bytes, unchanged for 1 of 2 checks", "grew from 100 to 180
 * bytes since the last check", "shrank ...", "was replaced by another
 * file"), which `wait` prints as progress and repeats when it times out.
 */
#ifndef LLMSWEEP_WAITFILE_H
#define LLMSWEEP_WAITFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "results.h"

#define WAITFILE_MARKER_SUFFIX RESULTS_MARKER_SUFFIX
#define WAITFILE_DEFAULT_INTERVAL_S 20.0
#define WAITFILE_DEFAULT_STABLE_CHECKS 2 /* as the seed's publish step */
#define WAITFILE_DEFAULT_TIMEOUT_S (15 * 60.0)

enum waitfile_verdict {
    WAITFILE_MISSING,      /* no such file yet */
    WAITFILE_EMPTY,        /* exists, 0 bytes */
    WAITFILE_CHANGING,     /* size/inode/mtime differ from the last check */
    WAITFILE_SETTLING,     /* unchanged, but not for enough checks yet */
    WAITFILE_INCOMPLETE,   /* unchanged long enough, but not complete JSON */
    WAITFILE_NEEDS_MARKER, /* llmsweep's own file: only its marker says it is final */
    WAITFILE_BAD_MARKED,   /* the marker exists, but the file is cut or another run's */
    WAITFILE_DONE_MARKER,  /* the completion marker exists and the file is its run's */
    WAITFILE_DONE_STABLE,  /* stable and complete JSON */
    WAITFILE_ERROR,        /* cannot stat/read (permissions...): keeps waiting */
};

struct waitfile_state {
    const char *arg;   /* what the user named: a file, or a folder (now or later) */
    char *path;        /* the results file that names: waitfile_results_path(arg) */
    char *marker_path; /* path + WAITFILE_MARKER_SUFFIX */
    int stable_checks; /* >= 1 */
    int checks;        /* checks so far */
    bool seen;         /* a previous check saw the file */
    int64_t size, mtime_ns;
    uint64_t inode;
    int unchanged;         /* consecutive checks that saw the same file */
    int changing;          /* consecutive checks that saw it change */
    int64_t changing_from; /* its size at the first of those */
};

struct waitfile_observation {
    enum waitfile_verdict verdict;
    int64_t size; /* -1 when missing */
    char line[512];
};

/* `arg` is a file or a folder (DIR/benchmarks.json); it is resolved again
 * at every check, so a folder that does not exist yet when the wait starts
 * (the run creates it) is looked into once it does. */
void waitfile_init(struct waitfile_state *st, const char *arg, int stable_checks);
void waitfile_free(struct waitfile_state *st);

/* Looks at the file once and advances the state. Returns true when done. */
bool waitfile_check(struct waitfile_state *st, struct waitfile_observation *obs);

/* The results file a `wait`/`publish` argument names: a directory means
 * DIR/benchmarks.json. Returns a new string. */
char *waitfile_results_path(const char *arg);

#endif
