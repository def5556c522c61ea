/* cli.h: subcommands, their options, --help text, messages, exit codes.
 *
 * Each subcommand is one `struct cli_command`: its name, synopsis, option
 * table and the function that runs it. `cli_parse` turns argv into a
 * `struct cli_args` or prints a usage error; the help text is rendered from
 * the same table, so the two can never disagree.
 *
 * Options are long (`--name VALUE` or `--name=VALUE`), optionally with a
 * one-letter alias (`-o VALUE`); `--` ends the options; `-h`/`--help` works
 * everywhere.
 */
#ifndef LLMSWEEP_CLI_H
#define LLMSWEEP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The exit codes users, scripts and Tekton rely on (DESIGN.md section 4). */
enum exit_code {
    EXIT_OK = 0,
    EXIT_FAILED = 1,      /* the work failed: endpoint down, publish refused */
    EXIT_USAGE = 2,       /* bad usage or invalid input */
    EXIT_INTERRUPTED = 3, /* interrupted; partial results written */
    EXIT_TIMEOUT = 4,     /* `wait` timed out */
};

struct cli_option {
    const char *name;  /* long name without "--" */
    char alias;        /* one-letter alias, or 0 */
    const char *value; /* what the value is called ("FILE"); NULL: a flag */
    const char *help;
    bool repeatable; /* may be given more than once (--header, --set) */
};

struct cli_args;

struct cli_command {
    const char *name;                 /* "fetch" */
    const char *synopsis;             /* positional part of the usage line: "URL" */
    const char *summary;              /* one line, for `llmsweep --help` */
    const char *description;          /* shown by --help under the usage line */
    const struct cli_option *options; /* ends with an all-zero entry */
    int min_args, max_args;           /* positional arguments; max_args < 0: any */
    int (*run)(const struct cli_args *args);
};

struct cli_args {
    const struct cli_command *command;
    size_t count; /* options given, in order */
    const struct cli_option **option;
    const char **value; /* NULL for flags */
    size_t npositional;
    const char **positional;
};

/* Parses argv (argv[0] is the subcommand's name). Returns -1 when the
 * command should run; otherwise the exit code to end with: EXIT_OK after
 * --help was printed, EXIT_USAGE after a usage error was printed. */
int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *out);
void cli_args_free(struct cli_args *args);

/* The last value given for `name`, or NULL. `name` must be in the table. */
const char *cli_get(const struct cli_args *args, const char *name);
bool cli_flag(const struct cli_args *args, const char *name);
/* Every value given for a repeatable option, in order; returns the count. */
size_t cli_get_all(const struct cli_args *args, const char *name, const char **out, size_t max);

/* Typed getters. Absent: *out stays as it is and they return true.
 * Invalid: they print a usage error naming the option and return false. */
bool cli_duration(const struct cli_args *args, const char *name, double *seconds);
bool cli_uint(const struct cli_args *args, const char *name, uint64_t min, uint64_t max,
              uint64_t *out);
bool cli_double(const struct cli_args *args, const char *name, double *out);

void cli_print_help(const struct cli_command *cmd, FILE *out);
/* Prints "llmsweep CMD: MESSAGE" and a pointer to --help; returns EXIT_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One-line messages on stderr, prefixed "llmsweep: error: " etc. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
