/* UTF-8 and Unicode normalization over the generated tables (unicode.h). */
#include "unicode.h"

#include <stdlib.h>
#include <string.h>

char unicode_fold_to_ascii(uint32_t cp)
{
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z')
            return (char)(cp - 'A' + 'a');
        if (cp >= 'a' && cp <= 'z')
            return (char)cp;
        return 0;
    }
    for (size_t i = 0; i < unicode_ascii_folds_count; i++) {
        if (unicode_ascii_folds[i].cp == cp)
            return unicode_ascii_folds[i].ascii;
    }
    return 0;
}

size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    if (len == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > UNICODE_MAX || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

size_t utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t utf8_valid_prefix(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_decode(u + i, len - i, &cp);
        if (!n)
            break;
        i += n;
    }
    return i;
}

/* Length of the maximal subpart of an ill-formed sequence at s (>= 1): the
 * longest prefix that could start a valid sequence (Unicode 3.9, U+FFFD
 * substitution of maximal subparts). */
static size_t maximal_subpart(const unsigned char *s, size_t len)
{
    unsigned c = s[0];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        need = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        need = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 1;
    size_t i = 1;
    if (i < len && s[i] >= lo && s[i] <= hi) {
        i++;
        while (i < need && i < len && (s[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

void utf8_append_lossy(struct buf *out, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t ok = utf8_valid_prefix(s + i, len - i);
        buf_append(out, s + i, ok);
        i += ok;
        if (i < len) {
            buf_append(out, "\xEF\xBF\xBD", 3);
            i += maximal_subpart(u + i, len - i);
        }
    }
}

/* --- normalization ------------------------------------------------------ */

#define HANGUL_S 0xAC00
#define HANGUL_L 0x1100
#define HANGUL_V 0x1161
#define HANGUL_T 0x11A7
#define HANGUL_LCOUNT 19
#define HANGUL_VCOUNT 21
#define HANGUL_TCOUNT 28
#define HANGUL_NCOUNT (HANGUL_VCOUNT * HANGUL_TCOUNT)
#define HANGUL_SCOUNT (HANGUL_LCOUNT * HANGUL_NCOUNT)

struct cps {
    uint32_t *v;
    size_t len, cap;
};

static void cps_push(struct cps *c, uint32_t cp)
{
    if (c->len == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->len++] = cp;
}

static const struct unicode_decomposition *
find_decomposition(const struct unicode_decomposition *table, size_t count, uint32_t cp)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (table[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < count && table[lo].cp == cp ? &table[lo] : NULL;
}

static void decompose(uint32_t cp, bool compat, struct cps *out)
{
    if (cp >= HANGUL_S && cp < HANGUL_S + HANGUL_SCOUNT) {
        uint32_t s = cp - HANGUL_S;
        cps_push(out, HANGUL_L + s / HANGUL_NCOUNT);
        cps_push(out, HANGUL_V + s % HANGUL_NCOUNT / HANGUL_TCOUNT);
        if (s % HANGUL_TCOUNT)
            cps_push(out, HANGUL_T + s % HANGUL_TCOUNT);
        return;
    }
    if (unicode_props(cp) & UNICODE_PROP_NORM) {
        const struct unicode_decomposition *d =
            compat ? find_decomposition(unicode_compat, unicode_compat_count, cp)
                   : find_decomposition(unicode_canonical, unicode_canonical_count, cp);
        if (d) {
            const uint32_t *pool = compat ? unicode_compat_pool : unicode_canonical_pool;
            for (uint32_t i = 0; i < d->len; i++)
                cps_push(out, pool[d->offset + i]);
            return;
        }
    }
    cps_push(out, cp);
}

static uint32_t compose_pair(uint32_t a, uint32_t b)
{
    if (a >= HANGUL_L && a < HANGUL_L + HANGUL_LCOUNT && b >= HANGUL_V &&
        b < HANGUL_V + HANGUL_VCOUNT)
        return HANGUL_S + ((a - HANGUL_L) * HANGUL_VCOUNT + (b - HANGUL_V)) * HANGUL_TCOUNT;
    if (a >= HANGUL_S && a < HANGUL_S + HANGUL_SCOUNT && (a - HANGUL_S) % HANGUL_TCOUNT == 0 &&
        b > HANGUL_T && b < HANGUL_T + HANGUL_TCOUNT)
        return a + (b - HANGUL_T);
    uint64_t key = (uint64_t)a << 21 | b;
    size_t lo = 0, hi = unicode_compositions_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (unicode_compositions[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < unicode_compositions_count && unicode_compositions[lo].key == key)
        return unicode_compositions[lo].composite;
    return 0;
}

/* Canonical ordering: a stable sort of each run of non-starters by class. */
static void canonical_order(struct cps *c)
{
    for (size_t i = 1; i < c->len; i++) {
        uint32_t cp = c->v[i];
        uint8_t cc = unicode_ccc(cp);
        if (cc == 0)
            continue;
        size_t j = i;
        while (j > 0) {
            uint8_t prev = unicode_ccc(c->v[j - 1]);
            if (prev == 0 || prev <= cc)
                break;
            c->v[j] = c->v[j - 1];
            j--;
        }
        c->v[j] = cp;
    }
}

static void canonical_compose(struct cps *c)
{
    if (c->len == 0)
        return;
    size_t starter = 0, out = 1;
    int last_class = unicode_ccc(c->v[0]) ? 256 : 0;
    for (size_t i = 1; i < c->len; i++) {
        uint32_t cp = c->v[i];
        int cls = unicode_ccc(cp);
        uint32_t composite =
            last_class < cls || last_class == 0 ? compose_pair(c->v[starter], cp) : 0;
        if (composite) {
            c->v[starter] = composite;
            continue;
        }
        if (cls == 0)
            starter = out;
        last_class = cls;
        c->v[out++] = cp;
    }
    c->len = out;
}

void unicode_normalize(enum unicode_form form, const char *text, size_t len, struct buf *out)
{
    const unsigned char *u = (const unsigned char *)text;
    bool sensitive = false;
    for (size_t i = 0; i < len;) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_decode(u + i, len - i, &cp);
        if (!n) {
            i++;
            continue;
        }
        if (unicode_props(cp) & UNICODE_PROP_NORM) {
            sensitive = true;
            break;
        }
        i += n;
    }
    if (!sensitive) {
        buf_append(out, text, len);
        return;
    }
    bool compat = form == UNICODE_NFKC || form == UNICODE_NFKD;
    struct cps c = {0};
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(u + i, len - i, &cp);
        if (!n) {
            cp = UNICODE_REPLACEMENT;
            n = 1;
        }
        decompose(cp, compat, &c);
        i += n;
    }
    canonical_order(&c);
    if (form == UNICODE_NFC || form == UNICODE_NFKC)
        canonical_compose(&c);
    char enc[4];
    buf_reserve(out, c.len * 3);
    for (size_t i = 0; i < c.len; i++)
        buf_append(out, enc, utf8_encode(c.v[i], enc));
    free(c.v);
}
