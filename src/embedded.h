/* embedded.h: files compiled into the binary by build.zig.
 *
 * embedded_specs holds every run spec in specs/ (name = file name without
 * ".yaml", sorted, ends with an all-zero entry); embedded_price_table is
 * specs/instance-prices.yaml (len 0 when the file does not exist). */
#ifndef LLMSWEEP_EMBEDDED_H
#define LLMSWEEP_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *name;
    const char *data; /* NUL-terminated */
    size_t len;
};

extern const struct embedded_file embedded_specs[];
extern const struct embedded_file embedded_price_table;

#endif
