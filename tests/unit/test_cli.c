#include <stdlib.h>

#include "cli.h"
#include "harness.h"

static const struct cli_option opts[] = {
    {"output-dir", 'o', "DIR", "where results go", false},
    {"set", 0, "KEY=VALUE", "override a field", true},
    {"duration", 0, "DURATION", "per level", false},
    {"workers", 0, "N", "threads", false},
    {"dry-run", 0, NULL, "print only", false},
    {0},
};

static int run_nothing(const struct cli_args *args)
{
    (void)args;
    return 0;
}

static const struct cli_command cmd = {
    .name = "demo",
    .synopsis = "[NAME]",
    .summary = "a test command",
    .options = opts,
    .min_args = 0,
    .max_args = 1,
    .run = run_nothing,
};

static int parse(struct cli_args *a, int argc, const char **argv)
{
    return cli_parse(&cmd, argc, (char **)argv, a);
}

TEST(cli_parses_long_short_inline_and_repeated)
{
    const char *argv[] = {"demo",  "mistral",   "--output-dir", "out", "--set",
                          "a.b=1", "--set=c=2", "-o",           "x",   "--dry-run"};
    struct cli_args a;
    /* -o twice is an error for a non-repeatable option. */
    CHECK_EQ_INT(parse(&a, 10, argv), EXIT_USAGE);
    cli_args_free(&a);

    const char *argv2[] = {"demo",  "mistral",   "--output-dir=out", "--set",
                           "a.b=1", "--set=c=2", "--dry-run"};
    CHECK_EQ_INT(parse(&a, 7, argv2), -1);
    CHECK_EQ_STR(cli_get(&a, "output-dir"), "out");
    CHECK(cli_flag(&a, "dry-run"));
    CHECK(!cli_get(&a, "duration"));
    const char *sets[4];
    CHECK_EQ_INT(cli_get_all(&a, "set", sets, 4), 2);
    CHECK_EQ_STR(sets[0], "a.b=1");
    CHECK_EQ_STR(sets[1], "c=2");
    CHECK_EQ_INT(a.npositional, 1);
    CHECK_EQ_STR(a.positional[0], "mistral");
    cli_args_free(&a);
}

TEST(cli_rejects_unknown_missing_and_extra)
{
    struct cli_args a;
    const char *unknown[] = {"demo", "--output-dri", "x"};
    CHECK_EQ_INT(parse(&a, 3, unknown), EXIT_USAGE);
    cli_args_free(&a);
    const char *missing[] = {"demo", "--duration"};
    CHECK_EQ_INT(parse(&a, 2, missing), EXIT_USAGE);
    cli_args_free(&a);
    const char *extra[] = {"demo", "a", "b"};
    CHECK_EQ_INT(parse(&a, 3, extra), EXIT_USAGE);
    cli_args_free(&a);
    const char *flag_value[] = {"demo", "--dry-run=yes"};
    CHECK_EQ_INT(parse(&a, 2, flag_value), EXIT_USAGE);
    cli_args_free(&a);
    const char *dashdash[] = {"demo", "--", "--not-an-option"};
    CHECK_EQ_INT(parse(&a, 3, dashdash), -1);
    CHECK_EQ_STR(a.positional[0], "--not-an-option");
    cli_args_free(&a);
}

TEST(cli_typed_getters)
{
    struct cli_args a;
    const char *argv[] = {"demo", "--duration", "2m", "--workers", "4"};
    CHECK_EQ_INT(parse(&a, 5, argv), -1);
    double d = 0;
    uint64_t w = 1;
    CHECK(cli_duration(&a, "duration", &d));
    CHECK_NEAR(d, 120, 0);
    CHECK(cli_uint(&a, "workers", 1, 64, &w));
    CHECK_EQ_INT(w, 4);
    CHECK(!cli_uint(&a, "workers", 1, 2, &w));
    cli_args_free(&a);

    const char *bad[] = {"demo", "--duration", "soon"};
    CHECK_EQ_INT(parse(&a, 3, bad), -1);
    CHECK(!cli_duration(&a, "duration", &d));
    cli_args_free(&a);
}

TEST(cli_help_exits_zero)
{
    struct cli_args a;
    const char *argv[] = {"demo", "--help"};
    CHECK_EQ_INT(parse(&a, 2, argv), EXIT_OK);
    cli_args_free(&a);
}
