"""llmsweep's statistics against GuideLLM's own functions, computed live.

guidellm_oracle.py (run in the pinned GuideLLM venv) prints GuideLLM's
summaries of a fixed set of cases; the C unit test stats_oracle_guidellm
compares stats.c with them. The copy in tests/fixtures/stats/ (which the plain
unit run uses) must equal what GuideLLM computes today."""
import json
import os
import subprocess
import sys

import guidellm_peer  # noqa: E402

ROOT = guidellm_peer.ROOT
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "stats", "guidellm-oracle.json")


def test_guidellm_statistics_match(ctx):
    env = guidellm_peer.environment()
    r = ctx.run([guidellm_peer.python(env), os.path.join(ROOT, "tests", "integration",
                                                         "guidellm_oracle.py")])
    assert r.returncode == 0, f"guidellm_oracle.py failed:\n{r.stderr}"
    fresh = ctx.path("oracle.json")
    with open(fresh, "w") as f:
        f.write(r.stdout)
    with open(FIXTURE) as f:
        kept = json.load(f)
    live = json.loads(r.stdout)
    assert len(live["cases"]) >= 40, "the oracle produced too few cases"
    assert kept == live, (f"{FIXTURE} is not what GuideLLM computes now; regenerate it with "
                          "tests/integration/guidellm_oracle.py")

    unit = ctx.unit
    r = subprocess.run([unit, "stats_oracle_guidellm"], cwd=ROOT, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True,
                       env=dict(os.environ, LLMSWEEP_STATS_ORACLE=fresh))
    assert r.returncode == 0 and "1 passed, 0 failed" in r.stdout, r.stdout
