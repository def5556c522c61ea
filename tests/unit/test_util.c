#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util.h"

TEST(duration_units)
{
    double s = -1;
    CHECK(parse_duration("120s", &s));
    CHECK_NEAR(s, 120, 0);
    CHECK(parse_duration("2m", &s));
    CHECK_NEAR(s, 120, 0);
    CHECK(parse_duration("1.5h", &s));
    CHECK_NEAR(s, 5400, 0);
    CHECK(parse_duration("250ms", &s));
    CHECK_NEAR(s, 0.25, 1e-12);
    CHECK(parse_duration("90", &s));
    CHECK_NEAR(s, 90, 0);
}

TEST(duration_rejects_junk)
{
    double s = 7;
    CHECK(!parse_duration("", &s));
    CHECK(!parse_duration("-5s", &s));
    CHECK(!parse_duration("5 s", &s));
    CHECK(!parse_duration("5d", &s));
    CHECK(!parse_duration("s", &s));
    CHECK(!parse_duration("nan", &s));
    CHECK_NEAR(s, 7, 0);
}

TEST(uint_bounds_and_junk)
{
    uint64_t v = 0;
    CHECK(parse_uint("25", 1, 100, &v));
    CHECK_EQ_INT(v, 25);
    CHECK(!parse_uint("0", 1, 100, &v));
    CHECK(!parse_uint("101", 1, 100, &v));
    CHECK(!parse_uint("-1", 0, 100, &v));
    CHECK(!parse_uint("1x", 0, 100, &v));
    CHECK(!parse_uint("", 0, 100, &v));
    CHECK(!parse_uint("99999999999999999999999", 0, UINT64_MAX, &v));
    CHECK(parse_uint("18446744073709551615", 0, UINT64_MAX, &v));
    CHECK(v == UINT64_MAX);
}

TEST(buf_grows_and_stays_terminated)
{
    struct buf b = {0};
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%d,", i);
    CHECK_EQ_INT(b.data[b.len], '\0');
    CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
    CHECK_CONTAINS(b.data, "999,");
    buf_clear(&b);
    CHECK_EQ_INT(b.len, 0);
    CHECK_EQ_STR(b.data, "");
    char *s = buf_steal(&b);
    CHECK_EQ_STR(s, "");
    CHECK(b.data == NULL);
    free(s);
}

TEST(closest_match_suggests_only_near_words)
{
    const char *const words[] = {"output-dir", "output-tokens", "prompt-tokens", "profile", NULL};
    CHECK_EQ_STR(closest_match("output-dri", words), "output-dir");
    CHECK_EQ_STR(closest_match("proflie", words), "profile");
    CHECK(closest_match("zzz", words) == NULL);
    CHECK_EQ_INT(edit_distance("kitten", "sitting"), 3);
    CHECK_EQ_INT(edit_distance("", "abc"), 3);
}

TEST(monotonic_clock_moves_forward)
{
    int64_t a = now_ns();
    int64_t b = now_ns();
    CHECK(b >= a);
    CHECK(wall_ns() > 1600000000LL * NS_PER_SEC); /* after 2020 */
}

TEST(read_trimmed_file_drops_surrounding_white_space)
{
    char path[512];
    snprintf(path, sizeof path, "%s/token", test_tmpdir());
    FILE *f = fopen(path, "w");
    fputs("  \tsecret value\r\n\n", f);
    fclose(f);
    struct buf b = {0};
    buf_puts(&b, "Bearer ");
    CHECK(read_trimmed_file(path, &b));
    CHECK_EQ_STR(b.data, "Bearer secret value");
    CHECK_EQ_INT(b.len, strlen("Bearer secret value"));
    buf_free(&b);
    CHECK(!read_trimmed_file("/nonexistent/token", &b));
    buf_free(&b);
}

TEST(buf_printf_text_longer_than_the_room_left)
{
    struct buf b = {0};
    buf_puts(&b, "0123456789");
    char long_text[1001];
    memset(long_text, 'x', 1000);
    long_text[1000] = '\0';
    buf_printf(&b, "[%s]", long_text);
    CHECK_EQ_INT(b.len, 1012);
    CHECK(strncmp(b.data, "0123456789[xxx", 14) == 0);
    CHECK_EQ_INT(b.data[1011], ']');
    CHECK_EQ_INT(b.data[1012], '\0');
    /* Exactly filling the room left must not lose the last byte. */
    struct buf c = {0};
    buf_reserve(&c, 0);
    size_t room = c.cap - 1;
    char fit[256];
    memset(fit, 'y', room);
    fit[room] = '\0';
    buf_printf(&c, "%s", fit);
    CHECK_EQ_INT(c.len, room);
    CHECK_EQ_INT(c.data[room - 1], 'y');
    buf_free(&b);
    buf_free(&c);
}

TEST(buf_redact_replaces_every_occurrence_and_never_grows)
{
    struct buf b = {0};
    buf_puts(&b, "key=sk-0123456789abcdef; again sk-0123456789abcdef.");
    size_t before = b.len;
    buf_redact(&b, "sk-0123456789abcdef");
    CHECK_EQ_STR(b.data, "key=<redacted>; again <redacted>.");
    CHECK(b.len <= before);
    buf_clear(&b);
    buf_puts(&b, "short abcde and abcde");
    buf_redact(&b, "abcde"); /* shorter than the marker: "***" keeps the text from growing */
    CHECK_EQ_STR(b.data, "short *** and ***");
    buf_redact(&b, "abc"); /* too short to be a secret */
    CHECK_EQ_STR(b.data, "short *** and ***");
    buf_redact(&b, NULL);
    buf_redact(&b, "");
    CHECK_EQ_STR(b.data, "short *** and ***");
    buf_free(&b);
}

TEST(header_is_secret_by_name)
{
    CHECK(header_is_secret("Authorization"));
    CHECK(header_is_secret("X-API-Key"));
    CHECK(header_is_secret("x-auth-token"));
    CHECK(header_is_secret("Cookie"));
    CHECK(header_is_secret("X-Password"));
    CHECK(!header_is_secret("X-Tenant"));
    CHECK(!header_is_secret("Content-Type"));
}

TEST(buf_redact_also_finds_the_json_escaped_form)
{
    struct buf b = {0};
    buf_puts(&b, "{\"message\": \"bad key abc/def/0123456789\\/x or abc\\/def\\/0123456789\"}");
    buf_redact(&b, "abc/def/0123456789");
    CHECK_EQ_STR(b.data, "{\"message\": \"bad key <redacted>\\/x or <redacted>\"}");
    buf_free(&b);
}
