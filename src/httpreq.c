#include "httpreq.h"

#include <string.h>

bool slice_eq(struct slice s, const char *text)
{
    return strlen(text) == s.len && memcmp(s.ptr, text, s.len) == 0;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool slice_eq_nocase(struct slice s, const char *text)
{
    if (strlen(text) != s.len)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (lower(s.ptr[i]) != lower(text[i]))
            return false;
    }
    return true;
}

static struct slice trim(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return (struct slice){p, n};
}

static bool is_token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static enum httpreq_status fail(struct httpreq *req, int status, const char *why)
{
    req->error_status = status;
    req->error = why;
    return HTTPREQ_ERROR;
}

/* Does the comma-separated header value contain `token` (any case)? */
static bool has_token(struct slice value, const char *token)
{
    const char *p = value.ptr, *end = value.ptr + value.len;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (slice_eq_nocase(trim(p, (size_t)(stop - p)), token))
            return true;
        p = stop + 1;
    }
    return false;
}

static enum httpreq_status parse_request_line(const char *line, size_t n, struct httpreq *req)
{
    const char *sp1 = memchr(line, ' ', n);
    if (!sp1 || sp1 == line)
        return fail(req, 400, "malformed request line");
    const char *rest = sp1 + 1;
    const char *sp2 = memchr(rest, ' ', n - (size_t)(rest - line));
    if (!sp2 || sp2 == rest)
        return fail(req, 400, "malformed request line");
    req->method = (struct slice){line, (size_t)(sp1 - line)};
    for (size_t i = 0; i < req->method.len; i++) {
        if (!is_token_char(line[i]))
            return fail(req, 400, "malformed request method");
    }
    struct slice target = {rest, (size_t)(sp2 - rest)};
    if (target.ptr[0] != '/')
        return fail(req, 400, "the request target must be a path starting with '/'");
    const char *q = memchr(target.ptr, '?', target.len);
    req->path = (struct slice){target.ptr, q ? (size_t)(q - target.ptr) : target.len};
    req->query = q ? (struct slice){q + 1, target.len - req->path.len - 1} : (struct slice){"", 0};
    struct slice version = {sp2 + 1, n - (size_t)(sp2 + 1 - line)};
    if (slice_eq(version, "HTTP/1.1"))
        req->minor_version = 1;
    else if (slice_eq(version, "HTTP/1.0"))
        req->minor_version = 0;
    else if (version.len > 5 && memcmp(version.ptr, "HTTP/", 5) == 0)
        return fail(req, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    else
        return fail(req, 400, "malformed request line");
    return HTTPREQ_COMPLETE;
}

static bool parse_length(struct slice v, uint64_t *out)
{
    if (v.len == 0 || v.len > 19)
        return false;
    uint64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9')
            return false;
        n = n * 10 + (uint64_t)(v.ptr[i] - '0');
    }
    *out = n;
    return true;
}

static enum httpreq_status parse_header(struct slice line, struct httpreq *req, bool *have_length,
                                        bool *conn_close, bool *conn_keep)
{
    if (line.ptr[0] == ' ' || line.ptr[0] == '\t')
        return fail(req, 400, "folded header lines are not allowed");
    const char *colon = memchr(line.ptr, ':', line.len);
    if (!colon || colon == line.ptr)
        return fail(req, 400, "malformed header line");
    struct slice name = {line.ptr, (size_t)(colon - line.ptr)};
    for (size_t i = 0; i < name.len; i++) {
        if (!is_token_char(name.ptr[i]))
            return fail(req, 400, "malformed header name");
    }
    struct slice value = trim(colon + 1, line.len - name.len - 1);
    if (slice_eq_nocase(name, "content-length")) {
        uint64_t n;
        if (!parse_length(value, &n))
            return fail(req, 400, "invalid Content-Length");
        if (*have_length && n != req->content_length)
            return fail(req, 400, "conflicting Content-Length headers");
        if (n > HTTPREQ_MAX_BODY)
            return fail(req, 413, "request body too large");
        req->content_length = n;
        *have_length = true;
    } else if (slice_eq_nocase(name, "transfer-encoding")) {
        return fail(req, 501, "chunked request bodies are not supported: send Content-Length");
    } else if (slice_eq_nocase(name, "connection")) {
        *conn_close |= has_token(value, "close");
        *conn_keep |= has_token(value, "keep-alive");
    } else if (slice_eq_nocase(name, "expect")) {
        req->expect_continue = slice_eq_nocase(value, "100-continue");
    } else if (slice_eq_nocase(name, "x-mock-stamp")) {
        req->mock_stamp = slice_eq(value, "1") || slice_eq_nocase(value, "true");
    }
    return HTTPREQ_COMPLETE;
}

enum httpreq_status httpreq_parse(const char *data, size_t len, struct httpreq *req)
{
    *req = (struct httpreq){0};
    /* Robustness (RFC 9112 2.2): ignore empty lines before the request line. */
    size_t start = 0;
    while (start < len && (data[start] == '\r' || data[start] == '\n'))
        start++;
    size_t pos = start;
    bool have_line = false, have_length = false, conn_close = false, conn_keep = false;
    for (;;) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        if (!nl) {
            if (len - start > HTTPREQ_MAX_HEAD)
                return fail(req, 431, "request head too large");
            return HTTPREQ_INCOMPLETE;
        }
        size_t end = (size_t)(nl - data);
        size_t n = end - pos;
        if (n && data[end - 1] == '\r')
            n--;
        if (end + 1 - start > HTTPREQ_MAX_HEAD)
            return fail(req, 431, "request head too large");
        struct slice line = {data + pos, n};
        pos = end + 1;
        if (!have_line) {
            if (parse_request_line(line.ptr, line.len, req) == HTTPREQ_ERROR)
                return HTTPREQ_ERROR;
            have_line = true;
            continue;
        }
        if (n == 0)
            break;
        if (parse_header(line, req, &have_length, &conn_close, &conn_keep) == HTTPREQ_ERROR)
            return HTTPREQ_ERROR;
    }
    req->keep_alive = req->minor_version == 1 ? !conn_close : conn_keep && !conn_close;
    req->head_len = pos;
    req->total_len = pos + req->content_length;
    if (len < req->total_len)
        return HTTPREQ_NEED_BODY;
    req->body = (struct slice){data + pos, req->content_length};
    return HTTPREQ_COMPLETE;
}
