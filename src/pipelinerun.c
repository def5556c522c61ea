#include "pipelinerun.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamlload.h"

bool pipelinerun_load_template(const char *path, cJSON **out, struct buf *err)
{
    *out = NULL;
    struct buf text = {0};
    if (!read_file(path, &text)) {
        buf_printf(err, "cannot read the template %s: %s", path, strerror(errno));
        return false;
    }
    /* YAML is a superset of JSON: one parser reads both. */
    bool ok = yaml_to_json(path, text.data ? text.data : "", text.len, out, err);
    buf_free(&text);
    if (ok && !cJSON_IsObject(*out)) {
        buf_printf(err,
                   "%s: the template must be a PipelineRun object (apiVersion, kind, "
                   "metadata, spec)",
                   path);
        cJSON_Delete(*out);
        *out = NULL;
        return false;
    }
    return ok;
}

cJSON *pipelinerun_new(void)
{
    cJSON *run = cJSON_CreateObject();
    cJSON_AddStringToObject(run, "apiVersion", "tekton.dev/v1");
    cJSON_AddStringToObject(run, "kind", "PipelineRun");
    return run;
}

bool pipelinerun_valid_label_value(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        bool alnum =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
        if (!alnum && !((ch == '-' || ch == '_' || ch == '.') && i > 0 && i + 1 < n))
            return false;
    }
    return true;
}

bool pipelinerun_valid_name(const char *v, size_t max)
{
    size_t n = strlen(v);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (!alnum && !((ch == '-' || (ch == '.' && max > 63)) && i > 0 && i + 1 < n))
            return false;
    }
    return true;
}

void pipelinerun_format_duration(double seconds, char *out, size_t n)
{
    long long s = (long long)llround(seconds), h = s / 3600, m = s / 60 % 60;
    size_t used = 0;
    out[0] = '\0';
    if (h)
        used += (size_t)snprintf(out + used, n - used, "%lldh", h);
    if (m && used < n)
        used += (size_t)snprintf(out + used, n - used, "%lldm", m);
    if ((s % 60 || !s) && used < n)
        snprintf(out + used, n - used, "%llds", s % 60);
}

/* The object member `key` of obj, created when absent (or not an object). */
static cJSON *object_member(cJSON *obj, const char *key)
{
    cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsObject(m))
        return m;
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    return cJSON_AddObjectToObject(obj, key);
}

static void set_string(cJSON *obj, const char *key, const char *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
    cJSON_AddStringToObject(obj, key, value);
}

static const char *string_member(const cJSON *obj, const char *key)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(m) ? m->valuestring : NULL;
}

static bool apply_params(cJSON *spec, const struct pipelinerun_options *o, struct buf *err)
{
    if (!o->n_params)
        return true;
    cJSON *params = cJSON_GetObjectItemCaseSensitive(spec, "params");
    if (!cJSON_IsArray(params)) {
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "params");
        params = cJSON_AddArrayToObject(spec, "params");
    }
    for (size_t i = 0; i < o->n_params; i++) {
        const char *eq = strchr(o->params[i], '=');
        if (!eq || eq == o->params[i]) {
            buf_printf(
                err,
                "--param '%s' is not NAME=VALUE (e.g. --param cluster-domain=apps.example.com)",
                o->params[i]);
            return false;
        }
        char *name = xstrndup(o->params[i], (size_t)(eq - o->params[i]));
        cJSON *found = NULL, *p;
        cJSON_ArrayForEach(p, params)
        {
            const char *pn = string_member(p, "name");
            if (pn && strcmp(pn, name) == 0)
                found = p;
        }
        if (!found) {
            found = cJSON_CreateObject();
            cJSON_AddStringToObject(found, "name", name);
            cJSON_AddItemToArray(params, found);
        }
        set_string(found, "value", eq + 1);
        free(name);
    }
    return true;
}

static void apply_timeouts(cJSON *spec, double timeout_s)
{
    cJSON *timeouts = cJSON_GetObjectItemCaseSensitive(spec, "timeouts");
    if (cJSON_IsObject(timeouts) && cJSON_GetObjectItemCaseSensitive(timeouts, "pipeline") &&
        timeout_s <= 0)
        return; /* the template's own */
    if (timeout_s <= 0)
        timeout_s = PIPELINERUN_DEFAULT_TIMEOUT_S;
    /* Whole seconds, so that tasks + finally never exceed pipeline after
     * rounding (Tekton refuses that); finally (publish) gets 20 minutes, or
     * a quarter of a short run, rounded down. */
    timeout_s = floor(timeout_s) < 1 ? 1 : floor(timeout_s);
    double fin = timeout_s > 4 * PIPELINERUN_FINALLY_TIMEOUT_S ? PIPELINERUN_FINALLY_TIMEOUT_S
                                                               : floor(timeout_s / 4);
    char text[64];
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "timeouts");
    timeouts = cJSON_AddObjectToObject(spec, "timeouts");
    pipelinerun_format_duration(timeout_s, text, sizeof text);
    cJSON_AddStringToObject(timeouts, "pipeline", text);
    pipelinerun_format_duration(timeout_s - fin, text, sizeof text);
    cJSON_AddStringToObject(timeouts, "tasks", text);
    pipelinerun_format_duration(fin, text, sizeof text);
    cJSON_AddStringToObject(timeouts, "finally", text);
}

static void apply_results_workspace(cJSON *spec, const char *storage)
{
    cJSON *workspaces = cJSON_GetObjectItemCaseSensitive(spec, "workspaces");
    if (!cJSON_IsArray(workspaces)) {
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "workspaces");
        workspaces = cJSON_AddArrayToObject(spec, "workspaces");
    }
    cJSON *ws, *results = NULL;
    cJSON_ArrayForEach(ws, workspaces)
    {
        const char *name = string_member(ws, "name");
        if (name && strcmp(name, PIPELINERUN_RESULTS_WORKSPACE) == 0)
            results = ws;
    }
    cJSON *vct;
    if (results) {
        vct = cJSON_GetObjectItemCaseSensitive(results, "volumeClaimTemplate");
        if (!cJSON_IsObject(vct) || !storage)
            return; /* bound by the template: its choice */
    } else {
        results = cJSON_CreateObject();
        cJSON_AddStringToObject(results, "name", PIPELINERUN_RESULTS_WORKSPACE);
        cJSON_AddItemToArray(workspaces, results);
        vct = cJSON_AddObjectToObject(results, "volumeClaimTemplate");
        cJSON *vspec = cJSON_AddObjectToObject(vct, "spec");
        cJSON *modes = cJSON_AddArrayToObject(vspec, "accessModes");
        cJSON_AddItemToArray(modes, cJSON_CreateString("ReadWriteOnce"));
    }
    cJSON *requests =
        object_member(object_member(object_member(vct, "spec"), "resources"), "requests");
    set_string(requests, "storage", storage ? storage : PIPELINERUN_DEFAULT_STORAGE);
}

static void apply_task_run_template(cJSON *spec, const char *service_account)
{
    cJSON *trt = object_member(spec, "taskRunTemplate");
    if (service_account || !string_member(trt, "serviceAccountName"))
        set_string(trt, "serviceAccountName",
                   service_account ? service_account : PIPELINERUN_DEFAULT_SERVICE_ACCOUNT);
    cJSON *pod = object_member(trt, "podTemplate");
    if (!cJSON_GetObjectItemCaseSensitive(pod, "securityContext")) {
        /* What OpenShift's restricted-v2 wants from every pod. */
        cJSON *sc = cJSON_AddObjectToObject(pod, "securityContext");
        cJSON_AddTrueToObject(sc, "runAsNonRoot");
        cJSON_AddStringToObject(cJSON_AddObjectToObject(sc, "seccompProfile"), "type",
                                "RuntimeDefault");
    }
}

bool pipelinerun_apply(cJSON *run, const struct pipelinerun_options *o, struct buf *err)
{
    const char *api = string_member(run, "apiVersion"), *kind = string_member(run, "kind");
    if (!api || strcmp(api, "tekton.dev/v1") != 0 || !kind || strcmp(kind, "PipelineRun") != 0) {
        buf_printf(err, "the template is a %s %s, not a tekton.dev/v1 PipelineRun",
                   api ? api : "(no apiVersion)", kind ? kind : "(no kind)");
        return false;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(run, "status");
    cJSON *metadata = object_member(run, "metadata");
    static const char *const server_owned[] = {
        "uid",           "resourceVersion", "creationTimestamp", "generation",
        "managedFields", "selfLink",        "ownerReferences"};
    for (size_t i = 0; i < ARRAY_LEN(server_owned); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(metadata, server_owned[i]);
    cJSON *spec = object_member(run, "spec");
    cJSON *ref = object_member(spec, "pipelineRef");
    if (o->pipeline)
        set_string(ref, "name", o->pipeline);
    const char *pipeline = string_member(ref, "name");
    if (pipeline && *pipeline && !pipelinerun_valid_name(pipeline, 253)) {
        buf_printf(err,
                   "Pipeline name '%s' is not a Kubernetes object name (lowercase letters, "
                   "digits, '-' and '.', starting and ending with a letter or digit)",
                   pipeline);
        return false;
    }
    if (!pipeline || !*pipeline) {
        buf_puts(err, "no Pipeline named: pass --pipeline NAME (or a template with "
                      "spec.pipelineRef.name)");
        return false;
    }
    cJSON *labels = object_member(metadata, "labels");
    const char *deployment =
        o->deployment ? o->deployment : string_member(labels, PIPELINERUN_LABEL_DEPLOYMENT);
    if (!deployment) {
        buf_printf(err,
                   "no deployment named: pass --deployment NAME (or a template with the "
                   "label %s), which --if-idle and the run's labels use",
                   PIPELINERUN_LABEL_DEPLOYMENT);
        return false;
    }
    if (!pipelinerun_valid_label_value(deployment)) {
        buf_printf(err,
                   "deployment '%s' is not a valid label value (at most 63 letters, digits, "
                   "'-', '_', '.', starting and ending with a letter or digit)",
                   deployment);
        return false;
    }
    char *deployment_copy = xstrdup(deployment); /* set_string frees the old value */
    set_string(labels, PIPELINERUN_LABEL_DEPLOYMENT, deployment_copy);
    set_string(labels, PIPELINERUN_LABEL_TRIGGER, o->trigger ? o->trigger : "manual");
    if (!string_member(labels, "app.kubernetes.io/name"))
        set_string(labels, "app.kubernetes.io/name", "llmsweep");
    if (o->namespace_)
        set_string(metadata, "namespace", o->namespace_);
    const char *name = string_member(metadata, "name");
    if (!string_member(metadata, "generateName")) {
        char *gen = name ? xasprintf("%s-", name) : xasprintf("%s-%s-", pipeline, deployment_copy);
        set_string(metadata, "generateName", gen);
        free(gen);
    }
    free(deployment_copy);
    cJSON_DeleteItemFromObjectCaseSensitive(metadata, "name");
    if (!apply_params(spec, o, err))
        return false;
    apply_timeouts(spec, o->timeout_s);
    apply_results_workspace(spec, o->storage);
    apply_task_run_template(spec, o->service_account);
    return true;
}

const char *pipelinerun_name(const cJSON *run)
{
    return string_member(cJSON_GetObjectItemCaseSensitive(run, "metadata"), "name");
}

const char *pipelinerun_label(const cJSON *run, const char *key)
{
    const cJSON *metadata = cJSON_GetObjectItemCaseSensitive(run, "metadata");
    return string_member(cJSON_GetObjectItemCaseSensitive(metadata, "labels"), key);
}

int pipelinerun_outcome(const cJSON *run, const char **reason, const char **message)
{
    *reason = *message = NULL;
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(run, "status");
    const cJSON *conditions = cJSON_GetObjectItemCaseSensitive(status, "conditions");
    const cJSON *c;
    cJSON_ArrayForEach(c, conditions)
    {
        const char *type = string_member(c, "type");
        if (!type || strcmp(type, "Succeeded") != 0)
            continue;
        *reason = string_member(c, "reason");
        *message = string_member(c, "message");
        const char *s = string_member(c, "status");
        if (s && strcmp(s, "True") == 0)
            return 1;
        if (s && strcmp(s, "False") == 0)
            return 0;
    }
    return -1;
}

bool pipelinerun_finished(const cJSON *run)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(run, "status");
    if (string_member(status, "completionTime"))
        return true;
    const char *reason, *message;
    return pipelinerun_outcome(run, &reason, &message) >= 0;
}
