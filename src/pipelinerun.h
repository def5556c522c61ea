/* pipelinerun.h: the PipelineRun `llmsweep trigger` creates, and reading
 * the ones the API returns.
 *
 * From a template (a PipelineRun in YAML or JSON: the ones in tekton/ that
 * the schedule component keeps in a ConfigMap) or built from flags, every
 * run gets:
 *   - metadata.generateName (a template's fixed `name` becomes NAME-), and
 *     no server-owned field (uid, resourceVersion, status, ...);
 *   - labels llmsweep/deployment (what --if-idle selects on) and
 *     llmsweep/trigger (cron, argocd or manual);
 *   - the results workspace as a volumeClaimTemplate (a fresh PVC per run)
 *     unless the template binds it otherwise;
 *   - explicit timeouts (Tekton's default of 60 minutes is shorter than a
 *     long sweep): pipeline, tasks and finally;
 *   - the params given with --param NAME=VALUE, replacing the template's.
 */
#ifndef LLMSWEEP_PIPELINERUN_H
#define LLMSWEEP_PIPELINERUN_H

#include <cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define PIPELINERUN_LABEL_DEPLOYMENT "llmsweep/deployment"
#define PIPELINERUN_LABEL_TRIGGER "llmsweep/trigger"
#define PIPELINERUN_RESULTS_WORKSPACE "results"
#define PIPELINERUN_DEFAULT_TIMEOUT_S (4 * 3600.0)
#define PIPELINERUN_FINALLY_TIMEOUT_S (20 * 60.0)
#define PIPELINERUN_DEFAULT_STORAGE "1Gi"
#define PIPELINERUN_DEFAULT_SERVICE_ACCOUNT "llmsweep"

struct pipelinerun_options {
    const char *pipeline;        /* pipelineRef.name; NULL: the template's */
    const char *deployment;      /* NULL: the template's label */
    const char *trigger;         /* cron, argocd, manual */
    const char *namespace_;      /* metadata.namespace */
    const char *service_account; /* NULL: the template's, else llmsweep */
    const char *storage;         /* NULL: the template's, else 1Gi */
    double timeout_s;            /* 0: the template's, else 4h */
    const char *const *params;   /* "NAME=VALUE" */
    size_t n_params;
};

/* Reads a template file (YAML or JSON). False with one line in err. */
bool pipelinerun_load_template(const char *path, cJSON **out, struct buf *err);
/* An empty PipelineRun for pipelinerun_apply to fill in. */
cJSON *pipelinerun_new(void);
/* Applies the options and the rules above. False with one line in err
 * (not a PipelineRun, no pipeline or deployment named, bad values). */
bool pipelinerun_apply(cJSON *run, const struct pipelinerun_options *o, struct buf *err);

/* Reading objects the API returned. */
const char *pipelinerun_name(const cJSON *run);
const char *pipelinerun_label(const cJSON *run, const char *key);
/* True once status.completionTime is set or the Succeeded condition is
 * True/False (Tekton sets both when a run ends). */
bool pipelinerun_finished(const cJSON *run);
/* 1 succeeded, 0 failed, -1 still going; reason/message of the Succeeded
 * condition (NULL when absent). */
int pipelinerun_outcome(const cJSON *run, const char **reason, const char **message);

/* A label value Kubernetes accepts: at most 63 of [A-Za-z0-9._-], starting
 * and ending with a letter or digit. */
/* A Kubernetes object name: lowercase letters and digits, '-' (and '.'
 * when max is 253, a DNS subdomain; 63 is a DNS label, as namespaces are),
 * starting and ending with a letter or digit. Anything else could also
 * change the API path ("." and ".." are path segments). */
bool pipelinerun_valid_name(const char *v, size_t max);
bool pipelinerun_valid_label_value(const char *value);
/* Whole seconds as a Go duration Tekton parses ("3h40m", "22m30s", "0s"). */
void pipelinerun_format_duration(double seconds, char *out, size_t n);

#endif
