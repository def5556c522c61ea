/* record.c: freeing a run and naming the record enums (record.h). */
#include "record.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void run_free(struct run *run)
{
    if (!run)
        return;
    for (size_t i = 0; i < run->n_levels; i++) {
        struct level_run *level = &run->levels[i];
        for (size_t j = 0; j < level->n_records; j++) {
            struct request_record *rec = &level->records[j];
            if (!level->timestamps)
                free(rec->chunk_ns);
            free(rec->error_message);
            free(rec->finish_reason);
        }
        timestamp_arena_free(level->timestamps);
        free(level->records);
        free(level->abort_reason);
    }
    free(run->levels);
    free(run->tokenizer_source);
    run->levels = NULL;
    run->n_levels = 0;
    run->tokenizer_source = NULL;
}

/* 64 Ki timestamps (512 KiB) a block: large enough to be mapped pages of
 * its own, small enough not to matter for a short run. */
#define TIMESTAMP_BLOCK_ENTRIES ((size_t)1 << 16)

int64_t *timestamp_arena_copy(struct timestamp_arena **arena, const int64_t *src, uint32_t n)
{
    struct timestamp_arena *block = *arena;
    if (!block || block->cap - block->used < n) {
        size_t cap = n > TIMESTAMP_BLOCK_ENTRIES ? n : TIMESTAMP_BLOCK_ENTRIES;
        block = xmalloc(sizeof *block + cap * sizeof block->data[0]);
        block->next = *arena;
        block->used = 0;
        block->cap = cap;
        *arena = block;
    }
    int64_t *copy = block->data + block->used;
    if (n)
        memcpy(copy, src, n * sizeof *copy);
    block->used += n;
    return copy;
}

void timestamp_arena_free(struct timestamp_arena *arena)
{
    while (arena) {
        struct timestamp_arena *next = arena->next;
        free(arena);
        arena = next;
    }
}

void timestamp_arena_move(struct timestamp_arena **to, struct timestamp_arena **from)
{
    struct timestamp_arena *last = *from;
    if (!last)
        return;
    while (last->next)
        last = last->next;
    last->next = *to;
    *to = *from;
    *from = NULL;
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
