/* libFuzzer target for the spec loader (built by tools/fuzz).
 *
 * The input is YAML, optionally followed by a NUL byte and override lines
 * ("key.path=value", one per line), so the fuzzer reaches --set parsing as
 * well as the YAML walk, libcyaml, the converters and ${VAR} expansion. The
 * same YAML is also fed to the price table parser, the description peek, and
 * as a PipelineRun template to yaml_to_json and pipelinerun_apply (`trigger`).
 * A successful load is rendered, as `validate` would print it. Any crash,
 * sanitizer report or leak is a failure. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipelinerun.h"
#include "prices.h"
#include "spec.h"
#include "yamlload.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The embedded specs name routes under the cluster's domain: without one,
 * every spec that uses them would stop at the same error. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("CLUSTER_DOMAIN", "apps.example.com", 0);
    return 0;
}

#define MAX_OVERRIDES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t yaml_len = nul ? (size_t)(nul - text) : size;

    struct spec_overrides overrides = {0};
    struct buf err = {0};
    char *lines = NULL;
    if (nul) {
        lines = strndup(nul + 1, size - yaml_len - 1);
        char *save = NULL;
        int n = 0;
        for (char *line = strtok_r(lines, "\n", &save); line && n < MAX_OVERRIDES;
             line = strtok_r(NULL, "\n", &save), n++) {
            buf_clear(&err);
            if (strncmp(line, "--", 2) == 0 && strchr(line, ' ')) {
                char *space = strchr(line, ' ');
                *space = '\0';
                spec_overrides_add_option(&overrides, line + 2, space + 1);
            } else {
                spec_overrides_add_set(&overrides, line, &err);
            }
        }
    }

    struct spec spec;
    buf_clear(&err);
    if (spec_load_text("fuzz.yaml", text, yaml_len, overrides.items, overrides.count, &spec,
                       &err) == 0) {
        struct buf plan = {0};
        spec_render_plan(&spec, &plan);
        buf_free(&plan);
        spec_free(&spec);
    } else if (!err.data || !*err.data || strchr(err.data, '\n')) {
        abort(); /* every failure is exactly one line */
    }

    buf_clear(&err);
    struct price_table *table = price_table_parse("fuzz.yaml", text, yaml_len, &err);
    if (table)
        price_table_free(table);
    free(spec_peek_description(text, yaml_len));

    buf_clear(&err);
    cJSON *run = NULL;
    if (yaml_to_json("fuzz.yaml", text, yaml_len, &run, &err)) {
        const char *params[] = {"spec=x", "new=y"};
        struct pipelinerun_options po = {.deployment = "d",
                                         .namespace_ = "ns",
                                         .params = params,
                                         .n_params = 2,
                                         .timeout_s = 60};
        buf_clear(&err);
        if (!cJSON_IsObject(run) || !pipelinerun_apply(run, &po, &err)) {
            if (cJSON_IsObject(run) && (!err.data || strchr(err.data, '\n')))
                abort(); /* every failure is exactly one line */
        } else {
            char *printed = cJSON_PrintUnformatted(run);
            cJSON_free(printed);
        }
        cJSON_Delete(run);
    } else if (!err.data || !*err.data || strchr(err.data, '\n')) {
        abort();
    }

    spec_overrides_free(&overrides);
    buf_free(&err);
    free(lines);
    return 0;
}
