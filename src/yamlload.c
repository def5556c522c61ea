#include "yamlload.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* The walk: one libyaml parser, one event at a time, the schema alongside. */
struct walker {
    yaml_parser_t parser;
    yaml_event_t event;
    bool have_event;
    const char *label;
    struct yaml_doc *doc;
    struct buf *err;
    struct buf path;
    size_t cap_positions;
    bool failed; /* a message is in err: the first problem is the one reported */
};

static void fail_at(struct walker *w, const yaml_mark_t *mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_at(struct walker *w, const yaml_mark_t *mark, const char *fmt, ...)
{
    if (w->failed)
        return;
    w->failed = true;
    buf_printf(w->err, "%s:%zu:%zu: ", w->label, mark->line + 1, mark->column + 1);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(w->err, fmt, ap);
    va_end(ap);
}

static void syntax_error(struct walker *w)
{
    const yaml_parser_t *p = &w->parser;
    w->failed = true;
    switch (p->error) {
    case YAML_MEMORY_ERROR:
        buf_printf(w->err, "%s: out of memory while parsing YAML", w->label);
        break;
    case YAML_READER_ERROR:
        buf_printf(w->err, "%s: byte %zu: %s (a spec must be UTF-8 text)", w->label,
                   p->problem_offset, p->problem ? p->problem : "unreadable input");
        break;
    default:
        buf_printf(w->err, "%s:%zu:%zu: YAML syntax error: %s", w->label, p->problem_mark.line + 1,
                   p->problem_mark.column + 1, p->problem ? p->problem : "invalid YAML");
        if (p->context)
            buf_printf(w->err, " (%s at line %zu)", p->context, p->context_mark.line + 1);
        break;
    }
}

/* Advances to the next event; false after a syntax error. */
static bool next(struct walker *w)
{
    if (w->have_event)
        yaml_event_delete(&w->event);
    w->have_event = false;
    if (!yaml_parser_parse(&w->parser, &w->event)) {
        syntax_error(w);
        return false;
    }
    w->have_event = true;
    return true;
}

static const char *scalar_text(const struct walker *w)
{
    return (const char *)w->event.data.scalar.value;
}

/* YAML's spellings of null (besides the empty scalar). */
static bool is_null_word(const char *value)
{
    return strcmp(value, "~") == 0 || strcmp(value, "null") == 0 || strcmp(value, "Null") == 0 ||
           strcmp(value, "NULL") == 0;
}

/* Mirrors libcyaml's rule for which scalars load as a NULL pointer. */
static bool scalar_is_null(const cyaml_schema_value_t *schema, const char *value)
{
    if ((schema->flags & CYAML_FLAG_POINTER_NULL) == CYAML_FLAG_POINTER_NULL && !*value)
        return true;
    if ((schema->flags & CYAML_FLAG_POINTER_NULL_STR) != CYAML_FLAG_POINTER_NULL_STR)
        return false;
    return is_null_word(value);
}

static void record_position(struct walker *w, const yaml_mark_t *mark, bool null)
{
    struct yaml_doc *doc = w->doc;
    if (doc->n_positions == w->cap_positions) {
        w->cap_positions = w->cap_positions ? w->cap_positions * 2 : 32;
        doc->positions = xrealloc(doc->positions, w->cap_positions * sizeof *doc->positions);
    }
    doc->positions[doc->n_positions++] = (struct yaml_position){
        .path = xstrdup(w->path.data ? w->path.data : ""),
        .line = (int)mark->line + 1,
        .column = (int)mark->column + 1,
        .null = null,
    };
}

static const char *kind_name(const cyaml_schema_value_t *schema)
{
    switch (schema->type) {
    case CYAML_MAPPING: return "a mapping (indented `key: value` lines)";
    case CYAML_SEQUENCE:
    case CYAML_SEQUENCE_FIXED: return "a list (`[a, b]` or `- a` lines)";
    default: return "a single value";
    }
}

static const char *event_kind_name(const yaml_event_t *event)
{
    switch (event->type) {
    case YAML_MAPPING_START_EVENT: return "a mapping";
    case YAML_SEQUENCE_START_EVENT: return "a list";
    default: return "a single value";
    }
}

static const char *path_or_root(const struct walker *w)
{
    return w->path.len ? w->path.data : "the document";
}

/* --- free-form subtrees as JSON ------------------------------------------ */

/* A YAML 1.2 core-schema number that is also valid JSON as written. */
static bool is_json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return false;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!(*s >= '0' && *s <= '9'))
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

static cJSON *scalar_to_json(const yaml_event_t *event)
{
    const char *v = (const char *)event->data.scalar.value;
    if (event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return cJSON_CreateString(v);
    if (!*v || is_null_word(v))
        return cJSON_CreateNull();
    if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0)
        return cJSON_CreateTrue();
    if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0)
        return cJSON_CreateFalse();
    if (is_json_number(v))
        return cJSON_CreateRaw(v);
    return cJSON_CreateString(v);
}

/* Converts the node starting at the current event; NULL after an error. */
static cJSON *capture_node(struct walker *w, int depth)
{
    yaml_mark_t mark = w->event.start_mark;
    if (depth > YAML_MAX_FREE_DEPTH) {
        fail_at(w, &mark, "%s: nested more than %d levels deep", path_or_root(w),
                YAML_MAX_FREE_DEPTH);
        return NULL;
    }
    const yaml_event_t *ev = &w->event;
    const yaml_char_t *anchor =
        ev->type == YAML_SCALAR_EVENT           ? ev->data.scalar.anchor
        : ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
        : ev->type == YAML_MAPPING_START_EVENT  ? ev->data.mapping_start.anchor
                                                : NULL;
    if (anchor) {
        fail_at(w, &mark, "%s: anchors (&%s) are not supported", path_or_root(w),
                (const char *)anchor);
        return NULL;
    }
    switch (w->event.type) {
    case YAML_SCALAR_EVENT: return scalar_to_json(&w->event);
    case YAML_SEQUENCE_START_EVENT: {
        cJSON *array = cJSON_CreateArray();
        for (;;) {
            if (!next(w))
                goto fail_array;
            if (w->event.type == YAML_SEQUENCE_END_EVENT)
                return array;
            cJSON *item = capture_node(w, depth + 1);
            if (!item)
                goto fail_array;
            cJSON_AddItemToArray(array, item);
        }
    fail_array:
        cJSON_Delete(array);
        return NULL;
    }
    case YAML_MAPPING_START_EVENT: {
        cJSON *object = cJSON_CreateObject();
        for (;;) {
            if (!next(w))
                goto fail_object;
            if (w->event.type == YAML_MAPPING_END_EVENT)
                return object;
            if (w->event.type != YAML_SCALAR_EVENT) {
                fail_at(w, &w->event.start_mark, "%s: keys must be plain names", path_or_root(w));
                goto fail_object;
            }
            char *key = xstrdup(scalar_text(w));
            if (cJSON_GetObjectItemCaseSensitive(object, key)) {
                fail_at(w, &w->event.start_mark, "%s: key '%.60s' appears twice", path_or_root(w),
                        key);
                free(key);
                goto fail_object;
            }
            cJSON *value = next(w) ? capture_node(w, depth + 1) : NULL;
            if (value)
                cJSON_AddItemToObject(object, key, value);
            free(key);
            if (!value)
                goto fail_object;
        }
    fail_object:
        cJSON_Delete(object);
        return NULL;
    }
    case YAML_ALIAS_EVENT:
        fail_at(w, &mark, "%s: aliases (*name) are not supported", path_or_root(w));
        return NULL;
    default: fail_at(w, &mark, "%s: unexpected YAML here", path_or_root(w)); return NULL;
    }
}

static bool capture(struct walker *w)
{
    cJSON *json = capture_node(w, 0);
    if (!json)
        return false;
    char *text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    if (!text) {
        w->failed = true;
        buf_printf(w->err, "%s: out of memory", w->label);
        return false;
    }
    struct yaml_doc *doc = w->doc;
    doc->captured = xrealloc(doc->captured, (doc->n_captured + 1) * sizeof *doc->captured);
    doc->captured[doc->n_captured++] = (struct yaml_captured){
        .path = xstrdup(w->path.data ? w->path.data : ""),
        .json = xstrdup(text),
    };
    cJSON_free(text);
    return true;
}

/* --- the schema walk ------------------------------------------------------ */

static bool walk_value(struct walker *w, const cyaml_schema_value_t *schema);

static size_t field_count(const cyaml_schema_value_t *schema)
{
    size_t n = 0;
    while (schema->mapping.fields[n].key)
        n++;
    return n;
}

static void unknown_key(struct walker *w, const cyaml_schema_value_t *schema, const char *key)
{
    size_t n = field_count(schema);
    const char **names = xcalloc(n + 1, sizeof *names);
    for (size_t i = 0; i < n; i++)
        names[i] = schema->mapping.fields[i].key;
    const char *near = closest_match(key, names);
    const char *where = w->path.len ? w->path.data : NULL;
    if (near)
        fail_at(w, &w->event.start_mark, "unknown field '%.60s'%s%s (did you mean '%s'?)", key,
                where ? " in " : "", where ? where : "", near);
    else {
        fail_at(w, &w->event.start_mark, "unknown field '%.60s'%s%s; valid fields:", key,
                where ? " in " : "", where ? where : "");
        for (size_t i = 0; i < n; i++)
            buf_printf(w->err, "%s %s", i ? "," : "", names[i]);
    }
    free(names);
}

static bool walk_mapping(struct walker *w, const cyaml_schema_value_t *schema)
{
    yaml_mark_t start = w->event.start_mark;
    size_t n = field_count(schema);
    bool *seen = xcalloc(n + 1, sizeof *seen);
    size_t base = w->path.len;
    bool ok = false;
    for (;;) {
        if (!next(w))
            goto done;
        if (w->event.type == YAML_MAPPING_END_EVENT)
            break;
        if (w->event.type != YAML_SCALAR_EVENT) {
            fail_at(w, &w->event.start_mark, "%s: keys must be plain names, not %s",
                    path_or_root(w), event_kind_name(&w->event));
            goto done;
        }
        const char *key = scalar_text(w);
        size_t idx = 0;
        while (idx < n && strcmp(schema->mapping.fields[idx].key, key) != 0)
            idx++;
        if (idx == n) {
            unknown_key(w, schema, key);
            goto done;
        }
        if (seen[idx]) {
            fail_at(w, &w->event.start_mark, "field '%s' appears twice%s%s", key,
                    base ? " in " : "", base ? w->path.data : "");
            goto done;
        }
        seen[idx] = true;
        if (base)
            buf_putc(&w->path, '.');
        buf_puts(&w->path, key);
        if (!next(w) || !walk_value(w, &schema->mapping.fields[idx].value))
            goto done;
        w->path.len = base;
        w->path.data[base] = '\0';
    }
    for (size_t i = 0; i < n; i++) {
        if (!seen[i] && !(schema->mapping.fields[i].value.flags & CYAML_FLAG_OPTIONAL)) {
            fail_at(w, &start, "%s%smissing required field '%s'", base ? w->path.data : "",
                    base ? ": " : "", schema->mapping.fields[i].key);
            goto done;
        }
    }
    ok = true;
done:
    free(seen);
    return ok;
}

static bool walk_sequence(struct walker *w, const cyaml_schema_value_t *schema)
{
    size_t base = w->path.len;
    uint32_t count = 0;
    for (;;) {
        if (!next(w))
            return false;
        if (w->event.type == YAML_SEQUENCE_END_EVENT)
            break;
        if (count == schema->sequence.max) {
            fail_at(w, &w->event.start_mark, "%s: too many entries (at most %u)", path_or_root(w),
                    schema->sequence.max);
            return false;
        }
        buf_printf(&w->path, "[%u]", count);
        if (!walk_value(w, schema->sequence.entry))
            return false;
        w->path.len = base;
        w->path.data[base] = '\0';
        count++;
    }
    if (count < schema->sequence.min) {
        fail_at(w, &w->event.start_mark, "%s: needs at least %u entries, has %u", path_or_root(w),
                schema->sequence.min, count);
        return false;
    }
    return true;
}

/* The current event starts the value at w->path; consumes the whole value. */
static bool walk_value(struct walker *w, const cyaml_schema_value_t *schema)
{
    yaml_event_t *ev = &w->event;
    if (ev->type == YAML_ALIAS_EVENT) {
        fail_at(w, &ev->start_mark,
                "%s: aliases (*name) are not supported in specs; write the "
                "value out",
                path_or_root(w));
        return false;
    }
    record_position(w, &ev->start_mark,
                    ev->type == YAML_SCALAR_EVENT && scalar_is_null(schema, scalar_text(w)));
    if (schema->type == CYAML_IGNORE)
        return capture(w);

    bool wants_mapping = schema->type == CYAML_MAPPING;
    bool wants_sequence = schema->type == CYAML_SEQUENCE || schema->type == CYAML_SEQUENCE_FIXED;
    if (ev->type == YAML_SCALAR_EVENT) {
        if (!wants_mapping && !wants_sequence)
            return true;
        if (scalar_is_null(schema, scalar_text(w)))
            return true;
        fail_at(w, &ev->start_mark, "%s: expected %s, found the value '%.40s'", path_or_root(w),
                kind_name(schema), scalar_text(w));
        return false;
    }
    if (ev->type == YAML_MAPPING_START_EVENT && wants_mapping)
        return walk_mapping(w, schema);
    if (ev->type == YAML_SEQUENCE_START_EVENT && wants_sequence)
        return walk_sequence(w, schema);
    fail_at(w, &ev->start_mark, "%s: expected %s, found %s", path_or_root(w), kind_name(schema),
            event_kind_name(ev));
    return false;
}

/* Walks the stream: exactly one document (or none). Sets doc->empty. */
static bool walk_stream(struct walker *w, const cyaml_schema_value_t *schema)
{
    if (!next(w) || w->event.type != YAML_STREAM_START_EVENT)
        return false;
    if (!next(w))
        return false;
    if (w->event.type == YAML_STREAM_END_EVENT) {
        w->doc->empty = true;
        return true;
    }
    if (!next(w)) /* past DOCUMENT-START to the root node */
        return false;
    if (w->event.type == YAML_SCALAR_EVENT && scalar_is_null(schema, scalar_text(w))) {
        w->doc->empty = true;
    } else if (w->event.type != YAML_MAPPING_START_EVENT) {
        fail_at(w, &w->event.start_mark,
                "the document must be a mapping of `key: value` lines, not %s",
                event_kind_name(&w->event));
        return false;
    } else if (!walk_value(w, schema)) {
        return false;
    }
    if (!next(w)) /* DOCUMENT-END */
        return false;
    if (!next(w))
        return false;
    if (w->event.type != YAML_STREAM_END_EVENT) {
        fail_at(w, &w->event.start_mark,
                "a second YAML document ('---'); put one spec in each file");
        return false;
    }
    return true;
}

/* --- libcyaml, with its log captured -------------------------------------- */

struct cyaml_log {
    struct buf first_error; /* the first error line, without "Load: " */
    int line, column;       /* the innermost position of its backtrace */
    bool have_position;
};

static void capture_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
    __attribute__((format(printf, 3, 0)));

static void capture_log(cyaml_log_t level, void *ctx, const char *fmt, va_list args)
{
    struct cyaml_log *log = ctx;
    if (level < CYAML_LOG_ERROR)
        return;
    struct buf line = {0};
    buf_vprintf(&line, fmt, args);
    while (line.len && (line.data[line.len - 1] == '\n' || line.data[line.len - 1] == ' '))
        line.data[--line.len] = '\0';
    const char *at = strstr(line.data, "(line: ");
    size_t l, c;
    if (at && !log->have_position && sscanf(at, "(line: %zu, column: %zu)", &l, &c) == 2) {
        log->line = (int)l;
        log->column = (int)c;
        log->have_position = true;
    } else if (!at && !log->first_error.len && strcmp(line.data, "Load: Backtrace:") != 0) {
        const char *text = line.data;
        if (strncmp(text, "Load: ", 6) == 0)
            text += 6;
        buf_puts(&log->first_error, text);
    }
    buf_free(&line);
}

static const char *path_at(const struct yaml_doc *doc, int line, int column)
{
    for (size_t i = doc->n_positions; i-- > 0;) {
        if (doc->positions[i].line == line && doc->positions[i].column == column)
            return doc->positions[i].path;
    }
    return NULL;
}

static bool load_with_cyaml(const char *label, const char *text, size_t len,
                            const cyaml_schema_value_t *schema, void **data,
                            const struct yaml_doc *doc, struct buf *err)
{
    struct cyaml_log log = {0};
    const cyaml_config_t config = {
        .log_fn = capture_log,
        .log_ctx = &log,
        .mem_fn = cyaml_mem,
        .log_level = CYAML_LOG_ERROR,
        .flags = CYAML_CFG_NO_ALIAS,
    };
    cyaml_data_t *out = NULL;
    cyaml_err_t rc = cyaml_load_data((const uint8_t *)text, len, &config, schema, &out, NULL);
    if (rc == CYAML_OK) {
        *data = out;
        buf_free(&log.first_error);
        return true;
    }
    const char *what = log.first_error.len ? log.first_error.data : cyaml_strerror(rc);
    if (log.have_position) {
        const char *path = path_at(doc, log.line, log.column);
        buf_printf(err, "%s:%d:%d: %s%s%s", label, log.line, log.column, path ? path : "",
                   path ? ": " : "", what);
    } else {
        buf_printf(err, "%s: %s", label, what);
    }
    buf_free(&log.first_error);
    return false;
}

/* Starts a walk over text: false (with a message) when libyaml cannot. */
static bool walker_open(struct walker *w, const char *text, size_t len)
{
    if (!yaml_parser_initialize(&w->parser)) {
        buf_printf(w->err, "%s: cannot initialise the YAML parser", w->label);
        return false;
    }
    yaml_parser_set_input_string(&w->parser, (const unsigned char *)text, len);
    return true;
}

/* Ends a walk; a failure no step explained is "invalid YAML". */
static void walker_close(struct walker *w, bool ok)
{
    if (!ok && !w->failed)
        buf_printf(w->err, "%s: invalid YAML", w->label);
    if (w->have_event)
        yaml_event_delete(&w->event);
    yaml_parser_delete(&w->parser);
    buf_free(&w->path);
}

bool yaml_load(const char *label, const char *text, size_t len, const cyaml_schema_value_t *schema,
               void **data, struct yaml_doc *doc, struct buf *err)
{
    *data = NULL;
    *doc = (struct yaml_doc){.label = label};
    if (len > YAML_MAX_BYTES) {
        buf_printf(err, "%s: %zu bytes is too large for a spec (at most %u)", label, len,
                   YAML_MAX_BYTES);
        return false;
    }
    struct walker w = {.label = label, .doc = doc, .err = err};
    size_t err_start = err->len;
    if (!walker_open(&w, text, len))
        return false;
    bool ok = walk_stream(&w, schema);
    walker_close(&w, ok);
    if (ok && !doc->empty)
        ok = load_with_cyaml(label, text, len, schema, data, doc, err);
    if (!ok)
        yaml_one_line(err, err_start);
    return ok;
}

bool yaml_to_json(const char *label, const char *text, size_t len, cJSON **out, struct buf *err)
{
    *out = NULL;
    if (len > YAML_MAX_BYTES) {
        buf_printf(err, "%s: %zu bytes is too large (at most %u)", label, len, YAML_MAX_BYTES);
        return false;
    }
    struct yaml_doc doc = {.label = label};
    struct walker w = {.label = label, .doc = &doc, .err = err};
    size_t err_start = err->len;
    if (!walker_open(&w, text, len))
        return false;
    cJSON *json = NULL;
    bool ok = next(&w) && w.event.type == YAML_STREAM_START_EVENT && next(&w);
    if (ok && w.event.type == YAML_STREAM_END_EVENT) {
        ok = false;
        buf_printf(err, "%s: the file holds no YAML document", label);
        w.failed = true;
    } else if (ok) {
        ok = next(&w) && (json = capture_node(&w, 0)) != NULL && next(&w) && next(&w);
        if (ok && w.event.type != YAML_STREAM_END_EVENT) {
            fail_at(&w, &w.event.start_mark, "a second YAML document ('---'); one per file");
            ok = false;
        }
    }
    walker_close(&w, ok);
    if (!ok) {
        cJSON_Delete(json);
        yaml_one_line(err, err_start);
        return false;
    }
    *out = json;
    return true;
}

void yaml_free_data(const cyaml_schema_value_t *schema, void *data)
{
    if (!data)
        return;
    const cyaml_config_t config = {
        .mem_fn = cyaml_mem,
        .log_level = CYAML_LOG_ERROR,
    };
    cyaml_free(&config, schema, data, 0);
}

void yaml_doc_free(struct yaml_doc *doc)
{
    for (size_t i = 0; i < doc->n_positions; i++)
        free(doc->positions[i].path);
    for (size_t i = 0; i < doc->n_captured; i++) {
        free(doc->captured[i].path);
        free(doc->captured[i].json);
    }
    free(doc->positions);
    free(doc->captured);
    *doc = (struct yaml_doc){0};
}

void yaml_one_line(struct buf *err, size_t from)
{
    if (!err->data || from >= err->len)
        return;
    struct buf clean = {0};
    buf_append(&clean, err->data, from);
    for (size_t i = from; i < err->len; i++) {
        unsigned char c = (unsigned char)err->data[i];
        if (c == '\n')
            buf_puts(&clean, "\\n");
        else if (c == '\r')
            buf_puts(&clean, "\\r");
        else if (c == '\t')
            buf_puts(&clean, "\\t");
        else if (c < 0x20 || c == 0x7f)
            buf_printf(&clean, "\\x%02x", c);
        else
            buf_putc(&clean, (char)c);
    }
    buf_free(err);
    *err = clean;
}

const struct yaml_position *yaml_doc_position(const struct yaml_doc *doc, const char *path)
{
    for (size_t i = 0; i < doc->n_positions; i++) {
        if (strcmp(doc->positions[i].path, path) == 0)
            return &doc->positions[i];
    }
    return NULL;
}

const char *yaml_doc_captured(const struct yaml_doc *doc, const char *path)
{
    for (size_t i = 0; i < doc->n_captured; i++) {
        if (strcmp(doc->captured[i].path, path) == 0)
            return doc->captured[i].json;
    }
    return NULL;
}
