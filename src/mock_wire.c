#include "mock_wire.h"

#include <cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

/* Common English words that are one token each in Llama-style tokenizers. */
static const char *const token_words[] = {
    " the", " and", " for", " are", " but", " not", " you", " all", " any", " can", " had",
    " her", " was", " one", " our", " out", " day", " get", " has", " him", " his", " how",
    " man", " new", " now", " old", " see", " two", " way", " who", " its", " say",
};

const char *mock_token_text(uint64_t i)
{
    return token_words[i % ARRAY_LEN(token_words)];
}

uint64_t mock_approx_tokens(void *unused, const char *text, size_t len)
{
    (void)unused;
    (void)text;
    return (len + 3) / 4;
}

void json_append_string(struct buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(out, len + 2);
    buf_putc(out, '"');
    size_t run = 0; /* bytes that need no escape, copied in one go */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(out, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': buf_puts(out, "\\\""); break;
        case '\\': buf_puts(out, "\\\\"); break;
        case '\n': buf_puts(out, "\\n"); break;
        case '\r': buf_puts(out, "\\r"); break;
        case '\t': buf_puts(out, "\\t"); break;
        default: {
            char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            buf_puts(out, esc);
        }
        }
    }
    buf_append(out, s + run, len - run);
    buf_putc(out, '"');
}

void mock_error_body(struct buf *out, int code, const char *type, const char *message)
{
    buf_puts(out, "{\"object\":\"error\",\"message\":");
    json_append_string(out, message, strlen(message));
    buf_printf(out, ",\"type\":\"%s\",\"param\":null,\"code\":%d}", type, code);
}

/* --- requests ----------------------------------------------------------- */

static int bad_request(struct buf *error_body, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int bad_request(struct buf *error_body, const char *fmt, ...)
{
    struct buf msg = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    mock_error_body(error_body, 400, "BadRequestError", msg.data);
    buf_free(&msg);
    return 400;
}

/* A JSON number that is a whole number in [min, max]. */
static bool whole_number(const cJSON *item, double min, double max, int64_t *out)
{
    if (!cJSON_IsNumber(item))
        return false;
    double v = item->valuedouble;
    if (!(v >= min && v <= max) || floor(v) != v)
        return false;
    *out = (int64_t)v;
    return true;
}

static int optional_bool(const cJSON *root, const char *name, bool *out, struct buf *error_body)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!item || cJSON_IsNull(item))
        return 0;
    if (!cJSON_IsBool(item))
        return bad_request(error_body, "'%s' must be true or false", name);
    *out = cJSON_IsTrue(item);
    return 0;
}

static int count_prompt(const cJSON *prompt, const struct mock_served *served, uint64_t *tokens,
                        struct buf *error_body)
{
    if (cJSON_IsString(prompt)) {
        *tokens = served->count_tokens(served->count_ctx, prompt->valuestring,
                                       strlen(prompt->valuestring));
        return 0;
    }
    int n = cJSON_IsArray(prompt) ? cJSON_GetArraySize(prompt) : -1;
    if (n == 1 && cJSON_IsString(cJSON_GetArrayItem(prompt, 0)))
        return count_prompt(cJSON_GetArrayItem(prompt, 0), served, tokens, error_body);
    if (n > 0) {
        int64_t id;
        const cJSON *item;
        cJSON_ArrayForEach(item, prompt)
        {
            if (!whole_number(item, 0, 4294967295.0, &id))
                return bad_request(error_body, "'prompt' must be a string, a list with one string "
                                               "or a list of token ids (the mock serves one "
                                               "prompt per request)");
        }
        *tokens = (uint64_t)n;
        return 0;
    }
    return bad_request(error_body, "'prompt' must be a non-empty string, a list with one string "
                                   "or a list of token ids");
}

static int count_messages(const cJSON *messages, const struct mock_served *served, uint64_t *tokens,
                          struct buf *error_body)
{
    if (!cJSON_IsArray(messages) || cJSON_GetArraySize(messages) == 0)
        return bad_request(error_body, "'messages' must be a non-empty list of messages");
    struct buf text = {0};
    int index = 0, rc = 0;
    const cJSON *msg;
    cJSON_ArrayForEach(msg, messages)
    {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(msg, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
        if (!cJSON_IsObject(msg) || !cJSON_IsString(role)) {
            rc = bad_request(error_body, "messages[%d] must be an object with a string 'role'",
                             index);
            break;
        }
        if (cJSON_IsString(content)) {
            buf_puts(&text, content->valuestring);
        } else if (cJSON_IsArray(content)) {
            const cJSON *part;
            int p = 0;
            cJSON_ArrayForEach(part, content)
            {
                const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
                const cJSON *part_text = cJSON_GetObjectItemCaseSensitive(part, "text");
                if (!cJSON_IsString(type) || strcmp(type->valuestring, "text") != 0 ||
                    !cJSON_IsString(part_text)) {
                    rc = bad_request(error_body,
                                     "messages[%d].content[%d] must be {\"type\": \"text\", "
                                     "\"text\": ...} (the mock serves text only)",
                                     index, p);
                    break;
                }
                buf_puts(&text, part_text->valuestring);
                p++;
            }
            if (rc)
                break;
        } else if (content && !cJSON_IsNull(content)) {
            rc = bad_request(
                error_body, "messages[%d].content must be a string or a list of text parts", index);
            break;
        }
        index++;
    }
    if (rc == 0)
        *tokens = served->count_tokens(served->count_ctx, text.data ? text.data : "", text.len);
    buf_free(&text);
    return rc;
}

static int read_max_tokens(const cJSON *root, enum mock_api api, int64_t *out,
                           struct buf *error_body)
{
    const char *names[2] = {"max_completion_tokens", "max_tokens"};
    for (int i = api == MOCK_API_CHAT ? 0 : 1; i < 2; i++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(root, names[i]);
        if (!item || cJSON_IsNull(item))
            continue;
        if (!whole_number(item, 1, 1e15, out))
            return bad_request(error_body, "'%s' must be a whole number >= 1", names[i]);
        return 0;
    }
    *out = -1;
    return 0;
}

static int parse_fields(const cJSON *root, enum mock_api api, const struct mock_served *served,
                        struct mock_request *out, struct buf *error_body)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (model && !cJSON_IsNull(model)) {
        if (!cJSON_IsString(model))
            return bad_request(error_body, "'model' must be a string");
        if (strcmp(model->valuestring, served->model) != 0) {
            struct buf msg = {0};
            buf_printf(&msg, "The model `%s` does not exist.", model->valuestring);
            mock_error_body(error_body, 404, "NotFoundError", msg.data);
            buf_free(&msg);
            return 404;
        }
    }
    int rc;
    if (api == MOCK_API_COMPLETIONS) {
        const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(root, "prompt");
        if (!prompt)
            return bad_request(error_body, "'prompt' is required");
        rc = count_prompt(prompt, served, &out->prompt_tokens, error_body);
    } else {
        const cJSON *messages = cJSON_GetObjectItemCaseSensitive(root, "messages");
        if (!messages)
            return bad_request(error_body, "'messages' is required");
        rc = count_messages(messages, served, &out->prompt_tokens, error_body);
    }
    if (rc || (rc = read_max_tokens(root, api, &out->max_tokens, error_body)) ||
        (rc = optional_bool(root, "stream", &out->stream, error_body)) ||
        (rc = optional_bool(root, "ignore_eos", &out->ignore_eos, error_body)))
        return rc;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "n");
    int64_t n_value;
    if (n && !cJSON_IsNull(n) && !(whole_number(n, 1, 1, &n_value)))
        return bad_request(error_body, "'n' must be 1 (the mock generates one choice)");
    const cJSON *options = cJSON_GetObjectItemCaseSensitive(root, "stream_options");
    if (options && !cJSON_IsNull(options)) {
        if (!out->stream)
            return bad_request(error_body,
                               "Stream options can only be defined when `stream=True`.");
        if (!cJSON_IsObject(options))
            return bad_request(error_body, "'stream_options' must be an object");
        if ((rc = optional_bool(options, "include_usage", &out->include_usage, error_body)) ||
            (rc = optional_bool(options, "continuous_usage_stats", &out->continuous_usage,
                                error_body)))
            return rc;
        out->continuous_usage = out->continuous_usage && out->include_usage;
    }
    uint64_t wanted = out->prompt_tokens + (out->max_tokens > 0 ? (uint64_t)out->max_tokens : 0);
    if (out->prompt_tokens >= served->max_model_len || wanted > served->max_model_len)
        return bad_request(error_body,
                           "This model's maximum context length is %" PRIu64 " tokens. However, "
                           "you requested %" PRIu64 " tokens (%" PRIu64 " in the messages, %" PRId64
                           " in the completion). Please reduce the length of the messages or "
                           "completion.",
                           served->max_model_len, wanted, out->prompt_tokens,
                           out->max_tokens > 0 ? out->max_tokens : 0);
    return 0;
}

int mock_request_parse(enum mock_api api, const char *body, size_t len,
                       const struct mock_served *served, struct mock_request *out,
                       struct buf *error_body)
{
    *out = (struct mock_request){.api = api, .max_tokens = -1};
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (!root) {
        size_t at = end && end >= body ? (size_t)(end - body) : 0;
        return bad_request(error_body, "Invalid JSON in the request body (at byte %zu of %zu)", at,
                           len);
    }
    int rc;
    if (!cJSON_IsObject(root))
        rc = bad_request(error_body, "The request body must be a JSON object");
    else
        rc = parse_fields(root, api, served, out, error_body);
    cJSON_Delete(root);
    return rc;
}

/* --- events ------------------------------------------------------------- */

void mock_event_head_init(struct mock_event_head *h, enum mock_api api, bool stream,
                          uint64_t id_bits_hi, uint64_t id_bits_lo, int64_t created,
                          const char *model)
{
    *h = (struct mock_event_head){.api = api};
    const char *object = api != MOCK_API_CHAT ? "text_completion"
                         : stream             ? "chat.completion.chunk"
                                              : "chat.completion";
    buf_printf(&h->text,
               "{\"id\":\"%s%016" PRIx64 "%016" PRIx64 "\",\"object\":\"%s\","
               "\"created\":%" PRId64 ",\"model\":",
               api == MOCK_API_CHAT ? "chatcmpl-" : "cmpl-", id_bits_hi, id_bits_lo, object,
               created);
    json_append_string(&h->text, model, strlen(model));
}

void mock_event_head_free(struct mock_event_head *h)
{
    buf_free(&h->text);
}

static void usage_object(struct buf *out, const struct mock_usage *u)
{
    buf_printf(out,
               "{\"prompt_tokens\":%" PRIu64 ",\"total_tokens\":%" PRIu64
               ",\"completion_tokens\":%" PRIu64 "}",
               u->prompt_tokens, u->prompt_tokens + u->completion_tokens, u->completion_tokens);
}

static void event_end(struct buf *out, const struct mock_usage *usage, int64_t stamp_ns)
{
    if (usage) {
        buf_puts(out, ",\"usage\":");
        usage_object(out, usage);
    }
    if (stamp_ns)
        buf_printf(out, ",\"mock_sent_ns\":%" PRId64, stamp_ns);
    buf_puts(out, "}\n\n");
}

static void event_start(struct buf *out, const struct mock_event_head *h)
{
    buf_puts(out, "data: ");
    buf_append(out, h->text.data, h->text.len);
}

void mock_event_role(struct buf *out, const struct mock_event_head *h,
                     const struct mock_usage *usage, int64_t stamp_ns)
{
    event_start(out, h);
    buf_puts(out, ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
                  "\"logprobs\":null,\"finish_reason\":null}]");
    event_end(out, usage, stamp_ns);
}

void mock_event_token(struct buf *out, const struct mock_event_head *h, const char *text,
                      const char *finish_reason, const struct mock_usage *usage, int64_t stamp_ns)
{
    event_start(out, h);
    if (h->api == MOCK_API_CHAT)
        buf_puts(out, ",\"choices\":[{\"index\":0,\"delta\":{\"content\":");
    else
        buf_puts(out, ",\"choices\":[{\"index\":0,\"text\":");
    json_append_string(out, text, strlen(text));
    if (h->api == MOCK_API_CHAT)
        buf_putc(out, '}');
    buf_puts(out, ",\"logprobs\":null,\"finish_reason\":");
    if (finish_reason)
        buf_printf(out, "\"%s\",\"stop_reason\":null}]", finish_reason);
    else if (h->api == MOCK_API_CHAT)
        buf_puts(out, "null}]");
    else
        buf_puts(out, "null,\"stop_reason\":null}]");
    event_end(out, usage, stamp_ns);
}

void mock_event_usage(struct buf *out, const struct mock_event_head *h,
                      const struct mock_usage *usage, int64_t stamp_ns)
{
    event_start(out, h);
    buf_puts(out, ",\"choices\":[]");
    event_end(out, usage, stamp_ns);
}

void mock_event_done(struct buf *out)
{
    buf_puts(out, "data: [DONE]\n\n");
}

void mock_response_body(struct buf *out, const struct mock_event_head *h, const char *text,
                        size_t text_len, const char *finish_reason, const struct mock_usage *usage)
{
    buf_append(out, h->text.data, h->text.len);
    if (h->api == MOCK_API_CHAT) {
        buf_puts(out, ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                      "\"reasoning_content\":null,\"content\":");
        json_append_string(out, text, text_len);
        buf_printf(out,
                   ",\"tool_calls\":[]},\"logprobs\":null,\"finish_reason\":\"%s\","
                   "\"stop_reason\":null}]",
                   finish_reason);
    } else {
        buf_puts(out, ",\"choices\":[{\"index\":0,\"text\":");
        json_append_string(out, text, text_len);
        buf_printf(out,
                   ",\"logprobs\":null,\"finish_reason\":\"%s\",\"stop_reason\":null,"
                   "\"prompt_logprobs\":null}]",
                   finish_reason);
    }
    buf_puts(out, ",\"usage\":");
    usage_object(out, usage);
    buf_puts(out, "}");
}

void mock_models_body(struct buf *out, const char *model, uint64_t max_model_len, int64_t created)
{
    buf_puts(out, "{\"object\":\"list\",\"data\":[{\"id\":");
    json_append_string(out, model, strlen(model));
    buf_printf(out, ",\"object\":\"model\",\"created\":%" PRId64 ",\"owned_by\":\"vllm\",\"root\":",
               created);
    json_append_string(out, model, strlen(model));
    buf_printf(out,
               ",\"parent\":null,\"max_model_len\":%" PRIu64 ",\"permission\":[{\"id\":"
               "\"modelperm-llmsweep-mock\",\"object\":\"model_permission\",\"created\":%" PRId64
               ",\"allow_create_engine\":false,\"allow_sampling\":true,\"allow_logprobs\":true,"
               "\"allow_search_indices\":false,\"allow_view\":true,\"allow_fine_tuning\":false,"
               "\"organization\":\"*\",\"group\":null,\"is_blocking\":false}]}]}",
               max_model_len, created);
}
