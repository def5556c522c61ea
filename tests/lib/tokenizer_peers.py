"""The tokenizer peers of the parity tests (tools/peers/tokenizer-env) for the integration tests:
where they are, and the reference encoder/decoder (tools/peers/tokenizer-oracle.py)."""
import os

import peers

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


def real(name):
    env = peer_env()
    if name.startswith("TEKKEN"):
        return env[name]
    return os.path.join(env[name], "tokenizer.json")
