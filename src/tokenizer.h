/* tokenizer.h: Hugging Face tokenizer.json (and Mistral tekken.json) in C,
 * with the same token ids as Hugging Face `tokenizers`.
 *
 *   struct buf err = {0};
 *   struct tokenizer *tok = tokenizer_load("models/llama3", &err);   // file or folder
 *   struct tokenizer_session *s = tokenizer_session_new(tok);        // one per thread
 *   struct token_ids ids = {0};
 *   tokenizer_encode(s, text, len, TOKENIZER_ADD_SPECIAL, &ids);     // ids.v[0..ids.len)
 *   size_t n = tokenizer_count(s, text, len);                        // no special tokens
 *   tokenizer_decode(tok, ids.v, ids.len, 0, &out, &err);
 *
 * Supported (anything else in the file is a load error naming it, never a
 * silent approximation):
 *   model          BPE (merges as "a b" strings or ["a","b"] pairs; byte_fallback,
 *                  unk_token, fuse_unk, ignore_merges; no dropout or subword
 *                  prefix/suffix)
 *   tekken.json    Mistral's native format (mistral-common): tiktoken ranks and
 *                  its split pattern; ids are ranks shifted past the special
 *                  tokens; special token text in the input is plain text (as
 *                  mistral-common encodes it); TOKENIZER_ADD_SPECIAL adds <s>
 *   added_tokens   special or not, normalized or not, lstrip/rstrip/single_word;
 *                  matched in the text first (leftmost, longest), as HF does
 *   normalizer     NFC NFD NFKC NFKD Prepend Replace(String) Sequence
 *   pre_tokenizer  Split(Regex|String, any behavior, invert=false) ByteLevel
 *                  Metaspace Digits Sequence; regexes by pretok_regex.h
 *   post_processor TemplateProcessing (single) ByteLevel RobertaProcessing
 *                  BertProcessing Sequence
 *   decoder        ByteLevel Metaspace ByteFallback Fuse Strip Replace(String)
 *                  Sequence
 * `truncation` and `padding` are ignored: they are batch settings that
 * transformers turns off for single encodes too.
 *
 * Text: UTF-8. Invalid UTF-8 is first replaced by U+FFFD, one per maximal
 * invalid subpart (what Python's bytes.decode("utf-8", "replace") gives),
 * then tokenized; the count and ids are those of that repaired text.
 *
 * Threads: a loaded tokenizer is immutable; share it. Each thread encodes
 * through its own session, which holds scratch buffers and a cache of
 * recently seen pre-tokens (bounded; no locks anywhere).
 */
#ifndef LLMSWEEP_TOKENIZER_H
#define LLMSWEEP_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct tokenizer;
struct tokenizer_session;

/* A growable array of token ids (free with token_ids_free). */
struct token_ids {
    uint32_t *v;
    size_t len, cap;
};
void token_ids_push(struct token_ids *ids, uint32_t id);
void token_ids_free(struct token_ids *ids);

/* Loads PATH: a tokenizer.json, a tekken.json, or a folder holding one
 * (tokenizer.json preferred). On failure returns NULL with one line in err
 * that names the file and what is wrong or unsupported. */
struct tokenizer *tokenizer_load(const char *path, struct buf *err);
/* The same from memory; `name` labels errors. Detects tekken by content. */
struct tokenizer *tokenizer_load_memory(const char *json, size_t len, const char *name,
                                        struct buf *err);
void tokenizer_free(struct tokenizer *tok);

/* "tokenizer.json: BPE (byte-level), 128256 tokens, 280147 merges" */
const char *tokenizer_describe(const struct tokenizer *tok);
/* One past the largest id (vocabulary plus added tokens). */
uint32_t tokenizer_vocab_size(const struct tokenizer *tok);

struct tokenizer_session *tokenizer_session_new(const struct tokenizer *tok);
void tokenizer_session_free(struct tokenizer_session *s);

enum {
    /* Run the post-processor (BOS/EOS etc.), like encode(add_special_tokens=True). */
    TOKENIZER_ADD_SPECIAL = 1,
};

/* Appends the ids of text[0..len) to out (out is not cleared). */
void tokenizer_encode(struct tokenizer_session *s, const char *text, size_t len, unsigned flags,
                      struct token_ids *out);
/* Number of tokens in text without special tokens: how many tokens a
 * server's reply held when it reports no usage. */
size_t tokenizer_count(struct tokenizer_session *s, const char *text, size_t len);

enum {
    TOKENIZER_SKIP_SPECIAL = 1, /* leave special added tokens out */
};
/* Appends the text of ids to out. False (with a message in err) for an id
 * outside the vocabulary. */
bool tokenizer_decode(const struct tokenizer *tok, const uint32_t *ids, size_t n, unsigned flags,
                      struct buf *out, struct buf *err);

#endif
