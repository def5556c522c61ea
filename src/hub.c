/* The Hugging Face Hub client for tokenizer files (hub.h). */
#include "hub.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "outputs.h"
#include "tokenizer.h"

static const char *const hub_files[] = {"tokenizer.json", "tokenizer_config.json", "tekken.json"};

/* --- options ------------------------------------------------------------------ */

static bool env_true(const char *name)
{
    const char *v = getenv(name);
    return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
                 strcasecmp(v, "on") == 0);
}

static char *read_token_file(const char *path, bool must_exist, struct buf *err)
{
    struct buf data = {0};
    if (!read_trimmed_file(path, &data)) {
        if (must_exist)
            buf_printf(err, "cannot read the token file %s: %s", path, strerror(errno));
        buf_free(&data);
        return NULL;
    }
    char *token = data.len ? buf_steal(&data) : NULL;
    buf_free(&data);
    if (!token && must_exist)
        buf_printf(err, "the token file %s is empty", path);
    return token;
}

bool hub_options_from_env(struct hub_options *o, const char *token_file, struct buf *err)
{
    *o = (struct hub_options){0};
    const char *ep = getenv("HF_ENDPOINT");
    o->endpoint = xstrdup(ep && *ep ? ep : HUB_DEFAULT_ENDPOINT);
    size_t n = strlen(o->endpoint);
    while (n > 0 && o->endpoint[n - 1] == '/')
        o->endpoint[--n] = '\0';
    if (strncmp(o->endpoint, "http://", 7) != 0 && strncmp(o->endpoint, "https://", 8) != 0) {
        buf_printf(err, "HF_ENDPOINT '%s' is not an http:// or https:// URL", o->endpoint);
        return false;
    }
    o->offline = env_true("HF_HUB_OFFLINE");

    const char *t = getenv("HF_TOKEN");
    if (t && *t) {
        o->token = xstrdup(t);
    } else if (token_file) {
        if (!(o->token = read_token_file(token_file, true, err)))
            return false;
    } else {
        const char *path = getenv("HF_TOKEN_PATH");
        char *def = NULL;
        if (!path || !*path) {
            const char *hf_home = getenv("HF_HOME"), *home = getenv("HOME");
            if (hf_home && *hf_home)
                def = xasprintf("%s/token", hf_home);
            else if (home && *home)
                def = xasprintf("%s/.cache/huggingface/token", home);
            path = def;
        }
        if (path)
            o->token = read_token_file(path, false, err);
        free(def);
    }

    const char *cache = getenv("LLMSWEEP_CACHE"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    if (cache && *cache)
        o->cache_dir = xasprintf("%s/hub", cache);
    else if (xdg && *xdg)
        o->cache_dir = xasprintf("%s/llmsweep/hub", xdg);
    else if (home && *home)
        o->cache_dir = xasprintf("%s/.cache/llmsweep/hub", home);
    else
        o->cache_dir = xstrdup("/tmp/llmsweep-cache/hub");
    o->http.connect_timeout_s = 15;
    o->http.total_timeout_s = 300;
    return true;
}

void hub_options_free(struct hub_options *o)
{
    free(o->endpoint);
    if (o->token) {
        memset(o->token, 0, strlen(o->token));
        free(o->token);
    }
    free(o->cache_dir);
    *o = (struct hub_options){0};
}

bool hub_repo_valid(const char *repo)
{
    const char *slash = strchr(repo, '/');
    if (!slash || slash == repo || !slash[1] || strchr(slash + 1, '/') || strstr(repo, ".."))
        return false;
    for (const char *p = repo; *p; p++) {
        if (!isalnum((unsigned char)*p) && !strchr("-_./", *p))
            return false;
    }
    return repo[0] != '.' && slash[1] != '.';
}

/* --- files ---------------------------------------------------------------------- */

static bool make_dirs(const char *path, struct buf *err)
{
    char *p = xstrdup(path);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                buf_printf(err, "cannot create %s: %s", p, strerror(errno));
                free(p);
                return false;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    return true;
}

/* Readers never see half a file: write_file_atomic (outputs.h). */
static bool write_atomic(const char *dir, const char *name, const char *data, size_t len,
                         struct buf *err)
{
    char *path = xasprintf("%s/%s", dir, name);
    bool ok = write_file_atomic(path, data, len, err);
    free(path);
    return ok;
}

static bool file_exists(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    struct stat st;
    bool ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
    free(path);
    return ok;
}

/* A cached copy is complete when the marker written after the last file is there. */
static bool cache_complete(const char *dir)
{
    return file_exists(dir, ".complete") &&
           (file_exists(dir, "tokenizer.json") || file_exists(dir, "tekken.json"));
}

static bool copy_files(const char *from, const char *to, struct buf *err)
{
    if (!make_dirs(to, err))
        return false;
    for (size_t i = 0; i < ARRAY_LEN(hub_files); i++) {
        if (!file_exists(from, hub_files[i]))
            continue;
        char *src = xasprintf("%s/%s", from, hub_files[i]);
        struct buf data = {0};
        bool ok = read_file(src, &data);
        if (!ok)
            buf_printf(err, "cannot read %s: %s", src, strerror(errno));
        else
            ok = write_atomic(to, hub_files[i], data.data ? data.data : "", data.len, err);
        free(src);
        buf_free(&data);
        if (!ok)
            return false;
    }
    return true;
}

/* --- the Hub ------------------------------------------------------------------------ */

static bool is_commit(const char *rev)
{
    if (strlen(rev) != 40)
        return false;
    for (const char *p = rev; *p; p++) {
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
            return false;
    }
    return true;
}

enum fetch_result {
    FETCH_OK,
    FETCH_MISSING,
    FETCH_FAILED,
    FETCH_UNREACHABLE
};

static enum fetch_result fetch_one(const struct hub_options *o, const char *repo,
                                   const char *revision, const char *file, struct buf *body,
                                   struct buf *commit, struct buf *err)
{
    struct buf url = {0}, auth = {0}, code = {0};
    buf_printf(&url, "%s/%s/resolve/", o->endpoint, repo);
    http_url_encode(revision, &url);
    buf_printf(&url, "/%s", file);
    const char *headers[1];
    size_t n_headers = 0;
    if (o->token) {
        buf_printf(&auth, "Authorization: Bearer %s", o->token);
        headers[n_headers++] = auth.data;
    }
    struct http_config cfg = o->http;
    cfg.follow_redirects = true;
    struct http_request req = {.url = url.data, .headers = headers, .n_headers = n_headers};
    struct http_response resp;
    struct http_failure fail;
    enum fetch_result result = FETCH_FAILED;
    if (!http_perform(&cfg, &req, &resp, &fail)) {
        buf_printf(err, "cannot reach the Hub for %s: %s", repo, fail.message);
        result = FETCH_UNREACHABLE;
        goto done;
    }
    /* Only the final answer's error code counts, not a redirect's. */
    if (resp.status >= 400)
        http_response_header(&resp, "X-Error-Code", &code);
    const char *ec = code.data ? code.data : "";
    if (resp.status == 200) {
        buf_clear(body);
        buf_append(body, resp.body.data ? resp.body.data : "", resp.body.len);
        struct buf c = {0};
        if (http_response_header(&resp, "X-Repo-Commit", &c) && c.len) {
            buf_clear(commit);
            buf_append(commit, c.data, c.len);
        }
        buf_free(&c);
        result = FETCH_OK;
    } else if (resp.status == 404 && strcmp(ec, "RepoNotFound") != 0 &&
               strcmp(ec, "RevisionNotFound") != 0) {
        result = FETCH_MISSING; /* EntryNotFound: the repo has no such file */
    } else if (resp.status == 404 && strcmp(ec, "RevisionNotFound") == 0) {
        buf_printf(err, "%s has no revision '%s' (HTTP 404 from %s); check --revision", repo,
                   revision, o->endpoint);
    } else if (resp.status == 404 || strcmp(ec, "RepoNotFound") == 0) {
        buf_printf(err, "repository %s not found at %s (HTTP %ld for %s)%s", repo, o->endpoint,
                   resp.status, file,
                   o->token ? "" : "; if it is private, pass a token in HF_TOKEN or --token-file");
    } else if (resp.status == 401 || resp.status == 403) {
        bool gated = strcmp(ec, "GatedRepo") == 0 || resp.status == 403;
        buf_printf(err, "%s is %s (HTTP %ld for %s): %s", repo,
                   gated ? "a gated repository" : "gated or private", resp.status, file,
                   o->token ? "the token was refused or has no access; request access on the "
                              "repo's page on the Hub while logged in, and check that the "
                              "token (HF_TOKEN or --token-file) belongs to that account"
                            : "request access on the repo's page on the Hub, then pass a read "
                              "token in HF_TOKEN or with --token-file");
    } else {
        buf_printf(err, "the Hub answered HTTP %ld for %s/%s at revision %s", resp.status, repo,
                   file, revision);
        if (resp.status >= 500)
            result = FETCH_UNREACHABLE;
    }
done:
    http_response_free(&resp);
    if (auth.data)
        memset(auth.data, 0, auth.len);
    buf_free(&auth);
    buf_free(&url);
    buf_free(&code);
    return result;
}

struct download {
    struct buf body[ARRAY_LEN(hub_files)];
    bool present[ARRAY_LEN(hub_files)];
    struct buf commit;
};

static void download_free(struct download *d)
{
    for (size_t i = 0; i < ARRAY_LEN(hub_files); i++)
        buf_free(&d->body[i]);
    buf_free(&d->commit);
}

static enum fetch_result download_all(const struct hub_options *o, const char *repo,
                                      const char *revision, struct download *d, struct buf *err)
{
    for (size_t i = 0; i < ARRAY_LEN(hub_files); i++) {
        cli_info("fetching %s/%s@%s", repo, hub_files[i], revision);
        enum fetch_result r =
            fetch_one(o, repo, revision, hub_files[i], &d->body[i], &d->commit, err);
        if (r == FETCH_FAILED || r == FETCH_UNREACHABLE)
            return r;
        d->present[i] = r == FETCH_OK;
    }
    if (!d->present[0] && !d->present[2]) {
        buf_printf(err,
                   "%s has neither tokenizer.json nor tekken.json at revision %s (HTTP 404 "
                   "from %s)",
                   repo, revision, o->endpoint);
        return FETCH_FAILED;
    }
    return FETCH_OK;
}

/* Writes a download into dir. The .complete marker goes first out and last
 * in, so a crash never leaves a copy that looks complete but mixes revisions. */
static bool store(const char *dir, const struct download *d, struct buf *err)
{
    if (!make_dirs(dir, err))
        return false;
    char *marker = xasprintf("%s/.complete", dir);
    unlink(marker);
    free(marker);
    for (size_t i = 0; i < ARRAY_LEN(hub_files); i++) {
        if (d->present[i]) {
            if (!write_atomic(dir, hub_files[i], d->body[i].data ? d->body[i].data : "",
                              d->body[i].len, err))
                return false;
        } else {
            char *stale = xasprintf("%s/%s", dir, hub_files[i]);
            unlink(stale);
            free(stale);
        }
    }
    if (d->commit.len && !write_atomic(dir, ".commit", d->commit.data, d->commit.len, err))
        return false;
    return write_atomic(dir, ".complete", "", 0, err);
}

static char *deliver(const char *cache, const char *out_dir, struct buf *err)
{
    if (!out_dir)
        return xstrdup(cache);
    return copy_files(cache, out_dir, err) ? xstrdup(out_dir) : NULL;
}

char *hub_fetch_tokenizer(const struct hub_options *o, const char *repo, const char *revision,
                          const char *out_dir, struct buf *err)
{
    if (!revision || !*revision)
        revision = "main";
    if (!hub_repo_valid(repo)) {
        buf_printf(err, "'%s' is not a Hub repository name (ORG/NAME)", repo);
        return NULL;
    }
    struct buf dir = {0};
    buf_printf(&dir, "%s/", o->cache_dir);
    for (const char *p = repo; *p; p++) {
        if (*p == '/')
            buf_puts(&dir, "--");
        else
            buf_putc(&dir, *p);
    }
    buf_putc(&dir, '/');
    http_url_encode(revision, &dir);
    char *cache = buf_steal(&dir);
    char *result = NULL;
    bool have_cache = cache_complete(cache);

    if (o->offline || (have_cache && is_commit(revision))) {
        if (have_cache) {
            cli_info("using the cached %s@%s (%s)", repo, revision, cache);
            result = deliver(cache, out_dir, err);
        } else {
            buf_printf(err,
                       "HF_HUB_OFFLINE is set and %s@%s is not in the cache (%s); fetch it "
                       "once online, or unset HF_HUB_OFFLINE",
                       repo, revision, cache);
        }
        free(cache);
        return result;
    }

    struct download d = {0};
    enum fetch_result r = download_all(o, repo, revision, &d, err);
    if (r == FETCH_UNREACHABLE && have_cache) {
        cli_warn("%s; using the cached copy of %s@%s", err->data, repo, revision);
        buf_clear(err);
        result = deliver(cache, out_dir, err);
    } else if (r == FETCH_OK) {
        if (store(cache, &d, err)) {
            result = deliver(cache, out_dir, err);
        } else if (out_dir) {
            cli_warn("%s; not cached (set LLMSWEEP_CACHE to a writable folder)", err->data);
            buf_clear(err);
            result = store(out_dir, &d, err) ? xstrdup(out_dir) : NULL;
        } else {
            buf_puts(err, " (set LLMSWEEP_CACHE to a writable folder, or use --out)");
        }
    }
    download_free(&d);
    free(cache);
    return result;
}

struct tokenizer *hub_load_tokenizer(const char *path, const char *repo, const char *revision,
                                     char **source, struct buf *err)
{
    buf_clear(err);
    if (source)
        *source = NULL;
    if (path) {
        struct tokenizer *tok = tokenizer_load(path, err);
        if (tok && source)
            *source = xstrdup(path);
        return tok;
    }
    if (!repo)
        return NULL;
    struct hub_options o;
    struct tokenizer *tok = NULL;
    if (hub_options_from_env(&o, NULL, err)) {
        char *dir = hub_fetch_tokenizer(&o, repo, revision, NULL, err);
        if (dir)
            tok = tokenizer_load(dir, err);
        if (tok && source)
            *source = xasprintf("%s@%s", repo, revision && *revision ? revision : "main");
        free(dir);
    }
    hub_options_free(&o);
    return tok;
}

void hub_split_tokenizer_arg(const char *arg, char **path, char **repo, char **revision)
{
    struct stat st;
    *path = *repo = *revision = NULL;
    const char *at = strchr(arg, '@');
    char *name = at ? xstrndup(arg, (size_t)(at - arg)) : xstrdup(arg);
    if (stat(arg, &st) != 0 && hub_repo_valid(name)) {
        *repo = name;
        *revision = at && at[1] ? xstrdup(at + 1) : NULL;
        return;
    }
    free(name);
    *path = xstrdup(arg);
}
