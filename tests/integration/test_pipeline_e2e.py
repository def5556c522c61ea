"""Issue 9: the rendered Pipeline, run end to end on this machine.

tests/lib/tektonsim.py executes kustomize/overlays/quantized's Pipeline the
way Tekton would: tasks in Pipeline order, each step's exact command and args
after Tekton's substitution, workspaces as folders, the pod's ServiceAccount
files emulated. The endpoint is a started `llmsweep mock-server`, tokenizers are real ones (tools/peers/tokenizer-env); the Model
Registry is the real one (tests/registry/registry-up) behind a
kube-rbac-proxy stand-in that only lets the ServiceAccount's token through.
The PipelineRun is tekton/pipelinerun-quantized.yaml with only what a
cluster would differ in replaced (endpoint, registry URL, a short sweep).
"""
import json
import os
import sys

import manifests as mf
import tektonsim
import testlib
import tokenizer_peers

IMAGE = "registry.invalid/llmsweep@sha256:" + "0" * 64
SA_TOKEN = "sa-token-of-llmsweep"


class Cluster:
    """The rendered overlay, a mock endpoint, the pod's ServiceAccount files."""

    def __init__(self, ctx, overlay="quantized"):
        self.ctx = ctx
        testlib.require_file(ctx.bin, "the llmsweep binary (tools/zig build)")
        text = mf.build(f"kustomize/overlays/{overlay}")
        self.objects = [o for o in mf.objects_of(ctx.tmp, text, mf.TEMPLATES[overlay])
                        if o["kind"] != "PipelineRun"]
        self.template = mf.template(ctx.tmp, overlay)
        model = self.template["metadata"]["labels"]["llmsweep/deployment"]
        self.sa = ctx.path("serviceaccount")
        os.makedirs(self.sa)
        for name, value in (("token", SA_TOKEN), ("namespace", "llmsweep-quantized")):
            with open(os.path.join(self.sa, name), "w") as f:
                f.write(value)
        self.endpoint = ctx.mock_server("--model", model, "--ttft-ms", "20", "--itl-ms", "2",
                                        "--seed", "7") + "/v1"

    def pipelinerun(self, **params):
        pr = json.loads(json.dumps(self.template))
        values = {p["name"]: p["value"] for p in pr["spec"]["params"]}
        values.update(params)
        pr["spec"]["params"] = [{"name": k, "value": v} for k, v in values.items()]
        return pr

    def simulator(self):
        os.makedirs(self.ctx.path("runs"), exist_ok=True)
        return tektonsim.Simulator(self.objects, {IMAGE: {"/usr/local/bin/llmsweep": self.ctx.bin}},
                                   self.ctx.path("runs"), serviceaccount_dir=self.sa)

    def run(self, pr, workspaces):
        return self.simulator().run(pr, workspaces)

    def spec_workspace(self, extra=None):
        """The llmsweep-specs ConfigMap as its volume would show it, plus files."""
        folder = self.ctx.path("spec-configmap")
        os.makedirs(folder)
        data = mf.named(self.objects, "ConfigMap", "llmsweep-specs")["data"]
        for key, value in list(data.items()) + list((extra or {}).items()):
            with open(os.path.join(folder, key), "w") as f:
                f.write(value)
        return folder


def registry_with_proxy(ctx):
    """The real registry, a model and version to publish to, and the
    kube-rbac-proxy stand-in that admits only the ServiceAccount token."""
    try:
        import registry_lib
        import registry_proxy
    except ImportError as e:
        raise AssertionError(f"{e}: tests/lib/registry_lib.py and registry_proxy.py come with "
                             "the publish branch; merge it first") from None
    reg = registry_lib.Registry(ctx.root, ctx.path("registry")).up()
    model = reg.create_model("Mistral-Small-24B-Instruct-2501")
    version = reg.create_version(model["id"], "w4a16", description="served by vLLM on 1x L4")
    proxy = registry_proxy.RegistryProxy(reg.url, token=SA_TOKEN,
                                         forbidden=["sa-token-forbidden"]).start()
    return reg, version, proxy


def summary_of(outcome):
    summary = outcome.results["summary"]
    assert summary == outcome.tasks["wait"].results["summary"]
    assert len(summary.encode()) < 3072, f"summary is {len(summary.encode())} bytes"
    return json.loads(summary)


def test_pipeline_runs_like_a_cluster_and_publishes(ctx):
    cluster = Cluster(ctx)
    reg, version, proxy = registry_with_proxy(ctx)
    try:
        # A real Hugging Face tokenizer.json (Llama 3's, from the tokenizer peers).
        with open(tokenizer_peers.real("LLAMA3_TOKENIZER_DIR"), encoding="utf-8") as f:
            spec_ws = cluster.spec_workspace({"tokenizer.json": f.read()})
        pr = cluster.pipelinerun(**{
            # No Hub here: the tokenizer comes from the spec workspace.
            "tokenizer": "", "tokenizer-path": "/workspace/spec/tokenizer.json",
            "run-args": ["--endpoint", cluster.endpoint, "--levels", "1,3", "--duration", "2s"],
            "registry-url": proxy.url})
        pr["spec"]["workspaces"].append({"name": "spec", "configMap": {"name": "llmsweep-specs"}})
        results = ctx.path("pvc")
        os.makedirs(results)
        out = cluster.run(pr, {"results": results, "spec": spec_ws})
        assert out.status == "Succeeded", repr(out)
        assert [(t.name, t.status) for t in out.tasks.values()] == [
            ("fetch-tokenizer", "None"), ("run", "Succeeded"), ("wait", "Succeeded"),
            ("publish", "Succeeded")], repr(out)
        assert out.tasks["fetch-tokenizer"].reason.startswith("skipped: when"), repr(out)
        # The exact argv Tekton gives the run container.
        assert out.tasks["run"].steps[0][1] == [
            "/usr/local/bin/llmsweep", "run", "mistral-24b-quantized",
            "--tokenizer", "/workspace/spec/tokenizer.json", "--output-dir", "/workspace/results",
            "--endpoint", cluster.endpoint, "--levels", "1,3", "--duration", "2s"], repr(out)
        for name in ("benchmarks.json", "benchmarks.csv", "report.html", "summary.json"):
            assert os.path.exists(os.path.join(results, name)), f"{name} is not in the workspace"
        summary = summary_of(out)
        assert summary, summary
        # Published with the ServiceAccount token, through the auth proxy.
        auths = {r["authorization"] for r in proxy.requests}
        assert auths == {"Bearer " + SA_TOKEN}, auths
        assert any(r["method"] == "PATCH" for r in proxy.requests), proxy.requests
        after = reg.version(version["id"])
        props = after.get("customProperties", {})
        assert any(k.startswith("benchmark_") for k in props), props
        assert "served by vLLM on 1x L4" in after["description"], "other text must stay"
        assert after["description"] != "served by vLLM on 1x L4", "no summary block written"
    finally:
        proxy.stop()
        reg.down()


def test_pipeline_with_a_spec_from_the_configmap_and_no_registry(ctx):
    cluster = Cluster(ctx)
    pr = cluster.pipelinerun(**{
        "spec": "/workspace/spec/demo.yaml", "tokenizer": "", "tokenizer-path": "",
        "registry-url": "", "run-args": ["--levels", "1", "--duration", "2s"]})
    pr["spec"]["workspaces"].append({"name": "spec", "configMap": {"name": "llmsweep-specs"}})
    results = ctx.path("pvc")
    os.makedirs(results)
    out = cluster.run(pr, {"results": results, "spec": cluster.spec_workspace()})
    assert out.status == "Succeeded", repr(out)
    assert out.tasks["publish"].status == "None" and "registry-url" in out.tasks["publish"].reason
    assert out.tasks["run"].steps[0][1][:3] == ["/usr/local/bin/llmsweep", "run",
                                                "/workspace/spec/demo.yaml"]
    summary_of(out)


def test_pipeline_endpoint_down_fails_and_publishes_nothing(ctx):
    cluster = Cluster(ctx)
    reg, _, proxy = registry_with_proxy(ctx)
    try:
        pr = cluster.pipelinerun(**{
            "tokenizer": "", "tokenizer-path": "",
            "run-args": ["--endpoint", f"http://127.0.0.1:{testlib.free_port()}/v1",
                         "--levels", "1", "--duration", "2s"],
            "registry-url": proxy.url})
        results = ctx.path("pvc")
        os.makedirs(results)
        out = cluster.run(pr, {"results": results})
        assert out.status == "Failed", repr(out)
        run = out.tasks["run"]
        assert run.status == "Failed" and run.attempts == 1, "the run is never retried"
        assert run.steps[0][2] == 1, f"exit code {run.steps[0][2]}, want 1 (endpoint down)"
        with open(run.steps[0][3]) as f:
            log = f.read()
        assert "127.0.0.1" in log and "refused" in log.lower(), log[-2000:]
        assert out.tasks["wait"].status == "None"
        assert out.tasks["publish"].status == "None", "publish must be skipped"
        assert "tasks.run.status" in out.tasks["publish"].reason, out.tasks["publish"].reason
        assert proxy.requests == [], "nothing may reach the registry"
    finally:
        proxy.stop()
        reg.down()


def test_pipeline_without_registry_rights_fails_in_publish(ctx):
    cluster = Cluster(ctx)
    reg, version, proxy = registry_with_proxy(ctx)
    try:
        with open(os.path.join(cluster.sa, "token"), "w") as f:
            f.write("sa-token-forbidden")  # a ServiceAccount without the registry's Role
        pr = cluster.pipelinerun(**{
            "tokenizer": "", "tokenizer-path": "",
            "run-args": ["--endpoint", cluster.endpoint, "--levels", "1", "--duration", "2s"],
            "registry-url": proxy.url})
        results = ctx.path("pvc")
        os.makedirs(results)
        out = cluster.run(pr, {"results": results})
        assert out.status == "Failed", repr(out)
        publish = out.tasks["publish"]
        assert publish.status == "Failed" and publish.attempts == 2, repr(out)  # retries: 1
        with open(publish.steps[-1][3]) as f:
            log = f.read()
        assert "403" in log, log[-2000:]
        assert "sa-token-forbidden" not in log, "the token must never be printed"
        assert out.tasks["run"].status == "Succeeded" and summary_of(out)
        assert not any(r["method"] == "PATCH" for r in proxy.requests)
        assert reg.version(version["id"])["description"] == "served by vLLM on 1x L4"
    finally:
        proxy.stop()
        reg.down()


def test_sample_taskrun_runs_the_demo(ctx):
    # tekton/samples/taskrun-run-demo.yaml, the smoke test the README offers,
    # runs as it is: embedded demo spec, built-in mock endpoint, emptyDir.
    cluster = Cluster(ctx)
    samples = os.path.join(mf.ROOT, "tekton", "samples")
    files = sorted(os.path.join("tekton", "samples", f) for f in os.listdir(samples))
    rc, out, objects = mf.check(ctx.tmp, mf.build("kustomize/overlays/quantized"), *files)
    assert rc == 0 and " 0 errors" in out, out
    demo = [o for o in objects if o.get("metadata", {}).get("generateName") == "llmsweep-run-demo-"][0]
    results = ctx.path("emptydir")
    os.makedirs(results)
    t = cluster.simulator().run_taskrun(demo, {"results": results})
    assert t.status == "Succeeded", f"{t.status} {t.reason} {t.steps}"
    assert t.steps[0][1] == ["/usr/local/bin/llmsweep", "run", "demo", "--tokenizer", "",
                             "--output-dir", "/workspace/results", "--levels", "1,4",
                             "--duration", "5s"], t.steps[0][1]
    assert os.path.exists(os.path.join(results, "benchmarks.json"))


def test_full_template_fetches_a_gated_tokenizer_with_the_hf_token_workspace(ctx):
    # tekton/pipelinerun-full.yaml as it is (gated mistralai repository, the
    # hf-token Secret bound), against a Hub stand-in given as hub-url.
    cluster = Cluster(ctx, "full")
    # Mistral's repositories carry tekken.json: mistral-common's, from the peers.
    tokenizer = tokenizer_peers.real("TEKKEN_JSON")
    repo = [p["value"] for p in cluster.template["spec"]["params"] if p["name"] == "tokenizer"][0]
    hub_token = "hf_PipelineTestToken0123456789"
    config = {"token": hub_token, "repos": {repo: {
        "commit": "89abcdef" * 5, "gated": True, "lfs": ["tekken.json"],
        "files": {"tekken.json": tokenizer}}}}
    with open(ctx.path("hub.json"), "w") as f:
        json.dump(config, f)
    log = ctx.path("hub-log.jsonl")
    open(log, "w").close()
    hub_server = os.path.join(mf.ROOT, "tests", "lib", "hub_server.py")
    hub = ctx.start([sys.executable, hub_server, ctx.path("hub.json"), log], name="hub")
    hub_url = ctx.wait_for_log(hub, r"listening on (http://\S+) cdn").group(1)
    secret = ctx.path("secret-hf-token")
    os.makedirs(secret)
    with open(os.path.join(secret, "token"), "w") as f:
        f.write(hub_token + "\n")
    bindings = {w["name"] for w in cluster.template["spec"]["workspaces"]}
    assert "hf-token" in bindings, "the full template binds the hf-token Secret"
    pr = cluster.pipelinerun(**{
        "hub-url": hub_url, "registry-url": "",
        "run-args": ["--endpoint", cluster.endpoint, "--levels", "1,2", "--duration", "2s"]})
    results = ctx.path("pvc")
    os.makedirs(results)
    out = cluster.run(pr, {"results": results, "hf-token": secret})
    assert out.status == "Succeeded", repr(out)
    fetch = out.tasks["fetch-tokenizer"]
    assert fetch.status == "Succeeded" and fetch.steps[0][1] == [
        "/usr/local/bin/llmsweep", "fetch-tokenizer", repo, "--revision", "main",
        "--out", "/workspace/output"], fetch.steps
    with open(tokenizer, "rb") as a, open(os.path.join(results, "tokenizer", "tekken.json"),
                                          "rb") as b:
        assert a.read() == b.read(), "the fetched tokenizer is in the results workspace"
    with open(log) as f:
        seen = [json.loads(line) for line in f]
    assert seen and all(r["authorization"] in ("valid", "none") for r in seen), seen
    assert any(r["authorization"] == "valid" for r in seen), "the token reached the Hub"
    run_argv = out.tasks["run"].steps[0][1]
    assert run_argv[:6] == ["/usr/local/bin/llmsweep", "run", "mistral-24b", "--tokenizer",
                            "./tokenizer", "--output-dir"], run_argv
    with open(fetch.steps[0][3]) as f:
        assert hub_token not in f.read(), "the token must never be printed"
    assert out.tasks["publish"].status == "None"
    summary_of(out)
