#include "spec.h"

const char *api_kind_name(enum api_kind api)
{
    return api == API_CHAT ? "chat" : "completions";
}

const char *load_profile_name(enum load_profile profile)
{
    switch (profile) {
    case PROFILE_CONCURRENT: return "concurrent";
    case PROFILE_SYNCHRONOUS: return "synchronous";
    case PROFILE_THROUGHPUT: return "throughput";
    case PROFILE_CONSTANT: return "constant";
    case PROFILE_POISSON: return "poisson";
    case PROFILE_SWEEP: return "sweep";
    }
    return "concurrent";
}

bool load_profile_is_open_loop(enum load_profile profile)
{
    return profile == PROFILE_CONSTANT || profile == PROFILE_POISSON;
}

#include <stdlib.h>

void spec_free(struct spec *spec)
{
    free(spec->name);
    free(spec->description);
    free(spec->source);
    free(spec->model);
    free(spec->endpoint);
    for (size_t i = 0; i < spec->n_headers; i++) {
        free(spec->headers[i].name);
        free(spec->headers[i].value);
    }
    free(spec->headers);
    free(spec->extra_body);
    free(spec->api_key_env);
    free(spec->api_key_file);
    free(spec->ca_file);
    free(spec->tokenizer.repo);
    free(spec->tokenizer.revision);
    free(spec->tokenizer.path);
    free(spec->instance.type);
    free(spec->instance.gpu_type);
    free(spec->workload.dataset);
    free(spec->load.levels);
    free(spec->outputs.dir);
    free(spec->registry.url);
    free(spec->registry.model);
    free(spec->registry.version);
    free(spec->registry.token_file);
    free(spec->registry.ca_file);
}
