#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "waitfile.h"

static void write_text(const char *path, const char *text, const char *mode)
{
    FILE *f = fopen(path, mode);
    fputs(text, f);
    fclose(f);
}

TEST(waitfile_needs_n_unchanged_checks_and_complete_json)
{
    char path[512];
    snprintf(path, sizeof path, "%s/benchmarks.json", test_tmpdir());
    struct waitfile_state st;
    struct waitfile_observation obs;
    waitfile_init(&st, path, 2);

    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_MISSING);
    CHECK_CONTAINS(obs.line, "does not exist yet");

    write_text(path, "", "w");
    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_EMPTY);

    write_text(path, "{\"benchmarks\": [", "w");
    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_CHANGING);
    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_SETTLING);
    CHECK_CONTAINS(obs.line, "unchanged for 1 of 2 checks");
    CHECK(!waitfile_check(&st, &obs)); /* stable, but cut off in the middle */
    CHECK_EQ_INT(obs.verdict, WAITFILE_INCOMPLETE);
    CHECK_CONTAINS(obs.line, "not complete JSON");

    write_text(path, "]}\n", "a");
    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_CHANGING);
    CHECK(!waitfile_check(&st, &obs));
    CHECK(waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_DONE_STABLE);
    CHECK_EQ_INT(obs.size, 19);
    waitfile_free(&st);
}

TEST(waitfile_sees_a_rename_of_the_same_size)
{
    char path[512], tmp[512];
    snprintf(path, sizeof path, "%s/r.json", test_tmpdir());
    snprintf(tmp, sizeof tmp, "%s/r.json.tmp", test_tmpdir());
    write_text(path, "{\"a\":1}", "w");
    struct waitfile_state st;
    struct waitfile_observation obs;
    waitfile_init(&st, path, 1);
    CHECK(!waitfile_check(&st, &obs));
    write_text(tmp, "{\"a\":2}", "w"); /* an atomic rewrite: new inode, same size */
    CHECK(rename(tmp, path) == 0);
    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_CHANGING);
    CHECK(waitfile_check(&st, &obs));
    waitfile_free(&st);
}

TEST(waitfile_marker_completes_at_once)
{
    char path[512], marker[600];
    snprintf(path, sizeof path, "%s/benchmarks.json", test_tmpdir());
    snprintf(marker, sizeof marker, "%s%s", path, WAITFILE_MARKER_SUFFIX);
    struct waitfile_state st;
    struct waitfile_observation obs;
    waitfile_init(&st, path, 5);
    write_text(marker, "", "w");
    CHECK(!waitfile_check(&st, &obs)); /* a marker without the file is not done */
    write_text(path, "{\"partial\": ", "w");
    CHECK(waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_DONE_MARKER);
    waitfile_free(&st);
}

TEST(waitfile_trailing_garbage_is_not_complete)
{
    char path[512];
    snprintf(path, sizeof path, "%s/g.json", test_tmpdir());
    write_text(path, "{}{", "w");
    struct waitfile_state st;
    struct waitfile_observation obs;
    waitfile_init(&st, path, 1);
    CHECK(!waitfile_check(&st, &obs));
    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_INCOMPLETE);
    CHECK_CONTAINS(obs.line, "after the JSON document");
    waitfile_free(&st);
}

TEST(waitfile_directory_means_benchmarks_json)
{
    char *p = waitfile_results_path(test_tmpdir());
    CHECK_CONTAINS(p, "/benchmarks.json");
    CHECK(!strstr(p, "//"));
    free(p);
    p = waitfile_results_path("/no/such/file.json");
    CHECK_EQ_STR(p, "/no/such/file.json");
    free(p);
}

TEST(waitfile_llmsweep_results_wait_for_their_marker)
{
    char path[512], marker[600];
    snprintf(path, sizeof path, "%s/benchmarks.json", test_tmpdir());
    snprintf(marker, sizeof marker, "%s%s", path, WAITFILE_MARKER_SUFFIX);
    write_text(path, "{\"llmsweep\": {\"run_id\": \"r\"}, \"benchmarks\": []}", "w");
    struct waitfile_state st;
    struct waitfile_observation obs;
    waitfile_init(&st, path, 1);
    CHECK(!waitfile_check(&st, &obs));
    CHECK(!waitfile_check(&st, &obs)); /* complete JSON between two levels: not final */
    CHECK_EQ_INT(obs.verdict, WAITFILE_NEEDS_MARKER);
    CHECK_CONTAINS(obs.line, "no completion marker");
    write_text(marker, "", "w");
    CHECK(waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_DONE_MARKER);
    waitfile_free(&st);
}
