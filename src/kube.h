/* kube.h: a minimal Kubernetes API client (what `llmsweep trigger` needs).
 *
 *   server  --server URL; otherwise the in-cluster API server,
 *           https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (an
 *           IPv6 address gets its brackets). No kubeconfig is read.
 *   auth    `Authorization: Bearer TOKEN`, the token read again for every
 *           request (the kubelet rotates ServiceAccount tokens) from
 *           --token-file or the pod's ServiceAccount token file. A token is
 *           never printed, and never sent over plain http to anything but a
 *           loopback address.
 *   TLS     http.h: system CAs, the ServiceAccount ca.crt (what signs the
 *           in-cluster API server), every --ca-file.
 *   errors  the API's `Status` message, in one line; 401 says the token was
 *           refused, 403 names the verb and resource the ServiceAccount
 *           lacks and the Role to bind; the caller words 404.
 *
 * No retries: a POST that timed out may have created the object, and the
 * caller (a CronJob's Job, an Argo CD hook) has its own retry policy.
 */
#ifndef LLMSWEEP_KUBE_H
#define LLMSWEEP_KUBE_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "util.h"

#define KUBE_CONNECT_TIMEOUT_S 10.0
#define KUBE_REQUEST_TIMEOUT_S 30.0
/* The Role the 403 message tells users to bind (kustomize/base/trigger-rbac.yaml). */
#define KUBE_TRIGGER_ROLE "llmsweep-trigger"

struct kube_options {
    const char *server;     /* NULL: in-cluster */
    const char *token_file; /* NULL: the ServiceAccount token */
    const char *const *ca_files;
    size_t n_ca_files;
    const char *namespace_; /* NULL: the ServiceAccount's namespace file */
};

struct kube_client {
    char *server;     /* "https://host:port", no trailing slash */
    char *host;       /* "host:port", for messages */
    char *token_file; /* where the token is read from, every request */
    bool token_is_serviceaccount;
    char *namespace_;
    struct http_config http;
    struct http_ca_bundle *ca;
};

/* Resolves server, token, CA and namespace. False with one line in err. */
bool kube_open(struct kube_client *c, const struct kube_options *o, struct buf *err);
void kube_close(struct kube_client *c);

struct kube_reply {
    long status;        /* HTTP status; 0 when no answer came */
    cJSON *json;        /* the parsed body of a 2xx answer */
    char message[2048]; /* when it failed: one line a user can act on */
};

/* One request. `path` starts with "/apis/..."; `body` is JSON text or NULL.
 * `verb` and `resource` ("create", "pipelineruns") are the RBAC terms a 403
 * message names. True for a 2xx answer whose body is JSON. */
bool kube_call(struct kube_client *c, const char *method, const char *path, const char *body,
               const char *verb, const char *resource, struct kube_reply *reply);
void kube_reply_free(struct kube_reply *reply);

/* ---- exposed for unit tests ---------------------------------------------- */

/* "https://HOST:PORT" from KUBERNETES_SERVICE_HOST/_PORT; NULL and a
 * message when not in a pod. */
char *kube_in_cluster_server(struct buf *err);

#endif
