/* unicode_tables: generates src/unicode.h's tables from the Unicode Character
 * Database (Debian package unicode-data, pinned in tools/deps.lock).
 *
 *   unicode_tables UnicodeData.txt PropList.txt DerivedCoreProperties.txt \
 *                  CompositionExclusions.txt CaseFolding.txt OUT.c
 *
 * build.zig compiles this for the build host, runs it on the files it takes
 * out of UCD.zip and compiles OUT.c into llmsweep. Nothing here is typed by
 * hand: every property comes from the files named above.
 *
 * What OUT.c holds (see src/unicode.h for the lookup functions):
 *   - a two-stage table: code point -> general category, White_Space,
 *     Alphabetic, and "may change under normalization";
 *   - a two-stage table: code point -> canonical combining class;
 *   - full (recursive) canonical and compatibility decompositions;
 *   - the primary composites (pairs that NFC composes), exclusions removed;
 *   - the code points whose simple case folding is an ASCII letter;
 *   - a word list: the words of the character names, for prompt text.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCP 0x110000
#define BLOCK 128

static const char *const category_names[] = {
    "Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps",
    "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co",
};

#define PROP_WHITE_SPACE 0x20
#define PROP_ALPHABETIC 0x40
#define PROP_NORM 0x80

struct decomp {
    int compat; /* has a <tag> */
    int n;
    uint32_t cp[18];
};

static uint8_t props[NCP];
static uint8_t ccc[NCP];
static struct decomp *decomps[NCP];
static uint8_t excluded[NCP];

static void die(const char *what)
{
    fprintf(stderr, "unicode_tables: %s\n", what);
    exit(1);
}

static FILE *open_in(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "unicode_tables: cannot open %s\n", path);
        exit(1);
    }
    return f;
}

static int category_of(const char *name)
{
    for (size_t i = 0; i < sizeof category_names / sizeof *category_names; i++) {
        if (strcmp(category_names[i], name) == 0)
            return (int)i;
    }
    fprintf(stderr, "unicode_tables: unknown general category %s\n", name);
    exit(1);
}

/* Splits a UnicodeData line at ';' (in place). */
static int split_fields(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *semi = strchr(p, ';');
        if (!semi)
            break;
        *semi = '\0';
        p = semi + 1;
    }
    return n;
}

/* Words of the character names (for prompt text): name -> count. */
struct word {
    char text[16];
    int count;
};
static struct word *words;
static size_t nwords, capwords;

static void add_name_words(const char *name)
{
    if (name[0] == '<')
        return;
    char w[64];
    size_t len = 0;
    for (const char *p = name;; p++) {
        if (isalpha((unsigned char)*p)) {
            if (len < sizeof w - 1)
                w[len++] = (char)tolower((unsigned char)*p);
            continue;
        }
        int clean = *p == ' ' || *p == '\0';
        if (len >= 3 && len <= 12 && clean) {
            w[len] = '\0';
            size_t i;
            for (i = 0; i < nwords && strcmp(words[i].text, w) != 0; i++)
                ;
            if (i == nwords) {
                if (nwords == capwords) {
                    capwords = capwords ? capwords * 2 : 1024;
                    words = realloc(words, capwords * sizeof *words);
                    if (!words)
                        die("out of memory");
                }
                memcpy(words[i].text, w, len + 1);
                words[i].count = 0;
                nwords++;
            }
            words[i].count++;
        }
        /* A word glued to digits or hyphens ("CJK", "A-1") is not a word. */
        if (!clean) {
            while (*p && *p != ' ')
                p++;
        }
        len = 0;
        if (!*p)
            break;
    }
}

static void read_unicode_data(const char *path)
{
    FILE *f = open_in(path);
    char line[1024];
    long range_first = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *fields[15];
        if (split_fields(line, fields, 15) < 15)
            die("short line in UnicodeData.txt");
        uint32_t cp = (uint32_t)strtoul(fields[0], NULL, 16);
        int cat = category_of(fields[2]);
        int cls = atoi(fields[3]);
        const char *name = fields[1];
        size_t nlen = strlen(name);
        if (nlen > 8 && strcmp(name + nlen - 8, ", First>") == 0) {
            range_first = cp;
            continue;
        }
        uint32_t first = cp;
        if (nlen > 7 && strcmp(name + nlen - 7, ", Last>") == 0) {
            if (range_first < 0)
                die("range end without start in UnicodeData.txt");
            first = (uint32_t)range_first;
            range_first = -1;
        } else {
            add_name_words(name);
        }
        for (uint32_t c = first; c <= cp; c++) {
            props[c] = (uint8_t)((props[c] & ~0x1f) | cat);
            ccc[c] = (uint8_t)cls;
        }
        if (fields[5][0]) {
            struct decomp *d = calloc(1, sizeof *d);
            if (!d)
                die("out of memory");
            char *p = fields[5];
            if (*p == '<') {
                d->compat = 1;
                p = strchr(p, '>') + 1;
            }
            while (*p) {
                char *end;
                unsigned long v = strtoul(p, &end, 16);
                if (end == p)
                    break;
                d->cp[d->n++] = (uint32_t)v;
                p = end;
            }
            decomps[cp] = d;
        }
    }
    fclose(f);
}

/* PropList.txt / DerivedCoreProperties.txt: "0009..000D    ; White_Space # ..." */
static void read_property(const char *path, const char *prop, uint8_t bit)
{
    FILE *f = open_in(path);
    char line[1024];
    size_t plen = strlen(prop);
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char *semi = strchr(line, ';');
        if (!semi)
            continue;
        char *name = semi + 1;
        while (*name == ' ')
            name++;
        if (strncmp(name, prop, plen) != 0 || isalnum((unsigned char)name[plen]) ||
            name[plen] == '_')
            continue;
        char *end;
        uint32_t lo = (uint32_t)strtoul(line, &end, 16), hi = lo;
        if (end[0] == '.' && end[1] == '.')
            hi = (uint32_t)strtoul(end + 2, NULL, 16);
        for (uint32_t c = lo; c <= hi; c++)
            props[c] |= bit;
        found = 1;
    }
    fclose(f);
    if (!found) {
        fprintf(stderr, "unicode_tables: no %s in %s\n", prop, path);
        exit(1);
    }
}

static void read_exclusions(const char *path)
{
    FILE *f = open_in(path);
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        if (!isxdigit((unsigned char)line[0]))
            continue;
        excluded[strtoul(line, NULL, 16)] = 1;
    }
    fclose(f);
}

/* Full decomposition of cp into out (canonical only unless compat). */
static int decompose(uint32_t cp, int compat, uint32_t *out)
{
    struct decomp *d = decomps[cp];
    if (!d || (d->compat && !compat)) {
        out[0] = cp;
        return 1;
    }
    int n = 0;
    for (int i = 0; i < d->n; i++)
        n += decompose(d->cp[i], compat, out + n);
    return n;
}

static void emit_two_stage(FILE *out, const char *name, const uint8_t *values)
{
    static uint16_t stage1[NCP / BLOCK];
    uint8_t *blocks = malloc(NCP);
    if (!blocks)
        die("out of memory");
    size_t nblocks = 0;
    for (size_t b = 0; b < NCP / BLOCK; b++) {
        const uint8_t *blk = values + b * BLOCK;
        size_t i;
        for (i = 0; i < nblocks; i++) {
            if (memcmp(blocks + i * BLOCK, blk, BLOCK) == 0)
                break;
        }
        if (i == nblocks) {
            memcpy(blocks + i * BLOCK, blk, BLOCK);
            nblocks++;
        }
        stage1[b] = (uint16_t)i;
    }
    fprintf(out, "const uint16_t %s_stage1[%d] = {", name, NCP / BLOCK);
    for (size_t b = 0; b < NCP / BLOCK; b++)
        fprintf(out, "%s%u,", b % 16 ? "" : "\n", stage1[b]);
    fprintf(out, "\n};\nconst uint8_t %s_stage2[%zu] = {", name, nblocks * BLOCK);
    for (size_t i = 0; i < nblocks * BLOCK; i++)
        fprintf(out, "%s%u,", i % 24 ? "" : "\n", blocks[i]);
    fprintf(out, "\n};\n\n");
    free(blocks);
}

static void emit_decompositions(FILE *out, const char *name, int compat)
{
    uint32_t buf[64];
    size_t n = 0, pool = 0;
    fprintf(out, "const struct unicode_decomposition %s[] = {\n", name);
    for (uint32_t c = 0; c < NCP; c++) {
        if (!decomps[c] || (decomps[c]->compat && !compat))
            continue;
        int len = decompose(c, compat, buf);
        fprintf(out, "{0x%X,%zu,%d},", c, pool, len);
        if (++n % 6 == 0)
            fputc('\n', out);
        pool += (size_t)len;
    }
    fprintf(out, "\n};\nconst size_t %s_count = %zu;\n", name, n);
    fprintf(out, "const uint32_t %s_pool[%zu] = {", name, pool ? pool : 1);
    size_t k = 0;
    for (uint32_t c = 0; c < NCP; c++) {
        if (!decomps[c] || (decomps[c]->compat && !compat))
            continue;
        int len = decompose(c, compat, buf);
        for (int i = 0; i < len; i++, k++)
            fprintf(out, "%s0x%X,", k % 10 ? "" : "\n", buf[i]);
    }
    fprintf(out, "%s\n};\n\n", pool ? "" : "0");
}

struct pair {
    uint64_t key; /* first << 21 | second */
    uint32_t composite;
};

static int pair_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct pair *)a)->key, y = ((const struct pair *)b)->key;
    return x < y ? -1 : x > y;
}

static void emit_compositions(FILE *out)
{
    struct pair *pairs = NULL;
    size_t n = 0, cap = 0;
    for (uint32_t c = 0; c < NCP; c++) {
        struct decomp *d = decomps[c];
        /* Primary composites: canonical pairs, not excluded, not singletons,
         * not starting with a non-starter (UAX #15, Full_Composition_Exclusion). */
        if (!d || d->compat || d->n != 2 || excluded[c] || ccc[d->cp[0]] != 0 || ccc[c] != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            pairs = realloc(pairs, cap * sizeof *pairs);
            if (!pairs)
                die("out of memory");
        }
        pairs[n].key = (uint64_t)d->cp[0] << 21 | d->cp[1];
        pairs[n].composite = c;
        props[d->cp[1]] |= PROP_NORM; /* may compose with what precedes it */
        n++;
    }
    qsort(pairs, n, sizeof *pairs, pair_cmp);
    fprintf(out, "const struct unicode_composition unicode_compositions[] = {\n");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "{0x%llXull,0x%X},%s", (unsigned long long)pairs[i].key, pairs[i].composite,
                (i + 1) % 4 ? "" : "\n");
    fprintf(out, "\n};\nconst size_t unicode_compositions_count = %zu;\n\n", n);
    free(pairs);
}

/* CaseFolding.txt: code points whose simple folding (status C or S) is an
 * ASCII letter, beyond the ASCII letters themselves ("(?i:'s)" also
 * matches U+017F LATIN SMALL LETTER LONG S). */
static void emit_ascii_folds(FILE *out, const char *path)
{
    FILE *f = open_in(path);
    char line[1024];
    fprintf(out, "const struct unicode_fold unicode_ascii_folds[] = {\n");
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        if (!isxdigit((unsigned char)line[0]))
            continue;
        char *end;
        uint32_t cp = (uint32_t)strtoul(line, &end, 16);
        char status = 0;
        uint32_t to = 0;
        if (sscanf(end, "; %c; %x;", &status, &to) != 2 || (status != 'C' && status != 'S'))
            continue;
        if (cp >= 0x80 && to < 0x80 && isalpha((int)to)) {
            fprintf(out, "{0x%X,'%c'},", cp, (char)to);
            n++;
        }
    }
    fclose(f);
    fprintf(out, "\n};\nconst size_t unicode_ascii_folds_count = %zu;\n\n", n);
}

static int word_cmp(const void *a, const void *b)
{
    return strcmp(((const struct word *)a)->text, ((const struct word *)b)->text);
}

static void emit_words(FILE *out)
{
    qsort(words, nwords, sizeof *words, word_cmp);
    size_t n = 0;
    fprintf(out, "const char *const unicode_name_words[] = {");
    for (size_t i = 0; i < nwords; i++) {
        /* Words used by several names are words; the rest are mostly
         * transliterated syllables ("ghha"). */
        if (words[i].count < 3)
            continue;
        fprintf(out, "%s\"%s\",", n % 8 ? "" : "\n", words[i].text);
        n++;
    }
    fprintf(out, "\n};\nconst size_t unicode_name_words_count = %zu;\n", n);
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: unicode_tables UnicodeData.txt PropList.txt "
                        "DerivedCoreProperties.txt CompositionExclusions.txt CaseFolding.txt "
                        "OUT.c\n");
        return 2;
    }
    read_unicode_data(argv[1]);
    read_property(argv[2], "White_Space", PROP_WHITE_SPACE);
    read_property(argv[3], "Alphabetic", PROP_ALPHABETIC);
    read_exclusions(argv[4]);

    FILE *out = fopen(argv[6], "w");
    if (!out)
        die("cannot write the output file");
    fprintf(out, "/* Generated by tools/gen/unicode_tables.c from the Unicode Character "
                 "Database. */\n#include \"unicode.h\"\n\n");
    emit_compositions(out); /* marks composition second elements PROP_NORM */
    for (uint32_t c = 0; c < NCP; c++) {
        if (decomps[c] || ccc[c])
            props[c] |= PROP_NORM;
    }
    /* Hangul syllables compose and decompose algorithmically. */
    for (uint32_t c = 0x1100; c < 0x1200; c++)
        props[c] |= PROP_NORM;
    for (uint32_t c = 0xAC00; c < 0xAC00 + 11172; c++)
        props[c] |= PROP_NORM;
    emit_two_stage(out, "unicode_props", props);
    emit_two_stage(out, "unicode_ccc", ccc);
    emit_decompositions(out, "unicode_canonical", 0);
    emit_decompositions(out, "unicode_compat", 1);
    emit_ascii_folds(out, argv[5]);
    emit_words(out);
    if (fclose(out) != 0)
        die("cannot write the output file");
    return 0;
}
