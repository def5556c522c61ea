"""The pinned GuideLLM peer for integration tests (made by tools/peers/guidellm-env,
which tools/test runs before the tests). A missing peer fails the test with
what to run; it is never skipped."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tools", "peers", "guidellm-env")

# GuideLLM must stay offline: everything it needs is in the cache.
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "GUIDELLM__LOGGING__DISABLED": "true"}


def environment():
    """GUIDELLM, GUIDELLM_VENV, LLAMA3_TOKENIZER_DIR, ... as a dict."""
    proc = subprocess.run([SCRIPT, "--check"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    if proc.returncode != 0:
        raise AssertionError("the GuideLLM peer is not installed: run tools/peers/guidellm-env "
                             f"(tools/test does):\n{proc.stderr.strip()}")
    env = {}
    for line in proc.stdout.splitlines():
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1].replace("'\\''", "'")
        env[key] = value
    return env


def python(env):
    return os.path.join(env["GUIDELLM_VENV"], "bin", "python")
