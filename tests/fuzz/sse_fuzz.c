/* libFuzzer target: the client's SSE parser and event reader (tools/fuzz).
 *
 * The first input byte is a seed for how the rest is cut into chunks, and
 * (both high bits set) asks for the rest to be repeated until it passes the
 * parser's 1 MiB event cap, then ended with a blank line. The stream is fed to sse_feed() whole,
 * then again in chunks of seeded random sizes (1 byte to a few hundred), as libcurl hands them
 * over. Invariants:
 *   - no event handed back is longer than SSE_MAX_EVENT_BYTES, or has a NUL
 *     terminator missing;
 *   - the unfinished line and event buffers never grow past the cap (plus
 *     one chunk, whose line end is still to be looked for);
 *   - the events and the final status are the same however the bytes were
 *     cut (for streams past the cap: the number of events and the status);
 *   - a parser stopped by its callback hands back nothing more.
 * Every event is also read by openai_parse_event(), and the input by
 * openai_error_message() (one line, at most the length asked for) and
 * openai_parse_models(). Any crash, sanitizer report or leak is a failure. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "openai.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What a feeding produced: the events (each event's data followed by a
 * separator the parser can never put inside one), and the status. */
struct capture {
    struct buf events;
    size_t count;
    size_t stop_after; /* the callback returns false at this event (0: never) */
    bool stopped;
    bool big; /* a stream past the cap: its many copies of one event are not read again */
};

static bool on_event(void *ctx, const char *data, size_t len)
{
    struct capture *c = ctx;
    if (c->stopped)
        abort(); /* called again after it asked to stop */
    if (len > SSE_MAX_EVENT_BYTES || data[len] != '\0')
        abort();
    if (!c->big) {
        buf_printf(&c->events, "%zu:", len);
        buf_append(&c->events, data, len);
        buf_putc(&c->events, '\n');
    }
    c->count++;
    struct openai_event ev;
    if (!c->big && openai_parse_event(data, len, &ev)) {
        if (ev.has_text && (!ev.text || strlen(ev.text) != ev.text_len))
            abort();
        if (ev.finish_reason[sizeof ev.finish_reason - 1] != '\0')
            abort();
        openai_event_free(&ev);
    }
    if (c->stop_after && c->count == c->stop_after) {
        c->stopped = true;
        return false;
    }
    return true;
}

static uint64_t next_random(uint64_t *state)
{
    /* xorshift64: the cuts depend on the input only, so a crash reproduces. */
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Feeds the stream in chunks (max_chunk 0: all at once). */
static enum sse_status feed(const char *stream, size_t len, size_t max_chunk, uint64_t seed,
                            struct capture *c)
{
    struct sse_parser p;
    sse_init(&p);
    enum sse_status st = SSE_OK;
    uint64_t state = seed | 1;
    size_t pos = 0;
    while (pos < len && st == SSE_OK && !c->stopped) {
        size_t n = len - pos;
        if (max_chunk) {
            size_t cut = (size_t)(next_random(&state) % (max_chunk + 1)); /* 0: an empty read */
            n = cut < n ? cut : n;
        }
        st = sse_feed(&p, stream + pos, n, on_event, c);
        pos += n;
        size_t slack = max_chunk ? max_chunk : len;
        if (p.line.len > SSE_MAX_EVENT_BYTES + slack || p.data.len > SSE_MAX_EVENT_BYTES + 1)
            abort();
        if (st == SSE_MALFORMED) {
            /* A malformed stream says where, in printable ASCII. */
            if (!p.bad_line[0])
                abort();
            for (const char *b = p.bad_line; *b; b++) {
                if (*b < 0x20 || *b >= 0x7f)
                    abort();
            }
        }
    }
    sse_free(&p);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *rest = (const char *)data + 1;
    size_t len = size - 1;
    uint64_t seed = 0x9e3779b97f4a7c15ULL * (data[0] + 1ULL) ^ len;

    char *stream = NULL;
    size_t stream_len = len;
    bool big = (data[0] & 0xc0) == 0xc0 && len > 0;
    if (big) {
        /* Copies to 128 KiB past the cap (more than one read), then a
         * blank line: a unit without a line end makes one line past the cap
         * that does end. */
        size_t copies = (SSE_MAX_EVENT_BYTES + 131072) / len + 1;
        stream_len = copies * len + 2;
        stream = xmalloc(stream_len);
        for (size_t i = 0; i < copies; i++)
            memcpy(stream + i * len, rest, len);
        memcpy(stream + copies * len, "\n\n", 2);
    } else {
        stream = xmalloc(len ? len : 1);
        memcpy(stream, rest, len);
    }

    /* Big streams in reads of up to 64 KiB, as libcurl makes them (1-byte
     * reads of 1 MiB would be too slow), and only counted: their events are
     * copies of one another. */
    struct capture whole = {.big = big}, cut = {.big = big};
    enum sse_status st_whole = feed(stream, stream_len, 0, seed, &whole);
    enum sse_status st_cut = feed(stream, stream_len, big ? 65536 : 1 + data[0] % 300, seed, &cut);
    if (st_whole != st_cut || whole.count != cut.count || whole.events.len != cut.events.len ||
        (whole.events.len && memcmp(whole.events.data, cut.events.data, whole.events.len) != 0))
        abort(); /* the cuts changed what was read */

    /* A callback that stops at the first event gets exactly one. */
    if (whole.count && !big) {
        struct capture stop = {.stop_after = 1};
        enum sse_status st_stop = feed(stream, stream_len, 0, seed, &stop);
        if (st_stop != SSE_OK || stop.count != 1)
            abort();
        buf_free(&stop.events);
    }
    buf_free(&whole.events);
    buf_free(&cut.events);

    if (!big) {
        size_t max_len = 16 + data[0] % 200;
        char *msg = openai_error_message(rest, len, max_len);
        if (strlen(msg) > max_len || strpbrk(msg, "\r\n"))
            abort();
        free(msg);
        char **ids = NULL;
        int n = openai_parse_models(rest, len, &ids);
        for (int i = 0; i < n; i++)
            free(ids[i]);
        free(ids);
    }
    free(stream);
    return 0;
}
