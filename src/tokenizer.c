/* Encoding and decoding with a loaded tokenizer (tokenizer.h), in the
 * order Hugging Face `tokenizers` runs its pipeline:
 *
 *   added tokens that are not normalized are split out of the raw text;
 *   each remaining piece is normalized, then normalized added tokens are
 *   split out of it; each remaining piece goes through the pre-tokenizers
 *   (a chain of splits), and each pre-token through the BPE model;
 *   the post-processor adds its special tokens around the result.
 *
 * Everything mutable lives in the caller's session, so one tokenizer can
 * serve many threads. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer_internal.h"

#define MAX_PRE_DEPTH 8
#define CACHE_SLOTS 32768       /* power of two */
#define CACHE_MAX_ENTRIES 16384 /* cleared when full */
#define CACHE_MAX_WORD 64       /* longer pre-tokens are not cached */

struct symbol {
    uint32_t id;
    int32_t prev, next;
    uint32_t len; /* bytes; 0 once merged into its left neighbour */
};

struct candidate {
    uint32_t rank;
    uint32_t pos;
    uint32_t result;
};

struct cache_slot {
    uint64_t hash; /* 0: empty */
    uint32_t key_off, ids_off;
    uint16_t key_len, ids_len;
};

struct span {
    size_t start, end;
    bool is_match;
};

struct tokenizer_session {
    const struct tokenizer *tok;
    struct buf clean; /* the input with invalid UTF-8 repaired */
    struct buf normalized, norm_tmp;
    struct buf scratch[MAX_PRE_DEPTH];
    struct span *spans[MAX_PRE_DEPTH];
    size_t span_cap[MAX_PRE_DEPTH];

    struct symbol *syms;
    size_t syms_cap;
    struct candidate *heap;
    size_t heap_cap;

    struct token_ids count_ids; /* tokenizer_count's scratch */

    struct cache_slot *cache;
    size_t cache_entries;
    struct buf cache_keys;
    struct token_ids cache_ids;
};

void token_ids_push(struct token_ids *ids, uint32_t id)
{
    if (ids->len == ids->cap) {
        ids->cap = ids->cap ? ids->cap * 2 : 256;
        ids->v = xrealloc(ids->v, ids->cap * sizeof *ids->v);
    }
    ids->v[ids->len++] = id;
}

void token_ids_free(struct token_ids *ids)
{
    free(ids->v);
    *ids = (struct token_ids){0};
}

struct tokenizer_session *tokenizer_session_new(const struct tokenizer *tok)
{
    struct tokenizer_session *s = xcalloc(1, sizeof *s);
    s->tok = tok;
    s->cache = xcalloc(CACHE_SLOTS, sizeof *s->cache);
    return s;
}

void tokenizer_session_free(struct tokenizer_session *s)
{
    if (!s)
        return;
    buf_free(&s->clean);
    buf_free(&s->normalized);
    buf_free(&s->norm_tmp);
    for (int i = 0; i < MAX_PRE_DEPTH; i++) {
        buf_free(&s->scratch[i]);
        free(s->spans[i]);
    }
    free(s->syms);
    free(s->heap);
    free(s->cache);
    buf_free(&s->cache_keys);
    token_ids_free(&s->cache_ids);
    token_ids_free(&s->count_ids);
    free(s);
}

/* --- the pre-token cache ---------------------------------------------------- */

static bool cache_get(struct tokenizer_session *s, const char *w, size_t len, uint64_t h,
                      struct token_ids *out)
{
    for (size_t i = h & (CACHE_SLOTS - 1);; i = (i + 1) & (CACHE_SLOTS - 1)) {
        struct cache_slot *c = &s->cache[i];
        if (!c->hash)
            return false;
        if (c->hash == h && c->key_len == len &&
            memcmp(s->cache_keys.data + c->key_off, w, len) == 0) {
            for (uint16_t k = 0; k < c->ids_len; k++)
                token_ids_push(out, s->cache_ids.v[c->ids_off + k]);
            return true;
        }
    }
}

static void cache_put(struct tokenizer_session *s, const char *w, size_t len, uint64_t h,
                      const uint32_t *ids, size_t n)
{
    if (n > UINT16_MAX)
        return;
    if (s->cache_entries >= CACHE_MAX_ENTRIES) {
        memset(s->cache, 0, CACHE_SLOTS * sizeof *s->cache);
        s->cache_entries = 0;
        buf_clear(&s->cache_keys);
        s->cache_ids.len = 0;
    }
    size_t i = h & (CACHE_SLOTS - 1);
    while (s->cache[i].hash)
        i = (i + 1) & (CACHE_SLOTS - 1);
    s->cache[i] = (struct cache_slot){h, (uint32_t)s->cache_keys.len, (uint32_t)s->cache_ids.len,
                                      (uint16_t)len, (uint16_t)n};
    buf_append(&s->cache_keys, w, len);
    for (size_t k = 0; k < n; k++)
        token_ids_push(&s->cache_ids, ids[k]);
    s->cache_entries++;
}

/* --- BPE ---------------------------------------------------------------------- */

static bool candidate_less(const struct candidate *a, const struct candidate *b)
{
    return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void heap_push(struct tokenizer_session *s, size_t *n, struct candidate c)
{
    if (*n == s->heap_cap) {
        s->heap_cap = s->heap_cap ? s->heap_cap * 2 : 64;
        s->heap = xrealloc(s->heap, s->heap_cap * sizeof *s->heap);
    }
    size_t i = (*n)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!candidate_less(&c, &s->heap[parent]))
            break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = c;
}

static struct candidate heap_pop(struct tokenizer_session *s, size_t *n)
{
    struct candidate top = s->heap[0];
    struct candidate last = s->heap[--*n];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= *n)
            break;
        if (child + 1 < *n && candidate_less(&s->heap[child + 1], &s->heap[child]))
            child++;
        if (!candidate_less(&s->heap[child], &last))
            break;
        s->heap[i] = s->heap[child];
        i = child;
    }
    if (*n)
        s->heap[i] = last;
    return top;
}

static void push_symbol(struct tokenizer_session *s, size_t *n, uint32_t id, uint32_t len)
{
    if (*n == s->syms_cap) {
        s->syms_cap = s->syms_cap ? s->syms_cap * 2 : 64;
        s->syms = xrealloc(s->syms, s->syms_cap * sizeof *s->syms);
    }
    s->syms[*n] = (struct symbol){id, (int32_t)*n - 1, (int32_t)*n + 1, len};
    (*n)++;
}

/* The initial symbols of a word: bytes (byte-level) or characters, with
 * byte fallback and unknown-token handling as HF's BPE::merge_word. */
static size_t initial_symbols(struct tokenizer_session *s, const char *w, size_t len)
{
    const struct tokenizer *t = s->tok;
    size_t n = 0;
    if (t->byte_level) {
        for (size_t i = 0; i < len; i++) {
            uint32_t id = t->byte_ids[(unsigned char)w[i]];
            if (id != NO_TOKEN)
                push_symbol(s, &n, id, 1);
            else if (t->unk_id != NO_TOKEN)
                push_symbol(s, &n, t->unk_id, 1);
        }
        return n;
    }
    bool last_unk = false;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t clen = utf8_decode((const unsigned char *)w + i, len - i, &cp);
        if (!clen)
            clen = 1;
        uint32_t id = strmap_get(&t->vocab, w + i, clen);
        if (id != NO_TOKEN) {
            push_symbol(s, &n, id, (uint32_t)clen);
            last_unk = false;
        } else {
            bool all = t->byte_fallback;
            for (size_t k = 0; k < clen && all; k++)
                all = t->fallback_ids[(unsigned char)w[i + k]] != NO_TOKEN;
            if (all) {
                for (size_t k = 0; k < clen; k++)
                    push_symbol(s, &n, t->fallback_ids[(unsigned char)w[i + k]], 1);
                last_unk = false;
            } else if (t->unk_id != NO_TOKEN) {
                if (t->fuse_unk && last_unk)
                    s->syms[n - 1].len += (uint32_t)clen;
                else
                    push_symbol(s, &n, t->unk_id, (uint32_t)clen);
                last_unk = true;
            }
        }
        i += clen;
    }
    return n;
}

static void bpe_word(struct tokenizer_session *s, const char *w, size_t len, struct token_ids *out)
{
    const struct tokenizer *t = s->tok;
    if (len == 0)
        return;
    if (t->ignore_merges) {
        uint32_t id = strmap_get(&t->vocab, w, len);
        if (id != NO_TOKEN) {
            token_ids_push(out, id);
            return;
        }
    }
    uint64_t h = 0;
    if (len <= CACHE_MAX_WORD) {
        h = tok_hash(w, len) | 1;
        if (cache_get(s, w, len, h, out))
            return;
    }
    size_t n = initial_symbols(s, w, len);
    if (n == 0)
        return;
    s->syms[n - 1].next = -1;
    size_t nheap = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        const struct merge *m = mergemap_get(&t->merges, s->syms[i].id, s->syms[i + 1].id);
        if (m)
            heap_push(s, &nheap, (struct candidate){m->rank, (uint32_t)i, m->result});
    }
    while (nheap) {
        struct candidate top = heap_pop(s, &nheap);
        struct symbol *cur = &s->syms[top.pos];
        if (cur->len == 0 || cur->next < 0)
            continue;
        struct symbol *right = &s->syms[cur->next];
        const struct merge *m = mergemap_get(&t->merges, cur->id, right->id);
        if (!m || m->result != top.result)
            continue;
        cur->id = top.result;
        cur->len += right->len;
        right->len = 0;
        cur->next = right->next;
        if (cur->next >= 0)
            s->syms[cur->next].prev = (int32_t)top.pos;
        if (cur->prev >= 0) {
            m = mergemap_get(&t->merges, s->syms[cur->prev].id, cur->id);
            if (m)
                heap_push(s, &nheap, (struct candidate){m->rank, (uint32_t)cur->prev, m->result});
        }
        if (cur->next >= 0) {
            m = mergemap_get(&t->merges, cur->id, s->syms[cur->next].id);
            if (m)
                heap_push(s, &nheap, (struct candidate){m->rank, top.pos, m->result});
        }
    }
    size_t first = out->len;
    for (int32_t i = 0; i >= 0; i = s->syms[i].next)
        token_ids_push(out, s->syms[i].id);
    if (h)
        cache_put(s, w, len, h, out->v + first, out->len - first);
}

/* Appends text to out with every occurrence of pat replaced by with. */
static void append_replacing(struct buf *out, const char *text, size_t len, const char *pat,
                             size_t plen, const char *with, size_t wlen)
{
    buf_append(out, "", 0);
    for (size_t p = 0; p < len;) {
        const char *hit = memmem(text + p, len - p, pat, plen);
        size_t stop = hit ? (size_t)(hit - text) : len;
        buf_append(out, text + p, stop - p);
        if (!hit)
            break;
        buf_append(out, with, wlen);
        p = stop + plen;
    }
}

/* --- pre-tokenizers ------------------------------------------------------------- */

static void pretokenize(struct tokenizer_session *s, size_t depth, const char *text, size_t len,
                        bool at_start, struct token_ids *out);

static void push_span(struct tokenizer_session *s, size_t depth, size_t *n, size_t start,
                      size_t end, bool is_match)
{
    if (*n == s->span_cap[depth]) {
        s->span_cap[depth] = s->span_cap[depth] ? s->span_cap[depth] * 2 : 64;
        s->spans[depth] = xrealloc(s->spans[depth], s->span_cap[depth] * sizeof **s->spans);
    }
    s->spans[depth][(*n)++] = (struct span){start, end, is_match};
}

/* Applies a split behavior to matches/gaps (HF's NormalizedString::split)
 * and hands each resulting piece to the next pre-tokenizer. */
static void emit_split(struct tokenizer_session *s, size_t depth, const char *text, size_t n,
                       enum split_behavior behavior, bool at_start, struct token_ids *out)
{
    struct span *sp = s->spans[depth];
    size_t m = 0;
    bool previous = false;
    switch (behavior) {
    case SPLIT_ISOLATED: m = n; break;
    case SPLIT_REMOVED:
        for (size_t i = 0; i < n; i++) {
            if (!sp[i].is_match)
                sp[m++] = sp[i];
        }
        break;
    case SPLIT_MERGED_WITH_PREVIOUS:
        for (size_t i = 0; i < n; i++) {
            if (sp[i].is_match && !previous && m > 0)
                sp[m - 1].end = sp[i].end;
            else
                sp[m++] = sp[i];
            previous = sp[i].is_match;
        }
        break;
    case SPLIT_MERGED_WITH_NEXT: {
        /* Right to left, then the survivors are packed to the front. */
        size_t w = n;
        for (size_t i = n; i-- > 0;) {
            bool is_match = sp[i].is_match;
            if (is_match && !previous && w < n)
                sp[w].start = sp[i].start;
            else
                sp[--w] = sp[i];
            previous = is_match;
        }
        memmove(sp, sp + w, (n - w) * sizeof *sp);
        m = n - w;
        break;
    }
    case SPLIT_CONTIGUOUS:
        for (size_t i = 0; i < n; i++) {
            if (sp[i].is_match == previous && m > 0)
                sp[m - 1].end = sp[i].end;
            else
                sp[m++] = sp[i];
            previous = sp[i].is_match;
        }
        break;
    }
    for (size_t i = 0; i < m; i++) {
        struct span piece = s->spans[depth][i]; /* the array may grow below us: copy */
        if (piece.end > piece.start)
            pretokenize(s, depth + 1, text + piece.start, piece.end - piece.start,
                        at_start && piece.start == 0, out);
    }
}

/* Regex or literal matches (with the gaps between them) into spans. */
static size_t find_spans(struct tokenizer_session *s, size_t depth, const struct pre_step *st,
                         const char *text, size_t len)
{
    size_t n = 0, pos = 0, ms, me;
    for (;;) {
        bool found;
        if (st->regex) {
            found = pretok_regex_find(st->regex, text, len, pos, &ms, &me);
        } else {
            const char *hit = st->literal_len && pos < len
                                  ? memmem(text + pos, len - pos, st->literal, st->literal_len)
                                  : NULL;
            found = hit != NULL;
            if (found) {
                ms = (size_t)(hit - text);
                me = ms + st->literal_len;
            }
        }
        if (!found)
            break;
        if (ms > pos)
            push_span(s, depth, &n, pos, ms, false);
        push_span(s, depth, &n, ms, me, true);
        pos = me;
    }
    if (pos < len)
        push_span(s, depth, &n, pos, len, false);
    return n;
}

/* Per-character matches (Digits, Metaspace's split): one match per char. */
static size_t find_char_spans(struct tokenizer_session *s, size_t depth, const char *text,
                              size_t len, const char *ch, size_t chlen)
{
    size_t n = 0, gap = 0;
    for (size_t i = 0; i < len;) {
        bool hit = ch ? (i + chlen <= len && memcmp(text + i, ch, chlen) == 0)
                      : (text[i] >= '0' && text[i] <= '9');
        size_t clen = ch && hit ? chlen : 1;
        if (!hit) {
            i++;
            while (i < len && ((unsigned char)text[i] & 0xC0) == 0x80)
                i++;
            continue;
        }
        if (i > gap)
            push_span(s, depth, &n, gap, i, false);
        push_span(s, depth, &n, i, i + clen, true);
        i += clen;
        gap = i;
    }
    if (gap < len)
        push_span(s, depth, &n, gap, len, false);
    return n;
}

/* Regex matches and the gaps between them as pieces of their own (Isolated),
 * streamed to the next pre-tokenizer without a span list: the hot path. */
static void split_isolated(struct tokenizer_session *s, size_t depth, const struct pretok_regex *rx,
                           const char *text, size_t len, bool at_start, struct token_ids *out)
{
    size_t pos = 0, ms, me;
    while (pretok_regex_find(rx, text, len, pos, &ms, &me)) {
        if (ms > pos)
            pretokenize(s, depth + 1, text + pos, ms - pos, at_start && pos == 0, out);
        pretokenize(s, depth + 1, text + ms, me - ms, at_start && ms == 0, out);
        pos = me;
    }
    if (pos < len)
        pretokenize(s, depth + 1, text + pos, len - pos, at_start && pos == 0, out);
}

static void pretokenize(struct tokenizer_session *s, size_t depth, const char *text, size_t len,
                        bool at_start, struct token_ids *out)
{
    const struct tokenizer *t = s->tok;
    if (depth == t->n_pre) {
        bpe_word(s, text, len, out);
        return;
    }
    const struct pre_step *st = &t->pre[depth];
    switch (st->kind) {
    case PRE_SPLIT:
        if (st->behavior == SPLIT_ISOLATED && st->regex) {
            split_isolated(s, depth, st->regex, text, len, at_start, out);
            return;
        }
        emit_split(s, depth, text, find_spans(s, depth, st, text, len), st->behavior, at_start,
                   out);
        return;
    case PRE_BYTE_LEVEL: {
        if (st->add_prefix_space && len > 0 && text[0] != ' ') {
            struct buf *b = &s->scratch[depth];
            buf_clear(b);
            buf_putc(b, ' ');
            buf_append(b, text, len);
            text = b->data;
            len = b->len;
        }
        if (st->use_regex) {
            split_isolated(s, depth, st->regex, text, len, at_start, out);
            return;
        }
        pretokenize(s, depth + 1, text, len, at_start, out);
        return;
    }
    case PRE_METASPACE: {
        struct buf *b = &s->scratch[depth];
        buf_clear(b);
        bool starts =
            len >= st->replacement_len && memcmp(text, st->replacement, st->replacement_len) == 0;
        bool prepend = st->prepend == PREPEND_ALWAYS || (st->prepend == PREPEND_FIRST && at_start);
        /* HF tests the text after replacing spaces: a leading space counts. */
        if (prepend && !starts && !(len > 0 && text[0] == ' '))
            buf_append(b, st->replacement, st->replacement_len);
        for (size_t i = 0; i < len; i++) {
            if (text[i] == ' ')
                buf_append(b, st->replacement, st->replacement_len);
            else
                buf_putc(b, text[i]);
        }
        if (!st->split) {
            pretokenize(s, depth + 1, b->data, b->len, at_start, out);
            return;
        }
        emit_split(s, depth, b->data,
                   find_char_spans(s, depth, b->data, b->len, st->replacement, st->replacement_len),
                   SPLIT_MERGED_WITH_NEXT, at_start, out);
        return;
    }
    case PRE_DIGITS:
        emit_split(s, depth, text, find_char_spans(s, depth, text, len, NULL, 0),
                   st->individual ? SPLIT_ISOLATED : SPLIT_CONTIGUOUS, at_start, out);
        return;
    }
}

/* --- normalizers and added tokens ------------------------------------------------ */

void tok_normalize(const struct tokenizer *t, const char *text, size_t len, struct buf *out,
                   struct buf *tmp)
{
    struct buf *cur = out;
    buf_clear(cur);
    buf_append(cur, text, len);
    for (size_t k = 0; k < t->n_norm; k++) {
        const struct norm_step *st = &t->norm[k];
        buf_clear(tmp);
        switch (st->kind) {
        case NORM_UNICODE: unicode_normalize(st->form, cur->data, cur->len, tmp); break;
        case NORM_PREPEND:
            if (cur->len)
                buf_append(tmp, st->a, st->alen);
            buf_append(tmp, cur->data, cur->len);
            break;
        case NORM_REPLACE:
            append_replacing(tmp, cur->data, cur->len, st->a, st->alen, st->b, st->blen);
            break;
        }
        struct buf swap = *cur;
        *cur = *tmp;
        *tmp = swap;
    }
}

static size_t utf8_prev(const char *text, size_t pos)
{
    do
        pos--;
    while (pos > 0 && ((unsigned char)text[pos] & 0xC0) == 0x80);
    return pos;
}

static bool is_space_at(const char *text, size_t len, size_t pos, size_t *clen)
{
    uint32_t cp;
    *clen = utf8_decode((const unsigned char *)text + pos, len - pos, &cp);
    return *clen && unicode_is_space(cp);
}

/* Word characters for single_word tokens: Rust's is_alphanumeric or '_'. */
static bool is_word_at(const char *text, size_t len, size_t pos)
{
    uint32_t cp;
    size_t n = utf8_decode((const unsigned char *)text + pos, len - pos, &cp);
    return n && (cp == '_' || unicode_is_alphanumeric(cp));
}

/* The added token (of the normalized kind asked for) that starts at pos,
 * the longest if several do. */
static const struct added_token *added_at(const struct tokenizer *t, bool normalized,
                                          const char *text, size_t len, size_t pos)
{
    const struct added_token *best = NULL;
    for (size_t i = 0; i < t->n_added; i++) {
        const struct added_token *a = &t->added[i];
        if (a->normalized != normalized || a->len > len - pos || (best && a->len <= best->len))
            continue;
        if (memcmp(text + pos, a->content, a->len) == 0)
            best = a;
    }
    return best;
}

typedef void (*piece_fn)(struct tokenizer_session *s, const char *text, size_t len, bool at_start,
                         struct token_ids *out);

/* HF's AddedVocabulary::find_matches: leftmost-longest matches of added
 * tokens, with single_word, lstrip and rstrip; the rest goes to `rest`. */
static void split_added(struct tokenizer_session *s, bool normalized, const char *text, size_t len,
                        bool at_start, piece_fn rest, struct token_ids *out)
{
    const struct tokenizer *t = s->tok;
    const uint8_t *first = t->added_first_byte[normalized];
    size_t done = 0; /* start of the text not yet handed on */
    for (size_t pos = 0; pos < len;) {
        if (!first[(unsigned char)text[pos]]) {
            pos++;
            continue;
        }
        const struct added_token *a = added_at(t, normalized, text, len, pos);
        if (!a) {
            pos++;
            continue;
        }
        size_t start = pos, stop = pos + a->len;
        if (a->single_word) {
            bool ok_left = start == 0 || !is_word_at(text, len, utf8_prev(text, start));
            bool ok_right = stop == len || !is_word_at(text, len, stop);
            if (!ok_left || !ok_right) {
                pos = stop; /* the match is consumed even when discarded */
                continue;
            }
        }
        if (a->lstrip) {
            size_t clen;
            while (start > done && is_space_at(text, len, utf8_prev(text, start), &clen))
                start = utf8_prev(text, start);
        }
        if (a->rstrip) {
            size_t clen;
            while (stop < len && is_space_at(text, len, stop, &clen))
                stop += clen;
        }
        if (start > done)
            rest(s, text + done, start - done, at_start && done == 0, out);
        token_ids_push(out, a->id);
        done = pos = stop;
    }
    if (done < len)
        rest(s, text + done, len - done, at_start && done == 0, out);
}

static void after_normalized_split(struct tokenizer_session *s, const char *text, size_t len,
                                   bool at_start, struct token_ids *out)
{
    pretokenize(s, 0, text, len, at_start, out);
}

static void after_raw_split(struct tokenizer_session *s, const char *text, size_t len,
                            bool at_start, struct token_ids *out)
{
    const struct tokenizer *t = s->tok;
    if (t->n_norm == 0) {
        split_added(s, true, text, len, at_start, after_normalized_split, out);
        return;
    }
    tok_normalize(t, text, len, &s->normalized, &s->norm_tmp);
    /* The split below runs the pre-tokenizers, which never touch s->normalized. */
    split_added(s, true, s->normalized.data, s->normalized.len, at_start, after_normalized_split,
                out);
}

void tokenizer_encode(struct tokenizer_session *s, const char *text, size_t len, unsigned flags,
                      struct token_ids *out)
{
    const struct tokenizer *t = s->tok;
    if (flags & TOKENIZER_ADD_SPECIAL) {
        for (size_t i = 0; i < t->n_prefix; i++)
            token_ids_push(out, t->prefix_ids[i]);
    }
    if (utf8_valid_prefix(text, len) != len) {
        buf_clear(&s->clean);
        utf8_append_lossy(&s->clean, text, len);
        text = s->clean.data;
        len = s->clean.len;
    }
    split_added(s, false, text, len, true, after_raw_split, out);
    if (flags & TOKENIZER_ADD_SPECIAL) {
        for (size_t i = 0; i < t->n_suffix; i++)
            token_ids_push(out, t->suffix_ids[i]);
    }
}

size_t tokenizer_count(struct tokenizer_session *s, const char *text, size_t len)
{
    s->count_ids.len = 0;
    tokenizer_encode(s, text, len, 0, &s->count_ids);
    return s->count_ids.len;
}

/* --- decoding ----------------------------------------------------------------------- */

struct strlist {
    struct buf *v;
    size_t len, cap;
};

static struct buf *strlist_add(struct strlist *l)
{
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->len] = (struct buf){0};
    buf_append(&l->v[l->len], "", 0);
    return &l->v[l->len++];
}

static void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->len; i++)
        buf_free(&l->v[i]);
    free(l->v);
    *l = (struct strlist){0};
}

static void decode_byte_level(struct strlist *l)
{
    struct buf bytes = {0};
    for (size_t i = 0; i < l->len; i++) {
        const struct buf *tk = &l->v[i];
        size_t before = bytes.len;
        bool ok = true;
        for (size_t p = 0; p < tk->len && ok;) {
            uint32_t cp;
            size_t n = utf8_decode((const unsigned char *)tk->data + p, tk->len - p, &cp);
            int b = n ? tok_byte_of_char(cp) : -1;
            if (b < 0) {
                ok = false;
                break;
            }
            char c = (char)b;
            buf_append(&bytes, &c, 1);
            p += n;
        }
        if (!ok) {
            bytes.len = before;
            buf_append(&bytes, tk->data, tk->len);
        }
    }
    for (size_t i = 0; i < l->len; i++)
        buf_free(&l->v[i]);
    l->len = 0;
    utf8_append_lossy(strlist_add(l), bytes.data ? bytes.data : "", bytes.len);
    buf_free(&bytes);
}

static void replace_all(struct buf *tk, const char *pat, size_t plen, const char *with, size_t wlen)
{
    struct buf r = {0};
    append_replacing(&r, tk->data, tk->len, pat, plen, with, wlen);
    buf_free(tk);
    *tk = r;
}

static void decode_step(const struct dec_step *st, struct strlist *l)
{
    switch (st->kind) {
    case DEC_BYTE_LEVEL: decode_byte_level(l); return;
    case DEC_RAW_BYTES: {
        struct buf all = {0};
        for (size_t i = 0; i < l->len; i++)
            buf_append(&all, l->v[i].data, l->v[i].len);
        strlist_free(l);
        utf8_append_lossy(strlist_add(l), all.data ? all.data : "", all.len);
        buf_free(&all);
        return;
    }
    case DEC_METASPACE:
        for (size_t i = 0; i < l->len; i++)
            replace_all(&l->v[i], st->a, st->alen, i == 0 && st->prepend ? "" : " ",
                        i == 0 && st->prepend ? 0 : 1);
        return;
    case DEC_REPLACE:
        for (size_t i = 0; i < l->len; i++)
            replace_all(&l->v[i], st->a, st->alen, st->b, st->blen);
        return;
    case DEC_FUSE: {
        struct strlist fused = {0};
        struct buf *all = strlist_add(&fused);
        for (size_t i = 0; i < l->len; i++)
            buf_append(all, l->v[i].data, l->v[i].len);
        strlist_free(l);
        *l = fused;
        return;
    }
    case DEC_STRIP:
        for (size_t i = 0; i < l->len; i++) {
            struct buf *tk = &l->v[i];
            size_t start = 0, stop = tk->len;
            for (int k = 0; k < st->start && stop - start >= st->alen &&
                            memcmp(tk->data + start, st->a, st->alen) == 0;
                 k++)
                start += st->alen;
            for (int k = 0; k < st->stop && stop - start >= st->alen &&
                            memcmp(tk->data + stop - st->alen, st->a, st->alen) == 0;
                 k++)
                stop -= st->alen;
            memmove(tk->data, tk->data + start, stop - start);
            tk->len = stop - start;
            tk->data[tk->len] = '\0';
        }
        return;
    case DEC_BYTE_FALLBACK: {
        struct strlist r = {0};
        struct buf pending = {0};
        for (size_t i = 0; i <= l->len; i++) {
            const struct buf *tk = i < l->len ? &l->v[i] : NULL;
            int hi = -1, lo = -1;
            if (tk && tk->len == 6 && memcmp(tk->data, "<0x", 3) == 0 && tk->data[5] == '>') {
                char h[3] = {tk->data[3], tk->data[4], 0};
                char *end;
                long v = strtol(h, &end, 16);
                if (*end == '\0' && h[0] != '-' && h[0] != '+' && h[1] != ' ') {
                    hi = (int)v;
                    lo = 0;
                }
            }
            if (lo == 0) {
                char b = (char)hi;
                buf_append(&pending, &b, 1);
                continue;
            }
            if (pending.len) {
                if (utf8_valid_prefix(pending.data, pending.len) == pending.len) {
                    buf_append(strlist_add(&r), pending.data, pending.len);
                } else {
                    for (size_t k = 0; k < pending.len; k++)
                        buf_append(strlist_add(&r), "\xEF\xBF\xBD", 3);
                }
                buf_clear(&pending);
            }
            if (tk)
                buf_append(strlist_add(&r), tk->data, tk->len);
        }
        buf_free(&pending);
        strlist_free(l);
        *l = r;
        return;
    }
    }
}

bool tokenizer_decode(const struct tokenizer *tok, const uint32_t *ids, size_t n, unsigned flags,
                      struct buf *out, struct buf *err)
{
    struct strlist l = {0};
    for (size_t i = 0; i < n; i++) {
        if (ids[i] >= tok->vocab_size) {
            buf_printf(err, "token id %u is outside the vocabulary (0..%u)", ids[i],
                       tok->vocab_size - 1);
            strlist_free(&l);
            return false;
        }
        if ((flags & TOKENIZER_SKIP_SPECIAL) && tok->is_special[ids[i]])
            continue;
        buf_append(strlist_add(&l), tok->texts + tok->text_off[ids[i]], tok->text_len[ids[i]]);
    }
    if (!tok->has_decoder) {
        for (size_t i = 0; i < l.len; i++) {
            if (i)
                buf_putc(out, ' ');
            buf_append(out, l.v[i].data, l.v[i].len);
        }
    } else {
        for (size_t k = 0; k < tok->n_dec; k++)
            decode_step(&tok->dec[k], &l);
        for (size_t i = 0; i < l.len; i++)
            buf_append(out, l.v[i].data, l.v[i].len);
    }
    strlist_free(&l);
    return true;
}
