/* unicode.h: the Unicode facts the tokenizer needs, and UTF-8.
 *
 * The tables behind these functions are generated at build time by
 * tools/gen/unicode_tables.c from the Unicode Character Database (Debian
 * package unicode-data, pinned in tools/deps.lock): general category,
 * White_Space, Alphabetic, canonical combining class, canonical and
 * compatibility decompositions and the primary composites. Nothing is typed
 * by hand, so a new UCD release is a lock bump.
 *
 * Lookups are two array reads (a two-stage table of 128-code-point blocks).
 * All functions are pure: safe from any thread.
 */
#ifndef LLMSWEEP_UNICODE_H
#define LLMSWEEP_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* General categories, in the order the generator numbers them. */
// clang-format off
enum unicode_category {
    UC_Cn, UC_Lu, UC_Ll, UC_Lt, UC_Lm, UC_Lo, UC_Mn, UC_Mc, UC_Me, UC_Nd,
    UC_Nl, UC_No, UC_Pc, UC_Pd, UC_Ps, UC_Pe, UC_Pi, UC_Pf, UC_Po, UC_Sm,
    UC_Sc, UC_Sk, UC_So, UC_Zs, UC_Zl, UC_Zp, UC_Cc, UC_Cf, UC_Cs, UC_Co,
    UC_COUNT
};
// clang-format on

#define UNICODE_PROP_CATEGORY 0x1f
#define UNICODE_PROP_WHITE_SPACE 0x20
#define UNICODE_PROP_ALPHABETIC 0x40
#define UNICODE_PROP_NORM 0x80 /* has a decomposition, ccc != 0, or may compose */

#define UNICODE_MAX 0x10FFFF
#define UNICODE_REPLACEMENT 0xFFFD

/* --- generated tables (unicode_tables.c) ------------------------------ */
struct unicode_decomposition {
    uint32_t cp;
    uint32_t offset; /* into the matching _pool array */
    uint32_t len;
};
struct unicode_composition {
    uint64_t key; /* first << 21 | second */
    uint32_t composite;
};
struct unicode_fold {
    uint32_t cp;
    char ascii;
};
extern const uint16_t unicode_props_stage1[];
extern const uint8_t unicode_props_stage2[];
extern const uint16_t unicode_ccc_stage1[];
extern const uint8_t unicode_ccc_stage2[];
extern const struct unicode_decomposition unicode_canonical[], unicode_compat[];
extern const size_t unicode_canonical_count, unicode_compat_count;
extern const uint32_t unicode_canonical_pool[], unicode_compat_pool[];
extern const struct unicode_composition unicode_compositions[];
extern const size_t unicode_compositions_count;
extern const struct unicode_fold unicode_ascii_folds[];
extern const size_t unicode_ascii_folds_count;
/* Words of the Unicode character names used by three or more names, sorted
 * ("arrow", "black", "capital", ...): the vocabulary of synthetic prompts. */
extern const char *const unicode_name_words[];
extern const size_t unicode_name_words_count;

/* --- lookups ----------------------------------------------------------- */
static inline uint8_t unicode_props(uint32_t cp)
{
    if (cp > UNICODE_MAX)
        return UC_Cn;
    return unicode_props_stage2[(size_t)unicode_props_stage1[cp >> 7] * 128 + (cp & 127)];
}

static inline enum unicode_category unicode_category(uint32_t cp)
{
    return (enum unicode_category)(unicode_props(cp) & UNICODE_PROP_CATEGORY);
}

static inline bool unicode_is_letter(uint32_t cp) /* \p{L} */
{
    enum unicode_category c = unicode_category(cp);
    return c >= UC_Lu && c <= UC_Lo;
}

static inline bool unicode_is_number(uint32_t cp) /* \p{N} */
{
    enum unicode_category c = unicode_category(cp);
    return c >= UC_Nd && c <= UC_No;
}

/* White_Space: Oniguruma's \s and Rust's char::is_whitespace. */
static inline bool unicode_is_space(uint32_t cp)
{
    return (unicode_props(cp) & UNICODE_PROP_WHITE_SPACE) != 0;
}

/* Rust's char::is_alphanumeric: Alphabetic or a number. */
static inline bool unicode_is_alphanumeric(uint32_t cp)
{
    return (unicode_props(cp) & UNICODE_PROP_ALPHABETIC) || unicode_is_number(cp);
}

static inline uint8_t unicode_ccc(uint32_t cp)
{
    if (cp > UNICODE_MAX)
        return 0;
    return unicode_ccc_stage2[(size_t)unicode_ccc_stage1[cp >> 7] * 128 + (cp & 127)];
}

/* The ASCII letter cp folds to under simple case folding (0 if none):
 * 'a' for 'A' and 'a', 's' for U+017F, 'k' for U+212A. */
char unicode_fold_to_ascii(uint32_t cp);

/* --- UTF-8 -------------------------------------------------------------- */
/* Decodes one code point at s[0..len). Returns its length (1..4), or 0 for
 * an invalid sequence (overlong, surrogate, > U+10FFFF, truncated). */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
/* Encodes cp into out (4 bytes room); returns the length. */
size_t utf8_encode(uint32_t cp, char *out);
/* Length of the valid UTF-8 prefix of s. */
size_t utf8_valid_prefix(const char *s, size_t len);
/* Appends s to out with every invalid sequence replaced by U+FFFD, one per
 * maximal invalid subpart (what Rust's String::from_utf8_lossy and
 * Python's bytes.decode("utf-8", "replace") do). */
void utf8_append_lossy(struct buf *out, const char *s, size_t len);

/* --- normalization (UAX #15) ------------------------------------------- */
enum unicode_form {
    UNICODE_NFC,
    UNICODE_NFD,
    UNICODE_NFKC,
    UNICODE_NFKD
};
/* Appends the normalization of valid UTF-8 text to out. Text whose code
 * points are all outside UNICODE_PROP_NORM is copied as is. */
void unicode_normalize(enum unicode_form form, const char *text, size_t len, struct buf *out);

#endif
