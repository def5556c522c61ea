"""Issue 4: an independent client agrees with the mock server's timing.

GuideLLM 0.8.1 (tools/peers/guidellm-env, which tools/test runs) runs a short synchronous benchmark against
`llmsweep mock-server`; its TTFT and ITL medians must be within 5 % + 1 ms of
what the mock was configured with (no jitter, no load model)."""
import json
import os

import guidellm_peer
import testlib

TTFT_MS, ITL_MS, OUTPUT_TOKENS = 50.0, 10.0, 32


def guidellm_env():
    env = guidellm_peer.environment()
    exe, tokdir = env["GUIDELLM"], env["LLAMA3_TOKENIZER_DIR"]
    testlib.require_file(exe, "GuideLLM (tools/peers/guidellm-env installs it)")
    testlib.require_file(os.path.join(tokdir, "tokenizer.json"),
                         "the Llama 3 tokenizer (tools/peers/guidellm-env installs it)")
    return exe, tokdir


def within(measured, configured):
    return abs(measured - configured) <= 0.05 * configured + 1.0


def test_guidellm_medians_match_configured_latency(ctx):
    exe, tokdir = guidellm_env()
    url = ctx.mock_server("--model", "mock-llama", "--ttft-ms", TTFT_MS, "--itl-ms", ITL_MS)
    out = ctx.path("benchmarks.json")
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "GUIDELLM__DEFAULT_RESULTS_DIR": ctx.tmp}
    r = ctx.run([exe, "run",
                 "--backend", f"kind=openai_http,target={url}",
                 "--profile", "kind=synchronous",
                 "--constraint", "kind=max_duration,seconds=10",
                 "--data", f"kind=synthetic_text,prompt_tokens=64,output_tokens={OUTPUT_TOKENS}",
                 "--tokenizer", f"kind=huggingface_auto,model={tokdir}",
                 "--output", f"kind=json,path={out}",
                 "--disable-console"], env=env, timeout=300)
    assert r.returncode == 0, f"guidellm exited {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    with open(out) as f:
        doc = json.load(f)
    (bench,) = doc["benchmarks"]
    m = bench["metrics"]
    totals = m["request_totals"]
    assert totals["errored"] == 0 and totals["successful"] >= 10, totals
    assert bench["config"]["backend"]["model"] == "mock-llama", bench["config"]["backend"]
    assert m["output_token_count"]["successful"]["median"] == OUTPUT_TOKENS, \
        m["output_token_count"]["successful"]
    ttft = m["time_to_first_token_ms"]["successful"]["median"]
    itl = m["inter_token_latency_ms"]["successful"]["median"]
    assert within(ttft, TTFT_MS), f"GuideLLM's TTFT median {ttft:.2f} ms, configured {TTFT_MS}"
    assert within(itl, ITL_MS), f"GuideLLM's ITL median {itl:.2f} ms, configured {ITL_MS}"
    stats = json.loads(ctx.run(["curl", "-sS", f"{url}/mock/stats"]).stdout)
    assert stats["peak_streams"] == 1, stats  # synchronous: one stream at a time
    assert stats["requests"]["faulted"] == 0 and stats["requests"]["completed"] >= 10, stats
