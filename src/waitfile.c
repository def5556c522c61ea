#include "waitfile.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

void waitfile_init(struct waitfile_state *st, const char *arg, int stable_checks)
{
    char *path = waitfile_results_path(arg);
    *st = (struct waitfile_state){
        .arg = arg,
        .path = path,
        .marker_path = xasprintf("%s%s", path, WAITFILE_MARKER_SUFFIX),
        .stable_checks = stable_checks > 0 ? stable_checks : 1,
    };
}

void waitfile_free(struct waitfile_state *st)
{
    free(st->path);
    free(st->marker_path);
    st->path = st->marker_path = NULL;
}

/* The argument names another file than at the last check (its folder was
 * created since): watch that one, from scratch. */
static void resolve_again(struct waitfile_state *st)
{
    char *path = waitfile_results_path(st->arg);
    if (strcmp(path, st->path) == 0) {
        free(path);
        return;
    }
    free(st->path);
    free(st->marker_path);
    st->path = path;
    st->marker_path = xasprintf("%s%s", path, WAITFILE_MARKER_SUFFIX);
    st->seen = false;
    st->unchanged = st->changing = 0;
}

char *waitfile_results_path(const char *arg)
{
    struct stat sb;
    if (stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        size_t len = strlen(arg);
        return xasprintf("%s%s" RESULTS_FILE_NAME, arg, len && arg[len - 1] == '/' ? "" : "/");
    }
    return xstrdup(arg);
}

/* One complete JSON document and nothing but white space after it. A file
 * still being written stops in the middle of a value. *ours: the document
 * is llmsweep's (it has a top-level "llmsweep" object); *run_id (when not
 * NULL): its llmsweep.run_id, a new string, or NULL. */
static bool is_complete_json(const char *path, bool *ours, char **run_id, char *why, size_t n)
{
    *ours = false;
    if (run_id)
        *run_id = NULL;
    struct buf text = {0};
    if (!read_file(path, &text)) {
        snprintf(why, n, "cannot read it: %s", strerror(errno));
        buf_free(&text);
        return false;
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text.data, text.len, &end, false);
    bool ok = doc != NULL;
    if (!ok) {
        size_t at = end && end >= text.data ? (size_t)(end - text.data) : text.len;
        snprintf(why, n, "not complete JSON (parsing stops at byte %zu of %zu)", at, text.len);
    } else {
        while (end < text.data + text.len && strchr(" \t\r\n", *end))
            end++;
        if (end != text.data + text.len) {
            ok = false;
            snprintf(why, n, "unexpected data after the JSON document at byte %zu",
                     (size_t)(end - text.data));
        }
    }
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(doc, "llmsweep");
    *ours = ok && cJSON_IsObject(run);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(run, "run_id");
    if (*ours && run_id && cJSON_IsString(id))
        *run_id = xstrdup(id->valuestring);
    cJSON_Delete(doc);
    buf_free(&text);
    return ok;
}

/* The run id the completion marker names, or NULL (none, or not readable:
 * then only the file itself is checked); *interrupted: the marker says the
 * run was interrupted (its results are partial). */
static char *marker_run_id(const char *marker_path, bool *interrupted)
{
    struct buf text = {0};
    char *id = NULL;
    *interrupted = false;
    if (read_file(marker_path, &text)) {
        cJSON *doc = cJSON_ParseWithLength(text.data ? text.data : "", text.len);
        const cJSON *run = cJSON_GetObjectItemCaseSensitive(doc, "run_id");
        if (cJSON_IsString(run))
            id = xstrdup(run->valuestring);
        *interrupted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "interrupted"));
        cJSON_Delete(doc);
    }
    buf_free(&text);
    return id;
}

/* A marker says the run finished; the file must still be that run's whole
 * results. A file cut or replaced (copied over, another run's) after the
 * marker was written must not pass for them. */
static bool marked_file_is_complete(const struct waitfile_state *st, int64_t size,
                                    bool *interrupted, char *line, size_t n)
{
    *interrupted = false;
    char why[256];
    bool ours;
    char *file_run = NULL;
    if (!is_complete_json(st->path, &ours, &file_run, why, sizeof why)) {
        snprintf(line, n,
                 "%s has a completion marker, but its %lld bytes are %s: cut off or replaced "
                 "after the run finished",
                 st->path, (long long)size, why);
        return false;
    }
    char *marker_run = marker_run_id(st->marker_path, interrupted);
    bool same = !marker_run || !file_run || strcmp(marker_run, file_run) == 0;
    if (!same)
        snprintf(line, n,
                 "%s holds run %s, but its completion marker %s is for run %s: the file was "
                 "replaced after that run finished",
                 st->path, file_run, st->marker_path, marker_run);
    free(marker_run);
    free(file_run);
    return same;
}

/* What changed since the last check, for people: appeared, grew, shrank,
 * replaced; and for how many checks in a row it has been changing. */
static void describe_change(const struct waitfile_state *st, bool was_seen, int64_t old_size,
                            uint64_t old_inode, const struct stat *sb, char *line, size_t n)
{
    long long size = (long long)sb->st_size, old = (long long)old_size;
    int k;
    if (!was_seen)
        k = snprintf(line, n, "%s: %lld bytes (%s)", st->path, size,
                     st->checks > 1 ? "appeared since the last check" : "first look");
    else if (old_inode != (uint64_t)sb->st_ino)
        k = snprintf(line, n, "%s was replaced by another file: %lld bytes (was %lld)", st->path,
                     size, old);
    else if (size > old)
        k = snprintf(line, n, "%s grew from %lld to %lld bytes since the last check", st->path, old,
                     size);
    else if (size < old)
        k = snprintf(line, n,
                     "%s shrank from %lld to %lld bytes since the last check (cut or rewritten "
                     "in place)",
                     st->path, old, size);
    else
        k = snprintf(line, n, "%s: %lld bytes, rewritten since the last check (same size)",
                     st->path, size);
    if (st->changing >= 2 && k > 0 && (size_t)k < n)
        snprintf(line + k, n - (size_t)k,
                 " (changed at each of the last %d checks, from %lld bytes)", st->changing,
                 (long long)st->changing_from);
}

bool waitfile_check(struct waitfile_state *st, struct waitfile_observation *obs)
{
    *obs = (struct waitfile_observation){.size = -1};
    st->checks++;
    resolve_again(st);
    struct stat sb;
    if (stat(st->path, &sb) != 0) {
        st->seen = false;
        st->unchanged = 0;
        st->changing = 0;
        if (errno == ENOENT) {
            obs->verdict = WAITFILE_MISSING;
            snprintf(obs->line, sizeof obs->line, "%s does not exist yet", st->path);
        } else {
            obs->verdict = WAITFILE_ERROR;
            snprintf(obs->line, sizeof obs->line, "cannot look at %s: %s", st->path,
                     strerror(errno));
        }
        return false;
    }
    obs->size = (int64_t)sb.st_size;
    int64_t mtime_ns = (int64_t)sb.st_mtim.tv_sec * NS_PER_SEC + sb.st_mtim.tv_nsec;

    bool was_seen = st->seen;
    int64_t old_size = st->size;
    uint64_t old_inode = st->inode;
    bool same = was_seen && st->size == obs->size && st->mtime_ns == mtime_ns &&
                st->inode == (uint64_t)sb.st_ino;
    st->unchanged = same ? st->unchanged + 1 : 0;
    if (same || !was_seen) /* a first sighting is not a change */
        st->changing = 0;
    else if (st->changing++ == 0)
        st->changing_from = old_size;
    st->seen = true;
    st->size = obs->size;
    st->mtime_ns = mtime_ns;
    st->inode = (uint64_t)sb.st_ino;

    struct stat marker;
    if (stat(st->marker_path, &marker) == 0 && sb.st_size > 0) {
        bool interrupted;
        if (!marked_file_is_complete(st, obs->size, &interrupted, obs->line, sizeof obs->line)) {
            obs->verdict = WAITFILE_BAD_MARKED;
            return false;
        }
        obs->verdict = WAITFILE_DONE_MARKER;
        snprintf(obs->line, sizeof obs->line, "%s is complete (%lld bytes; marker %s)%s", st->path,
                 (long long)sb.st_size, st->marker_path,
                 interrupted ? ": the run was interrupted, these are its partial results" : "");
        return true;
    }

    if (sb.st_size == 0) {
        obs->verdict = WAITFILE_EMPTY;
        if (was_seen && old_size > 0)
            snprintf(obs->line, sizeof obs->line,
                     "%s is empty (shrank from %lld bytes since the last check)", st->path,
                     (long long)old_size);
        else
            snprintf(obs->line, sizeof obs->line, "%s is empty", st->path);
        return false;
    }
    if (!same) {
        obs->verdict = WAITFILE_CHANGING;
        describe_change(st, was_seen, old_size, old_inode, &sb, obs->line, sizeof obs->line);
        return false;
    }
    if (st->unchanged < st->stable_checks) {
        obs->verdict = WAITFILE_SETTLING;
        snprintf(obs->line, sizeof obs->line, "%s: %lld bytes, unchanged for %d of %d checks",
                 st->path, (long long)sb.st_size, st->unchanged, st->stable_checks);
        return false;
    }
    char why[256];
    bool ours;
    if (!is_complete_json(st->path, &ours, NULL, why, sizeof why)) {
        obs->verdict = WAITFILE_INCOMPLETE;
        /* No running count: the line stays the same while nothing
         * changes, so `wait` prints it once, not at every check. */
        snprintf(obs->line, sizeof obs->line,
                 "%s: %lld bytes, unchanged for %d checks or more, but %s", st->path,
                 (long long)sb.st_size, st->stable_checks, why);
        return false;
    }
    if (ours) {
        obs->verdict = WAITFILE_NEEDS_MARKER;
        snprintf(obs->line, sizeof obs->line,
                 "%s: %lld bytes of llmsweep results, but no completion marker %s yet (the run "
                 "is still going, or the marker was not copied with the file)",
                 st->path, (long long)sb.st_size, st->marker_path);
        return false;
    }
    obs->verdict = WAITFILE_DONE_STABLE;
    snprintf(obs->line, sizeof obs->line,
             "%s is complete (%lld bytes, unchanged for %d checks, complete JSON)", st->path,
             (long long)sb.st_size, st->unchanged);
    return true;
}
