/* The unit test runner: every TEST() in the binary, each in a child
 * process; a summary line "N passed, N failed" at the end. */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#endif
#endif

extern const struct test_case __start_llmsweep_tests[];
extern const struct test_case __stop_llmsweep_tests[];

static char tmpdir_path[256];

const char *test_tmpdir(void)
{
    return tmpdir_path;
}

void test_report(int *failures, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "    %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    (*failures)++;
}

static bool selected(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++) {
        if (strstr(name, argv[i]))
            return true;
    }
    return false;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void show_log(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof line, f))
        fprintf(stderr, "  | %s", line);
    fclose(f);
}

/* _exit skips the exit-time leak check of LeakSanitizer (the ASan build,
 * tools/sanitize), so each test's child runs it itself; a leak ends the
 * child with a report and a failing exit code. */
static void check_leaks(void)
{
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
    __lsan_do_leak_check();
#endif
#endif
}

static bool run_one(const struct test_case *tc)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir_path, sizeof tmpdir_path, "%s/llmsweep-unit-XXXXXX", base);
    if (!mkdtemp(tmpdir_path)) {
        fprintf(stderr, "    cannot create a temporary directory in %s: %s\n", base,
                strerror(errno));
        return false;
    }
    char log_path[300];
    snprintf(log_path, sizeof log_path, "%s.log", tmpdir_path);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        /* What the code under test prints is shown only when the test fails. */
        if (!freopen(log_path, "w", stdout) || dup2(fileno(stdout), 2) < 0)
            _exit(2);
        int failures = 0;
        tc->fn(&failures);
        fflush(NULL);
        check_leaks();
        _exit(failures ? 1 : 0);
    }
    int status = 0;
    bool ok =
        pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok)
        show_log(log_path);
    if (pid > 0 && WIFSIGNALED(status))
        fprintf(stderr, "    crashed with signal %d (%s)\n", WTERMSIG(status),
                strsignal(WTERMSIG(status)));
    remove(log_path);
    nftw(tmpdir_path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (const struct test_case *tc = __start_llmsweep_tests; tc < __stop_llmsweep_tests; tc++)
            printf("%s\n", tc->name);
        return 0;
    }
    int passed = 0, failed = 0;
    for (const struct test_case *tc = __start_llmsweep_tests; tc < __stop_llmsweep_tests; tc++) {
        if (!selected(tc->name, argc, argv))
            continue;
        bool ok = run_one(tc);
        printf("%s %s\n", ok ? "ok  " : "FAIL", tc->name);
        fflush(stdout);
        if (ok)
            passed++;
        else
            failed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
