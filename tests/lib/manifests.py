"""The project's Kubernetes manifests as Python objects, for the tests.

kustomize (pinned) renders them; tektoncheck (tests/manifests) validates the
Tekton objects with Tekton's own Go code and converts every YAML document to
JSON, so that tests need no YAML library. Both come from
tests/manifests/build-tools: tools/test exports KUSTOMIZE and TEKTONCHECK
once per run; without them this module runs build-tools itself (cached; a
cold build takes a few minutes).
"""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OVERLAYS = ("quantized", "full")
TEMPLATES = {"quantized": "tekton/pipelinerun-quantized.yaml",
             "full": "tekton/pipelinerun-full.yaml"}


def tools():
    """(kustomize, tektoncheck) paths."""
    k, t = os.environ.get("KUSTOMIZE"), os.environ.get("TEKTONCHECK")
    if not (k and t and os.path.exists(k) and os.path.exists(t)):
        r = subprocess.run([os.path.join(ROOT, "tests", "manifests", "build-tools")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert r.returncode == 0, ("tests/manifests/build-tools failed (it needs go and the Go "
                                   "module proxy the first time):\n" + r.stderr[-3000:])
        found = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
        k, t = found["KUSTOMIZE"], found["TEKTONCHECK"]
        os.environ["KUSTOMIZE"], os.environ["TEKTONCHECK"] = k, t
    return k, t


def kustomize(*args, cwd=None):
    """Runs kustomize; any warning on stderr fails like an error."""
    k, _ = tools()
    r = subprocess.run([k] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, cwd=cwd or ROOT)
    assert r.returncode == 0, f"kustomize {' '.join(args)} failed:\n{r.stderr}"
    assert not r.stderr.strip(), f"kustomize {' '.join(args)} warned:\n{r.stderr}"
    return r.stdout


def build(path):
    """kustomize build of a folder (relative to the repository): YAML text."""
    return kustomize("build", os.path.join(ROOT, path))


def check(tmpdir, *inputs, extra=()):
    """Runs tektoncheck on YAML texts and/or files; returns (rc, output, objects).

    inputs: strings that are YAML (contain a newline) or file paths."""
    _, t = tools()
    files = []
    for i, text in enumerate(inputs):
        if "\n" in text:
            path = os.path.join(tmpdir, f"input-{len(os.listdir(tmpdir))}-{i}.yaml")
            with open(path, "w") as f:
                f.write(text)
            files.append(path)
        else:
            files.append(os.path.join(ROOT, text))
    out = os.path.join(tmpdir, f"objects-{len(os.listdir(tmpdir))}.json")
    r = subprocess.run([t, "-json", out] + list(extra) + files, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    objects = []
    if os.path.exists(out):
        with open(out) as f:
            objects = json.load(f)
    return r.returncode, r.stdout, objects


def objects_of(tmpdir, *inputs):
    """The objects of YAML texts/files, asserting tektoncheck finds no problem."""
    rc, out, objects = check(tmpdir, *inputs)
    assert rc == 0 and " 0 errors" in out, f"tektoncheck found problems:\n{out}"
    return objects


def template(tmpdir, overlay):
    """The PipelineRun template of an overlay, as an object (checked alone:
    its Pipeline is not in the file)."""
    rc, out, objects = check(tmpdir, TEMPLATES[overlay], extra=["-no-crossref"])
    assert rc == 0 and " 0 errors" in out and len(objects) == 1, out
    return objects[0]


def by_kind(objects, kind):
    return [o for o in objects if o.get("kind") == kind]


def named(objects, kind, name):
    found = [o for o in objects if o.get("kind") == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name}: found {len(found)}"
    return found[0]


def binary_version():
    """The version build.zig gives the binary."""
    with open(os.path.join(ROOT, "build.zig")) as f:
        for line in f:
            if line.startswith("const llmsweep_version = "):
                return line.split('"')[1]
    raise AssertionError("build.zig has no llmsweep_version")
