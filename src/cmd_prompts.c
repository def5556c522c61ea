/* `llmsweep prompts`: the prompts a run would send, one JSON object per
 * line, so their lengths, shared prefix and uniqueness can be checked
 * against the model's tokenizer before a benchmark (and by the tests). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "commands.h"
#include "hub.h"
#include "prompts.h"

static const struct cli_option options[] = {
    {"tokenizer", 't', "FILE",
     "tokenizer.json, tekken.json or a folder (none: lengths are "
     "approximate, ceil(bytes/4))",
     false},
    {"count", 'n', "N", "how many prompts (default 5)", false},
    {"first", 0, "I", "index of the first prompt (default 0)", false},
    {"prompt-tokens", 0, "MEAN[,STDEV[,MIN[,MAX]]]", "prompt length distribution (default 256)",
     false},
    {"output-tokens", 0, "MEAN[,STDEV[,MIN[,MAX]]]", "output length distribution (default 128)",
     false},
    {"shared-prefix", 0, "TOKENS", "tokens every prompt starts with (default 0)", false},
    {"seed", 0, "N", "seed of the generator (default 42)", false},
    {"dataset", 0, "FILE", "JSONL with \"prompt\" (and \"output_tokens\") per line instead", false},
    {0},
};

/* "MEAN[,STDEV[,MIN[,MAX]]]" */
static bool parse_dist(const char *text, struct token_dist *d)
{
    int v[4] = {0, 0, 0, 0};
    char *copy = xstrdup(text);
    int n = 0;
    bool ok = true;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && ok;
         tok = strtok_r(NULL, ",", &save)) {
        uint64_t x;
        ok = n < 4 && parse_uint(tok, 0, 100000000, &x);
        if (ok)
            v[n++] = (int)x;
    }
    free(copy);
    if (!ok || n == 0 || v[0] < 1)
        return false;
    *d = (struct token_dist){v[0], v[1], v[2], v[3]};
    return true;
}

static int run_prompts(const struct cli_args *args)
{
    struct spec spec = {0};
    spec.workload.prompt_tokens.mean = 256;
    spec.workload.output_tokens.mean = 128;
    spec.workload.seed = 42;
    uint64_t count = 5, first = 0, prefix = 0;
    if (!cli_uint(args, "count", 1, 10000000, &count) ||
        !cli_uint(args, "first", 0, UINT64_MAX / 2, &first) ||
        !cli_uint(args, "shared-prefix", 0, 10000000, &prefix) ||
        !cli_uint(args, "seed", 0, UINT64_MAX, &spec.workload.seed))
        return EXIT_USAGE;
    spec.workload.shared_prefix_tokens = (int)prefix;
    const char *pt = cli_get(args, "prompt-tokens"), *ot = cli_get(args, "output-tokens");
    if (pt && !parse_dist(pt, &spec.workload.prompt_tokens))
        return cli_usage_error(args->command,
                               "--prompt-tokens wants MEAN[,STDEV[,MIN[,MAX]]], "
                               "whole numbers, MEAN >= 1; got '%s'",
                               pt);
    if (ot && !parse_dist(ot, &spec.workload.output_tokens))
        return cli_usage_error(args->command,
                               "--output-tokens wants MEAN[,STDEV[,MIN[,MAX]]], "
                               "whole numbers, MEAN >= 1; got '%s'",
                               ot);
    spec.workload.dataset = (char *)cli_get(args, "dataset");

    struct buf err = {0};
    struct tokenizer *tok = NULL;
    const char *path = cli_get(args, "tokenizer");
    if (path) {
        char *file, *repo, *revision;
        hub_split_tokenizer_arg(path, &file, &repo, &revision);
        tok = hub_load_tokenizer(file, repo, revision, NULL, &err);
        free(file);
        free(repo);
        free(revision);
    }
    if (path && !tok) {
        cli_error("%s", err.data);
        buf_free(&err);
        return EXIT_USAGE;
    }
    int64_t t0 = now_ns();
    struct prompt_source *ps = prompt_source_new(&spec, tok, &err);
    if (!ps) {
        cli_error("%s", err.data);
        buf_free(&err);
        tokenizer_free(tok);
        return EXIT_USAGE;
    }
    cli_info("%s (ready in %.1f ms)", prompt_source_describe(ps),
             (double)(now_ns() - t0) / NS_PER_MS);
    struct tokenizer_session *s = tok ? tokenizer_session_new(tok) : NULL;
    struct prompt p = {0};
    int64_t make_ns = 0;
    for (uint64_t i = first; i < first + count; i++) {
        int64_t t1 = now_ns();
        prompt_make(ps, s, i, &p);
        make_ns += now_ns() - t1;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", (double)i);
        cJSON_AddNumberToObject(o, "prompt_tokens", p.prompt_tokens);
        cJSON_AddNumberToObject(o, "output_tokens", p.output_tokens);
        cJSON_AddBoolToObject(o, "exact", p.exact);
        cJSON_AddStringToObject(o, "text", p.text);
        char *line = cJSON_PrintUnformatted(o);
        puts(line);
        free(line);
        cJSON_Delete(o);
    }
    cli_info("made %llu prompts in %.2f ms (%.1f us each)", (unsigned long long)count,
             (double)make_ns / NS_PER_MS, (double)make_ns / NS_PER_US / (double)count);
    prompt_free(&p);
    tokenizer_session_free(s);
    prompt_source_free(ps);
    tokenizer_free(tok);
    buf_free(&err);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

const struct cli_command cmd_prompts = {
    .name = "prompts",
    .synopsis = "",
    .summary = "Print the prompts a run would send (JSON lines), to check lengths and prefixes.",
    .description = "Prompt i depends only on the seed and i. With --tokenizer every prompt has\n"
                   "exactly prompt_tokens tokens (encoded without special tokens); without one,\n"
                   "4 bytes count as a token. The first --shared-prefix tokens are the same in\n"
                   "every prompt; the words after them differ from request to request, so a\n"
                   "server's prefix cache only ever hits the shared prefix.",
    .options = options,
    .min_args = 0,
    .max_args = 0,
    .run = run_prompts,
};
