"""Issue 7: `fetch-tokenizer` against a local imitation of the Hub (tests/lib/hub_server.py):
resolve URLs, LFS redirects to another origin (no token there), renamed repos, gated repos,
404s, tokens from HF_TOKEN or a file (never printed), the revision-keyed cache, offline mode,
and a tekken.json made here from mistral-common's documented format."""
import base64
import json
import os
import sys

from tokenizer_peers import oracle_ids

HUB_SERVER = os.path.join(os.path.dirname(__file__), "..", "lib", "hub_server.py")
TOKEN = "hf_TestSecretToken0123456789"
COMMIT = "0123456789abcdef0123456789abcdef01234567"

TINY = {"added_tokens": [{"id": 3, "content": "<s>", "special": True}], "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
        "post_processor": None, "decoder": {"type": "ByteLevel"},
        "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}


def tiny_tekken():
    """A tekken.json in mistral-common's format: 256 byte tokens, then merges by rank."""
    vocab = [{"rank": i, "token_bytes": base64.b64encode(bytes([i])).decode(), "token_str": None}
             for i in range(256)]
    for word in [b"he", b"ll", b"hell", b"hello", b" w", b" wor", b"ld", b" world"]:
        vocab.append({"rank": len(vocab), "token_bytes": base64.b64encode(word).decode(),
                      "token_str": word.decode()})
    pattern = r"[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
    return {"config": {"pattern": pattern, "num_vocab_tokens": len(vocab),
                       "default_vocab_size": len(vocab) + 10, "default_num_special_tokens": 10,
                       "version": "v7"},
            "vocab": vocab,
            "special_tokens": [{"rank": 0, "token_str": "<unk>", "is_control": True},
                               {"rank": 1, "token_str": "<s>", "is_control": True},
                               {"rank": 2, "token_str": "</s>", "is_control": True}]}


def start_hub(ctx):
    files = {}
    for name, obj in [("tokenizer.json", TINY), ("tokenizer_config.json", {"model_max_length": 8}),
                      ("tekken.json", tiny_tekken())]:
        files[name] = ctx.path("served-" + name)
        with open(files[name], "w") as f:
            json.dump(obj, f)
    config = {"token": TOKEN, "repos": {
        "org/open": {"commit": COMMIT, "revisions": ["main", "v1"], "lfs": ["tokenizer.json"],
                     "files": {"tokenizer.json": files["tokenizer.json"],
                               "tokenizer_config.json": files["tokenizer_config.json"]}},
        "org/gated": {"commit": COMMIT, "gated": True,
                      "files": {"tokenizer.json": files["tokenizer.json"]}},
        "mistralai/tekken": {"commit": COMMIT, "files": {"tekken.json": files["tekken.json"]},
                             "lfs": ["tekken.json"]},
        "org/empty": {"commit": COMMIT, "files": {"README.md": files["tokenizer_config.json"]}},
        "old/name": {"moved_to": "org/open"}}}
    cfg = ctx.path("hub.json")
    with open(cfg, "w") as f:
        json.dump(config, f)
    log = ctx.path("hub-log.jsonl")
    open(log, "w").close()
    proc = ctx.start([sys.executable, HUB_SERVER, cfg, log], name="hub")
    m = ctx.wait_for_log(proc, r"listening on (http://\S+) cdn (http://\S+)")
    return m.group(1), m.group(2), log, files


def requests(log):
    with open(log) as f:
        return [json.loads(line) for line in f]


def env_for(ctx, endpoint, **extra):
    env = {"HF_ENDPOINT": endpoint, "LLMSWEEP_CACHE": ctx.path("cache"), "HF_TOKEN": "",
           "HF_HUB_OFFLINE": "", "HOME": ctx.path("home"), "HF_HOME": ctx.path("hf-home")}
    env.update(extra)
    return env


def fetch(ctx, endpoint, *args, **env):
    return ctx.llmsweep("fetch-tokenizer", *args, env=env_for(ctx, endpoint, **env))


def test_fetch_follows_redirects_and_keeps_the_token_at_home(ctx):
    hub, cdn, log, files = start_hub(ctx)
    r = fetch(ctx, hub, "org/open", "--out", ctx.path("out"), HF_TOKEN=TOKEN)
    assert r.returncode == 0, r.stderr
    out = r.stdout.strip()
    assert out == ctx.path("out")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        with open(os.path.join(out, name)) as a, open(files[name]) as b:
            assert a.read() == b.read(), name
    assert not os.path.exists(os.path.join(out, "tekken.json"))
    assert not [n for n in os.listdir(out) if ".tmp" in n], os.listdir(out)
    cached = ctx.path("cache", "hub", "org--open", "main")
    with open(os.path.join(cached, ".commit")) as f:
        assert f.read() == COMMIT
    seen = requests(log)
    cdn_port = int(cdn.rsplit(":", 1)[1])
    assert [q["authorization"] for q in seen if q["port"] == cdn_port] == ["none"], seen
    assert all(q["authorization"] == "valid" for q in seen if q["port"] != cdn_port), seen
    assert TOKEN not in r.stderr + r.stdout
    t = ctx.llmsweep("tokenize", "--tokenizer", out, "--text", "abab")
    assert t.returncode == 0 and json.loads(t.stdout) == [2, 2], t.stdout + t.stderr


def test_fetch_cache_offline_and_commit_revisions(ctx):
    hub, _, log, _ = start_hub(ctx)
    r = fetch(ctx, hub, "org/open", "--revision", "v1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ctx.path("cache", "hub", "org--open", "v1")
    n = len(requests(log))
    r = fetch(ctx, hub, "org/open", "--revision", "v1", HF_HUB_OFFLINE="1")
    assert r.returncode == 0, r.stderr
    assert len(requests(log)) == n, "offline mode asked the Hub"
    r = fetch(ctx, hub, "org/open", "--revision", "main", "--offline")
    assert r.returncode == 1 and "not in the cache" in r.stderr and "org--open" in r.stderr, r.stderr
    # A commit hash never changes: once cached, no request at all.
    r = fetch(ctx, hub, "org/open", "--revision", COMMIT)
    assert r.returncode == 0, r.stderr
    n = len(requests(log))
    r = fetch(ctx, hub, "org/open", "--revision", COMMIT)
    assert r.returncode == 0 and len(requests(log)) == n, r.stderr
    # A branch is fetched again; when the Hub is down the cached copy is used, with a warning.
    r = fetch(ctx, "http://127.0.0.1:9", "org/open", "--revision", "v1")
    assert r.returncode == 0, r.stderr
    assert "using the cached copy" in r.stderr, r.stderr
    r = fetch(ctx, "http://127.0.0.1:9", "org/open", "--revision", "never-fetched")
    assert r.returncode == 1 and "cannot reach the Hub" in r.stderr, r.stderr


def test_fetch_gated_repos_and_tokens(ctx):
    hub, _, _, _ = start_hub(ctx)
    r = fetch(ctx, hub, "org/gated")
    assert r.returncode == 1, r.stderr
    assert "org/gated" in r.stderr and "gated" in r.stderr and "HF_TOKEN" in r.stderr, r.stderr
    r = fetch(ctx, hub, "org/gated", HF_TOKEN="hf_wrong_token_value")
    assert r.returncode == 1 and "403" in r.stderr and "request access" in r.stderr, r.stderr
    assert "hf_wrong_token_value" not in r.stderr + r.stdout
    r = fetch(ctx, hub, "org/gated", HF_TOKEN=TOKEN)
    assert r.returncode == 0, r.stderr
    token_file = ctx.path("token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    r = fetch(ctx, hub, "org/gated", "--token-file", token_file, "--revision", "main",
              LLMSWEEP_CACHE=ctx.path("cache2"))
    assert r.returncode == 0, r.stderr
    os.makedirs(ctx.path("hf-home"), exist_ok=True)
    with open(ctx.path("hf-home", "token"), "w") as f:
        f.write(TOKEN)
    r = fetch(ctx, hub, "org/gated", LLMSWEEP_CACHE=ctx.path("cache3"))
    assert r.returncode == 0, r.stderr
    assert TOKEN not in r.stderr + r.stdout
    r = fetch(ctx, hub, "org/gated", "--token-file", ctx.path("missing-token"))
    assert r.returncode == 2 and "missing-token" in r.stderr, r.stderr


def test_fetch_not_found_renamed_and_bad_names(ctx):
    hub, _, _, _ = start_hub(ctx)
    r = fetch(ctx, hub, "org/nothing")
    assert r.returncode == 1 and "repository org/nothing not found" in r.stderr, r.stderr
    r = fetch(ctx, hub, "org/empty")
    assert r.returncode == 1 and "neither tokenizer.json nor tekken.json" in r.stderr, r.stderr
    r = fetch(ctx, hub, "org/open", "--revision", "no-such-branch")
    assert r.returncode == 1 and "no revision 'no-such-branch'" in r.stderr, r.stderr
    r = fetch(ctx, hub, "old/name")
    assert r.returncode == 0, r.stderr
    for bad in ("noslash", "a/b/c", "../etc", "org/.."):
        r = fetch(ctx, hub, bad)
        assert r.returncode == 2 and "not a Hub repository name" in r.stderr, (bad, r.stderr)
    r = fetch(ctx, "ftp://example", "org/open")
    assert r.returncode == 2 and "HF_ENDPOINT" in r.stderr, r.stderr


def test_fetch_tekken_only_repo(ctx):
    hub, _, _, _ = start_hub(ctx)
    r = fetch(ctx, hub, "mistralai/tekken", "--out", ctx.path("tk"))
    assert r.returncode == 0, r.stderr
    assert "tekken" in r.stderr
    # The only file came through a redirect: the commit is taken from the Hub's 302.
    with open(ctx.path("cache", "hub", "mistralai--tekken", "main", ".commit")) as f:
        assert f.read() == COMMIT
    assert os.listdir(ctx.path("tk")) == ["tekken.json"] or "tekken.json" in os.listdir(ctx.path("tk"))
    # Ranks: "hello" 259, " world" 263; ids are shifted past the 10 special tokens.
    t = ctx.llmsweep("tokenize", "--tokenizer", ctx.path("tk"), "--text", "hello world", "--add-special")
    assert t.returncode == 0 and json.loads(t.stdout) == [1, 269, 273], t.stdout + t.stderr
    d = ctx.llmsweep("tokenize", "--tokenizer", ctx.path("tk"), "--decode", "--text", "[1, 269, 273]")
    assert d.returncode == 0 and d.stdout == "<s>hello world", repr(d.stdout)
    # mistral-common itself reads the file the same way.
    texts = ["hello world", "hello, worldly hell!", "  he said 42 lls\n\nworld"]
    tekken = os.path.join(ctx.path("tk"), "tekken.json")
    want = oracle_ids(ctx, tekken, texts)
    got = ctx.llmsweep("tokenize", "--tokenizer", tekken, "--lines", "--file", "-",
                       input="".join(json.dumps(t) + "\n" for t in texts))
    assert want == [json.loads(g) for g in got.stdout.splitlines()], (want, got.stdout)


def test_tokenize_takes_a_hub_repo(ctx):
    hub, _, log, _ = start_hub(ctx)
    r = ctx.llmsweep("tokenize", "--tokenizer", "org/open@v1", "--text", "abab", env=env_for(ctx, hub))
    assert r.returncode == 0 and json.loads(r.stdout) == [2, 2], r.stdout + r.stderr
    assert any("/org/open/resolve/v1/tokenizer.json" in q["path"] for q in requests(log))
    r = ctx.llmsweep("tokenize", "--tokenizer", "org/open@v2", "--text", "abab",
                     env=env_for(ctx, hub, HF_HUB_OFFLINE="1"))
    assert r.returncode == 2 and "not in the cache" in r.stderr, r.stderr
