/* util.h: the few things every module needs.
 *
 *   - allocation that never returns NULL (out of memory ends the process
 *     with a message: a benchmark cannot do anything useful without memory);
 *   - `struct buf`, a growable byte buffer (responses, JSON text, lines);
 *   - the monotonic clock every measurement uses (nanoseconds);
 *   - small parsers shared by the CLI and the spec loader.
 */
#ifndef LLMSWEEP_UTIL_H
#define LLMSWEEP_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated when data != NULL. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void buf_clear(struct buf *b); /* len = 0, keeps the memory */
void buf_free(struct buf *b);
/* Hands the bytes to the caller (never NULL) and leaves b empty. */
char *buf_steal(struct buf *b);
/* Removes the white space at both ends of the bytes from offset `from` on. */
void buf_trim(struct buf *b, size_t from);
/* Replaces every occurrence of secret in b, as is or with "/" escaped as
 * JSON allows ("\/"), with "<redacted>" ("***" for a secret shorter than
 * that marker, so the text never grows). Servers echo
 * credentials back in error messages; this runs before such text is kept,
 * cut to length or shown. Secrets shorter than 4 bytes are left alone:
 * they would redact ordinary words and protect nothing. */
void buf_redact(struct buf *b, const char *secret);

/* Whether a request header's value may be a credential: its name mentions
 * auth, key, token, secret, cookie or pass. Such values are never shown. */
bool header_is_secret(const char *name);

/* Reads a whole file. Returns false and sets errno on failure. */
bool read_file(const char *path, struct buf *out);
/* Reads a file holding one value (a token, a key) without the white space
 * around it: files end in a newline, and editors add more. */
bool read_trimmed_file(const char *path, struct buf *out);

/* Thousands of streams need thousands of sockets: lifts the soft limit on
 * open files to the hard one. */
void raise_fd_limit(void);

/* Sleeps that long, through signal interruptions; nothing for <= 0. */
void sleep_seconds(double seconds);

/* A fast seeded generator (xorshift64*) for schedules and jitter, not for
 * secrets: uniform in [0, 1). *state must not be 0. */
double random_uniform(uint64_t *state);

/* CLOCK_MONOTONIC in nanoseconds: every interval we measure uses this. */
int64_t now_ns(void);
/* CLOCK_REALTIME in nanoseconds: labels only, never intervals. */
int64_t wall_ns(void);

#define NS_PER_SEC 1000000000LL
#define NS_PER_MS 1000000LL
#define NS_PER_US 1000LL

/* "120s", "2m", "1.5h", "250ms" or a plain number of seconds ("90").
 * Returns false for anything else, including negative values. */
bool parse_duration(const char *text, double *seconds);
/* A whole decimal number in [min, max]; no sign, no trailing junk. */
bool parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out);
/* A finite decimal number; no trailing junk. */
bool parse_double(const char *text, double *out);

/* Levenshtein distance, for "did you mean" suggestions. */
size_t edit_distance(const char *a, const char *b);
/* The candidate closest to `word` (NULL if none is close enough).
 * `candidates` is NULL-terminated. */
const char *closest_match(const char *word, const char *const *candidates);

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
