/* `llmsweep trigger`'s pieces: YAML templates as JSON, the PipelineRun it
 * builds, the in-cluster server address, reading a run's outcome. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "kube.h"
#include "pipelinerun.h"
#include "yamlload.h"

static cJSON *json_of(const char *yaml)
{
    cJSON *out = NULL;
    struct buf err = {0};
    if (!yaml_to_json("t.yaml", yaml, strlen(yaml), &out, &err))
        fprintf(stderr, "yaml_to_json: %s\n", err.data);
    buf_free(&err);
    return out;
}

static char *text_of(const cJSON *json)
{
    return cJSON_PrintUnformatted(json);
}

TEST(yaml_to_json_types_like_kubernetes)
{
    cJSON *j = json_of("a: 1\nb: \"1\"\nc: true\nd: ~\ne: [x, 'y']\nf: {g: 1.5}\nh: 1Gi\n");
    char *t = text_of(j);
    CHECK_EQ_STR(t,
                 "{\"a\":1,\"b\":\"1\",\"c\":true,\"d\":null,\"e\":[\"x\",\"y\"],\"f\":{\"g\":1.5},"
                 "\"h\":\"1Gi\"}");
    cJSON_free(t);
    cJSON_Delete(j);
    /* JSON is YAML too. */
    j = json_of("{\"kind\": \"PipelineRun\", \"n\": [1, 2]}");
    t = text_of(j);
    CHECK_EQ_STR(t, "{\"kind\":\"PipelineRun\",\"n\":[1,2]}");
    cJSON_free(t);
    cJSON_Delete(j);
}

TEST(yaml_to_json_refuses_duplicates_aliases_and_two_documents)
{
    static const char *const bad[][2] = {
        {"a: 1\nb: 2\na: 3\n", "t.yaml:3:1: "},
        {"a: &x 1\nb: *x\n", "anchors (&x)"},
        {"a: 1\nb: *x\n", "aliases"},
        {"a: &m {c: 1}\n", "anchors (&m)"},
        {"a: 1\n---\nb: 2\n", "a second YAML document"},
        {"a: [1\n", "YAML syntax error"},
        {"", "no YAML document"},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        cJSON *out = NULL;
        struct buf err = {0};
        CHECK(!yaml_to_json("t.yaml", bad[i][0], strlen(bad[i][0]), &out, &err));
        CHECK(out == NULL);
        CHECK_CONTAINS(err.data, bad[i][1]);
        CHECK(err.data && !strchr(err.data, '\n'));
        buf_free(&err);
    }
}

static const char *string_at(const cJSON *obj, const char *a, const char *b, const char *c)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, a);
    if (b)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    if (c)
        x = cJSON_GetObjectItemCaseSensitive(x, c);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

TEST(pipelinerun_from_a_template_keeps_its_choices_and_adds_labels)
{
    cJSON *run =
        json_of("apiVersion: tekton.dev/v1\nkind: PipelineRun\n"
                "metadata:\n  name: fixed\n  uid: abc\n  resourceVersion: '5'\n"
                "  labels: {llmsweep/deployment: m-1}\n"
                "spec:\n  pipelineRef: {name: llmsweep}\n"
                "  params:\n    - {name: spec, value: a}\n    - {name: x, value: b}\n"
                "  timeouts: {pipeline: 2h, tasks: 1h, finally: 10m}\n"
                "  workspaces:\n    - {name: results, persistentVolumeClaim: {claimName: c}}\n"
                "status: {completionTime: now}\n");
    const char *params[] = {"spec=b", "new=v=w"};
    struct pipelinerun_options o = {
        .trigger = "cron", .namespace_ = "ns", .params = params, .n_params = 2};
    struct buf err = {0};
    CHECK(pipelinerun_apply(run, &o, &err));
    CHECK_EQ_STR(string_at(run, "metadata", "generateName", NULL), "fixed-");
    CHECK(string_at(run, "metadata", "name", NULL) == NULL);
    CHECK(string_at(run, "metadata", "uid", NULL) == NULL);
    CHECK(string_at(run, "metadata", "resourceVersion", NULL) == NULL);
    CHECK(cJSON_GetObjectItemCaseSensitive(run, "status") == NULL);
    CHECK_EQ_STR(string_at(run, "metadata", "namespace", NULL), "ns");
    CHECK_EQ_STR(pipelinerun_label(run, PIPELINERUN_LABEL_DEPLOYMENT), "m-1");
    CHECK_EQ_STR(pipelinerun_label(run, PIPELINERUN_LABEL_TRIGGER), "cron");
    CHECK_EQ_STR(string_at(run, "spec", "timeouts", "pipeline"), "2h");
    char *t = text_of(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(run, "spec"), "params"));
    CHECK_EQ_STR(t, "[{\"name\":\"spec\",\"value\":\"b\"},{\"name\":\"x\",\"value\":\"b\"},"
                    "{\"name\":\"new\",\"value\":\"v=w\"}]");
    cJSON_free(t);
    /* The template's PVC binding stays: its choice. */
    t = text_of(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(run, "spec"),
                                                 "workspaces"));
    CHECK_EQ_STR(t, "[{\"name\":\"results\",\"persistentVolumeClaim\":{\"claimName\":\"c\"}}]");
    cJSON_free(t);
    CHECK_EQ_STR(string_at(run, "spec", "taskRunTemplate", "serviceAccountName"), "llmsweep");
    buf_free(&err);
    cJSON_Delete(run);
}

TEST(pipelinerun_from_flags_gets_volume_timeouts_and_name)
{
    cJSON *run = pipelinerun_new();
    struct pipelinerun_options o = {.pipeline = "llmsweep",
                                    .deployment = "qwen",
                                    .namespace_ = "ns",
                                    .storage = "5Gi",
                                    .timeout_s = 1800,
                                    .service_account = "sa"};
    struct buf err = {0};
    CHECK(pipelinerun_apply(run, &o, &err));
    CHECK_EQ_STR(string_at(run, "metadata", "generateName", NULL), "llmsweep-qwen-");
    CHECK_EQ_STR(pipelinerun_label(run, PIPELINERUN_LABEL_TRIGGER), "manual");
    CHECK_EQ_STR(string_at(run, "spec", "timeouts", "pipeline"), "30m");
    CHECK_EQ_STR(string_at(run, "spec", "timeouts", "tasks"), "22m30s");
    CHECK_EQ_STR(string_at(run, "spec", "timeouts", "finally"), "7m30s");
    CHECK_EQ_STR(string_at(run, "spec", "taskRunTemplate", "serviceAccountName"), "sa");
    char *t = text_of(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(run, "spec"), "workspaces"));
    CHECK_EQ_STR(t, "[{\"name\":\"results\",\"volumeClaimTemplate\":{\"spec\":{\"accessModes\":["
                    "\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"5Gi\"}}}}}]");
    cJSON_free(t);
    buf_free(&err);
    cJSON_Delete(run);
}

TEST(pipelinerun_apply_refuses_what_cannot_run)
{
    static const struct {
        const char *yaml, *deployment, *param, *want;
    } cases[] = {
        {"apiVersion: v1\nkind: ConfigMap\n", "d", NULL, "not a tekton.dev/v1 PipelineRun"},
        {"apiVersion: tekton.dev/v1\nkind: PipelineRun\n", "d", NULL, "--pipeline NAME"},
        {"apiVersion: tekton.dev/v1\nkind: PipelineRun\nspec: {pipelineRef: {name: p}}\n", NULL,
         NULL, "--deployment NAME"},
        {"apiVersion: tekton.dev/v1\nkind: PipelineRun\nspec: {pipelineRef: {name: p}}\n", "-bad",
         NULL, "not a valid label value"},
        {"apiVersion: tekton.dev/v1\nkind: PipelineRun\nspec: {pipelineRef: {name: p}}\n", "d",
         "=x", "not NAME=VALUE"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        cJSON *run = json_of(cases[i].yaml);
        const char *params[] = {cases[i].param};
        struct pipelinerun_options o = {.deployment = cases[i].deployment,
                                        .params = params,
                                        .n_params = cases[i].param ? 1 : 0};
        struct buf err = {0};
        CHECK(!pipelinerun_apply(run, &o, &err));
        CHECK_CONTAINS(err.data, cases[i].want);
        buf_free(&err);
        cJSON_Delete(run);
    }
}

TEST(pipelinerun_label_values)
{
    CHECK(pipelinerun_valid_label_value("mistral-24b"));
    CHECK(pipelinerun_valid_label_value("a.b_c"));
    CHECK(!pipelinerun_valid_label_value(""));
    CHECK(!pipelinerun_valid_label_value("a-"));
    CHECK(!pipelinerun_valid_label_value("a b"));
    CHECK(!pipelinerun_valid_label_value("a/b"));
    char long_value[70];
    memset(long_value, 'a', 64);
    long_value[64] = '\0';
    CHECK(!pipelinerun_valid_label_value(long_value));
    long_value[63] = '\0';
    CHECK(pipelinerun_valid_label_value(long_value));
}

TEST(pipelinerun_outcome_reads_the_succeeded_condition)
{
    static const struct {
        const char *status;
        int outcome;
        bool finished;
    } cases[] = {
        {"{}", -1, false},
        {"{\"status\":{\"conditions\":[{\"type\":\"Succeeded\",\"status\":\"Unknown\","
         "\"reason\":\"Running\"}]}}",
         -1, false},
        {"{\"status\":{\"conditions\":[{\"type\":\"Succeeded\",\"status\":\"True\"}]}}", 1, true},
        {"{\"status\":{\"conditions\":[{\"type\":\"Succeeded\",\"status\":\"False\","
         "\"reason\":\"Failed\",\"message\":\"m\"}]}}",
         0, true},
        {"{\"status\":{\"completionTime\":\"2026-01-01T00:00:00Z\"}}", -1, true},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        cJSON *run = cJSON_Parse(cases[i].status);
        const char *reason, *message;
        CHECK_EQ_INT(pipelinerun_outcome(run, &reason, &message), cases[i].outcome);
        CHECK_EQ_INT(pipelinerun_finished(run), cases[i].finished);
        cJSON_Delete(run);
    }
}

TEST(kube_in_cluster_server_from_the_environment)
{
    struct buf err = {0};
    unsetenv("KUBERNETES_SERVICE_HOST");
    CHECK(kube_in_cluster_server(&err) == NULL);
    CHECK_CONTAINS(err.data, "--server");
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    char *s = kube_in_cluster_server(&err);
    CHECK_EQ_STR(s, "https://10.0.0.1:443");
    free(s);
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    s = kube_in_cluster_server(&err);
    CHECK_EQ_STR(s, "https://[fd00::1]:443");
    free(s);
    setenv("KUBERNETES_SERVICE_PORT", "44x", 1);
    buf_clear(&err);
    CHECK(kube_in_cluster_server(&err) == NULL);
    CHECK_CONTAINS(err.data, "not a port number");
    buf_free(&err);
}

TEST(http_error_text_shows_a_kubernetes_status_message)
{
    const char *body =
        "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"pipelines.tekton.dev "
        "\\\"x\\\" not found\",\"reason\":\"NotFound\",\"code\":404}";
    char out[300];
    http_error_text(404, "application/json", body, strlen(body), "the Kubernetes API", out,
                    sizeof out);
    CHECK_EQ_STR(out, "HTTP 404 Not Found: pipelines.tekton.dev \"x\" not found");
    /* Not a Status: the first line, without control characters. */
    const char *page = "upstream connect error\x01 or disconnect\nsecond line";
    http_error_text(503, NULL, page, strlen(page), "the Kubernetes API", out, sizeof out);
    CHECK_EQ_STR(out, "HTTP 503 Service Unavailable: upstream connect error or disconnect");
    http_error_text(502, NULL, "", 0, "the Kubernetes API", out, sizeof out);
    CHECK_EQ_STR(out, "HTTP 502 Bad Gateway: (empty body)");
}

TEST(pipelinerun_timeouts_never_exceed_the_pipeline_after_rounding)
{
    /* 90 s: a quarter is 22.5 s; rounding both halves up gave 68 + 23 > 90. */
    double cases[] = {90, 0.4, 1, 7, 4801, 14400};
    const char *want[][3] = {{"1m30s", "1m8s", "22s"},   {"1s", "1s", "0s"},
                             {"1s", "1s", "0s"},         {"7s", "6s", "1s"},
                             {"1h20m1s", "1h1s", "20m"}, {"4h", "3h40m", "20m"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *run = pipelinerun_new();
        struct pipelinerun_options o = {.pipeline = "p", .deployment = "d", .timeout_s = cases[i]};
        struct buf err = {0};
        CHECK(pipelinerun_apply(run, &o, &err));
        CHECK_EQ_STR(string_at(run, "spec", "timeouts", "pipeline"), want[i][0]);
        CHECK_EQ_STR(string_at(run, "spec", "timeouts", "tasks"), want[i][1]);
        CHECK_EQ_STR(string_at(run, "spec", "timeouts", "finally"), want[i][2]);
        buf_free(&err);
        cJSON_Delete(run);
    }
}

TEST(pipelinerun_names_that_would_change_the_api_path_are_refused)
{
    CHECK(pipelinerun_valid_name("llmsweep", 253));
    CHECK(pipelinerun_valid_name("llm.sweep-2", 253));
    CHECK(pipelinerun_valid_name("llmsweep-quantized", 63));
    CHECK(!pipelinerun_valid_name(".", 253));
    CHECK(!pipelinerun_valid_name("..", 253));
    CHECK(!pipelinerun_valid_name("a/b", 253));
    CHECK(!pipelinerun_valid_name("Upper", 253));
    CHECK(!pipelinerun_valid_name("ns.x", 63));
    CHECK(!pipelinerun_valid_name("", 63));
    cJSON *run = pipelinerun_new();
    struct pipelinerun_options o = {.pipeline = "..", .deployment = "d"};
    struct buf err = {0};
    CHECK(!pipelinerun_apply(run, &o, &err));
    CHECK_CONTAINS(err.data, "not a Kubernetes object name");
    buf_free(&err);
    cJSON_Delete(run);
}
