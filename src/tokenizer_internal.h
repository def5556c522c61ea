/* tokenizer_internal.h: the loaded tokenizer, shared by tokenizer_load.c
 * (JSON -> this) and tokenizer.c (encode, decode). Not for other modules. */
#ifndef LLMSWEEP_TOKENIZER_INTERNAL_H
#define LLMSWEEP_TOKENIZER_INTERNAL_H

#include "pretok_regex.h"
#include "tokenizer.h"
#include "unicode.h"

#define NO_TOKEN UINT32_MAX

/* Byte strings -> id, open addressing; keys live in one arena. */
struct strmap {
    uint32_t *slots; /* id + 1, 0 = empty */
    size_t mask;
    const uint32_t *key_off, *key_len; /* per id, into keys */
    const char *keys;
};

/* (left id, right id) -> merge rank and result, open addressing. */
struct merge {
    uint64_t pair; /* left << 32 | right; 0 = empty slot (pair 0,0 stored +1) */
    uint32_t rank;
    uint32_t result;
};
struct mergemap {
    struct merge *slots;
    size_t mask;
    size_t count;
};

struct added_token {
    char *content;
    size_t len;
    uint32_t id;
    bool special, normalized, lstrip, rstrip, single_word;
};

enum norm_kind {
    NORM_UNICODE,
    NORM_PREPEND,
    NORM_REPLACE
};
struct norm_step {
    enum norm_kind kind;
    enum unicode_form form;
    char *a; /* prepend text / replace pattern */
    size_t alen;
    char *b; /* replace content */
    size_t blen;
};

enum split_behavior {
    SPLIT_REMOVED,
    SPLIT_ISOLATED,
    SPLIT_MERGED_WITH_PREVIOUS,
    SPLIT_MERGED_WITH_NEXT,
    SPLIT_CONTIGUOUS,
};
enum pre_kind {
    PRE_SPLIT,
    PRE_BYTE_LEVEL,
    PRE_METASPACE,
    PRE_DIGITS
};
enum prepend_scheme {
    PREPEND_ALWAYS,
    PREPEND_FIRST,
    PREPEND_NEVER
};
struct pre_step {
    enum pre_kind kind;
    enum split_behavior behavior;
    struct pretok_regex *regex; /* PRE_SPLIT with a Regex; NULL: literal */
    char *literal;              /* PRE_SPLIT with a String */
    size_t literal_len;
    bool add_prefix_space, use_regex; /* ByteLevel */
    char replacement[8];              /* Metaspace, UTF-8 */
    size_t replacement_len;
    enum prepend_scheme prepend;
    bool split;      /* Metaspace */
    bool individual; /* Digits */
};

enum dec_kind {
    DEC_BYTE_LEVEL,
    DEC_METASPACE,
    DEC_BYTE_FALLBACK,
    DEC_FUSE,
    DEC_STRIP,
    DEC_REPLACE,
    DEC_RAW_BYTES, /* tekken: token texts are bytes; fuse, repair UTF-8 */
};
struct dec_step {
    enum dec_kind kind;
    char *a, *b; /* replace pattern/content; metaspace replacement; strip content */
    size_t alen, blen;
    int start, stop; /* strip */
    bool prepend;    /* metaspace: strip the replacement from the first token */
};

struct tokenizer {
    char *description;
    uint32_t vocab_size; /* one past the largest id */

    /* id -> token text as in the file (decode) */
    uint32_t *text_off, *text_len;
    char *texts;
    struct strmap vocab; /* model vocabulary; raw bytes when byte_level */
    uint32_t *key_off, *key_len;
    char *keys;

    struct mergemap merges;
    bool byte_level;        /* BPE over bytes (ByteLevel pre-tokenizer) */
    uint32_t byte_ids[256]; /* byte_level: the id of each single byte */
    bool byte_fallback;
    uint32_t fallback_ids[256]; /* "<0xAB>" ids, NO_TOKEN if missing */
    uint32_t unk_id;            /* NO_TOKEN: none */
    bool fuse_unk, ignore_merges;

    struct added_token *added;
    size_t n_added;
    bool *is_special;                 /* per id */
    uint8_t added_first_byte[2][256]; /* [normalized][byte] -> some token starts with it */

    struct norm_step *norm;
    size_t n_norm;
    struct pre_step *pre;
    size_t n_pre;
    uint32_t *prefix_ids, *suffix_ids; /* post-processor, single sequence */
    size_t n_prefix, n_suffix;
    struct dec_step *dec;
    size_t n_dec;
    bool has_decoder;
};

uint32_t strmap_get(const struct strmap *m, const char *key, size_t len);
/* Runs the normalizer chain over text into out (tmp: scratch). */
void tok_normalize(const struct tokenizer *t, const char *text, size_t len, struct buf *out,
                   struct buf *tmp);
uint64_t tok_hash(const char *s, size_t len);
/* GPT-2's bytes_to_unicode inverted: the byte a byte-level character
 * stands for, or -1. */
int tok_byte_of_char(uint32_t cp);

static inline uint64_t merge_hash(uint64_t pair)
{
    pair ^= pair >> 33;
    pair *= 0xff51afd7ed558ccdULL;
    pair ^= pair >> 33;
    return pair;
}

static inline const struct merge *mergemap_get(const struct mergemap *m, uint32_t a, uint32_t b)
{
    uint64_t pair = ((uint64_t)a << 32 | b) + 1;
    for (size_t i = merge_hash(pair) & m->mask;; i = (i + 1) & m->mask) {
        if (m->slots[i].pair == pair)
            return &m->slots[i];
        if (m->slots[i].pair == 0)
            return NULL;
    }
}

#endif
