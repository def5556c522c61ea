/* http.h: the one place that configures libcurl.
 *
 * Every HTTP request llmsweep makes (the benchmark's streams, preflight,
 * the Model Registry, the Hugging Face Hub, `fetch`) is set up by
 * `http_setup`, so TLS verification, the CA bundle, timeouts, signals and
 * the user agent are decided here once.
 *
 * CA certificates: the first system bundle found (or $SSL_CERT_FILE instead
 * of them), plus the Kubernetes/OpenShift ServiceAccount CAs (ca.crt,
 * service-ca.crt) when present, plus every --ca-file. They are parsed once
 * per process into an mbedTLS chain that every connection shares, so
 * opening a thousand connections does not parse the bundle a thousand times.
 * Verification is always on unless the user asked for `insecure`.
 *
 * Failures are explained in one line that says what went wrong and what to
 * do (DNS, refused, timeout, unknown CA, hostname mismatch, expired...).
 */
#ifndef LLMSWEEP_HTTP_H
#define LLMSWEEP_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Where the pod's ServiceAccount files live; $LLMSWEEP_SERVICEACCOUNT_DIR
 * overrides it (tests emulate a pod with it). */
#define HTTP_SERVICEACCOUNT_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
const char *http_serviceaccount_dir(void);

/* "Not Found" for 404 and so on; NULL for a status it does not name. */
const char *http_reason_phrase(long status);

/* A server's error answer as one line for a message: "HTTP 503 Service
 * Unavailable: " and the body's "message" (or "error", "code") when it is
 * JSON, the title of an HTML page (a router's or an authentication proxy's,
 * not `api`, e.g. "the registry API"), else its first line; control
 * characters dropped, cut with "..." to fit n. `body` need not be
 * NUL-terminated. */
void http_error_text(long status, const char *content_type, const char *body, size_t len,
                     const char *api, char *out, size_t n);

/* Text from a server (an error body, a name) as one line for a message:
 * white space runs become one space, control characters are dropped, text
 * that does not fit n bytes is cut with "...". */
void http_one_line(const char *text, size_t len, char *out, size_t n);

/* RFC 3986 percent-encoding of everything but unreserved characters. */
void http_url_encode(const char *text, struct buf *out);

/* The `sub` claim of a bearer token that is a JWT (a Kubernetes
 * ServiceAccount token: "system:serviceaccount:NS:NAME"), or NULL. Read to
 * name who was refused; the signature is not checked. */
char *http_token_subject(const char *token);

/* Whether HOST[:PORT] (an URL's authority, IPv6 in brackets) names this
 * machine: "localhost", 127.0.0.0/8 written as an address, or [::1]. A name
 * that only starts like one ("127.evil.example", "localhost.example") does
 * not: tokens may go over plain http only to what this says yes to. */
bool http_host_is_loopback(const char *authority);

/* A bearer token read from a file or the environment (trimmed) must be one
 * non-empty run of printable ASCII: otherwise a message naming `what`
 * ("the registry token from FILE") and false. */
bool http_bearer_token_check(const struct buf *token, const char *what, struct buf *err);

/* Redacts from b (a server's answer) the values of the secret headers
 * (header_is_secret) among "Name: value" lines, and the token of
 * "Bearer TOKEN" on its own. */
void http_redact_header_values(struct buf *b, const char *const *headers, size_t n_headers);
/* The same in a NUL-terminated string, in place (text taken from a stream
 * event). */
void http_redact_header_values_text(char *text, const char *const *headers, size_t n_headers);

struct http_ca_bundle; /* opaque: the parsed trust chain */

struct http_config {
    const char *const *ca_files; /* extra CA files (--ca-file), in order */
    size_t n_ca_files;
    bool insecure;            /* no certificate verification (warned once) */
    double connect_timeout_s; /* 0: libcurl's default (300 s) */
    double total_timeout_s;   /* 0: no limit (streams) */
    bool follow_redirects;
    const struct http_ca_bundle *ca; /* from http_ca_bundle_load */
    /* How the user names a CA file, for messages: "pass --ca-file" unless
     * the command takes it elsewhere (run: from the spec). */
    const char *ca_file_hint;
};

/* Loads and parses every CA source. On failure (an unreadable --ca-file, a
 * file with no certificate in it) returns NULL with a message in err. */
struct http_ca_bundle *http_ca_bundle_load(const char *const *ca_files, size_t n_ca_files,
                                           struct buf *err);
void http_ca_bundle_free(struct http_ca_bundle *ca);
/* "146 certificates from /etc/ssl/certs/ca-certificates.crt, ./my-ca.pem" */
void http_ca_bundle_describe(const struct http_ca_bundle *ca, struct buf *out);

/* Applies the configuration to an easy handle. errbuf (CURL_ERROR_SIZE
 * bytes) receives libcurl's detail for http_explain. */
void http_setup(CURL *easy, const struct http_config *cfg, char *errbuf);

enum http_error_class {
    HTTP_ERR_NONE,
    HTTP_ERR_DNS,
    HTTP_ERR_CONNECT,
    HTTP_ERR_TIMEOUT,
    HTTP_ERR_TLS_UNKNOWN_CA,
    HTTP_ERR_TLS_HOSTNAME,
    HTTP_ERR_TLS_EXPIRED,
    HTTP_ERR_TLS, /* any other TLS failure */
    HTTP_ERR_RESET,
    HTTP_ERR_PARTIAL, /* the connection closed before the body was complete */
    HTTP_ERR_ABORTED, /* we stopped it (write callback, cancellation) */
    HTTP_ERR_OTHER,
};

struct http_failure {
    enum http_error_class cls;
    char message[512];
};

/* Classifies a failed transfer and writes one line a user can act on. */
void http_explain(CURL *easy, CURLcode rc, const char *errbuf, const char *url,
                  const struct http_config *cfg, struct http_failure *out);
const char *http_error_class_name(enum http_error_class cls);

/* A complete request/response, for everything but the benchmark streams. */
struct http_request {
    const char *method; /* "GET" when NULL */
    const char *url;
    const char *const *headers; /* "Name: value" lines */
    size_t n_headers;
    const char *body; /* sent as is; NULL for none */
    size_t body_len;
    size_t max_body; /* a longer response body fails the request; 0: no limit */
};

struct http_response {
    long status;
    struct buf body;
    struct buf content_type;
    struct buf headers; /* header lines of every response, redirects included */
    double seconds_total, seconds_connect, seconds_tls, seconds_first_byte;
};

/* Performs the request. Returns false on a transport failure (explained in
 * fail); an HTTP error status is a successful transfer. */
bool http_perform(const struct http_config *cfg, const struct http_request *req,
                  struct http_response *resp, struct http_failure *fail);
void http_response_free(struct http_response *resp);

/* One request to a JSON API: "Accept: application/json", with a body
 * "Content-Type: application/json", with a token (NULL or "": none)
 * "Authorization: Bearer TOKEN", whose copy is wiped after the transfer.
 * True when a 2xx answer's body parsed as JSON (`json`, the caller's to
 * cJSON_Delete). Otherwise: no transfer (`fail`), or an answer described in
 * `text` by http_error_text (`api` names the API for HTML pages) with the
 * token redacted; `broken_json` when a 2xx body starts like JSON but does
 * not parse (`broken_at`: where parsing stopped). An empty 2xx body is
 * neither JSON nor broken. */
struct http_json_answer {
    bool transferred;
    struct http_failure fail; /* when !transferred */
    long status;
    size_t body_len;
    struct cJSON *json;
    bool broken_json;
    size_t broken_at;
    char text[1000];
};
bool http_json_call(const struct http_config *cfg, const char *method, const char *url,
                    const char *body, const char *token, const char *api,
                    struct http_json_answer *out);
/* The value of response header `name` (case-insensitive), trimmed, into
 * value (cleared first): from the latest response of the transfer that
 * had it, so a redirect's headers count when the final answer lacks them.
 * False if no response had it. */
bool http_response_header(const struct http_response *resp, const char *name, struct buf *value);

#endif
