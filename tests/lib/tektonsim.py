"""Run a Tekton Pipeline's steps on this machine, the way a cluster would.

The llmsweep image holds one static binary, so a step is a process: this
module executes the rendered Pipeline's tasks in Pipeline order, each Task's
steps with the exact command and args Tekton would give the container after
its variable substitution, and reports what Tekton would report. It exists
to prove that the manifests and the binary fit together without a cluster.

What it emulates, following Tekton v1 (pipeline v1.15):
- params: Pipeline defaults and PipelineRun values (string and array; an
  array's "$(params.a[*])" only as a whole list element), Task defaults;
- $(params.x), $(params.x[*]), $(workspaces.x.path), $(workspaces.x.bound),
  $(results.x.path), $(tasks.t.results.r), $(tasks.t.status), and
  $(context.pipelineRun.name) / $(context.taskRun.name);
- when expressions (in / notin) on tasks and finally tasks, with Tekton's
  rules: a task skipped by `when` does not stop its dependents, a task whose
  parent failed is not run, a task consuming a missing result is skipped;
- workspaces as the host folders the caller gives for every binding
  (subPath included), optional ones unbound; emptyDir volumes; the container
  filesystem by rewriting every path argument under a mount point (the
  workspace mountPaths, /tekton/results, volume mounts) to its host folder,
  and the image's command to the host binary;
- env: only what the step declares (stepTemplate merged), with
  secretKeyRef/configMapKeyRef resolved from given Secrets/ConfigMaps
  (optional ones may be missing); the pod's ServiceAccount files through
  $LLMSWEEP_SERVICEACCOUNT_DIR, which the binary honours;
- retries, per-task timeouts, Task results (4096 bytes at most per TaskRun,
  as with Tekton's termination-message results), Pipeline results.

Not emulated: parallel tasks (tasks run one at a time, in a valid order),
sidecars, resolvers, matrix, StepActions, resource limits.
"""
import os
import re
import subprocess
import time

RESULTS_MOUNT = "/tekton/results"
MAX_RESULT_BYTES = 4096
VAR = re.compile(r"\$\(([^()]+)\)")


class SimError(Exception):
    """The manifests could not run (what Tekton would reject)."""


def step_env_list(template, step):
    """Env of a step merged over the stepTemplate's (a step's entry wins by name)."""
    merged = {e["name"]: e for e in (template or {}).get("env", [])}
    for e in step.get("env", []):
        merged[e["name"]] = e
    return list(merged.values())


def merge_step(template, step):
    out = dict(template or {})
    out.update(step)
    out["env"] = step_env_list(template, step)
    mounts = {m["mountPath"]: m for m in (template or {}).get("volumeMounts", [])}
    for m in step.get("volumeMounts", []):
        mounts[m["mountPath"]] = m
    out["volumeMounts"] = list(mounts.values())
    sc = dict((template or {}).get("securityContext") or {})
    sc.update(step.get("securityContext") or {})
    out["securityContext"] = sc
    return out


def substitute(text, strings):
    """Replaces every $(...) whose key is known; unknown ones stay (as Tekton does)."""
    return VAR.sub(lambda m: strings.get(m.group(1), m.group(0)), text)


def substitute_list(items, strings, arrays):
    """A list of args: "$(params.a[*])" alone expands to the array's elements."""
    out = []
    for item in items:
        m = re.fullmatch(r"\$\(([^()]+)\[\*\]\)", item)
        if m and m.group(1) in arrays:
            out.extend(arrays[m.group(1)])
        else:
            out.append(substitute(item, strings))
    return out


def when_passes(whens, strings, arrays):
    for w in whens or []:
        if "cel" in w:
            raise SimError("CEL when expressions are not emulated")
        value = substitute(w.get("input", ""), strings)
        values = substitute_list(w["values"], strings, arrays)
        hit = value in values
        if (w["operator"] == "in") != hit:
            return False, f"when {w.get('input')!r} {w['operator']} {w['values']} ({value!r})"
    return True, ""


def dependencies(ptask):
    """Names of the tasks ptask runs after: runAfter and result references."""
    deps = set(ptask.get("runAfter", []))
    text = repr(ptask.get("params", [])) + repr(ptask.get("when", []))
    deps.update(re.findall(r"\$\(tasks\.([a-z0-9-]+)\.results\.", text))
    return deps


class TaskOutcome:
    def __init__(self, name):
        self.name = name
        self.status = "None"  # Succeeded | Failed | None (not run)
        self.reason = ""
        self.results = {}
        self.steps = []       # (step name, argv, exit code, log path)
        self.attempts = 0


class PipelineOutcome:
    def __init__(self):
        self.tasks = {}       # name -> TaskOutcome, in execution order
        self.results = {}
        self.status = "Succeeded"
        self.reason = ""

    def __repr__(self):
        lines = [f"PipelineRun {self.status} {self.reason}".rstrip()]
        for t in self.tasks.values():
            lines.append(f"  {t.name}: {t.status} {t.reason}".rstrip())
            for name, argv, rc, log in t.steps:
                lines.append(f"    step {name}: exit {rc}: {' '.join(argv)}")
                if rc != 0 and log and os.path.exists(log):
                    with open(log, errors="replace") as f:
                        tail = f.read().splitlines()[-15:]
                    lines.extend("      | " + line for line in tail)
        return "\n".join(lines)


class Simulator:
    """objects: the rendered Tasks and Pipelines (dicts, as kustomize emits them).
    images: image reference -> {command path in the image: host executable}."""

    def __init__(self, objects, images, workdir, serviceaccount_dir=None,
                 secrets=None, configmaps=None):
        self.tasks = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Task"}
        self.pipelines = {o["metadata"]["name"]: o for o in objects if o.get("kind") == "Pipeline"}
        self.images = images
        self.workdir = workdir
        self.sa_dir = serviceaccount_dir
        self.secrets = secrets or {}
        self.configmaps = configmaps or {}
        self.counter = 0

    # --- the PipelineRun ------------------------------------------------------
    def run(self, pipelinerun, workspace_dirs):
        """pipelinerun: the PipelineRun dict (its params, workspaces, timeouts are
        used); workspace_dirs: pipeline workspace name -> host folder for each
        binding the PipelineRun makes (volumeClaimTemplate, emptyDir, configMap...)."""
        spec = pipelinerun["spec"]
        pipeline = self.pipelines.get(spec["pipelineRef"]["name"])
        if pipeline is None:
            raise SimError(f"Pipeline {spec['pipelineRef']['name']} is not in the manifests")
        pspec = pipeline["spec"]
        name = pipelinerun["metadata"].get("name") or \
            pipelinerun["metadata"]["generateName"] + "sim00"
        strings, arrays = self.pipeline_params(pspec, spec.get("params", []))
        strings["context.pipelineRun.name"] = name
        bound = {}  # pipeline workspace name -> host folder
        for ws in pspec.get("workspaces", []):
            binding = next((b for b in spec.get("workspaces", []) if b["name"] == ws["name"]), None)
            if binding is None:
                if not ws.get("optional"):
                    raise SimError(f"required workspace {ws['name']} is not bound")
                continue
            if ws["name"] not in workspace_dirs:
                raise SimError(f"no host folder given for workspace {ws['name']}")
            bound[ws["name"]] = workspace_dirs[ws["name"]]
        outcome = PipelineOutcome()
        order = self.order(pspec.get("tasks", []))
        stopping = False
        for ptask in order:
            t = TaskOutcome(ptask["name"])
            outcome.tasks[t.name] = t
            deps = dependencies(ptask)
            failed_parent = [d for d in deps if outcome.tasks[d].status == "Failed"
                             or outcome.tasks[d].reason.startswith("parent")]
            if stopping or failed_parent:
                t.reason = "parent failed: " + ", ".join(sorted(failed_parent)) \
                    if failed_parent else "PipelineRun stopping"
                continue
            self.run_task(ptask, t, outcome, strings, arrays, bound, finally_=False)
            if t.status == "Failed":
                stopping = True
        for ptask in pspec.get("finally", []):
            t = TaskOutcome(ptask["name"])
            outcome.tasks[t.name] = t
            self.run_task(ptask, t, outcome, strings, arrays, bound, finally_=True)
        failed = [t.name for t in outcome.tasks.values() if t.status == "Failed"]
        if failed:
            outcome.status = "Failed"
            outcome.reason = "failed: " + ", ".join(failed)
        refs = self.task_refs(outcome, strings)
        for r in pspec.get("results", []):
            text = substitute(r["value"], refs)
            if "$(tasks." not in text:
                outcome.results[r["name"]] = text
        return outcome

    def run_taskrun(self, taskrun, workspace_dirs):
        """A TaskRun, as the one task of a Pipeline that passes everything on."""
        spec = taskrun["spec"]
        pparams, tparams = [], []
        for p in spec.get("params", []):
            array = isinstance(p["value"], list)
            pparams.append({"name": p["name"], "type": "array" if array else "string"})
            tparams.append({"name": p["name"], "value": [f"$(params.{p['name']}[*])"] if array
                            else f"$(params.{p['name']})"})
        names = [w["name"] for w in spec.get("workspaces", [])]
        pipeline = {"kind": "Pipeline", "metadata": {"name": "taskrun"}, "spec": {
            "params": pparams, "workspaces": [{"name": n} for n in names],
            "tasks": [{"name": "taskrun", "taskRef": spec["taskRef"], "params": tparams,
                       "timeout": spec.get("timeout", "1h"),
                       "workspaces": [{"name": n, "workspace": n} for n in names]}]}}
        self.pipelines["taskrun"] = pipeline
        pr = {"metadata": taskrun["metadata"], "spec": {
            "pipelineRef": {"name": "taskrun"}, "params": spec.get("params", []),
            "workspaces": spec.get("workspaces", [])}}
        try:
            return self.run(pr, workspace_dirs).tasks["taskrun"]
        finally:
            del self.pipelines["taskrun"]

    def pipeline_params(self, pspec, given):
        values = {p["name"]: p["value"] for p in given}
        return resolve_params(pspec.get("params", []), values, "PipelineRun")

    def order(self, ptasks):
        done, out, pending = set(), [], list(ptasks)
        while pending:
            ready = [p for p in pending if dependencies(p) <= done]
            if not ready:
                raise SimError("the Pipeline's tasks have a cycle or an unknown dependency")
            for p in ready:
                out.append(p)
                done.add(p["name"])
                pending.remove(p)
        return out

    def task_refs(self, outcome, base):
        refs = dict(base)
        for t in outcome.tasks.values():
            refs[f"tasks.{t.name}.status"] = t.status
            for k, v in t.results.items():
                refs[f"tasks.{t.name}.results.{k}"] = v
        refs["tasks.status"] = "Failed" if any(
            t.status == "Failed" for t in outcome.tasks.values()) else "Succeeded"
        return refs

    # --- one TaskRun ------------------------------------------------------------
    def run_task(self, ptask, t, outcome, pstrings, parrays, bound, finally_):
        refs = self.task_refs(outcome, pstrings)
        text = repr(ptask.get("params", [])) + repr(ptask.get("when", []))
        for ref in re.findall(r"\$\((tasks\.[a-z0-9-]+\.results\.[a-z0-9_.-]+)\)", text):
            if ref not in refs:
                t.reason = f"skipped: result {ref} is missing"
                return
        if not finally_ and re.search(r"\$\(tasks\.([a-z0-9-]+\.)?status\)", text):
            raise SimError(f"{ptask['name']}: $(tasks.X.status) is only allowed in finally")
        ok, why = when_passes(ptask.get("when"), refs, parrays)
        if not ok:
            t.reason = "skipped: " + why
            return
        task = self.tasks.get(ptask.get("taskRef", {}).get("name"))
        if task is None:
            raise SimError(f"{ptask['name']}: Task {ptask.get('taskRef')} is not in the manifests")
        values = {}
        for p in ptask.get("params", []):
            v = p["value"]
            values[p["name"]] = (substitute_list(v, refs, parrays) if isinstance(v, list)
                                 else substitute(v, refs))
        tstrings, tarrays = resolve_params(task["spec"].get("params", []), values, ptask["name"])
        retries = ptask.get("retries", 0)
        timeout = parse_duration(ptask.get("timeout", "1h"))
        while True:
            t.attempts += 1
            self.run_steps(ptask, task, t, tstrings, tarrays, bound, timeout)
            if t.status == "Succeeded" or t.attempts > retries:
                return

    def run_steps(self, ptask, task, t, tstrings, tarrays, bound, timeout):
        self.counter += 1
        run_dir = os.path.join(self.workdir, f"{self.counter:02d}-{ptask['name']}")
        os.makedirs(run_dir)
        spec = task["spec"]
        strings = dict(tstrings)
        strings["context.taskRun.name"] = f"{ptask['name']}-sim{self.counter}"
        mounts = {}  # container path -> host path
        results_dir = os.path.join(run_dir, "results")
        os.makedirs(results_dir)
        mounts[RESULTS_MOUNT] = results_dir
        for r in spec.get("results", []):
            strings[f"results.{r['name']}.path"] = f"{RESULTS_MOUNT}/{r['name']}"
        bindings = {b["name"]: b for b in ptask.get("workspaces", [])}
        for ws in spec.get("workspaces", []):
            b = bindings.get(ws["name"])
            host = None
            if b is not None and b["workspace"] in bound:
                host = bound[b["workspace"]]
                if b.get("subPath"):
                    host = os.path.join(host, b["subPath"])
                    os.makedirs(host, exist_ok=True)
            elif b is not None and not ws.get("optional"):
                raise SimError(f"{ptask['name']}: required workspace {ws['name']} is bound to "
                               f"pipeline workspace {b['workspace']}, which is not bound")
            elif b is None and not ws.get("optional"):
                raise SimError(f"{ptask['name']}: required workspace {ws['name']} is not bound")
            path = ws.get("mountPath") or f"/workspace/{ws['name']}"
            if not path.startswith("/"):
                path = "/workspace/" + path
            strings[f"workspaces.{ws['name']}.bound"] = "true" if host else "false"
            strings[f"workspaces.{ws['name']}.path"] = path if host else ""
            strings[f"workspaces.{ws['name']}.claim"] = ""
            strings[f"workspaces.{ws['name']}.volume"] = ws["name"] if host else ""
            if host:
                mounts[path] = host
        volumes = {}
        for v in spec.get("volumes", []):
            if "emptyDir" not in v:
                raise SimError(f"{ptask['name']}: volume {v['name']}: only emptyDir is emulated")
            volumes[v["name"]] = os.path.join(run_dir, "volume-" + v["name"])
            os.makedirs(volumes[v["name"]])
        scratch = os.path.join(run_dir, "workspace")  # Tekton's default working dir
        os.makedirs(scratch)
        mounts.setdefault("/workspace", scratch)
        t.status = "Succeeded"
        t.reason = ""
        template = spec.get("stepTemplate")
        deadline = time.monotonic() + timeout
        for index, raw in enumerate(spec["steps"]):
            step = merge_step(template, raw)
            if "script" in step:
                raise SimError(f"{ptask['name']}: step {step.get('name')} has a script")
            if step.get("when"):
                ok, why = when_passes(step["when"], strings, tarrays)
                if not ok:
                    continue
            step_mounts = dict(mounts)
            for m in step.get("volumeMounts", []):
                if m["name"] not in volumes:
                    raise SimError(f"{ptask['name']}: volumeMount of unknown volume {m['name']}")
                step_mounts[substitute(m["mountPath"], strings)] = volumes[m["name"]]
            image = substitute(step["image"], strings)
            programs = self.images.get(image)
            if programs is None:
                raise SimError(f"{ptask['name']}: no host program for image {image}")
            command = substitute_list(step.get("command", []), strings, tarrays)
            args = substitute_list(step.get("args", []), strings, tarrays)
            if not command or command[0] not in programs:
                raise SimError(f"{ptask['name']}: command {command[:1]} is not in image {image}")
            argv = [programs[command[0]]] + [host_path(a, step_mounts) for a in command[1:] + args]
            env = {}
            for e in step.get("env", []):
                value = self.env_value(e, strings, ptask["name"])
                if value is not None:
                    env[e["name"]] = host_path(value, step_mounts)
            if self.sa_dir:
                env["LLMSWEEP_SERVICEACCOUNT_DIR"] = self.sa_dir
            cwd = substitute(step.get("workingDir", ""), strings) or "/workspace"
            cwd = host_path(cwd, step_mounts)
            log = os.path.join(run_dir, f"step-{index}-{step.get('name', index)}.log")
            left = deadline - time.monotonic()
            with open(log, "w") as out:
                out.write("$ " + " ".join(argv) + "\n")
                out.flush()
                try:
                    rc = subprocess.run(argv, env=env, cwd=cwd, stdout=out,
                                        stderr=subprocess.STDOUT, timeout=max(left, 1)).returncode
                except subprocess.TimeoutExpired:
                    rc = -1
                    t.reason = f"timed out after {ptask.get('timeout')}"
            t.steps.append((step.get("name", str(index)), command + args, rc, log))
            if rc != 0:
                t.status = "Failed"
                t.reason = t.reason or f"step {step.get('name', index)} exited with {rc}"
                break
        total = 0
        for r in spec.get("results", []):
            p = os.path.join(results_dir, r["name"])
            if os.path.exists(p):
                with open(p) as f:
                    t.results[r["name"]] = f.read()
                total += len(t.results[r["name"]].encode()) + len(r["name"])
        if total > MAX_RESULT_BYTES:
            t.status = "Failed"
            t.reason = f"results are {total} bytes, over Tekton's {MAX_RESULT_BYTES}"

    def env_value(self, e, strings, where):
        if "value" in e:
            return substitute(e["value"], strings)
        source = e.get("valueFrom", {})
        for kind, store in (("secretKeyRef", self.secrets), ("configMapKeyRef", self.configmaps)):
            if kind in source:
                ref = source[kind]
                name = substitute(ref["name"], strings)
                key = substitute(ref["key"], strings)
                if name in store and key in store[name]:
                    return store[name][key]
                if ref.get("optional"):
                    return None
                raise SimError(f"{where}: {kind} {name}/{key} does not exist and is not optional")
        raise SimError(f"{where}: env {e['name']}: unsupported valueFrom {source}")


def resolve_params(declared, values, where):
    """(strings, arrays) keyed "params.NAME": given values, else defaults; a
    missing value, a type mismatch or an undeclared value is an error."""
    strings, arrays, values = {}, {}, dict(values)
    for p in declared:
        ptype = p.get("type", "string")
        if p["name"] in values:
            v = values.pop(p["name"])
        elif "default" in p:
            v = p["default"]
        else:
            raise SimError(f"{where}: param {p['name']} has no value and no default")
        if (ptype == "array") != isinstance(v, list):
            raise SimError(f"{where}: param {p['name']}: {ptype} expected, got {v!r}")
        if ptype == "array":
            arrays["params." + p["name"]] = list(v)
        else:
            strings["params." + p["name"]] = v
    if values:
        raise SimError(f"{where}: passes undeclared params {sorted(values)}")
    return strings, arrays


def host_path(text, mounts):
    """Rewrites a container path (or an argument that is one) to the host folder."""
    for mount in sorted(mounts, key=len, reverse=True):
        if text == mount or text.startswith(mount.rstrip("/") + "/"):
            return mounts[mount] + text[len(mount.rstrip("/")):]
    return text


def parse_duration(text):
    total, rest = 0.0, text
    for value, unit in re.findall(r"(\d+(?:\.\d+)?)(h|m|s)", text):
        total += float(value) * {"h": 3600, "m": 60, "s": 1}[unit]
        rest = rest.replace(value + unit, "", 1)
    if rest.strip() or not text:
        raise SimError(f"cannot read the duration {text!r}")
    return total
