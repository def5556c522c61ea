#include "mock_tls.h"

#include <errno.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/psa_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stdlib.h>
#include <sys/socket.h>

struct mock_tls {
    mbedtls_ssl_config config;
    mbedtls_x509_crt chain;
    mbedtls_pk_context key;
};

struct mock_tls_conn {
    mbedtls_ssl_context ssl;
    int fd;
    size_t pending_write; /* length of a write that returned WANT_*: repeat it exactly */
};

static void describe(struct buf *err, const char *what, const char *file, int rc)
{
    char text[160];
    mbedtls_strerror(rc, text, sizeof text);
    buf_printf(err, "cannot load the TLS %s from %s: %s", what, file, text);
}

struct mock_tls *mock_tls_create(const char *cert_file, const char *key_file, struct buf *err)
{
    struct mock_tls *tls = xcalloc(1, sizeof *tls);
    mbedtls_ssl_config_init(&tls->config);
    mbedtls_x509_crt_init(&tls->chain);
    mbedtls_pk_init(&tls->key);
    int rc = mbedtls_x509_crt_parse_file(&tls->chain, cert_file);
    if (rc != 0) {
        describe(err, "certificate", cert_file, rc);
        goto fail;
    }
    rc = mbedtls_pk_parse_keyfile(&tls->key, key_file, NULL, mbedtls_psa_get_random,
                                  MBEDTLS_PSA_RANDOM_STATE);
    if (rc != 0) {
        describe(err, "private key", key_file, rc);
        goto fail;
    }
    rc = mbedtls_ssl_config_defaults(&tls->config, MBEDTLS_SSL_IS_SERVER,
                                     MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc == 0) {
        mbedtls_ssl_conf_rng(&tls->config, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
        rc = mbedtls_ssl_conf_own_cert(&tls->config, &tls->chain, &tls->key);
    }
    if (rc != 0) {
        char text[160];
        mbedtls_strerror(rc, text, sizeof text);
        buf_printf(err, "cannot use %s with %s: %s", cert_file, key_file, text);
        goto fail;
    }
    return tls;
fail:
    mock_tls_destroy(tls);
    return NULL;
}

void mock_tls_destroy(struct mock_tls *tls)
{
    if (!tls)
        return;
    mbedtls_ssl_config_free(&tls->config);
    mbedtls_x509_crt_free(&tls->chain);
    mbedtls_pk_free(&tls->key);
    free(tls);
}

static int send_cb(void *ctx, const unsigned char *data, size_t len)
{
    struct mock_tls_conn *c = ctx;
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int recv_cb(void *ctx, unsigned char *data, size_t len)
{
    struct mock_tls_conn *c = ctx;
    ssize_t n = recv(c->fd, data, len, 0);
    if (n >= 0)
        return (int)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return MBEDTLS_ERR_SSL_WANT_READ;
    return MBEDTLS_ERR_NET_RECV_FAILED;
}

struct mock_tls_conn *mock_tls_accept(struct mock_tls *tls, int fd)
{
    struct mock_tls_conn *c = xcalloc(1, sizeof *c);
    c->fd = fd;
    mbedtls_ssl_init(&c->ssl);
    if (mbedtls_ssl_setup(&c->ssl, &tls->config) != 0) {
        mbedtls_ssl_free(&c->ssl);
        free(c);
        return NULL;
    }
    mbedtls_ssl_set_bio(&c->ssl, c, send_cb, recv_cb, NULL);
    return c;
}

static ssize_t translate(int rc)
{
    if (rc == MBEDTLS_ERR_SSL_WANT_READ)
        return MOCK_TLS_WANT_READ;
    if (rc == MBEDTLS_ERR_SSL_WANT_WRITE || rc == MBEDTLS_ERR_SSL_ASYNC_IN_PROGRESS ||
        rc == MBEDTLS_ERR_SSL_CRYPTO_IN_PROGRESS)
        return MOCK_TLS_WANT_WRITE;
    return MOCK_TLS_ERROR;
}

ssize_t mock_tls_read(struct mock_tls_conn *c, void *data, size_t len)
{
    for (;;) {
        int rc = mbedtls_ssl_read(&c->ssl, data, len);
        if (rc > 0)
            return rc;
        if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
            return 0;
        /* TLS 1.3 clients may send tickets or key updates; just read on. */
        if (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
            continue;
        return translate(rc);
    }
}

ssize_t mock_tls_write(struct mock_tls_conn *c, const void *data, size_t len)
{
    if (c->pending_write && c->pending_write <= len)
        len = c->pending_write;
    int rc = mbedtls_ssl_write(&c->ssl, data, len);
    if (rc >= 0) {
        c->pending_write = 0;
        return rc;
    }
    ssize_t code = translate(rc);
    if (code != MOCK_TLS_ERROR)
        c->pending_write = len;
    return code;
}

void mock_tls_close(struct mock_tls_conn *c)
{
    if (!c)
        return;
    mbedtls_ssl_close_notify(&c->ssl);
    mock_tls_drop(c);
}

void mock_tls_drop(struct mock_tls_conn *c)
{
    if (!c)
        return;
    mbedtls_ssl_free(&c->ssl);
    free(c);
}
