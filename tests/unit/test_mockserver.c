/* The mock server in-process: start/stop, pipelining, in-flight counting. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"
#include "mockserver.h"

static struct mock_server *start(struct mock_config *cfg)
{
    struct buf err = {0};
    struct mock_server *m = mock_server_start(cfg, &err);
    if (!m)
        fprintf(stderr, "mock_server_start: %s\n", err.data);
    buf_free(&err);
    return m;
}

static int dial(const struct mock_server *m)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(mock_server_port(m))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {5, 0}; /* a hung server fails the test instead of hanging it */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const char *text)
{
    size_t len = strlen(text);
    while (len) {
        ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        text += n;
        len -= (size_t)n;
    }
}

/* Reads until `until` appears `times` times (or EOF/timeout). */
static void read_until(int fd, struct buf *out, const char *until, int times)
{
    char chunk[4096];
    for (;;) {
        int seen = 0;
        for (const char *p = out->data; p && (p = strstr(p, until)); p++)
            seen++;
        if (seen >= times)
            return;
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            return;
        buf_append(out, chunk, (size_t)n);
    }
}

static void quick_config(struct mock_config *cfg)
{
    mock_config_defaults(cfg);
    cfg->port = 0;
    cfg->latency.ttft_ms = 20;
    cfg->latency.itl_ms = 2;
}

TEST(mockserver_start_url_and_stop)
{
    struct mock_config cfg;
    quick_config(&cfg);
    struct mock_server *m = start(&cfg);
    CHECK(m != NULL);
    if (!m)
        return;
    char want[64];
    snprintf(want, sizeof want, "http://127.0.0.1:%u", mock_server_port(m));
    CHECK_EQ_STR(mock_server_url(m), want);
    CHECK(mock_server_port(m) > 0);
    int fd = dial(m);
    CHECK(fd >= 0);
    send_all(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    struct buf got = {0};
    read_until(fd, &got, "\r\n\r\n", 1);
    CHECK_CONTAINS(got.data, "HTTP/1.1 200 OK\r\n");
    close(fd);
    mock_server_stop(m);
    buf_free(&got);
}

TEST(mockserver_pipelined_requests_answer_in_order)
{
    struct mock_config cfg;
    quick_config(&cfg);
    struct mock_server *m = start(&cfg);
    if (!m)
        return;
    int fd = dial(m);
    const char *body = "{\"prompt\":\"abcd\",\"max_tokens\":3,\"stream\":true}";
    char req[512];
    snprintf(req, sizeof req,
             "POST /v1/completions HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s"
             "GET /nope HTTP/1.1\r\n\r\n"
             "GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"
             "GET /health HTTP/1.1\r\n\r\n",
             strlen(body), body);
    send_all(fd, req);
    struct buf got = {0};
    read_until(fd, &got, "\x01never", 1); /* to EOF: Connection: close ends it */
    const char *stream = strstr(got.data, "data: [DONE]");
    const char *not_found = strstr(got.data, "HTTP/1.1 404");
    const char *health = strstr(got.data, "HTTP/1.1 200 OK\r\nserver: llmsweep-mock\r\n"
                                          "content-type: application/json\r\ncontent-length: 0");
    CHECK(stream && not_found && health);
    CHECK(stream < not_found && not_found < health);
    CHECK_CONTAINS(health, "connection: close");
    /* The fourth request came after "Connection: close": never answered. */
    CHECK(strstr(health + 1, "HTTP/1.1") == NULL);
    struct mock_stats s;
    mock_server_stats(m, &s); /* the close came after the bookkeeping: no race here */
    CHECK_EQ_INT(s.requests, 1);
    CHECK_EQ_INT(s.completed, 1);
    CHECK_EQ_INT(s.other_requests, 2);
    CHECK_EQ_INT(s.events_sent, 4); /* 3 tokens + [DONE] */
    close(fd);
    mock_server_stop(m);
    buf_free(&got);
}

TEST(mockserver_peak_counts_exactly_the_streams_in_flight)
{
    struct mock_config cfg;
    quick_config(&cfg);
    cfg.latency.ttft_ms = 100; /* all five are surely in flight at once */
    struct mock_server *m = start(&cfg);
    if (!m)
        return;
    const char *body = "{\"prompt\":\"abcd\",\"max_tokens\":4,\"stream\":true,"
                       "\"stream_options\":{\"include_usage\":true}}";
    char req[512];
    snprintf(req, sizeof req, "POST /v1/completions HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    int fds[5];
    for (int i = 0; i < 5; i++) {
        fds[i] = dial(m);
        send_all(fds[i], req);
    }
    for (int i = 0; i < 5; i++) {
        struct buf got = {0};
        read_until(fds[i], &got, "0\r\n\r\n", 1);
        CHECK_CONTAINS(got.data, "data: [DONE]\n\n\r\n0\r\n\r\n");
        buf_free(&got);
    }
    /* The client can see the last byte a moment before the server thread
     * books the stream as done. */
    struct mock_stats s;
    int64_t deadline = now_ns() + NS_PER_SEC;
    do
        mock_server_stats(m, &s);
    while (s.current_streams > 0 && now_ns() < deadline);
    CHECK_EQ_INT(s.peak_streams, 5);
    CHECK_EQ_INT(s.current_streams, 0);
    CHECK_EQ_INT(s.completed, 5);
    CHECK_EQ_INT(s.events_sent, 5 * 6);
    CHECK_EQ_INT(s.connections_open, 5); /* keep-alive */
    for (int i = 0; i < 5; i++)
        close(fds[i]);
    mock_server_stop(m);
}

TEST(mockserver_expect_continue_and_stamps)
{
    struct mock_config cfg;
    quick_config(&cfg);
    struct mock_server *m = start(&cfg);
    if (!m)
        return;
    int fd = dial(m);
    const char *body = "{\"prompt\":\"abcd\",\"max_tokens\":2,\"stream\":true}";
    char head[256];
    snprintf(head, sizeof head,
             "POST /v1/completions HTTP/1.1\r\nExpect: 100-continue\r\nX-Mock-Stamp: 1\r\n"
             "Content-Length: %zu\r\n\r\n",
             strlen(body));
    int64_t before = now_ns();
    send_all(fd, head);
    struct buf got = {0};
    read_until(fd, &got, "\r\n\r\n", 1);
    CHECK_EQ_STR(got.data, "HTTP/1.1 100 Continue\r\n\r\n");
    send_all(fd, body);
    read_until(fd, &got, "[DONE]", 1);
    int64_t after = now_ns();
    const char *h = strstr(got.data, "x-mock-headers-sent-ns: ");
    const char *e = strstr(got.data, "\"mock_sent_ns\":");
    CHECK(h && e);
    if (h && e) {
        long long hs = atoll(h + 24), es = atoll(e + 15);
        CHECK(before <= hs && hs <= es && es <= after);
        CHECK(es - hs >= 19 * NS_PER_MS); /* TTFT counts from arrival, just before the headers */
    }
    close(fd);
    mock_server_stop(m);
    buf_free(&got);
}

TEST(mockserver_stop_with_a_stalled_stream_in_flight)
{
    struct mock_config cfg;
    quick_config(&cfg);
    struct buf err = {0};
    CHECK(mock_faults_parse("stall@every1", &cfg.faults, &err));
    struct mock_server *m = start(&cfg);
    if (!m)
        return;
    int fd = dial(m);
    const char *body = "{\"prompt\":\"abcd\",\"stream\":true}";
    char req[256];
    snprintf(req, sizeof req, "POST /v1/completions HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    send_all(fd, req);
    struct buf got = {0};
    read_until(fd, &got, "\r\n\r\n", 1);
    CHECK_CONTAINS(got.data, "HTTP/1.1 200 OK");
    struct mock_stats s;
    mock_server_stats(m, &s);
    CHECK_EQ_INT(s.current_streams, 1);
    CHECK_EQ_INT(s.faults[MOCK_FAULT_STALL], 1);
    mock_server_stop(m);
    char c;
    CHECK_EQ_INT(recv(fd, &c, 1, 0), 0); /* the server closed it */
    close(fd);
    buf_free(&got);
    buf_free(&err);
}

TEST(mockserver_start_errors)
{
    struct mock_config cfg;
    quick_config(&cfg);
    cfg.host = "256.1.1.1";
    struct buf err = {0};
    CHECK(mock_server_start(&cfg, &err) == NULL);
    CHECK_CONTAINS(err.data, "256.1.1.1");
    buf_clear(&err);
    quick_config(&cfg);
    cfg.tls_cert = "/nonexistent/cert.pem";
    CHECK(mock_server_start(&cfg, &err) == NULL);
    CHECK_CONTAINS(err.data, "--tls-cert and --tls-key go together");
    buf_free(&err);
}
