#include "http.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The usual homes of the system CA bundle: Debian/Ubuntu, Fedora/RHEL
 * (two spellings), openSUSE, Alpine/macOS-style. The first one that
 * exists is used, like OpenSSL's and curl's defaults do. */
static const char *const system_bundles[] = {
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
};

struct http_ca_bundle {
    mbedtls_x509_crt chain;
    int certificates;
    struct buf sources; /* ", "-separated, for messages */
};

const char *http_serviceaccount_dir(void)
{
    const char *dir = getenv("LLMSWEEP_SERVICEACCOUNT_DIR");
    return dir && *dir ? dir : HTTP_SERVICEACCOUNT_DIR;
}

static bool file_exists(const char *path)
{
    return access(path, R_OK) == 0;
}

/* Adds one PEM file to the chain. `required` files (named by the user)
 * must be readable and hold at least one certificate. */
static bool add_ca_file(struct http_ca_bundle *ca, const char *path, bool required, struct buf *err)
{
    struct buf pem = {0};
    if (!read_file(path, &pem)) {
        if (required)
            buf_printf(err, "cannot read CA file %s: %s", path, strerror(errno));
        buf_free(&pem);
        return !required;
    }
    /* mbedtls_x509_crt_parse wants the terminating NUL counted for PEM. */
    int before = 0;
    for (const mbedtls_x509_crt *c = &ca->chain; c && c->raw.len; c = c->next)
        before++;
    int rc = mbedtls_x509_crt_parse(&ca->chain, (const unsigned char *)pem.data, pem.len + 1);
    buf_free(&pem);
    int after = 0;
    for (const mbedtls_x509_crt *c = &ca->chain; c && c->raw.len; c = c->next)
        after++;
    if (rc < 0 || after == before) {
        if (required) {
            buf_printf(err, "%s holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)",
                       path);
            return false;
        }
        return true;
    }
    ca->certificates = after;
    if (ca->sources.len)
        buf_puts(&ca->sources, ", ");
    buf_puts(&ca->sources, path);
    return true;
}

struct http_ca_bundle *http_ca_bundle_load(const char *const *ca_files, size_t n_ca_files,
                                           struct buf *err)
{
    struct http_ca_bundle *ca = xcalloc(1, sizeof *ca);
    mbedtls_x509_crt_init(&ca->chain);

    const char *env_bundle = getenv("SSL_CERT_FILE");
    if (env_bundle && *env_bundle) {
        if (!add_ca_file(ca, env_bundle, true, err))
            goto fail;
    } else {
        for (size_t i = 0; i < ARRAY_LEN(system_bundles); i++) {
            if (file_exists(system_bundles[i])) {
                add_ca_file(ca, system_bundles[i], false, err);
                break;
            }
        }
    }

    const char *sa_dir = http_serviceaccount_dir();
    static const char *const sa_files[] = {"ca.crt", "service-ca.crt"};
    for (size_t i = 0; i < ARRAY_LEN(sa_files); i++) {
        char *path = xasprintf("%s/%s", sa_dir, sa_files[i]);
        if (file_exists(path))
            add_ca_file(ca, path, false, err);
        free(path);
    }

    for (size_t i = 0; i < n_ca_files; i++) {
        if (!add_ca_file(ca, ca_files[i], true, err))
            goto fail;
    }
    return ca;
fail:
    http_ca_bundle_free(ca);
    return NULL;
}

void http_ca_bundle_free(struct http_ca_bundle *ca)
{
    if (!ca)
        return;
    mbedtls_x509_crt_free(&ca->chain);
    buf_free(&ca->sources);
    free(ca);
}

void http_ca_bundle_describe(const struct http_ca_bundle *ca, struct buf *out)
{
    if (!ca || ca->certificates == 0) {
        buf_puts(out, "no CA certificates (set SSL_CERT_FILE or pass --ca-file)");
        return;
    }
    buf_printf(out, "%d certificates from %s", ca->certificates, ca->sources.data);
}

/* libcurl calls this with the mbedtls_ssl_config of every new TLS
 * connection, after its own CA setup: we hand it the shared chain. */
static CURLcode use_shared_chain(CURL *easy, void *ssl_config, void *userdata)
{
    (void)easy;
    const struct http_ca_bundle *ca = userdata;
    if (ca && ca->certificates > 0)
        mbedtls_ssl_conf_ca_chain(ssl_config, (mbedtls_x509_crt *)&ca->chain, NULL);
    return CURLE_OK;
}

void http_setup(CURL *easy, const struct http_config *cfg, char *errbuf)
{
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "llmsweep/" LLMSWEEP_VERSION);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    if (errbuf) {
        errbuf[0] = '\0';
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    }
    if (cfg->connect_timeout_s > 0)
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(cfg->connect_timeout_s * 1000));
    if (cfg->total_timeout_s > 0)
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(cfg->total_timeout_s * 1000));
    if (cfg->follow_redirects) {
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);
    }
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, cfg->insecure ? 0L : 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, cfg->insecure ? 0L : 2L);
    curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, use_shared_chain);
    curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, (void *)cfg->ca);
}

const char *http_error_class_name(enum http_error_class cls)
{
    switch (cls) {
    case HTTP_ERR_NONE: return "none";
    case HTTP_ERR_DNS: return "dns";
    case HTTP_ERR_CONNECT: return "connect";
    case HTTP_ERR_TIMEOUT: return "timeout";
    case HTTP_ERR_TLS_UNKNOWN_CA: return "tls_unknown_ca";
    case HTTP_ERR_TLS_HOSTNAME: return "tls_hostname";
    case HTTP_ERR_TLS_EXPIRED: return "tls_expired";
    case HTTP_ERR_TLS: return "tls";
    case HTTP_ERR_RESET: return "reset";
    case HTTP_ERR_PARTIAL: return "partial";
    case HTTP_ERR_ABORTED: return "aborted";
    case HTTP_ERR_OTHER: return "other";
    }
    return "other";
}

/* The host[:port] part of a URL, for messages. */
static void url_authority(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t len = strcspn(p, "/?#");
    const char *at = memchr(p, '@', len); /* never echo credentials */
    if (at) {
        len -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    snprintf(out, n, "%.*s", (int)len, p);
}

/* mbedTLS reports verification problems as text from
 * mbedtls_x509_crt_verify_info(); libcurl copies it into errbuf. */
static enum http_error_class classify_verification(const char *errbuf)
{
    if (strstr(errbuf, "not correctly signed by the trusted CA") ||
        strstr(errbuf, "CA is not trusted") || strstr(errbuf, "certificate is missing"))
        return HTTP_ERR_TLS_UNKNOWN_CA;
    if (strstr(errbuf, "does not match with the expected CN"))
        return HTTP_ERR_TLS_HOSTNAME;
    if (strstr(errbuf, "validity has expired"))
        return HTTP_ERR_TLS_EXPIRED;
    return HTTP_ERR_TLS;
}

void http_explain(CURL *easy, CURLcode rc, const char *errbuf, const char *url,
                  const struct http_config *cfg, struct http_failure *out)
{
    char host[256];
    url_authority(url, host, sizeof host);
    const char *detail = errbuf && errbuf[0] ? errbuf : curl_easy_strerror(rc);
    long os_errno = 0;
    if (easy)
        curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    char *m = out->message;
    size_t n = sizeof out->message;

    switch (rc) {
    case CURLE_OK:
        out->cls = HTTP_ERR_NONE;
        snprintf(m, n, "ok");
        return;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        out->cls = HTTP_ERR_DNS;
        snprintf(m, n, "cannot resolve %s%s (DNS lookup failed): check the host name in the URL",
                 rc == CURLE_COULDNT_RESOLVE_PROXY ? "the proxy of " : "", host);
        return;
    case CURLE_COULDNT_CONNECT:
        out->cls = HTTP_ERR_CONNECT;
        if (os_errno == ECONNREFUSED)
            snprintf(m, n, "connection to %s refused: is the server running and is the port right?",
                     host);
        else if (os_errno == EHOSTUNREACH || os_errno == ENETUNREACH)
            snprintf(m, n, "%s is unreachable (%s)", host, strerror((int)os_errno));
        else
            snprintf(m, n, "cannot connect to %s: %s", host, detail);
        return;
    case CURLE_OPERATION_TIMEDOUT: {
        out->cls = HTTP_ERR_TIMEOUT;
        curl_off_t sent = 0, elapsed = 0;
        long status = 0;
        if (easy) {
            curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &sent);
            curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &elapsed);
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        }
        double seconds = (double)elapsed / 1e6;
        if (sent == 0)
            snprintf(m, n, "connecting to %s timed out after %.1f s", host,
                     easy ? seconds : cfg->connect_timeout_s);
        else if (status == 0)
            snprintf(m, n, "%s sent no response within %.1f s", host, seconds);
        else
            snprintf(m, n, "the response from %s did not complete within %.1f s", host, seconds);
        return;
    }
    case CURLE_PEER_FAILED_VERIFICATION:
        out->cls = classify_verification(detail);
        switch (out->cls) {
        case HTTP_ERR_TLS_UNKNOWN_CA:
            snprintf(m, n,
                     "TLS: the certificate of %s is not signed by a trusted CA: %s the CA that "
                     "issued it (on OpenShift, the service CA is service-ca.crt)",
                     host, cfg && cfg->ca_file_hint ? cfg->ca_file_hint : "pass --ca-file with");
            break;
        case HTTP_ERR_TLS_HOSTNAME:
            snprintf(m, n,
                     "TLS: the certificate of %s was issued for another host name: use the "
                     "name the certificate names, or fix the certificate",
                     host);
            break;
        case HTTP_ERR_TLS_EXPIRED:
            snprintf(m, n, "TLS: the certificate of %s has expired: renew it on the server", host);
            break;
        default:
            snprintf(m, n, "TLS: cannot verify the certificate of %s: %s", host, detail);
            break;
        }
        return;
    case CURLE_SSL_CONNECT_ERROR:
        out->cls = HTTP_ERR_TLS;
        snprintf(m, n, "TLS handshake with %s failed: %s", host, detail);
        return;
    case CURLE_SSL_CACERT_BADFILE:
        out->cls = HTTP_ERR_TLS;
        snprintf(m, n, "TLS: cannot use the CA certificates: %s", detail);
        return;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        out->cls = HTTP_ERR_RESET;
        snprintf(m, n, "%s closed or reset the connection: %s", host, detail);
        return;
    case CURLE_PARTIAL_FILE:
        out->cls = HTTP_ERR_PARTIAL;
        snprintf(m, n, "%s closed the connection before the response was complete: %s", host,
                 detail);
        return;
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR:
        out->cls = HTTP_ERR_ABORTED;
        snprintf(m, n, "request to %s stopped: %s", host, detail);
        return;
    default:
        out->cls = HTTP_ERR_OTHER;
        snprintf(m, n, "request to %s failed: %s", host, detail);
        return;
    }
}

struct body_sink {
    struct buf *body;
    size_t max; /* 0: no limit */
    bool too_large;
};

static size_t collect_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct body_sink *sink = userdata;
    size_t n = size * nmemb;
    if (sink->max && sink->body->len + n > sink->max) {
        sink->too_large = true;
        return 0; /* libcurl aborts the transfer: nothing more is read */
    }
    buf_append(sink->body, data, n);
    return n;
}

/* Keeps the header lines of every response of the transfer (redirects
 * included), in order; http_response_header reads the latest value. */
static size_t collect_header(char *data, size_t size, size_t nmemb, void *userdata)
{
    buf_append(userdata, data, size * nmemb);
    return size * nmemb;
}

bool http_response_header(const struct http_response *resp, const char *name, struct buf *value)
{
    size_t nlen = strlen(name);
    bool found = false;
    buf_clear(value);
    const char *p = resp->headers.data, *end = p ? p + resp->headers.len : NULL;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        if ((size_t)(line_end - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            while (v < line_end && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = line_end;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            buf_clear(value);
            buf_append(value, v, (size_t)(ve - v));
            found = true;
        }
        p = eol ? eol + 1 : end;
    }
    return found;
}

bool http_perform(const struct http_config *cfg, const struct http_request *req,
                  struct http_response *resp, struct http_failure *fail)
{
    *resp = (struct http_response){0};
    CURL *easy = curl_easy_init();
    if (!easy) {
        fail->cls = HTTP_ERR_OTHER;
        snprintf(fail->message, sizeof fail->message, "cannot create a libcurl handle");
        return false;
    }
    char errbuf[CURL_ERROR_SIZE];
    http_setup(easy, cfg, errbuf);
    curl_easy_setopt(easy, CURLOPT_URL, req->url);
    struct curl_slist *headers = NULL;
    for (size_t i = 0; i < req->n_headers; i++)
        headers = curl_slist_append(headers, req->headers[i]);
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    const char *method = req->method ? req->method : "GET";
    if (strcmp(method, "GET") != 0)
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    if (req->body) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    }
    struct body_sink sink = {.body = &resp->body, .max = req->max_body};
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &resp->headers);

    CURLcode rc = curl_easy_perform(easy);
    bool ok = rc == CURLE_OK;
    if (ok) {
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);
        const char *ctype = NULL;
        curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &ctype);
        if (ctype)
            buf_puts(&resp->content_type, ctype);
        curl_off_t t_total = 0, t_connect = 0, t_tls = 0, t_first = 0;
        curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &t_total);
        curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &t_connect);
        curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &t_tls);
        curl_easy_getinfo(easy, CURLINFO_STARTTRANSFER_TIME_T, &t_first);
        resp->seconds_total = (double)t_total / 1e6;
        resp->seconds_connect = (double)t_connect / 1e6;
        resp->seconds_tls = (double)t_tls / 1e6;
        resp->seconds_first_byte = (double)t_first / 1e6;
    } else if (sink.too_large) {
        char host[256];
        url_authority(req->url, host, sizeof host);
        fail->cls = HTTP_ERR_OTHER;
        snprintf(fail->message, sizeof fail->message,
                 "the response from %s is larger than %zu bytes, the most this request takes", host,
                 req->max_body);
    } else {
        http_explain(easy, rc, errbuf, req->url, cfg, fail);
    }
    /* libcurl's copy of an Authorization line would linger in freed memory. */
    for (struct curl_slist *h = headers; h; h = h->next)
        memset(h->data, 0, strlen(h->data));
    curl_slist_free_all(headers);
    curl_easy_cleanup(easy);
    return ok;
}

void http_response_free(struct http_response *resp)
{
    buf_free(&resp->body);
    buf_free(&resp->content_type);
    buf_free(&resp->headers);
}
