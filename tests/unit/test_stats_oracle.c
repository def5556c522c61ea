/* stats.c against GuideLLM 0.8.1's own statistics functions.
 *
 * The cases and GuideLLM's answers come from tests/integration/
 * guidellm_oracle.py, run in the pinned GuideLLM venv. By default this test
 * reads the copy in tests/fixtures/stats/guidellm-oracle.json;
 * test_stats_oracle.py regenerates it live, checks the copy is unchanged and
 * runs this test on the fresh file (LLMSWEEP_STATS_ORACLE=FILE).
 *
 * Everything that selects a sample (percentiles, median, mode, min, max,
 * count) must be identical; mean, variance, std_dev and total_sum agree to
 * the last bit too, except where GuideLLM's unstable sort may add equal
 * times' weights in another order (relative 1e-12). */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "stats.h"

#define DEFAULT_ORACLE "tests/fixtures/stats/guidellm-oracle.json"

static double num(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(item) ? item->valuedouble : NAN;
}

static bool close_enough(double got, double want)
{
    if (got == want)
        return true;
    return fabs(got - want) <= 1e-12 * fmax(fabs(want), 1e-300);
}

/* guidellm_oracle.py's generator for the large cases, number for number. */
static void generate(const char *kind, uint64_t x, size_t n, uint64_t coarse, struct weighted *w,
                     struct interval *iv)
{
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t hi = x >> 40, mid = (x >> 20) & 0xFFFFF;
        if (strcmp(kind, "values") == 0) {
            w[i] = (struct weighted){coarse ? (double)(hi % coarse) : (double)hi / 8.0,
                                     1.0 + (double)(mid % 3)};
        } else if (strcmp(kind, "rate") == 0) {
            w[i] = (struct weighted){(double)(hi % 12000000) / 1000000.0 - 1.0,
                                     1.0 + (double)(mid % 3)};
        } else {
            double start = (double)(hi % 12000000) / 1000000.0 - 1.0;
            iv[i] = (struct interval){start, start + (double)(mid % 3000000) / 1000000.0, 1};
        }
    }
}

static int check_case(const cJSON *c, int *bit_exact)
{
    const char *kind = cJSON_GetObjectItemCaseSensitive(c, "kind")->valuestring;
    const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
    const cJSON *samples = cJSON_GetObjectItemCaseSensitive(c, "samples");
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(c, "generate");
    size_t n = samples ? (size_t)cJSON_GetArraySize(samples) : (size_t)num(gen, "n");
    struct weighted *w = calloc(n + 1, sizeof *w);
    struct interval *iv = calloc(n + 1, sizeof *iv);
    if (samples) {
        size_t i = 0;
        for (const cJSON *s = samples->child; s; s = s->next, i++) {
            double a = cJSON_GetArrayItem(s, 0)->valuedouble;
            double b = cJSON_GetArrayItem(s, 1)->valuedouble;
            w[i] = (struct weighted){a, b};
            iv[i] = (struct interval){a, b, 1};
        }
    } else {
        generate(kind, (uint64_t)num(gen, "seed"), n, (uint64_t)num(gen, "coarse"), w, iv);
    }
    struct distribution d;
    if (strcmp(kind, "values") == 0)
        distribution_of(w, n, -1, &d);
    else if (strcmp(kind, "rate") == 0)
        distribution_of_rate(w, n, num(c, "start"), num(c, "end"), &d);
    else
        distribution_of_concurrency(iv, n, num(c, "start"), num(c, "end"), &d);
    free(w);
    free(iv);

    const cJSON *want = cJSON_GetObjectItemCaseSensitive(c, "expected");
    const cJSON *pct = cJSON_GetObjectItemCaseSensitive(want, "percentiles");
    int failures = 0;
    struct {
        const char *key;
        double got;
        bool exact;
    } fields[] = {
        {"count", d.count, true},
        {"min", d.min, true},
        {"max", d.max, true},
        {"median", d.median, true},
        {"mode", d.mode, true},
        {"mean", d.mean, false},
        {"variance", d.variance, false},
        {"std_dev", d.std_dev, false},
        {"total_sum", d.total_sum, false},
    };
    for (size_t f = 0; f < ARRAY_LEN(fields); f++) {
        double expect = num(want, fields[f].key);
        bool ok = fields[f].exact ? fields[f].got == expect : close_enough(fields[f].got, expect);
        *bit_exact &= fields[f].got == expect;
        if (!ok) {
            fprintf(stderr, "    %s (%s): %s = %.17g, GuideLLM %.17g\n", name, kind, fields[f].key,
                    fields[f].got, expect);
            failures++;
        }
    }
    for (int k = 0; k < PERCENTILE_COUNT; k++) {
        double expect = num(pct, percentile_keys[k]);
        if (d.percentiles[k] != expect) {
            fprintf(stderr, "    %s (%s): %s = %.17g, GuideLLM %.17g\n", name, kind,
                    percentile_keys[k], d.percentiles[k], expect);
            failures++;
        }
    }
    return failures;
}

TEST(stats_oracle_guidellm)
{
    const char *path =
        getenv("LLMSWEEP_STATS_ORACLE") ? getenv("LLMSWEEP_STATS_ORACLE") : DEFAULT_ORACLE;
    struct buf text = {0};
    if (!read_file(path, &text)) {
        test_report(test_failures_, __FILE__, __LINE__,
                    "cannot read %s (the runner starts in the repository root)", path);
        return;
    }
    cJSON *root = cJSON_Parse(text.data);
    CHECK(root != NULL);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
    CHECK(cJSON_GetArraySize(cases) >= 40);
    int failures = 0, checked = 0, bit_exact = 1;
    for (const cJSON *c = cases ? cases->child : NULL; c; c = c->next, checked++)
        failures += check_case(c, &bit_exact);
    CHECK_EQ_INT(failures, 0);
    printf("%d cases checked against GuideLLM; %s\n", checked,
           bit_exact ? "every value bit for bit" : "means within 1e-12");
    cJSON_Delete(root);
    buf_free(&text);
}
