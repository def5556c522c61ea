#include "cli.h"

#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const struct cli_option help_option = {"help", 'h', NULL, "show this help and exit", false};

static const struct cli_option *find_long(const struct cli_command *cmd, const char *name,
                                          size_t len)
{
    for (const struct cli_option *o = cmd->options; o && o->name; o++) {
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    }
    if (len == 4 && strncmp(name, "help", 4) == 0)
        return &help_option;
    return NULL;
}

static const struct cli_option *find_alias(const struct cli_command *cmd, char alias)
{
    for (const struct cli_option *o = cmd->options; o && o->name; o++) {
        if (o->alias && o->alias == alias)
            return o;
    }
    return alias == 'h' ? &help_option : NULL;
}

static int unknown_option(const struct cli_command *cmd, const char *arg, size_t len)
{
    const char *names[64];
    size_t n = 0;
    for (const struct cli_option *o = cmd->options; o && o->name && n + 1 < ARRAY_LEN(names); o++)
        names[n++] = o->name;
    names[n] = NULL;
    char *word = xstrndup(arg, len);
    const char *near = closest_match(word, names);
    int rc;
    if (near)
        rc = cli_usage_error(cmd, "unknown option '--%s' (did you mean '--%s'?)", word, near);
    else
        rc = cli_usage_error(cmd, "unknown option '--%s'", word);
    free(word);
    return rc;
}

static void add_option(struct cli_args *out, const struct cli_option *opt, const char *value)
{
    out->option[out->count] = opt;
    out->value[out->count] = value;
    out->count++;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *out)
{
    size_t cap = argc > 0 ? (size_t)argc : 1;
    *out = (struct cli_args){
        .command = cmd,
        .option = xcalloc(cap, sizeof *out->option),
        .value = xcalloc(cap, sizeof *out->value),
        .positional = xcalloc(cap, sizeof *out->positional),
    };
    bool only_positional = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || arg[1] == '\0') {
            out->positional[out->npositional++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        const struct cli_option *opt;
        const char *inline_value = NULL;
        if (arg[1] == '-') {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            opt = find_long(cmd, name, len);
            if (!opt)
                return unknown_option(cmd, name, len);
            if (eq)
                inline_value = eq + 1;
        } else {
            opt = arg[2] == '\0' ? find_alias(cmd, arg[1]) : NULL;
            if (!opt)
                return cli_usage_error(cmd, "unknown option '%s'", arg);
        }
        if (opt == &help_option) {
            cli_print_help(cmd, stdout);
            return EXIT_OK;
        }
        if (!opt->value) {
            if (inline_value)
                return cli_usage_error(cmd, "option '--%s' takes no value", opt->name);
            add_option(out, opt, NULL);
            continue;
        }
        const char *value = inline_value;
        if (!value) {
            if (i + 1 >= argc)
                return cli_usage_error(cmd, "option '--%s' needs a value (%s)", opt->name,
                                       opt->value);
            value = argv[++i];
        }
        if (!opt->repeatable) {
            for (size_t k = 0; k < out->count; k++) {
                if (out->option[k] == opt)
                    return cli_usage_error(cmd, "option '--%s' given twice", opt->name);
            }
        }
        add_option(out, opt, value);
    }
    int n = (int)out->npositional;
    if (n < cmd->min_args) {
        return cli_usage_error(cmd, "missing argument%s: %s", cmd->min_args - n > 1 ? "s" : "",
                               cmd->synopsis ? cmd->synopsis : "");
    }
    if (cmd->max_args >= 0 && n > cmd->max_args) {
        const char *extra = out->positional[cmd->max_args];
        return cli_usage_error(cmd, "unexpected argument '%s'", extra);
    }
    return -1;
}

void cli_args_free(struct cli_args *args)
{
    free(args->option);
    free(args->value);
    free(args->positional);
    *args = (struct cli_args){0};
}

static const struct cli_option *lookup(const struct cli_args *args, const char *name)
{
    const struct cli_option *opt = find_long(args->command, name, strlen(name));
    /* Asking for an option the command does not declare is a programming
     * error, never a user error. */
    assert(opt && "option not in the command's table");
    return opt;
}

const char *cli_get(const struct cli_args *args, const char *name)
{
    const struct cli_option *opt = lookup(args, name);
    const char *found = NULL;
    for (size_t i = 0; i < args->count; i++) {
        if (args->option[i] == opt)
            found = args->value[i];
    }
    return found;
}

bool cli_flag(const struct cli_args *args, const char *name)
{
    const struct cli_option *opt = lookup(args, name);
    for (size_t i = 0; i < args->count; i++) {
        if (args->option[i] == opt)
            return true;
    }
    return false;
}

size_t cli_get_all(const struct cli_args *args, const char *name, const char **out, size_t max)
{
    const struct cli_option *opt = lookup(args, name);
    size_t n = 0;
    for (size_t i = 0; i < args->count; i++) {
        if (args->option[i] == opt) {
            if (n < max)
                out[n] = args->value[i];
            n++;
        }
    }
    return n;
}

bool cli_duration(const struct cli_args *args, const char *name, double *seconds)
{
    const char *text = cli_get(args, name);
    if (!text)
        return true;
    if (parse_duration(text, seconds))
        return true;
    cli_usage_error(args->command,
                    "invalid duration '%s' for --%s (use seconds or a unit: 250ms, 30s, 2m, 1h)",
                    text, name);
    return false;
}

bool cli_uint(const struct cli_args *args, const char *name, uint64_t min, uint64_t max,
              uint64_t *out)
{
    const char *text = cli_get(args, name);
    if (!text)
        return true;
    if (parse_uint(text, min, max, out))
        return true;
    cli_usage_error(args->command, "invalid value '%s' for --%s (a whole number from %llu to %llu)",
                    text, name, (unsigned long long)min, (unsigned long long)max);
    return false;
}

bool cli_double(const struct cli_args *args, const char *name, double *out)
{
    const char *text = cli_get(args, name);
    if (!text)
        return true;
    if (parse_double(text, out))
        return true;
    cli_usage_error(args->command, "invalid number '%s' for --%s", text, name);
    return false;
}

static void print_option(FILE *out, const struct cli_option *o)
{
    char left[96];
    char alias[8] = "    ";
    if (o->alias)
        snprintf(alias, sizeof alias, "-%c, ", o->alias);
    snprintf(left, sizeof left, "%s--%s%s%s", alias, o->name, o->value ? " " : "",
             o->value ? o->value : "");
    const char *more = o->repeatable ? " (repeatable)" : "";
    if (strlen(left) >= 28)
        fprintf(out, "  %s\n  %28s%s%s\n", left, "", o->help, more);
    else
        fprintf(out, "  %-28s%s%s\n", left, o->help, more);
}

void cli_print_help(const struct cli_command *cmd, FILE *out)
{
    fprintf(out, "usage: llmsweep %s%s%s%s\n", cmd->name, cmd->options ? " [options]" : "",
            cmd->synopsis ? " " : "", cmd->synopsis ? cmd->synopsis : "");
    fprintf(out, "\n%s\n", cmd->summary);
    if (cmd->description)
        fprintf(out, "\n%s\n", cmd->description);
    fprintf(out, "\noptions:\n");
    for (const struct cli_option *o = cmd->options; o && o->name; o++)
        print_option(out, o);
    print_option(out, &help_option);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "llmsweep %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'llmsweep %s --help'.\n", cmd->name);
    va_end(ap);
    return EXIT_USAGE;
}

static void __attribute__((format(printf, 2, 0)))
message(const char *kind, const char *fmt, va_list ap)
{
    struct buf line = {0};
    buf_printf(&line, "llmsweep: %s", kind);
    buf_vprintf(&line, fmt, ap);
    buf_putc(&line, '\n');
    /* One write, so lines from several threads never interleave. */
    fwrite(line.data, 1, line.len, stderr);
    buf_free(&line);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    message("error: ", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    message("warning: ", fmt, ap);
    va_end(ap);
}

void cli_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    message("", fmt, ap);
    va_end(ap);
}
