/* commands.h: the subcommands main() dispatches to, one per module that
 * owns the work (see each module's header for the contract). */
#ifndef LLMSWEEP_COMMANDS_H
#define LLMSWEEP_COMMANDS_H

#include "cli.h"

extern const struct cli_command cmd_fetch;
extern const struct cli_command cmd_fetch_tokenizer;
extern const struct cli_command cmd_mock_server;
extern const struct cli_command cmd_prompts;
extern const struct cli_command cmd_publish;
extern const struct cli_command cmd_report;
extern const struct cli_command cmd_run;
extern const struct cli_command cmd_specs;
extern const struct cli_command cmd_tokenize;
extern const struct cli_command cmd_trigger;
extern const struct cli_command cmd_validate;
extern const struct cli_command cmd_version;
extern const struct cli_command cmd_wait;

#endif
