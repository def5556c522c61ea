"""Issue 11: `llmsweep trigger` against a stand-in of the Kubernetes API.

The stand-in is `tektoncheck -kubeapi` (tests/manifests/kubeapi.go): it
serves the endpoints trigger uses over HTTPS with a certificate of a test CA,
checks the bearer token and the token's RBAC rules (here: the rules of the
Role llmsweep-trigger as kustomize renders it), and validates every posted
PipelineRun with Tekton's own SetDefaults + Validate. Runs it creates follow
a scripted status sequence, one step per GET, so --wait needs no clock.
"""
import json
import os
import re

import manifests as mf
import testlib

NS = "llmsweep-quantized"
DEPLOYMENT = "mistral-24b-quantized"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bGxtc3dlZXAtcXVhbnRpemVkOmxsbXN3ZWVwLXRyaWdnZXIifQ.c2ln"  # noqa: E501 (sub: system:serviceaccount:llmsweep-quantized:llmsweep-trigger)
TEMPLATE = os.path.join(mf.ROOT, mf.TEMPLATES["quantized"])
BASE = f"/apis/tekton.dev/v1/namespaces/{NS}"


def trigger_role_rules(ctx):
    """The rules of the Role the overlay binds to llmsweep-trigger."""
    objects = mf.objects_of(ctx.tmp, mf.build("kustomize/overlays/quantized"))
    return mf.named(objects, "Role", "llmsweep-trigger")["rules"]


class Api:
    """A running stand-in: .url, .port, .ca (PEM path), .calls() (the log)."""

    def __init__(self, ctx, runs=(), statuses=(), pipelines=(f"{NS}/llmsweep",), rules=None,
                 tls=True):
        self.ctx = ctx
        name = f"kubeapi-{len(os.listdir(ctx.tmp))}"
        self.log = ctx.path(name + ".jsonl")
        config = {"tokens": {TOKEN: {"user": f"system:serviceaccount:{NS}:llmsweep-trigger",
                                     "rules": rules if rules is not None
                                     else trigger_role_rules(ctx)}},
                  "pipelines": list(pipelines), "pipelineRuns": list(runs),
                  "statuses": list(statuses), "log": self.log}
        self.ca = None
        if tls:
            ca = ctx.make_ca(name + "-ca")
            cert = ctx.make_cert(ca, "localhost", name=name + "-cert")
            config.update(tlsCert=cert["pem"], tlsKey=cert["key"])
            self.ca = ca["pem"]
        path = ctx.path(name + ".json")
        with open(path, "w") as f:
            json.dump(config, f)
        _, tektoncheck = mf.tools()
        proc = ctx.start([tektoncheck, "-kubeapi", path], name=name)
        addr = ctx.wait_for_log(proc, r"listening on https?://127\.0\.0\.1:(\d+)")
        self.port = int(addr.group(1))
        self.url = f"{'https' if tls else 'http'}://localhost:{self.port}"

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f]


def pod(ctx, api, token=TOKEN, ca=True):
    """Environment of a pod whose ServiceAccount files are in a fresh folder:
    the token, the namespace and (if ca) ca.crt, the only place the stand-in's
    CA is found."""
    sa = ctx.path(f"sa-{len(os.listdir(ctx.tmp))}")
    os.makedirs(sa)
    files = {"token": token + "\n", "namespace": NS + "\n"}
    if ca and api.ca:
        with open(api.ca) as f:
            files["ca.crt"] = f.read()
    for name, text in files.items():
        with open(os.path.join(sa, name), "w") as f:
            f.write(text)
    return {"LLMSWEEP_SERVICEACCOUNT_DIR": sa, "KUBERNETES_SERVICE_HOST": "localhost",
            "KUBERNETES_SERVICE_PORT": str(api.port)}


def trigger(ctx, env, *args):
    r = ctx.llmsweep("trigger", *args, env=env)
    assert TOKEN not in r.stdout + r.stderr, "the token must never be printed"
    return r


def run_of(name, deployment=DEPLOYMENT, finished=False):
    status = ({"completionTime": "2026-01-01T00:00:00Z", "conditions": [
        {"type": "Succeeded", "status": "True", "reason": "Succeeded"}]} if finished else
        {"conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Running"}]})
    return {"apiVersion": "tekton.dev/v1", "kind": "PipelineRun",
            "metadata": {"name": name, "namespace": NS,
                         "labels": {"llmsweep/deployment": deployment}},
            "spec": {"pipelineRef": {"name": "llmsweep"}}, "status": status}


def test_trigger_creates_a_valid_run_from_the_template_in_a_pod(ctx):
    api = Api(ctx)
    r = trigger(ctx, pod(ctx, api), "--template", TEMPLATE, "--trigger", "cron",
                "--param", "cluster-domain=apps.test.example.com")
    assert r.returncode == 0, r.stderr
    name = "llmsweep-mistral-24b-quantized-00001"
    assert r.stdout == f"created PipelineRun {name} in namespace {NS} " \
                       f"(deployment {DEPLOYMENT}, trigger cron)\n", r.stdout
    calls = api.calls()
    assert [(c["method"], c["path"], c["status"]) for c in calls] == [
        ("GET", f"{BASE}/pipelines/llmsweep", 200),
        ("POST", f"{BASE}/pipelineruns", 201)], calls
    run = calls[1]["object"]
    meta, spec = run["metadata"], run["spec"]
    assert meta["generateName"] == "llmsweep-mistral-24b-quantized-" and meta["namespace"] == NS
    assert meta["labels"]["llmsweep/deployment"] == DEPLOYMENT
    assert meta["labels"]["llmsweep/trigger"] == "cron"
    params = {p["name"]: p["value"] for p in spec["params"]}
    assert params["cluster-domain"] == "apps.test.example.com" and params["spec"]
    results = [w for w in spec["workspaces"] if w["name"] == "results"][0]
    assert results["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"]
    assert spec["timeouts"] == {"pipeline": "4h", "tasks": "3h40m", "finally": "20m"}


def test_trigger_builds_a_valid_run_from_flags_outside_a_pod(ctx):
    api = Api(ctx)
    token = ctx.path("token")
    with open(token, "w") as f:
        f.write(TOKEN + "\n")
    r = trigger(ctx, {"KUBERNETES_SERVICE_HOST": ""}, "--pipeline", "llmsweep", "-n", NS,
                "--deployment", "qwen3", "--server", api.url, "--token-file", token,
                "--ca-file", api.ca, "--timeout", "90m", "--storage", "2Gi",
                "-p", "spec=qwen3", "-p", "tokenizer=Qwen/Qwen3-8B")
    assert r.returncode == 0, r.stderr
    assert "created PipelineRun llmsweep-qwen3-00001" in r.stdout, r.stdout
    run = api.calls()[-1]["object"]
    assert run["metadata"]["labels"] == {"llmsweep/deployment": "qwen3",
                                         "llmsweep/trigger": "manual",
                                         "app.kubernetes.io/name": "llmsweep"}
    assert run["spec"]["timeouts"] == {"pipeline": "1h30m", "tasks": "1h10m", "finally": "20m"}
    assert run["spec"]["workspaces"][0]["volumeClaimTemplate"]["spec"]["resources"] == \
        {"requests": {"storage": "2Gi"}}
    assert run["spec"]["taskRunTemplate"]["serviceAccountName"] == "llmsweep"


def test_the_stand_in_refuses_an_invalid_pipelinerun(ctx):
    # What makes the tests above able to fail: Tekton's validation runs on
    # every POST. A template with a field Tekton does not know, and one with
    # a param given twice, are refused with the API's Status message shown.
    api = Api(ctx)
    env = pod(ctx, api)
    for name, text, want in (
            ("unknown-field.yaml", "spec:\n  pipelineRef: {name: llmsweep}\n  bogus: 1\n",
             'unknown field "spec.bogus"'),
            ("bad-timeouts.yaml", "spec:\n  pipelineRef: {name: llmsweep}\n"
                                  "  timeouts: {pipeline: 1h, tasks: 2h}\n", "timeouts")):
        path = ctx.path(name)
        with open(path, "w") as f:
            f.write("apiVersion: tekton.dev/v1\nkind: PipelineRun\nmetadata:\n"
                    f"  generateName: x-\n  labels: {{llmsweep/deployment: {DEPLOYMENT}}}\n" + text)
        r = trigger(ctx, env, "--template", path)
        assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
        assert "creating the PipelineRun: POST" in r.stderr and "HTTP 422" in r.stderr, r.stderr
        assert want in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1, r.stderr
    assert [c["status"] for c in api.calls() if c["method"] == "POST"] == [422, 422]


def test_if_idle_creates_nothing_while_a_run_of_the_deployment_is_running(ctx):
    api = Api(ctx, runs=[run_of("old", finished=True), run_of("llmsweep-q-abcde")])
    r = trigger(ctx, pod(ctx, api), "--template", TEMPLATE, "--if-idle")
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"not starting: PipelineRun llmsweep-q-abcde of deployment {DEPLOYMENT} " \
                       f"has not finished in namespace {NS} (--if-idle)\n", r.stdout
    calls = api.calls()
    assert not [c for c in calls if c["method"] == "POST"], "nothing may be created"
    listed = [c for c in calls if c["verb"] == "list"]
    assert listed and listed[0]["query"] == \
        "labelSelector=llmsweep%2Fdeployment%3Dmistral-24b-quantized", listed


def test_if_idle_creates_when_the_runs_of_the_deployment_have_finished(ctx):
    # A running run of another deployment does not count.
    api = Api(ctx, runs=[run_of("old", finished=True), run_of("other", deployment="full")])
    r = trigger(ctx, pod(ctx, api), "--template", TEMPLATE, "--if-idle", "--trigger", "argocd")
    assert r.returncode == 0, r.stderr
    assert "created PipelineRun llmsweep-mistral-24b-quantized-00001" in r.stdout, r.stdout
    assert [(c["verb"], c["resource"]) for c in api.calls()] == [
        ("list", "pipelineruns"), ("get", "pipelines"), ("create", "pipelineruns")], api.calls()


def statuses(final_status, final_reason, final_message):
    child = lambda task: {"apiVersion": "tekton.dev/v1", "kind": "TaskRun",  # noqa: E731
                          "name": f"run-{task}", "pipelineTaskName": task}
    running = "Tasks Completed: {} (Failed: 0, Cancelled 0), Skipped: 0"
    return [
        {},
        {"conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Running",
                         "message": running.format(0)}],
         "childReferences": [child("fetch-tokenizer")]},
        {"conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Running",
                         "message": running.format(0)}],
         "childReferences": [child("fetch-tokenizer")]},
        {"conditions": [{"type": "Succeeded", "status": "Unknown", "reason": "Running",
                         "message": running.format(1)}],
         "childReferences": [child("fetch-tokenizer"), child("run")]},
        {"completionTime": "2026-01-01T01:00:00Z",
         "conditions": [{"type": "Succeeded", "status": final_status, "reason": final_reason,
                         "message": final_message}],
         "childReferences": [child("fetch-tokenizer"), child("run"), child("wait"),
                             child("publish")]},
    ]


def test_wait_follows_the_run_to_success(ctx):
    done = "Tasks Completed: 4 (Failed: 0, Cancelled 0), Skipped: 0"
    api = Api(ctx, statuses=statuses("True", "Succeeded", done))
    r = trigger(ctx, pod(ctx, api), "--template", TEMPLATE, "--wait", "--interval", "10ms")
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    n = "llmsweep-mistral-24b-quantized-00001"
    assert r.stdout.splitlines() == [
        f"created PipelineRun {n} in namespace {NS} (deployment {DEPLOYMENT}, trigger manual)",
        f"{n}: Pending",
        f"{n}: task fetch-tokenizer started (TaskRun run-fetch-tokenizer)",
        f"{n}: Running: Tasks Completed: 0 (Failed: 0, Cancelled 0), Skipped: 0",
        f"{n}: task run started (TaskRun run-run)",
        f"{n}: Running: Tasks Completed: 1 (Failed: 0, Cancelled 0), Skipped: 0",
        f"{n}: task wait started (TaskRun run-wait)",
        f"{n}: task publish started (TaskRun run-publish)",
        f"PipelineRun {n} succeeded: {done}",
    ], r.stdout
    gets = [c for c in api.calls() if c["verb"] == "get" and c["path"].endswith(n)]
    assert len(gets) == 5, "one poll per scripted status, none after the end"


def test_wait_exits_1_when_the_run_fails(ctx):
    failed = "Tasks Completed: 4 (Failed: 1, Cancelled 0), Skipped: 0"
    api = Api(ctx, statuses=statuses("False", "Failed", failed))
    r = trigger(ctx, pod(ctx, api), "--template", TEMPLATE, "--wait", "--interval", "10ms")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "task publish started" in r.stdout
    assert "PipelineRun llmsweep-mistral-24b-quantized-00001 failed (Failed): " + failed in \
        r.stderr, r.stderr


def test_wait_timeout_exits_4(ctx):
    api = Api(ctx, statuses=statuses("Unknown", "Running", "still")[:2])
    r = trigger(ctx, pod(ctx, api), "--template", TEMPLATE, "--wait", "--interval", "10ms",
                "--wait-timeout", "50ms")
    assert r.returncode == 4, (r.returncode, r.stdout, r.stderr)
    assert "--wait-timeout" in r.stderr and "goes on running" in r.stderr, r.stderr


def test_401_says_the_token_was_rejected(ctx):
    api = Api(ctx)
    r = trigger(ctx, pod(ctx, api, token="not-the-token"), "--template", TEMPLATE)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "rejected the token from" in r.stderr and "401 Unauthorized" in r.stderr, r.stderr
    assert "the server said: HTTP 401 Unauthorized: Unauthorized" in r.stderr, r.stderr
    assert "not-the-token" not in r.stdout + r.stderr


def test_403_names_the_verb_resource_and_role(ctx):
    # The ServiceAccount may read the Pipeline and list runs, not create one.
    rules = [{"apiGroups": ["tekton.dev"], "resources": ["pipelines"], "verbs": ["get"]},
             {"apiGroups": ["tekton.dev"], "resources": ["pipelineruns"], "verbs": ["list"]}]
    api = Api(ctx, rules=rules)
    r = trigger(ctx, pod(ctx, api), "--template", TEMPLATE, "--if-idle")
    assert r.returncode == 1, (r.returncode, r.stderr)
    err = r.stderr
    assert f"system:serviceaccount:{NS}:llmsweep-trigger may not `create` " \
           f"pipelineruns.tekton.dev in namespace {NS} (403 Forbidden)" in err, err
    assert "bind the Role llmsweep-trigger" in err, err
    assert f"--serviceaccount={NS}:llmsweep-trigger" in err, err
    assert 'cannot create resource \\"pipelineruns\\"' in err or \
        'cannot create resource "pipelineruns"' in err, err
    # Without `get` on pipelines, the first call is the one refused.
    api = Api(ctx, rules=rules[1:])
    r = trigger(ctx, pod(ctx, api), "--template", TEMPLATE)
    assert r.returncode == 1 and "may not `get` pipelines.tekton.dev" in r.stderr, r.stderr


def test_404_on_the_pipeline_names_the_namespace_searched(ctx):
    api = Api(ctx, pipelines=["elsewhere/llmsweep"])
    r = trigger(ctx, pod(ctx, api), "--template", TEMPLATE)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert f"Pipeline llmsweep not found in namespace {NS}" in r.stderr, r.stderr
    assert 'pipelines.tekton.dev "llmsweep" not found' in r.stderr, r.stderr
    assert [c["method"] for c in api.calls()] == ["GET"], "nothing may be created"


def test_the_api_servers_ca_comes_from_ca_crt_only(ctx):
    # Above, the stand-in's CA was only in the pod's ca.crt. Without it the
    # certificate is unknown, and trigger says so.
    api = Api(ctx)
    r = trigger(ctx, pod(ctx, api, ca=False), "--template", TEMPLATE)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "certificate" in r.stderr.lower() and "--ca-file" in r.stderr, r.stderr
    assert api.calls() == [], "no request may reach a server that was not verified"


def test_usage_errors_exit_2(ctx):
    api = Api(ctx, tls=False)
    env = pod(ctx, api)
    for args, want in (
            ([], "--pipeline NAME or --template FILE"),
            (["--pipeline", "llmsweep"], "--deployment NAME"),
            (["--template", TEMPLATE, "--trigger", "weekly"], "use cron, argocd or manual"),
            (["--template", ctx.path("missing.yaml")], "cannot read the template"),
            (["--template", TEMPLATE, "--server", "http://192.0.2.1:6443"], "plain http"),
            (["--template", TEMPLATE, "-p", "novalue"], "not NAME=VALUE")):
        r = trigger(ctx, env, *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert want in r.stderr, (args, r.stderr)
    env["KUBERNETES_SERVICE_HOST"] = ""
    r = trigger(ctx, env, "--template", TEMPLATE)
    assert r.returncode == 2 and "not in a pod" in r.stderr, r.stderr
    assert api.calls() == []


def test_trigger_is_clean_under_valgrind(ctx):
    # The glibc build (see test_valgrind.py for why) creating and following a
    # run over TLS, and refusing one: no invalid access, no definite leak.
    testlib.require_tool("valgrind", "Debian package valgrind")
    binary = os.path.join(ctx.root, "zig-out", "glibc", "bin", "llmsweep")
    testlib.require_file(binary, "the glibc build for valgrind (tools/test: -Dtarget=x86_64-linux-gnu)")
    api = Api(ctx, statuses=statuses("False", "Failed", "Tasks Completed: 1 (Failed: 1)"))
    env = pod(ctx, api)
    # (args, exit code, allocations valgrind must at least see: TLS and the
    # CA bundle take thousands, so the check cannot pass by checking nothing)
    for args, rc, allocs in (
            (["--template", TEMPLATE, "--wait", "--interval", "10ms", "--if-idle"], 1, 1000),
            (["--template", TEMPLATE, "--if-idle"], 0, 1000),
            (["--pipeline", "llmsweep", "--deployment", "x", "--dry-run", "-p", "a=b"], 0, 50),
            (["--template", ctx.path("missing.yaml")], 2, 5)):
        r = ctx.run(["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite",
                     "--error-exitcode=99", binary, "trigger"] + args, env=env, timeout=600)
        assert r.returncode == rc, (args, r.returncode, r.stderr[-4000:])
        assert "ERROR SUMMARY: 0 errors" in r.stderr, r.stderr[-4000:]
        m = re.search(r"total heap usage: ([\d,]+) allocs", r.stderr)
        assert m and int(m.group(1).replace(",", "")) >= allocs, (args, r.stderr[-2000:])
