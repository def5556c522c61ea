#include <cJSON.h>
#include <stdlib.h>

#include "harness.h"
#include "openai.h"

struct collected {
    char events[16][256];
    int n;
    int stop_after;
};

static bool collect(void *ctx, const char *data, size_t len)
{
    struct collected *c = ctx;
    snprintf(c->events[c->n], sizeof c->events[0], "%.*s", (int)len, data);
    c->n++;
    return c->stop_after == 0 || c->n < c->stop_after;
}

static const char stream[] = ": ping\r\n"
                             "data: {\"a\":1}\n\n"
                             "event: message\r\n"
                             "data: {\"b\":\r\n"
                             "data: 2}\r\n\r\n"
                             "id: 7\rdata:[DONE]\r\r";

TEST(sse_events_survive_every_split)
{
    /* Feed the stream in two pieces split at every position, and one byte at
     * a time: the events must always be the same three. */
    size_t len = sizeof stream - 1;
    for (size_t cut = 0; cut <= len; cut++) {
        struct sse_parser p;
        sse_init(&p);
        struct collected c = {0};
        CHECK_EQ_INT(sse_feed(&p, stream, cut, collect, &c), SSE_OK);
        CHECK_EQ_INT(sse_feed(&p, stream + cut, len - cut, collect, &c), SSE_OK);
        CHECK_EQ_INT(c.n, 3);
        CHECK_EQ_STR(c.events[0], "{\"a\":1}");
        CHECK_EQ_STR(c.events[1], "{\"b\":\n2}");
        CHECK_EQ_STR(c.events[2], "[DONE]");
        sse_free(&p);
    }
    struct sse_parser p;
    sse_init(&p);
    struct collected c = {0};
    for (size_t i = 0; i < len; i++)
        CHECK_EQ_INT(sse_feed(&p, stream + i, 1, collect, &c), SSE_OK);
    CHECK_EQ_INT(c.n, 3);
    sse_free(&p);
}

TEST(sse_reports_malformed_lines)
{
    struct sse_parser p;
    sse_init(&p);
    struct collected c = {0};
    const char bad[] = "data: {\"ok\":1}\n\ndtaa: {\"x\":1}\n\n";
    CHECK_EQ_INT(sse_feed(&p, bad, sizeof bad - 1, collect, &c), SSE_MALFORMED);
    CHECK_EQ_INT(c.n, 1);
    CHECK_EQ_STR(p.bad_line, "dtaa: {\"x\":1}");
    sse_free(&p);
}

/* Found by tests/fuzz/sse_fuzz.c: a line of NUL bytes left the message empty
 * (tests/fuzz/regressions/sse has the input). */
TEST(sse_malformed_line_is_shown_printable)
{
    struct sse_parser p;
    sse_init(&p);
    struct collected c = {0};
    const char bad[] = "\0\0\x01x\\\xC3\xA9\n\n";
    CHECK_EQ_INT(sse_feed(&p, bad, sizeof bad - 1, collect, &c), SSE_MALFORMED);
    CHECK_EQ_STR(p.bad_line, "\\x00\\x00\\x01x\\x5c\\xc3\\xa9");
    sse_reset(&p);
    char longer[200];
    memset(longer, 0x7f, sizeof longer);
    longer[sizeof longer - 1] = '\n';
    CHECK_EQ_INT(sse_feed(&p, longer, sizeof longer, collect, &c), SSE_MALFORMED);
    CHECK_EQ_INT(strlen(p.bad_line), 92); /* 23 whole escapes of 4 bytes */
    sse_free(&p);
}

TEST(sse_callback_can_stop_feeding)
{
    struct sse_parser p;
    sse_init(&p);
    struct collected c = {.stop_after = 1};
    const char two[] = "data: 1\n\ndata: 2\n\n";
    CHECK_EQ_INT(sse_feed(&p, two, sizeof two - 1, collect, &c), SSE_OK);
    CHECK_EQ_INT(c.n, 1);
    sse_free(&p);
}

TEST(event_chat_content_usage_finish)
{
    struct openai_event ev;
    const char role[] =
        "{\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}";
    CHECK(openai_parse_event(role, sizeof role - 1, &ev));
    CHECK(!ev.has_text); /* an empty content is not a token */
    CHECK(!ev.has_usage);
    CHECK_EQ_STR(ev.finish_reason, "");
    openai_event_free(&ev);

    const char tok[] = "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\" hello\"},"
                       "\"finish_reason\":\"length\"}]}";
    CHECK(openai_parse_event(tok, sizeof tok - 1, &ev));
    CHECK(ev.has_text);
    CHECK_EQ_INT(ev.text_len, 6);
    CHECK_EQ_STR(ev.finish_reason, "length");
    openai_event_free(&ev);

    const char stamped[] = "{\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"mock_sent_ns\":"
                           "1234567890123}";
    CHECK(openai_parse_event(stamped, sizeof stamped - 1, &ev));
    CHECK(ev.mock_sent_ns == 1234567890123LL);
    openai_event_free(&ev);

    const char reasoning[] = "{\"choices\":[{\"delta\":{\"reasoning_content\":\"hmm\"}}]}";
    CHECK(openai_parse_event(reasoning, sizeof reasoning - 1, &ev));
    CHECK(ev.has_text);
    openai_event_free(&ev);

    const char usage[] = "{\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34,"
                         "\"total_tokens\":46}}";
    CHECK(openai_parse_event(usage, sizeof usage - 1, &ev));
    CHECK(ev.has_usage);
    CHECK_EQ_INT(ev.prompt_tokens, 12);
    CHECK_EQ_INT(ev.completion_tokens, 34);
    CHECK(!ev.has_text);
    openai_event_free(&ev);

    CHECK(openai_parse_event("[DONE]", 6, &ev));
    CHECK(ev.done);
    openai_event_free(&ev);
}

TEST(event_completions_text_and_errors)
{
    struct openai_event ev;
    const char text[] =
        "{\"object\":\"text_completion\",\"choices\":[{\"text\":\"a\",\"index\":0}]}";
    CHECK(openai_parse_event(text, sizeof text - 1, &ev));
    CHECK(ev.has_text);
    openai_event_free(&ev);

    const char err[] = "{\"error\":{\"message\":\"KV cache full\",\"code\":500}}";
    CHECK(openai_parse_event(err, sizeof err - 1, &ev));
    CHECK_EQ_STR(ev.error, "KV cache full");
    openai_event_free(&ev);

    CHECK(!openai_parse_event("{\"choices\":[", 12, &ev));
    CHECK(!openai_parse_event("42", 2, &ev));
}

TEST(request_body_chat_and_completions)
{
    struct buf err = {0};
    struct openai_body *chat = openai_body_new(API_CHAT, "m", NULL, &err);
    CHECK(chat != NULL);
    char *body = openai_body_render(chat, "hi", 128);
    cJSON *doc = cJSON_Parse(body);
    CHECK_EQ_STR(cJSON_GetObjectItem(doc, "model")->valuestring, "m");
    CHECK_EQ_INT(cJSON_GetObjectItem(doc, "max_completion_tokens")->valueint, 128);
    CHECK(cJSON_GetObjectItem(doc, "max_tokens") == NULL);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(doc, "ignore_eos")));
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(doc, "stream")));
    CHECK(cJSON_IsTrue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "stream_options"), "include_usage")));
    cJSON *msg = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "messages"), 0);
    CHECK_EQ_STR(cJSON_GetObjectItem(msg, "role")->valuestring, "user");
    CHECK_EQ_STR(cJSON_GetObjectItem(msg, "content")->valuestring, "hi");
    cJSON_Delete(doc);
    free(body);
    /* The template is reused: the next request carries only its own values. */
    body = openai_body_render(chat, "a longer prompt than before", 7);
    doc = cJSON_Parse(body);
    msg = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "messages"), 0);
    CHECK_EQ_STR(cJSON_GetObjectItem(msg, "content")->valuestring, "a longer prompt than before");
    CHECK_EQ_INT(cJSON_GetObjectItem(doc, "max_completion_tokens")->valueint, 7);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "messages")), 1);
    cJSON_Delete(doc);
    free(body);
    openai_body_free(chat);

    struct openai_body *completions =
        openai_body_new(API_COMPLETIONS, "m", "{\"temperature\":0,\"ignore_eos\":false}", &err);
    body = openai_body_render(completions, "hi", 16);
    doc = cJSON_Parse(body);
    CHECK_EQ_INT(cJSON_GetObjectItem(doc, "max_tokens")->valueint, 16);
    CHECK_EQ_STR(cJSON_GetObjectItem(doc, "prompt")->valuestring, "hi");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(doc, "ignore_eos"))); /* extra fields win */
    CHECK(cJSON_GetObjectItem(doc, "temperature") != NULL);
    cJSON_Delete(doc);
    free(body);
    openai_body_free(completions);

    /* An extra field that replaces the output length is sent as the spec says. */
    struct openai_body *fixed = openai_body_new(API_COMPLETIONS, "m", "{\"max_tokens\":3}", &err);
    body = openai_body_render(fixed, "hi", 16);
    doc = cJSON_Parse(body);
    CHECK_EQ_INT(cJSON_GetObjectItem(doc, "max_tokens")->valueint, 3);
    cJSON_Delete(doc);
    free(body);
    openai_body_free(fixed);

    CHECK(openai_body_new(API_CHAT, "m", "[1,2]", &err) == NULL);
    CHECK_CONTAINS(err.data, "JSON object");
    buf_free(&err);
}

TEST(error_message_from_json_html_and_text)
{
    const char vllm[] = "{\"object\":\"error\",\"message\":\"The model `x` does not exist.\","
                        "\"type\":\"NotFoundError\",\"code\":404}";
    char *m = openai_error_message(vllm, sizeof vllm - 1, 200);
    CHECK_EQ_STR(m, "The model `x` does not exist.");
    free(m);
    const char openai[] = "{\"error\":{\"message\":\"rate limited\",\"type\":\"x\"}}";
    m = openai_error_message(openai, sizeof openai - 1, 200);
    CHECK_EQ_STR(m, "rate limited");
    free(m);
    const char html[] = "<html>\n<body>502 Bad Gateway</body></html>";
    m = openai_error_message(html, sizeof html - 1, 20);
    CHECK_EQ_STR(m, "<html> <body>502 ...");
    free(m);
    m = openai_error_message("", 0, 50);
    CHECK_EQ_STR(m, "(empty body)");
    free(m);
}

TEST(models_list)
{
    const char body[] =
        "{\"object\":\"list\",\"data\":[{\"id\":\"a\",\"object\":\"model\"},{\"id\":\"b\"}]}";
    char **ids;
    CHECK_EQ_INT(openai_parse_models(body, sizeof body - 1, &ids), 2);
    CHECK_EQ_STR(ids[0], "a");
    CHECK_EQ_STR(ids[1], "b");
    free(ids[0]), free(ids[1]), free(ids);
    CHECK_EQ_INT(openai_parse_models("{}", 2, &ids), -1);
}

TEST(sse_empty_feed_between_cr_and_lf)
{
    /* "\r\n" split as "\r", "" (an empty write), "\n" is still one line end:
     * the two data lines belong to one event. */
    struct sse_parser p;
    sse_init(&p);
    struct collected c = {0};
    CHECK_EQ_INT(sse_feed(&p, "data: a\r", 8, collect, &c), SSE_OK);
    CHECK_EQ_INT(sse_feed(&p, "", 0, collect, &c), SSE_OK);
    CHECK_EQ_INT(sse_feed(&p, "\ndata: b\n\n", 10, collect, &c), SSE_OK);
    CHECK_EQ_INT(c.n, 1);
    CHECK_EQ_STR(c.events[0], "a\nb");
    sse_free(&p);
}

TEST(event_null_error_field_is_not_an_error)
{
    /* Some OpenAI-compatible servers put "error": null on every chunk. */
    struct openai_event ev;
    const char chunk[] = "{\"choices\":[{\"text\":\"a\"}],\"error\":null}";
    CHECK(openai_parse_event(chunk, sizeof chunk - 1, &ev));
    CHECK(ev.error == NULL);
    CHECK(ev.has_text);
    openai_event_free(&ev);
}

TEST(event_absurd_stamp_is_ignored)
{
    /* A number that fits no int64_t (converting it would be undefined). */
    struct openai_event ev;
    const char huge[] = "{\"choices\":[{\"text\":\"a\"}],\"mock_sent_ns\":1e300}";
    CHECK(openai_parse_event(huge, sizeof huge - 1, &ev));
    CHECK(ev.mock_sent_ns == 0);
    openai_event_free(&ev);
    const char nan_like[] = "{\"choices\":[{\"text\":\"a\"}],\"mock_sent_ns\":-1e19}";
    CHECK(openai_parse_event(nan_like, sizeof nan_like - 1, &ev));
    CHECK(ev.mock_sent_ns == 0);
    openai_event_free(&ev);
}

TEST(sse_refuses_endless_lines)
{
    struct sse_parser p;
    sse_init(&p);
    struct collected c = {0};
    char chunk[4096];
    memset(chunk, 'x', sizeof chunk);
    memcpy(chunk, "data: ", 6);
    enum sse_status st = SSE_OK;
    for (int i = 0; i < 300 && st == SSE_OK; i++)
        st = sse_feed(&p, chunk, sizeof chunk, collect, &c);
    CHECK_EQ_INT(st, SSE_MALFORMED);
    CHECK_CONTAINS(p.bad_line, "longer than");
    CHECK(p.line.len <= SSE_MAX_EVENT_BYTES);
    sse_free(&p);
}

/* Found by tests/fuzz/sse_fuzz.c: a comment line past the cap was refused when
 * it came in several reads but accepted when one read held all of it (the
 * check only looked at unfinished lines). */
TEST(sse_refuses_long_lines_however_they_arrive)
{
    size_t len = SSE_MAX_EVENT_BYTES + 10;
    char *lines = malloc(len + 2);
    memset(lines, 'x', len);
    lines[0] = ':';
    memcpy(lines + len, "\n\n", 2);
    struct sse_parser p;
    sse_init(&p);
    struct collected c = {0};
    CHECK_EQ_INT(sse_feed(&p, lines, len + 2, collect, &c), SSE_MALFORMED);
    CHECK_CONTAINS(p.bad_line, "longer than");
    sse_reset(&p);
    enum sse_status st = SSE_OK;
    for (size_t at = 0; at < len + 2 && st == SSE_OK; at += 65536) {
        size_t n = len + 2 - at < 65536 ? len + 2 - at : 65536;
        st = sse_feed(&p, lines + at, n, collect, &c);
    }
    CHECK_EQ_INT(st, SSE_MALFORMED);
    sse_free(&p);
    free(lines);
}
