#include "waitfile.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

void waitfile_init(struct waitfile_state *st, const char *path, int stable_checks)
{
    *st = (struct waitfile_state){
        .path = path,
        .marker_path = xasprintf("%s%s", path, WAITFILE_MARKER_SUFFIX),
        .stable_checks = stable_checks > 0 ? stable_checks : 1,
    };
}

void waitfile_free(struct waitfile_state *st)
{
    free(st->marker_path);
    st->marker_path = NULL;
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
 * is llmsweep's (it has a top-level "llmsweep" object). */
static bool is_complete_json(const char *path, bool *ours, char *why, size_t n)
{
    *ours = false;
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
        snprintf(why, n, "not complete JSON yet (parsing stops at byte %zu of %zu)", at, text.len);
    } else {
        while (end < text.data + text.len && strchr(" \t\r\n", *end))
            end++;
        if (end != text.data + text.len) {
            ok = false;
            snprintf(why, n, "unexpected data after the JSON document at byte %zu",
                     (size_t)(end - text.data));
        }
    }
    *ours = ok && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(doc, "llmsweep"));
    cJSON_Delete(doc);
    buf_free(&text);
    return ok;
}

bool waitfile_check(struct waitfile_state *st, struct waitfile_observation *obs)
{
    *obs = (struct waitfile_observation){.size = -1};
    struct stat sb;
    if (stat(st->path, &sb) != 0) {
        st->seen = false;
        st->unchanged = 0;
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

    struct stat marker;
    if (stat(st->marker_path, &marker) == 0 && sb.st_size > 0) {
        obs->verdict = WAITFILE_DONE_MARKER;
        snprintf(obs->line, sizeof obs->line, "%s is complete (%lld bytes; marker %s)", st->path,
                 (long long)sb.st_size, st->marker_path);
        return true;
    }

    bool same = st->seen && st->size == obs->size && st->mtime_ns == mtime_ns &&
                st->inode == (uint64_t)sb.st_ino;
    st->unchanged = same ? st->unchanged + 1 : 0;
    st->seen = true;
    st->size = obs->size;
    st->mtime_ns = mtime_ns;
    st->inode = (uint64_t)sb.st_ino;

    if (sb.st_size == 0) {
        obs->verdict = WAITFILE_EMPTY;
        snprintf(obs->line, sizeof obs->line, "%s is empty", st->path);
        return false;
    }
    if (!same) {
        obs->verdict = WAITFILE_CHANGING;
        snprintf(obs->line, sizeof obs->line,
                 "%s: %lld bytes (new or changed since the last check)", st->path,
                 (long long)sb.st_size);
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
    if (!is_complete_json(st->path, &ours, why, sizeof why)) {
        obs->verdict = WAITFILE_INCOMPLETE;
        snprintf(obs->line, sizeof obs->line, "%s: %lld bytes, unchanged for %d checks, but %s",
                 st->path, (long long)sb.st_size, st->unchanged, why);
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
