#include "version.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <cyaml/cyaml.h>
#include <mbedtls/version.h>
#include <yaml.h>

#include "cli.h"
#include "util.h"

/* The product is musl; glibc builds exist for valgrind and the sanitizers. */
#if defined(__GLIBC__)
#define LIBC_NAME "gnu"
#else
#define LIBC_NAME "musl"
#endif

const char *version_target(void)
{
#if defined(__x86_64__)
    return "x86_64-linux-" LIBC_NAME;
#elif defined(__aarch64__)
    return "aarch64-linux-" LIBC_NAME;
#else
    return "unknown";
#endif
}

/* The versions of the five libraries inside the binary and curl's TLS
 * backend, one "name version" line each. */
static void version_describe(struct buf *out)
{
    const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
    char mbedtls[32];
    mbedtls_version_get_string(mbedtls);

    buf_printf(out, "llmsweep %s (git %s, %s)\n", LLMSWEEP_VERSION, llmsweep_git_revision,
               version_target());
    buf_printf(out, "  libcurl   %s\n", curl->version);
    buf_printf(out, "  mbedTLS   %s\n", mbedtls);
    buf_printf(out, "  cJSON     %s\n", cJSON_Version());
    buf_printf(out, "  libyaml   %s\n", yaml_get_version_string());
    buf_printf(out, "  libcyaml  %s\n", cyaml_version_str);
    buf_printf(out, "  TLS       %s (libcurl's backend)\n", curl->ssl_version);
    buf_puts(out, "  protocols");
    for (const char *const *p = curl->protocols; *p; p++)
        buf_printf(out, " %s", *p);
    buf_putc(out, '\n');
}

static int run_version(const struct cli_args *args)
{
    (void)args;
    struct buf text = {0};
    version_describe(&text);
    fputs(text.data, stdout);
    buf_free(&text);
    return EXIT_OK;
}

const struct cli_command cmd_version = {
    .name = "version",
    .summary = "Print the version, git revision and the versions of the bundled libraries.",
    .max_args = 0,
    .run = run_version,
};
