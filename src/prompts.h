/* prompts.h: the prompts a benchmark sends, with exact token lengths.
 *
 *   struct prompt_source *ps = prompt_source_new(spec, tok, &err);  // once, before the run
 *   struct prompt p = {0};
 *   prompt_make(ps, session, request_index, &p);   // per request, any thread
 *   ... send p.text (p.len bytes), max_tokens = p.output_tokens ...
 *   prompt_free(&p); prompt_source_free(ps);
 *
 * Synthetic prompts (spec->workload without a dataset):
 *   - prompt i is a function of (workload.seed, i) only: any thread, any
 *     order, the same text; its length N is drawn from workload.prompt_tokens
 *     (normal with mean/stdev, rounded, clamped to [max(min,1), max]) and
 *     its output length from workload.output_tokens the same way;
 *   - with a tokenizer it has exactly N tokens for that tokenizer (encode
 *     without special tokens; a chat template adds its own on the server);
 *   - the text is [shared prefix][unique lead][filler]: the first
 *     shared_prefix_tokens tokens are the same for every request (a prompt
 *     shorter than that is the prefix cut at a word boundary, then filled
 *     up to its length with other words); then 4 words that
 *     encode a scrambled i, so no two requests share more than the prefix
 *     by accident (the first lead word already differs with probability
 *     1 - 1/K, K ~ 500); then seeded filler;
 *   - words: the words of the Unicode character names (unicode.h, generated
 *     at build time from the UCD), " arrow black circle ...": no copied prose.
 *
 * Cost: prompt_source_new counts every word once (a few ms) and checks on
 * 2000 seeded samples that token counts add up across word boundaries
 * (true for byte-level tokenizers whose regex splits " word" pieces, such
 * as GPT-2, Llama 3, Qwen and Tekken; usually for SentencePiece ones). If
 * they do, prompt_make is memcpy of the words, no tokenizer call. If not,
 * prompt_make encodes the prompt and corrects it (a few passes, about one
 * encode of the prompt each); `exact` stays true. Either way nothing locks.
 *
 * Without a tokenizer (tok == NULL) lengths are approximate: a prompt of N
 * "tokens" has exactly 4*N bytes, i.e. ceil(bytes / 4) = N, the rule the
 * built-in mock server counts with; `exact` is false and results must say
 * the lengths are approximate.
 *
 * Dataset (workload.dataset, JSONL): one object per line with "prompt"
 * (string) and optionally "output_tokens" (integer); other keys are
 * ignored. Request i gets line i mod n, unchanged (no prefix, no lead);
 * its prompt_tokens are counted once at load (exact with a tokenizer, else
 * approximate as above); output_tokens comes from the line, else is drawn.
 */
#ifndef LLMSWEEP_PROMPTS_H
#define LLMSWEEP_PROMPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"
#include "tokenizer.h"
#include "util.h"

struct prompt_source;

struct prompt {
    char *text; /* NUL-terminated, owned; reused by the next prompt_make */
    size_t len;
    size_t cap;
    int prompt_tokens; /* exact when `exact`, else ceil(len / 4) */
    int output_tokens; /* the max_tokens to ask for */
    bool exact;
};

/* Builds the source for spec->workload. tok may be NULL (approximate
 * lengths). Reads the dataset if there is one. On failure returns NULL
 * with one line in err (e.g. "dataset.jsonl line 3: no \"prompt\" string"). */
struct prompt_source *prompt_source_new(const struct spec *spec, const struct tokenizer *tok,
                                        struct buf *err);
void prompt_source_free(struct prompt_source *ps);

/* Prompt number `index` into out. session: a session of the source's
 * tokenizer owned by the calling thread (NULL when there is no tokenizer).
 * Safe from many threads at once with different sessions and prompts. */
void prompt_make(const struct prompt_source *ps, struct tokenizer_session *session, uint64_t index,
                 struct prompt *out);
void prompt_free(struct prompt *p);

/* Lengths are counted with the model's tokenizer (not approximated). */
bool prompt_source_exact(const struct prompt_source *ps);
/* One line for logs and results: "synthetic, exact token counts (...)". */
const char *prompt_source_describe(const struct prompt_source *ps);

/* The token count of a token_dist draw for request `index` in `stream`
 * (0: prompt, 1: output): deterministic under seed. Exposed for tests. */
int prompt_draw_tokens(const struct token_dist *d, uint64_t seed, uint64_t index, int stream);

#endif
