#include "envexpand.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

size_t env_name_length(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_')
        return 0;
    size_t n = 1;
    while (isalnum((unsigned char)s[n]) || s[n] == '_')
        n++;
    return n;
}

enum env_status env_expand(const char *text, char **out, char **name_out)
{
    struct buf result = {0};
    buf_puts(&result, "");
    *out = NULL;
    *name_out = NULL;
    for (const char *p = text; *p;) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            buf_puts(&result, "${");
            p += 3;
            continue;
        }
        if (p[0] != '$' || p[1] != '{') {
            buf_putc(&result, *p++);
            continue;
        }
        const char *name = p + 2;
        size_t len = env_name_length(name);
        const char *fallback = NULL, *close = name + len;
        if (len && strncmp(close, ":-", 2) == 0) {
            fallback = close + 2;
            close = strchr(fallback, '}');
        }
        if (!len || !close || *close != '}') {
            buf_free(&result);
            return ENV_SYNTAX;
        }
        char *var = xstrndup(name, len);
        const char *value = getenv(var);
        if (value && *value) {
            buf_puts(&result, value);
        } else if (fallback) {
            buf_append(&result, fallback, (size_t)(close - fallback));
        } else {
            buf_free(&result);
            *name_out = var;
            return ENV_UNSET;
        }
        free(var);
        p = close + 1;
    }
    *out = buf_steal(&result);
    return ENV_OK;
}
