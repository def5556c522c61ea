// clang-format off
/* pretok_regex.h: the regular expressions of tokenizer pre-tokenizers.
 *
 * Hugging Face `tokenizers` splits text with Oniguruma regexes such as
 * Llama-3's
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * This is a small backtracking matcher for the subset of the syntax those
 * patterns use, with Oniguruma's semantics (leftmost-first alternation,
 * greedy quantifiers, Unicode classes from the generated tables):
 *
 *   a|b  (...)  (?:...)  (?i:...)  (?!...)  (?=...)
 *   x?  x*  x+  x{n}  x{n,}  x{n,m}      on single characters and classes;
 *   (...)?                               on groups
 *   [...]  [^...]  ranges  .  \s \S \d \D \w \W  \p{L} \P{L} \pL (general
 *   categories: L Lu Ll Lt Lm Lo M Mn Mc Me N Nd Nl No P.. S.. Z.. C..)
 *   \r \n \t \f \v \e \0 \xHH \x{H..} \uHHHH and escaped punctuation
 *
 * Anything else (anchors, back-references, lazy or possessive quantifiers,
 * repeated groups, named properties other than categories) is refused at
 * compile time with a message naming the construct, never approximated.
 *
 * A compiled regex is immutable: share it between threads. Matching uses
 * the C stack only (recursion depth bounded by the pattern, not the text).
 * The text must be valid UTF-8.
 */
// clang-format on
#ifndef LLMSWEEP_PRETOK_REGEX_H
#define LLMSWEEP_PRETOK_REGEX_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct pretok_regex;

/* Compiles `pattern` (len bytes). On failure returns NULL and writes one
 * line to err naming the unsupported construct and its offset. */
struct pretok_regex *pretok_regex_compile(const char *pattern, size_t len, struct buf *err);
void pretok_regex_free(struct pretok_regex *rx);

/* Finds the leftmost match in text[from..len). Returns false if there is
 * none; else sets [*start, *end). Empty matches are skipped over, as
 * Oniguruma's find_iter does when it advances past them. */
bool pretok_regex_find(const struct pretok_regex *rx, const char *text, size_t len, size_t from,
                       size_t *start, size_t *end);

#endif
