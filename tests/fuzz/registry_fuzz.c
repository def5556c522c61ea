/* libFuzzer target: the Model Registry client's handling of what the server
 * answers (tools/fuzz).
 *
 * http_perform is replaced here by a script of answers read from the input,
 * so registry_find_model and registry_find_version run their real code:
 * the lookup by name, paging through list answers (nextPageToken, items,
 * names that differ in case), retries, error bodies (JSON, text, HTML) and
 * the 401/403 advice with the token's subject. Input, NUL-separated:
 *
 *   byte 0             flags: bits 0-1 retries, bit 2 dry run, bit 3 verbose
 *   TOKEN\nURL         the token ("" for none) and the registry URL ("" for
 *                      https://registry.example:8443/prefix)
 *   STATUS TYPE\nBODY  one answer per segment, in order: HTTP status,
 *   ...                Content-Type, body; status 0 is a transport failure
 *                      whose class is the number after it ("0 2": connect)
 *
 * When the script runs out, the server is unreachable. Invariants: every
 * URL requested is under the API base, and what the client appends to it
 * is printable ASCII (names, ids and page tokens encoded); what is found
 * has exactly the name asked for; every failure is one non-empty line;
 * http_error_text fits its buffer, one line (also called on every
 * answer directly, with bodies that are not NUL-terminated). Any crash,
 * sanitizer report or leak is a failure. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "http.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MODEL_NAME "llm_A"
#define VERSION_NAME "v1.0"

/* The answers left to give, and the API base the URLs must be under. */
static struct {
    const char *next, *end;
    const char *api_base;
    int calls;
} script;

/* Cuts the next NUL-terminated segment off [*p, end). */
static bool next_segment(const char **p, const char *end, const char **seg, size_t *len)
{
    if (*p >= end)
        return false;
    const char *nul = memchr(*p, '\0', (size_t)(end - *p));
    *seg = *p;
    *len = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
    *p = nul ? nul + 1 : end;
    return true;
}

/* One scripted answer: "STATUS TYPE\nBODY", or "0 CLASS" for a transport
 * failure of that class. */
struct answer {
    long status;
    enum http_error_class failure;
    char content_type[128];
    const char *body; /* not NUL-terminated */
    size_t body_len;
};

static void read_answer(const char *seg, size_t len, struct answer *a)
{
    *a = (struct answer){0};
    const char *nl = memchr(seg, '\n', len);
    size_t head = nl ? (size_t)(nl - seg) : len;
    char line[128];
    snprintf(line, sizeof line, "%.*s", (int)(head < sizeof line - 1 ? head : sizeof line - 1),
             seg);
    char *after;
    a->status = strtol(line, &after, 10);
    while (*after == ' ')
        after++;
    long cls = strtol(after, NULL, 10);
    a->failure = (enum http_error_class)(cls >= 0 && cls <= HTTP_ERR_OTHER ? cls : HTTP_ERR_OTHER);
    snprintf(a->content_type, sizeof a->content_type, "%s", after);
    a->body = nl ? nl + 1 : seg + len;
    a->body_len = (size_t)(seg + len - a->body);
}

static void check_one_line(const char *s)
{
    if (!s || !*s || strpbrk(s, "\r\n")) {
        fprintf(stderr, "not one line: [%s]\n", s ? s : "(null)");
        abort();
    }
}

/* --- stand-ins for http.c's transfers (libcurl stays out of the target) -- */

const char *http_serviceaccount_dir(void)
{
    return "/nonexistent/llmsweep-fuzz-serviceaccount";
}

struct http_ca_bundle {
    int unused;
};

struct http_ca_bundle *http_ca_bundle_load(const char *const *ca_files, size_t n_ca_files,
                                           struct buf *err)
{
    (void)ca_files;
    (void)n_ca_files;
    (void)err;
    return xcalloc(1, sizeof(struct http_ca_bundle));
}

void http_ca_bundle_free(struct http_ca_bundle *ca)
{
    free(ca);
}

bool http_perform(const struct http_config *cfg, const struct http_request *req,
                  struct http_response *resp, struct http_failure *fail)
{
    (void)cfg;
    *resp = (struct http_response){0};
    *fail = (struct http_failure){0};
    script.calls++;
    size_t base = strlen(script.api_base);
    if (strncmp(req->url, script.api_base, base) != 0 || req->url[base] != '/')
        abort(); /* a request outside the API */
    /* What the client appends (the URL before it is the user's own). */
    for (const char *u = req->url + base; *u; u++) {
        if (*u <= ' ' || *u >= 0x7f)
            abort(); /* a name, id or page token not encoded */
    }
    const char *seg;
    size_t len;
    if (!next_segment(&script.next, script.end, &seg, &len)) {
        fail->cls = HTTP_ERR_CONNECT;
        snprintf(fail->message, sizeof fail->message, "connection refused (the script ended)");
        return false;
    }
    struct answer a;
    read_answer(seg, len, &a);
    if (a.status <= 0 || a.status > 999) {
        fail->cls = a.failure;
        snprintf(fail->message, sizeof fail->message, "transport failure %d", (int)fail->cls);
        return false;
    }
    resp->status = a.status;
    if (a.content_type[0])
        buf_puts(&resp->content_type, a.content_type);
    if (a.body_len) /* the body of a real response is NUL-terminated; this one is not */
        buf_append(&resp->body, a.body, a.body_len);
    return true;
}

void http_response_free(struct http_response *resp)
{
    buf_free(&resp->body);
    buf_free(&resp->content_type);
    buf_free(&resp->headers);
}

/* --- stand-ins for cli.c's messages (quiet: the fuzzer prints enough) ---- */

void cli_warn(const char *fmt, ...)
{
    (void)fmt;
}

void cli_info(const char *fmt, ...)
{
    (void)fmt;
}

/* ------------------------------------------------------------------------ */

static void error_texts(const char *p, const char *end)
{
    const char *seg;
    size_t len;
    while (next_segment(&p, end, &seg, &len)) {
        struct answer a;
        read_answer(seg, len, &a);
        /* The buffer publish gives it, one that cuts most texts, a tiny one. */
        size_t sizes[] = {600, 40, 5};
        for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
            char out[600 + 1];
            out[sizes[i]] = '\x7f'; /* a canary just past the buffer given */
            http_error_text(a.status, a.content_type, a.body, a.body_len, "the registry API", out,
                            sizes[i]);
            if (out[sizes[i]] != '\x7f' || strlen(out) >= sizes[i])
                abort();
            check_one_line(out);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    const char *first;
    size_t first_len;
    if (!next_segment(&p, end, &first, &first_len))
        first = "", first_len = 0;
    const char *nl = memchr(first, '\n', first_len);
    char *token = xstrndup(first, nl ? (size_t)(nl - first) : first_len);
    char *url = nl ? xstrndup(nl + 1, first_len - (size_t)(nl + 1 - first)) : xstrdup("");
    /* The URL is the user's own argument: what it says comes back in
     * messages as typed, so keep it to one printable line. */
    for (char *u = url; *u; u++) {
        if ((unsigned char)*u < ' ' || (unsigned char)*u == 0x7f)
            *u = '_';
    }

    free(http_token_subject(token));
    error_texts(p, end);

    struct registry_options o = {
        .url = url[0] ? url : "https://registry.example:8443/prefix",
        .token_env = token[0] ? "LLMSWEEP_FUZZ_TOKEN" : NULL,
        .retry = {.retries = data[0] & 3, .base_delay_s = 0, .max_delay_s = 0},
        .dry_run = data[0] & 4,
        .verbose = data[0] & 8,
        .out = NULL,
    };
    if (token[0])
        setenv("LLMSWEEP_FUZZ_TOKEN", token, 1);
    else
        unsetenv("LLMSWEEP_FUZZ_TOKEN");
    unsetenv(REGISTRY_TOKEN_VARIABLE);
    struct registry_client c;
    struct buf err = {0};
    FILE *null = fopen("/dev/null", "w");
    o.out = null;
    if (null && registry_open(&c, &o, &err)) {
        script.next = p;
        script.end = end;
        script.api_base = c.api_base;
        script.calls = 0;
        cJSON *model = NULL, *version = NULL;
        enum registry_lookup r = registry_find_model(&c, MODEL_NAME, &model, &err);
        if (r == REGISTRY_FOUND) {
            const char *name = registry_string(model, "name");
            if (!name || strcmp(name, MODEL_NAME) != 0)
                abort();
            buf_clear(&err);
            r = registry_find_version(&c, model, VERSION_NAME, &version, &err);
            if (r == REGISTRY_FOUND) {
                name = registry_string(version, "name");
                if (!name || strcmp(name, VERSION_NAME) != 0)
                    abort();
            }
        }
        if (r != REGISTRY_FOUND)
            check_one_line(err.data);
        cJSON_Delete(model);
        cJSON_Delete(version);
        registry_close(&c);
    } else if (null) {
        check_one_line(err.data);
    }
    if (null)
        fclose(null);
    buf_free(&err);
    free(token);
    free(url);
    return 0;
}
