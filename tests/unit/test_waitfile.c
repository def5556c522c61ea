#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

TEST(waitfile_marker_completes_at_once_but_not_a_cut_file)
{
    char path[512], marker[600];
    snprintf(path, sizeof path, "%s/benchmarks.json", test_tmpdir());
    snprintf(marker, sizeof marker, "%s%s", path, WAITFILE_MARKER_SUFFIX);
    struct waitfile_state st;
    struct waitfile_observation obs;
    waitfile_init(&st, path, 5);
    write_text(marker, "", "w");
    CHECK(!waitfile_check(&st, &obs)); /* a marker without the file is not done */
    /* the run finished, then the file was cut: the marker does not make it whole */
    write_text(path, "{\"partial\": ", "w");
    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_BAD_MARKED);
    CHECK_CONTAINS(obs.line, "has a completion marker, but its 12 bytes are not complete JSON "
                             "(parsing stops at byte");
    CHECK_CONTAINS(obs.line, "of 12): cut off or replaced after the run finished");
    write_text(path, "{\"partial\": 1}", "w");
    CHECK(waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_DONE_MARKER);
    waitfile_free(&st);
}

TEST(waitfile_marker_of_another_run_does_not_complete_the_file)
{
    char path[512], marker[600];
    snprintf(path, sizeof path, "%s/benchmarks.json", test_tmpdir());
    snprintf(marker, sizeof marker, "%s%s", path, WAITFILE_MARKER_SUFFIX);
    write_text(path, "{\"llmsweep\": {\"run_id\": \"run-b\"}, \"benchmarks\": []}", "w");
    write_text(marker, "{\"run_id\":\"run-a\",\"interrupted\":false,\"files\":[]}\n", "w");
    struct waitfile_state st;
    struct waitfile_observation obs;
    waitfile_init(&st, path, 1);
    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_BAD_MARKED);
    CHECK_CONTAINS(obs.line, "holds run run-b, but its completion marker");
    CHECK_CONTAINS(obs.line, "is for run run-a: the file was replaced after that run finished");
    write_text(marker, "{\"run_id\":\"run-b\",\"interrupted\":false,\"files\":[]}\n", "w");
    CHECK(waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_DONE_MARKER);
    CHECK(!strstr(obs.line, "interrupted"));
    write_text(marker, "{\"run_id\":\"run-b\",\"interrupted\":true,\"files\":[]}\n", "w");
    CHECK(waitfile_check(&st, &obs));
    CHECK_CONTAINS(obs.line, "marker");
    CHECK_CONTAINS(obs.line, ": the run was interrupted, these are its partial results");
    waitfile_free(&st);
}

TEST(waitfile_says_how_the_file_changed)
{
    char path[512], tmp[512];
    snprintf(path, sizeof path, "%s/c.json", test_tmpdir());
    snprintf(tmp, sizeof tmp, "%s/c.json.tmp", test_tmpdir());
    struct waitfile_state st;
    struct waitfile_observation obs;
    waitfile_init(&st, path, 2);
    write_text(path, "{\"a\": [", "w");
    CHECK(!waitfile_check(&st, &obs));
    CHECK_CONTAINS(obs.line, "c.json: 7 bytes (first look)");
    write_text(path, "1, 2", "a");
    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_CHANGING);
    CHECK_CONTAINS(obs.line, "grew from 7 to 11 bytes since the last check");
    CHECK(!strstr(obs.line, "changed at each"));
    write_text(path, ", 3", "a");
    CHECK(!waitfile_check(&st, &obs));
    CHECK_CONTAINS(obs.line, "grew from 11 to 14 bytes since the last check (changed at each of "
                             "the last 2 checks, from 7 bytes)");
    CHECK(truncate(path, 5) == 0);
    CHECK(!waitfile_check(&st, &obs));
    CHECK_CONTAINS(obs.line, "shrank from 14 to 5 bytes since the last check (cut or rewritten "
                             "in place) (changed at each of the last 3 checks, from 7 bytes)");
    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_SETTLING);
    write_text(tmp, "{}", "w");
    CHECK(rename(tmp, path) == 0);
    CHECK(!waitfile_check(&st, &obs));
    CHECK_CONTAINS(obs.line, "c.json was replaced by another file: 2 bytes (was 5)");
    CHECK(truncate(path, 0) == 0);
    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_EMPTY);
    CHECK_CONTAINS(obs.line, "is empty (shrank from 2 bytes since the last check)");
    CHECK(unlink(path) == 0);
    CHECK(!waitfile_check(&st, &obs));
    write_text(path, "{}", "w");
    CHECK(!waitfile_check(&st, &obs));
    CHECK_CONTAINS(obs.line, "c.json: 2 bytes (appeared since the last check)");
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

TEST(waitfile_folder_created_while_waiting)
{
    char dir[512], path[600], marker[700];
    snprintf(dir, sizeof dir, "%s/later", test_tmpdir());
    snprintf(path, sizeof path, "%s/benchmarks.json", dir);
    snprintf(marker, sizeof marker, "%s%s", path, WAITFILE_MARKER_SUFFIX);
    struct waitfile_state st;
    struct waitfile_observation obs;
    waitfile_init(&st, dir, 2);
    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_MISSING);
    CHECK(mkdir(dir, 0700) == 0); /* the run creates its folder, then its files */
    CHECK(!waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_MISSING);
    CHECK_CONTAINS(obs.line, "later/benchmarks.json does not exist yet");
    write_text(path, "{\"llmsweep\": {\"run_id\": \"r\"}, \"benchmarks\": []}", "w");
    write_text(marker, "{\"run_id\":\"r\"}", "w");
    CHECK(waitfile_check(&st, &obs));
    CHECK_EQ_INT(obs.verdict, WAITFILE_DONE_MARKER);
    waitfile_free(&st);
}
