/* llmsweep: benchmark OpenAI-compatible LLM endpoints, price the tokens,
 * publish the numbers. main() initialises the libraries once and hands
 * argv to the subcommand; everything else lives in the modules. */
#include <curl/curl.h>
#include <psa/crypto.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util.h"
#include "version.h"

static const struct cli_command *const commands[] = {
    &cmd_fetch, &cmd_fetch_tokenizer, &cmd_mock_server, &cmd_prompts, &cmd_publish,  &cmd_report,
    &cmd_run,   &cmd_specs,           &cmd_tokenize,    &cmd_trigger, &cmd_validate, &cmd_version,
    &cmd_wait,
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: llmsweep COMMAND [options] [arguments]\n\n"
                 "Benchmark OpenAI-compatible LLM endpoints: sweep load levels, measure\n"
                 "throughput, TTFT, ITL and latency, price every token, publish the result.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        fprintf(out, "  %-16s%s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\n'llmsweep COMMAND --help' describes a command and its options.\n"
                 "Exit codes: 0 success, 1 the work failed, 2 bad usage or input,\n"
                 "3 interrupted (partial results written), 4 wait timed out.\n");
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    }
    return NULL;
}

static int unknown_command(const char *name)
{
    const char *names[ARRAY_LEN(commands) + 1];
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        names[i] = commands[i]->name;
    names[ARRAY_LEN(commands)] = NULL;
    const char *near = closest_match(name, names);
    fprintf(stderr, "llmsweep: unknown command '%s'%s%s%s\n", name, near ? " (did you mean '" : "",
            near ? near : "", near ? "'?)" : "");
    fprintf(stderr, "Try 'llmsweep --help'.\n");
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2 && find_command(argv[2])) {
            cli_print_help(find_command(argv[2]), stdout);
            return EXIT_OK;
        }
        print_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0)
        name = "version";
    const struct cli_command *cmd = find_command(name);
    if (!cmd)
        return unknown_command(name);

    struct cli_args args;
    int rc = cli_parse(cmd, argc - 1, argv + 1, &args);
    if (rc < 0) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || psa_crypto_init() != PSA_SUCCESS) {
            cli_error("cannot initialise libcurl and mbedTLS");
            rc = EXIT_FAILED;
        } else {
            rc = cmd->run(&args);
            curl_global_cleanup();
        }
    }
    cli_args_free(&args);
    return rc;
}
