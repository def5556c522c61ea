/* Synthetic and dataset prompts (prompts.h).
 *
 * A synthetic prompt is a sequence of word units: the first without a
 * leading space, the rest as " word". Every unit has a cost in tokens at
 * the start of a text and after another word (or, without a tokenizer, in
 * bytes), measured once; a prompt of N tokens is units whose costs add up
 * to N. Whether costs really add up is checked on samples when the source
 * is made; where they do not, each prompt is re-encoded and corrected. */
#include "prompts.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unicode.h"

#define LEAD_WORDS 4            /* unique lead, in word units */
#define ADDITIVITY_SAMPLES 2000 /* seeded compositions checked at creation */
#define FIX_PASSES 8            /* non-additive tokenizers: re-encode and correct */
#define BYTES_PER_TOKEN 4       /* the approximation without a tokenizer */
#define MAX_WORD 12

struct unit {
    uint32_t off; /* of " word" in unit_text */
    uint16_t len; /* with the leading space */
    uint16_t start_cost, mid_cost;
};

struct dataset_line {
    char *text;
    size_t len;
    int tokens;
    int output_tokens; /* 0: draw */
};

struct prompt_source {
    const struct tokenizer *tok; /* NULL: byte costs, approximate */
    bool additive;
    uint64_t seed;
    struct token_dist prompt_dist, output_dist;

    char *unit_text;
    struct unit *units;
    size_t n_units;
    uint32_t *single; /* units that cost 1 after a word: lead digits, exact fill */
    size_t n_single;
    uint32_t *by_len[MAX_WORD + 2]; /* byte mode: units by total length */
    size_t n_by_len[MAX_WORD + 2];
    /* lead: index -> (index * mult + offset) mod space, its base-K digits units */
    uint64_t lead_base, lead_space, lead_mult, lead_offset;

    struct buf prefix;      /* the shared prefix text */
    long prefix_cost;       /* its cost: shared_prefix_tokens tokens (or 4 bytes each) */
    uint32_t *prefix_units; /* its units, for cuts */
    size_t n_prefix_units;

    struct dataset_line *lines;
    size_t n_lines;
    char *description;
};

/* --- seeded randomness ------------------------------------------------------ */

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t stream_state(uint64_t seed, uint64_t index, uint64_t stream)
{
    uint64_t s = seed ^ 0x6C6C6D7377656570ULL; /* "llmsweep" */
    uint64_t a = splitmix(&s) ^ index;
    uint64_t b = splitmix(&a) ^ stream;
    return splitmix(&b);
}

static uint64_t below(uint64_t *state, uint64_t n)
{
    return n ? splitmix(state) % n : 0;
}

int prompt_draw_tokens(const struct token_dist *d, uint64_t seed, uint64_t index, int stream)
{
    double v = d->mean;
    if (d->stdev > 0) {
        uint64_t st = stream_state(seed, index, 100 + (uint64_t)stream);
        double u1 = ((double)(splitmix(&st) >> 11) + 1.0) / 9007199254740993.0; /* (0, 1] */
        double u2 = (double)(splitmix(&st) >> 11) / 9007199254740992.0;
        v += d->stdev * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
    }
    long n = lround(v);
    long lo = d->min > 1 ? d->min : 1;
    if (n < lo)
        n = lo;
    if (d->max > 0 && n > d->max)
        n = d->max;
    return n > 100000000 ? 100000000 : (int)n;
}

/* --- units ------------------------------------------------------------------- */

static size_t count_tokens(const struct prompt_source *ps, struct tokenizer_session *s,
                           const char *text, size_t len)
{
    if (!ps->tok)
        return len;
    return tokenizer_count(s, text, len);
}

static int unit_cost(const struct prompt_source *ps, uint32_t u, bool first)
{
    return first ? ps->units[u].start_cost : ps->units[u].mid_cost;
}

static void append_unit(const struct prompt_source *ps, struct buf *b, uint32_t u)
{
    const struct unit *un = &ps->units[u];
    if (b->len == 0)
        buf_append(b, ps->unit_text + un->off + 1, un->len - 1u);
    else
        buf_append(b, ps->unit_text + un->off, un->len);
}

/* Measures every word; keeps those whose costs are usable. */
static bool build_units(struct prompt_source *ps, struct tokenizer_session *s, struct buf *err)
{
    struct buf text = {0}, probe = {0};
    ps->units = xcalloc(unicode_name_words_count, sizeof *ps->units);
    const char *anchor = "x";
    size_t anchor_cost = count_tokens(ps, s, anchor, 1);
    for (size_t i = 0; i < unicode_name_words_count; i++) {
        const char *w = unicode_name_words[i];
        size_t wlen = strlen(w);
        if (wlen > MAX_WORD)
            continue;
        size_t start = count_tokens(ps, s, w, wlen);
        buf_clear(&probe);
        buf_printf(&probe, "%s %s", anchor, w);
        size_t with = count_tokens(ps, s, probe.data, probe.len);
        if (with <= anchor_cost || start == 0 || start > 60 || with - anchor_cost > 60)
            continue;
        struct unit *u = &ps->units[ps->n_units++];
        u->off = (uint32_t)text.len;
        u->len = (uint16_t)(wlen + 1);
        u->start_cost = (uint16_t)start;
        u->mid_cost = (uint16_t)(with - anchor_cost);
        buf_putc(&text, ' ');
        buf_append(&text, w, wlen);
    }
    buf_free(&probe);
    ps->unit_text = buf_steal(&text);
    ps->single = xcalloc(ps->n_units ? ps->n_units : 1, sizeof *ps->single);
    for (size_t i = 0; i < ps->n_units; i++) {
        if (ps->units[i].mid_cost == 1)
            ps->single[ps->n_single++] = (uint32_t)i;
        size_t len = ps->units[i].len;
        if (!ps->tok && len <= MAX_WORD + 1) {
            ps->by_len[len] = xrealloc(ps->by_len[len], (ps->n_by_len[len] + 1) * sizeof(uint32_t));
            ps->by_len[len][ps->n_by_len[len]++] = (uint32_t)i;
        }
    }
    if (ps->tok && ps->n_single < 16) {
        buf_printf(err,
                   "the tokenizer encodes only %zu of the prompt words as one token; exact "
                   "prompt lengths need at least 16",
                   ps->n_single);
        return false;
    }
    if (!ps->tok) {
        for (size_t len = 4; len <= MAX_WORD + 1; len++) {
            if (!ps->n_by_len[len]) {
                buf_printf(err, "no prompt word of %zu letters", len - 1);
                return false;
            }
        }
    }
    return true;
}

/* Lead digits: (index * mult) mod K^L is a bijection on [0, K^L) when mult
 * is coprime to K; consecutive requests differ in the first digit. */
static void setup_lead(struct prompt_source *ps)
{
    uint64_t k = ps->lead_base = ps->tok ? ps->n_single : ps->n_units;
    ps->lead_space = 1;
    for (int i = 0; i < LEAD_WORDS; i++)
        ps->lead_space *= k;
    /* Small enough that (index mod space) * mult fits in 64 bits (space < 2^45). */
    uint64_t mult = 40503 % ps->lead_space;
    for (;; mult++) {
        uint64_t a = mult, b = k;
        while (b) {
            uint64_t t = a % b;
            a = b;
            b = t;
        }
        if (a == 1 && mult % k != 0 && mult > 1)
            break;
    }
    ps->lead_mult = mult;
    ps->lead_offset = stream_state(ps->seed, 0, 5) % ps->lead_space;
}

static uint64_t lead_number(const struct prompt_source *ps, uint64_t index)
{
    return ((index % ps->lead_space) * ps->lead_mult % ps->lead_space + ps->lead_offset) %
           ps->lead_space;
}

/* The unit of the lowest base-K digit of *lead; that digit is dropped. */
static uint32_t next_lead_unit(const struct prompt_source *ps, uint64_t *lead)
{
    uint64_t digit = *lead % ps->lead_base;
    *lead /= ps->lead_base;
    return ps->tok ? ps->single[digit] : (uint32_t)digit;
}

/* --- filling ---------------------------------------------------------------------- */

/* Appends units costing exactly `remaining` (tokens) to b. Returns what
 * could not be filled: 0 unless no word is short enough at the very start. */
static long fill_tokens(const struct prompt_source *ps, uint64_t *rng, struct buf *b,
                        long remaining, uint32_t **track, size_t *ntrack)
{
    while (remaining > 0) {
        bool first = b->len == 0;
        uint32_t u = (uint32_t)below(rng, ps->n_units);
        if (unit_cost(ps, u, first) > remaining) {
            u = ps->single[below(rng, ps->n_single)];
            if (unit_cost(ps, u, first) > remaining) {
                /* At the start a one-token word may be two; any word fits later. */
                for (size_t i = 0; i < ps->n_units; i++) {
                    if (unit_cost(ps, (uint32_t)i, first) <= remaining) {
                        u = (uint32_t)i;
                        break;
                    }
                }
                if (unit_cost(ps, u, first) > remaining)
                    return remaining;
            }
        }
        append_unit(ps, b, u);
        remaining -= unit_cost(ps, u, first);
        if (track) {
            *track = xrealloc(*track, (*ntrack + 1) * sizeof **track);
            (*track)[(*ntrack)++] = u;
        }
    }
    return 0;
}

/* Appends text of exactly `remaining` bytes (no tokenizer). */
static void fill_bytes(const struct prompt_source *ps, uint64_t *rng, struct buf *b, long remaining)
{
    if (b->len == 0 && remaining > 0) {
        /* The first word has no space: take one whose rest fits exactly or
         * leaves room for whole words. */
        long want = remaining <= MAX_WORD ? remaining + 1 : 4 + (long)below(rng, 6);
        if (want < 4) {
            buf_append(b, "xyz", (size_t)remaining);
            return;
        }
        uint32_t u = ps->by_len[want][below(rng, ps->n_by_len[want])];
        append_unit(ps, b, u);
        remaining -= want - 1;
    }
    while (remaining > 2 * (MAX_WORD + 1)) {
        uint32_t u = (uint32_t)below(rng, ps->n_units);
        append_unit(ps, b, u);
        remaining -= ps->units[u].len;
    }
    /* 0..26 bytes left: one or two words of exact lengths (4..13 each). */
    if (remaining >= 8) {
        long a = remaining - 4 < MAX_WORD + 1 ? remaining - 4 : MAX_WORD + 1;
        append_unit(ps, b, ps->by_len[a][below(rng, ps->n_by_len[a])]);
        remaining -= a;
    }
    if (remaining >= 4) {
        append_unit(ps, b, ps->by_len[remaining][below(rng, ps->n_by_len[remaining])]);
        remaining = 0;
    }
    /* 1..3 bytes cannot be a word: pad with periods (still ceil(bytes/4)). */
    for (; remaining > 0; remaining--)
        buf_putc(b, '.');
}

/* Checks on seeded samples that unit costs add up for this tokenizer. */
static bool costs_add_up(const struct prompt_source *ps, struct tokenizer_session *s)
{
    struct buf b = {0};
    uint64_t rng = stream_state(ps->seed, 0, 7);
    bool ok = true;
    for (int i = 0; i < ADDITIVITY_SAMPLES && ok; i++) {
        buf_clear(&b);
        long cost = 0;
        int n = 1 + (int)below(&rng, 12);
        for (int k = 0; k < n; k++) {
            uint32_t u = (uint32_t)below(&rng, ps->n_units);
            cost += unit_cost(ps, u, b.len == 0);
            append_unit(ps, &b, u);
        }
        ok = (long)tokenizer_count(s, b.data, b.len) == cost;
    }
    buf_free(&b);
    return ok;
}

/* --- dataset ------------------------------------------------------------------------ */

static bool load_dataset(struct prompt_source *ps, const char *path, struct tokenizer_session *s,
                         struct buf *err)
{
    struct buf data = {0};
    if (!read_file(path, &data)) {
        buf_printf(err, "cannot read dataset %s: %s", path, strerror(errno));
        return false;
    }
    bool ok = true;
    size_t lineno = 0;
    const char *end = data.data + data.len;
    for (const char *p = data.data; p && p < end && ok;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        const char *q = p;
        p = nl ? nl + 1 : end;
        while (len && (q[len - 1] == '\r' || q[len - 1] == ' ' || q[len - 1] == '\t'))
            len--;
        if (len == 0)
            continue;
        cJSON *obj = cJSON_ParseWithLength(q, len);
        const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(obj, "prompt");
        const cJSON *out = cJSON_GetObjectItemCaseSensitive(obj, "output_tokens");
        if (!cJSON_IsObject(obj)) {
            buf_printf(err, "%s line %zu: not a JSON object", path, lineno);
            ok = false;
        } else if (!cJSON_IsString(prompt) || !prompt->valuestring[0]) {
            buf_printf(err, "%s line %zu: no \"prompt\" string", path, lineno);
            ok = false;
        } else if (out && (!cJSON_IsNumber(out) || out->valuedouble < 1 || out->valuedouble > 1e8 ||
                           out->valuedouble != floor(out->valuedouble))) {
            buf_printf(err, "%s line %zu: \"output_tokens\" must be a whole number >= 1", path,
                       lineno);
            ok = false;
        } else {
            ps->lines = xrealloc(ps->lines, (ps->n_lines + 1) * sizeof *ps->lines);
            struct dataset_line *l = &ps->lines[ps->n_lines++];
            l->len = strlen(prompt->valuestring);
            l->text = xstrndup(prompt->valuestring, l->len);
            l->tokens = ps->tok ? (int)tokenizer_count(s, l->text, l->len)
                                : (int)((l->len + BYTES_PER_TOKEN - 1) / BYTES_PER_TOKEN);
            l->output_tokens = out ? (int)out->valuedouble : 0;
        }
        cJSON_Delete(obj);
    }
    if (ok && ps->n_lines == 0) {
        buf_printf(err, "dataset %s holds no prompts", path);
        ok = false;
    }
    buf_free(&data);
    return ok;
}

/* --- the source ----------------------------------------------------------------------- */

struct prompt_source *prompt_source_new(const struct spec *spec, const struct tokenizer *tok,
                                        struct buf *err)
{
    struct prompt_source *ps = xcalloc(1, sizeof *ps);
    ps->tok = tok;
    ps->seed = spec->workload.seed;
    ps->prompt_dist = spec->workload.prompt_tokens;
    ps->output_dist = spec->workload.output_tokens;
    struct tokenizer_session *s = tok ? tokenizer_session_new(tok) : NULL;
    bool ok = true;
    if (spec->workload.dataset) {
        ok = load_dataset(ps, spec->workload.dataset, s, err);
        if (ok)
            ps->description =
                xasprintf("dataset %s (%zu prompts), %s token counts", spec->workload.dataset,
                          ps->n_lines, tok ? "exact" : "approximate (ceil(bytes/4))");
    } else if (ps->prompt_dist.mean <= 0) {
        buf_printf(err, "workload.prompt_tokens.mean must be at least 1");
        ok = false;
    } else {
        ok = build_units(ps, s, err);
        if (ok) {
            setup_lead(ps);
            ps->additive = !tok || costs_add_up(ps, s);
            uint64_t rng = stream_state(ps->seed, 0, 3);
            long target = (long)spec->workload.shared_prefix_tokens * (tok ? 1 : BYTES_PER_TOKEN);
            ps->prefix_cost = target;
            if (tok)
                ps->prefix_cost -= fill_tokens(ps, &rng, &ps->prefix, target, &ps->prefix_units,
                                               &ps->n_prefix_units);
            else
                fill_bytes(ps, &rng, &ps->prefix, target);
            ps->description =
                xasprintf("synthetic (Unicode name words, seed %llu), %s token counts%s",
                          (unsigned long long)ps->seed,
                          tok ? "exact" : "approximate (ceil(bytes/4), no tokenizer)",
                          tok && !ps->additive ? ", each prompt re-encoded" : "");
        }
    }
    tokenizer_session_free(s);
    if (!ok) {
        prompt_source_free(ps);
        return NULL;
    }
    return ps;
}

void prompt_source_free(struct prompt_source *ps)
{
    if (!ps)
        return;
    free(ps->unit_text);
    free(ps->units);
    free(ps->single);
    for (size_t i = 0; i < ARRAY_LEN(ps->by_len); i++)
        free(ps->by_len[i]);
    buf_free(&ps->prefix);
    free(ps->prefix_units);
    for (size_t i = 0; i < ps->n_lines; i++)
        free(ps->lines[i].text);
    free(ps->lines);
    free(ps->description);
    free(ps);
}

bool prompt_source_exact(const struct prompt_source *ps)
{
    return ps->tok != NULL;
}

const char *prompt_source_describe(const struct prompt_source *ps)
{
    return ps->description;
}

void prompt_free(struct prompt *p)
{
    free(p->text);
    *p = (struct prompt){0};
}

/* Re-encodes and corrects a prompt whose costs did not add up: drop units
 * from the end when long, add one-token units when short. */
static long fix_length(const struct prompt_source *ps, struct tokenizer_session *s, struct buf *b,
                       size_t keep, long want, uint64_t *rng)
{
    long n = (long)tokenizer_count(s, b->data, b->len);
    for (int pass = 0; pass < FIX_PASSES && n != want; pass++) {
        if (n > want) {
            for (long drop = n - want; drop > 0 && b->len > keep; drop--) {
                char *sp = memrchr(b->data + keep, ' ', b->len - keep);
                b->len = sp ? (size_t)(sp - b->data) : keep;
                b->data[b->len] = '\0';
            }
        } else {
            for (long add = want - n; add > 0; add--)
                append_unit(ps, b, ps->single[below(rng, ps->n_single)]);
        }
        n = (long)tokenizer_count(s, b->data, b->len);
    }
    return n;
}

void prompt_make(const struct prompt_source *ps, struct tokenizer_session *session, uint64_t index,
                 struct prompt *out)
{
    struct buf b = {out->text, 0, out->cap};
    if (b.data)
        b.data[0] = '\0';
    out->exact = ps->tok != NULL;
    if (ps->n_lines) {
        const struct dataset_line *l = &ps->lines[index % ps->n_lines];
        buf_append(&b, l->text, l->len);
        out->prompt_tokens = l->tokens;
        out->output_tokens = l->output_tokens
                                 ? l->output_tokens
                                 : prompt_draw_tokens(&ps->output_dist, ps->seed, index, 1);
        goto done;
    }
    int n = prompt_draw_tokens(&ps->prompt_dist, ps->seed, index, 0);
    out->output_tokens = prompt_draw_tokens(&ps->output_dist, ps->seed, index, 1);
    uint64_t rng = stream_state(ps->seed, index, 1);
    long unit = ps->tok ? 1 : BYTES_PER_TOKEN;
    long remaining = (long)n * unit;
    long prefix_cost = ps->prefix_cost;
    size_t keep = 0;
    if (remaining <= prefix_cost) {
        /* A cut of the shared prefix. */
        if (!ps->tok) {
            buf_append(&b, ps->prefix.data, (size_t)remaining);
            remaining = 0;
        } else {
            for (size_t i = 0; i < ps->n_prefix_units; i++) {
                uint32_t u = ps->prefix_units[i];
                if (unit_cost(ps, u, b.len == 0) > remaining)
                    break;
                remaining -= unit_cost(ps, u, b.len == 0);
                append_unit(ps, &b, u);
            }
        }
    } else {
        buf_append(&b, ps->prefix.data ? ps->prefix.data : "", ps->prefix.len);
        remaining -= prefix_cost;
        keep = b.len;
        uint64_t lead = lead_number(ps, index);
        for (int d = 0; d < LEAD_WORDS; d++) {
            uint32_t u = next_lead_unit(ps, &lead);
            long cost = ps->tok ? unit_cost(ps, u, b.len == 0)
                                : (long)ps->units[u].len - (b.len == 0 ? 1 : 0);
            /* Without a tokenizer the lead must leave room for whole words. */
            if (cost > remaining || (!ps->tok && remaining - cost < 4 && remaining != cost))
                break;
            append_unit(ps, &b, u);
            remaining -= cost;
            keep = b.len;
        }
    }
    long unfilled = 0;
    if (ps->tok)
        unfilled = fill_tokens(ps, &rng, &b, remaining, NULL, NULL);
    else
        fill_bytes(ps, &rng, &b, remaining);
    out->prompt_tokens = n - (int)unfilled;
    if (ps->tok && !ps->additive)
        out->prompt_tokens = (int)fix_length(ps, session, &b, keep, n, &rng);
    if (!ps->tok)
        out->prompt_tokens = (int)((b.len + BYTES_PER_TOKEN - 1) / BYTES_PER_TOKEN);
done:
    if (!b.data)
        buf_append(&b, "", 0);
    out->text = b.data;
    out->len = b.len;
    out->cap = b.cap;
}
