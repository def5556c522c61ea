#include "prices.h"

#include <cyaml/cyaml.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "yamlload.h"

#define MAX_INSTANCES 1000

static const cyaml_schema_field_t instance_fields[] = {
    CYAML_FIELD_STRING_PTR("type", CYAML_FLAG_POINTER, struct instance_price, type, 1, 64),
    CYAML_FIELD_INT("gpu_count", CYAML_FLAG_DEFAULT, struct instance_price, gpu_count),
    CYAML_FIELD_STRING_PTR("gpu_type", CYAML_FLAG_POINTER, struct instance_price, gpu_type, 1, 64),
    CYAML_FIELD_FLOAT("hourly_usd", CYAML_FLAG_STRICT, struct instance_price, hourly_usd),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t instance_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct instance_price, instance_fields),
};

static const cyaml_schema_field_t table_fields[] = {
    CYAML_FIELD_STRING_PTR("source", CYAML_FLAG_POINTER, struct price_table, source, 1,
                           CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("as_of", CYAML_FLAG_POINTER, struct price_table, as_of, 1, 64),
    CYAML_FIELD_STRING_PTR("region", CYAML_FLAG_POINTER, struct price_table, region, 1, 64),
    CYAML_FIELD_STRING_PTR("currency", CYAML_FLAG_POINTER, struct price_table, currency, 3, 3),
    CYAML_FIELD_SEQUENCE("instances", CYAML_FLAG_POINTER, struct price_table, instances,
                         &instance_entry, 1, MAX_INSTANCES),
    CYAML_FIELD_END,
};

static const cyaml_schema_value_t table_schema = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_POINTER, struct price_table, table_fields),
};

/* Each entry must make sense on its own and appear once. */
static bool check_entries(const struct price_table *t, const struct yaml_doc *doc, struct buf *err)
{
    for (unsigned i = 0; i < t->instances_count; i++) {
        const struct instance_price *p = &t->instances[i];
        const char *field = NULL, *problem = NULL;
        if (p->gpu_count < 1)
            field = "gpu_count", problem = "must be 1 or more";
        else if (!(p->hourly_usd > 0))
            field = "hourly_usd", problem = "must be more than zero";
        for (unsigned j = 0; !field && j < i; j++) {
            if (strcmp(t->instances[j].type, p->type) == 0)
                field = "type", problem = "is listed twice";
        }
        if (!field)
            continue;
        char *path = xasprintf("instances[%u].%s", i, field);
        const struct yaml_position *at = yaml_doc_position(doc, path);
        buf_printf(err, "%s:%d:%d: %s: %.60s %s", doc->label, at ? at->line : 0,
                   at ? at->column : 0, path, p->type, problem);
        free(path);
        return false;
    }
    return true;
}

struct price_table *price_table_parse(const char *label, const char *text, size_t len,
                                      struct buf *err)
{
    void *data = NULL;
    struct yaml_doc doc;
    struct price_table *table = NULL;
    if (!yaml_load(label, text, len, &table_schema, &data, &doc, err))
        goto done;
    table = data;
    if (!table) {
        buf_printf(err, "%s: the price table is empty", label);
        goto done;
    }
    size_t err_start = err->len;
    if (!check_entries(table, &doc, err)) {
        yaml_one_line(err, err_start);
        price_table_free(table);
        table = NULL;
    }
done:
    yaml_doc_free(&doc);
    return table;
}

struct price_table *price_table_embedded(struct buf *err)
{
    const struct embedded_file *f = &embedded_price_table;
    if (!f->len) {
        buf_puts(err, "this build has no instance price table (specs/instance-prices.yaml)");
        return NULL;
    }
    return price_table_parse("embedded:instance-prices", f->data, f->len, err);
}

void price_table_free(struct price_table *table)
{
    yaml_free_data(&table_schema, table);
}

const struct instance_price *price_table_find(const struct price_table *table, const char *type)
{
    for (unsigned i = 0; i < table->instances_count; i++) {
        if (strcmp(table->instances[i].type, type) == 0)
            return &table->instances[i];
    }
    return NULL;
}

const char *price_table_closest(const struct price_table *table, const char *type)
{
    const char **names = xcalloc(table->instances_count + 1, sizeof *names);
    for (unsigned i = 0; i < table->instances_count; i++)
        names[i] = table->instances[i].type;
    const char *near = closest_match(type, names);
    free(names);
    return near;
}

double cost_per_1k_tokens(double hourly_usd, double tokens_per_second)
{
    if (!(hourly_usd > 0) || !(tokens_per_second > 0))
        return 0;
    return hourly_usd / (tokens_per_second * 3600.0) * 1000.0;
}
