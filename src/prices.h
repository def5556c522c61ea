/* prices.h: the instance price table and the cost of a token.
 *
 * specs/instance-prices.yaml, compiled into the binary, lists GPU instance
 * types with their GPU count, GPU type and on-demand hourly price, and says
 * where the prices come from and when. A spec that names an instance type
 * takes from it whatever it does not set itself (see spec.h).
 *
 * Cost per 1K tokens = hourly_usd / (tokens_per_second * 3600) * 1000,
 * for output tokens and for total (prompt + output) tokens alike.
 */
#ifndef LLMSWEEP_PRICES_H
#define LLMSWEEP_PRICES_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct instance_price {
    char *type; /* "g6.4xlarge" */
    int gpu_count;
    char *gpu_type; /* "NVIDIA L4" */
    double hourly_usd;
};

struct price_table {
    char *source; /* where the prices come from, one line */
    char *as_of;  /* when they were known to be right */
    char *region;
    char *currency;
    struct instance_price *instances;
    unsigned instances_count;
};

/* Parses a price table (YAML). Returns NULL with one line in err. */
struct price_table *price_table_parse(const char *label, const char *text, size_t len,
                                      struct buf *err);
/* The table compiled in from specs/instance-prices.yaml. */
struct price_table *price_table_embedded(struct buf *err);
void price_table_free(struct price_table *table);

/* The entry for an instance type (exact, case-sensitive), or NULL. */
const struct instance_price *price_table_find(const struct price_table *table, const char *type);
/* The listed type nearest to `type`, for "did you mean", or NULL. */
const char *price_table_closest(const struct price_table *table, const char *type);

/* USD per 1K tokens at `tokens_per_second`; 0 when either is not positive
 * (no price known, or nothing was produced). */
double cost_per_1k_tokens(double hourly_usd, double tokens_per_second);

#endif
