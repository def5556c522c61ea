"""The real Kubeflow Model Registry for integration tests (stdlib only).

    reg = Registry(root, workdir).up()        # tests/registry/registry-up
    m = reg.create_model("llm_a")             # REST, as a user would
    v = reg.create_version(m["id"], "v1", description="text")
    reg.version(v["id"])                      # GET /model_versions/{id}
    reg.restart_server(down_seconds=1.5)      # same port, same database
    reg.down()

`pyclient_read(...)` reads a version back through the official Python client
(PyPI model-registry, in the venv tools/peers/model-registry-env makes), so
tests see the values as Python types, the way a data scientist would.
"""
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import peers

API = "/api/model_registry/v1alpha3"


class Registry:
    def __init__(self, root, workdir):
        self.root = root
        self.workdir = workdir
        self.url = None
        self.env = {}

    def up(self):
        script = os.path.join(self.root, "tests", "registry", "registry-up")
        r = subprocess.run([script, self.workdir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=900)
        if r.returncode != 0:
            raise AssertionError(f"registry-up failed (exit {r.returncode}):\n{r.stderr[-3000:]}")
        self.env = peers.parse_env(r.stdout)
        self.url = self.env["REGISTRY_URL"]
        return self

    def down(self):
        script = os.path.join(self.root, "tests", "registry", "registry-down")
        subprocess.run([script, self.workdir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)

    # --- REST, independent of llmsweep ----------------------------------------
    def api(self, method, path, body=None, base=None):
        """(status, parsed JSON or text) of one request to the API."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request((base or self.url) + API + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def ok(self, method, path, body=None):
        status, out = self.api(method, path, body)
        assert 200 <= status < 300, f"{method} {path} -> {status}: {out}"
        return out

    def create_model(self, name, **fields):
        return self.ok("POST", "/registered_models", {"name": name, **fields})

    def create_version(self, model_id, name, **fields):
        return self.ok("POST", "/model_versions",
                       {"name": name, "registeredModelId": model_id, **fields})

    def version(self, version_id):
        return self.ok("GET", f"/model_versions/{version_id}")

    def patch_version(self, version_id, body):
        return self.ok("PATCH", f"/model_versions/{version_id}", body)

    # --- restarts ---------------------------------------------------------------
    def _server_pid(self):
        with open(os.path.join(self.workdir, "registry.pids")) as f:
            pids = [line.split("=", 1)[1].strip() for line in f
                    if line.startswith("REGISTRY_PID=")]
        for pid in reversed(pids):
            if os.path.exists(f"/proc/{pid}"):
                return int(pid)
        raise AssertionError("no running model-registry pid in registry.pids")

    def stop_server(self):
        """Stops the server process (MariaDB keeps running); returns its argv."""
        pid = self._server_pid()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode() for a in f.read().split(b"\0") if a]
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
            except OSError:
                break
            time.sleep(0.05)
        return argv

    def start_server(self, argv):
        """Starts the server again with the same argv (same port, same database)."""
        log = open(os.path.join(self.workdir, "model-registry.log"), "a")
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        with open(os.path.join(self.workdir, "registry.pids"), "a") as f:
            f.write(f"REGISTRY_PID={proc.pid}\n")  # so registry-down stops it too
        return proc

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.api("GET", "/registered_models?pageSize=1")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the registry at {self.url} is not ready after {timeout}s")


PYCLIENT_READ = r"""
import json, sys, warnings
from urllib.parse import urlsplit
from model_registry import ModelRegistry
url, model, version = sys.argv[1:4]
u = urlsplit(url)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    mr = ModelRegistry(f"{u.scheme}://{u.hostname}", u.port, author="llmsweep-tests",
                       is_secure=False)
mv = mr.get_model_version(model, version)
props = {k: [type(v).__name__, v] for k, v in (mv.custom_properties or {}).items()}
print(json.dumps({"id": mv.id, "name": mv.name, "description": mv.description,
                  "custom_properties": props}))
"""


def pyclient_read(root, url, model, version):
    """The version as the official Python client sees it:
    {"description": ..., "custom_properties": {key: [python type name, value]}}."""
    env = peers.peer_env(root, "model-registry-env", "the Model Registry Python client")
    r = subprocess.run([env["MR_PYCLIENT_PYTHON"], "-c", PYCLIENT_READ, url, model, version],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 0, f"the Python client failed:\n{r.stderr[-3000:]}"
    return json.loads(r.stdout)
