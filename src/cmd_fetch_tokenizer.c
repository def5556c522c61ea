/* `llmsweep fetch-tokenizer REPO`: the tokenizer files of a Hugging Face
 * model repo, into the cache (and --out), ready for --tokenizer. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "hub.h"
#include "tokenizer.h"

static const struct cli_option options[] = {
    {"revision", 'r', "REV", "branch, tag or commit (default main)", false},
    {"out", 'o', "DIR", "also write the files into DIR (created if missing)", false},
    {"token-file", 0, "FILE", "read the access token from FILE (HF_TOKEN wins)", false},
    {"offline", 0, NULL, "use only the cache, like HF_HUB_OFFLINE=1", false},
    {"no-check", 0, NULL, "do not load the fetched tokenizer to check it", false},
    {0},
};

static int run_fetch_tokenizer(const struct cli_args *args)
{
    const char *repo = args->positional[0];
    if (!hub_repo_valid(repo))
        return cli_usage_error(args->command, "'%s' is not a Hub repository name (ORG/NAME)", repo);
    struct buf err = {0};
    struct hub_options o;
    if (!hub_options_from_env(&o, cli_get(args, "token-file"), &err)) {
        cli_error("%s", err.data);
        hub_options_free(&o);
        buf_free(&err);
        return EXIT_USAGE;
    }
    if (cli_flag(args, "offline"))
        o.offline = true;
    int rc = EXIT_OK;
    char *dir =
        hub_fetch_tokenizer(&o, repo, cli_get(args, "revision"), cli_get(args, "out"), &err);
    if (!dir) {
        cli_error("%s", err.data);
        rc = EXIT_FAILED;
    } else if (!cli_flag(args, "no-check")) {
        struct tokenizer *tok = tokenizer_load(dir, &err);
        if (!tok) {
            cli_error("fetched, but cannot use it: %s", err.data);
            rc = EXIT_FAILED;
        } else {
            cli_info("%s", tokenizer_describe(tok));
            tokenizer_free(tok);
        }
    }
    if (dir && rc == EXIT_OK)
        printf("%s\n", dir);
    free(dir);
    hub_options_free(&o);
    buf_free(&err);
    return rc;
}

const struct cli_command cmd_fetch_tokenizer = {
    .name = "fetch-tokenizer",
    .synopsis = "REPO",
    .summary = "Download a model's tokenizer.json (and tekken.json) from the Hugging Face Hub.",
    .description =
        "Fetches tokenizer.json, tokenizer_config.json and tekken.json (those the repo has)\n"
        "at --revision, caches them under $LLMSWEEP_CACHE/hub (default\n"
        "~/.cache/llmsweep/hub), copies them to --out, checks that they load, and prints\n"
        "the folder to pass to --tokenizer.\n"
        "Environment: HF_TOKEN (or a token file: --token-file, $HF_TOKEN_PATH,\n"
        "$HF_HOME/token, ~/.cache/huggingface/token) for gated and private repos;\n"
        "HF_ENDPOINT for a mirror; HF_HUB_OFFLINE=1 for the cache only.",
    .options = options,
    .min_args = 1,
    .max_args = 1,
    .run = run_fetch_tokenizer,
};
