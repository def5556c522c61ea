"""Issue 7: prompts of exact token length, checked by re-encoding with Hugging Face `tokenizers`
(or mistral-common for tekken.json): every prompt has exactly prompt_tokens tokens, all share
exactly the shared prefix, consecutive requests differ right after it, and prompt i depends only
on the seed and i. Without a tokenizer a prompt of N tokens is exactly 4*N bytes."""
import json
import statistics

from tokenizer_peers import english_text, oracle_ids, real, train

PREFIX = 50


def prompts(ctx, *args):
    r = ctx.llmsweep("prompts", *[str(a) for a in args], timeout=300)
    assert r.returncode == 0, f"llmsweep prompts {args} failed:\n{r.stderr}"
    return [json.loads(line) for line in r.stdout.splitlines()]


def check_exact(ctx, tokenizer):
    ps = prompts(ctx, "--tokenizer", tokenizer, "--count", 200, "--prompt-tokens", "300,120,20,900",
                 "--output-tokens", "100,30,1,200", "--shared-prefix", PREFIX, "--seed", 9)
    assert len(ps) == 200
    ids = oracle_ids(ctx, tokenizer, [p["text"] for p in ps])
    wrong = [(p["index"], p["prompt_tokens"], len(i)) for p, i in zip(ps, ids)
             if len(i) != p["prompt_tokens"]]
    assert not wrong, f"{len(wrong)} prompts have another length than they claim: {wrong[:5]}"
    assert all(p["exact"] for p in ps)
    lengths = [p["prompt_tokens"] for p in ps]
    assert min(lengths) >= 20 and max(lengths) <= 900, (min(lengths), max(lengths))
    assert 260 < statistics.mean(lengths) < 340 and 80 < statistics.pstdev(lengths) < 160, lengths
    outs = [p["output_tokens"] for p in ps]
    assert 1 <= min(outs) and max(outs) <= 200 and 90 < statistics.mean(outs) < 110, outs

    long_ones = [i for i, p in zip(ids, ps) if p["prompt_tokens"] > PREFIX + 4]
    prefix = long_ones[0][:PREFIX]
    assert all(i[:PREFIX] == prefix for i in long_ones), "the shared prefix differs between prompts"
    # Short prompts are the same prefix cut at a word boundary (and filled up to length).
    for i, p in zip(ids, ps):
        if p["prompt_tokens"] <= PREFIX:
            k = max(0, len(i) - 5)
            assert i[:k] == prefix[:k], f"prompt {p['index']} is not a cut of the prefix"
    # Nothing beyond the prefix is shared by accident: neighbours differ at the first token after
    # it, and no two prompts share the first two tokens after it.
    for a, b in zip(long_ones, long_ones[1:]):
        assert a[PREFIX] != b[PREFIX], "neighbouring requests share the first token after the prefix"
    heads = [tuple(i[:PREFIX + 2]) for i in long_ones]
    assert len(set(heads)) == len(heads), "two prompts share more than the prefix"


def test_prompts_exact_llama3(ctx):
    check_exact(ctx, real("LLAMA3_TOKENIZER_DIR"))


def test_prompts_exact_qwen3(ctx):
    check_exact(ctx, real("QWEN3_TOKENIZER_DIR"))


def test_prompts_exact_llama2(ctx):
    check_exact(ctx, real("LLAMA2_TOKENIZER_DIR"))


def test_prompts_exact_tekken(ctx):
    check_exact(ctx, real("TEKKEN_JSON"))


def test_prompts_are_a_function_of_seed_and_index(ctx):
    tok = real("LLAMA3_TOKENIZER_DIR")
    a = prompts(ctx, "--tokenizer", tok, "--count", 30, "--prompt-tokens", "100,40", "--seed", 5)
    b = prompts(ctx, "--tokenizer", tok, "--first", 20, "--count", 5, "--prompt-tokens", "100,40",
                "--seed", 5)
    assert a[20:25] == b
    c = prompts(ctx, "--tokenizer", tok, "--count", 30, "--prompt-tokens", "100,40", "--seed", 6)
    assert [p["text"] for p in a] != [p["text"] for p in c]
    assert len({p["text"] for p in a}) == 30


def test_prompts_without_tokenizer_are_four_bytes_a_token(ctx):
    ps = prompts(ctx, "--count", 300, "--prompt-tokens", "64,40,1,400", "--shared-prefix", 10)
    for p in ps:
        assert not p["exact"]
        assert len(p["text"].encode("utf-8")) == 4 * p["prompt_tokens"], p
    long_ones = [p["text"] for p in ps if p["prompt_tokens"] > 30]
    assert len(set(long_ones)) == len(long_ones)
    assert all(t[:40] == long_ones[0][:40] for t in long_ones), "no shared 10-token prefix"
    assert min(p["prompt_tokens"] for p in ps) >= 1


def test_prompts_from_dataset(ctx):
    tok = real("QWEN3_TOKENIZER_DIR")
    rows = [{"prompt": "Summarise the plot of Hamlet.", "output_tokens": 50},
            {"prompt": "\u4f60\u597d\uff0c\u4e16\u754c", "extra": 1},
            {"prompt": "Write a haiku about GPUs.\nThen explain it."}]
    path = ctx.path("data.jsonl")
    with open(path, "w") as f:
        f.write("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    ps = prompts(ctx, "--tokenizer", tok, "--dataset", path, "--count", 6, "--output-tokens", 77)
    assert [p["text"] for p in ps] == [r["prompt"] for r in rows] * 2
    ids = oracle_ids(ctx, tok, [r["prompt"] for r in rows])
    assert [p["prompt_tokens"] for p in ps[:3]] == [len(i) for i in ids]
    assert [p["output_tokens"] for p in ps[:3]] == [50, 77, 77]
    with open(path, "a") as f:
        f.write('{"text": "no prompt field"}\n')
    r = ctx.llmsweep("prompts", "--dataset", path)
    assert r.returncode == 2 and "line 5" in r.stderr and '"prompt"' in r.stderr, r.stderr
    r = ctx.llmsweep("prompts", "--prompt-tokens", "0")
    assert r.returncode == 2 and "--prompt-tokens" in r.stderr, r.stderr


def test_prompts_exact_when_counts_do_not_add_up(ctx):
    """A BPE without pre-tokenizer split merges across spaces: word costs do not add up, so the
    generator must notice (it says so) and re-encode and correct every prompt."""
    words = "\n".join(p["text"] for p in prompts(ctx, "--count", 300, "--prompt-tokens", 200))
    out = train(ctx, "whole", english_text() + words)
    r = ctx.llmsweep("prompts", "--tokenizer", out, "--count", 40, "--prompt-tokens", "300,100")
    assert r.returncode == 0, r.stderr
    assert "re-encoded" in r.stderr, r.stderr
    ps = [json.loads(line) for line in r.stdout.splitlines()]
    ids = oracle_ids(ctx, out, [p["text"] for p in ps])
    assert [len(i) for i in ids] == [p["prompt_tokens"] for p in ps]
    assert 240 < statistics.mean(p["prompt_tokens"] for p in ps) < 360
