"""Issue 9: the Tekton and Kustomize manifests, checked offline.

kustomize builds every overlay (a warning fails the test), tektoncheck
validates every rendered Tekton object and the PipelineRun templates with
Tekton's own Go code, and the policy checks below read the rendered output:
restricted-v2 on every container, no shell anywhere, descriptions and catalog
metadata, images pinned by digest, every referenced object present, the
Pipeline and its Tasks consistent, and the Argo CD objects able to sync it.
"""
import copy
import json
import os
import re
import shutil
import sys

import manifests as mf
import tektonsim

NOT_UNDER_SANITIZERS = "checks the Tekton and Kustomize manifests"

SHELLS = {"sh", "bash", "ash", "dash", "zsh", "ksh", "busybox", "env"}
BINARY = "/usr/local/bin/llmsweep"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
CATALOG_ANNOTATIONS = ("tekton.dev/pipelines.minVersion", "tekton.dev/categories",
                       "tekton.dev/tags", "tekton.dev/displayName", "tekton.dev/platforms")


def rendered(ctx, overlay):
    """Objects of kustomize/overlays/OVERLAY, validated by tektoncheck together
    with that overlay's PipelineRun template."""
    text = mf.build(f"kustomize/overlays/{overlay}")
    objects = mf.objects_of(ctx.tmp, text, mf.TEMPLATES[overlay])
    return [o for o in objects if o.get("kind") != "PipelineRun"], text


def containers(obj):
    """(where, container dict merged as the runtime sees it, pod securityContext)."""
    kind = obj["kind"]
    if kind == "Task":
        spec = obj["spec"]
        for s in spec["steps"]:
            merged = tektonsim.merge_step(spec.get("stepTemplate"), s)
            yield f"Task {obj['metadata']['name']} step {s.get('name')}", merged, None
        for s in spec.get("sidecars", []):
            yield f"Task {obj['metadata']['name']} sidecar {s.get('name')}", s, None
    elif kind in ("CronJob", "Job"):
        pod = pod_spec(obj)
        for c in pod.get("initContainers", []) + pod["containers"]:
            yield f"{kind} {obj['metadata']['name']} container {c['name']}", c, pod.get(
                "securityContext") or {}
    elif kind in ("Deployment", "Pod", "StatefulSet", "DaemonSet"):
        raise AssertionError(f"unexpected workload kind {kind}: extend the policy checks")


def pod_spec(obj):
    """The pod template's spec of a CronJob or a Job."""
    job = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
    return job["template"]["spec"]


def hook(ctx, overlay):
    """The objects of kustomize/hooks/OVERLAY (the Argo CD PostSync hook)."""
    return mf.objects_of(ctx.tmp, mf.build(f"kustomize/hooks/{overlay}"))


def test_every_overlay_builds_without_warnings_and_validates(ctx):
    for overlay in mf.OVERLAYS:
        objects, _ = rendered(ctx, overlay)
        kinds = sorted({o["kind"] for o in objects})
        assert kinds == ["ConfigMap", "CronJob", "Namespace", "Pipeline", "Role", "RoleBinding",
                         "ServiceAccount", "Task"], (overlay, kinds)
        ns = f"llmsweep-{overlay}"
        for o in objects:
            if o["kind"] != "Namespace":
                assert o["metadata"].get("namespace") == ns, (overlay, o["kind"], o["metadata"])
    # The base alone, and the stricter feature gate (no beta fields used).
    base = mf.build("kustomize/base")
    rc, out, _ = mf.check(ctx.tmp, base, *mf.TEMPLATES.values(), extra=["-api-fields", "stable"])
    assert rc == 0 and " 0 errors" in out, out
    for path in ("kustomize/registry-access", "kustomize/argocd"):
        mf.build(path)
    for overlay in mf.OVERLAYS:
        objects = hook(ctx, overlay)
        assert [(o["kind"], o["metadata"]["namespace"]) for o in objects] == \
            [("Job", f"llmsweep-{overlay}")], objects


def test_tektoncheck_rejects_a_broken_pipeline(ctx):
    # The validation above can fail: a Pipeline that passes a param its Task
    # lacks, and a PipelineRun without a required param, are caught.
    objects, _ = rendered(ctx, "quantized")
    broken = copy.deepcopy(objects)
    pipeline = mf.named(broken, "Pipeline", "llmsweep")
    run = [t for t in pipeline["spec"]["tasks"] if t["name"] == "run"][0]
    [p for p in run["params"] if p["name"] == "cluster-domain"][0]["name"] = "cluster-domian"
    as_yaml = "\n---\n".join(json.dumps(o) for o in broken) + "\n"
    rc, out, _ = mf.check(ctx.tmp, as_yaml)
    assert rc == 1 and "cluster-domian" in out, out
    template = mf.template(ctx.tmp, "quantized")
    template["spec"]["params"] = [p for p in template["spec"]["params"] if p["name"] != "tokenizer"]
    rc, out, _ = mf.check(ctx.tmp, "\n---\n".join(json.dumps(o) for o in objects + [template]))
    assert rc == 1 and "no default: tokenizer" in out, out


def test_restricted_v2_on_every_container(ctx):
    required = {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True}
    seen = 0
    for overlay in mf.OVERLAYS:
        objects, text = rendered(ctx, overlay)
        text += mf.build(f"kustomize/hooks/{overlay}")
        objects += hook(ctx, overlay)
        assert not re.search(r"\b(runAsUser|runAsGroup|fsGroup|privileged)\b", text), \
            f"{overlay}: restricted-v2 assigns the UID/GID itself; never set them"
        for obj in objects:
            for where, c, pod_sc in containers(obj):
                seen += 1
                sc = c.get("securityContext") or {}
                for key, want in required.items():
                    assert sc.get(key) == want, f"{where}: securityContext.{key} is " \
                                                f"{sc.get(key)!r}, want {want!r}"
                assert sc.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: drop ALL"
                assert not sc.get("capabilities", {}).get("add"), f"{where}: adds capabilities"
                seccomp = sc.get("seccompProfile") or (pod_sc or {}).get("seccompProfile")
                assert seccomp == {"type": "RuntimeDefault"}, f"{where}: seccompProfile {seccomp}"
                res = c.get("computeResources") or c.get("resources")
                assert res and res.get("requests") and res.get("limits"), \
                    f"{where}: compute resources (requests and limits) must be set"
    assert seen >= 7 * len(mf.OVERLAYS), seen
    for overlay, path in mf.TEMPLATES.items():
        template = mf.template(ctx.tmp, overlay)
        pod = template["spec"]["taskRunTemplate"]["podTemplate"]["securityContext"]
        assert pod == {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}, pod


def test_no_shell_ever_sees_a_parameter(ctx):
    objects, text = rendered(ctx, "quantized")
    objects += hook(ctx, "quantized")
    assert "script:" not in text, "a step has a script: the scratch image has no shell"
    for obj in objects:
        for where, c, _ in containers(obj):
            assert "script" not in c, where
            command = c.get("command") or []
            assert command, f"{where}: command must be explicit (no image entrypoint lookup)"
            words = command + (c.get("args") or [])
            assert os.path.basename(command[0]) not in SHELLS, f"{where}: runs a shell"
            assert "-c" not in words, f"{where}: an inline program (-c) is a shell in disguise"
            # Every container runs the llmsweep binary: the Tasks, and
            # `llmsweep trigger` in the CronJob and the hook Job.
            assert command == [BINARY], f"{where}: command {command}"
            if obj["kind"] != "Task":
                assert c["args"][0] == "trigger", (where, c["args"])
            for w in words:
                # A param reference is a whole argument, or the tail of a path:
                # it can only ever become one argv element of the binary.
                for m in re.finditer(r"\$\(params\.[^)]*\)", w):
                    assert w == m.group(0) or w.startswith("$(workspaces."), (where, w)


def test_descriptions_and_catalog_metadata_everywhere(ctx):
    objects, _ = rendered(ctx, "quantized")
    version = mf.binary_version()
    tekton = [o for o in objects if o["kind"] in ("Task", "Pipeline")]
    assert len(tekton) == 5
    for obj in tekton:
        where = f"{obj['kind']} {obj['metadata']['name']}"
        spec = obj["spec"]
        assert len(spec.get("description", "")) > 40, f"{where}: description"
        for section in ("params", "results", "workspaces"):
            for item in spec.get(section, []):
                assert len(item.get("description", "").strip()) > 10, \
                    f"{where}: {section} {item['name']} has no description"
        labels, notes = obj["metadata"].get("labels", {}), obj["metadata"].get("annotations", {})
        assert labels.get("app.kubernetes.io/version") == version, \
            f"{where}: app.kubernetes.io/version {labels.get('app.kubernetes.io/version')}, " \
            f"the binary is {version}"
        for key in CATALOG_ANNOTATIONS:
            assert notes.get(key), f"{where}: annotation {key}"
        assert re.fullmatch(r"\d+\.\d+\.\d+", notes["tekton.dev/pipelines.minVersion"])
        for step in spec.get("steps", []):
            assert step.get("name"), f"{where}: every step is named (logs, tkn)"


def test_images_pinned_by_digest_and_replaceable(ctx):
    for overlay in mf.OVERLAYS:
        _, text = rendered(ctx, overlay)
        images = re.findall(r"^\s*image: (\S+)", text, re.M)
        assert len(images) >= 6, images
        for image in images:
            assert DIGEST.search(image), f"{overlay}: {image} is not pinned by digest"
            assert ":latest" not in image
    # The documented way to pin the real images rewrites every step, the step
    # template included, and the CronJob.
    work = ctx.path("repo")
    for part in ("kustomize", "tekton", "specs"):
        shutil.copytree(os.path.join(mf.ROOT, part), os.path.join(work, part))
    overlay = os.path.join(work, "kustomize", "overlays", "quantized")
    digest = "sha256:" + "ab" * 32
    mf.kustomize("edit", "set", "image",
                 f"registry.invalid/llmsweep=mirror.invalid/team/llmsweep@{digest}", cwd=overlay)
    text = mf.kustomize("build", overlay)
    images = re.findall(r"^\s*image: (\S+)", text, re.M)
    assert sorted(set(images)) == [f"mirror.invalid/team/llmsweep@{digest}"], images
    assert images.count(f"mirror.invalid/team/llmsweep@{digest}") == 6, images
    # The hook Job's image is pinned the same way.
    hook_dir = os.path.join(work, "kustomize", "hooks", "quantized")
    mf.kustomize("edit", "set", "image",
                 f"registry.invalid/llmsweep=mirror.invalid/team/llmsweep@{digest}", cwd=hook_dir)
    images = re.findall(r"^\s*image: (\S+)", mf.kustomize("build", hook_dir), re.M)
    assert images == [f"mirror.invalid/team/llmsweep@{digest}"], images


def test_configurations_rewrite_names_inside_tekton_objects(ctx):
    # A generated ConfigMap and Secret referred to from a Task's volume and env
    # get their hash suffix there too, and a namePrefix on the Tasks is
    # followed by the Pipeline's taskRefs: what tekton-configuration.yaml is for.
    work = ctx.path("k")
    os.makedirs(work)
    with open(os.path.join(work, "kustomization.yaml"), "w") as f:
        f.write(f"""apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namePrefix: team-
resources:
  - {os.path.relpath(os.path.join(mf.ROOT, 'kustomize', 'base'), work)}
configMapGenerator:
  - name: extra-ca
    literals: [ca.crt=x]
secretGenerator:
  - name: api-key
    literals: [key=y]
patches:
  - target: {{kind: Task, name: llmsweep-run}}
    patch: |-
      - op: add
        path: /spec/volumes/-
        value: {{name: extra-ca, configMap: {{name: extra-ca}}}}
      - op: add
        path: /spec/steps/0/env/-
        value: {{name: OPENAI_API_KEY, valueFrom: {{secretKeyRef: {{name: api-key, key: key}}}}}}
""")
    objects = mf.objects_of(ctx.tmp, mf.kustomize("build", work))
    cm = [o for o in objects if o["kind"] == "ConfigMap"
          and o["metadata"]["name"].startswith("team-extra-ca-")]
    secret = [o for o in objects if o["kind"] == "Secret"]
    assert len(cm) == 1 and len(secret) == 1
    task = mf.named(objects, "Task", "team-llmsweep-run")
    vol = [v for v in task["spec"]["volumes"] if v["name"] == "extra-ca"][0]
    assert vol["configMap"]["name"] == cm[0]["metadata"]["name"], vol
    env = [e for e in task["spec"]["steps"][0]["env"] if e["name"] == "OPENAI_API_KEY"][0]
    assert env["valueFrom"]["secretKeyRef"]["name"] == secret[0]["metadata"]["name"], env
    pipeline = mf.named(objects, "Pipeline", "team-llmsweep")
    refs = [t["taskRef"]["name"] for t in pipeline["spec"]["tasks"] + pipeline["spec"]["finally"]]
    assert refs == ["team-llmsweep-fetch-tokenizer", "team-llmsweep-run", "team-llmsweep-wait",
                    "team-llmsweep-publish"], refs


def test_every_reference_resolves(ctx):
    for overlay in mf.OVERLAYS:
        objects, _ = rendered(ctx, overlay)
        names = {(o["kind"], o["metadata"]["name"]) for o in objects}
        cms = {o["metadata"]["name"]: o for o in mf.by_kind(objects, "ConfigMap")}
        # The CronJob, and the hook Job (another Application, same namespace)
        # that can only name what the overlay creates by a fixed name.
        for pod in (pod_spec(mf.by_kind(objects, "CronJob")[0]), pod_spec(hook(ctx, overlay)[0])):
            assert ("ServiceAccount", pod["serviceAccountName"]) in names
            for v in pod["volumes"]:
                if "configMap" in v:
                    assert v["configMap"]["name"] in cms, (overlay, v)
            env = {}
            for c in pod["containers"]:
                for e in c.get("env", []):
                    ref = e.get("valueFrom", {}).get("configMapKeyRef")
                    if ref:
                        assert ref["name"] in cms, (overlay, ref)
                        assert ref["key"] in cms[ref["name"]]["data"], (overlay, ref)
                        env[e["name"]] = cms[ref["name"]]["data"][ref["key"]]
            # The template `llmsweep trigger` reads is this overlay's
            # PipelineRun template, byte for byte, and carries the deployment
            # label that --if-idle selects on.
            tname = [v["configMap"]["name"] for v in pod["volumes"] if v["name"] == "templates"][0]
            with open(os.path.join(mf.ROOT, mf.TEMPLATES[overlay])) as f:
                assert cms[tname]["data"][env["TEMPLATE"]] == f.read(), overlay
            template = mf.template(ctx.tmp, overlay)
            assert template["metadata"]["labels"]["llmsweep/deployment"] == env["DEPLOYMENT"]
        # The ServiceAccount the runs use, the Pipeline they name, the
        # ConfigMap the spec workspace would bind.
        assert ("ServiceAccount", template["spec"]["taskRunTemplate"]["serviceAccountName"]) in names
        assert ("Pipeline", template["spec"]["pipelineRef"]["name"]) in names
        assert "llmsweep-specs" in cms
        for rb in mf.by_kind(objects, "RoleBinding"):
            assert ("Role", rb["roleRef"]["name"]) in names, rb
            for s in rb["subjects"]:
                assert ("ServiceAccount", s["name"]) in names, s
    # specs/Kustomization puts every embedded spec (not the price table) in the ConfigMap.
    objects, _ = rendered(ctx, "quantized")
    specs = sorted(f for f in os.listdir(os.path.join(mf.ROOT, "specs"))
                   if f.endswith(".yaml") and f != "instance-prices.yaml")
    assert specs, "specs/ has no run spec"
    data = mf.named(objects, "ConfigMap", "llmsweep-specs")["data"]
    assert sorted(data) == specs, (sorted(data), specs)
    for name in specs:
        with open(os.path.join(mf.ROOT, "specs", name)) as f:
            assert data[name] == f.read(), name


def test_pipeline_and_tasks_fit_together(ctx):
    objects, _ = rendered(ctx, "quantized")
    tasks = {t["metadata"]["name"]: t for t in mf.by_kind(objects, "Task")}
    pipeline = mf.named(objects, "Pipeline", "llmsweep")["spec"]
    pws = {w["name"]: w for w in pipeline["workspaces"]}
    used_params = set()
    for pt in pipeline["tasks"] + pipeline["finally"]:
        task = tasks[pt["taskRef"]["name"]]["spec"]
        used_params.update(re.findall(r"\$\(params\.([a-z0-9-]+)", json.dumps(pt)))
        # Every workspace the Task declares is passed on (optional ones too:
        # otherwise a bound ca-bundle would silently not reach the Task).
        bound = {b["name"]: b["workspace"] for b in pt.get("workspaces", [])}
        for ws in task.get("workspaces", []):
            assert ws["name"] in bound, f"{pt['name']}: workspace {ws['name']} not passed"
            if pws[bound[ws["name"]]].get("optional"):
                assert ws.get("optional"), f"{pt['name']}: optional {bound[ws['name']]} -> " \
                                           f"required {ws['name']}"
        assert pt.get("timeout"), f"{pt['name']}: explicit timeout"
    declared = {p["name"] for p in pipeline["params"]}
    assert declared == used_params, f"unused Pipeline params: {declared - used_params}"
    for name, task in tasks.items():
        spec = json.dumps(task["spec"]["steps"]) + json.dumps(task["spec"].get("stepTemplate"))
        for p in task["spec"].get("params", []):
            assert f"$(params.{p['name']}" in spec, f"{name}: param {p['name']} is never used"
        for r in task["spec"].get("results", []):
            assert f"$(results.{r['name']}.path)" in spec, f"{name}: result {r['name']} never written"
    run = [t for t in pipeline["tasks"] if t["name"] == "run"][0]
    assert run.get("retries", None) == 0, "the measurement task must not be retried"
    assert pipeline["results"][0]["value"] == "$(tasks.wait.results.summary)"
    publish = pipeline["finally"][0]
    assert publish["taskRef"]["name"] == "llmsweep-publish"
    inputs = {w["input"]: (w["operator"], w["values"]) for w in publish["when"]}
    assert inputs["$(tasks.run.status)"] == ("in", ["Succeeded"]), inputs
    # The run step: guaranteed CPU (requests == limits, whole cores).
    step = tasks["llmsweep-run"]["spec"]["steps"][0]
    res = step["computeResources"]
    assert res["requests"] == res["limits"], res
    assert re.fullmatch(r"[1-9][0-9]*", res["requests"]["cpu"]), res
    # The Task results fit Tekton's 4096-byte limit with the binary's < 3 KB summary.
    assert [r["name"] for r in tasks["llmsweep-wait"]["spec"]["results"]] == ["summary"]


def test_templates_are_runs_never_synced_objects(ctx):
    for overlay, path in mf.TEMPLATES.items():
        objects, text = rendered(ctx, overlay)
        assert not [o for o in objects if o["kind"] in ("PipelineRun", "TaskRun")]
        # Tekton copies Pipeline/Task labels onto PipelineRuns, TaskRuns and
        # Pods: with Argo CD's tracking label among them, Argo CD would prune
        # the runs. The label must appear nowhere.
        assert "app.kubernetes.io/instance" not in text, overlay
        template = mf.template(ctx.tmp, overlay)
        assert "name" not in template["metadata"] and template["metadata"]["generateName"]
        timeouts = template["spec"]["timeouts"]
        seconds = {k: tektonsim.parse_duration(v) for k, v in timeouts.items()}
        assert seconds["pipeline"] > 3600, "longer than Tekton's 60-minute default"
        assert seconds["tasks"] + seconds["finally"] <= seconds["pipeline"]
        ws = {w["name"]: w for w in template["spec"]["workspaces"]}
        assert "volumeClaimTemplate" in ws["results"], "a fresh PVC per PipelineRun"


def test_argocd_applications_match_the_overlays(ctx):
    objects = mf.objects_of(ctx.tmp, mf.build("kustomize/argocd"))
    project = mf.by_kind(objects, "AppProject")[0]["spec"]
    apps = mf.by_kind(objects, "Application")
    assert sorted(a["spec"]["source"]["path"] for a in apps) == \
        sorted(f"kustomize/overlays/{o}" for o in mf.OVERLAYS)
    black = {(r["group"], r["kind"]) for r in project["namespaceResourceBlacklist"]}
    assert {("tekton.dev", "PipelineRun"), ("tekton.dev", "TaskRun")} <= black
    white = {(r["group"], r["kind"]) for r in project["namespaceResourceWhitelist"]}
    cluster_white = {(r["group"], r["kind"]) for r in project["clusterResourceWhitelist"]}
    destinations = {d["namespace"] for d in project["destinations"]}
    for app in apps:
        spec = app["spec"]
        overlay = spec["source"]["path"].rsplit("/", 1)[1]
        assert app["metadata"]["namespace"] == "openshift-gitops"
        assert spec["project"] == project_name(objects)
        assert spec["source"]["repoURL"] in project["sourceRepos"]
        assert spec["destination"]["namespace"] == f"llmsweep-{overlay}"
        assert spec["destination"]["namespace"] in destinations
        assert spec["syncPolicy"]["managedNamespaceMetadata"]["labels"] == \
            {"argocd.argoproj.io/managed-by": "openshift-gitops"}
        # Argo CD can sync every kind the overlay renders.
        rendered_objects, _ = rendered(ctx, overlay)
        for o in rendered_objects:
            group = o["apiVersion"].split("/")[0] if "/" in o["apiVersion"] else ""
            allowed = cluster_white if o["kind"] == "Namespace" else white
            assert (group, o["kind"]) in allowed, f"the AppProject refuses {group}/{o['kind']}"
            if o["kind"] == "Namespace":
                assert o["metadata"]["labels"]["argocd.argoproj.io/managed-by"] == \
                    "openshift-gitops"
                assert "Prune=false" in o["metadata"]["annotations"][
                    "argocd.argoproj.io/sync-options"]


def test_gitops_trigger_hook_is_a_post_sync_job_wired_as_documented(ctx):
    for overlay in mf.OVERLAYS:
        job = hook(ctx, overlay)[0]
        notes = job["metadata"]["annotations"]
        assert notes["argocd.argoproj.io/hook"] == "PostSync", notes
        assert notes["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation", notes
        assert "generateName" not in job["metadata"], "a fixed name, replaced before each sync"
        args = pod_spec(job)["containers"][0]["args"]
        assert args[:1] == ["trigger"] and "--if-idle" in args, args
        assert args[args.index("--trigger") + 1] == "argocd", args
        assert pod_spec(job)["restartPolicy"] == "Never"
    # The CronJob runs the same command as a cron trigger.
    cron = mf.by_kind(rendered(ctx, "full")[0], "CronJob")[0]
    args = pod_spec(cron)["containers"][0]["args"]
    assert args[args.index("--trigger") + 1] == "cron" and "--if-idle" in args, args
    # The documented example adds a hooks folder of this repository as a
    # second source of the model's Application.
    rc, out, docs = mf.check(ctx.tmp, "kustomize/argocd/example-model-serving-application.yaml")
    assert rc == 0, out
    paths = [s["path"] for s in docs[0]["spec"]["sources"]]
    assert "kustomize/hooks/full" in paths, paths
    assert os.path.isdir(os.path.join(mf.ROOT, "kustomize", "hooks", "full"))


def project_name(objects):
    return mf.by_kind(objects, "AppProject")[0]["metadata"]["name"]


def test_registry_access_binds_the_registry_role_to_both_service_accounts(ctx):
    objects = mf.objects_of(ctx.tmp, mf.build("kustomize/registry-access"))
    rb = mf.by_kind(objects, "RoleBinding")[0]
    assert rb["roleRef"]["kind"] == "Role" and rb["roleRef"]["name"].startswith("registry-user-")
    assert sorted((s["kind"], s["name"], s["namespace"]) for s in rb["subjects"]) == \
        sorted(("ServiceAccount", "llmsweep", f"llmsweep-{o}") for o in mf.OVERLAYS)
    for overlay in mf.OVERLAYS:
        objects, _ = rendered(ctx, overlay)
        # The runs' ServiceAccount has no Role of its own: the steps never call
        # the Kubernetes API. Only `llmsweep trigger`'s is bound, to what it
        # needs (test_trigger.py runs trigger against exactly these rules).
        bindings = mf.by_kind(objects, "RoleBinding")
        assert [b["metadata"]["name"] for b in bindings] == ["llmsweep-trigger"]
        role = mf.named(objects, "Role", "llmsweep-trigger")
        assert role["rules"] == [
            {"apiGroups": ["tekton.dev"], "resources": ["pipelineruns"],
             "verbs": ["create", "get", "list"]},
            {"apiGroups": ["tekton.dev"], "resources": ["pipelines"], "verbs": ["get"]}], \
            role["rules"]


def test_samples_validate_and_name_what_exists(ctx):
    objects, _ = rendered(ctx, "quantized")
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    folder = os.path.join(mf.ROOT, "tekton", "samples")
    files = sorted(os.path.join("tekton", "samples", f) for f in os.listdir(folder))
    rc, out, samples = mf.check(ctx.tmp, *files)
    assert rc == 0 and " 0 errors" in out, out
    assert sorted(s["spec"]["taskRef"]["name"] for s in samples) == \
        sorted(n for k, n in names if k == "Task"), "one sample per Task"
    for s in samples:
        assert s["kind"] == "TaskRun" and s["metadata"]["generateName"]
        assert ("ServiceAccount", s["spec"]["serviceAccountName"]) in names
        assert s["spec"].get("timeout"), "explicit timeout"
