/* harness.h: llmsweep's unit test harness (no third-party framework).
 *
 *   TEST(percentiles_of_one_sample) {
 *       CHECK_EQ_INT(count, 1);
 *       CHECK_NEAR(p50, 3.0, 1e-12);
 *   }
 *
 * Tests register themselves in a linker section, so a new test file needs
 * no list to edit. The runner (tests/unit/main.c) runs each test in its own
 * process, so a crash fails that test and the rest still run; a failed
 * CHECK reports file:line and the values, and the test carries on. The last
 * line the runner prints is "N passed, N failed".
 *
 *   llmsweep-unit [SUBSTRING...]   run the tests whose names contain one
 *   llmsweep-unit --list           list the test names
 */
#ifndef LLMSWEEP_TEST_HARNESS_H
#define LLMSWEEP_TEST_HARNESS_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct test_case {
    const char *name;
    const char *file;
    void (*fn)(int *failures);
};

#define TEST(name_)                                                                                \
    static void test_##name_(int *test_failures_);                                                 \
    __attribute__((used, retain,                                                                   \
                   section("llmsweep_tests"))) static const struct test_case test_case_##name_ = { \
        #name_, __FILE__, test_##name_};                                                           \
    static void test_##name_(int *test_failures_)

void test_report(int *failures, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            test_report(test_failures_, __FILE__, __LINE__, "CHECK(%s)", #cond);                   \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_)                                                                              \
            test_report(test_failures_, __FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_,  \
                        b_);                                                                       \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                     \
            test_report(test_failures_, __FILE__, __LINE__, "%s == %s:\n    \"%s\"\n != \"%s\"",   \
                        #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                           \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                           \
    do {                                                                                           \
        const char *h_ = (haystack), *n_ = (needle);                                               \
        if (!h_ || !strstr(h_, n_))                                                                \
            test_report(test_failures_, __FILE__, __LINE__, "%s contains \"%s\":\n    \"%s\"",     \
                        #haystack, n_, h_ ? h_ : "(null)");                                        \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b);                                                 \
        if (!(fabs(a_ - b_) <= (double)(tol)))                                                     \
            test_report(test_failures_, __FILE__, __LINE__, "%s ~= %s: %.17g vs %.17g (tol %g)",   \
                        #a, #b, a_, b_, (double)(tol));                                            \
    } while (0)

/* A temporary directory for this test (removed by the runner afterwards). */
const char *test_tmpdir(void);

#endif
