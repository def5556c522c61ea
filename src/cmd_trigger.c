/* `llmsweep trigger`: create a PipelineRun through the Kubernetes API
 * (kube.h), from a template or flags (pipelinerun.h); optionally only when
 * the deployment has no unfinished run (--if-idle), and optionally follow
 * it to the end (--wait, by polling: no watch verb needed). The CronJob of
 * kustomize/components/schedule and the Argo CD hook of
 * kustomize/components/gitops-trigger run it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "kube.h"
#include "pipelinerun.h"
#include "util.h"

#define TRIGGER_MAX_DURATION_S (366.0 * 24 * 3600)
#define TRIGGER_MAX_PARAMS 64
#define TRIGGER_MAX_CA_FILES 16
#define TRIGGER_DEFAULT_INTERVAL_S 10.0
/* --wait rides out this many failed polls in a row (an API server restart). */
#define TRIGGER_MAX_POLL_FAILURES 6

static const struct cli_option options[] = {
    {"pipeline", 0, "NAME", "the Pipeline to run (default: the template's pipelineRef)", false},
    {"namespace", 'n', "NS", "where the Pipeline is and the run goes (default: the pod's own)",
     false},
    {"template", 0, "FILE",
     "a PipelineRun (YAML or JSON) to start from, e.g. tekton/pipelinerun-full.yaml", false},
    {"param", 'p', "NAME=VALUE", "set a Pipeline param, replacing the template's", true},
    {"deployment", 0, "NAME",
     "label llmsweep/deployment of the run (default: the template's label)", false},
    {"trigger", 0, "cron|argocd|manual", "label llmsweep/trigger of the run (default manual)",
     false},
    {"service-account", 0, "NAME",
     "the runs' ServiceAccount (default: the template's, else llmsweep)", false},
    {"storage", 0, "SIZE", "size of the per-run results volume (default: the template's, else 1Gi)",
     false},
    {"timeout", 0, "DURATION",
     "the run's pipeline timeout; tasks and finally share it (default: the template's, else 4h)",
     false},
    {"if-idle", 0, NULL,
     "create nothing (exit 0) while a run with the same deployment label has not finished", false},
    {"wait", 0, NULL, "follow the run until it ends; exit 0 if it succeeded, 1 if not", false},
    {"interval", 0, "DURATION", "time between polls with --wait (default 10s)", false},
    {"wait-timeout", 0, "DURATION",
     "with --wait, give up after this long with exit 4 (default: none)", false},
    {"dry-run", 0, NULL, "print the PipelineRun as JSON and exit; contact nothing", false},
    {"server", 0, "URL",
     "the API server (default: the in-cluster one from KUBERNETES_SERVICE_HOST)", false},
    {"token-file", 0, "FILE",
     "bearer token, read for every request (default: the ServiceAccount's)", false},
    {"ca-file", 0, "FILE", "extra CA certificates for the API server", true},
    {0},
};

static const char *const triggers[] = {"cron", "argocd", "manual", NULL};

/* "/apis/tekton.dev/v1/namespaces/NS/RESOURCE[/NAME]" with NS and NAME encoded. */
static char *tekton_path(const char *ns, const char *resource, const char *name)
{
    struct buf b = {0};
    buf_puts(&b, "/apis/tekton.dev/v1/namespaces/");
    http_url_encode(ns, &b);
    buf_printf(&b, "/%s", resource);
    if (name) {
        buf_putc(&b, '/');
        http_url_encode(name, &b);
    }
    return buf_steal(&b);
}

/* --if-idle: the name of an unfinished run of the deployment, or NULL.
 * False when the list failed (message printed). */
static bool find_unfinished(struct kube_client *kc, const char *deployment, char **busy)
{
    *busy = NULL;
    char *base = tekton_path(kc->namespace_, "pipelineruns", NULL);
    struct buf selector = {0}, path = {0};
    buf_printf(&selector, "%s=%s", PIPELINERUN_LABEL_DEPLOYMENT, deployment);
    buf_printf(&path, "%s?labelSelector=", base);
    http_url_encode(selector.data, &path);
    struct kube_reply r;
    bool ok = kube_call(kc, "GET", path.data, NULL, "list", "pipelineruns", &r);
    if (!ok) {
        cli_error("listing the runs of deployment %s: %s", deployment, r.message);
    } else {
        const cJSON *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(r.json, "items"))
        {
            if (!pipelinerun_finished(item) && !*busy) {
                const char *name = pipelinerun_name(item);
                *busy = xstrdup(name ? name : "(unnamed)");
            }
        }
    }
    kube_reply_free(&r);
    buf_free(&selector);
    buf_free(&path);
    free(base);
    return ok;
}

/* Prints the TaskRuns of status.childReferences that are not in `seen`
 * yet ("\nNAME\n" each) and adds them: a task started. */
static void report_children(const char *run, const cJSON *obj, struct buf *seen)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(obj, "status");
    const cJSON *child;
    cJSON_ArrayForEach(child, cJSON_GetObjectItemCaseSensitive(status, "childReferences"))
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(child, "name");
        const cJSON *task = cJSON_GetObjectItemCaseSensitive(child, "pipelineTaskName");
        if (!cJSON_IsString(name))
            continue;
        struct buf key = {0};
        buf_printf(&key, "\n%s\n", name->valuestring);
        bool known = seen->data && strstr(seen->data, key.data);
        if (!known) {
            buf_printf(seen, "%s", key.data);
            printf("%s: task %s started (TaskRun %s)\n", run,
                   cJSON_IsString(task) ? task->valuestring : "?", name->valuestring);
        }
        buf_free(&key);
    }
}

static int follow(struct kube_client *kc, const char *name, double interval, double timeout)
{
    char *path = tekton_path(kc->namespace_, "pipelineruns", name);
    struct buf seen = {0}, last = {0};
    int64_t deadline = timeout > 0 ? now_ns() + (int64_t)(timeout * NS_PER_SEC) : 0;
    int failures = 0, rc;
    for (;;) {
        struct kube_reply r;
        if (!kube_call(kc, "GET", path, NULL, "get", "pipelineruns", &r)) {
            if (r.status == 401 || r.status == 403 || r.status == 404 ||
                ++failures >= TRIGGER_MAX_POLL_FAILURES) {
                cli_error("following PipelineRun %s: %s", name, r.message);
                kube_reply_free(&r);
                rc = EXIT_FAILED;
                break;
            }
            cli_warn("following PipelineRun %s: %s (trying again)", name, r.message);
        } else {
            failures = 0;
            report_children(name, r.json, &seen);
            const char *reason, *message;
            int outcome = pipelinerun_outcome(r.json, &reason, &message);
            struct buf now = {0};
            buf_puts(&now, reason ? reason : "Pending");
            if (message && *message)
                buf_printf(&now, ": %s", message);
            if (outcome < 0 && (!last.data || strcmp(last.data, now.data) != 0)) {
                printf("%s: %s\n", name, now.data);
                buf_clear(&last);
                buf_puts(&last, now.data);
            }
            buf_free(&now);
            fflush(stdout);
            if (outcome == 1) {
                printf("PipelineRun %s succeeded: %s\n", name, message ? message : "");
                kube_reply_free(&r);
                rc = EXIT_OK;
                break;
            }
            if (outcome == 0) {
                cli_error("PipelineRun %s failed (%s): %s; see `tkn pipelinerun logs %s -n %s`",
                          name, reason ? reason : "no reason", message ? message : "", name,
                          kc->namespace_);
                kube_reply_free(&r);
                rc = EXIT_FAILED;
                break;
            }
        }
        kube_reply_free(&r);
        int64_t left = deadline ? deadline - now_ns() : INT64_MAX;
        if (left <= 0) {
            cli_error("gave up waiting for PipelineRun %s after %gs (--wait-timeout); it goes on "
                      "running",
                      name, timeout);
            rc = EXIT_TIMEOUT;
            break;
        }
        sleep_seconds((double)left / NS_PER_SEC < interval ? (double)left / NS_PER_SEC : interval);
    }
    fflush(stdout);
    buf_free(&seen);
    buf_free(&last);
    free(path);
    return rc;
}

static int create_run(struct kube_client *kc, cJSON *run, const char *deployment,
                      const char *trigger, bool wait, double interval, double wait_timeout)
{
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(run, "spec"), "pipelineRef");
    const char *pipeline = cJSON_GetObjectItemCaseSensitive(ref, "name")->valuestring;
    /* The Pipeline first: a missing one is the likeliest mistake, and the
     * API would accept a PipelineRun naming it and fail it later. */
    char *ppath = tekton_path(kc->namespace_, "pipelines", pipeline);
    struct kube_reply r;
    bool ok = kube_call(kc, "GET", ppath, NULL, "get", "pipelines", &r);
    free(ppath);
    if (!ok) {
        if (r.status == 404)
            cli_error("Pipeline %s not found in namespace %s: apply the kustomize overlay that "
                      "defines it there, or pass --namespace (%s)",
                      pipeline, kc->namespace_, r.message);
        else
            cli_error("reading Pipeline %s: %s", pipeline, r.message);
        kube_reply_free(&r);
        return EXIT_FAILED;
    }
    kube_reply_free(&r);
    char *body = cJSON_PrintUnformatted(run);
    char *path = tekton_path(kc->namespace_, "pipelineruns", NULL);
    char *create = xasprintf("%s?fieldValidation=Strict", path);
    ok = kube_call(kc, "POST", create, body, "create", "pipelineruns", &r);
    free(create);
    free(path);
    cJSON_free(body);
    if (!ok) {
        cli_error("creating the PipelineRun: %s", r.message);
        kube_reply_free(&r);
        return EXIT_FAILED;
    }
    const char *created = pipelinerun_name(r.json);
    char *name = xstrdup(created ? created : "?");
    kube_reply_free(&r);
    printf("created PipelineRun %s in namespace %s (deployment %s, trigger %s)\n", name,
           kc->namespace_, deployment, trigger);
    fflush(stdout);
    int rc = wait ? follow(kc, name, interval, wait_timeout) : EXIT_OK;
    free(name);
    return rc;
}

static int run_trigger(const struct cli_args *args)
{
    const struct cli_command *cmd = args->command;
    const char *params[TRIGGER_MAX_PARAMS], *ca_files[TRIGGER_MAX_CA_FILES];
    size_t n_params = cli_get_all(args, "param", params, ARRAY_LEN(params));
    size_t n_ca = cli_get_all(args, "ca-file", ca_files, ARRAY_LEN(ca_files));
    if (n_params > ARRAY_LEN(params))
        return cli_usage_error(cmd, "at most %zu --param", ARRAY_LEN(params));
    if (n_ca > ARRAY_LEN(ca_files))
        return cli_usage_error(cmd, "at most %zu --ca-file", ARRAY_LEN(ca_files));
    double interval = TRIGGER_DEFAULT_INTERVAL_S, wait_timeout = 0, timeout = 0;
    if (!cli_duration(args, "interval", &interval) ||
        !cli_duration(args, "wait-timeout", &wait_timeout) ||
        !cli_duration(args, "timeout", &timeout))
        return EXIT_USAGE;
    if (interval <= 0)
        return cli_usage_error(cmd, "--interval must be more than 0");
    /* A year bounds every duration: more is a typo, and would overflow. */
    if (interval > TRIGGER_MAX_DURATION_S || wait_timeout > TRIGGER_MAX_DURATION_S ||
        timeout > TRIGGER_MAX_DURATION_S)
        return cli_usage_error(cmd, "--interval, --wait-timeout and --timeout must be at most "
                                    "366 days");
    if (timeout > 0 && timeout < 1)
        return cli_usage_error(cmd, "--timeout must be at least 1s");
    const char *trigger = cli_get(args, "trigger");
    if (trigger) {
        bool known = false;
        for (size_t i = 0; triggers[i]; i++)
            known |= strcmp(trigger, triggers[i]) == 0;
        if (!known)
            return cli_usage_error(cmd, "--trigger '%s': use cron, argocd or manual", trigger);
    } else {
        trigger = "manual";
    }
    const char *template_path = cli_get(args, "template");
    if (!template_path && !cli_get(args, "pipeline"))
        return cli_usage_error(cmd, "say what to run: --pipeline NAME or --template FILE");
    bool dry_run = cli_flag(args, "dry-run");

    struct buf err = {0};
    cJSON *run = NULL;
    if (template_path) {
        if (!pipelinerun_load_template(template_path, &run, &err)) {
            cli_error("%s", err.data);
            buf_free(&err);
            return EXIT_USAGE;
        }
    } else {
        run = pipelinerun_new();
    }
    /* The object first: its mistakes are the user's input, whatever the
     * cluster. The namespace is set once it is known. */
    struct pipelinerun_options po = {
        .pipeline = cli_get(args, "pipeline"),
        .deployment = cli_get(args, "deployment"),
        .trigger = trigger,
        .namespace_ = cli_get(args, "namespace"),
        .service_account = cli_get(args, "service-account"),
        .storage = cli_get(args, "storage"),
        .timeout_s = timeout,
        .params = params,
        .n_params = n_params,
    };
    if (!pipelinerun_apply(run, &po, &err)) {
        cli_error("%s%s%s", template_path ? template_path : "", template_path ? ": " : "",
                  err.data);
        buf_free(&err);
        cJSON_Delete(run);
        return EXIT_USAGE;
    }
    if (dry_run) {
        char *text = cJSON_Print(run);
        printf("%s\n", text);
        cJSON_free(text);
        cJSON_Delete(run);
        return EXIT_OK;
    }
    struct kube_client kc;
    struct kube_options ko = {
        .server = cli_get(args, "server"),
        .token_file = cli_get(args, "token-file"),
        .ca_files = ca_files,
        .n_ca_files = n_ca,
        .namespace_ = po.namespace_,
    };
    if (!kube_open(&kc, &ko, &err)) {
        cli_error("%s", err.data);
        buf_free(&err);
        cJSON_Delete(run);
        return EXIT_USAGE;
    }
    if (!pipelinerun_valid_name(kc.namespace_, 63)) {
        cli_error("namespace '%s' is not a Kubernetes namespace name (at most 63 lowercase "
                  "letters, digits and '-', starting and ending with a letter or digit)",
                  kc.namespace_);
        kube_close(&kc);
        cJSON_Delete(run);
        buf_free(&err);
        return EXIT_USAGE;
    }
    cJSON *metadata = cJSON_GetObjectItemCaseSensitive(run, "metadata");
    cJSON_DeleteItemFromObjectCaseSensitive(metadata, "namespace");
    cJSON_AddStringToObject(metadata, "namespace", kc.namespace_);
    const char *deployment = pipelinerun_label(run, PIPELINERUN_LABEL_DEPLOYMENT);
    char *busy = NULL;
    int rc = EXIT_OK;
    if (cli_flag(args, "if-idle")) {
        if (!find_unfinished(&kc, deployment, &busy))
            rc = EXIT_FAILED;
        else if (busy)
            printf("not starting: PipelineRun %s of deployment %s has not finished in namespace "
                   "%s (--if-idle)\n",
                   busy, deployment, kc.namespace_);
    }
    if (rc == EXIT_OK && !busy)
        rc = create_run(&kc, run, deployment, trigger, cli_flag(args, "wait"), interval,
                        wait_timeout);
    free(busy);
    kube_close(&kc);
    cJSON_Delete(run);
    buf_free(&err);
    return rc;
}

const struct cli_command cmd_trigger = {
    .name = "trigger",
    .synopsis = "",
    .summary = "Create a PipelineRun through the Kubernetes API (CronJob, Argo CD hook).",
    .description = "Creates a tekton.dev/v1 PipelineRun from --template or from flags, with\n"
                   "generateName, the labels llmsweep/deployment and llmsweep/trigger, a fresh\n"
                   "volumeClaimTemplate for the results workspace and explicit timeouts, and\n"
                   "prints its name. In a pod it talks to the in-cluster API server with the\n"
                   "ServiceAccount token (read for every request) and ca.crt; elsewhere pass\n"
                   "--server, --token-file and --ca-file (no kubeconfig is read).\n"
                   "It needs `get` on pipelines and `create` (and with --if-idle `list`, with\n"
                   "--wait `get`) on pipelineruns in the namespace: the Role llmsweep-trigger.\n"
                   "--if-idle lists the runs with the same llmsweep/deployment label and creates\n"
                   "nothing while one has not finished (exit 0, saying so).\n"
                   "--wait polls the run every --interval, prints each TaskRun as it starts and\n"
                   "each change of the run's condition, and exits 0 if it succeeded, 1 if it\n"
                   "failed, 4 on --wait-timeout.",
    .options = options,
    .min_args = 0,
    .max_args = 0,
    .run = run_trigger,
};
