/* Loading tokenizer.json and tekken.json into a `struct tokenizer`.
 *
 * tokenizer.json files are big (Qwen3: 11 MB, 150k tokens, 150k merges), so
 * the vocabulary and the merges are read by a small scanner straight into
 * the tables, without a DOM; the small components (normalizer,
 * pre_tokenizer, post_processor, decoder, added_tokens) are parsed with
 * cJSON from their slice of the file. */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tokenizer_internal.h"

/* --- hashing and the tables ------------------------------------------------ */

uint64_t tok_hash(const char *s, size_t len)
{
    /* FNV-1a over 8-byte words; short keys dominate. */
    uint64_t h = 0xcbf29ce484222325ULL ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    uint64_t tail = 0;
    memcpy(&tail, s + i, len - i);
    h = (h ^ tail) * 0x100000001b3ULL;
    h ^= h >> 32;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

uint32_t strmap_get(const struct strmap *m, const char *key, size_t len)
{
    if (!m->slots)
        return NO_TOKEN;
    for (size_t i = tok_hash(key, len) & m->mask;; i = (i + 1) & m->mask) {
        uint32_t slot = m->slots[i];
        if (!slot)
            return NO_TOKEN;
        uint32_t id = slot - 1;
        if (m->key_len[id] == len && memcmp(m->keys + m->key_off[id], key, len) == 0)
            return id;
    }
}

/* Builds the map over every id whose key_len is not UINT32_MAX. */
static void strmap_build(struct strmap *m, uint32_t n, const uint32_t *key_off,
                         const uint32_t *key_len, const char *keys)
{
    size_t cap = 16;
    while (cap < (size_t)n * 2)
        cap *= 2;
    m->slots = xcalloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    m->key_off = key_off;
    m->key_len = key_len;
    m->keys = keys;
    for (uint32_t id = 0; id < n; id++) {
        if (key_len[id] == UINT32_MAX)
            continue;
        size_t i = tok_hash(keys + key_off[id], key_len[id]) & m->mask;
        while (m->slots[i])
            i = (i + 1) & m->mask;
        m->slots[i] = id + 1;
    }
}

static void mergemap_init(struct mergemap *m, size_t n)
{
    size_t cap = 16;
    while (cap < n + n / 3) /* load factor at most 3/4 */
        cap *= 2;
    m->slots = xcalloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    m->count = 0;
}

/* Later duplicates replace earlier ones, as a Rust HashMap collect does. */
static void mergemap_put(struct mergemap *m, uint32_t a, uint32_t b, uint32_t rank, uint32_t result)
{
    uint64_t pair = ((uint64_t)a << 32 | b) + 1;
    size_t i = merge_hash(pair) & m->mask;
    while (m->slots[i].pair && m->slots[i].pair != pair)
        i = (i + 1) & m->mask;
    if (!m->slots[i].pair)
        m->count++;
    m->slots[i] = (struct merge){pair, rank, result};
}

/* --- a minimal JSON scanner for the big parts ------------------------------ */

struct scan {
    const char *p, *end;
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static bool expect(struct scan *s, char c)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static bool read_hex4(struct scan *s, uint32_t *v)
{
    if (s->end - s->p < 4)
        return false;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hexval(s->p[i]);
        if (d < 0)
            return false;
        *v = *v * 16 + (uint32_t)d;
    }
    s->p += 4;
    return true;
}

/* Reads a JSON string (the opening quote next) into out (appended). */
static bool scan_string(struct scan *s, struct buf *out)
{
    skip_ws(s);
    if (s->p >= s->end || *s->p != '"')
        return false;
    s->p++;
    for (;;) {
        const char *start = s->p;
        while (s->p < s->end && *s->p != '"' && *s->p != '\\')
            s->p++;
        buf_append(out, start, (size_t)(s->p - start));
        if (s->p >= s->end)
            return false;
        if (*s->p == '"') {
            s->p++;
            return true;
        }
        s->p++; /* backslash */
        if (s->p >= s->end)
            return false;
        char e = *s->p++;
        char c;
        switch (e) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
            uint32_t v;
            if (!read_hex4(s, &v))
                return false;
            if (v >= 0xD800 && v <= 0xDBFF && s->end - s->p >= 6 && s->p[0] == '\\' &&
                s->p[1] == 'u') {
                struct scan save = *s;
                s->p += 2;
                uint32_t lo;
                if (read_hex4(s, &lo) && lo >= 0xDC00 && lo <= 0xDFFF)
                    v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                else
                    *s = save;
            }
            if (v >= 0xD800 && v <= 0xDFFF)
                v = UNICODE_REPLACEMENT; /* a lone surrogate has no UTF-8 */
            char enc[4];
            buf_append(out, enc, utf8_encode(v, enc));
            continue;
        }
        default: return false;
        }
        buf_append(out, &c, 1);
    }
}

static bool skip_value(struct scan *s)
{
    skip_ws(s);
    if (s->p >= s->end)
        return false;
    char c = *s->p;
    if (c == '"') {
        s->p++;
        while (s->p < s->end) {
            const char *q = memchr(s->p, '"', (size_t)(s->end - s->p));
            if (!q)
                return false;
            size_t backslashes = 0;
            for (const char *b = q - 1; b >= s->p && *b == '\\'; b--)
                backslashes++;
            s->p = q + 1;
            if (backslashes % 2 == 0)
                return true;
        }
        return false;
    }
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return true;
        }
        for (;;) {
            if (c == '{') {
                if (!skip_value(s) || !expect(s, ':'))
                    return false;
            }
            if (!skip_value(s))
                return false;
            skip_ws(s);
            if (s->p < s->end && *s->p == ',') {
                s->p++;
                continue;
            }
            return expect(s, close);
        }
    }
    while (s->p < s->end && *s->p != ',' && *s->p != '}' && *s->p != ']' && *s->p != ' ' &&
           *s->p != '\n' && *s->p != '\r' && *s->p != '\t')
        s->p++;
    return true;
}

/* The next member of an object whose '{' has been read: its key into key
 * and the span of its value. 1: a member; 0: the closing '}' (consumed);
 * -1: not valid JSON, with value->p NULL if the key was bad, else the
 * value's start. */
static int next_member(struct scan *s, struct buf *key, struct scan *value)
{
    *value = (struct scan){0};
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    buf_clear(key);
    if (!scan_string(s, key) || !expect(s, ':'))
        return -1;
    skip_ws(s);
    value->p = s->p;
    if (!skip_value(s))
        return -1;
    value->end = s->p;
    skip_ws(s);
    if (s->p < s->end && *s->p == ',')
        s->p++;
    return 1;
}

/* --- the tokenizer being built --------------------------------------------- */

struct loader {
    struct tokenizer *tok;
    const char *name;
    struct buf *err;
    /* id -> text, growing */
    uint32_t cap_ids;
    struct buf texts;
    struct scan vocab_span, merges_span; /* .p NULL: absent */
    char *unk_token;                     /* owned */
    bool *in_vocab; /* per id: named by model.vocab (not only by added_tokens) */
};

static bool failf(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool failf(struct loader *ld, const char *fmt, ...)
{
    if (ld->err->len)
        return false;
    buf_printf(ld->err, "%s: ", ld->name);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(ld->err, fmt, ap);
    va_end(ap);
    return false;
}

static void ensure_id(struct loader *ld, uint32_t id)
{
    struct tokenizer *t = ld->tok;
    if (id >= ld->cap_ids) {
        uint32_t cap = ld->cap_ids ? ld->cap_ids : 1024;
        while (cap <= id)
            cap *= 2;
        t->text_off = xrealloc(t->text_off, cap * sizeof *t->text_off);
        t->text_len = xrealloc(t->text_len, cap * sizeof *t->text_len);
        for (uint32_t i = ld->cap_ids; i < cap; i++)
            t->text_len[i] = UINT32_MAX;
        ld->cap_ids = cap;
    }
    if (id >= t->vocab_size)
        t->vocab_size = id + 1;
}

static void set_text(struct loader *ld, uint32_t id, const char *text, size_t len)
{
    ensure_id(ld, id);
    ld->tok->text_off[id] = (uint32_t)ld->texts.len;
    ld->tok->text_len[id] = (uint32_t)len;
    buf_append(&ld->texts, text, len);
}

/* GPT-2's bytes_to_unicode, inverted: the byte a byte-level character
 * stands for, or -1. */
int tok_byte_of_char(uint32_t cp)
{
    if ((cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF))
        return (int)cp;
    if (cp < 0x100 || cp >= 0x100 + 68)
        return -1;
    int n = (int)(cp - 0x100);
    for (int b = 0; b < 256; b++) {
        bool printable =
            (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        if (!printable && n-- == 0)
            return b;
    }
    return -1;
}

/* tok_byte_of_char for every character byte_level_to_bytes can meet. */
#define BYTE_LEVEL_CHARS 0x144
static void byte_level_table(int table[BYTE_LEVEL_CHARS])
{
    for (uint32_t cp = 0; cp < BYTE_LEVEL_CHARS; cp++)
        table[cp] = tok_byte_of_char(cp);
}

/* Byte-level text -> raw bytes. False if a character is outside the alphabet. */
static bool byte_level_to_bytes(const char *text, size_t len, struct buf *out, const int *table)
{
    const unsigned char *u = (const unsigned char *)text;
    buf_reserve(out, len);
    char *o = out->data + out->len;
    for (size_t i = 0; i < len;) {
        int b;
        if (u[i] < 0x80) {
            b = table[u[i]];
            i++;
        } else if ((u[i] & 0xE0) == 0xC0 && i + 1 < len && (u[i + 1] & 0xC0) == 0x80) {
            uint32_t cp = (uint32_t)(u[i] & 0x1F) << 6 | (u[i + 1] & 0x3F);
            b = cp < BYTE_LEVEL_CHARS ? table[cp] : -1;
            i += 2;
        } else {
            return false;
        }
        if (b < 0)
            return false;
        *o++ = (char)b;
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return true;
}

/* --- components (cJSON) ---------------------------------------------------- */

static const char *jstr(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool jbool(const cJSON *obj, const char *key, bool dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

static const char *jtype(const cJSON *obj)
{
    const char *t = jstr(obj, "type");
    return t ? t : "(no type)";
}

/* {"String": "x"} -> x; {"Regex": ...} -> NULL with *is_regex. */
static const char *pattern_of(const cJSON *obj, bool *is_regex, const char **regex)
{
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(obj, "pattern");
    *is_regex = false;
    *regex = NULL;
    if (!cJSON_IsObject(pat))
        return NULL;
    const char *s = jstr(pat, "String");
    if (s)
        return s;
    *regex = jstr(pat, "Regex");
    *is_regex = *regex != NULL;
    return NULL;
}

typedef bool component_fn(struct loader *ld, const cJSON *n);

/* Absent or null: nothing to add (1). {"type": "Sequence", KEY: [...]}: each
 * item through fn (1 or 0). Anything else: -1, for the caller to handle. */
static int each_in_sequence(struct loader *ld, const cJSON *n, const char *key, component_fn *fn)
{
    if (!n || cJSON_IsNull(n))
        return 1;
    if (strcmp(jtype(n), "Sequence") != 0)
        return -1;
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(n, key))
    {
        if (!fn(ld, item))
            return 0;
    }
    return 1;
}

/* The pattern and content of a Replace normalizer or decoder: a non-empty
 * String pattern only (a Regex one would need a general regex engine). */
static bool replace_strings(struct loader *ld, const cJSON *n, const char *what, char **pattern,
                            size_t *pattern_len, char **content, size_t *content_len)
{
    bool is_regex;
    const char *regex;
    const char *pat = pattern_of(n, &is_regex, &regex);
    const char *with = jstr(n, "content");
    if (is_regex)
        return failf(ld, "%s Replace with a Regex pattern (\"%.60s\") is not supported", what,
                     regex);
    if (!pat || !*pat || !with)
        return failf(ld, "%s Replace needs a non-empty pattern String and a content", what);
    *pattern = xstrdup(pat);
    *pattern_len = strlen(pat);
    *content = xstrdup(with);
    *content_len = strlen(with);
    return true;
}

static bool add_normalizer(struct loader *ld, const cJSON *n)
{
    struct tokenizer *t = ld->tok;
    int handled = each_in_sequence(ld, n, "normalizers", add_normalizer);
    if (handled >= 0)
        return handled == 1;
    const char *type = jtype(n);
    struct norm_step st = {0};
    if (strcmp(type, "NFC") == 0 || strcmp(type, "NFD") == 0 || strcmp(type, "NFKC") == 0 ||
        strcmp(type, "NFKD") == 0) {
        st.kind = NORM_UNICODE;
        st.form = strcmp(type, "NFC") == 0    ? UNICODE_NFC
                  : strcmp(type, "NFD") == 0  ? UNICODE_NFD
                  : strcmp(type, "NFKC") == 0 ? UNICODE_NFKC
                                              : UNICODE_NFKD;
    } else if (strcmp(type, "Prepend") == 0) {
        const char *p = jstr(n, "prepend");
        if (!p)
            return failf(ld, "normalizer Prepend has no \"prepend\" string");
        st.kind = NORM_PREPEND;
        st.a = xstrdup(p);
        st.alen = strlen(p);
    } else if (strcmp(type, "Replace") == 0) {
        if (!replace_strings(ld, n, "normalizer", &st.a, &st.alen, &st.b, &st.blen))
            return false;
        st.kind = NORM_REPLACE;
    } else {
        return failf(ld,
                     "normalizer %s is not supported (supported: NFC, NFD, NFKC, NFKD, "
                     "Prepend, Replace, Sequence)",
                     type);
    }
    t->norm = xrealloc(t->norm, (t->n_norm + 1) * sizeof *t->norm);
    t->norm[t->n_norm++] = st;
    return true;
}

static bool parse_behavior(struct loader *ld, const char *b, enum split_behavior *out)
{
    static const struct {
        const char *name;
        enum split_behavior v;
    } names[] = {{"Removed", SPLIT_REMOVED},
                 {"Isolated", SPLIT_ISOLATED},
                 {"MergedWithPrevious", SPLIT_MERGED_WITH_PREVIOUS},
                 {"MergedWithNext", SPLIT_MERGED_WITH_NEXT},
                 {"Contiguous", SPLIT_CONTIGUOUS}};
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        if (b && strcmp(b, names[i].name) == 0) {
            *out = names[i].v;
            return true;
        }
    }
    return failf(ld, "pre_tokenizer Split has an unknown behavior \"%s\"", b ? b : "(none)");
}

static bool metaspace_options(struct loader *ld, const cJSON *n, char *rep, size_t *rep_len,
                              enum prepend_scheme *scheme, const char *what)
{
    const char *r = jstr(n, "replacement");
    if (!r)
        r = "\xE2\x96\x81";
    if (strlen(r) >= 8 || utf8_valid_prefix(r, strlen(r)) != strlen(r))
        return failf(ld, "%s Metaspace has a bad replacement", what);
    *rep_len = strlen(r);
    memcpy(rep, r, *rep_len + 1);
    const char *ps = jstr(n, "prepend_scheme");
    if (ps) {
        if (strcmp(ps, "always") == 0)
            *scheme = PREPEND_ALWAYS;
        else if (strcmp(ps, "first") == 0)
            *scheme = PREPEND_FIRST;
        else if (strcmp(ps, "never") == 0)
            *scheme = PREPEND_NEVER;
        else
            return failf(ld, "%s Metaspace has an unknown prepend_scheme \"%s\"", what, ps);
    } else {
        *scheme = jbool(n, "add_prefix_space", true) ? PREPEND_ALWAYS : PREPEND_NEVER;
    }
    return true;
}

static bool add_pre_tokenizer(struct loader *ld, const cJSON *n)
{
    struct tokenizer *t = ld->tok;
    int handled = each_in_sequence(ld, n, "pretokenizers", add_pre_tokenizer);
    if (handled >= 0)
        return handled == 1;
    const char *type = jtype(n);
    if (t->byte_level)
        return failf(ld,
                     "pre_tokenizer %s after ByteLevel is not supported (ByteLevel must be "
                     "the last pre-tokenizer)",
                     type);
    struct pre_step st = {0};
    if (strcmp(type, "Split") == 0) {
        st.kind = PRE_SPLIT;
        if (jbool(n, "invert", false))
            return failf(ld, "pre_tokenizer Split with invert=true is not supported");
        if (!parse_behavior(ld, jstr(n, "behavior"), &st.behavior))
            return false;
        bool is_regex;
        const char *regex;
        const char *lit = pattern_of(n, &is_regex, &regex);
        if (is_regex) {
            struct buf rerr = {0};
            st.regex = pretok_regex_compile(regex, strlen(regex), &rerr);
            if (!st.regex) {
                failf(ld, "pre_tokenizer Split: %s", rerr.data);
                buf_free(&rerr);
                return false;
            }
        } else if (lit && *lit) {
            st.literal = xstrdup(lit);
            st.literal_len = strlen(lit);
        } else {
            return failf(ld, "pre_tokenizer Split needs a pattern (String or Regex)");
        }
    } else if (strcmp(type, "ByteLevel") == 0) {
        st.kind = PRE_BYTE_LEVEL;
        st.add_prefix_space = jbool(n, "add_prefix_space", true);
        st.use_regex = jbool(n, "use_regex", true);
        if (st.use_regex) {
            static const char gpt2[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| "
                                       "?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
            struct buf rerr = {0};
            st.regex = pretok_regex_compile(gpt2, strlen(gpt2), &rerr);
            buf_free(&rerr);
        }
        t->byte_level = true;
    } else if (strcmp(type, "Metaspace") == 0) {
        st.kind = PRE_METASPACE;
        if (!metaspace_options(ld, n, st.replacement, &st.replacement_len, &st.prepend,
                               "pre_tokenizer"))
            return false;
        st.split = jbool(n, "split", true);
    } else if (strcmp(type, "Digits") == 0) {
        st.kind = PRE_DIGITS;
        st.individual = jbool(n, "individual_digits", false);
    } else {
        return failf(ld,
                     "pre_tokenizer %s is not supported (supported: Split, ByteLevel, "
                     "Metaspace, Digits, Sequence)",
                     type);
    }
    t->pre = xrealloc(t->pre, (t->n_pre + 1) * sizeof *t->pre);
    t->pre[t->n_pre++] = st;
    return true;
}

static bool add_decoder(struct loader *ld, const cJSON *n)
{
    struct tokenizer *t = ld->tok;
    int handled = each_in_sequence(ld, n, "decoders", add_decoder);
    if (handled >= 0)
        return handled == 1;
    t->has_decoder = true;
    const char *type = jtype(n);
    struct dec_step st = {0};
    if (strcmp(type, "ByteLevel") == 0) {
        st.kind = DEC_BYTE_LEVEL;
    } else if (strcmp(type, "ByteFallback") == 0) {
        st.kind = DEC_BYTE_FALLBACK;
    } else if (strcmp(type, "Fuse") == 0) {
        st.kind = DEC_FUSE;
    } else if (strcmp(type, "Metaspace") == 0) {
        st.kind = DEC_METASPACE;
        char rep[8];
        size_t rep_len;
        enum prepend_scheme scheme;
        if (!metaspace_options(ld, n, rep, &rep_len, &scheme, "decoder"))
            return false;
        st.a = xstrndup(rep, rep_len);
        st.alen = rep_len;
        st.prepend = scheme != PREPEND_NEVER;
    } else if (strcmp(type, "Strip") == 0) {
        st.kind = DEC_STRIP;
        const char *c = jstr(n, "content");
        const cJSON *start = cJSON_GetObjectItemCaseSensitive(n, "start");
        const cJSON *stop = cJSON_GetObjectItemCaseSensitive(n, "stop");
        if (!c || !cJSON_IsNumber(start) || !cJSON_IsNumber(stop))
            return failf(ld, "decoder Strip needs content, start and stop");
        st.a = xstrdup(c);
        st.alen = strlen(c);
        st.start = start->valueint;
        st.stop = stop->valueint;
    } else if (strcmp(type, "Replace") == 0) {
        if (!replace_strings(ld, n, "decoder", &st.a, &st.alen, &st.b, &st.blen))
            return false;
        st.kind = DEC_REPLACE;
    } else {
        return failf(ld,
                     "decoder %s is not supported (supported: ByteLevel, Metaspace, "
                     "ByteFallback, Fuse, Strip, Replace, Sequence)",
                     type);
    }
    t->dec = xrealloc(t->dec, (t->n_dec + 1) * sizeof *t->dec);
    t->dec[t->n_dec++] = st;
    return true;
}

static void push_id(uint32_t **v, size_t *n, uint32_t id)
{
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = id;
}

static bool add_post_processor(struct loader *ld, const cJSON *n)
{
    struct tokenizer *t = ld->tok;
    int handled = each_in_sequence(ld, n, "processors", add_post_processor);
    if (handled >= 0)
        return handled == 1;
    const char *type = jtype(n);
    if (strcmp(type, "ByteLevel") == 0)
        return true; /* offsets only */
    if (strcmp(type, "RobertaProcessing") == 0 || strcmp(type, "BertProcessing") == 0) {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(n, "cls");
        const cJSON *sep = cJSON_GetObjectItemCaseSensitive(n, "sep");
        const cJSON *cls_id = cJSON_GetArrayItem(cls, 1), *sep_id = cJSON_GetArrayItem(sep, 1);
        if (!cJSON_IsNumber(cls_id) || !cJSON_IsNumber(sep_id))
            return failf(ld, "post_processor %s needs cls and sep as [token, id]", type);
        push_id(&t->prefix_ids, &t->n_prefix, (uint32_t)cls_id->valuedouble);
        push_id(&t->suffix_ids, &t->n_suffix, (uint32_t)sep_id->valuedouble);
        return true;
    }
    if (strcmp(type, "TemplateProcessing") != 0)
        return failf(ld,
                     "post_processor %s is not supported (supported: TemplateProcessing, "
                     "ByteLevel, RobertaProcessing, BertProcessing, Sequence)",
                     type);
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(n, "special_tokens");
    bool after = false, seen_a = false;
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(n, "single"))
    {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(item, "Sequence");
        const cJSON *sp = cJSON_GetObjectItemCaseSensitive(item, "SpecialToken");
        if (seq) {
            const char *which = jstr(seq, "id");
            if (!which || strcmp(which, "A") != 0 || seen_a)
                return failf(ld, "post_processor TemplateProcessing: the single template must "
                                 "hold sequence A once");
            seen_a = after = true;
            continue;
        }
        const char *name = jstr(sp, "id");
        const cJSON *entry = name ? cJSON_GetObjectItemCaseSensitive(specials, name) : NULL;
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(entry, "ids");
        if (!cJSON_IsArray(ids))
            return failf(ld, "post_processor TemplateProcessing: special token \"%s\" has no ids",
                         name ? name : "(none)");
        const cJSON *id;
        cJSON_ArrayForEach(id, ids)
        {
            if (after)
                push_id(&t->suffix_ids, &t->n_suffix, (uint32_t)id->valuedouble);
            else
                push_id(&t->prefix_ids, &t->n_prefix, (uint32_t)id->valuedouble);
        }
    }
    if (!seen_a)
        return failf(ld, "post_processor TemplateProcessing has no single template with $A");
    return true;
}

static bool load_added_tokens(struct loader *ld, const cJSON *arr)
{
    struct tokenizer *t = ld->tok;
    const cJSON *item;
    cJSON_ArrayForEach(item, arr)
    {
        const char *content = jstr(item, "content");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
        if (!content || !*content || !cJSON_IsNumber(id) || id->valuedouble < 0 ||
            id->valuedouble > 1e8)
            return failf(ld, "added_tokens: every entry needs a non-empty content and an id");
        struct added_token a = {
            .content = xstrdup(content),
            .len = strlen(content),
            .id = (uint32_t)id->valuedouble,
            .special = jbool(item, "special", false),
            .single_word = jbool(item, "single_word", false),
            .lstrip = jbool(item, "lstrip", false),
            .rstrip = jbool(item, "rstrip", false),
        };
        a.normalized = jbool(item, "normalized", !a.special);
        t->added = xrealloc(t->added, (t->n_added + 1) * sizeof *t->added);
        t->added[t->n_added++] = a;
    }
    return true;
}

/* --- model: vocab and merges (scanner) ------------------------------------- */

static bool model_options(struct loader *ld, const cJSON *m)
{
    struct tokenizer *t = ld->tok;
    const char *type = jstr(m, "type");
    if (type && strcmp(type, "BPE") != 0)
        return failf(ld, "model type %s is not supported (only BPE)", type);
    const cJSON *dropout = cJSON_GetObjectItemCaseSensitive(m, "dropout");
    if (cJSON_IsNumber(dropout) && dropout->valuedouble != 0)
        return failf(ld, "BPE dropout %g is not supported (it makes encoding random)",
                     dropout->valuedouble);
    const char *prefix = jstr(m, "continuing_subword_prefix");
    const char *suffix = jstr(m, "end_of_word_suffix");
    if ((prefix && *prefix) || (suffix && *suffix))
        return failf(ld, "BPE continuing_subword_prefix/end_of_word_suffix are not supported");
    t->byte_fallback = jbool(m, "byte_fallback", false);
    t->fuse_unk = jbool(m, "fuse_unk", false);
    t->ignore_merges = jbool(m, "ignore_merges", false);
    const char *unk = jstr(m, "unk_token");
    free(ld->unk_token);
    ld->unk_token = unk ? xstrdup(unk) : NULL;
    return true;
}

/* The model object: options via cJSON on a copy without vocab/merges. */
static bool scan_model(struct loader *ld, struct scan *s)
{
    if (!expect(s, '{'))
        return failf(ld, "\"model\" is not an object");
    struct buf rest = {0}, key = {0};
    buf_putc(&rest, '{');
    struct scan value;
    int more;
    while ((more = next_member(s, &key, &value)) > 0) {
        if (strcmp(key.data, "vocab") == 0) {
            ld->vocab_span = value;
        } else if (strcmp(key.data, "merges") == 0) {
            ld->merges_span = value;
        } else {
            if (rest.len > 1)
                buf_putc(&rest, ',');
            cJSON *k = cJSON_CreateString(key.data);
            char *ktext = cJSON_PrintUnformatted(k);
            buf_printf(&rest, "%s:", ktext);
            free(ktext);
            cJSON_Delete(k);
            buf_append(&rest, value.p, (size_t)(value.end - value.p));
        }
    }
    buf_free(&key);
    buf_putc(&rest, '}');
    cJSON *m = more == 0 ? cJSON_ParseWithLength(rest.data, rest.len) : NULL;
    bool ok = m && model_options(ld, m);
    if (!m)
        failf(ld, "\"model\" is not valid JSON");
    cJSON_Delete(m);
    buf_free(&rest);
    return ok;
}

static bool scan_vocab(struct loader *ld)
{
    struct scan s = ld->vocab_span;
    if (!expect(&s, '{'))
        return failf(ld, "model.vocab is not an object of token -> id");
    struct buf text = {0};
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}')
        s.p++;
    else {
        for (;;) {
            buf_clear(&text);
            if (!scan_string(&s, &text) || !expect(&s, ':'))
                goto bad;
            skip_ws(&s);
            char *endp;
            errno = 0;
            unsigned long id = strtoul(s.p, &endp, 10);
            if (endp == s.p || errno || id > 100000000)
                goto bad;
            s.p = endp;
            if (id < ld->cap_ids && ld->tok->text_len[id] != UINT32_MAX) {
                buf_free(&text);
                return failf(ld, "model.vocab gives id %lu to two tokens", id);
            }
            set_text(ld, (uint32_t)id, text.data, text.len);
            skip_ws(&s);
            if (s.p < s.end && *s.p == ',') {
                s.p++;
                continue;
            }
            if (!expect(&s, '}'))
                goto bad;
            break;
        }
    }
    buf_free(&text);
    return true;
bad:
    buf_free(&text);
    return failf(ld, "model.vocab is not an object of token -> id");
}

/* Model keys: raw bytes for byte-level vocabularies, the text otherwise. */
static void build_keys(struct loader *ld)
{
    struct tokenizer *t = ld->tok;
    int table[BYTE_LEVEL_CHARS];
    byte_level_table(table);
    t->key_off = xmalloc(t->vocab_size * sizeof *t->key_off);
    t->key_len = xmalloc(t->vocab_size * sizeof *t->key_len);
    struct buf keys = {0};
    for (uint32_t id = 0; id < t->vocab_size; id++) {
        t->key_len[id] = UINT32_MAX;
        if (!ld->in_vocab[id])
            continue;
        const char *text = t->texts + t->text_off[id];
        size_t before = keys.len;
        if (t->byte_level && !byte_level_to_bytes(text, t->text_len[id], &keys, table)) {
            keys.len = before;
            continue;
        }
        if (!t->byte_level)
            buf_append(&keys, text, t->text_len[id]);
        t->key_off[id] = (uint32_t)before;
        t->key_len[id] = (uint32_t)(keys.len - before);
    }
    t->keys = buf_steal(&keys);
    strmap_build(&t->vocab, t->vocab_size, t->key_off, t->key_len, t->keys);
}

static bool add_merge(struct loader *ld, const char *a, size_t alen, const char *b, size_t blen,
                      uint32_t rank, struct buf *tmp, const int *table)
{
    struct tokenizer *t = ld->tok;
    uint32_t ia = NO_TOKEN, ib = NO_TOKEN, ic = NO_TOKEN;
    buf_clear(tmp);
    bool ok = true;
    size_t split;
    if (t->byte_level) {
        ok = byte_level_to_bytes(a, alen, tmp, table);
        split = tmp->len;
        ok = ok && byte_level_to_bytes(b, blen, tmp, table);
    } else {
        buf_append(tmp, a, alen);
        split = tmp->len;
        buf_append(tmp, b, blen);
    }
    if (ok) {
        ia = strmap_get(&t->vocab, tmp->data, split);
        ib = strmap_get(&t->vocab, tmp->data + split, tmp->len - split);
        ic = strmap_get(&t->vocab, tmp->data, tmp->len);
    }
    if (ia == NO_TOKEN || ib == NO_TOKEN || ic == NO_TOKEN)
        return failf(ld,
                     "merge %u (\"%.*s\" + \"%.*s\") uses a token that is not in the vocabulary",
                     rank, (int)alen, a, (int)blen, b);
    mergemap_put(&t->merges, ia, ib, rank, ic);
    return true;
}

static bool scan_merges(struct loader *ld)
{
    struct scan s = ld->merges_span;
    int table[BYTE_LEVEL_CHARS];
    byte_level_table(table);
    if (!expect(&s, '['))
        return failf(ld, "model.merges is not an array");
    /* Count first so the map is sized once: quotes / 2 bounds the number
     * of "a b" strings, quotes / 4 the number of ["a","b"] pairs. */
    size_t quotes = 0;
    for (const char *p = s.p; (p = memchr(p, '"', (size_t)(s.end - p))) != NULL; p++)
        quotes++;
    skip_ws(&s);
    size_t approx = 1 + (s.p < s.end && *s.p == '[' ? quotes / 4 : quotes / 2);
    mergemap_init(&ld->tok->merges, approx);
    struct buf a = {0}, b = {0}, tmp = {0};
    uint32_t rank = 0;
    bool ok = true;
    skip_ws(&s);
    if (s.p < s.end && *s.p == ']')
        goto done;
    for (;; rank++) {
        buf_clear(&a);
        buf_clear(&b);
        skip_ws(&s);
        if (s.p < s.end && *s.p == '[') {
            s.p++;
            if (!scan_string(&s, &a) || !expect(&s, ',') || !scan_string(&s, &b) ||
                !expect(&s, ']')) {
                ok = failf(ld, "model.merges[%u] is not a pair of strings", rank);
                goto done;
            }
            ok = add_merge(ld, a.data ? a.data : "", a.len, b.data ? b.data : "", b.len, rank, &tmp,
                           table);
        } else {
            if (!scan_string(&s, &a)) {
                ok = failf(ld, "model.merges[%u] is not a string", rank);
                goto done;
            }
            const char *sp = a.data ? memchr(a.data, ' ', a.len) : NULL;
            if (!sp || memchr(sp + 1, ' ', a.len - (size_t)(sp + 1 - a.data))) {
                ok = failf(ld, "model.merges[%u] \"%s\" is not two tokens separated by one space",
                           rank, a.data ? a.data : "");
                goto done;
            }
            ok = add_merge(ld, a.data, (size_t)(sp - a.data), sp + 1,
                           a.len - (size_t)(sp + 1 - a.data), rank, &tmp, table);
        }
        if (!ok)
            goto done;
        skip_ws(&s);
        if (s.p < s.end && *s.p == ',') {
            s.p++;
            continue;
        }
        if (!expect(&s, ']'))
            ok = failf(ld, "model.merges is not a valid array");
        break;
    }
done:
    buf_free(&a);
    buf_free(&b);
    buf_free(&tmp);
    return ok;
}

/* --- putting it together --------------------------------------------------- */

static void finish_ids(struct loader *ld)
{
    struct tokenizer *t = ld->tok;
    uint32_t model_size = t->vocab_size;
    bool *named = xcalloc(model_size ? model_size : 1, sizeof *named);
    for (uint32_t id = 0; id < model_size; id++)
        named[id] = t->text_len[id] != UINT32_MAX;
    /* Decoding prefers the added vocabulary, with normalized content for
     * normalized tokens, as HF's decode does. */
    for (size_t i = 0; i < t->n_added; i++)
        set_text(ld, t->added[i].id, t->added[i].content, t->added[i].len);
    /* Ids no entry names decode to nothing rather than failing. */
    for (uint32_t id = 0; id < t->vocab_size; id++) {
        if (t->text_len[id] == UINT32_MAX)
            set_text(ld, id, "", 0);
    }
    t->is_special = xcalloc(t->vocab_size, sizeof *t->is_special);
    ld->in_vocab = xcalloc(t->vocab_size, sizeof *ld->in_vocab);
    memcpy(ld->in_vocab, named, model_size * sizeof *named);
    free(named);
    for (size_t i = 0; i < t->n_added; i++)
        t->is_special[t->added[i].id] = t->added[i].special;
}

/* Normalized added tokens are matched against normalized text, so their
 * own content is normalized too (as HF does when it builds its trie). */
static void normalize_added(struct tokenizer *t)
{
    struct buf a = {0}, b = {0};
    for (size_t i = 0; i < t->n_added; i++) {
        struct added_token *tk = &t->added[i];
        if (!tk->normalized || t->n_norm == 0)
            continue;
        tok_normalize(t, tk->content, tk->len, &a, &b);
        free(tk->content);
        tk->len = a.len;
        tk->content = xstrndup(a.data ? a.data : "", a.len);
    }
    buf_free(&a);
    buf_free(&b);
    for (size_t i = 0; i < t->n_added; i++) {
        if (t->added[i].len)
            t->added_first_byte[t->added[i].normalized][(unsigned char)t->added[i].content[0]] = 1;
    }
}

static bool finish_model(struct loader *ld)
{
    struct tokenizer *t = ld->tok;
    for (int b = 0; b < 256; b++) {
        char key[8];
        t->byte_ids[b] = strmap_get(&t->vocab, (char[]){(char)b}, 1);
        snprintf(key, sizeof key, "<0x%02X>", b);
        t->fallback_ids[b] = t->byte_fallback ? strmap_get(&t->vocab, key, 6) : NO_TOKEN;
    }
    t->unk_id = NO_TOKEN;
    if (ld->unk_token) {
        t->unk_id = strmap_get(&t->vocab, ld->unk_token, strlen(ld->unk_token));
        if (t->unk_id == NO_TOKEN)
            return failf(ld, "model.unk_token \"%s\" is not in the vocabulary", ld->unk_token);
    }
    return true;
}

static cJSON *parse_span(struct loader *ld, const char *start, const char *end, const char *what)
{
    cJSON *v = cJSON_ParseWithLength(start, (size_t)(end - start));
    if (!v)
        failf(ld, "\"%s\" is not valid JSON", what);
    return v;
}

/* --- tekken.json (mistral-common) ------------------------------------------ */

/* The special tokens of tekken files that do not list their own (versions
 * up to v7), as mistral-common's Tekkenizer.DEPRECATED_SPECIAL_TOKENS. */
static const char *const tekken_default_specials[] = {
    "<unk>",
    "<s>",
    "</s>",
    "[INST]",
    "[/INST]",
    "[AVAILABLE_TOOLS]",
    "[/AVAILABLE_TOOLS]",
    "[TOOL_RESULTS]",
    "[/TOOL_RESULTS]",
    "[TOOL_CALLS]",
    "[IMG]",
    "<pad>",
    "[IMG_BREAK]",
    "[IMG_END]",
    "[PREFIX]",
    "[MIDDLE]",
    "[SUFFIX]",
    "[SYSTEM_PROMPT]",
    "[/SYSTEM_PROMPT]",
    "[TOOL_CONTENT]",
};

static bool base64_decode(const char *in, size_t len, struct buf *out)
{
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        int v = c >= 'A' && c <= 'Z'   ? c - 'A'
                : c >= 'a' && c <= 'z' ? c - 'a' + 26
                : c >= '0' && c <= '9' ? c - '0' + 52
                : c == '+'             ? 62
                : c == '/'             ? 63
                : c == '='             ? -2
                                       : -1;
        if (v == -2)
            break;
        if (v < 0)
            return false;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char b = (char)(acc >> bits & 0xFF);
            buf_append(out, &b, 1);
        }
    }
    return true;
}

/* One {"rank": N, "token_bytes": "base64", "token_str": ...} entry. */
static bool scan_tekken_entry(struct scan *s, long *rank, struct buf *bytes, struct buf *tmp)
{
    if (!expect(s, '{'))
        return false;
    *rank = -1;
    buf_clear(bytes);
    for (;;) {
        buf_clear(tmp);
        if (!scan_string(s, tmp) || !expect(s, ':'))
            return false;
        skip_ws(s);
        if (strcmp(tmp->data, "rank") == 0) {
            char *endp;
            *rank = strtol(s->p, &endp, 10);
            if (endp == s->p)
                return false;
            s->p = endp;
        } else if (strcmp(tmp->data, "token_bytes") == 0) {
            buf_clear(tmp);
            if (!scan_string(s, tmp) || !base64_decode(tmp->data, tmp->len, bytes))
                return false;
        } else if (!skip_value(s)) {
            return false;
        }
        skip_ws(s);
        if (s->p < s->end && *s->p == ',') {
            s->p++;
            continue;
        }
        return expect(s, '}');
    }
}

/* A tekken file is tiktoken: byte strings with ranks; merging two parts
 * yields the token their concatenation is, at that token's rank. So every
 * way of cutting a token into two tokens is a merge with the token's rank,
 * and the BPE loop of tokenizer.c gives tiktoken's result. Ids are ranks
 * shifted past the special tokens; special token text is never matched in
 * the input (mistral-common encodes it as plain text). */
static bool tekken_load(struct loader *ld, const char *json, size_t len)
{
    struct tokenizer *t = ld->tok;
    struct scan s = {json, json + len};
    struct scan config = {0}, vocab = {0}, specials = {0}, value;
    struct buf key = {0}, tmp = {0}, bytes = {0};
    bool ok = false;
    cJSON *cfg = NULL, *sp = NULL;
    if (!expect(&s, '{'))
        goto bad_json;
    int more;
    while ((more = next_member(&s, &key, &value)) > 0) {
        if (strcmp(key.data, "config") == 0)
            config = value;
        else if (strcmp(key.data, "vocab") == 0)
            vocab = value;
        else if (strcmp(key.data, "special_tokens") == 0)
            specials = value;
    }
    if (more < 0)
        goto bad_json;
    if (!config.p || !vocab.p) {
        failf(ld, "a tekken.json needs \"config\" and \"vocab\"");
        goto done;
    }
    cfg = cJSON_ParseWithLength(config.p, (size_t)(config.end - config.p));
    const char *pattern = jstr(cfg, "pattern");
    const cJSON *vsize = cJSON_GetObjectItemCaseSensitive(cfg, "default_vocab_size");
    const cJSON *nspecial = cJSON_GetObjectItemCaseSensitive(cfg, "default_num_special_tokens");
    if (!pattern || !cJSON_IsNumber(vsize) || !cJSON_IsNumber(nspecial) ||
        nspecial->valuedouble < 3 || vsize->valuedouble <= nspecial->valuedouble ||
        vsize->valuedouble > 1e7) {
        failf(ld, "config needs pattern, default_vocab_size and default_num_special_tokens");
        goto done;
    }
    uint32_t n_special = (uint32_t)nspecial->valuedouble;
    uint32_t inner = (uint32_t)vsize->valuedouble - n_special;

    /* Special tokens: the file's list or the defaults, then "<SPECIAL_i>". */
    ensure_id(ld, (uint32_t)vsize->valuedouble - 1);
    uint32_t n_listed = 0;
    if (specials.p) {
        sp = cJSON_ParseWithLength(specials.p, (size_t)(specials.end - specials.p));
        const cJSON *item;
        cJSON_ArrayForEach(item, sp)
        {
            const cJSON *rank = cJSON_GetObjectItemCaseSensitive(item, "rank");
            const char *str = jstr(item, "token_str");
            if (!cJSON_IsNumber(rank) || !str || rank->valuedouble < 0 ||
                rank->valuedouble >= n_special) {
                failf(ld, "special_tokens: every entry needs a rank below %u and a token_str",
                      n_special);
                goto done;
            }
            set_text(ld, (uint32_t)rank->valuedouble, str, strlen(str));
            n_listed++;
        }
    } else {
        for (size_t i = 0; i < ARRAY_LEN(tekken_default_specials); i++)
            set_text(ld, (uint32_t)i, tekken_default_specials[i],
                     strlen(tekken_default_specials[i]));
        n_listed = ARRAY_LEN(tekken_default_specials);
    }
    for (uint32_t i = n_listed; i < n_special; i++) {
        char filler[32];
        snprintf(filler, sizeof filler, "<SPECIAL_%u>", i);
        set_text(ld, i, filler, strlen(filler));
    }

    /* Vocabulary: the first `inner` entries, rank i at index i. */
    s = vocab;
    if (!expect(&s, '['))
        goto bad_json;
    for (uint32_t i = 0; i < inner; i++) {
        long rank;
        if (!scan_tekken_entry(&s, &rank, &bytes, &tmp)) {
            failf(ld, "vocab[%u] is not {rank, token_bytes (base64), token_str}", i);
            goto done;
        }
        if (rank != (long)i || bytes.len == 0 ||
            (i < 256 && (bytes.len != 1 || (unsigned char)bytes.data[0] != i))) {
            failf(ld, "vocab[%u] has rank %ld or bytes that do not fit it", i, rank);
            goto done;
        }
        set_text(ld, n_special + i, bytes.data, bytes.len);
        skip_ws(&s);
        if (i + 1 < inner && !expect(&s, ',')) {
            failf(ld, "vocab has fewer than %u entries", inner);
            goto done;
        }
    }
    t->texts = buf_steal(&ld->texts);
    t->key_off = xmalloc(t->vocab_size * sizeof *t->key_off);
    t->key_len = xmalloc(t->vocab_size * sizeof *t->key_len);
    for (uint32_t id = 0; id < t->vocab_size; id++) {
        t->key_off[id] = t->text_off[id];
        t->key_len[id] = id < n_special ? UINT32_MAX : t->text_len[id];
    }
    strmap_build(&t->vocab, t->vocab_size, t->key_off, t->key_len, t->texts);

    mergemap_init(&t->merges, (size_t)inner * 4);
    for (uint32_t id = n_special + 256; id < t->vocab_size; id++) {
        const char *tk = t->texts + t->text_off[id];
        uint32_t tlen = t->text_len[id];
        for (uint32_t k = 1; k < tlen; k++) {
            uint32_t a = strmap_get(&t->vocab, tk, k), b = strmap_get(&t->vocab, tk + k, tlen - k);
            if (a != NO_TOKEN && b != NO_TOKEN)
                mergemap_put(&t->merges, a, b, id - n_special, id);
        }
    }

    struct pre_step st = {.kind = PRE_SPLIT, .behavior = SPLIT_ISOLATED};
    buf_clear(&tmp);
    st.regex = pretok_regex_compile(pattern, strlen(pattern), &tmp);
    if (!st.regex) {
        failf(ld, "config.pattern: %s", tmp.data);
        goto done;
    }
    t->pre = xcalloc(1, sizeof *t->pre);
    t->pre[0] = st;
    t->n_pre = 1;
    t->byte_level = true;    /* raw bytes, no byte-level alphabet */
    t->ignore_merges = true; /* tiktoken takes a piece that is a token whole */
    t->has_decoder = true;
    t->dec = xcalloc(1, sizeof *t->dec);
    t->dec[0].kind = DEC_RAW_BYTES;
    t->n_dec = 1;
    t->is_special = xcalloc(t->vocab_size, sizeof *t->is_special);
    for (uint32_t i = 0; i < n_special; i++)
        t->is_special[i] = true;
    uint32_t bos = NO_TOKEN;
    for (uint32_t i = 0; i < n_special; i++) {
        if (t->text_len[i] == 3 && memcmp(t->texts + t->text_off[i], "<s>", 3) == 0)
            bos = i;
    }
    if (bos != NO_TOKEN)
        push_id(&t->prefix_ids, &t->n_prefix, bos);
    for (int b = 0; b < 256; b++) {
        t->byte_ids[b] = n_special + (uint32_t)b;
        t->fallback_ids[b] = NO_TOKEN;
    }
    t->unk_id = NO_TOKEN;
    t->description = xasprintf("%s: tekken (tiktoken BPE), %u tokens (%u special), %zu merges",
                               ld->name, t->vocab_size, n_special, t->merges.count);
    ok = true;
    goto done;
bad_json:
    failf(ld, "not valid JSON near byte %zu", (size_t)(s.p - json));
done:
    cJSON_Delete(cfg);
    cJSON_Delete(sp);
    buf_free(&key);
    buf_free(&tmp);
    buf_free(&bytes);
    return ok;
}

static struct tokenizer *load_hf(struct loader *ld, const char *json, size_t len)
{
    struct scan s = {json, json + len};
    struct scan spans[5] = {{0}}, model = {0}, value;
    static const char *const keys[5] = {"added_tokens", "normalizer", "pre_tokenizer",
                                        "post_processor", "decoder"};
    struct buf key = {0};
    if (!expect(&s, '{')) {
        failf(ld, "not a JSON object");
        goto fail;
    }
    int more;
    while ((more = next_member(&s, &key, &value)) > 0) {
        if (strcmp(key.data, "model") == 0)
            model = value;
        for (int i = 0; i < 5; i++) {
            if (strcmp(key.data, keys[i]) == 0)
                spans[i] = value;
        }
    }
    if (more < 0) {
        if (value.p)
            failf(ld, "not valid JSON (value of \"%s\")", key.data);
        else
            failf(ld, "not valid JSON near byte %zu", (size_t)(s.p - json));
        goto fail;
    }
    buf_free(&key);
    if (!model.p) {
        failf(ld, "no \"model\": not a Hugging Face tokenizer.json (nor a tekken.json)");
        goto fail;
    }
    cJSON *parts[5] = {0};
    bool ok = true;
    for (int i = 0; i < 5 && ok; i++) {
        if (spans[i].p) {
            parts[i] = parse_span(ld, spans[i].p, spans[i].end, keys[i]);
            ok = parts[i] != NULL;
        }
    }
    ok = ok && (!parts[0] || load_added_tokens(ld, parts[0])) && add_normalizer(ld, parts[1]) &&
         add_pre_tokenizer(ld, parts[2]) && add_post_processor(ld, parts[3]) &&
         add_decoder(ld, parts[4]);
    for (int i = 0; i < 5; i++)
        cJSON_Delete(parts[i]);
    if (!ok || !scan_model(ld, &model))
        goto fail;
    if (!ld->vocab_span.p) {
        failf(ld, "model has no vocab");
        goto fail;
    }
    if (!scan_vocab(ld))
        goto fail;
    normalize_added(ld->tok);
    finish_ids(ld);
    ld->tok->texts = buf_steal(&ld->texts);
    build_keys(ld);
    if (ld->merges_span.p && !scan_merges(ld))
        goto fail;
    if (!ld->merges_span.p)
        mergemap_init(&ld->tok->merges, 1);
    if (!finish_model(ld))
        goto fail;
    ld->tok->description = xasprintf("%s: BPE%s%s, %u tokens, %zu merges, %zu added tokens",
                                     ld->name, ld->tok->byte_level ? " (byte-level)" : "",
                                     ld->tok->byte_fallback ? " (byte fallback)" : "",
                                     ld->tok->vocab_size, ld->tok->merges.count, ld->tok->n_added);
    return ld->tok;
fail:
    buf_free(&key);
    return NULL;
}

struct tokenizer *tokenizer_load_memory(const char *json, size_t len, const char *name,
                                        struct buf *err)
{
    struct loader ld = {.tok = xcalloc(1, sizeof *ld.tok), .name = name, .err = err};
    buf_clear(err);
    /* tekken.json: {"config": {...,"pattern": ...}, "vocab": [...], ...} */
    struct scan head = {json, json + len};
    bool tekken = expect(&head, '{') && expect(&head, '"') && (size_t)(head.end - head.p) > 7 &&
                  memcmp(head.p, "config\"", 7) == 0;
    struct tokenizer *t = NULL;
    if (tekken) {
        if (tekken_load(&ld, json, len))
            t = ld.tok;
    } else {
        t = load_hf(&ld, json, len);
    }
    if (!t) {
        if (!err->len)
            failf(&ld, "cannot load");
        tokenizer_free(ld.tok);
    }
    buf_free(&ld.texts);
    free(ld.in_vocab);
    free(ld.unk_token);
    return t;
}

struct tokenizer *tokenizer_load(const char *path, struct buf *err)
{
    struct stat st;
    buf_clear(err);
    if (stat(path, &st) != 0) {
        buf_printf(err, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    char *file = NULL;
    if (S_ISDIR(st.st_mode)) {
        static const char *const names[] = {"tokenizer.json", "tekken.json"};
        for (size_t i = 0; i < ARRAY_LEN(names) && !file; i++) {
            char *p = xasprintf("%s/%s", path, names[i]);
            if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
                file = p;
            else
                free(p);
        }
        if (!file) {
            buf_printf(err,
                       "%s holds neither tokenizer.json nor tekken.json (fetch one with "
                       "'llmsweep fetch-tokenizer REPO --out %s')",
                       path, path);
            return NULL;
        }
    } else {
        file = xstrdup(path);
    }
    struct buf data = {0};
    struct tokenizer *t = NULL;
    if (!read_file(file, &data))
        buf_printf(err, "cannot read %s: %s", file, strerror(errno));
    else
        t = tokenizer_load_memory(data.data ? data.data : "", data.len, file, err);
    buf_free(&data);
    free(file);
    return t;
}

void tokenizer_free(struct tokenizer *t)
{
    if (!t)
        return;
    free(t->description);
    free(t->text_off);
    free(t->text_len);
    free(t->texts);
    free(t->vocab.slots);
    free(t->key_off);
    free(t->key_len);
    free(t->keys);
    free(t->merges.slots);
    for (size_t i = 0; i < t->n_added; i++)
        free(t->added[i].content);
    free(t->added);
    free(t->is_special);
    for (size_t i = 0; i < t->n_norm; i++) {
        free(t->norm[i].a);
        free(t->norm[i].b);
    }
    free(t->norm);
    for (size_t i = 0; i < t->n_pre; i++) {
        pretok_regex_free(t->pre[i].regex);
        free(t->pre[i].literal);
    }
    free(t->pre);
    free(t->prefix_ids);
    free(t->suffix_ids);
    for (size_t i = 0; i < t->n_dec; i++) {
        free(t->dec[i].a);
        free(t->dec[i].b);
    }
    free(t->dec);
    free(t);
}

const char *tokenizer_describe(const struct tokenizer *tok)
{
    return tok->description;
}

uint32_t tokenizer_vocab_size(const struct tokenizer *tok)
{
    return tok->vocab_size;
}
