#include "registry.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---- URL ------------------------------------------------------------------ */

char *registry_api_base(const char *url, struct buf *err)
{
    size_t scheme;
    if (strncmp(url, "https://", 8) == 0)
        scheme = 8;
    else if (strncmp(url, "http://", 7) == 0)
        scheme = 7;
    else {
        buf_printf(err, "--registry-url '%s' is not an http:// or https:// URL", url);
        return NULL;
    }
    const char *authority = url + scheme;
    size_t alen = strcspn(authority, "/?#");
    if (alen == 0) {
        buf_printf(err, "--registry-url '%s' has no host name", url);
        return NULL;
    }
    if (memchr(authority, '@', alen)) {
        buf_puts(err, "--registry-url must not carry credentials (user:password@); pass a token "
                      "with --token-file or an environment variable");
        return NULL;
    }
    if (strpbrk(url, "?#")) {
        buf_printf(err, "--registry-url '%s' must not have a query or fragment (?, #)", url);
        return NULL;
    }
    size_t len = strlen(url);
    while (len > scheme + alen && url[len - 1] == '/')
        len--;
    size_t api_len = strlen(REGISTRY_API_PATH);
    if (len >= api_len && memcmp(url + len - api_len, REGISTRY_API_PATH, api_len) == 0)
        return xstrndup(url, len);
    return xasprintf("%.*s%s", (int)len, url, REGISTRY_API_PATH);
}

/* ---- retries -------------------------------------------------------------- */

double registry_backoff_delay(const struct registry_retry_policy *p, int attempt,
                              double unit_random)
{
    double d = p->base_delay_s;
    for (int i = 0; i < attempt && d < p->max_delay_s; i++)
        d *= 2;
    if (d > p->max_delay_s)
        d = p->max_delay_s;
    if (unit_random < 0)
        unit_random = 0;
    if (unit_random >= 1)
        unit_random = 0.999999;
    /* Equal jitter: never retry at once (the server needs the pause), and
     * never in lockstep with other clients that failed at the same moment. */
    return d / 2 + unit_random * d / 2;
}

bool registry_status_is_retryable(long status)
{
    return status == 429 || (status >= 500 && status <= 599);
}

bool registry_failure_is_retryable(enum http_error_class cls)
{
    switch (cls) {
    case HTTP_ERR_DNS:
    case HTTP_ERR_CONNECT:
    case HTTP_ERR_TIMEOUT:
    case HTTP_ERR_RESET:
    case HTTP_ERR_PARTIAL: return true;
    default: /* TLS and the rest are configuration: the same next time */ return false;
    }
}

/* ---- error bodies --------------------------------------------------------- */

/* ---- tokens --------------------------------------------------------------- */

/* Reads the token now (it may have rotated since the last request). */
static bool read_token(const struct registry_client *c, struct buf *token, struct buf *err)
{
    buf_clear(token);
    switch (c->token_source) {
    case REGISTRY_TOKEN_NONE: return true;
    case REGISTRY_TOKEN_ENV: {
        const char *v = getenv(c->token_origin);
        if (!v || !*v) {
            buf_printf(err, "the environment variable %s (the registry token) is empty or unset",
                       c->token_origin);
            return false;
        }
        buf_puts(token, v);
        break;
    }
    case REGISTRY_TOKEN_FILE:
    case REGISTRY_TOKEN_SERVICEACCOUNT:
        if (!read_file(c->token_origin, token)) {
            buf_printf(err, "cannot read the registry token from %s: %s", c->token_origin,
                       strerror(errno));
            return false;
        }
        break;
    }
    /* Files end in a newline; nothing else may be white space or control. */
    buf_trim(token, 0);
    char what[600];
    snprintf(what, sizeof what, "the registry token from %s", c->token_origin);
    return http_bearer_token_check(token, what, err);
}

static const char *token_source_text(const struct registry_client *c, char *out, size_t n)
{
    switch (c->token_source) {
    case REGISTRY_TOKEN_NONE: snprintf(out, n, "no token"); break;
    case REGISTRY_TOKEN_FILE: snprintf(out, n, "the token from %s", c->token_origin); break;
    case REGISTRY_TOKEN_ENV: snprintf(out, n, "the token from $%s", c->token_origin); break;
    case REGISTRY_TOKEN_SERVICEACCOUNT:
        snprintf(out, n, "the pod's ServiceAccount token (%s)", c->token_origin);
        break;
    }
    return out;
}

/* The registry's name and namespace as OpenShift AI names them: the
 * in-cluster host is NAME.NAMESPACE.svc[...]; the Route is NAME-rest.APPS. */
static void registry_identity(const char *host, char *name, size_t nn, char *ns, size_t nns)
{
    size_t hlen = strcspn(host, ":");
    if (isdigit((unsigned char)host[0]) || host[0] == '[' || strncmp(host, "localhost", 9) == 0) {
        snprintf(name, nn, "REGISTRY_NAME"); /* an address names no registry */
        ns[0] = '\0';
        return;
    }
    const char *dot = memchr(host, '.', hlen);
    size_t first = dot ? (size_t)(dot - host) : hlen;
    snprintf(name, nn, "%.*s", (int)first, host);
    size_t nl = strlen(name);
    if (nl > 5 && strcmp(name + nl - 5, "-rest") == 0)
        name[nl - 5] = '\0';
    ns[0] = '\0';
    if (dot) {
        const char *second = dot + 1;
        size_t slen = strcspn(second, ".:");
        if (strncmp(second + slen, ".svc", 4) == 0)
            snprintf(ns, nns, "%.*s", (int)slen, second);
    }
}

static void auth_advice(const struct registry_client *c, const char *method, const char *path,
                        long status, const char *server_text, const char *token, char *out,
                        size_t n)
{
    char source[600];
    token_source_text(c, source, sizeof source);
    char *subject = token && *token ? http_token_subject(token) : NULL;
    char reg_name[128], reg_ns[128];
    registry_identity(c->host, reg_name, sizeof reg_name, reg_ns, sizeof reg_ns);
    const char *sa = "system:serviceaccount:NAMESPACE:SERVICEACCOUNT";
    if (subject && strncmp(subject, "system:serviceaccount:", 22) == 0)
        sa = subject;
    char role_hint[700];
    snprintf(role_hint, sizeof role_hint,
             "bind the registry's user Role to the ServiceAccount the publish step runs as, e.g. "
             "`oc adm policy add-role-to-user registry-user-%s %s -n %s` (OpenShift AI creates "
             "Role registry-user-%s, which allows `get` on service %s, in the registry's "
             "namespace)",
             reg_name, sa, reg_ns[0] ? reg_ns : "REGISTRY_NAMESPACE", reg_name, reg_name);
    if (status == 401 && c->token_source == REGISTRY_TOKEN_NONE)
        snprintf(out, n,
                 "the registry at %s wants a token (401) and none was sent: pass --token-file "
                 "FILE, set $%s (or name a variable with --token-env), or run in a pod with a "
                 "ServiceAccount token; the server said: %s",
                 c->host, REGISTRY_TOKEN_VARIABLE, server_text);
    else if (status == 401)
        snprintf(out, n,
                 "the registry at %s rejected %s%s%s (401: expired, malformed or issued for "
                 "another cluster); the server said: %s",
                 c->host, source, subject ? " for " : "", subject ? subject : "", server_text);
    else if (strcmp(method, "GET") != 0)
        /* The GETs before it passed with the same token: reading is
         * allowed, changing is not, so the read-only Role hint would mislead. */
        snprintf(out, n,
                 "the registry at %s refused %s %s for %s%s%s (403 Forbidden) after answering "
                 "its lookups: the token may read but not change model versions; grant it write "
                 "access (the server's text names what it checked); the server said: %s",
                 c->host, method, path, source, subject ? " of " : "", subject ? subject : "",
                 server_text);
    else
        snprintf(
            out, n, "the registry at %s refused %s%s%s (403 Forbidden): %s; the server said: %s",
            c->host, source, subject ? " of " : "", subject ? subject : "", role_hint, server_text);
    free(subject);
}

/* ---- client --------------------------------------------------------------- */

bool registry_open(struct registry_client *c, const struct registry_options *o, struct buf *err)
{
    *c = (struct registry_client){0};
    c->api_base = registry_api_base(o->url, err);
    if (!c->api_base)
        return false;
    const char *authority = strstr(c->api_base, "://") + 3;
    c->host = xstrndup(authority, strcspn(authority, "/"));
    c->plain_http = strncmp(c->api_base, "http://", 7) == 0;
    c->loopback = http_host_is_loopback(c->host);
    c->retry = o->retry;
    c->dry_run = o->dry_run;
    c->verbose = o->verbose;
    c->out = o->out ? o->out : stdout;
    c->jitter_state = (uint64_t)wall_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ULL;
    if (!c->jitter_state)
        c->jitter_state = 1;

    if (o->token_file) {
        if (access(o->token_file, R_OK) != 0) {
            buf_printf(err, "cannot read --token-file %s: %s", o->token_file, strerror(errno));
            goto fail;
        }
        c->token_source = REGISTRY_TOKEN_FILE;
        c->token_origin = xstrdup(o->token_file);
    } else if (o->token_env) {
        const char *v = getenv(o->token_env);
        if (!v || !*v) {
            buf_printf(err, "--token-env %s: that environment variable is not set or empty",
                       o->token_env);
            goto fail;
        }
        c->token_source = REGISTRY_TOKEN_ENV;
        c->token_origin = xstrdup(o->token_env);
    } else if (getenv(REGISTRY_TOKEN_VARIABLE) && *getenv(REGISTRY_TOKEN_VARIABLE)) {
        c->token_source = REGISTRY_TOKEN_ENV;
        c->token_origin = xstrdup(REGISTRY_TOKEN_VARIABLE);
    } else {
        char *path = xasprintf("%s/token", http_serviceaccount_dir());
        if (access(path, R_OK) == 0 && (!c->plain_http || c->loopback)) {
            c->token_source = REGISTRY_TOKEN_SERVICEACCOUNT;
            c->token_origin = path;
        } else {
            if (access(path, R_OK) == 0)
                cli_warn("not sending the ServiceAccount token to %s over plain http (it would "
                         "travel in clear text); use the https URL of the registry",
                         c->host);
            free(path);
        }
    }
    if (c->token_source == REGISTRY_TOKEN_FILE || c->token_source == REGISTRY_TOKEN_ENV) {
        if (c->plain_http && !c->loopback)
            cli_warn("sending the registry token to %s over plain http: anyone on the path can "
                     "read it; prefer the https URL",
                     c->host);
    }

    c->ca = http_ca_bundle_load(o->ca_files, o->n_ca_files, err);
    if (!c->ca)
        goto fail;
    c->http = (struct http_config){
        .ca_files = o->ca_files,
        .n_ca_files = o->n_ca_files,
        .insecure = o->insecure,
        .connect_timeout_s = REGISTRY_CONNECT_TIMEOUT_S,
        .total_timeout_s =
            o->request_timeout_s > 0 ? o->request_timeout_s : REGISTRY_REQUEST_TIMEOUT_S,
        .follow_redirects = false, /* a redirect would carry the token elsewhere */
        .ca = c->ca,
    };
    if (o->insecure && !c->plain_http)
        cli_warn("--insecure: the registry's certificate is not verified; anyone on the path can "
                 "read the token and change what is published");
    return true;
fail:
    registry_close(c);
    return false;
}

void registry_close(struct registry_client *c)
{
    free(c->api_base);
    free(c->host);
    free(c->token_origin);
    http_ca_bundle_free(c->ca);
    *c = (struct registry_client){0};
}

void registry_reply_free(struct registry_reply *reply)
{
    cJSON_Delete(reply->json);
    reply->json = NULL;
}

static void print_request(FILE *f, const char *note, const char *method, const char *url,
                          bool has_token, const char *body)
{
    fprintf(f, "# %s\n%s %s\n", note, method, url);
    fprintf(f, "Accept: application/json\n");
    if (has_token)
        fprintf(f, "Authorization: Bearer <redacted>\n");
    if (body)
        fprintf(f, "Content-Type: application/json\n\n%s\n", body);
    fprintf(f, "\n");
    fflush(f);
}

bool registry_call(struct registry_client *c, const char *method, const char *path,
                   const char *body, struct registry_reply *reply)
{
    *reply = (struct registry_reply){0};
    char *url = xasprintf("%s%s", c->api_base, path);
    bool read_only = strcmp(method, "GET") == 0;
    struct buf token = {0}, err = {0};
    bool ok = false;
    int attempts = c->retry.retries + 1;
    for (int attempt = 0; attempt < attempts; attempt++) {
        buf_clear(&err);
        if (!read_token(c, &token, &err)) {
            snprintf(reply->message, sizeof reply->message, "%s", err.data);
            break;
        }
        if (c->dry_run && attempt == 0)
            print_request(c->out, read_only ? "sent (read-only)" : "NOT sent (--dry-run)", method,
                          url, token.len > 0, body);
        else if (c->verbose)
            cli_info("> %s %s%s", method, url,
                     token.len ? " (Authorization: Bearer <redacted>)" : "");
        if (c->dry_run && !read_only) {
            reply->not_sent = true;
            ok = true;
            break;
        }
        struct http_json_answer a;
        ok = http_json_call(&c->http, method, url, body, token.data, "the registry API", &a);
        bool retry = false;
        if (!a.transferred) {
            reply->status = 0;
            snprintf(reply->message, sizeof reply->message, "%s %s: %s", method, path,
                     a.fail.message);
            retry = registry_failure_is_retryable(a.fail.cls);
        } else {
            reply->status = a.status;
            if (c->verbose)
                cli_info("< HTTP %ld, %zu bytes", a.status, a.body_len);
            bool success = a.status >= 200 && a.status < 300;
            if (success && a.body_len == 0) { /* nothing to say: an empty object */
                a.json = cJSON_CreateObject();
                ok = true;
            }
            reply->json = a.json;
            if (!ok) {
                if (a.broken_json) {
                    /* The API's JSON, broken on the way (a proxy's buffer, a
                     * cut connection with a matching length): GET and our
                     * full-map PATCH are idempotent, so ask again. */
                    if (a.broken_at + 1 >= a.body_len)
                        snprintf(reply->message, sizeof reply->message,
                                 "%s %s: the answer (HTTP %ld, %zu bytes) is cut-off JSON: it "
                                 "ends inside a value",
                                 method, path, a.status, a.body_len);
                    else
                        snprintf(reply->message, sizeof reply->message,
                                 "%s %s: the answer (HTTP %ld, %zu bytes) is malformed JSON: "
                                 "parsing stops at byte %zu",
                                 method, path, a.status, a.body_len, a.broken_at);
                    retry = true;
                } else if (success)
                    snprintf(reply->message, sizeof reply->message,
                             "%s %s: the answer is not JSON (%s): is %s the registry's REST "
                             "API and not a web page?",
                             method, path, a.text, c->api_base);
                else if (a.status == 401 || a.status == 403)
                    auth_advice(c, method, path, a.status, a.text, token.data, reply->message,
                                sizeof reply->message);
                else
                    snprintf(reply->message, sizeof reply->message, "%s %s: %s", method, path,
                             a.text);
                retry = retry || registry_status_is_retryable(a.status);
            }
        }
        reply->retryable = !ok && retry;
        if (ok || !retry)
            break;
        if (attempt + 1 < attempts) {
            double delay =
                registry_backoff_delay(&c->retry, attempt, random_uniform(&c->jitter_state));
            cli_warn("%s; retrying in %.1fs (retry %d of %d)", reply->message, delay, attempt + 1,
                     c->retry.retries);
            sleep_seconds(delay);
        } else if (c->retry.retries > 0) {
            size_t used = strlen(reply->message);
            snprintf(reply->message + used, sizeof reply->message - used,
                     " (gave up after %d attempts)", attempts);
        }
    }
    if (token.data)
        memset(token.data, 0, token.cap);
    buf_free(&token);
    buf_free(&err);
    free(url);
    return ok;
}

/* ---- lookup by exact name ------------------------------------------------- */

static void ascii_fold(const char *in, char *out, size_t n)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 1 < n; p++) {
        if (*p >= 0x80) /* accents and other non-ASCII: compared by the rest */
            continue;
        out[o++] = (char)tolower(*p);
    }
    out[o] = '\0';
}

struct scored_name {
    const char *name;
    size_t score;
};

static int compare_scored(const void *a, const void *b)
{
    const struct scored_name *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? -1 : 1;
    return strcmp(x->name, y->name);
}

size_t registry_close_names(const char *want, const char *const *names, size_t n, const char **out,
                            size_t max)
{
    char fw[256], fn[256];
    ascii_fold(want, fw, sizeof fw);
    size_t wl = strlen(fw);
    size_t limit = wl / 3 > 2 ? wl / 3 : 2;
    struct scored_name *scored = xcalloc(n ? n : 1, sizeof *scored);
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], want) == 0)
            continue;
        ascii_fold(names[i], fn, sizeof fn);
        size_t d = edit_distance(fw, fn);
        bool contains = wl >= 3 && strlen(fn) >= 3 && (strstr(fn, fw) || strstr(fw, fn));
        if (d <= limit || contains)
            scored[count++] = (struct scored_name){names[i], d};
    }
    qsort(scored, count, sizeof *scored, compare_scored);
    size_t k = count < max ? count : max;
    for (size_t i = 0; i < k; i++)
        out[i] = scored[i].name;
    free(scored);
    return k;
}

const char *registry_string(const cJSON *object, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

struct name_list {
    char **names;
    size_t n, cap;
};

static void name_list_add(struct name_list *l, const char *name)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->names = xrealloc(l->names, l->cap * sizeof *l->names);
    }
    l->names[l->n++] = xstrdup(name);
}

static void name_list_free(struct name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
}

/* Pages through `list_path` for the item named exactly `name`. */
static enum registry_lookup scan_list(struct registry_client *c, const char *list_path,
                                      const char *name, cJSON **out, struct name_list *seen,
                                      struct buf *err)
{
    char *token = xstrdup("");
    enum registry_lookup result = REGISTRY_ABSENT;
    for (int page = 0; page < REGISTRY_MAX_PAGES; page++) {
        struct buf path = {0};
        buf_printf(&path, "%s?pageSize=%d&orderBy=ID&sortOrder=ASC", list_path, REGISTRY_PAGE_SIZE);
        if (token[0]) {
            buf_puts(&path, "&nextPageToken=");
            http_url_encode(token, &path);
        }
        struct registry_reply reply;
        bool ok = registry_call(c, "GET", path.data, NULL, &reply);
        buf_free(&path);
        if (!ok) {
            buf_puts(err, reply.message);
            registry_reply_free(&reply);
            result = REGISTRY_FAILED;
            break;
        }
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(reply.json, "items");
        const cJSON *item;
        cJSON_ArrayForEach(item, items)
        {
            const char *n = registry_string(item, "name");
            if (!n)
                continue;
            if (strcmp(n, name) == 0) {
                *out = cJSON_Duplicate(item, true);
                result = REGISTRY_FOUND;
                break;
            }
            name_list_add(seen, n);
        }
        const char *next = registry_string(reply.json, "nextPageToken");
        bool last = result == REGISTRY_FOUND || !next || !next[0] || !cJSON_IsArray(items) ||
                    cJSON_GetArraySize(items) == 0 || strcmp(next, token) == 0;
        if (!last) {
            free(token);
            token = xstrdup(next);
        }
        registry_reply_free(&reply);
        if (last)
            break;
    }
    free(token);
    return result;
}

/* A name or id the server sent, for a message: one line without control
 * characters (the server's text must not break or forge the message). */
static const char *shown(const char *text, char *out, size_t n)
{
    http_one_line(text, strlen(text), out, n);
    return out;
}

static void describe_absent(struct buf *err, const char *what, const char *name, const char *where,
                            const struct name_list *seen, const char *variant)
{
    char text[256];
    buf_printf(err, "%s '%s' not found %s", what, name, where);
    const char *close[REGISTRY_MAX_CLOSE_NAMES];
    size_t k = registry_close_names(name, (const char *const *)seen->names, seen->n, close,
                                    REGISTRY_MAX_CLOSE_NAMES);
    if (k) {
        buf_puts(err, "; close names: ");
        for (size_t i = 0; i < k; i++)
            buf_printf(err, "%s'%s'", i ? ", " : "", shown(close[i], text, sizeof text));
    } else {
        buf_printf(err, " (%zu other name%s, none close)", seen->n, seen->n == 1 ? "" : "s");
    }
    if (variant)
        buf_printf(err,
                   "; the registry's own lookup answered '%s', which differs only in case, "
                   "accents or trailing spaces (its database treats them as the same name): use "
                   "the exact name",
                   shown(variant, text, sizeof text));
}

/* The lookup by query, then the scan. `query` answers one item or 404. */
static enum registry_lookup find_by_name(struct registry_client *c, const char *query_path,
                                         const char *list_path, const char *parent_id,
                                         const char *name, const char *what, const char *where,
                                         cJSON **out, struct buf *err)
{
    *out = NULL;
    struct registry_reply reply;
    char *variant = NULL;
    if (registry_call(c, "GET", query_path, NULL, &reply)) {
        const char *got = registry_string(reply.json, "name");
        const char *parent = registry_string(reply.json, "registeredModelId");
        bool same_parent = !parent_id || !parent || strcmp(parent, parent_id) == 0;
        if (got && strcmp(got, name) == 0 && same_parent) {
            *out = reply.json;
            return REGISTRY_FOUND;
        }
        if (got && strcmp(got, name) != 0)
            variant = xstrdup(got);
        registry_reply_free(&reply);
    } else if (reply.status != 404) {
        buf_puts(err, reply.message);
        registry_reply_free(&reply);
        return REGISTRY_FAILED;
    }
    /* 404 (none, or several LIKE matches) or another name: read the list. */
    struct name_list seen = {0};
    enum registry_lookup r = scan_list(c, list_path, name, out, &seen, err);
    if (r == REGISTRY_ABSENT)
        describe_absent(err, what, name, where, &seen, variant);
    name_list_free(&seen);
    free(variant);
    return r;
}

enum registry_lookup registry_find_model(struct registry_client *c, const char *name, cJSON **out,
                                         struct buf *err)
{
    struct buf query = {0};
    buf_puts(&query, "/registered_model?name=");
    http_url_encode(name, &query);
    char *where = xasprintf("in the registry at %s", c->host);
    enum registry_lookup r = find_by_name(c, query.data, "/registered_models", NULL, name,
                                          "registered model", where, out, err);
    free(where);
    buf_free(&query);
    return r;
}

enum registry_lookup registry_find_version(struct registry_client *c, const cJSON *model,
                                           const char *name, cJSON **out, struct buf *err)
{
    const char *id = registry_string(model, "id");
    const char *model_name = registry_string(model, "name");
    if (!id) {
        buf_puts(err, "the registered model has no \"id\" in the registry's answer");
        return REGISTRY_FAILED;
    }
    struct buf query = {0}, list = {0};
    buf_puts(&query, "/model_version?name=");
    http_url_encode(name, &query);
    buf_puts(&query, "&parentResourceId=");
    http_url_encode(id, &query);
    buf_puts(&list, "/registered_models/");
    http_url_encode(id, &list);
    buf_puts(&list, "/versions");
    char shown_name[256], shown_id[128];
    char *where = xasprintf("under registered model '%s' (id %s)",
                            shown(model_name ? model_name : "?", shown_name, sizeof shown_name),
                            shown(id, shown_id, sizeof shown_id));
    enum registry_lookup r =
        find_by_name(c, query.data, list.data, id, name, "model version", where, out, err);
    free(where);
    buf_free(&query);
    buf_free(&list);
    return r;
}
