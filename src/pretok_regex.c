/* A backtracking matcher for the pre-tokenizer regex subset (pretok_regex.h).
 *
 * The pattern compiles to nodes linked by `next` (what follows inside the
 * same sequence); matching is continuation passing: a node that finishes a
 * group hands over to the continuation stack `k`. Repeats of one class are
 * loops (greedy: longest first, then give back one character at a time),
 * so the recursion depth depends on the pattern, not on the text. */
#include "pretok_regex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unicode.h"

#define MAX_NODES 512
#define MAX_RANGES 32
#define MAX_BRANCHES 32
#define REPEAT_INF (-1)

enum node_kind {
    N_ALT,
    N_REPEAT,
    N_GROUP_OPT,
    N_LOOK_NOT,
    N_LOOK
};

struct char_class {
    bool negate;
    uint32_t categories; /* bit per enum unicode_category */
    bool space, not_space, word, not_word;
    uint32_t lo[MAX_RANGES], hi[MAX_RANGES];
    int nranges;
    uint64_t ascii[2]; /* precomputed answer for code points < 128 */
};

struct node {
    enum node_kind kind;
    struct node *next;
    struct char_class *cls;            /* N_REPEAT */
    int min, max;                      /* N_REPEAT */
    struct node *branch[MAX_BRANCHES]; /* N_ALT; [0] for groups and lookarounds */
    int nbranches;
};

struct pretok_regex {
    struct node nodes[MAX_NODES];
    int nnodes;
    struct char_class *classes[MAX_NODES];
    int nclasses;
    struct node *start;
};

/* --- compiling ----------------------------------------------------------- */

struct parser {
    struct pretok_regex *rx;
    const char *p, *end, *pattern;
    bool icase;
    struct buf *err;
    bool failed;
};

static void fail(struct parser *ps, const char *what)
{
    if (!ps->failed)
        buf_printf(ps->err, "unsupported regex construct at offset %zu: %s (pattern \"%.80s\")",
                   (size_t)(ps->p - ps->pattern), what, ps->pattern);
    ps->failed = true;
}

static struct node *new_node(struct parser *ps, enum node_kind kind)
{
    if (ps->rx->nnodes == MAX_NODES) {
        fail(ps, "pattern too long");
        return NULL;
    }
    struct node *n = &ps->rx->nodes[ps->rx->nnodes++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    return n;
}

static struct char_class *new_class(struct parser *ps)
{
    if (ps->rx->nclasses == MAX_NODES) {
        /* The compile fails; hand back a class that is freed with the rest. */
        fail(ps, "pattern too long");
        return ps->rx->classes[MAX_NODES - 1];
    }
    struct char_class *c = xcalloc(1, sizeof *c);
    ps->rx->classes[ps->rx->nclasses++] = c;
    return c;
}

static void add_range(struct parser *ps, struct char_class *c, uint32_t lo, uint32_t hi)
{
    if (c->nranges == MAX_RANGES) {
        fail(ps, "too many ranges in a class");
        return;
    }
    c->lo[c->nranges] = lo;
    c->hi[c->nranges] = hi;
    c->nranges++;
}

/* A literal; case-insensitive letters also match their case partners. */
static void add_literal(struct parser *ps, struct char_class *c, uint32_t cp)
{
    add_range(ps, c, cp, cp);
    if (!ps->icase)
        return;
    char folded = unicode_fold_to_ascii(cp);
    if (!folded) {
        if (unicode_is_letter(cp))
            fail(ps, "case-insensitive non-ASCII letter");
        return;
    }
    add_range(ps, c, (uint32_t)folded, (uint32_t)folded);
    add_range(ps, c, (uint32_t)folded - 'a' + 'A', (uint32_t)folded - 'a' + 'A');
    for (size_t i = 0; i < unicode_ascii_folds_count; i++) {
        if (unicode_ascii_folds[i].ascii == folded)
            add_range(ps, c, unicode_ascii_folds[i].cp, unicode_ascii_folds[i].cp);
    }
}

static const struct {
    const char *name;
    uint32_t mask;
} category_sets[] = {
#define B(c) (1u << (c))
    {"L", B(UC_Lu) | B(UC_Ll) | B(UC_Lt) | B(UC_Lm) | B(UC_Lo)},
    {"Lu", B(UC_Lu)},
    {"Ll", B(UC_Ll)},
    {"Lt", B(UC_Lt)},
    {"Lm", B(UC_Lm)},
    {"Lo", B(UC_Lo)},
    {"M", B(UC_Mn) | B(UC_Mc) | B(UC_Me)},
    {"Mn", B(UC_Mn)},
    {"Mc", B(UC_Mc)},
    {"Me", B(UC_Me)},
    {"N", B(UC_Nd) | B(UC_Nl) | B(UC_No)},
    {"Nd", B(UC_Nd)},
    {"Nl", B(UC_Nl)},
    {"No", B(UC_No)},
    {"P", B(UC_Pc) | B(UC_Pd) | B(UC_Ps) | B(UC_Pe) | B(UC_Pi) | B(UC_Pf) | B(UC_Po)},
    {"Pc", B(UC_Pc)},
    {"Pd", B(UC_Pd)},
    {"Ps", B(UC_Ps)},
    {"Pe", B(UC_Pe)},
    {"Pi", B(UC_Pi)},
    {"Pf", B(UC_Pf)},
    {"Po", B(UC_Po)},
    {"S", B(UC_Sm) | B(UC_Sc) | B(UC_Sk) | B(UC_So)},
    {"Sm", B(UC_Sm)},
    {"Sc", B(UC_Sc)},
    {"Sk", B(UC_Sk)},
    {"So", B(UC_So)},
    {"Z", B(UC_Zs) | B(UC_Zl) | B(UC_Zp)},
    {"Zs", B(UC_Zs)},
    {"Zl", B(UC_Zl)},
    {"Zp", B(UC_Zp)},
    {"C", B(UC_Cc) | B(UC_Cf) | B(UC_Cs) | B(UC_Co) | B(UC_Cn)},
    {"Cc", B(UC_Cc)},
    {"Cf", B(UC_Cf)},
    {"Cs", B(UC_Cs)},
    {"Co", B(UC_Co)},
    {"Cn", B(UC_Cn)},
#undef B
};

static bool class_test(const struct char_class *c, uint32_t cp);

static uint32_t parse_hex(struct parser *ps, int maxdigits, bool braced)
{
    uint32_t v = 0;
    int n = 0;
    while (ps->p < ps->end && (maxdigits < 0 || n < maxdigits)) {
        char ch = *ps->p;
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0)
            break;
        v = v * 16 + (uint32_t)d;
        ps->p++;
        n++;
    }
    if (n == 0 || v > UNICODE_MAX)
        fail(ps, "bad hexadecimal escape");
    if (braced) {
        if (ps->p < ps->end && *ps->p == '}')
            ps->p++;
        else
            fail(ps, "unterminated \\x{...}");
    }
    return v;
}

/* Parses an escape after the backslash into class c (a set or a literal). */
static void parse_escape(struct parser *ps, struct char_class *c)
{
    if (ps->p >= ps->end) {
        fail(ps, "trailing backslash");
        return;
    }
    char e = *ps->p++;
    switch (e) {
    case 's': c->space = true; return;
    case 'S': c->not_space = true; return;
    case 'd': c->categories |= 1u << UC_Nd; return;
    case 'w': c->word = true; return;
    case 'W': c->not_word = true; return;
    case 'D': fail(ps, "\\D"); return;
    case 'p':
    case 'P': {
        const char *name = ps->p;
        size_t len;
        if (ps->p < ps->end && *ps->p == '{') {
            name = ++ps->p;
            while (ps->p < ps->end && *ps->p != '}')
                ps->p++;
            if (ps->p >= ps->end) {
                fail(ps, "unterminated \\p{...}");
                return;
            }
            len = (size_t)(ps->p - name);
            ps->p++;
        } else {
            len = ps->p < ps->end ? 1 : 0;
            ps->p += len;
        }
        bool neg = e == 'P';
        if (len > 0 && name[0] == '^') {
            neg = !neg;
            name++;
            len--;
        }
        for (size_t i = 0; i < ARRAY_LEN(category_sets); i++) {
            if (strlen(category_sets[i].name) == len &&
                memcmp(category_sets[i].name, name, len) == 0) {
                if (neg) {
                    /* \P{X} inside a larger class would need set algebra. */
                    if (c->categories || c->nranges || c->space || c->word) {
                        fail(ps, "\\P{...} combined with other items in a class");
                        return;
                    }
                    c->categories = ~category_sets[i].mask & ((1u << UC_COUNT) - 1);
                } else {
                    c->categories |= category_sets[i].mask;
                }
                return;
            }
        }
        fail(ps, "unknown Unicode property (only general categories are supported)");
        return;
    }
    case 'r': add_literal(ps, c, '\r'); return;
    case 'n': add_literal(ps, c, '\n'); return;
    case 't': add_literal(ps, c, '\t'); return;
    case 'f': add_literal(ps, c, '\f'); return;
    case 'v': add_literal(ps, c, '\v'); return;
    case 'e': add_literal(ps, c, 0x1b); return;
    case '0': add_literal(ps, c, 0); return;
    case 'x':
        if (ps->p < ps->end && *ps->p == '{') {
            ps->p++;
            add_literal(ps, c, parse_hex(ps, 8, true));
        } else {
            add_literal(ps, c, parse_hex(ps, 2, false));
        }
        return;
    case 'u': add_literal(ps, c, parse_hex(ps, 4, false)); return;
    default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
            char what[32];
            snprintf(what, sizeof what, "escape \\%c", e);
            fail(ps, what);
            return;
        }
        add_literal(ps, c, (unsigned char)e);
    }
}

static uint32_t next_cp(struct parser *ps)
{
    uint32_t cp;
    size_t n = utf8_decode((const unsigned char *)ps->p, (size_t)(ps->end - ps->p), &cp);
    if (!n) {
        fail(ps, "invalid UTF-8 in the pattern");
        ps->p = ps->end;
        return 0;
    }
    ps->p += n;
    return cp;
}

static void finish_class(struct char_class *c)
{
    c->ascii[0] = c->ascii[1] = 0;
    for (uint32_t cp = 0; cp < 128; cp++) {
        if (class_test(c, cp))
            c->ascii[cp >> 6] |= 1ull << (cp & 63);
    }
}

static struct char_class *parse_bracket(struct parser *ps)
{
    struct char_class *c = new_class(ps);
    if (ps->p < ps->end && *ps->p == '^') {
        c->negate = true;
        ps->p++;
    }
    bool first = true;
    while (ps->p < ps->end && (*ps->p != ']' || first)) {
        first = false;
        if (*ps->p == '[') {
            fail(ps, "nested class or POSIX bracket");
            return c;
        }
        if (*ps->p == '&' && ps->p + 1 < ps->end && ps->p[1] == '&') {
            fail(ps, "class intersection &&");
            return c;
        }
        uint32_t lo;
        if (*ps->p == '\\') {
            ps->p++;
            struct char_class tmp = {0};
            bool save = ps->icase;
            ps->icase = false;
            parse_escape(ps, &tmp);
            ps->icase = save;
            if (tmp.nranges != 1 || tmp.categories || tmp.space || tmp.not_space || tmp.word ||
                tmp.not_word) {
                if (tmp.not_space || tmp.not_word) {
                    fail(ps, "\\S or \\W inside a class");
                    return c;
                }
                c->categories |= tmp.categories;
                c->space |= tmp.space;
                c->word |= tmp.word;
                for (int i = 0; i < tmp.nranges; i++)
                    add_range(ps, c, tmp.lo[i], tmp.hi[i]);
                continue;
            }
            lo = tmp.lo[0];
        } else {
            lo = next_cp(ps);
        }
        if (ps->p + 1 < ps->end && *ps->p == '-' && ps->p[1] != ']') {
            ps->p++;
            uint32_t hi;
            if (*ps->p == '\\') {
                ps->p++;
                struct char_class tmp = {0};
                parse_escape(ps, &tmp);
                if (tmp.nranges != 1) {
                    fail(ps, "bad range end");
                    return c;
                }
                hi = tmp.lo[0];
            } else {
                hi = next_cp(ps);
            }
            if (hi < lo) {
                fail(ps, "range out of order");
                return c;
            }
            if (ps->icase)
                fail(ps, "case-insensitive range");
            add_range(ps, c, lo, hi);
        } else {
            add_literal(ps, c, lo);
        }
    }
    if (ps->p >= ps->end) {
        fail(ps, "unterminated [...]");
        return c;
    }
    ps->p++; /* ']' */
    finish_class(c);
    return c;
}

static struct node *parse_alternation(struct parser *ps);

/* One atom with its quantifier. Returns the node (its `next` unset). */
static struct node *parse_atom(struct parser *ps)
{
    char ch = *ps->p;
    struct node *n = NULL;
    struct char_class *cls = NULL;
    if (ch == '(') {
        ps->p++;
        bool save_icase = ps->icase;
        enum node_kind kind = N_GROUP_OPT;
        bool look = false;
        if (ps->p < ps->end && *ps->p == '?') {
            ps->p++;
            if (ps->p < ps->end && *ps->p == ':') {
                ps->p++;
            } else if (ps->p < ps->end && *ps->p == '!') {
                ps->p++;
                kind = N_LOOK_NOT;
                look = true;
            } else if (ps->p < ps->end && *ps->p == '=') {
                ps->p++;
                kind = N_LOOK;
                look = true;
            } else if (ps->p + 1 < ps->end && ps->p[0] == 'i' && ps->p[1] == ':') {
                ps->p += 2;
                ps->icase = true;
            } else {
                fail(ps, "group flag or kind other than (?:, (?i:, (?! and (?=");
                return NULL;
            }
        }
        struct node *inner = parse_alternation(ps);
        ps->icase = save_icase;
        if (ps->failed)
            return NULL;
        if (ps->p >= ps->end || *ps->p != ')') {
            fail(ps, "unbalanced parenthesis");
            return NULL;
        }
        ps->p++;
        n = new_node(ps, kind);
        if (!n)
            return NULL;
        n->branch[0] = inner;
        n->nbranches = 1;
        n->min = n->max = 1;
        if (look)
            return n;
    } else {
        if (ch == '^' || ch == '$') {
            fail(ps, "anchor");
            return NULL;
        }
        if (ch == '*' || ch == '+' || ch == '?' || ch == '{') {
            fail(ps, "quantifier without an atom");
            return NULL;
        }
        if (ch == '[') {
            ps->p++;
            cls = parse_bracket(ps);
        } else if (ch == '.') {
            ps->p++;
            cls = new_class(ps);
            cls->negate = true;
            add_range(ps, cls, '\n', '\n');
            finish_class(cls);
        } else if (ch == '\\') {
            ps->p++;
            cls = new_class(ps);
            parse_escape(ps, cls);
            finish_class(cls);
        } else {
            cls = new_class(ps);
            add_literal(ps, cls, next_cp(ps));
            finish_class(cls);
        }
        n = new_node(ps, N_REPEAT);
        if (!n)
            return NULL;
        n->cls = cls;
        n->min = n->max = 1;
    }
    if (ps->failed)
        return NULL;
    /* Quantifier. */
    int min = 1, max = 1;
    if (ps->p < ps->end) {
        char q = *ps->p;
        if (q == '?' || q == '*' || q == '+') {
            ps->p++;
            min = q == '+' ? 1 : 0;
            max = q == '?' ? 1 : REPEAT_INF;
        } else if (q == '{') {
            const char *save = ps->p++;
            char *endp;
            long a = strtol(ps->p, &endp, 10);
            if (endp == ps->p) {
                ps->p = save; /* a literal '{' in Oniguruma; refuse it */
                fail(ps, "literal '{'");
                return NULL;
            }
            ps->p = endp;
            long b = a;
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                b = strtol(ps->p, &endp, 10);
                if (endp == ps->p)
                    b = REPEAT_INF;
                ps->p = endp;
            }
            if (ps->p >= ps->end || *ps->p != '}' || a < 0 || a > 1000 ||
                (b != REPEAT_INF && b < a)) {
                fail(ps, "bad {m,n} quantifier");
                return NULL;
            }
            ps->p++;
            min = (int)a;
            max = (int)b;
        }
        if (ps->p < ps->end && (*ps->p == '?' || *ps->p == '+') && (min != 1 || max != 1)) {
            fail(ps, "lazy or possessive quantifier");
            return NULL;
        }
    }
    if (n->kind == N_GROUP_OPT) {
        if (min == 1 && max == 1)
            n->min = 1;
        else if (min == 0 && max == 1)
            n->min = 0;
        else
            fail(ps, "repeated group (only (...)? is supported)");
        return n;
    }
    n->min = min;
    n->max = max;
    return n;
}

static struct node *parse_sequence(struct parser *ps)
{
    struct node *head = NULL, *tail = NULL;
    while (ps->p < ps->end && *ps->p != '|' && *ps->p != ')' && !ps->failed) {
        struct node *n = parse_atom(ps);
        if (!n)
            return NULL;
        if (tail)
            tail->next = n;
        else
            head = n;
        tail = n;
    }
    return head; /* NULL: the empty sequence */
}

static struct node *parse_alternation(struct parser *ps)
{
    struct node *first = parse_sequence(ps);
    if (ps->failed || ps->p >= ps->end || *ps->p != '|')
        return first;
    struct node *alt = new_node(ps, N_ALT);
    if (!alt)
        return NULL;
    alt->branch[alt->nbranches++] = first;
    while (ps->p < ps->end && *ps->p == '|' && !ps->failed) {
        ps->p++;
        if (alt->nbranches == MAX_BRANCHES) {
            fail(ps, "too many alternatives");
            return NULL;
        }
        alt->branch[alt->nbranches++] = parse_sequence(ps);
    }
    return alt;
}

struct pretok_regex *pretok_regex_compile(const char *pattern, size_t len, struct buf *err)
{
    struct pretok_regex *rx = xcalloc(1, sizeof *rx);
    char *copy = xstrndup(pattern, len);
    struct parser ps = {.rx = rx, .p = copy, .end = copy + len, .pattern = copy, .err = err};
    rx->start = parse_alternation(&ps);
    if (!ps.failed && ps.p < ps.end)
        fail(&ps, "unbalanced parenthesis");
    free(copy);
    if (ps.failed) {
        pretok_regex_free(rx);
        return NULL;
    }
    return rx;
}

void pretok_regex_free(struct pretok_regex *rx)
{
    if (!rx)
        return;
    for (int i = 0; i < rx->nclasses; i++)
        free(rx->classes[i]);
    free(rx);
}

/* --- matching -------------------------------------------------------------- */

/* Oniguruma's Unicode \w: Alphabetic, marks, decimal digits, connector
 * punctuation and the joiners. */
static bool is_word(uint32_t cp)
{
    uint8_t p = unicode_props(cp);
    enum unicode_category c = (enum unicode_category)(p & UNICODE_PROP_CATEGORY);
    return (p & UNICODE_PROP_ALPHABETIC) || c == UC_Mn || c == UC_Mc || c == UC_Me || c == UC_Nd ||
           c == UC_Pc || cp == 0x200C || cp == 0x200D;
}

static bool class_test(const struct char_class *c, uint32_t cp)
{
    bool in = false;
    if (c->categories && (c->categories >> unicode_category(cp) & 1))
        in = true;
    else if (c->space && unicode_is_space(cp))
        in = true;
    else if (c->not_space && !unicode_is_space(cp))
        in = true;
    else if (c->word && is_word(cp))
        in = true;
    else if (c->not_word && !is_word(cp))
        in = true;
    else {
        for (int i = 0; i < c->nranges; i++) {
            if (cp >= c->lo[i] && cp <= c->hi[i]) {
                in = true;
                break;
            }
        }
    }
    return in != c->negate;
}

/* Length of the character at text[pos] if it is in the class, else 0. */
static inline size_t class_at(const struct char_class *c, const unsigned char *text, size_t len,
                              size_t pos)
{
    if (pos >= len)
        return 0;
    if (text[pos] < 0x80)
        return (c->ascii[text[pos] >> 6] >> (text[pos] & 63) & 1) ? 1 : 0;
    uint32_t cp;
    size_t n = utf8_decode(text + pos, len - pos, &cp);
    if (!n)
        return 0;
    return class_test(c, cp) ? n : 0;
}

struct cont {
    const struct node *node;
    const struct cont *next;
};

struct subject {
    const unsigned char *text;
    size_t len;
};

static bool match(const struct subject *s, const struct node *n, size_t pos, const struct cont *k,
                  size_t *end)
{
    for (;;) {
        if (!n) {
            if (!k) {
                *end = pos;
                return true;
            }
            n = k->node;
            k = k->next;
            continue;
        }
        switch (n->kind) {
        case N_REPEAT: {
            if (n->min == 1 && n->max == 1) {
                size_t len = class_at(n->cls, s->text, s->len, pos);
                if (!len)
                    return false;
                pos += len;
                n = n->next;
                continue;
            }
            size_t p = pos;
            int count = 0;
            while (n->max == REPEAT_INF || count < n->max) {
                size_t len = class_at(n->cls, s->text, s->len, p);
                if (!len)
                    break;
                p += len;
                count++;
            }
            if (count < n->min)
                return false;
            /* Give back one character at a time (UTF-8 steps back to a lead byte). */
            for (;;) {
                if (match(s, n->next, p, k, end))
                    return true;
                if (count == n->min)
                    return false;
                do
                    p--;
                while (p > pos && (s->text[p] & 0xC0) == 0x80);
                count--;
            }
        }
        case N_ALT: {
            for (int i = 0; i < n->nbranches; i++) {
                struct cont c = {n->next, k};
                if (match(s, n->branch[i], pos, &c, end))
                    return true;
            }
            return false;
        }
        case N_GROUP_OPT: {
            struct cont c = {n->next, k};
            if (match(s, n->branch[0], pos, &c, end))
                return true;
            if (n->min == 1)
                return false;
            n = n->next;
            continue;
        }
        case N_LOOK_NOT:
        case N_LOOK: {
            size_t ignored;
            bool found = match(s, n->branch[0], pos, NULL, &ignored);
            if (found != (n->kind == N_LOOK))
                return false;
            n = n->next;
            continue;
        }
        }
    }
}

bool pretok_regex_find(const struct pretok_regex *rx, const char *text, size_t len, size_t from,
                       size_t *start, size_t *end)
{
    struct subject s = {(const unsigned char *)text, len};
    for (size_t pos = from; pos < len;) {
        size_t e;
        if (match(&s, rx->start, pos, NULL, &e) && e > pos) {
            *start = pos;
            *end = e;
            return true;
        }
        pos++;
        while (pos < len && (s.text[pos] & 0xC0) == 0x80)
            pos++;
    }
    return false;
}
