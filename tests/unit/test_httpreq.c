#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "httpreq.h"

static enum httpreq_status parse(const char *text, struct httpreq *req)
{
    return httpreq_parse(text, strlen(text), req);
}

TEST(httpreq_get_with_keep_alive_default)
{
    struct httpreq r;
    CHECK_EQ_INT(parse("GET /v1/models?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", &r), HTTPREQ_COMPLETE);
    CHECK(slice_eq(r.method, "GET"));
    CHECK(slice_eq(r.path, "/v1/models"));
    CHECK(slice_eq(r.query, "x=1"));
    CHECK_EQ_INT(r.minor_version, 1);
    CHECK(r.keep_alive);
    CHECK_EQ_INT(r.content_length, 0);
    CHECK_EQ_INT(r.total_len, strlen("GET /v1/models?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"));
}

TEST(httpreq_every_prefix_is_incomplete)
{
    const char *text = "POST /v1/completions HTTP/1.1\r\nContent-Length: 5\r\n"
                       "Connection: close\r\n\r\nhello";
    size_t head = strlen(text) - 5;
    struct httpreq r;
    for (size_t n = 0; n < strlen(text); n++) {
        enum httpreq_status st = httpreq_parse(text, n, &r);
        CHECK_EQ_INT(st, n < head ? HTTPREQ_INCOMPLETE : HTTPREQ_NEED_BODY);
    }
    CHECK_EQ_INT(httpreq_parse(text, strlen(text), &r), HTTPREQ_COMPLETE);
    CHECK_EQ_INT(r.head_len, head);
    CHECK_EQ_INT(r.body.len, 5);
    CHECK(memcmp(r.body.ptr, "hello", 5) == 0);
    CHECK(!r.keep_alive);
}

TEST(httpreq_pipelined_requests_split_exactly)
{
    const char *text = "POST /a HTTP/1.1\r\ncontent-length: 2\r\n\r\nhiGET /b HTTP/1.1\r\n\r\n";
    struct httpreq r;
    CHECK_EQ_INT(parse(text, &r), HTTPREQ_COMPLETE);
    CHECK(slice_eq(r.path, "/a"));
    CHECK(slice_eq(r.body, "hi"));
    const char *next = text + r.total_len;
    CHECK_EQ_INT(parse(next, &r), HTTPREQ_COMPLETE);
    CHECK(slice_eq(r.method, "GET"));
    CHECK(slice_eq(r.path, "/b"));
    CHECK_EQ_INT(r.total_len, strlen(next));
}

TEST(httpreq_headers_any_case_and_bare_lf)
{
    struct httpreq r;
    CHECK_EQ_INT(parse("POST /x HTTP/1.1\nCONTENT-LENGTH:  3 \nExpect: 100-Continue\n"
                       "X-Mock-Stamp: 1\nConnection: Keep-Alive, Upgrade\n\n",
                       &r),
                 HTTPREQ_NEED_BODY);
    CHECK_EQ_INT(r.content_length, 3);
    CHECK(r.expect_continue);
    CHECK(r.mock_stamp);
    CHECK(r.keep_alive);
}

TEST(httpreq_http10_closes_unless_asked)
{
    struct httpreq r;
    CHECK_EQ_INT(parse("GET / HTTP/1.0\r\n\r\n", &r), HTTPREQ_COMPLETE);
    CHECK(!r.keep_alive);
    CHECK_EQ_INT(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r), HTTPREQ_COMPLETE);
    CHECK(r.keep_alive);
}

TEST(httpreq_errors_have_status_and_reason)
{
    struct {
        const char *text;
        int status;
        const char *why;
    } cases[] = {
        {"GET\r\n\r\n", 400, "malformed request line"},
        {"GET http://x/ HTTP/1.1\r\n\r\n", 400, "path starting with '/'"},
        {"GET / HTTP/2.0\r\n\r\n", 505, "HTTP/1.0 and HTTP/1.1"},
        {"GET / FTP/1.0\r\n\r\n", 400, "malformed request line"},
        {"POST / HTTP/1.1\r\nContent-Length: x1\r\n\r\n", 400, "invalid Content-Length"},
        {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "conflicting"},
        {"POST / HTTP/1.1\r\nContent-Length: 999999999999\r\n\r\n", 413, "too large"},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501, "Content-Length"},
        {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, "malformed header name"},
        {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "malformed header line"},
        {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400, "folded"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct httpreq r;
        CHECK_EQ_INT(parse(cases[i].text, &r), HTTPREQ_ERROR);
        CHECK_EQ_INT(r.error_status, cases[i].status);
        CHECK_CONTAINS(r.error, cases[i].why);
    }
}

TEST(httpreq_head_size_limit)
{
    size_t n = HTTPREQ_MAX_HEAD + 100;
    char *text = malloc(n + 1);
    memcpy(text, "GET / HTTP/1.1\r\nX: ", 19);
    memset(text + 19, 'a', n - 19);
    text[n] = '\0';
    struct httpreq r;
    CHECK_EQ_INT(httpreq_parse(text, n, &r), HTTPREQ_ERROR);
    CHECK_EQ_INT(r.error_status, 431);
    free(text);
}
