/* http_text.c: the parts of http.h that only handle text (URL encoding,
 * bearer tokens, reason phrases, error bodies as one line). Kept apart from
 * http.c so that what needs no libcurl can be linked without it (the
 * registry fuzz target, tests/fuzz/registry_fuzz.c). */
#include <arpa/inet.h>
#include <cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

void http_url_encode(const char *text, struct buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            buf_putc(out, (char)*p);
        } else {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_append(out, enc, 3);
        }
    }
}

static int base64url_value(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '-' || ch == '+')
        return 62;
    if (ch == '_' || ch == '/')
        return 63;
    return -1;
}

char *http_token_subject(const char *token)
{
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (!dot2)
        return NULL;
    struct buf json = {0};
    unsigned acc = 0;
    int bits = 0;
    for (const char *p = dot1 + 1; p < dot2 && *p != '='; p++) {
        int v = base64url_value(*p);
        if (v < 0) {
            buf_free(&json);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_putc(&json, (char)((acc >> bits) & 0xff));
        }
    }
    char *subject = NULL;
    cJSON *claims = json.len ? cJSON_ParseWithLength(json.data, json.len) : NULL;
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(claims, "sub");
    /* The subject goes into messages and into an `oc` command to copy:
     * only the characters of a user name, so a token cannot break the line
     * or smuggle shell syntax into the command. */
    bool plain = cJSON_IsString(sub) && sub->valuestring[0];
    for (const char *p = plain ? sub->valuestring : ""; *p; p++) {
        if (!isalnum((unsigned char)*p) && !strchr(":._@-", *p))
            plain = false;
    }
    if (plain)
        subject = xstrdup(sub->valuestring);
    cJSON_Delete(claims);
    buf_free(&json);
    return subject;
}

bool http_host_is_loopback(const char *authority)
{
    size_t len = authority[0] == '[' ? strcspn(authority, "]") + 1 : strcspn(authority, ":");
    char host[256];
    if (len >= sizeof host)
        return false;
    memcpy(host, authority, len);
    host[len] = '\0';
    struct in_addr v4;
    return strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 ||
           (inet_pton(AF_INET, host, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127);
}

bool http_bearer_token_check(const struct buf *token, const char *what, struct buf *err)
{
    if (token->len == 0) {
        buf_printf(err, "%s is empty", what);
        return false;
    }
    for (size_t i = 0; i < token->len; i++) {
        unsigned char ch = (unsigned char)token->data[i];
        if (ch <= 0x20 || ch >= 0x7f) {
            buf_printf(err,
                       "%s contains white space or a control character inside it (one token, "
                       "one line expected)",
                       what);
            return false;
        }
    }
    return true;
}

void http_redact_header_values(struct buf *b, const char *const *headers, size_t n_headers)
{
    for (size_t i = 0; i < n_headers; i++) {
        const char *colon = strchr(headers[i], ':');
        if (!colon)
            continue;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(colon - headers[i]), headers[i]);
        if (!header_is_secret(name))
            continue;
        const char *value = colon + 1 + strspn(colon + 1, " \t");
        buf_redact(b, value);
        if (strncasecmp(value, "Bearer ", 7) == 0)
            buf_redact(b, value + 7);
    }
}

void http_redact_header_values_text(char *text, const char *const *headers, size_t n_headers)
{
    if (!text)
        return;
    size_t len = strlen(text);
    struct buf view = {.data = text, .len = len, .cap = len + 1}; /* never grows */
    http_redact_header_values(&view, headers, n_headers);
}

const char *http_reason_phrase(long status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return NULL;
    }
}

/* Copies text into out as one line: white space runs become one space,
 * control characters are dropped, long text is cut with "...". */
void http_one_line(const char *text, size_t len, char *out, size_t n)
{
    size_t o = 0, i;
    bool space = false;
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            space = o > 0;
            continue;
        }
        if (ch < 0x20 || ch == 0x7f)
            continue;
        /* room for this character, its space, "..." and the NUL */
        if (o + (space ? 1 : 0) + 1 + 4 > n)
            break;
        if (space)
            out[o++] = ' ';
        space = false;
        out[o++] = (char)ch;
    }
    if (i < len && o + 4 <= n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static const char *find_nocase(const char *hay, size_t len, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= len; i++) {
        if (strncasecmp(hay + i, needle, nl) == 0)
            return hay + i;
    }
    return NULL;
}

void http_error_text(long status, const char *content_type, const char *body, size_t len,
                     const char *api, char *out, size_t n)
{
    char detail[600] = "";
    const char *ct = content_type ? content_type : "";
    /* Skip leading white space to sniff the body's kind. */
    size_t skip = 0;
    while (skip < len && isspace((unsigned char)body[skip]))
        skip++;
    const char *b = body + skip;
    size_t blen = len - skip;

    cJSON *json = blen && (*b == '{' || strstr(ct, "json")) ? cJSON_ParseWithLength(b, blen) : NULL;
    if (json) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(json, "message");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(json, "code");
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");
        if (cJSON_IsString(msg) && msg->valuestring[0])
            http_one_line(msg->valuestring, strlen(msg->valuestring), detail, sizeof detail);
        else if (cJSON_IsString(error) && error->valuestring[0])
            http_one_line(error->valuestring, strlen(error->valuestring), detail, sizeof detail);
        else if (cJSON_IsString(code))
            http_one_line(code->valuestring, strlen(code->valuestring), detail, sizeof detail);
        else
            http_one_line(b, blen, detail, sizeof detail);
        cJSON_Delete(json);
    } else if (strstr(ct, "html") || find_nocase(b, blen < 512 ? blen : 512, "<html") ||
               find_nocase(b, blen < 512 ? blen : 512, "<!doctype html")) {
        /* A router's or an authentication proxy's page, not the API. */
        const char *t = find_nocase(b, blen, "<title>");
        const char *e = t ? find_nocase(t, blen - (size_t)(t - b), "</title>") : NULL;
        char title[200] = "";
        if (t && e)
            http_one_line(t + 7, (size_t)(e - (t + 7)), title, sizeof title);
        if (title[0])
            snprintf(detail, sizeof detail,
                     "an HTML page titled \"%s\" (from a router or an authentication proxy, not "
                     "%s)",
                     title, api);
        else
            snprintf(detail, sizeof detail,
                     "an HTML page (from a router or an authentication proxy, not %s)", api);
    } else if (blen) {
        /* The first line; the body need not be NUL-terminated. */
        size_t line = 0;
        while (line < blen && b[line] != '\r' && b[line] != '\n')
            line++;
        http_one_line(b, line, detail, sizeof detail);
    }
    const char *phrase = http_reason_phrase(status);
    int written = snprintf(out, n, "HTTP %ld%s%s: %s", status, phrase ? " " : "",
                           phrase ? phrase : "", detail[0] ? detail : "(empty body)");
    if (written >= (int)n && n > 4)
        memcpy(out + n - 4, "...", 4);
}
