/* mock_tls.h: the server side of TLS for the mock server, with mbedTLS,
 * non-blocking, on the caller's sockets.
 *
 *   mock_tls_create()   loads a PEM certificate chain and its private key
 *                       once per server (psa_crypto_init() must have run)
 *   mock_tls_accept()   wraps an accepted, non-blocking socket; the
 *                       handshake happens inside the first reads and writes
 *   mock_tls_read/write like recv/send: > 0 bytes, 0 for end of stream
 *                       (read only), or one of the MOCK_TLS_* codes. After
 *                       WANT_READ/WANT_WRITE call again with the same data
 *                       once the socket is readable/writable (either
 *                       direction can be needed by either call, as TLS
 *                       reads and writes records of its own).
 *   mock_tls_reset_close closes without close_notify (the reset faults)
 *
 * Sending uses MSG_NOSIGNAL: a peer that went away never raises SIGPIPE in
 * a process that embeds the server.
 */
#ifndef LLMSWEEP_MOCK_TLS_H
#define LLMSWEEP_MOCK_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "util.h"

#define MOCK_TLS_WANT_READ (-2)
#define MOCK_TLS_WANT_WRITE (-3)
#define MOCK_TLS_ERROR (-4)

struct mock_tls;
struct mock_tls_conn;

/* NULL on failure, with one line in err naming the file and the problem. */
struct mock_tls *mock_tls_create(const char *cert_file, const char *key_file, struct buf *err);
void mock_tls_destroy(struct mock_tls *tls);

struct mock_tls_conn *mock_tls_accept(struct mock_tls *tls, int fd);
ssize_t mock_tls_read(struct mock_tls_conn *c, void *data, size_t len);
ssize_t mock_tls_write(struct mock_tls_conn *c, const void *data, size_t len);
/* Sends close_notify (best effort) and frees; the caller closes the fd. */
void mock_tls_close(struct mock_tls_conn *c);
/* Frees without a word to the peer. */
void mock_tls_drop(struct mock_tls_conn *c);

#endif
