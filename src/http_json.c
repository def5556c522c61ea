/* http_json.c: one request to a JSON API with a bearer token (http.h),
 * shared by the Model Registry and the Kubernetes clients. Kept apart from
 * http.c so the registry fuzz target can link it with its scripted
 * http_perform. */
#include <cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

/* A body that starts as JSON does (after white space): not an HTML page or text. */
static bool body_is_json_like(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)body[i]))
        i++;
    return i < len && (body[i] == '{' || body[i] == '[');
}

bool http_json_call(const struct http_config *cfg, const char *method, const char *url,
                    const char *body, const char *token, const char *api,
                    struct http_json_answer *out)
{
    *out = (struct http_json_answer){0};
    struct buf auth = {0};
    const char *headers[3];
    size_t nh = 0;
    headers[nh++] = "Accept: application/json";
    if (body)
        headers[nh++] = "Content-Type: application/json";
    if (token && *token) {
        buf_printf(&auth, "Authorization: Bearer %s", token);
        headers[nh++] = auth.data;
    }
    struct http_request req = {
        .method = method,
        .url = url,
        .headers = headers,
        .n_headers = nh,
        .body = body,
        .body_len = body ? strlen(body) : 0,
    };
    struct http_response resp;
    out->transferred = http_perform(cfg, &req, &resp, &out->fail);
    if (auth.data) /* the header held the token: do not leave it in memory */
        memset(auth.data, 0, auth.cap);
    buf_free(&auth);
    if (!out->transferred) {
        http_response_free(&resp); /* what arrived before the failure */
        return false;
    }

    out->status = resp.status;
    out->body_len = resp.body.len;
    bool success = resp.status >= 200 && resp.status < 300;
    const char *parse_end = NULL;
    if (success && resp.body.len)
        out->json = cJSON_ParseWithLengthOpts(resp.body.data, resp.body.len, &parse_end, false);
    if (!out->json) {
        /* Error text only: a good answer's data is kept as it came. */
        buf_redact(&resp.body, token);
        http_error_text(resp.status, resp.content_type.data, resp.body.data ? resp.body.data : "",
                        resp.body.len, api, out->text, sizeof out->text);
        if (success && body_is_json_like(resp.body.data, resp.body.len)) {
            out->broken_json = true;
            out->broken_at = parse_end && parse_end >= resp.body.data
                                 ? (size_t)(parse_end - resp.body.data)
                                 : resp.body.len;
        }
    }
    http_response_free(&resp);
    return out->json != NULL;
}
