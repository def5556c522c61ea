/* `llmsweep tokenize`: token ids of a text (or the text of ids), with the
 * same tokenizer the benchmark uses for prompt lengths and token counts. */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hub.h"
#include "tokenizer.h"

static const struct cli_option options[] = {
    {"tokenizer", 't', "FILE|REPO[@REV]",
     "tokenizer.json, tekken.json, a folder holding one, or a Hub repo (required)", false},
    {"text", 0, "TEXT", "the text to encode (or, with --decode, a JSON array of ids)", false},
    {"file", 'f', "FILE", "read the text (or the ids) from FILE; '-' is standard input", false},
    {"decode", 'd', NULL, "decode a JSON array of ids to text instead", false},
    {"add-special", 0, NULL,
     "add the post-processor's special tokens (BOS/EOS), like "
     "add_special_tokens=True",
     false},
    {"skip-special", 0, NULL, "with --decode: leave special tokens out", false},
    {"count", 'c', NULL, "print only the number of tokens", false},
    {"lines", 0, NULL,
     "the input holds one JSON string per line; print one array per line "
     "(many texts, one load)",
     false},
    {"verbose", 'v', NULL, "describe the tokenizer and the load time on standard error", false},
    {0},
};

static bool read_input(const char *path, struct buf *out)
{
    if (strcmp(path, "-") == 0)
        return read_file("/dev/stdin", out);
    return read_file(path, out);
}

/* Parses "[1, 2, 3]" into ids; false on anything else. */
static bool parse_ids(const char *text, struct token_ids *ids)
{
    const char *p = text;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    if (*p++ != '[')
        return false;
    for (;;) {
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
            p++;
        if (*p == ']' && ids->len == 0) {
            p++;
            break;
        }
        if (*p < '0' || *p > '9')
            return false;
        char *end;
        errno = 0;
        unsigned long v = strtoul(p, &end, 10);
        if (errno || v > UINT32_MAX)
            return false;
        token_ids_push(ids, (uint32_t)v);
        p = end;
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
            p++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p++ != ']')
            return false;
        break;
    }
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return *p == '\0';
}

static void print_ids(const struct token_ids *ids, bool count_only, struct buf *out)
{
    if (count_only) {
        buf_printf(out, "%zu\n", ids->len);
        return;
    }
    buf_putc(out, '[');
    for (size_t i = 0; i < ids->len; i++)
        buf_printf(out, i ? ", %u" : "%u", ids->v[i]);
    buf_puts(out, "]\n");
}

/* --lines: every line a JSON string; one result line each. */
static int encode_lines(struct tokenizer_session *s, const char *input, size_t input_len,
                        unsigned flags, bool count_only, bool verbose)
{
    struct buf out = {0};
    int64_t busy_ns = 0;
    size_t text_bytes = 0, tokens = 0;
    struct token_ids ids = {0};
    int rc = EXIT_OK;
    size_t lineno = 0;
    const char *end = input + input_len;
    for (const char *p = input; p < end;) {
        /* memchr, not strchr: this libc's strchr measures the whole rest first. */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        cJSON *v = cJSON_ParseWithLength(p, len);
        if (!cJSON_IsString(v)) {
            cli_error("--lines: line %zu is not a JSON string", lineno);
            cJSON_Delete(v);
            rc = EXIT_USAGE;
            break;
        }
        ids.len = 0;
        size_t vlen = strlen(v->valuestring);
        int64_t t0 = now_ns();
        tokenizer_encode(s, v->valuestring, vlen, flags, &ids);
        busy_ns += now_ns() - t0;
        text_bytes += vlen;
        tokens += ids.len;
        cJSON_Delete(v);
        print_ids(&ids, count_only, &out);
        p += len + (nl ? 1 : 0);
    }
    if (rc == EXIT_OK)
        fwrite(out.data ? out.data : "", 1, out.len, stdout);
    if (rc == EXIT_OK && verbose) {
        double secs = (double)busy_ns / NS_PER_SEC;
        cli_info("encoded %zu texts, %zu bytes into %zu tokens in %.1f ms (%.1f MB/s)", lineno,
                 text_bytes, tokens, secs * 1e3, secs > 0 ? (double)text_bytes / secs / 1e6 : 0.0);
    }
    buf_free(&out);
    token_ids_free(&ids);
    return rc;
}

static int run_tokenize(const struct cli_args *args)
{
    const char *path = cli_get(args, "tokenizer");
    const char *text = cli_get(args, "text");
    const char *file = cli_get(args, "file");
    if (!path)
        return cli_usage_error(args->command, "--tokenizer FILE is required");
    if (!text == !file)
        return cli_usage_error(args->command, "give exactly one of --text and --file");

    struct buf input = {0}, err = {0};
    if (file && !read_input(file, &input)) {
        cli_error("cannot read %s: %s", file, strerror(errno));
        return EXIT_USAGE;
    }
    if (text)
        buf_puts(&input, text);

    int64_t t0 = now_ns();
    char *tok_path, *repo, *revision;
    hub_split_tokenizer_arg(path, &tok_path, &repo, &revision);
    struct tokenizer *tok = hub_load_tokenizer(tok_path, repo, revision, NULL, &err);
    free(tok_path);
    free(repo);
    free(revision);
    if (!tok) {
        cli_error("%s", err.data);
        buf_free(&err);
        buf_free(&input);
        return EXIT_USAGE;
    }
    if (cli_flag(args, "verbose"))
        cli_info("%s (loaded in %.1f ms)", tokenizer_describe(tok),
                 (double)(now_ns() - t0) / NS_PER_MS);

    int rc = EXIT_OK;
    struct token_ids ids = {0};
    if (cli_flag(args, "decode")) {
        struct buf out = {0};
        if (!parse_ids(input.data ? input.data : "", &ids)) {
            cli_error("--decode needs a JSON array of token ids, like [128000, 9906]");
            rc = EXIT_USAGE;
        } else if (!tokenizer_decode(tok, ids.v, ids.len,
                                     cli_flag(args, "skip-special") ? TOKENIZER_SKIP_SPECIAL : 0,
                                     &out, &err)) {
            cli_error("%s", err.data);
            rc = EXIT_USAGE;
        } else {
            fwrite(out.data ? out.data : "", 1, out.len, stdout);
        }
        buf_free(&out);
    } else {
        unsigned flags = cli_flag(args, "add-special") ? TOKENIZER_ADD_SPECIAL : 0;
        struct tokenizer_session *s = tokenizer_session_new(tok);
        if (cli_flag(args, "lines")) {
            rc = encode_lines(s, input.data ? input.data : "", input.len, flags,
                              cli_flag(args, "count"), cli_flag(args, "verbose"));
        } else {
            struct buf out = {0};
            int64_t t1 = now_ns();
            tokenizer_encode(s, input.data ? input.data : "", input.len, flags, &ids);
            double secs = (double)(now_ns() - t1) / NS_PER_SEC;
            if (cli_flag(args, "verbose"))
                cli_info("encoded %zu bytes into %zu tokens in %.1f ms (%.1f MB/s)", input.len,
                         ids.len, secs * 1e3, secs > 0 ? (double)input.len / secs / 1e6 : 0.0);
            print_ids(&ids, cli_flag(args, "count"), &out);
            fwrite(out.data, 1, out.len, stdout);
            buf_free(&out);
        }
        tokenizer_session_free(s);
    }
    if (fflush(stdout) != 0) {
        cli_error("cannot write to standard output: %s", strerror(errno));
        rc = EXIT_FAILED;
    }
    token_ids_free(&ids);
    tokenizer_free(tok);
    buf_free(&input);
    buf_free(&err);
    return rc;
}

const struct cli_command cmd_tokenize = {
    .name = "tokenize",
    .synopsis = "",
    .summary = "Print the token ids of a text (or decode ids) with a tokenizer.json.",
    .description =
        "Encodes the text exactly as Hugging Face `tokenizers` does (the same ids) and\n"
        "prints them as one JSON array. Special tokens written in the text (such as\n"
        "<|begin_of_text|>) are recognised; --add-special also adds the post-processor's\n"
        "tokens. Invalid UTF-8 is replaced by U+FFFD first. With --decode, the input is a\n"
        "JSON array of ids and the output is the text.",
    .options = options,
    .min_args = 0,
    .max_args = 0,
    .run = run_tokenize,
};
