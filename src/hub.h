/* hub.h: tokenizer files from the Hugging Face Hub, cached by revision.
 *
 *   struct hub_options o;
 *   if (!hub_options_from_env(&o, token_file, &err)) ...   // HF_* variables
 *   char *dir = hub_fetch_tokenizer(&o, "Qwen/Qwen3-8B", "main", out_dir, &err);
 *   tokenizer_load(dir, &err) ...
 *
 * Files: tokenizer.json, tokenizer_config.json and tekken.json, each when
 * the repo has it (at least tokenizer.json or tekken.json must exist).
 * URL: ENDPOINT/REPO/resolve/REVISION/FILE, redirects followed (libcurl
 * drops the Authorization header when a redirect leaves the host).
 *
 * Environment (huggingface_hub's names):
 *   HF_ENDPOINT     the Hub, default https://huggingface.co (a mirror, a test server)
 *   HF_TOKEN        access token for gated and private repos; else the token
 *                   file: --token-file, $HF_TOKEN_PATH, $HF_HOME/token or
 *                   ~/.cache/huggingface/token. Never printed or written.
 *   HF_HUB_OFFLINE  1/true/yes/on: no network, the cache only
 *
 * Cache: CACHE/hub/ORG--NAME/REVISION/ where CACHE is $LLMSWEEP_CACHE, else
 * $XDG_CACHE_HOME/llmsweep, else $HOME/.cache/llmsweep (a pod with a
 * read-only root sets LLMSWEEP_CACHE or passes --out). A revision that is a
 * full commit hash never changes, so a complete cached copy is used without
 * asking the Hub; a branch or tag is fetched again when online (the commit
 * it resolved to is kept in .commit), and the cached copy is used, with a
 * warning, when the Hub cannot be reached. Every file is written atomically
 * (temporary file, fsync, rename), in the cache and in --out.
 *
 * Errors say what to do: 401/403 name the repo as gated or private and how
 * to get access and pass a token; 404 names the repo (or the file and the
 * revision); offline mode without a cached copy names the folder it looked in.
 */
#ifndef LLMSWEEP_HUB_H
#define LLMSWEEP_HUB_H

#include <stdbool.h>

#include "http.h"
#include "util.h"

#define HUB_DEFAULT_ENDPOINT "https://huggingface.co"

struct hub_options {
    char *endpoint;  /* no trailing slash */
    char *token;     /* NULL: anonymous */
    char *cache_dir; /* CACHE/hub */
    bool offline;
    struct http_config http; /* timeouts; follow_redirects is forced on */
};

/* Fills o from the environment (and token_file, which wins over the
 * default token file locations but not over HF_TOKEN; may be NULL). */
bool hub_options_from_env(struct hub_options *o, const char *token_file, struct buf *err);
void hub_options_free(struct hub_options *o);

/* Downloads (or finds in the cache) the tokenizer files of repo at
 * revision (NULL: "main"); copies them into out_dir when it is not NULL.
 * Returns the folder that holds them (out_dir or the cache folder; free
 * it), or NULL with one line in err. Progress goes to stderr. */
char *hub_fetch_tokenizer(const struct hub_options *o, const char *repo, const char *revision,
                          const char *out_dir, struct buf *err);

/* True for "org/name" (letters, digits, '-', '_', '.'; no ".."). */
bool hub_repo_valid(const char *repo);

struct tokenizer;
/* The tokenizer a spec names (spec->tokenizer): `path` is loaded as it is;
 * else `repo` at `revision` is fetched through the cache (options from the
 * environment, as above) and loaded. Neither: NULL with err empty. On
 * failure NULL with one line in err. *source (if not NULL) gets a label
 * for results: the path, or "REPO@REVISION" (free it). */
struct tokenizer *hub_load_tokenizer(const char *path, const char *repo, const char *revision,
                                     char **source, struct buf *err);
/* For a --tokenizer FILE|REPO[@REV] option: an existing file or folder is a
 * path; else "org/name[@rev]" is a repo; anything else is a path (whose
 * load then fails with the file's name). Out strings are malloc'd or NULL. */
void hub_split_tokenizer_arg(const char *arg, char **path, char **repo, char **revision);

#endif
