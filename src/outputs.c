/* outputs.c: writing every enabled output into the results folder,
 * atomically, and the completion marker last (outputs.h). */
#include "outputs.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct output_set output_set_of(const struct spec *spec)
{
    if (!spec)
        return (struct output_set){.json = true, .csv = true, .html = true, .summary = true};
    return (struct output_set){
        .json = spec->outputs.json,
        .csv = spec->outputs.csv,
        .html = spec->outputs.html,
        .summary = spec->outputs.summary,
        .records_inline = spec->outputs.records_inline,
    };
}

char *level_label(const struct level_summary *l)
{
    const char *s = l->strategy ? l->strategy : "";
    if (strcmp(s, "constant") == 0 || strcmp(s, "poisson") == 0)
        return xasprintf("%g req/s", l->target);
    if (strcmp(s, "synchronous") == 0)
        return xstrdup("sync");
    if (strcmp(s, "throughput") == 0)
        return l->target > 0 ? xasprintf("max %g", l->target) : xstrdup("max");
    return xasprintf("c=%g", l->target);
}

static char *join(const char *dir, const char *name)
{
    size_t len = strlen(dir);
    return xasprintf("%s%s%s", dir, len && dir[len - 1] == '/' ? "" : "/", name);
}

/* mkdir -p */
static bool make_dirs(const char *dir, struct buf *err)
{
    char *path = xstrdup(dir);
    for (char *p = path + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST) {
                buf_printf(err, "cannot create the output folder %s: %s", path, strerror(errno));
                free(path);
                return false;
            }
            if (end)
                break;
            *p = '/';
        }
    }
    struct stat st;
    bool ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    if (!ok)
        buf_printf(err, "cannot use %s as the output folder: it is not a folder", dir);
    free(path);
    return ok;
}

bool outputs_begin(const char *dir, struct buf *err)
{
    if (!make_dirs(dir, err))
        return false;
    char *marker = join(dir, COMPLETION_MARKER);
    bool ok = unlink(marker) == 0 || errno == ENOENT;
    if (!ok)
        buf_printf(err, "cannot remove the old completion marker %s: %s", marker, strerror(errno));
    free(marker);
    return ok;
}

static void sync_folder_of(const char *path)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    int fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd); /* best effort: some file systems refuse to sync folders */
        close(fd);
    }
    free(dir);
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Not a regular file (/dev/null, /dev/stdout, a FIFO): renaming over it
 * would replace the device with a file, so it is written in place. */
static bool write_in_place(const char *path, const void *data, size_t len, struct buf *err)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    int saved = fd < 0 ? errno : write_all(fd, data, len);
    if (fd >= 0 && close(fd) != 0 && !saved)
        saved = errno;
    if (saved)
        buf_printf(err, "cannot write %s: %s", path, strerror(saved));
    return !saved;
}

/* The temporary file being written, for write_file_atomic_abandon(). File
 * scope because a signal handler can be given nothing else; only the main
 * thread writes results, and the fences below keep the handler from seeing
 * the flag set before the path is complete. */
static char partial_path[4096];
static volatile sig_atomic_t partial_set;

void write_file_atomic_abandon(void)
{
    if (partial_set)
        unlink(partial_path);
}

bool write_file_atomic(const char *path, const void *data, size_t len, struct buf *err)
{
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        buf_printf(err, "cannot write %s: it is a folder", path);
        return false;
    }
    if (exists && !S_ISREG(st.st_mode))
        return write_in_place(path, data, len, err);
    /* Through a symbolic link, the file it points to is replaced, not the link. */
    char *target = NULL;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        target = realpath(path, NULL);
    const char *final = target ? target : path;

    char *dir = xstrdup(final);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? final + (slash - dir) + 1 : final;
    if (slash)
        slash[1] = '\0';
    char *tmp = xasprintf("%s.%s.tmp-%ld", slash ? dir : "", base, (long)getpid());
    free(dir);

    int saved = 0;
    if (strlen(tmp) < sizeof partial_path) {
        memcpy(partial_path, tmp, strlen(tmp) + 1);
        atomic_signal_fence(memory_order_seq_cst);
        partial_set = 1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        saved = errno;
    } else {
        saved = write_all(fd, data, len);
        if (!saved && fsync(fd) != 0)
            saved = errno;
        if (close(fd) != 0 && !saved)
            saved = errno;
        if (!saved && rename(tmp, final) != 0)
            saved = errno;
        if (saved)
            unlink(tmp);
    }
    atomic_signal_fence(memory_order_seq_cst);
    partial_set = 0;
    if (saved)
        buf_printf(err, "cannot write %s: %s", path, strerror(saved));
    else
        sync_folder_of(final);
    free(tmp);
    free(target);
    return !saved;
}

static bool write_output(const char *dir, const char *name, const struct buf *content,
                         cJSON *written, struct buf *err)
{
    char *path = join(dir, name);
    bool ok = write_file_atomic(path, content->data ? content->data : "", content->len, err);
    free(path);
    if (ok)
        cJSON_AddItemToArray(written, cJSON_CreateString(name));
    return ok;
}

bool outputs_write(const struct results *r, const struct run *run, const struct spec *spec,
                   const struct output_set *set, const char *dir, struct buf *err)
{
    if (!make_dirs(dir, err))
        return false;
    cJSON *written = cJSON_CreateArray();
    struct buf text = {0};
    bool ok = true;
    if (ok && set->json) {
        results_json_render(r, run, spec, set->records_inline, &text);
        ok = write_output(dir, RESULTS_FILE_NAME, &text, written, err);
        buf_clear(&text);
        if (ok && run && !set->records_inline) {
            records_jsonl_render(run, &text);
            ok = write_output(dir, "requests.jsonl", &text, written, err);
            buf_clear(&text);
        }
    }
    if (ok && set->csv) {
        csv_render(r, &text);
        ok = write_output(dir, "benchmarks.csv", &text, written, err);
        buf_clear(&text);
    }
    if (ok && set->html) {
        html_render(r, &text);
        ok = write_output(dir, "report.html", &text, written, err);
        buf_clear(&text);
    }
    if (ok && set->summary) {
        summary_render(r, &text);
        ok = write_output(dir, "summary.json", &text, written, err);
        buf_clear(&text);
    }
    if (ok && set->json) {
        /* Last: tells `wait` that benchmarks.json and every file above are complete. */
        cJSON *marker = cJSON_CreateObject();
        if (r->run_id)
            cJSON_AddStringToObject(marker, "run_id", r->run_id);
        else
            cJSON_AddNullToObject(marker, "run_id");
        cJSON_AddBoolToObject(marker, "interrupted", r->interrupted);
        cJSON_AddItemToObject(marker, "files", written);
        written = NULL;
        char *json = cJSON_PrintUnformatted(marker);
        buf_puts(&text, json);
        buf_putc(&text, '\n');
        free(json);
        cJSON_Delete(marker);
        char *path = join(dir, COMPLETION_MARKER);
        ok = write_file_atomic(path, text.data, text.len, err);
        free(path);
    }
    cJSON_Delete(written);
    buf_free(&text);
    return ok;
}
