#include "openai.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *openai_path(enum api_kind api)
{
    return api == API_CHAT ? "/chat/completions" : "/completions";
}

struct openai_body {
    cJSON *doc;
    cJSON *prompt;     /* the string the prompt goes into */
    cJSON *max_tokens; /* the number the output length goes into */
};

struct openai_body *openai_body_new(enum api_kind api, const char *model, const char *extra_body,
                                    struct buf *err)
{
    struct openai_body *body = xmalloc(sizeof *body);
    cJSON *doc = body->doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "model", model);
    const char *prompt_key, *max_key;
    if (api == API_CHAT) {
        cJSON *messages = cJSON_AddArrayToObject(doc, "messages");
        cJSON *message = cJSON_CreateObject();
        cJSON_AddStringToObject(message, "role", "user");
        body->prompt = cJSON_AddStringToObject(message, "content", "");
        cJSON_AddItemToArray(messages, message);
        prompt_key = "messages";
        max_key = "max_completion_tokens";
    } else {
        body->prompt = cJSON_AddStringToObject(doc, "prompt", "");
        prompt_key = "prompt";
        max_key = "max_tokens";
    }
    body->max_tokens = cJSON_AddNumberToObject(doc, max_key, 1);
    /* vLLM stops at EOS otherwise, and the output length would be the
     * model's choice instead of the spec's. */
    cJSON_AddBoolToObject(doc, "ignore_eos", true);
    cJSON_AddBoolToObject(doc, "stream", true);
    cJSON *stream_options = cJSON_AddObjectToObject(doc, "stream_options");
    cJSON_AddBoolToObject(stream_options, "include_usage", true);

    if (extra_body) {
        cJSON *extra = cJSON_Parse(extra_body);
        if (!cJSON_IsObject(extra)) {
            buf_printf(err, "extra request body fields must be a JSON object, got: %.60s",
                       extra_body);
            cJSON_Delete(extra);
            openai_body_free(body);
            return NULL;
        }
        for (cJSON *field = extra->child; field; field = field->next) {
            /* A replaced prompt or length is the spec's to set: leave it. */
            if (strcmp(field->string, prompt_key) == 0)
                body->prompt = NULL;
            if (strcmp(field->string, max_key) == 0)
                body->max_tokens = NULL;
            cJSON_DeleteItemFromObjectCaseSensitive(doc, field->string);
            cJSON_AddItemToObject(doc, field->string, cJSON_Duplicate(field, true));
        }
        cJSON_Delete(extra);
    }
    return body;
}

char *openai_body_render(struct openai_body *body, const char *prompt, int max_output_tokens)
{
    if (body->prompt)
        cJSON_SetValuestring(body->prompt, prompt);
    if (body->max_tokens)
        cJSON_SetNumberValue(body->max_tokens, max_output_tokens);
    char *text = cJSON_PrintUnformatted(body->doc);
    if (!text) {
        fprintf(stderr, "llmsweep: out of memory printing a request body\n");
        abort();
    }
    return text;
}

void openai_body_free(struct openai_body *body)
{
    if (!body)
        return;
    cJSON_Delete(body->doc);
    free(body);
}

/* --- SSE ----------------------------------------------------------------- */

void sse_init(struct sse_parser *p)
{
    *p = (struct sse_parser){0};
}

void sse_reset(struct sse_parser *p)
{
    buf_clear(&p->line);
    buf_clear(&p->data);
    p->have_data = false;
    p->last_was_cr = false;
    p->bad_line[0] = '\0';
}

void sse_free(struct sse_parser *p)
{
    buf_free(&p->line);
    buf_free(&p->data);
}

/* A server that never ends its line (or event) must not take all memory. */
static enum sse_status too_long(struct sse_parser *p)
{
    snprintf(p->bad_line, sizeof p->bad_line, "an event longer than %d bytes", SSE_MAX_EVENT_BYTES);
    return SSE_MALFORMED;
}

static bool field_is(const char *line, size_t len, const char *name, const char **value,
                     size_t *value_len)
{
    size_t n = strlen(name);
    if (len < n || memcmp(line, name, n) != 0)
        return false;
    if (len == n) { /* "data" alone: a field with an empty value */
        *value = line + n;
        *value_len = 0;
        return true;
    }
    if (line[n] != ':')
        return false;
    const char *v = line + n + 1;
    size_t vlen = len - n - 1;
    if (vlen && *v == ' ') {
        v++;
        vlen--;
    }
    *value = v;
    *value_len = vlen;
    return true;
}

/* The start of a malformed line for messages: printable ASCII as it is,
 * any other byte as \xNN, so a NUL, a control character or a broken UTF-8
 * sequence from the server cannot cut or garble the message (or the
 * results file it ends up in). */
static void show_line(struct sse_parser *p, const char *line, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];
        bool plain = c >= 0x20 && c < 0x7f && c != '\\';
        if (o + (plain ? 1 : 4) >= sizeof p->bad_line)
            break;
        if (plain) {
            p->bad_line[o++] = (char)c;
        } else {
            p->bad_line[o++] = '\\';
            p->bad_line[o++] = 'x';
            p->bad_line[o++] = hex[c >> 4];
            p->bad_line[o++] = hex[c & 15];
        }
    }
    p->bad_line[o] = '\0';
}

/* One complete line. Returns false to stop (malformed, or the callback
 * asked to stop: *stopped tells which). */
static bool take_line(struct sse_parser *p, const char *line, size_t len, sse_event_fn *on_event,
                      void *ctx, bool *stopped)
{
    if (len == 0) { /* blank line: dispatch */
        if (!p->have_data)
            return true;
        p->have_data = false;
        bool go_on = on_event(ctx, p->data.data, p->data.len);
        buf_clear(&p->data);
        if (!go_on)
            *stopped = true;
        return go_on;
    }
    if (line[0] == ':')
        return true; /* comment (keep-alive pings) */
    const char *value;
    size_t value_len;
    if (field_is(line, len, "data", &value, &value_len)) {
        if (p->have_data)
            buf_putc(&p->data, '\n');
        if (p->data.len + value_len > SSE_MAX_EVENT_BYTES) {
            too_long(p);
            return false;
        }
        buf_append(&p->data, value, value_len);
        p->have_data = true;
        return true;
    }
    if (field_is(line, len, "event", &value, &value_len) ||
        field_is(line, len, "id", &value, &value_len) ||
        field_is(line, len, "retry", &value, &value_len))
        return true;
    show_line(p, line, len);
    return false;
}

enum sse_status sse_feed(struct sse_parser *p, const char *bytes, size_t n, sse_event_fn *on_event,
                         void *ctx)
{
    if (n == 0)
        return SSE_OK; /* keeps last_was_cr for the bytes that follow */
    size_t i = 0;
    if (p->last_was_cr && bytes[0] == '\n')
        i = 1;
    p->last_was_cr = false;
    while (i < n) {
        const char *start = bytes + i;
        size_t rest = n - i;
        const char *nl = memchr(start, '\n', rest);
        const char *cr = memchr(start, '\r', nl ? (size_t)(nl - start) : rest);
        const char *end = cr ? cr : nl;
        if (!end) { /* no line end yet: keep the fragment */
            if (p->line.len + rest > SSE_MAX_EVENT_BYTES)
                return too_long(p);
            buf_append(&p->line, start, rest);
            break;
        }
        const char *line = start;
        size_t len = (size_t)(end - start);
        /* Checked here too, not only for fragments, so a long line is refused
         * however the reads cut it. */
        if (p->line.len + len > SSE_MAX_EVENT_BYTES)
            return too_long(p);
        if (p->line.len) { /* completes a line begun in an earlier call */
            buf_append(&p->line, start, len);
            line = p->line.data;
            len = p->line.len;
        }
        bool stopped = false;
        bool ok = take_line(p, line, len, on_event, ctx, &stopped);
        buf_clear(&p->line);
        if (!ok)
            return stopped ? SSE_OK : SSE_MALFORMED;
        i = (size_t)(end - bytes) + 1;
        if (end == cr) { /* CRLF counts as one line end */
            if (i < n && bytes[i] == '\n')
                i++;
            else if (i == n)
                p->last_was_cr = true;
        }
    }
    return SSE_OK;
}

/* --- events -------------------------------------------------------------- */

static const cJSON *nonempty_string(const cJSON *obj, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(s) && s->valuestring[0] ? s : NULL;
}

static char *message_of(const cJSON *doc)
{
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(doc, "error");
    const cJSON *msg = NULL;
    if (cJSON_IsObject(error))
        msg = cJSON_GetObjectItemCaseSensitive(error, "message");
    else if (cJSON_IsString(error))
        msg = error;
    if (!cJSON_IsString(msg))
        msg = cJSON_GetObjectItemCaseSensitive(doc, "message");
    return cJSON_IsString(msg) ? xstrdup(msg->valuestring) : NULL;
}

bool openai_parse_event(const char *data, size_t len, struct openai_event *out)
{
    *out = (struct openai_event){0};
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        out->done = true;
        return true;
    }
    cJSON *doc = cJSON_ParseWithLength(data, len);
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        return false;
    }
    out->doc = doc;
    /* Some servers send "error": null on every chunk. */
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(doc, "error");
    if (error && !cJSON_IsNull(error) && !cJSON_IsFalse(error)) {
        out->error = message_of(doc);
        if (!out->error)
            out->error = xstrdup("the server sent an error event without a message");
        return true;
    }
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(doc, "choices");
    const cJSON *choice = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
    if (cJSON_IsObject(choice)) {
        const cJSON *text = nonempty_string(choice, "text");
        const cJSON *delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");
        if (!text && cJSON_IsObject(delta)) {
            text = nonempty_string(delta, "content");
            if (!text)
                text = nonempty_string(delta, "reasoning_content");
            if (!text)
                text = nonempty_string(delta, "reasoning");
        }
        if (text) {
            out->has_text = true;
            out->text = text->valuestring;
            out->text_len = strlen(text->valuestring);
        }
        const cJSON *finish = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
        if (cJSON_IsString(finish)) {
            strncpy(out->finish_reason, finish->valuestring, sizeof out->finish_reason - 1);
        }
    }
    const cJSON *stamp = cJSON_GetObjectItemCaseSensitive(doc, "mock_sent_ns");
    /* Range-checked: converting a double outside int64_t is undefined. */
    if (cJSON_IsNumber(stamp) && stamp->valuedouble > 0 && stamp->valuedouble < 9e18)
        out->mock_sent_ns = (int64_t)stamp->valuedouble;
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(doc, "usage");
    if (cJSON_IsObject(usage)) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");
        if (cJSON_IsNumber(p) && cJSON_IsNumber(c)) {
            out->has_usage = true;
            out->prompt_tokens = p->valueint;
            out->completion_tokens = c->valueint;
        }
    }
    return true;
}

void openai_event_free(struct openai_event *ev)
{
    cJSON_Delete(ev->doc);
    free(ev->error);
    *ev = (struct openai_event){0};
}

static void one_line(char *s, size_t max_len)
{
    size_t len = 0;
    for (char *p = s; *p; p++, len++) {
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    }
    while (len && s[len - 1] == ' ')
        s[--len] = '\0';
    if (len > max_len) {
        s[max_len > 3 ? max_len - 3 : 0] = '\0';
        strcat(s, "...");
    }
}

char *openai_error_message(const char *body, size_t len, size_t max_len)
{
    char *msg = NULL;
    cJSON *doc = len ? cJSON_ParseWithLength(body, len) : NULL;
    if (cJSON_IsObject(doc))
        msg = message_of(doc);
    cJSON_Delete(doc);
    if (!msg) {
        /* Not JSON (a proxy's HTML or plain text): show its start. */
        size_t take = len < 200 ? len : 200;
        msg = take ? xstrndup(body, take) : xstrdup("(empty body)");
    }
    one_line(msg, max_len);
    return msg;
}

int openai_parse_models(const char *body, size_t len, char ***ids)
{
    *ids = NULL;
    cJSON *doc = cJSON_ParseWithLength(body, len);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(doc, "data");
    if (!cJSON_IsArray(data)) {
        cJSON_Delete(doc);
        return -1;
    }
    int n = cJSON_GetArraySize(data);
    *ids = xcalloc((size_t)n + 1, sizeof **ids);
    int count = 0;
    const cJSON *model;
    cJSON_ArrayForEach(model, data)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(model, "id");
        if (cJSON_IsString(id))
            (*ids)[count++] = xstrdup(id->valuestring);
    }
    cJSON_Delete(doc);
    return count;
}
