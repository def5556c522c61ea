/* `llmsweep specs [show NAME]` and `llmsweep validate FILE|NAME`: what the
 * binary carries, and what a spec resolves to before anything runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "embedded.h"
#include "prices.h"
#include "spec.h"

#define PRICE_TABLE_NAME "instance-prices"

static int list_specs(void)
{
    for (const struct embedded_file *f = embedded_specs; f->name; f++) {
        char *description = spec_peek_description(f->data, f->len);
        printf("%-24s %s\n", f->name, description ? description : "");
        free(description);
    }
    struct buf err = {0};
    struct price_table *t = price_table_embedded(&err);
    if (t) {
        printf("\n%-24s the instance price table: %u instance types, %s (as of %s)\n",
               PRICE_TABLE_NAME, t->instances_count, t->region, t->as_of);
        price_table_free(t);
    } else {
        cli_warn("%s", err.data);
    }
    buf_free(&err);
    printf("\n'llmsweep specs show NAME' prints one; 'llmsweep validate NAME' shows its plan.\n");
    return EXIT_OK;
}

static int show_spec(const struct cli_args *args, const char *name)
{
    if (strcmp(name, PRICE_TABLE_NAME) == 0 && embedded_price_table.len) {
        fwrite(embedded_price_table.data, 1, embedded_price_table.len, stdout);
        return EXIT_OK;
    }
    const char *names[64];
    size_t n = 0;
    for (const struct embedded_file *f = embedded_specs; f->name; f++) {
        if (strcmp(f->name, name) == 0) {
            fwrite(f->data, 1, f->len, stdout);
            return EXIT_OK;
        }
        if (n < ARRAY_LEN(names) - 2)
            names[n++] = f->name;
    }
    names[n++] = PRICE_TABLE_NAME;
    names[n] = NULL;
    const char *near = closest_match(name, names);
    return cli_usage_error(args->command,
                           "no embedded spec named '%s'%s%s%s ('llmsweep specs' "
                           "lists them)",
                           name, near ? " (did you mean '" : "", near ? near : "",
                           near ? "'?)" : "");
}

static int run_specs(const struct cli_args *args)
{
    if (args->npositional == 0)
        return list_specs();
    if (strcmp(args->positional[0], "show") != 0)
        return cli_usage_error(args->command,
                               "unknown subcommand '%s' (use 'specs' or 'specs "
                               "show NAME')",
                               args->positional[0]);
    if (args->npositional != 2)
        return cli_usage_error(args->command, "'specs show' needs one NAME");
    return show_spec(args, args->positional[1]);
}

const struct cli_command cmd_specs = {
    .name = "specs",
    .synopsis = "[show NAME]",
    .summary = "List the embedded run specs, or print one as YAML.",
    .description = "Without arguments: each embedded spec with its one-line description, and\n"
                   "the instance price table. 'show NAME' prints the spec's YAML as compiled\n"
                   "in (comments included); 'show instance-prices' prints the price table.\n"
                   "The format is described in specs/README.md.",
    .min_args = 0,
    .max_args = 2,
    .run = run_specs,
};

/* --- validate --------------------------------------------------------------- */

static const struct cli_option validate_options[] = {
    SPEC_CLI_OPTIONS,
    {0},
};

static int run_validate(const struct cli_args *args)
{
    const char *target = args->positional[0];
    struct spec_overrides overrides = {0};
    struct buf err = {0};
    int rc = EXIT_USAGE;
    if (!spec_overrides_from_args(&overrides, args, &err)) {
        cli_error("%s", err.data);
        goto done;
    }
    bool is_file = spec_arg_is_file(target);
    struct spec spec;
    rc = spec_load(is_file ? NULL : target, is_file ? target : NULL, overrides.items,
                   overrides.count, &spec, &err);
    if (rc != EXIT_OK) {
        cli_error("%s", err.data);
        goto done;
    }
    struct buf plan = {0};
    spec_render_plan(&spec, &plan);
    fputs(plan.data, stdout);
    buf_free(&plan);
    spec_free(&spec);
done:
    spec_overrides_free(&overrides);
    buf_free(&err);
    return rc;
}

const struct cli_command cmd_validate = {
    .name = "validate",
    .synopsis = "FILE|NAME",
    .summary = "Check a run spec and print the resolved plan (levels, time, price, sources).",
    .description = "Loads a spec file or an embedded spec exactly as 'run' would, with the same\n"
                   "overrides (later ones win), and prints every level with its duration, the\n"
                   "expected total time, the instance price used, and where each value came from\n"
                   "(default, spec, the price table, or an override). Nothing is sent anywhere.\n"
                   "An argument with a '/', ending in .yaml/.yml, or naming an existing file is\n"
                   "read as a file. Exit 0 if the spec is valid, 2 with one line naming file,\n"
                   "line, column and field if it is not.",
    .options = validate_options,
    .min_args = 1,
    .max_args = 1,
    .run = run_validate,
};
