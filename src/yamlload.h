/* yamlload.h: libcyaml loading with errors a person can act on.
 *
 * libcyaml turns a YAML document into C structs from a schema, but its
 * errors go to a log callback and point at the enclosing mapping rather
 * than the offending key. So yaml_load() first walks the document once with
 * libyaml against the same schema and stops at the first problem with a
 * one-line message "LABEL:LINE:COLUMN: what is wrong and how to fix it":
 *
 *   - YAML syntax errors (libyaml's own line and column);
 *   - unknown keys, with the nearest valid name ("did you mean");
 *   - duplicate keys, missing required keys;
 *   - a mapping or list where a single value belongs, and the reverse;
 *   - too many list entries; anchors and aliases (not supported: a spec is
 *     small, and aliases are the classic way to blow up a parser);
 *   - more than one document in the stream.
 *
 * On the way it records where every value sits (path -> line, column), so
 * later checks ("load.duration must be more than zero") can say where too.
 * Paths are dotted keys with list indexes: "load.levels[2]", "headers[0].name".
 *
 * The subtree of every CYAML_IGNORE field is captured as JSON text instead
 * (YAML core-schema typing: plain 1.5 is a number, "1.5" a string, true a
 * boolean, ~ null), for fields whose shape is free, such as extra_body.
 *
 * Only then does libcyaml load the data; an error it still finds (a value it
 * cannot convert) is taken from its log (through the config's log_ctx, no
 * global state) and reported with the position from its backtrace.
 */
#ifndef LLMSWEEP_YAMLLOAD_H
#define LLMSWEEP_YAMLLOAD_H

#include <cJSON.h>
#include <cyaml/cyaml.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Larger documents are refused before parsing: a spec or price table is a
 * page of YAML, and the limit keeps a mistaken path (a model file) cheap. */
#define YAML_MAX_BYTES (1u << 20)
/* How deep a free-form (CYAML_IGNORE) subtree may nest. */
#define YAML_MAX_FREE_DEPTH 32

struct yaml_position {
    char *path;
    int line, column; /* 1-based, of the value's first character */
    bool null;        /* `key:`, `key: ~` or `key: null`: loaded as absent */
};

struct yaml_captured {
    char *path;
    char *json; /* the subtree as JSON text */
};

struct yaml_doc {
    const char *label; /* as given to yaml_load (not owned) */
    struct yaml_position *positions;
    size_t n_positions;
    struct yaml_captured *captured;
    size_t n_captured;
    bool empty; /* no document, or a null one: `data` is NULL */
};

/* Loads `text` (len bytes; need not be NUL-terminated) with `schema`, whose
 * top level must be a CYAML_FLAG_POINTER mapping. On success *data is the
 * loaded structure (NULL when the document is empty; free it with
 * yaml_free_data) and `doc` holds positions and captured subtrees. On
 * failure returns false with one line in `err` (nothing else to free but
 * `doc`, which yaml_doc_free always accepts). */
bool yaml_load(const char *label, const char *text, size_t len, const cyaml_schema_value_t *schema,
               void **data, struct yaml_doc *doc, struct buf *err);
void yaml_free_data(const cyaml_schema_value_t *schema, void *data);

/* Converts a one-document YAML (or JSON) text to cJSON, with the typing of
 * the free-form subtrees above (core schema; quoted scalars stay strings).
 * Anchors, aliases, duplicate keys, non-scalar keys and a second document
 * are refused with one line "LABEL:LINE:COLUMN: ..." in err. */
bool yaml_to_json(const char *label, const char *text, size_t len, cJSON **out, struct buf *err);
void yaml_doc_free(struct yaml_doc *doc);

/* Makes err->data[from..] one printable line: a message may quote the
 * input, so control characters become \n, \r, \t or \xNN. */
void yaml_one_line(struct buf *err, size_t from);

/* The position of the value at `path`, or NULL if the document has none. */
const struct yaml_position *yaml_doc_position(const struct yaml_doc *doc, const char *path);
/* The captured JSON of a CYAML_IGNORE field, or NULL if it was absent. */
const char *yaml_doc_captured(const struct yaml_doc *doc, const char *path);

#endif
