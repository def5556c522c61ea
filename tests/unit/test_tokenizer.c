/* Unit tests of unicode.h, pretok_regex.h and tokenizer.h on small inputs.
 * Parity with Hugging Face on real files is in tests/integration/test_tokenizer.py. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pretok_regex.h"
#include "tokenizer.h"
#include "unicode.h"

TEST(unicode_categories_from_the_ucd)
{
    CHECK_EQ_INT(unicode_category('A'), UC_Lu);
    CHECK_EQ_INT(unicode_category(0xE9), UC_Ll);   /* é */
    CHECK_EQ_INT(unicode_category(0x0663), UC_Nd); /* ARABIC-INDIC DIGIT THREE */
    CHECK_EQ_INT(unicode_category(0x4E00), UC_Lo); /* CJK, from a First/Last range */
    CHECK_EQ_INT(unicode_category(0x0301), UC_Mn);
    CHECK_EQ_INT(unicode_category(0x1F600), UC_So); /* emoji */
    CHECK_EQ_INT(unicode_category(0x10FFFF), UC_Cn);
    CHECK(unicode_is_space(0x3000) && unicode_is_space(0x85) && unicode_is_space('\t'));
    CHECK(!unicode_is_space(0x200B)); /* ZERO WIDTH SPACE is not White_Space */
    CHECK_EQ_INT(unicode_ccc(0x0301), 230);
    CHECK(unicode_is_alphanumeric(0x00AA) && !unicode_is_alphanumeric('_'));
    CHECK_EQ_INT(unicode_fold_to_ascii(0x017F), 's');
    CHECK_EQ_INT(unicode_fold_to_ascii(0x212A), 'k');
    CHECK(unicode_name_words_count > 500);
}

static char *normalized(enum unicode_form form, const char *s)
{
    struct buf b = {0};
    unicode_normalize(form, s, strlen(s), &b);
    return buf_steal(&b);
}

TEST(unicode_normalization_forms)
{
    char *s = normalized(UNICODE_NFC, "cafe\xCC\x81");
    CHECK_EQ_STR(s, "caf\xC3\xA9");
    free(s);
    s = normalized(UNICODE_NFD, "caf\xC3\xA9");
    CHECK_EQ_STR(s, "cafe\xCC\x81");
    free(s);
    s = normalized(UNICODE_NFC, "\xE2\x84\xAB"); /* ANGSTROM SIGN -> Å */
    CHECK_EQ_STR(s, "\xC3\x85");
    free(s);
    s = normalized(UNICODE_NFC, "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"); /* jamo -> 각 */
    CHECK_EQ_STR(s, "\xEA\xB0\x81");
    free(s);
    s = normalized(UNICODE_NFKC, "\xEF\xAC\x81"); /* ﬁ ligature */
    CHECK_EQ_STR(s, "fi");
    free(s);
    /* Marks are put in canonical order: dot below (220) before acute (230). */
    s = normalized(UNICODE_NFD, "a\xCC\x81\xCC\xA3");
    CHECK_EQ_STR(s, "a\xCC\xA3\xCC\x81");
    free(s);
    s = normalized(UNICODE_NFC, "plain ascii");
    CHECK_EQ_STR(s, "plain ascii");
    free(s);
}

TEST(utf8_lossy_replaces_maximal_subparts)
{
    struct buf b = {0};
    utf8_append_lossy(&b, "a\xF0\x9F\x98z\xFF", 6);
    CHECK_EQ_STR(b.data, "a\xEF\xBF\xBDz\xEF\xBF\xBD");
    buf_clear(&b);
    utf8_append_lossy(&b, "\xED\xA0\x80", 3); /* a surrogate: three bad bytes */
    CHECK_EQ_STR(b.data, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    buf_free(&b);
    CHECK_EQ_INT(utf8_valid_prefix("ab\xC3", 3), 2);
}

static void split_all(const struct pretok_regex *rx, const char *text, struct buf *out)
{
    size_t pos = 0, s, e, len = strlen(text);
    while (pretok_regex_find(rx, text, len, pos, &s, &e)) {
        buf_printf(out, "[%.*s]", (int)(e - s), text + s);
        pos = e;
    }
}

TEST(regex_llama3_pattern_splits_like_oniguruma)
{
    static const char pattern[] =
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
        "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    struct buf err = {0}, out = {0};
    struct pretok_regex *rx = pretok_regex_compile(pattern, strlen(pattern), &err);
    CHECK(rx != NULL);
    if (!rx)
        return;
    /* HF's pre_tokenize_str on the Llama 3 file gives exactly these pieces. */
    split_all(rx, "Hello  world\n\n it's 123456 ?!x", &out);
    CHECK_EQ_STR(out.data, "[Hello][ ][ world][\n\n][ it]['s][ ][123][456][ ?!][x]");
    buf_clear(&out);
    split_all(rx, "IT'S", &out);
    CHECK_EQ_STR(out.data, "[IT]['S]");
    pretok_regex_free(rx);
    buf_free(&out);
    buf_free(&err);
}

TEST(regex_refuses_what_it_cannot_do)
{
    static const char *const bad[] = {"(a)\\1",     "^x",          "a*?",       "(ab)+",
                                      "\\p{Greek}", "[[:alpha:]]", "(?<name>x)"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct buf err = {0};
        struct pretok_regex *rx = pretok_regex_compile(bad[i], strlen(bad[i]), &err);
        CHECK(rx == NULL);
        CHECK_CONTAINS(err.data, "unsupported regex construct");
        pretok_regex_free(rx);
        buf_free(&err);
    }
}

/* A byte-level BPE over "a", "b", "c" where "ab" outranks "bc". */
static const char tiny_json[] =
    "{\"added_tokens\":[{\"id\":6,\"content\":\"<s>\",\"special\":true,\"normalized\":false}],"
    "\"normalizer\":null,"
    "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":"
    "\"<s>\"}},{\"Sequence\":{\"id\":\"A\"}}],\"special_tokens\":{\"<s>\":{\"ids\":[6]}}},"
    "\"decoder\":{\"type\":\"ByteLevel\"},"
    "\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"c\":2,\"ab\":3,\"bc\":4,\"\\u0120\":"
    "5,"
    "\"abc\":7},\"merges\":[\"a b\",\"b c\",\"ab c\"]}}";

TEST(tokenizer_merges_by_rank_and_adds_specials)
{
    struct buf err = {0};
    struct tokenizer *tok = tokenizer_load_memory(tiny_json, strlen(tiny_json), "tiny", &err);
    CHECK(tok != NULL);
    if (!tok) {
        printf("%s\n", err.data);
        return;
    }
    struct tokenizer_session *s = tokenizer_session_new(tok);
    struct token_ids ids = {0};
    tokenizer_encode(s, "abc bca", 7, 0, &ids);
    /* "abc" -> ab, c -> abc; " " is its own piece; "bca" -> bc, a. */
    uint32_t want[] = {7, 5, 4, 0};
    CHECK_EQ_INT(ids.len, 4);
    for (size_t i = 0; i < ids.len && i < 4; i++)
        CHECK_EQ_INT(ids.v[i], want[i]);
    ids.len = 0;
    tokenizer_encode(s, "a<s>b", 5, TOKENIZER_ADD_SPECIAL, &ids);
    CHECK_EQ_INT(ids.len, 4);
    CHECK_EQ_INT(ids.v[0], 6);
    CHECK_EQ_INT(ids.v[2], 6);
    CHECK_EQ_INT(tokenizer_count(s, "abcabc", 6), 2);

    struct buf text = {0};
    uint32_t some[] = {6, 7, 5, 4};
    CHECK(tokenizer_decode(tok, some, 4, 0, &text, &err));
    CHECK_EQ_STR(text.data, "<s>abc bc");
    buf_clear(&text);
    CHECK(tokenizer_decode(tok, some, 4, TOKENIZER_SKIP_SPECIAL, &text, &err));
    CHECK_EQ_STR(text.data, "abc bc");
    uint32_t bad = 99;
    CHECK(!tokenizer_decode(tok, &bad, 1, 0, &text, &err));
    CHECK_CONTAINS(err.data, "outside the vocabulary");
    buf_free(&text);
    token_ids_free(&ids);
    tokenizer_session_free(s);
    tokenizer_free(tok);
    buf_free(&err);
}

TEST(tokenizer_load_errors_name_the_problem)
{
    static const struct {
        const char *json, *message;
    } cases[] = {
        {"{}", "no \"model\""},
        {"{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}", "model type Unigram is not supported"},
        {"{\"normalizer\":{\"type\":\"BertNormalizer\"},\"model\":{\"vocab\":{}}}",
         "normalizer BertNormalizer"},
        {"{\"model\":{\"vocab\":{\"a\":0},\"merges\":[\"a b\"]}}", "not in the vocabulary"},
        {"{\"model\":{\"vocab\":{\"a\":0,\"b\":0}}}", "gives id 0 to two tokens"},
        {"[1,2", "not a JSON object"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct buf err = {0};
        struct tokenizer *tok =
            tokenizer_load_memory(cases[i].json, strlen(cases[i].json), "case.json", &err);
        CHECK(tok == NULL);
        CHECK_CONTAINS(err.data, cases[i].message);
        CHECK_CONTAINS(err.data, "case.json");
        tokenizer_free(tok);
        buf_free(&err);
    }
}

struct worker {
    const struct tokenizer *tok;
    const char *text;
    struct token_ids ids;
};

static void *encode_many(void *arg)
{
    struct worker *w = arg;
    struct tokenizer_session *s = tokenizer_session_new(w->tok);
    for (int round = 0; round < 200; round++) {
        w->ids.len = 0;
        tokenizer_encode(s, w->text, strlen(w->text), 0, &w->ids);
    }
    tokenizer_session_free(s);
    return NULL;
}

TEST(tokenizer_is_shared_by_threads)
{
    struct buf err = {0};
    struct tokenizer *tok = tokenizer_load_memory(tiny_json, strlen(tiny_json), "tiny", &err);
    CHECK(tok != NULL);
    if (!tok)
        return;
    const char *text = "abc bca cab abcabc ba cc aab abcc bbc";
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){tok, text, {0}};
        CHECK(pthread_create(&th[i], NULL, encode_many, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    struct tokenizer_session *s = tokenizer_session_new(tok);
    struct token_ids one = {0};
    tokenizer_encode(s, text, strlen(text), 0, &one);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(w[i].ids.len, one.len);
        CHECK(w[i].ids.len == one.len && memcmp(w[i].ids.v, one.v, one.len * 4) == 0);
        token_ids_free(&w[i].ids);
    }
    token_ids_free(&one);
    tokenizer_session_free(s);
    tokenizer_free(tok);
    buf_free(&err);
}

#include "prompts.h"

TEST(prompt_lengths_are_drawn_deterministically_and_clamped)
{
    struct token_dist d = {.mean = 100, .stdev = 50, .min = 80, .max = 130};
    long sum = 0;
    for (uint64_t i = 0; i < 2000; i++) {
        int n = prompt_draw_tokens(&d, 7, i, 0);
        CHECK(n >= 80 && n <= 130);
        CHECK_EQ_INT(n, prompt_draw_tokens(&d, 7, i, 0));
        sum += n;
    }
    CHECK(sum / 2000 > 95 && sum / 2000 < 115);
    struct token_dist fixed = {.mean = 42};
    CHECK_EQ_INT(prompt_draw_tokens(&fixed, 1, 99, 1), 42);
    struct token_dist wide = {.mean = 1, .stdev = 100};
    for (uint64_t i = 0; i < 100; i++)
        CHECK(prompt_draw_tokens(&wide, 3, i, 0) >= 1);
}

TEST(prompts_without_tokenizer_have_four_bytes_per_token)
{
    struct spec spec = {0};
    spec.workload.prompt_tokens = (struct token_dist){.mean = 50, .stdev = 20};
    spec.workload.output_tokens = (struct token_dist){.mean = 10};
    spec.workload.shared_prefix_tokens = 8;
    spec.workload.seed = 3;
    struct buf err = {0};
    struct prompt_source *ps = prompt_source_new(&spec, NULL, &err);
    CHECK(ps != NULL);
    if (!ps)
        return;
    CHECK(!prompt_source_exact(ps));
    struct prompt a = {0}, b = {0};
    for (uint64_t i = 0; i < 500; i++) {
        prompt_make(ps, NULL, i, &a);
        CHECK_EQ_INT(a.len, 4 * (size_t)a.prompt_tokens);
        CHECK_EQ_INT(strlen(a.text), a.len);
        CHECK_EQ_INT(a.output_tokens, 10);
        prompt_make(ps, NULL, i, &b);
        CHECK_EQ_STR(a.text, b.text);
    }
    prompt_free(&a);
    prompt_free(&b);
    prompt_source_free(ps);
    buf_free(&err);
}
