/* httpreq.h: HTTP/1.1 request parsing for the mock server (server side).
 *
 * The parser is stateless over the bytes received so far: hand it the start
 * of a connection's input buffer after every read and it says whether a
 * whole request is there. When it is, the request occupies exactly
 * `total_len` bytes; whatever follows is the next (pipelined) request, which
 * the server parses only after it has answered this one, so responses go
 * out in request order.
 *
 *   HTTPREQ_INCOMPLETE   the head (request line + headers) is not complete
 *   HTTPREQ_NEED_BODY    the head is parsed (all fields below are valid) but
 *                        Content-Length bytes of body have not all arrived;
 *                        answer "100 Continue" if expect_continue is set
 *   HTTPREQ_COMPLETE     head and body are there
 *   HTTPREQ_ERROR        the request cannot be served: error_status (400,
 *                        413, 431, 501, 505) and error (a static message)
 *                        say why; the server answers and closes
 *
 * Slices point into the caller's buffer and are valid while it is unchanged.
 * Bodies must come with Content-Length (what curl, httpx and libcurl send);
 * chunked request bodies are refused with 501.
 */
#ifndef LLMSWEEP_HTTPREQ_H
#define LLMSWEEP_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPREQ_MAX_HEAD (64 * 1024)        /* request line + headers */
#define HTTPREQ_MAX_BODY (64 * 1024 * 1024) /* a long prompt, with room to spare */

enum httpreq_status {
    HTTPREQ_INCOMPLETE,
    HTTPREQ_NEED_BODY,
    HTTPREQ_COMPLETE,
    HTTPREQ_ERROR
};

struct slice {
    const char *ptr;
    size_t len;
};

struct httpreq {
    struct slice method;
    struct slice path;  /* the target up to '?' */
    struct slice query; /* after '?', without it; empty if none */
    int minor_version;  /* HTTP/1.x */
    bool keep_alive;    /* the connection may serve another request after this one */
    bool expect_continue;
    bool mock_stamp; /* "X-Mock-Stamp: 1": stamp the response (see mockserver.h) */
    uint64_t content_length;
    size_t head_len;  /* bytes of request line + headers + blank line */
    size_t total_len; /* head_len + content_length */
    struct slice body;
    int error_status;
    const char *error;
};

enum httpreq_status httpreq_parse(const char *data, size_t len, struct httpreq *req);

bool slice_eq(struct slice s, const char *text);
/* Case-insensitive (ASCII) comparison, as header names need. */
bool slice_eq_nocase(struct slice s, const char *text);

#endif
