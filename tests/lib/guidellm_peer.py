"""The pinned GuideLLM peer for integration tests (made by tools/peers/guidellm-env,
which tools/test runs before the tests). A missing peer fails the test with
what to run; it is never skipped."""
import os

import peers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# GuideLLM must stay offline: everything it needs is in the cache.
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "GUIDELLM__LOGGING__DISABLED": "true"}


def environment():
    """GUIDELLM, GUIDELLM_VENV, LLAMA3_TOKENIZER_DIR, ... as a dict."""
    return peers.peer_env(ROOT, "guidellm-env", "the GuideLLM peer")


def python(env):
    return os.path.join(env["GUIDELLM_VENV"], "bin", "python")
