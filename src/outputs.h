/* outputs.h: rendering results (results.h) into files and onto the console.
 *
 * The run command calls outputs_begin() before the first level and
 * outputs_write() at the end (also after an interruption, with
 * results.interrupted set); `llmsweep report` calls the renderers directly.
 * What lands in DIR:
 *
 *   benchmarks.json   GuideLLM's v0.7+ layout, readable by `guidellm export`:
 *                     {metadata, llmsweep, args, config, benchmarks[], conclusions}.
 *                     Each benchmark: type_, config (strategy, backend,
 *                     profile), scheduler_metrics, metrics.<key>.{successful,
 *                     errored,incomplete,total}.{mean,median,mode,variance,
 *                     std_dev,min,max,count,total_sum,percentiles.pNN},
 *                     metrics.request_totals, start_time, end_time, duration
 *                     (the measured window), requests (empty lists: our
 *                     records have their own shape), and "llmsweep" (level
 *                     index, cost, goodput, errors by class, abort reason,
 *                     the records when inline). Top-level "llmsweep" holds the
 *                     run: version, run_id, started_at, spec, model, endpoint,
 *                     api, instance and price, tokenizer source, where token
 *                     counts came from, SLOs, interrupted, records location,
 *                     and the metric definitions. GuideLLM keys llmsweep does
 *                     not measure (time_to_first_output_token_ms, round trips,
 *                     iterations) are written empty (count 0); the text/image/
 *                     video/audio/tool_call blocks are null.
 *   requests.jsonl    one JSON object per request (when records are not
 *                     inline): id, level, worker, measured, outcome, error
 *                     ("none" unless errored), http_status, intended_ns,
 *                     send_ns, first_byte_ns, first_token_ns, last_token_ns,
 *                     end_ns (ns since the run started, monotonic; -1:
 *                     never), chunks, prompt_tokens, output_tokens (-1:
 *                     unknown), token_source, connection_retries,
 *                     server_first_token_ns (the mock server's stamp),
 *                     requested_*_tokens, finish_reason and message when
 *                     known, chunk_ms (each chunk's arrival, ms after the
 *                     send, to 1 us).
 *   benchmarks.csv    one row per level; the columns are listed in results_csv.c.
 *   report.html       one self-contained page: inline CSS and SVG, no script.
 *   summary.json      < 3 KB, for Tekton results: per level the numbers
 *                     `publish` needs (see summary_render).
 *   benchmarks.json.complete
 *                     the completion marker, written last: {"run_id",
 *                     "interrupted", "files": [...]}. outputs_begin() removes
 *                     a stale one, so `wait` never mistakes an old run's
 *                     marker for this run's.
 *
 * Every file is written atomically: a temporary file in the same folder,
 * fsync, rename, fsync of the folder. A reader sees the old file or the new
 * one, never half of one.
 */
#ifndef LLMSWEEP_OUTPUTS_H
#define LLMSWEEP_OUTPUTS_H

#include <stdbool.h>
#include <stdio.h>

#include "record.h"
#include "results.h"
#include "spec.h"
#include "util.h"

#define COMPLETION_MARKER RESULTS_FILE_NAME RESULTS_MARKER_SUFFIX
#define SUMMARY_MAX_BYTES 3000 /* Tekton allows 4096 per TaskRun, shared by all results */

/* Which files outputs_write() produces. */
struct output_set {
    bool json, csv, html, summary;
    bool records_inline; /* records inside benchmarks.json, else requests.jsonl */
};

/* The set a spec asks for (spec NULL: all of them, records in a side file). */
struct output_set output_set_of(const struct spec *spec);

/* Creates DIR (and parents) and removes a stale completion marker. */
bool outputs_begin(const char *dir, struct buf *err);

/* Writes every file in `set` into DIR, then (when the set has the JSON)
 * the completion marker.
 * `run` (may be NULL) supplies the per-request records, `spec` (may be
 * NULL) the run arguments recorded in benchmarks.json. */
bool outputs_write(const struct results *r, const struct run *run, const struct spec *spec,
                   const struct output_set *set, const char *dir, struct buf *err);

/* The renderers, each appending to `out`. */
void results_json_render(const struct results *r, const struct run *run, const struct spec *spec,
                         bool records_inline, struct buf *out);
void records_jsonl_render(const struct run *run, struct buf *out);
void csv_render(const struct results *r, struct buf *out);
void html_render(const struct results *r, struct buf *out);
void summary_render(const struct results *r, struct buf *out);
/* Levels x throughput, TTFT p50/p99, ITL p50/p99, latency p50, errors, cost. */
void console_table(const struct results *r, FILE *out);

/* A level's short name: "c=5", "sync", "2.5 req/s", "max 64" (caller frees). */
char *level_label(const struct level_summary *l);

/* Writes `len` bytes to `path` atomically (see above). A symbolic link
 * stays a link (its target is replaced); a path that is not a regular file
 * (/dev/null, /dev/stdout, a FIFO) is written in place, not replaced. */
bool write_file_atomic(const char *path, const void *data, size_t len, struct buf *err);
/* Removes the temporary file write_file_atomic is writing, if any: for a
 * signal handler about to _exit (async-signal-safe). */
void write_file_atomic_abandon(void);

#endif
