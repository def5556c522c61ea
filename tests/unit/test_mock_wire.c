#include <cJSON.h>
#include <string.h>

#include "harness.h"
#include "mock_wire.h"

static const struct mock_served served = {"m1", 100, mock_approx_tokens, NULL};

static int parse(enum mock_api api, const char *body, struct mock_request *req, struct buf *err)
{
    buf_clear(err);
    return mock_request_parse(api, body, strlen(body), &served, req, err);
}

TEST(mock_wire_chat_content_string_or_parts)
{
    struct mock_request r;
    struct buf err = {0};
    /* 9 bytes + 4 bytes = 13 bytes -> ceil(13 / 4) = 4 tokens */
    CHECK_EQ_INT(
        parse(MOCK_API_CHAT,
              "{\"model\":\"m1\",\"messages\":[{\"role\":\"system\",\"content\":\"You help.\"},"
              "{\"role\":\"user\",\"content\":\"Hi!!\"}],\"max_tokens\":5}",
              &r, &err),
        0);
    CHECK_EQ_INT(r.prompt_tokens, 4);
    CHECK_EQ_INT(r.max_tokens, 5);
    CHECK(!r.stream);
    CHECK_EQ_INT(parse(MOCK_API_CHAT,
                       "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
                       "\"You help.\"},{\"type\":\"text\",\"text\":\"Hi!!\"}]}],"
                       "\"max_completion_tokens\":7,\"max_tokens\":5,\"stream\":true,"
                       "\"ignore_eos\":true,\"stream_options\":{\"include_usage\":true,"
                       "\"continuous_usage_stats\":true}}",
                       &r, &err),
                 0);
    CHECK_EQ_INT(r.prompt_tokens, 4);
    CHECK_EQ_INT(r.max_tokens, 7); /* max_completion_tokens wins */
    CHECK(r.stream && r.ignore_eos && r.include_usage && r.continuous_usage);
    /* UTF-8 bytes, not characters: "é" is 2 bytes, 3 of them are 6 bytes -> 2 tokens */
    CHECK_EQ_INT(
        parse(MOCK_API_CHAT,
              "{\"messages\":[{\"role\":\"user\",\"content\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}]}", &r,
              &err),
        0);
    CHECK_EQ_INT(r.prompt_tokens, 2);
    CHECK_EQ_INT(r.max_tokens, -1);
    buf_free(&err);
}

TEST(mock_wire_completions_prompt_forms)
{
    struct mock_request r;
    struct buf err = {0};
    CHECK_EQ_INT(parse(MOCK_API_COMPLETIONS, "{\"prompt\":\"abcdefghi\"}", &r, &err), 0);
    CHECK_EQ_INT(r.prompt_tokens, 3);
    CHECK_EQ_INT(parse(MOCK_API_COMPLETIONS, "{\"prompt\":[\"abcd\"]}", &r, &err), 0);
    CHECK_EQ_INT(r.prompt_tokens, 1);
    CHECK_EQ_INT(parse(MOCK_API_COMPLETIONS, "{\"prompt\":[1,2,3,4,5]}", &r, &err), 0);
    CHECK_EQ_INT(r.prompt_tokens, 5);
    /* max_completion_tokens is a chat field; completions read max_tokens only */
    CHECK_EQ_INT(parse(MOCK_API_COMPLETIONS,
                       "{\"prompt\":\"x\",\"max_tokens\":3,\"max_completion_tokens\":9}", &r, &err),
                 0);
    CHECK_EQ_INT(r.max_tokens, 3);
    buf_free(&err);
}

static void check_error(enum mock_api api, const char *body, int status, const char *type,
                        const char *message, int *test_failures_)
{
    struct mock_request r;
    struct buf err = {0};
    CHECK_EQ_INT(parse(api, body, &r, &err), status);
    cJSON *doc = cJSON_Parse(err.data);
    CHECK(doc != NULL);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "object")), "error");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "type")), type);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(doc, "param")));
    CHECK_EQ_INT(cJSON_GetObjectItem(doc, "code")->valueint, status);
    CHECK_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "message")), message);
    cJSON_Delete(doc);
    buf_free(&err);
}

TEST(mock_wire_request_errors_like_vllm)
{
    check_error(MOCK_API_COMPLETIONS, "{\"model\":\"gpt\",\"prompt\":\"x\"}", 404, "NotFoundError",
                "The model `gpt` does not exist.", test_failures_);
    check_error(MOCK_API_COMPLETIONS, "{\"prompt\":", 400, "BadRequestError", "Invalid JSON",
                test_failures_);
    check_error(MOCK_API_COMPLETIONS, "[1]", 400, "BadRequestError", "JSON object", test_failures_);
    check_error(MOCK_API_COMPLETIONS, "{}", 400, "BadRequestError", "'prompt' is required",
                test_failures_);
    check_error(MOCK_API_CHAT, "{\"prompt\":\"x\"}", 400, "BadRequestError",
                "'messages' is required", test_failures_);
    check_error(MOCK_API_CHAT, "{\"messages\":[]}", 400, "BadRequestError", "non-empty",
                test_failures_);
    check_error(MOCK_API_CHAT, "{\"messages\":[{\"content\":\"x\"}]}", 400, "BadRequestError",
                "messages[0] must be an object with a string 'role'", test_failures_);
    check_error(MOCK_API_CHAT,
                "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", 400,
                "BadRequestError", "messages[0].content[0]", test_failures_);
    check_error(MOCK_API_COMPLETIONS, "{\"prompt\":\"x\",\"max_tokens\":0}", 400, "BadRequestError",
                "'max_tokens' must be a whole number >= 1", test_failures_);
    check_error(MOCK_API_COMPLETIONS, "{\"prompt\":\"x\",\"max_tokens\":2.5}", 400,
                "BadRequestError", "'max_tokens'", test_failures_);
    check_error(MOCK_API_COMPLETIONS, "{\"prompt\":\"x\",\"stream\":\"yes\"}", 400,
                "BadRequestError", "'stream' must be true or false", test_failures_);
    check_error(MOCK_API_COMPLETIONS,
                "{\"prompt\":\"x\",\"stream_options\":{\"include_usage\":true}}", 400,
                "BadRequestError", "only be defined when `stream=True`", test_failures_);
    check_error(MOCK_API_COMPLETIONS, "{\"prompt\":\"x\",\"n\":2}", 400, "BadRequestError",
                "'n' must be 1", test_failures_);
    check_error(MOCK_API_COMPLETIONS, "{\"prompt\":\"x\",\"max_tokens\":100}", 400,
                "BadRequestError",
                "maximum context length is 100 tokens. However, you "
                "requested 101 tokens (1 in the messages, 100 in the "
                "completion)",
                test_failures_);
}

static cJSON *event_json(const struct buf *ev, int *test_failures_)
{
    CHECK(ev->len > 8 && strncmp(ev->data, "data: ", 6) == 0);
    CHECK(strcmp(ev->data + ev->len - 2, "\n\n") == 0);
    CHECK(memchr(ev->data, '\n', ev->len - 2) == NULL); /* one line */
    cJSON *doc = cJSON_ParseWithLength(ev->data + 6, ev->len - 8);
    CHECK(doc != NULL);
    return doc;
}

TEST(mock_wire_chat_events_have_vllm_fields)
{
    struct mock_event_head h;
    mock_event_head_init(&h, MOCK_API_CHAT, true, 0x1234, 0xabcd, 1700000000, "we\"ird");
    struct buf ev = {0};
    struct mock_usage u = {10, 0};
    mock_event_role(&ev, &h, &u, 0);
    cJSON *doc = event_json(&ev, test_failures_);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "id")),
                 "chatcmpl-0000000000001234000000000000abcd");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "object")), "chat.completion.chunk");
    CHECK_EQ_INT(cJSON_GetObjectItem(doc, "created")->valuedouble, 1700000000);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "model")), "we\"ird");
    cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "choices"), 0);
    cJSON *delta = cJSON_GetObjectItem(choice, "delta");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(delta, "role")), "assistant");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(delta, "content")), "");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(choice, "finish_reason")));
    CHECK_EQ_INT(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "usage"), "completion_tokens")->valueint, 0);
    CHECK(cJSON_GetObjectItem(doc, "mock_sent_ns") == NULL);
    cJSON_Delete(doc);

    buf_clear(&ev);
    mock_event_token(&ev, &h, " the", "length", NULL, 123456789);
    doc = event_json(&ev, test_failures_);
    choice = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "choices"), 0);
    CHECK_EQ_STR(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(choice, "delta"), "content")),
        " the");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(choice, "finish_reason")), "length");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(choice, "stop_reason")));
    CHECK(cJSON_GetObjectItem(doc, "usage") == NULL);
    CHECK_EQ_INT(cJSON_GetObjectItem(doc, "mock_sent_ns")->valuedouble, 123456789);
    cJSON_Delete(doc);

    buf_clear(&ev);
    u.completion_tokens = 3;
    mock_event_usage(&ev, &h, &u, 0);
    doc = event_json(&ev, test_failures_);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "choices")), 0);
    cJSON *usage = cJSON_GetObjectItem(doc, "usage");
    CHECK_EQ_INT(cJSON_GetObjectItem(usage, "prompt_tokens")->valueint, 10);
    CHECK_EQ_INT(cJSON_GetObjectItem(usage, "completion_tokens")->valueint, 3);
    CHECK_EQ_INT(cJSON_GetObjectItem(usage, "total_tokens")->valueint, 13);
    cJSON_Delete(doc);

    buf_clear(&ev);
    mock_event_done(&ev);
    CHECK_EQ_STR(ev.data, "data: [DONE]\n\n");
    buf_free(&ev);
    mock_event_head_free(&h);
}

TEST(mock_wire_completion_events_and_whole_responses)
{
    struct mock_event_head h;
    mock_event_head_init(&h, MOCK_API_COMPLETIONS, true, 1, 2, 5, "m1");
    struct buf ev = {0};
    mock_event_token(&ev, &h, mock_token_text(0), NULL, NULL, 0);
    cJSON *doc = event_json(&ev, test_failures_);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "object")), "text_completion");
    CHECK_CONTAINS(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "id")), "cmpl-");
    cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "choices"), 0);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(choice, "text")), mock_token_text(0));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(choice, "finish_reason")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(choice, "logprobs")));
    cJSON_Delete(doc);

    struct mock_usage u = {4, 2};
    struct buf body = {0};
    mock_response_body(&body, &h, " the and", 8, "stop", &u);
    doc = cJSON_Parse(body.data);
    CHECK(doc != NULL);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "object")), "text_completion");
    choice = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "choices"), 0);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(choice, "text")), " the and");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(choice, "finish_reason")), "stop");
    CHECK_EQ_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "usage"), "total_tokens")->valueint,
                 6);
    cJSON_Delete(doc);
    mock_event_head_free(&h);

    mock_event_head_init(&h, MOCK_API_CHAT, false, 1, 2, 5, "m1");
    buf_clear(&body);
    mock_response_body(&body, &h, "x\ny", 3, "length", &u);
    doc = cJSON_Parse(body.data);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "object")), "chat.completion");
    choice = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "choices"), 0);
    CHECK_EQ_STR(cJSON_GetStringValue(
                     cJSON_GetObjectItem(cJSON_GetObjectItem(choice, "message"), "content")),
                 "x\ny");
    cJSON_Delete(doc);
    mock_event_head_free(&h);
    buf_free(&ev);
    buf_free(&body);
}

TEST(mock_wire_tokens_are_four_bytes_and_count_back)
{
    struct buf text = {0};
    for (uint64_t i = 0; i < 100; i++) {
        CHECK_EQ_INT(strlen(mock_token_text(i)), MOCK_TOKEN_BYTES);
        buf_puts(&text, mock_token_text(i));
    }
    CHECK_EQ_INT(mock_approx_tokens(NULL, text.data, text.len), 100);
    CHECK_EQ_INT(mock_approx_tokens(NULL, "", 0), 0);
    CHECK_EQ_INT(mock_approx_tokens(NULL, "abcde", 5), 2);
    buf_free(&text);
}

TEST(mock_wire_models_list_shape)
{
    struct buf body = {0};
    mock_models_body(&body, "granite", 4096, 77);
    cJSON *doc = cJSON_Parse(body.data);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "object")), "list");
    cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "data"), 0);
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(m, "id")), "granite");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(m, "object")), "model");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(m, "root")), "granite");
    CHECK_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(m, "owned_by")), "vllm");
    CHECK_EQ_INT(cJSON_GetObjectItem(m, "max_model_len")->valueint, 4096);
    CHECK_EQ_INT(cJSON_GetObjectItem(m, "created")->valueint, 77);
    cJSON_Delete(doc);
    buf_free(&body);
}

TEST(mock_wire_json_strings_escape_controls)
{
    struct buf out = {0};
    json_append_string(&out, "a\"b\\c\n\x01\xc3\xa9", 9);
    CHECK_EQ_STR(out.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    buf_free(&out);
}
