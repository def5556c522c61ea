#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "http.h"

static struct http_failure explain(CURLcode rc, const char *errbuf, const char *url)
{
    struct http_config cfg = {.connect_timeout_s = 10, .total_timeout_s = 30};
    struct http_failure f;
    http_explain(NULL, rc, errbuf, url, &cfg, &f);
    return f;
}

TEST(http_classifies_tls_verification_failures)
{
    struct http_failure f = explain(CURLE_PEER_FAILED_VERIFICATION,
                                    "mbedTLS: The certificate is not correctly signed by the "
                                    "trusted CA\n",
                                    "https://vllm.example:8443/v1");
    CHECK_EQ_INT(f.cls, HTTP_ERR_TLS_UNKNOWN_CA);
    CHECK_CONTAINS(f.message, "vllm.example:8443");
    CHECK_CONTAINS(f.message, "--ca-file");

    /* A command that takes the CA elsewhere names its own way. */
    struct http_config cfg = {.ca_file_hint = "set ca_file in the spec to"};
    http_explain(NULL, CURLE_PEER_FAILED_VERIFICATION, "not correctly signed by the trusted CA",
                 "https://a/", &cfg, &f);
    CHECK_CONTAINS(f.message, "trusted CA: set ca_file in the spec to the CA that issued it");
    CHECK(!strstr(f.message, "--ca-file"));

    f = explain(CURLE_PEER_FAILED_VERIFICATION,
                "mbedTLS: The certificate Common Name (CN) does not match with the expected CN\n",
                "https://a/");
    CHECK_EQ_INT(f.cls, HTTP_ERR_TLS_HOSTNAME);

    f = explain(CURLE_PEER_FAILED_VERIFICATION, "mbedTLS: The certificate validity has expired\n",
                "https://a/");
    CHECK_EQ_INT(f.cls, HTTP_ERR_TLS_EXPIRED);
    CHECK_CONTAINS(f.message, "expired");
}

TEST(http_messages_never_echo_credentials)
{
    struct http_failure f =
        explain(CURLE_COULDNT_RESOLVE_HOST, "", "https://user:secret@registry.example/api");
    CHECK_EQ_INT(f.cls, HTTP_ERR_DNS);
    CHECK_CONTAINS(f.message, "registry.example");
    CHECK(!strstr(f.message, "secret"));
}

TEST(http_classifies_transport_failures)
{
    CHECK_EQ_INT(explain(CURLE_OPERATION_TIMEDOUT, "", "http://a/").cls, HTTP_ERR_TIMEOUT);
    CHECK_EQ_INT(explain(CURLE_RECV_ERROR, "", "http://a/").cls, HTTP_ERR_RESET);
    CHECK_EQ_INT(explain(CURLE_GOT_NOTHING, "", "http://a/").cls, HTTP_ERR_RESET);
    CHECK_EQ_INT(explain(CURLE_PARTIAL_FILE, "", "http://a/").cls, HTTP_ERR_PARTIAL);
    CHECK_EQ_INT(explain(CURLE_COULDNT_CONNECT, "", "http://a/").cls, HTTP_ERR_CONNECT);
    CHECK_EQ_STR(http_error_class_name(HTTP_ERR_TLS_HOSTNAME), "tls_hostname");
}

TEST(http_ca_bundle_rejects_bad_ca_file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/not-a-cert.pem", test_tmpdir());
    FILE *f = fopen(path, "w");
    fputs("hello\n", f);
    fclose(f);
    const char *files[] = {path};
    struct buf err = {0};
    CHECK(http_ca_bundle_load(files, 1, &err) == NULL);
    CHECK_CONTAINS(err.data, "not-a-cert.pem");
    CHECK_CONTAINS(err.data, "no PEM certificate");
    buf_free(&err);

    const char *missing[] = {"/nonexistent/ca.pem"};
    CHECK(http_ca_bundle_load(missing, 1, &err) == NULL);
    CHECK_CONTAINS(err.data, "cannot read CA file /nonexistent/ca.pem");
    buf_free(&err);
}

TEST(http_redacts_secret_header_values_from_server_text)
{
    const char *headers[] = {"Authorization: Bearer tok-0123456789", "X-Tenant: team-blue",
                             "X-Api-Key:   key-abcdefghij", "Broken header"};
    struct buf b = {0};
    buf_puts(&b, "{\"error\": \"bad Bearer tok-0123456789 (key-abcdefghij, tenant team-blue); "
                 "bare tok-0123456789\"}");
    http_redact_header_values(&b, headers, 4);
    CHECK_EQ_STR(b.data, "{\"error\": \"bad <redacted> (<redacted>, tenant team-blue); "
                         "bare <redacted>\"}");
    buf_free(&b);
}

TEST(http_host_is_loopback_only_for_this_machine)
{
    CHECK(http_host_is_loopback("localhost"));
    CHECK(http_host_is_loopback("LOCALHOST:8080"));
    CHECK(http_host_is_loopback("127.0.0.1:6443"));
    CHECK(http_host_is_loopback("127.1.2.3"));
    CHECK(http_host_is_loopback("[::1]:8443"));
    CHECK(!http_host_is_loopback("localhost.attacker.example:8080"));
    CHECK(!http_host_is_loopback("127.evil.example"));
    CHECK(!http_host_is_loopback("128.0.0.1"));
    CHECK(!http_host_is_loopback("[::2]:80"));
    CHECK(!http_host_is_loopback(""));
}
