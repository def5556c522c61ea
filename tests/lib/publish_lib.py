"""What the `publish` tests share: one real registry (started on first use,
stopped when the pass of tests/run.py ends), running `llmsweep publish` with no
ambient token, results fixtures, and reading typed customProperties and
description blocks back.

    reg = registry(ctx)                     # the module's shared registry
    m, v = setup_version(reg, "model", "v1", "text", OTHER_PROPS)
    ok(publish(ctx, reg.url, sweep_file(ctx, "run-1"), "model", "v1"))
    check_double(reg.version(v["id"]), "benchmark_throughput", 1250.5)
"""
import os
import re
import shutil
import tempfile

import registry_lib
import testlib
import results_fixture as rf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

def registry(ctx, name="shared"):
    """The shared registry (started on first use, stopped when the pass ends:
    the sanitizer pass creates the same names again, on a fresh one)."""
    def start():
        workdir = tempfile.mkdtemp(prefix=f"llmsweep-mr-{name}-")
        reg = registry_lib.Registry(ROOT, workdir)
        reg.workdir = workdir
        reg.up()
        return reg

    def stop(reg):
        reg.down()
        shutil.rmtree(reg.workdir, ignore_errors=True)

    return testlib.shared("registry-" + name, start, stop)


def publish(ctx, url, results, model, version, *extra, env=None, timeout=180):
    """Runs `llmsweep publish` with no ambient token: tests choose the token."""
    no_sa = ctx.path("no-serviceaccount")
    os.makedirs(no_sa, exist_ok=True)
    full_env = {"LLMSWEEP_SERVICEACCOUNT_DIR": no_sa, "LLMSWEEP_REGISTRY_TOKEN": ""}
    full_env.update(env or {})
    return ctx.llmsweep("publish", results, "--registry-url", url, "--model", model,
                        "--version", version, *extra, env=full_env, timeout=timeout)


def sweep_file(ctx, run_id="run-1", name=None, **kw):
    doc = rf.llmsweep_results(run_id, kw.pop("levels", None) or rf.sweep(), **kw)
    return rf.write(ctx.path(name or f"{run_id}.json"), doc)


def prop(version, key):
    """(metadataType, value) of a customProperty as REST returns it."""
    v = version["customProperties"].get(key)
    assert v is not None, f"customProperties has no {key}: {sorted(version['customProperties'])}"
    t = v["metadataType"]
    field = {"MetadataDoubleValue": "double_value", "MetadataIntValue": "int_value",
             "MetadataStringValue": "string_value", "MetadataBoolValue": "bool_value"}[t]
    return t, v[field]


def check_double(version, key, expected, rel=1e-5):
    t, value = prop(version, key)
    assert t == "MetadataDoubleValue", f"{key} is {t}"
    assert abs(value - expected) <= rel * abs(expected), f"{key} = {value}, expected {expected}"


def check_int(version, key, expected):
    t, value = prop(version, key)
    assert t == "MetadataIntValue", f"{key} is {t}"
    assert value == str(expected), f"{key} = {value!r}, expected {expected}"


def check_string(version, key, expected):
    t, value = prop(version, key)
    assert t == "MetadataStringValue", f"{key} is {t}"
    assert value == expected, f"{key} = {value!r}, expected {expected!r}"


def blocks(description, key=None):
    pattern = r"\[llmsweep benchmark ([^\]\n]+)\]"
    found = re.findall(pattern, description or "")
    return [k for k in found if key is None or k == key]


def ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


def fails(r, code=1):
    assert r.returncode == code, \
        f"exit {r.returncode}, expected {code}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    return r


def setup_version(reg, model, version, description="", props=None):
    m = reg.create_model(model)
    fields = {"description": description} if description else {}
    if props:
        fields["customProperties"] = props
    v = reg.create_version(m["id"], version, **fields)
    return m, v


OTHER_PROPS = {
    "owner_team": {"metadataType": "MetadataStringValue", "string_value": "inference-platform"},
    "accuracy": {"metadataType": "MetadataDoubleValue", "double_value": 0.913},
    "approved": {"metadataType": "MetadataBoolValue", "bool_value": True},
}
