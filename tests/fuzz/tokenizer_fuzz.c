/* libFuzzer target: the tokenizer's parsers and encoder (tools/fuzz).
 *
 * The first input byte picks what the rest is:
 *   0: a tokenizer.json or tekken.json to load, then encode and decode a text
 *      with it: the text after a NUL byte following the JSON, or a fixed one;
 *   1: a pre-tokenizer regex to compile (then run over the input itself);
 *   2: text to encode with small tokenizers (byte-level with NFC and added
 *      tokens; SentencePiece-style with byte fallback), then decode back.
 * Any crash, leak or undefined behaviour is a bug: bad input must be a
 * clean error. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pretok_regex.h"
#include "tokenizer.h"
#include "unicode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char byte_level_json[] =
    "{\"added_tokens\":[{\"id\":9,\"content\":\"<|x|>\",\"special\":true,\"normalized\":false},"
    "{\"id\":10,\"content\":\"ab\",\"special\":false,\"normalized\":true,\"lstrip\":true,"
    "\"rstrip\":true,\"single_word\":true}],"
    "\"normalizer\":{\"type\":\"NFC\"},"
    "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":"
    "{\"Regex\":\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,"
    "3}| "
    "?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"},"
    "\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\",\"add_prefix_space\":"
    "false,"
    "\"use_regex\":false}]},"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":"
    "\"<|x|>\"}},{\"Sequence\":{\"id\":\"A\"}}],\"special_tokens\":{\"<|x|>\":{\"ids\":[9]}}},"
    "\"decoder\":{\"type\":\"ByteLevel\"},"
    "\"model\":{\"type\":\"BPE\",\"ignore_merges\":true,\"vocab\":{\"a\":0,\"b\":1,\"ab\":2,"
    "\"\\u0120\":3,\"\\u0120a\":4},\"merges\":[\"a b\",\"\\u0120 a\"]}}";

static const char metaspace_json[] =
    "{\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFKD\"},{\"type\":"
    "\"Replace\",\"pattern\":{\"String\":\"  \"},\"content\":\" \"}]},"
    "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Metaspace\","
    "\"prepend_scheme\":\"first\",\"split\":true},{\"type\":\"Digits\",\"individual_digits\":false}"
    ","
    "{\"type\":\"Split\",\"pattern\":{\"String\":\"-\"},\"behavior\":\"MergedWithNext\",\"invert\":"
    "false}]},"
    "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Metaspace\"},{\"type\":"
    "\"ByteFallback\"},{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":1,"
    "\"stop\":1}]},"
    "\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"unk_token\":\"<unk>\",\"fuse_unk\":true,"
    "\"vocab\":{\"<unk>\":0,\"<0x41>\":1,\"<0xC3>\":2,\"\\u2581\":3,\"a\":4,\"\\u2581a\":5},"
    "\"merges\":[[\"\\u2581\",\"a\"]]}}";

static void round_trip(const struct tokenizer *tok, const char *text, size_t len)
{
    struct tokenizer_session *s = tokenizer_session_new(tok);
    struct token_ids ids = {0};
    tokenizer_encode(s, text, len, TOKENIZER_ADD_SPECIAL, &ids);
    (void)tokenizer_count(s, text, len);
    struct buf out = {0}, err = {0};
    tokenizer_decode(tok, ids.v, ids.len, 0, &out, &err);
    buf_clear(&out);
    tokenizer_decode(tok, ids.v, ids.len, TOKENIZER_SKIP_SPECIAL, &out, &err);
    uint32_t bad = tokenizer_vocab_size(tok);
    tokenizer_decode(tok, &bad, 1, 0, &out, &err);
    buf_free(&out);
    buf_free(&err);
    token_ids_free(&ids);
    tokenizer_session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *rest = (const char *)data + 1;
    size_t len = size - 1;
    struct buf err = {0};
    switch (data[0] % 3) {
    case 0: {
        const char *nul = memchr(rest, '\0', len);
        size_t json_len = nul ? (size_t)(nul - rest) : len;
        struct tokenizer *tok = tokenizer_load_memory(rest, json_len, "fuzz.json", &err);
        if (tok) {
            if (nul)
                round_trip(tok, nul + 1, len - json_len - 1);
            else
                round_trip(tok, "Hello, world! It's 2024.\n\xC3\xA9\xF0\x9F\x98\x80", 31);
            tokenizer_free(tok);
        }
        break;
    }
    case 1: {
        struct pretok_regex *rx = pretok_regex_compile(rest, len, &err);
        if (rx) {
            size_t pos = 0, s, e, valid = utf8_valid_prefix(rest, len);
            while (pretok_regex_find(rx, rest, valid, pos, &s, &e))
                pos = e;
            pretok_regex_free(rx);
        }
        break;
    }
    default:
        for (int k = 0; k < 2; k++) {
            const char *json = k ? metaspace_json : byte_level_json;
            struct tokenizer *tok = tokenizer_load_memory(json, strlen(json), "fixed", &err);
            if (!tok)
                __builtin_trap(); /* the fixed tokenizers must load */
            round_trip(tok, rest, len);
            tokenizer_free(tok);
        }
    }
    buf_free(&err);
    return 0;
}
