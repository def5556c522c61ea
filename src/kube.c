#include "kube.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

char *kube_in_cluster_server(struct buf *err)
{
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !*host) {
        buf_puts(err, "not in a pod (KUBERNETES_SERVICE_HOST is not set): pass --server "
                      "https://API-SERVER:6443 with --token-file and --ca-file");
        return NULL;
    }
    if (!port || !*port)
        port = "443";
    for (const char *p = port; *p; p++) {
        if (!isdigit((unsigned char)*p)) {
            buf_printf(err, "KUBERNETES_SERVICE_PORT '%s' is not a port number", port);
            return NULL;
        }
    }
    bool v6 = strchr(host, ':') != NULL;
    return xasprintf("https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
}

bool kube_open(struct kube_client *c, const struct kube_options *o, struct buf *err)
{
    *c = (struct kube_client){0};
    if (o->server) {
        if (strncmp(o->server, "https://", 8) != 0 && strncmp(o->server, "http://", 7) != 0) {
            buf_printf(err, "--server '%s' is not an https:// URL", o->server);
            return false;
        }
        if (strpbrk(o->server, "?#@")) {
            buf_printf(err,
                       "--server '%s' must be the API server's root URL (no query, "
                       "fragment or credentials)",
                       o->server);
            return false;
        }
        size_t len = strlen(o->server);
        while (len > 8 && o->server[len - 1] == '/')
            len--;
        c->server = xstrndup(o->server, len);
    } else {
        c->server = kube_in_cluster_server(err);
        if (!c->server)
            return false;
    }
    const char *authority = strstr(c->server, "://") + 3;
    c->host = xstrndup(authority, strcspn(authority, "/"));
    if (!*c->host) {
        buf_printf(err, "--server '%s' has no host name", c->server);
        goto fail;
    }
    if (strncmp(c->server, "http://", 7) == 0 && !http_host_is_loopback(c->host)) {
        buf_printf(err,
                   "--server %s: refusing to send the token over plain http to a host that "
                   "is not this machine; use https://",
                   c->server);
        goto fail;
    }
    c->token_is_serviceaccount = o->token_file == NULL;
    c->token_file =
        o->token_file ? xstrdup(o->token_file) : xasprintf("%s/token", http_serviceaccount_dir());
    if (access(c->token_file, R_OK) != 0) {
        if (c->token_is_serviceaccount)
            buf_printf(err,
                       "cannot read the ServiceAccount token %s: %s (outside a pod, pass "
                       "--token-file)",
                       c->token_file, strerror(errno));
        else
            buf_printf(err, "cannot read --token-file %s: %s", c->token_file, strerror(errno));
        goto fail;
    }
    if (o->namespace_) {
        c->namespace_ = xstrdup(o->namespace_);
    } else {
        char *path = xasprintf("%s/namespace", http_serviceaccount_dir());
        struct buf ns = {0};
        if (!read_trimmed_file(path, &ns) || ns.len == 0) {
            buf_printf(err, "no --namespace given and the pod's namespace file %s cannot be read",
                       path);
            free(path);
            buf_free(&ns);
            goto fail;
        }
        free(path);
        c->namespace_ = buf_steal(&ns);
    }
    c->ca = http_ca_bundle_load(o->ca_files, o->n_ca_files, err);
    if (!c->ca)
        goto fail;
    c->http = (struct http_config){
        .ca_files = o->ca_files,
        .n_ca_files = o->n_ca_files,
        .connect_timeout_s = KUBE_CONNECT_TIMEOUT_S,
        .total_timeout_s = KUBE_REQUEST_TIMEOUT_S,
        .follow_redirects = false, /* a redirect would carry the token elsewhere */
        .ca = c->ca,
    };
    return true;
fail:
    kube_close(c);
    return false;
}

void kube_close(struct kube_client *c)
{
    free(c->server);
    free(c->host);
    free(c->token_file);
    free(c->namespace_);
    http_ca_bundle_free(c->ca);
    *c = (struct kube_client){0};
}

void kube_reply_free(struct kube_reply *reply)
{
    cJSON_Delete(reply->json);
    reply->json = NULL;
}

static bool read_token(const struct kube_client *c, struct buf *token, struct buf *err)
{
    buf_clear(token);
    if (!read_trimmed_file(c->token_file, token)) {
        buf_printf(err, "cannot read the token from %s: %s", c->token_file, strerror(errno));
        return false;
    }
    char what[600];
    snprintf(what, sizeof what, "the token in %s", c->token_file);
    return http_bearer_token_check(token, what, err);
}

static void auth_advice(const struct kube_client *c, long status, const char *verb,
                        const char *resource, const char *token, const char *server_text, char *out,
                        size_t n)
{
    char *subject = http_token_subject(token);
    const char *who = subject ? subject : "the token's ServiceAccount";
    if (status == 401) {
        snprintf(out, n,
                 "the API server at %s rejected the token from %s (401 Unauthorized: expired, "
                 "revoked or issued for another cluster); the server said: %s",
                 c->host, c->token_file, server_text);
    } else {
        /* "system:serviceaccount:NS:NAME" -> the RoleBinding subject. */
        const char *sa = "SERVICEACCOUNT";
        char sa_buf[256];
        if (subject && strncmp(subject, "system:serviceaccount:", 22) == 0) {
            const char *colon = strrchr(subject, ':');
            snprintf(sa_buf, sizeof sa_buf, "%s", colon + 1);
            sa = sa_buf;
        }
        snprintf(out, n,
                 "%s may not `%s` %s.tekton.dev in namespace %s (403 Forbidden): bind the Role "
                 "%s (verbs create, get, list on pipelineruns and get on pipelines, "
                 "kustomize/base/trigger-rbac.yaml) to it, e.g. `oc create rolebinding %s "
                 "--role=%s --serviceaccount=%s:%s -n %s`; the server said: %s",
                 who, verb, resource, c->namespace_, KUBE_TRIGGER_ROLE, KUBE_TRIGGER_ROLE,
                 KUBE_TRIGGER_ROLE, c->namespace_, sa, c->namespace_, server_text);
    }
    free(subject);
}

bool kube_call(struct kube_client *c, const char *method, const char *path, const char *body,
               const char *verb, const char *resource, struct kube_reply *reply)
{
    *reply = (struct kube_reply){0};
    struct buf token = {0}, err = {0};
    if (!read_token(c, &token, &err)) {
        snprintf(reply->message, sizeof reply->message, "%s", err.data);
        buf_free(&token);
        buf_free(&err);
        return false;
    }
    char *url = xasprintf("%s%s", c->server, path);
    struct http_json_answer a;
    bool ok = http_json_call(&c->http, method, url, body, token.data, "the Kubernetes API", &a);
    reply->status = a.status;
    reply->json = a.json;
    if (!a.transferred)
        snprintf(reply->message, sizeof reply->message, "%s %s: %s", method, path, a.fail.message);
    else if (!ok && a.status >= 200 && a.status < 300)
        snprintf(reply->message, sizeof reply->message,
                 "%s %s: the answer is not JSON (%s): is %s the Kubernetes API server?", method,
                 path, a.text, c->server);
    else if (!ok && (a.status == 401 || a.status == 403))
        auth_advice(c, a.status, verb, resource, token.data, a.text, reply->message,
                    sizeof reply->message);
    else if (!ok)
        snprintf(reply->message, sizeof reply->message, "%s %s: %s", method, path, a.text);
    memset(token.data, 0, token.cap);
    buf_free(&token);
    buf_free(&err);
    free(url);
    return ok;
}
