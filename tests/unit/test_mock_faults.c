#include "harness.h"
#include "mock_faults.h"

TEST(mock_faults_parse_every_kind_and_argument)
{
    struct mock_faults f;
    struct buf err = {0};
    CHECK(mock_faults_parse("429@5%, 500@every3,503@100%,reset@every7,reset-mid=4@every2,"
                            "stall@1%,bad-sse=0@every9,bad-json@every10,cut=2@50%,"
                            "slow-headers=250ms@every4",
                            &f, &err));
    CHECK_EQ_STR(err.data ? err.data : "", "");
    CHECK_EQ_INT(f.n, 10);
    CHECK_EQ_INT(f.rules[0].kind, MOCK_FAULT_429);
    CHECK_NEAR(f.rules[0].probability, 0.05, 1e-12);
    CHECK_EQ_INT(f.rules[0].every, 0);
    CHECK_EQ_INT(f.rules[1].kind, MOCK_FAULT_500);
    CHECK_EQ_INT(f.rules[1].every, 3);
    CHECK_NEAR(f.rules[2].probability, 1.0, 1e-12);
    CHECK_EQ_INT(f.rules[4].kind, MOCK_FAULT_RESET_MID);
    CHECK(f.rules[4].has_arg);
    CHECK_EQ_INT(f.rules[4].events, 4);
    CHECK(!f.rules[5].has_arg);
    CHECK_EQ_INT(f.rules[6].kind, MOCK_FAULT_BAD_SSE);
    CHECK(f.rules[6].has_arg);
    CHECK_EQ_INT(f.rules[6].events, 0);
    CHECK_EQ_INT(f.rules[8].kind, MOCK_FAULT_CUT);
    CHECK_EQ_INT(f.rules[9].kind, MOCK_FAULT_SLOW_HEADERS);
    CHECK_EQ_INT(f.rules[9].delay_ns, 250 * NS_PER_MS);
    CHECK_EQ_STR(mock_fault_name(MOCK_FAULT_RESET_MID), "reset-mid");
    CHECK(mock_faults_parse("", &f, &err));
    CHECK_EQ_INT(f.n, 0);
    buf_free(&err);
}

TEST(mock_faults_parse_errors_say_what_and_where)
{
    struct {
        const char *spec, *message;
    } cases[] = {
        {"429", "'429' has no '@WHEN'"},
        {"stal@5%", "unknown fault 'stal' in 'stal@5%'; did you mean 'stall'?"},
        {"429@0%", "'0%' in '429@0%' is neither a percentage"},
        {"429@101%", "is neither a percentage"},
        {"429@five%", "is neither a percentage"},
        {"429@every0", "'every' needs a whole number >= 1"},
        {"429=3@every2", "'429' takes no '=' argument"},
        {"slow-headers=soon@every2", "'soon' in 'slow-headers=soon@every2' is not a duration"},
        {"cut=-1@every2", "is not a number of events"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mock_faults f;
        struct buf err = {0};
        CHECK(!mock_faults_parse(cases[i].spec, &f, &err));
        CHECK_CONTAINS(err.data, cases[i].message);
        CHECK_CONTAINS(err.data, "--faults");
        buf_free(&err);
    }
}

TEST(mock_faults_every_nth_first_rule_wins)
{
    struct mock_faults f;
    struct buf err = {0};
    CHECK(mock_faults_parse("500@every3,429@every2", &f, &err));
    struct mock_rng rng;
    mock_rng_seed(&rng, 1);
    enum mock_fault expect[] = {MOCK_FAULT_NONE, MOCK_FAULT_429, MOCK_FAULT_500, MOCK_FAULT_429,
                                MOCK_FAULT_NONE, MOCK_FAULT_500, MOCK_FAULT_NONE};
    for (uint64_t seq = 1; seq <= 7; seq++) {
        const struct mock_fault_rule *r = mock_faults_pick(&f, seq, true, &rng);
        CHECK_EQ_INT(r ? r->kind : MOCK_FAULT_NONE, expect[seq - 1]);
    }
    buf_free(&err);
}

TEST(mock_faults_stream_only_kinds_skip_whole_responses)
{
    struct mock_faults f;
    struct buf err = {0};
    CHECK(mock_faults_parse("cut@every1,bad-sse@every1,bad-json@every1", &f, &err));
    struct mock_rng rng;
    mock_rng_seed(&rng, 1);
    CHECK_EQ_INT(mock_faults_pick(&f, 1, true, &rng)->kind, MOCK_FAULT_CUT);
    CHECK_EQ_INT(mock_faults_pick(&f, 1, false, &rng)->kind, MOCK_FAULT_BAD_JSON);
    buf_free(&err);
}

TEST(mock_faults_probability_is_seeded_and_about_right)
{
    struct mock_faults f;
    struct buf err = {0};
    CHECK(mock_faults_parse("503@10%", &f, &err));
    struct mock_rng a, b;
    mock_rng_seed(&a, 42);
    mock_rng_seed(&b, 42);
    int fired = 0;
    for (uint64_t seq = 1; seq <= 20000; seq++) {
        bool x = mock_faults_pick(&f, seq, true, &a) != NULL;
        bool y = mock_faults_pick(&f, seq, true, &b) != NULL;
        CHECK(x == y);
        fired += x;
    }
    /* Binomial(20000, 0.1): sd 42; 6 sd either way. */
    CHECK(fired > 2000 - 260 && fired < 2000 + 260);
    buf_free(&err);
}
