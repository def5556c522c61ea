#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "registry.h"

TEST(registry_api_base_appends_the_api_path_once)
{
    struct buf err = {0};
    char *u = registry_api_base("https://mr.ns.svc:8443", &err);
    CHECK_EQ_STR(u, "https://mr.ns.svc:8443/api/model_registry/v1alpha3");
    free(u);
    u = registry_api_base("https://gw.example/prefix/mr/", &err);
    CHECK_EQ_STR(u, "https://gw.example/prefix/mr/api/model_registry/v1alpha3");
    free(u);
    u = registry_api_base("http://127.0.0.1:9/api/model_registry/v1alpha3/", &err);
    CHECK_EQ_STR(u, "http://127.0.0.1:9/api/model_registry/v1alpha3");
    free(u);
    CHECK(!registry_api_base("mr.ns.svc:8443", &err));
    CHECK_CONTAINS(err.data, "not an http:// or https:// URL");
    buf_clear(&err);
    CHECK(!registry_api_base("https://user:pw@mr/", &err));
    CHECK_CONTAINS(err.data, "credentials");
    CHECK(!strstr(err.data, "pw"));
    buf_clear(&err);
    CHECK(!registry_api_base("https://mr/?x=1", &err));
    CHECK(!registry_api_base("https:///x", &err));
    buf_free(&err);
}

TEST(registry_backoff_schedule_doubles_with_equal_jitter_and_a_cap)
{
    struct registry_retry_policy p = {.retries = 8, .base_delay_s = 1, .max_delay_s = 30};
    /* the fixed half: 0.5, 1, 2, 4, 8, 15 (capped), ... */
    CHECK_NEAR(registry_backoff_delay(&p, 0, 0), 0.5, 1e-12);
    CHECK_NEAR(registry_backoff_delay(&p, 1, 0), 1, 1e-12);
    CHECK_NEAR(registry_backoff_delay(&p, 2, 0), 2, 1e-12);
    CHECK_NEAR(registry_backoff_delay(&p, 4, 0), 8, 1e-12);
    CHECK_NEAR(registry_backoff_delay(&p, 5, 0), 15, 1e-12);
    CHECK_NEAR(registry_backoff_delay(&p, 50, 0), 15, 1e-12);
    /* the random half adds up to the full step */
    CHECK_NEAR(registry_backoff_delay(&p, 0, 0.5), 0.75, 1e-12);
    CHECK(registry_backoff_delay(&p, 3, 0.999999) < 8.0);
    CHECK(registry_backoff_delay(&p, 3, 0.999999) > 7.99);
    CHECK_NEAR(registry_backoff_delay(&p, 6, 7.0), registry_backoff_delay(&p, 6, 0.999999), 1e-9);
    double total = 0;
    for (int i = 0; i < 5; i++)
        total += registry_backoff_delay(&p, i, 0.999999);
    CHECK(total < 31); /* the default 5 retries give up after about half a minute */
    CHECK(total > 30);
}

TEST(registry_retries_only_what_a_retry_can_fix)
{
    CHECK(registry_status_is_retryable(429));
    CHECK(registry_status_is_retryable(500));
    CHECK(registry_status_is_retryable(502));
    CHECK(registry_status_is_retryable(503));
    CHECK(registry_status_is_retryable(504));
    CHECK(!registry_status_is_retryable(400));
    CHECK(!registry_status_is_retryable(401));
    CHECK(!registry_status_is_retryable(403));
    CHECK(!registry_status_is_retryable(404));
    CHECK(!registry_status_is_retryable(409));
    CHECK(!registry_status_is_retryable(422));
    CHECK(registry_failure_is_retryable(HTTP_ERR_CONNECT));
    CHECK(registry_failure_is_retryable(HTTP_ERR_RESET));
    CHECK(registry_failure_is_retryable(HTTP_ERR_TIMEOUT));
    CHECK(registry_failure_is_retryable(HTTP_ERR_PARTIAL));
    CHECK(!registry_failure_is_retryable(HTTP_ERR_TLS_UNKNOWN_CA));
    CHECK(!registry_failure_is_retryable(HTTP_ERR_TLS_HOSTNAME));
}

static void error_text(long status, const char *ctype, const char *body, char *out, size_t n)
{
    http_error_text(status, ctype, body, strlen(body), "the registry API", out, n);
}

TEST(registry_error_text_reads_json_text_and_html)
{
    char t[600];
    error_text(400, "application/json",
               "{\"code\":\"Bad Request\",\"message\":\"json: unknown field \\\"name\\\"\"}", t,
               sizeof t);
    CHECK_EQ_STR(t, "HTTP 400 Bad Request: json: unknown field \"name\"");
    error_text(503, "text/plain; charset=utf-8",
               "Datastore service is down or unavailable. Please check that the database is "
               "reachable and try again later.\n",
               t, sizeof t);
    CHECK_CONTAINS(t, "HTTP 503 Service Unavailable: Datastore service is down");
    error_text(401, "text/html",
               "<!DOCTYPE html>\n<html><head><title>\n  Log In\n</title></head><body>x</body>", t,
               sizeof t);
    CHECK_CONTAINS(t, "HTTP 401 Unauthorized: an HTML page titled \"Log In\"");
    CHECK_CONTAINS(t, "authentication proxy");
    error_text(502, "", "<html><body><h1>502 Bad Gateway</h1></body></html>", t, sizeof t);
    CHECK_CONTAINS(t, "HTTP 502 Bad Gateway: an HTML page (from a router");
    error_text(405, "", "", t, sizeof t);
    CHECK_EQ_STR(t, "HTTP 405 Method Not Allowed: (empty body)");
    error_text(404, "text/plain", "404 page not found\n", t, sizeof t);
    CHECK_EQ_STR(t, "HTTP 404 Not Found: 404 page not found");
    /* a body of control characters and a huge line stay one short line */
    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    error_text(500, "text/plain", big, t, 100);
    CHECK(strlen(t) < 100);
    CHECK_CONTAINS(t, "...");
    /* A space just before the end of the 600-byte detail: the space, its
     * character, "..." and the NUL must all fit (the ASan build sees an
     * overrun of the stack buffer; an earlier version wrote one byte past). */
    char spaced[1200];
    for (size_t at = 580; at < 600; at++) {
        memset(spaced, 'a', sizeof spaced - 1);
        spaced[sizeof spaced - 1] = '\0';
        spaced[at] = ' ';
        http_error_text(500, "text/plain", spaced, strlen(spaced), "the registry API", t, sizeof t);
        CHECK_CONTAINS(t, "...");
    }
    error_text(500, "text/plain", "a\x01\x1b[31mb", t, sizeof t);
    CHECK_EQ_STR(t, "HTTP 500 Internal Server Error: a[31mb");
}

TEST(registry_url_encoding_keeps_wildcards_literal)
{
    struct buf b = {0};
    http_url_encode("llm_a%b c/d&e=f+g\xc3\xa9~.-", &b);
    CHECK_EQ_STR(b.data, "llm_a%25b%20c%2Fd%26e%3Df%2Bg%C3%A9~.-");
    buf_free(&b);
}

TEST(registry_close_names_ranks_similar_names)
{
    const char *names[] = {
        "mistral-small-24b", "Mistral-Small-24B-w4a16", "llama3-8b", "mistral_small_24b", "qwen3",
        "MISTRAL-SMALL-24B"};
    const char *out[5];
    size_t k = registry_close_names("mistral-small-24b", names, 6, out, 5);
    CHECK_EQ_INT(k, 3);                        /* itself excluded; llama3 and qwen3 are not close */
    CHECK_EQ_STR(out[0], "MISTRAL-SMALL-24B"); /* case only: distance 0 */
    CHECK_EQ_STR(out[1], "mistral_small_24b"); /* two edits */
    CHECK_EQ_STR(out[2], "Mistral-Small-24B-w4a16"); /* contains it */
    k = registry_close_names("v1", (const char *[]){"v2", "v10", "prod"}, 3, out, 5);
    CHECK_EQ_INT(k, 2); /* both one edit away; ties in name order */
    CHECK_EQ_STR(out[0], "v10");
    CHECK_EQ_STR(out[1], "v2");
    k = registry_close_names("caf\xc3\xa9", (const char *[]){"cafe", "tea"}, 2, out, 5);
    CHECK_EQ_INT(k, 1);
    CHECK_EQ_STR(out[0], "cafe");
    k = registry_close_names("zzz", (const char *[]){"abc"}, 1, out, 5);
    CHECK_EQ_INT(k, 0);
}

TEST(http_token_subject_reads_the_jwt_sub_claim)
{
    /* header.payload.signature; payload {"sub":"system:serviceaccount:bench:llmsweep"} */
    const char *jwt = "eyJhbGciOiJSUzI1NiJ9."
                      "eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YmVuY2g6bGxtc3dlZXAifQ."
                      "c2lnbmF0dXJl";
    char *sub = http_token_subject(jwt);
    CHECK_EQ_STR(sub, "system:serviceaccount:bench:llmsweep");
    free(sub);
    CHECK(http_token_subject("opaque-token") == NULL);
    CHECK(http_token_subject("a.!!!.c") == NULL);
    CHECK(http_token_subject("a.e30.c") == NULL); /* {} has no sub */
    /* Found by tests/fuzz/registry_fuzz.c: a subject with a newline broke the
     * one-line 403 advice. {"sub":"system:serviceaccount:a:b\n"} and
     * {"sub":"a`rm -rf`"}: no subject rather than one to paste into a shell. */
    CHECK(http_token_subject("a.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YTpiXG4ifQ.c") == NULL);
    CHECK(http_token_subject("a.eyJzdWIiOiJhYHJtIC1yZmAifQ.c") == NULL);
}
