/* `llmsweep fetch URL`: one request through the `http` module, to diagnose
 * reachability, DNS, proxies and TLS from where the benchmark will run
 * (a pod, a bastion) with exactly the settings the benchmark uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "http.h"

#define MAX_HEADERS 64
#define MAX_CA_FILES 16

static const struct cli_option options[] = {
    {"ca-file", 0, "FILE", "also trust the CA certificates in FILE (PEM)", true},
    {"insecure", 'k', NULL, "do not verify the server certificate (unsafe; prints a warning)",
     false},
    {"header", 'H', "'NAME: VALUE'", "add a request header", true},
    {"method", 'X', "METHOD", "request method (default GET)", false},
    {"data", 'd', "BODY", "request body", false},
    {"connect-timeout", 0, "DURATION", "give up connecting after this long (default 10s)", false},
    {"timeout", 0, "DURATION", "give up on the whole request after this long (default 30s)", false},
    {"output", 'o', "FILE", "write the body to FILE instead of standard output", false},
    {"verbose", 'v', NULL, "also print the CA sources and timings", false},
    {0},
};

static int run_fetch(const struct cli_args *args)
{
    const char *url = args->positional[0];
    const char *ca_files[MAX_CA_FILES];
    const char *headers[MAX_HEADERS];
    size_t n_ca = cli_get_all(args, "ca-file", ca_files, MAX_CA_FILES);
    size_t n_headers = cli_get_all(args, "header", headers, MAX_HEADERS);
    if (n_ca > MAX_CA_FILES || n_headers > MAX_HEADERS)
        return cli_usage_error(args->command, "at most %d --ca-file and %d --header options",
                               MAX_CA_FILES, MAX_HEADERS);
    struct http_config cfg = {
        .ca_files = ca_files,
        .n_ca_files = n_ca,
        .insecure = cli_flag(args, "insecure"),
        .connect_timeout_s = 10,
        .total_timeout_s = 30,
        .follow_redirects = true,
    };
    if (!cli_duration(args, "connect-timeout", &cfg.connect_timeout_s) ||
        !cli_duration(args, "timeout", &cfg.total_timeout_s))
        return EXIT_USAGE;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return cli_usage_error(args->command, "'%s' is not an http:// or https:// URL", url);

    struct buf err = {0};
    struct http_ca_bundle *ca = http_ca_bundle_load(ca_files, n_ca, &err);
    if (!ca) {
        cli_error("%s", err.data);
        buf_free(&err);
        return EXIT_USAGE;
    }
    cfg.ca = ca;
    if (cfg.insecure)
        cli_warn("--insecure: the server's certificate is not verified; anyone on the path can "
                 "read and change this traffic");
    if (cli_flag(args, "verbose")) {
        struct buf what = {0};
        http_ca_bundle_describe(ca, &what);
        cli_info("trusting %s", what.data);
        buf_free(&what);
    }

    const char *body = cli_get(args, "data");
    struct http_request req = {
        .method = cli_get(args, "method") ? cli_get(args, "method") : (body ? "POST" : "GET"),
        .url = url,
        .headers = headers,
        .n_headers = n_headers,
        .body = body,
        .body_len = body ? strlen(body) : 0,
    };
    struct http_response resp;
    struct http_failure fail;
    int rc = EXIT_OK;
    if (!http_perform(&cfg, &req, &resp, &fail)) {
        cli_error("%s", fail.message);
        rc = EXIT_FAILED;
        goto done;
    }
    const char *out_path = cli_get(args, "output");
    FILE *out = out_path ? fopen(out_path, "wb") : stdout;
    if (!out) {
        cli_error("cannot write %s: %m", out_path);
        rc = EXIT_FAILED;
        goto done;
    }
    fwrite(resp.body.data ? resp.body.data : "", 1, resp.body.len, out);
    if (out_path && fclose(out) != 0) {
        cli_error("cannot write %s: %m", out_path);
        rc = EXIT_FAILED;
    }
    if (cli_flag(args, "verbose"))
        cli_info(
            "HTTP %ld, %zu bytes in %.1f ms (connect %.1f ms, TLS %.1f ms, first byte %.1f ms)",
            resp.status, resp.body.len, resp.seconds_total * 1e3, resp.seconds_connect * 1e3,
            resp.seconds_tls * 1e3, resp.seconds_first_byte * 1e3);
    if (resp.status >= 400) {
        cli_error("HTTP %ld from %s", resp.status, url);
        rc = EXIT_FAILED;
    }
done:
    http_response_free(&resp);
    http_ca_bundle_free(ca);
    buf_free(&err);
    return rc;
}

const struct cli_command cmd_fetch = {
    .name = "fetch",
    .synopsis = "URL",
    .summary = "Fetch one URL with the benchmark's HTTP settings (a reachability and TLS check).",
    .description = "The body goes to standard output; errors name the cause (DNS, refused,\n"
                   "timeout, unknown CA, host name mismatch, expired certificate) and exit 1.\n"
                   "CA certificates: the system bundle (or $SSL_CERT_FILE), the ServiceAccount\n"
                   "ca.crt and service-ca.crt when running in a pod, and every --ca-file.",
    .options = options,
    .min_args = 1,
    .max_args = 1,
    .run = run_fetch,
};
