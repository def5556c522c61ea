/* mbedtls_user_config.h: our additions to mbedTLS 3.6's default
 * configuration, seen by every unit that includes an mbedTLS header
 * (mbedTLS itself, libcurl, llmsweep) through MBEDTLS_USER_CONFIG_FILE.
 *
 * Threading: `run --workers N` drives one curl multi handle per thread and
 * all of them share PSA crypto's global key store and RNG, which mbedTLS
 * only guards when MBEDTLS_THREADING_C is on. */
#ifndef LLMSWEEP_MBEDTLS_USER_CONFIG_H
#define LLMSWEEP_MBEDTLS_USER_CONFIG_H

#define MBEDTLS_THREADING_C
#define MBEDTLS_THREADING_PTHREAD

#endif
