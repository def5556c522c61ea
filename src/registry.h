/* registry.h: a client for the Kubeflow Model Registry REST API (v1alpha3).
 *
 * What `publish` needs and nothing more: find a registered model and one of
 * its versions by exact name, and PATCH the version. Every request goes
 * through `registry_call`, which owns the policies:
 *
 *   URL     --registry-url may be the server root, carry a path prefix
 *           (a Route or gateway), or end in the API path already; the API
 *           path is appended when missing.
 *   auth    `Authorization: Bearer TOKEN`, the token read again for every
 *           request (ServiceAccount tokens rotate) from --token-file, an
 *           environment variable, or the pod's ServiceAccount token. A
 *           token is never printed: --dry-run and --verbose show
 *           "Bearer <redacted>". The ServiceAccount token is only sent over
 *           https or to a loopback address (it must not leak in clear text).
 *   TLS     http.h: system CAs, the ServiceAccount ca.crt/service-ca.crt,
 *           every --ca-file; --insecure only when asked (warned).
 *   retries 429, 5xx, transport failures (refused, reset, timeout, DNS)
 *           and a 2xx whose JSON is cut off are retried `retries` times,
 *           pausing with exponential back-off and jitter
 *           (registry_backoff_delay); any other 4xx fails at once with the
 *           server's own message.
 *   errors  the server's `{"code","message"}`, a plain-text body (503 while
 *           it starts), or an HTML page from a router or auth proxy are all
 *           turned into one line; 401/403 say which token was sent and which
 *           Role to bind to which ServiceAccount.
 *   dry run GET requests are sent (reading changes nothing, and the exact
 *           PATCH can only be known from what is there); every other request
 *           is printed and not sent.
 *
 * Lookup by name: servers match `?name=` with SQL (LIKE in some versions, so
 * `_` and `%` are wildcards and two matching rows give 404; `=` under a
 * case- and accent-insensitive collation in v0.2.22, so `LLM_A` finds
 * `llm_a`). Returned names are therefore compared exactly, and when the
 * lookup answers 404 or a different name, the client pages through the
 * list (`/registered_models`, `/registered_models/{id}/versions`) and picks
 * the exact name. "Not found" lists the close names it saw.
 */
#ifndef LLMSWEEP_REGISTRY_H
#define LLMSWEEP_REGISTRY_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "http.h"
#include "util.h"

#define REGISTRY_API_PATH "/api/model_registry/v1alpha3"
#define REGISTRY_TOKEN_VARIABLE "LLMSWEEP_REGISTRY_TOKEN" /* read when no --token-env is given */
#define REGISTRY_PAGE_SIZE 100
#define REGISTRY_MAX_PAGES 10000 /* a server that ignores nextPageToken must not loop us */
#define REGISTRY_CONNECT_TIMEOUT_S 10.0
#define REGISTRY_REQUEST_TIMEOUT_S 60.0
#define REGISTRY_DEFAULT_RETRIES 5
#define REGISTRY_DEFAULT_BASE_DELAY_S 1.0 /* 1, 2, 4, 8, 16 s (+/- jitter) */
#define REGISTRY_DEFAULT_MAX_DELAY_S 30.0
#define REGISTRY_MAX_CLOSE_NAMES 5

enum registry_token_source {
    REGISTRY_TOKEN_NONE,
    REGISTRY_TOKEN_FILE,           /* --token-file */
    REGISTRY_TOKEN_ENV,            /* --token-env NAME or $LLMSWEEP_REGISTRY_TOKEN */
    REGISTRY_TOKEN_SERVICEACCOUNT, /* $LLMSWEEP_SERVICEACCOUNT_DIR/token */
};

struct registry_retry_policy {
    int retries;         /* extra attempts after the first one */
    double base_delay_s; /* the first pause; doubles for each further one */
    double max_delay_s;  /* cap of one pause */
};

struct registry_options {
    const char *url;
    const char *token_file; /* NULL: not given */
    const char *token_env;  /* NULL: REGISTRY_TOKEN_VARIABLE when set, else the ServiceAccount */
    const char *const *ca_files;
    size_t n_ca_files;
    bool insecure;
    struct registry_retry_policy retry;
    double request_timeout_s; /* one attempt, connect to last byte; 0: REGISTRY_REQUEST_TIMEOUT_S */
    bool dry_run;
    bool verbose; /* print every request (token redacted) on stderr */
    FILE *out;    /* where --dry-run prints requests (stdout) */
};

struct registry_client {
    char *api_base; /* "https://host:8443/prefix/api/model_registry/v1alpha3" */
    char *host;     /* "host:8443", for messages */
    bool plain_http, loopback;
    struct http_config http;
    struct http_ca_bundle *ca;
    enum registry_token_source token_source;
    char *token_origin; /* the file path or the variable name (never the token) */
    struct registry_retry_policy retry;
    bool dry_run, verbose;
    FILE *out;
    uint64_t jitter_state; /* xorshift64 state, seeded per client */
};

/* Validates the options and prepares the client (CA bundle, token source).
 * On failure returns false with one line in err. */
bool registry_open(struct registry_client *c, const struct registry_options *o, struct buf *err);
void registry_close(struct registry_client *c);

struct registry_reply {
    long status;        /* HTTP status; 0 when no answer came (or not sent: dry run) */
    bool not_sent;      /* dry run: the request was printed instead */
    bool retryable;     /* failed in a way a later attempt may not (5xx, reset, cut JSON) */
    cJSON *json;        /* the parsed body of a 2xx answer */
    char message[2048]; /* when it failed: one line a user can act on */
};

/* One API call, retried as described above. `path` is relative to the API
 * base ("/model_versions/6?x=y"); `body` is JSON text or NULL. Returns true
 * for a 2xx answer whose body is JSON (or a dry-run request not sent). */
bool registry_call(struct registry_client *c, const char *method, const char *path,
                   const char *body, struct registry_reply *reply);
void registry_reply_free(struct registry_reply *reply);

enum registry_lookup {
    REGISTRY_FOUND,
    REGISTRY_ABSENT, /* err says so and lists close names */
    REGISTRY_FAILED, /* err says why (unreachable, 401, ...) */
};

/* The string member `key` of an object the registry answered, or NULL. */
const char *registry_string(const cJSON *object, const char *key);

/* Finds the registered model named exactly `name`; *out is a copy of its
 * JSON object (free with cJSON_Delete). */
enum registry_lookup registry_find_model(struct registry_client *c, const char *name, cJSON **out,
                                         struct buf *err);
/* Finds the version named exactly `name` of the registered model `model`
 * (the object registry_find_model returned). */
enum registry_lookup registry_find_version(struct registry_client *c, const cJSON *model,
                                           const char *name, cJSON **out, struct buf *err);

/* ---- the policies, exposed for unit tests -------------------------------- */

/* "https://h/p" -> "https://h/p/api/model_registry/v1alpha3"; NULL and a
 * message for what is not an http(s) URL or carries credentials/a query. */
char *registry_api_base(const char *url, struct buf *err);
/* The pause before retry number `attempt` (0 = the first retry): equal
 * jitter, half fixed and half random, min(max, base * 2^attempt) at most.
 * `unit_random` is in [0, 1). */
double registry_backoff_delay(const struct registry_retry_policy *p, int attempt,
                              double unit_random);
/* 429, 5xx, and transport failures that a restart or a blip explains. */
bool registry_status_is_retryable(long status);
bool registry_failure_is_retryable(enum http_error_class cls);
/* Up to `max` names from `names` that look like `want` (differ in case,
 * accents aside, a few edits, or one contains the other), closest first. */
size_t registry_close_names(const char *want, const char *const *names, size_t n, const char **out,
                            size_t max);

#endif
