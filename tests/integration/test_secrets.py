"""Secrets audit: every command that takes a credential runs with a recognisable one,
through its success paths, its verbose modes and its failures, including servers that
echo the credential back in their error messages (some gateways do). Afterwards the
credential must not appear in anything llmsweep printed or wrote: stdout, stderr, and
every file under the test's folder except the ones the test itself put the secret in.
The secret is searched for whole, by its first 16 characters, and base64-encoded."""
import base64
import http.server
import json
import os
import secrets
import sys
import threading
import urllib.error
import urllib.request

import manifests
import registry_lib
import results_fixture as rf
from registry_proxy import RegistryProxy

HUB_SERVER = os.path.join(os.path.dirname(__file__), "..", "lib", "hub_server.py")


def new_secret(kind):
    # The "/" makes a difference to servers that escape it in JSON ("\/").
    return f"llmsweep-audit-{kind}-{secrets.token_hex(8)}/{secrets.token_hex(4)}"


class Audit:
    """Collects what a test's commands printed; checks it and the written files."""

    def __init__(self, ctx, *secret_values):
        self.ctx = ctx
        self.secrets = secret_values
        self.secret_dir = ctx.path("secret")
        os.makedirs(self.secret_dir, exist_ok=True)
        self.printed = []
        self.commands = 0

    def secret_file(self, name, value):
        path = os.path.join(self.secret_dir, name)
        with open(path, "w") as f:
            f.write(value + "\n")
        return path

    def llmsweep(self, *args, env=None, ok=(0,), **kw):
        r = self.ctx.llmsweep(*args, env=env, **kw)
        label = "llmsweep " + " ".join(str(a) for a in args)
        assert r.returncode in ok, f"{label}: exit {r.returncode}\n{r.stderr[-3000:]}"
        self.printed.append((label, r.stdout + r.stderr))
        self.commands += 1
        return r

    def forms(self, secret):
        return [secret, secret[:16], base64.b64encode(secret.encode()).decode(),
                base64.b64encode(f"Bearer {secret}".encode()).decode()]

    def check(self):
        assert self.commands > 0
        for label, text in self.printed:
            for s in self.secrets:
                for form in self.forms(s):
                    assert form not in text, f"`{label}` printed a secret ({form!r}):\n{text[-3000:]}"
        scanned = 0
        for folder, dirs, files in os.walk(self.ctx.tmp):
            if os.path.abspath(folder).startswith(os.path.abspath(self.secret_dir)):
                continue
            for name in files:
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    data = f.read()
                scanned += 1
                for s in self.secrets:
                    for form in self.forms(s):
                        assert form.encode() not in data, f"{path} holds a secret ({form!r})"
        return scanned


class LocalServer:
    """A threaded HTTP server on a free loopback port: .url, .stop()."""

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a client that hangs up mid-answer is part of these tests

    def serve(self, handler):
        self.server = self.Server(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """Logs nothing; reply() sends one whole answer; models() lists the audit model."""

    def log_message(self, *args):
        pass

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def models(self):
        self.reply(200, json.dumps({"object": "list", "data": [
            {"id": "llmsweep-mock", "object": "model", "owned_by": "audit"}]}).encode())


class EchoServer(LocalServer):
    """Answers every request with `status` and an error body that repeats the
    request's Authorization header and every header whose value looks like a
    credential: the worst case of a server echoing a credential back. Its JSON
    escapes "/" as PHP's json_encode does, so only a client that redacts the
    escaped form as well as the plain one hides the secret."""

    def __init__(self, status, html=False):
        self.status = status
        self.html = html
        self.seen = []

    def start(self):
        outer = self

        class Handler(QuietHandler):
            def answer(self):
                self.body()
                echoed = " ".join(f"{k}={v}" for k, v in self.headers.items())
                outer.seen.append(echoed)
                if outer.html:
                    page = f"<html><body><h1>Denied</h1><p>{echoed}</p></body></html>"
                    return self.reply(outer.status, page.encode(), "text/html")
                self.reply(outer.status, json.dumps({
                    "error": {"message": f"invalid credentials: {echoed}",
                              "type": "invalid_request_error", "code": "invalid_api_key"},
                    "message": f"not allowed: {echoed}", "code": outer.status,
                    "kind": "Status", "reason": "Unauthorized"}).replace("/", "\\/").encode())

            do_GET = do_POST = do_PATCH = do_PUT = answer

        return self.serve(Handler)


def write_spec(ctx, endpoint, extra=""):
    path = ctx.path("secret-run.yaml")
    with open(path, "w") as f:
        f.write(f"""name: secret-run
model: llmsweep-mock
endpoint: {endpoint}
api: chat
api_key_env: LLMSWEEP_AUDIT_KEY
headers:
  - name: X-Auth-Token
    value: ${{LLMSWEEP_AUDIT_HEADER}}
  - name: X-Tenant
    value: audit
workload:
  prompt_tokens: 16
  output_tokens: 8
load:
  profile: concurrent
  levels: [2]
  duration: 1s
{extra}""")
    return path


def test_run_never_prints_or_writes_the_api_key(ctx):
    key, header = new_secret("apikey"), new_secret("header")
    audit = Audit(ctx, key, header)
    env = {"LLMSWEEP_AUDIT_KEY": key, "LLMSWEEP_AUDIT_HEADER": header}
    mock = ctx.mock_server("--model", "llmsweep-mock", "--faults", "500@20%")
    spec = write_spec(ctx, mock + "/v1")
    audit.llmsweep("validate", spec, env=env)
    audit.llmsweep("run", spec, "--output-dir", ctx.path("out"), env=env)
    assert os.path.exists(ctx.path("out", "benchmarks.json"))
    audit.llmsweep("report", ctx.path("out", "benchmarks.json"), "--html", ctx.path("r.html"),
                   "--csv", ctx.path("r.csv"), env=env)
    # the key from a file instead of the environment
    key_file = audit.secret_file("api-key", key)
    audit.llmsweep("run", spec, "--set", "api_key_env=", "--set", f"api_key_file={key_file}",
                   "--output-dir", ctx.path("out-file"), env=env)

    # servers that echo the credentials back: at the preflight (401 on /v1/models)
    # and on every request (the preflight passes, completions fail)
    for status in (401, 403, 500):
        echo = EchoServer(status).start()
        try:
            audit.llmsweep("run", write_spec(ctx, echo.url + "/v1"), "--output-dir",
                           ctx.path(f"out-echo-{status}"), env=env, ok=(1, 2))
            assert any(key in s for s in echo.seen), "the echo server never got the key"
        finally:
            echo.stop()
    audit.llmsweep("run", write_spec(ctx, mock + "/v1"), "--set", "load.profile=synchronous",
                   "--output-dir", ctx.path("out-sync"), env=env)
    assert audit.check() >= 6


def test_run_results_of_failing_requests_hold_no_echoed_key(ctx):
    """Completions fail with 401s whose messages echo the key (the models list
    passes): the error messages kept in the results must not carry it."""
    key, header = new_secret("apikey"), new_secret("header")
    audit = Audit(ctx, key, header)
    env = {"LLMSWEEP_AUDIT_KEY": key, "LLMSWEEP_AUDIT_HEADER": header}

    echo = EchoServer(401).start()
    try:
        proxy = ModelsProxy(echo.url).start()
        try:
            audit.llmsweep("run", write_spec(ctx, proxy.url + "/v1"), "--output-dir",
                           ctx.path("out"), env=env, ok=(0, 1))
        finally:
            proxy.stop()
    finally:
        echo.stop()
    with open(ctx.path("out", "requests.jsonl")) as f:
        text = f.read()
    # the server's message is kept, with the credentials cut out
    assert "HTTP 401: invalid credentials" in text and "<redacted>" in text, text[:2000]
    audit.check()


class ModelsProxy(LocalServer):
    """/v1/models answers with the audit model; everything else goes to `upstream`."""

    def __init__(self, upstream):
        self.upstream = upstream

    def start(self):
        upstream = self.upstream

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.1"
            do_GET = QuietHandler.models

            def do_POST(self):
                req = urllib.request.Request(upstream + self.path, data=self.body(), method="POST",
                                             headers=dict(self.headers))
                try:
                    with urllib.request.urlopen(req) as resp:
                        status, body = resp.status, resp.read()
                except urllib.error.HTTPError as e:
                    status, body = e.code, e.read()
                self.reply(status, body)

        return self.serve(Handler)


class StreamingErrorServer(LocalServer):
    """Lists the model, then answers completions 200 with an SSE stream whose first
    event repeats the Authorization header: an error event (a gateway's way), or,
    every other request, an event whose JSON is cut after it."""

    def start(self):
        served = []

        class Handler(QuietHandler):
            do_GET = QuietHandler.models

            def do_POST(self):
                self.body()
                auth = self.headers.get("Authorization", "")
                served.append(auth)
                if len(served) % 2:
                    event = json.dumps({"error": {"message": f"Invalid API key: {auth}"}})
                else:
                    event = '{"choices": [{"delta": {"content": "' + auth + '"'  # cut JSON
                self.reply(200, f"data: {event}\n\n".encode(), "text/event-stream")

        return self.serve(Handler)


def test_run_stream_errors_hold_no_echoed_key(ctx):
    """A 200 stream whose error event (or unparsable event) repeats the key."""
    key, header = new_secret("apikey"), new_secret("header")
    audit = Audit(ctx, key, header)
    env = {"LLMSWEEP_AUDIT_KEY": key, "LLMSWEEP_AUDIT_HEADER": header}
    server = StreamingErrorServer().start()
    try:
        audit.llmsweep("run", write_spec(ctx, server.url + "/v1"), "--output-dir",
                       ctx.path("out"), env=env, ok=(0, 1))
    finally:
        server.stop()
    with open(ctx.path("out", "requests.jsonl")) as f:
        text = f.read()
    assert "error event in the stream: Invalid API key: <redacted>" in text, text[:2000]
    assert "invalid JSON in an event: " in text and '"content\\": \\"<redacted>' in text, \
        text[:3000]
    audit.check()


def test_publish_never_prints_or_stores_the_token(ctx):
    token, sa_token = new_secret("registry"), new_secret("serviceaccount")
    audit = Audit(ctx, token, sa_token)
    reg = registry_lib.Registry(ctx.root, ctx.path("registry"))
    reg.up()
    try:
        m = reg.create_model("audit_model")
        v = reg.create_version(m["id"], "v1")
        results = rf.write(ctx.path("run.json"), rf.llmsweep_results("run-audit", rf.sweep()))
        proxy = RegistryProxy(reg.url, token=token).start()
        no_sa = ctx.path("no-serviceaccount")
        os.makedirs(no_sa)
        base_env = {"LLMSWEEP_SERVICEACCOUNT_DIR": no_sa, "LLMSWEEP_REGISTRY_TOKEN": ""}
        args = ["publish", results, "--registry-url", proxy.url, "--model", "audit_model",
                "--version", "v1"]
        try:
            token_file = audit.secret_file("registry-token", token)
            audit.llmsweep(*args, "--token-file", token_file, "-v", env=base_env)
            audit.llmsweep(*args, "--token-env", "AUDIT_TOKEN", "--dry-run", "-v",
                           env=dict(base_env, AUDIT_TOKEN=token))
            audit.llmsweep(*args, env=dict(base_env, LLMSWEEP_REGISTRY_TOKEN=token))
            # the wrong token (the ServiceAccount's): 401, said without the token
            sa = os.path.join(audit.secret_dir, "sa")
            os.makedirs(sa)
            with open(os.path.join(sa, "token"), "w") as f:
                f.write(sa_token)
            audit.llmsweep(*args, "-v", env=dict(base_env, LLMSWEEP_SERVICEACCOUNT_DIR=sa),
                           ok=(1,))
        finally:
            proxy.stop()
        for status, html in ((401, False), (403, False), (500, False), (502, True)):
            echo = EchoServer(status, html=html).start()
            try:
                audit.llmsweep("publish", results, "--registry-url", echo.url, "--model",
                               "audit_model", "--version", "v1", "-v", "--token-file",
                               token_file, "--retries", "2", "--retry-delay", "100ms",
                               env=base_env, ok=(1,), timeout=300)
                assert any(token in s for s in echo.seen), "the echo server never got the token"
            finally:
                echo.stop()
        stored = json.dumps(reg.version(v["id"]))
        assert "run-audit" in stored, "the publish did not reach the registry"
        for form in audit.forms(token):
            assert form not in stored, "the registry holds the token"
    finally:
        reg.down()
    audit.check()


def test_fetch_tokenizer_never_prints_or_caches_the_token(ctx):
    token = new_secret("hf")
    audit = Audit(ctx, token)
    served = ctx.path("served-tokenizer.json")
    with open(served, "w") as f:
        json.dump({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}, f)
    config = os.path.join(audit.secret_dir, "hub.json")  # the server's copy of the token
    with open(config, "w") as f:
        json.dump({"token": token, "repos": {"org/gated": {
            "commit": "0123456789abcdef0123456789abcdef01234567", "gated": True,
            "files": {"tokenizer.json": served}}}}, f)
    log = ctx.path("hub-log.jsonl")
    open(log, "w").close()
    hub = ctx.start([sys.executable, HUB_SERVER, config, log], name="hub")
    endpoint = ctx.wait_for_log(hub, r"listening on (http://\S+) cdn")
    endpoint = endpoint.group(1)
    env = {"HF_ENDPOINT": endpoint, "LLMSWEEP_CACHE": ctx.path("cache"), "HF_TOKEN": token,
           "HF_HUB_OFFLINE": "", "HOME": ctx.path("home"), "HF_HOME": ctx.path("hf-home")}
    audit.llmsweep("fetch-tokenizer", "org/gated", "--out", ctx.path("tok"), env=env)
    token_file = audit.secret_file("hf-token", token)
    audit.llmsweep("fetch-tokenizer", "org/gated", "--out", ctx.path("tok2"),
                   "--token-file", token_file, env=dict(env, HF_TOKEN=""))
    for status in (401, 403, 500):
        echo = EchoServer(status).start()
        try:
            audit.llmsweep("fetch-tokenizer", "org/other", "--out", ctx.path("tok-x"),
                           env=dict(env, HF_ENDPOINT=echo.url), ok=(1, 2))
            assert any(token in s for s in echo.seen), "the echo server never got the token"
        finally:
            echo.stop()
    assert audit.check() >= 1


def test_trigger_never_prints_the_serviceaccount_token(ctx):
    """The Kubernetes API stand-in with the secret as the ServiceAccount token:
    a created run followed to its end, a refused token, and API servers whose
    Status messages echo the token back."""
    token = new_secret("kube")
    audit = Audit(ctx, token)
    rules = [{"apiGroups": ["tekton.dev"], "resources": ["pipelineruns"],
              "verbs": ["create", "get", "list"]},
             {"apiGroups": ["tekton.dev"], "resources": ["pipelines"], "verbs": ["get"]}]
    ca = ctx.make_ca("kubeapi-ca")
    cert = ctx.make_cert(ca, "localhost", name="kubeapi-cert")
    config = os.path.join(audit.secret_dir, "kubeapi.json")  # the server's copy of the token
    with open(config, "w") as f:
        json.dump({"tokens": {token: {"user": "system:serviceaccount:bench:trigger",
                                      "rules": rules}},
                   "pipelines": ["bench/llmsweep"], "pipelineRuns": [],
                   "statuses": [{}, {"conditions": [{"type": "Succeeded", "status": "Unknown",
                                                     "reason": "Running", "message": "1 of 4"}]},
                                {"completionTime": "2026-01-01T01:00:00Z",
                                 "conditions": [{"type": "Succeeded", "status": "True",
                                                 "reason": "Succeeded", "message": "done"}]}],
                   "log": ctx.path("kubeapi.jsonl"),
                   "tlsCert": cert["pem"], "tlsKey": cert["key"]}, f)
    _, tektoncheck = manifests.tools()
    api = ctx.start([tektoncheck, "-kubeapi", config], name="kubeapi")
    port = ctx.wait_for_log(api, r"listening on https://127\.0\.0\.1:(\d+)").group(1)
    token_file = audit.secret_file("token", token)
    args = ["trigger", "--namespace", "bench", "--pipeline", "llmsweep", "--deployment", "audit",
            "--server", f"https://localhost:{port}", "--ca-file", ca["pem"]]
    audit.llmsweep(*args, "--token-file", token_file, "--wait", "--interval", "10ms")
    audit.llmsweep(*args, "--token-file", token_file, "--if-idle")
    wrong = audit.secret_file("wrong-token", new_secret("wrong"))
    audit.secrets = audit.secrets + (open(wrong).read().strip(),)
    audit.llmsweep(*args, "--token-file", wrong, ok=(1,))
    for status in (401, 403, 404, 500):
        echo = EchoServer(status).start()
        try:
            audit.llmsweep("trigger", "--namespace", "bench", "--pipeline", "llmsweep",
                           "--deployment", "audit", "--server", echo.url, "--token-file",
                           token_file, ok=(1,))
            assert any(token in s for s in echo.seen), "the echo server never got the token"
        finally:
            echo.stop()
    audit.check()
