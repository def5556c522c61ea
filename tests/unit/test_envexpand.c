#include <stdlib.h>

#include "envexpand.h"
#include "harness.h"
#include "util.h"

static char *expanded(const char *text)
{
    char *out, *name;
    enum env_status st = env_expand(text, &out, &name);
    free(name);
    return st == ENV_OK ? out : NULL;
}

TEST(envexpand_references)
{
    setenv("LLMSWEEP_A", "apps.example.com", 1);
    setenv("LLMSWEEP_EMPTY", "", 1);
    unsetenv("LLMSWEEP_UNSET");
    const struct {
        const char *in, *out;
    } cases[] = {
        {"https://m.${LLMSWEEP_A}/v1", "https://m.apps.example.com/v1"},
        {"${LLMSWEEP_A}${LLMSWEEP_A}", "apps.example.comapps.example.com"},
        {"${LLMSWEEP_UNSET:-fallback}", "fallback"},
        {"${LLMSWEEP_EMPTY:-fallback}", "fallback"},
        {"${LLMSWEEP_UNSET:-}", ""},
        {"${LLMSWEEP_A:-x}", "apps.example.com"},
        {"$$5 and $HOME and $", "$$5 and $HOME and $"},
        {"$${LLMSWEEP_A}", "${LLMSWEEP_A}"},
        {"", ""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *got = expanded(cases[i].in);
        CHECK_EQ_STR(got, cases[i].out);
        free(got);
    }
}

TEST(envexpand_errors)
{
    unsetenv("LLMSWEEP_UNSET");
    setenv("LLMSWEEP_EMPTY", "", 1);
    char *out, *name;
    CHECK_EQ_INT(env_expand("x${LLMSWEEP_UNSET}y", &out, &name), ENV_UNSET);
    CHECK_EQ_STR(name, "LLMSWEEP_UNSET");
    CHECK(out == NULL);
    free(name);
    CHECK_EQ_INT(env_expand("${LLMSWEEP_EMPTY}", &out, &name), ENV_UNSET);
    free(name);
    const char *bad[] = {"${", "${}", "${1A}", "${A-B}", "${A:x}", "${A:-x", "${A", "${A B}"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        CHECK_EQ_INT(env_expand(bad[i], &out, &name), ENV_SYNTAX);
        CHECK(out == NULL && name == NULL);
    }
}

TEST(envexpand_name_length)
{
    CHECK_EQ_INT(env_name_length("OPENAI_API_KEY"), 14);
    CHECK_EQ_INT(env_name_length("_x9-rest"), 3);
    CHECK_EQ_INT(env_name_length("9LIVES"), 0);
    CHECK_EQ_INT(env_name_length("-A"), 0);
    CHECK_EQ_INT(env_name_length(""), 0);
}
