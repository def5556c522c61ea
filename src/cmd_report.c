/* `llmsweep report RESULTS`: re-render a results file (llmsweep's or
 * GuideLLM's of any era, read by results_load) as the console table, and
 * on request as HTML, CSV, the Tekton summary or llmsweep's JSON. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "outputs.h"

static const struct cli_option options[] = {
    {"html", 0, "FILE", "write the self-contained HTML report to FILE", false},
    {"csv", 0, "FILE", "write one CSV row per level to FILE", false},
    {"summary", 0, "FILE", "write the small JSON summary (Tekton results) to FILE", false},
    {"json", 0, "FILE", "write the results in llmsweep's benchmarks.json layout to FILE", false},
    {"output-dir", 'o', "DIR", "write report.html, benchmarks.csv and summary.json into DIR",
     false},
    {"quiet", 'q', NULL, "do not print the table", false},
    {0},
};

static bool render_to(const char *path, void (*render)(const struct results *, struct buf *),
                      const struct results *r)
{
    if (!path)
        return true;
    struct buf text = {0}, err = {0};
    render(r, &text);
    bool ok = write_file_atomic(path, text.data ? text.data : "", text.len, &err);
    if (!ok)
        cli_error("%s", err.data);
    buf_free(&text);
    buf_free(&err);
    return ok;
}

static void render_json(const struct results *r, struct buf *out)
{
    results_json_render(r, NULL, NULL, false, out);
}

static int run_report(const struct cli_args *args)
{
    const char *path = args->positional[0];
    struct results r;
    struct buf err = {0};
    if (!results_load(path, &r, &err)) {
        cli_error("%s", err.data);
        buf_free(&err);
        return EXIT_USAGE;
    }
    buf_free(&err);
    if (!cli_flag(args, "quiet"))
        console_table(&r, stdout);

    bool ok = render_to(cli_get(args, "html"), html_render, &r) &&
              render_to(cli_get(args, "csv"), csv_render, &r) &&
              render_to(cli_get(args, "summary"), summary_render, &r) &&
              render_to(cli_get(args, "json"), render_json, &r);
    const char *dir = cli_get(args, "output-dir");
    if (ok && dir) {
        struct output_set set = {.csv = true, .html = true, .summary = true};
        struct buf werr = {0};
        ok = outputs_write(&r, NULL, NULL, &set, dir, &werr);
        if (!ok)
            cli_error("%s", werr.data);
        buf_free(&werr);
    }
    results_free(&r);
    return ok ? EXIT_OK : EXIT_FAILED;
}

const struct cli_command cmd_report = {
    .name = "report",
    .synopsis = "RESULTS",
    .summary = "Re-render a results file (llmsweep's or GuideLLM's) as tables and reports.",
    .description =
        "Reads RESULTS (benchmarks.json from llmsweep, or from GuideLLM of any version:\n"
        "<= 0.3, 0.4-0.6, 0.7+), prints one line per load level (throughput, TTFT and\n"
        "ITL p50/p99, latency p50, errors, cost per 1K tokens) and writes the files asked\n"
        "for. A file that is not valid results is an error naming the JSON path (exit 2).",
    .options = options,
    .min_args = 1,
    .max_args = 1,
    .run = run_report,
};
