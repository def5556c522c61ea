"""The tokenizer peers of the parity tests (tools/peers/tokenizer-env) for the integration tests:
where they are, and the reference encoder/decoder (tools/peers/tokenizer-oracle.py)."""
import json
import os

import peers
import testlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
ORACLE = os.path.join(ROOT, "tools", "peers", "tokenizer-oracle.py")

def peer_env():
    """The paths printed by tools/peers/tokenizer-env --check (a FAIL if it was not run)."""
    return peers.peer_env(ROOT, "tokenizer-env", "the tokenizer peers")


def oracle(ctx, args, lines):
    env = peer_env()
    r = ctx.run([env["TOKENIZERS_PYTHON"], ORACLE] + args, input="".join(l + "\n" for l in lines),
                timeout=600)
    assert r.returncode == 0, f"tokenizer-oracle.py {' '.join(args)} failed:\n{r.stderr[-3000:]}"
    return r.stdout.splitlines()


def oracle_ids(ctx, tokenizer, texts):
    """The ids the reference gives each text (no special tokens added)."""
    lines = oracle(ctx, ["encode", tokenizer], [json.dumps(t) for t in texts])
    return [json.loads(line) for line in lines]


def english_text():
    """Debian's copy of the GPL-3: English prose to train on."""
    path = "/usr/share/common-licenses/GPL-3"
    testlib.require_file(path, "Debian's base-files (English text to train on)")
    with open(path) as f:
        return f.read()


def train(ctx, kind, text):
    """A small tokenizer of `kind` (see tokenizer-oracle.py train) trained on text; its path."""
    out = ctx.path(f"{kind}.json")
    r = ctx.run([peer_env()["TOKENIZERS_PYTHON"], ORACLE, "train", kind, out], input=text, timeout=600)
    assert r.returncode == 0, f"training {kind} failed:\n{r.stderr[-3000:]}"
    return out


def real(name):
    env = peer_env()
    if name.startswith("TEKKEN"):
        return env[name]
    return os.path.join(env[name], "tokenizer.json")
