/* record.c: freeing a run and naming the record enums (record.h). */
#include "record.h"

#include <stdlib.h>

void run_free(struct run *run)
{
    if (!run)
        return;
    for (size_t i = 0; i < run->n_levels; i++) {
        struct level_run *level = &run->levels[i];
        for (size_t j = 0; j < level->n_records; j++) {
            struct request_record *rec = &level->records[j];
            free(rec->chunk_ns);
            free(rec->error_message);
            free(rec->finish_reason);
        }
        free(level->records);
        free(level->abort_reason);
    }
    free(run->levels);
    free(run->tokenizer_source);
    run->levels = NULL;
    run->n_levels = 0;
    run->tokenizer_source = NULL;
}

const char *request_error_name(enum request_error error)
{
    switch (error) {
    case REQERR_NONE: return "none";
    case REQERR_CONNECT: return "connect";
    case REQERR_TLS: return "tls";
    case REQERR_TIMEOUT: return "timeout";
    case REQERR_HTTP: return "http";
    case REQERR_RESET: return "reset";
    case REQERR_MALFORMED: return "malformed";
    case REQERR_STREAM_CUT: return "stream_cut";
    case REQERR_OTHER: return "other";
    }
    return "other";
}

const char *request_outcome_name(enum request_outcome outcome)
{
    switch (outcome) {
    case OUTCOME_OK: return "successful";
    case OUTCOME_ERROR: return "errored";
    case OUTCOME_INCOMPLETE: return "incomplete";
    }
    return "errored";
}

const char *token_source_name(enum token_source source)
{
    switch (source) {
    case TOKENS_SERVER: return "server";
    case TOKENS_TOKENIZER: return "tokenizer";
    case TOKENS_NONE: return "none";
    }
    return "none";
}
