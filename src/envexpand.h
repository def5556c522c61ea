/* envexpand.h: ${NAME} references in spec text, filled from the environment.
 *
 *   ${NAME}            the variable's value; unset or empty is an error
 *   ${NAME:-default}   the value, or `default` when unset or empty
 *   $${                a literal "${"
 *   $ anywhere else    itself
 *
 * NAME is [A-Za-z_][A-Za-z0-9_]*. Nothing else is interpreted: no command
 * substitution, no nesting, no shell. */
#ifndef LLMSWEEP_ENVEXPAND_H
#define LLMSWEEP_ENVEXPAND_H

#include <stddef.h>

enum env_status {
    ENV_OK,
    ENV_UNSET,  /* *name_out is the variable's name (owned) */
    ENV_SYNTAX, /* a "${" that does not start a valid reference */
};

/* On ENV_OK *out is the expanded text (owned); otherwise *out is NULL. */
enum env_status env_expand(const char *text, char **out, char **name_out);

/* Length of the NAME at the start of `s` (0 if none starts there). */
size_t env_name_length(const char *s);

#endif
