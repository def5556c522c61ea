#!/usr/bin/env python3
"""Create a PipelineRun from a template, unless one of the same deployment runs.

    start-pipelinerun.py --template FILE --selector KEY=VALUE [--namespace NS]

The CronJob of kustomize/components/schedule runs this. A CronJob's
concurrencyPolicy: Forbid only stops overlapping Jobs; the PipelineRun a Job
creates outlives the Job, so a slow benchmark would otherwise get a second
one started next to it on the same server (and both would measure each other).

1. List the PipelineRuns in the namespace that match --selector. If one has
   no status.completionTime (pending, running, or cancelling), create nothing
   and exit 0: the schedule is doing its job.
2. Create the template with dryRun=All and check that the object the API
   server would store carries every label of --selector; otherwise step 1
   could never see it, and the overlap check would be silently void (exit 2).
3. Create it for real and print its name.

The template is sent as YAML, byte for byte (the API server parses it); no
value from it or from the arguments ever reaches a shell. Authentication is
the pod's ServiceAccount token, read from the mounted file; the API server is
the in-cluster one (KUBERNETES_SERVICE_HOST/PORT) unless --api-url is given.
Python 3.9+ standard library only.

Exit codes: 0 created, or skipped because a run is in progress; 1 the API
server refused or could not be reached; 2 bad arguments, template or labels.
"""
import argparse
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

SERVICEACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
PIPELINERUNS = "/apis/tekton.dev/v1/namespaces/{ns}/pipelineruns"
TIMEOUT_S = 30


class Failure(Exception):
    """A problem worth one line on stderr; .code is the exit code."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def parse_selector(text):
    """'a=b,c=d' -> {'a': 'b', 'c': 'd'} (equality selectors only)."""
    labels = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or "!" in key or not value:
            raise Failure(f"--selector: '{part}' is not KEY=VALUE (e.g. llmsweep/deployment=NAME)", 2)
        labels[key] = value
    return labels


class Api:
    def __init__(self, url, sa_dir, namespace):
        self.url = url.rstrip("/")
        self.sa_dir = sa_dir
        self.namespace = namespace or read_text(os.path.join(sa_dir, "namespace"), "namespace")
        self.context = None
        if self.url.startswith("https://"):
            ca = os.path.join(sa_dir, "ca.crt")
            self.context = ssl.create_default_context(cafile=ca if os.path.exists(ca) else None)

    def request(self, method, path, query=None, body=None, content_type=None):
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        # The token is rotated by the kubelet: read it for every request.
        token = read_text(os.path.join(self.sa_dir, "token"), "ServiceAccount token")
        headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S, context=self.context) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as e:
            raise Failure(f"{method} {path}: HTTP {e.code}: {api_message(e)}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise Failure(f"{method} {path}: cannot reach the API server {self.url}: {reason}") from None
        except ValueError:
            raise Failure(f"{method} {path}: the answer is not JSON") from None

    def pipelineruns(self):
        return PIPELINERUNS.format(ns=urllib.parse.quote(self.namespace, safe=""))


def read_text(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError as e:
        raise Failure(f"cannot read the {what} from {path}: {e.strerror}") from None


def api_message(err):
    """The message of a Kubernetes Status body, else the start of the body."""
    try:
        body = err.read().decode("utf-8", "replace")
    except OSError:
        return err.reason
    try:
        status = json.loads(body)
        if isinstance(status, dict) and status.get("message"):
            return status["message"]
    except ValueError:
        pass
    return " ".join(body.split())[:200] or err.reason


def running(items):
    """Names of the PipelineRuns that have not finished."""
    names = []
    for item in items:
        if not (item.get("status") or {}).get("completionTime"):
            names.append(item.get("metadata", {}).get("name", "?"))
    return names


def start(api, template, labels):
    selector = ",".join(f"{k}={v}" for k, v in labels.items())
    listed = api.request("GET", api.pipelineruns(), {"labelSelector": selector})
    busy = running(listed.get("items") or [])
    if busy:
        print(f"not starting: {', '.join(sorted(busy))} ({selector}) has not finished "
              f"in namespace {api.namespace}")
        return None
    trial = api.request("POST", api.pipelineruns(), {"dryRun": "All"}, template,
                        "application/yaml")
    if trial.get("kind") != "PipelineRun":
        raise Failure(f"the template is a {trial.get('kind')}, not a PipelineRun", 2)
    have = trial.get("metadata", {}).get("labels") or {}
    missing = [f"{k}={v}" for k, v in labels.items() if have.get(k) != v]
    if missing:
        raise Failure(f"the template's PipelineRun lacks the label(s) {', '.join(missing)}: "
                      "add them to its metadata.labels, or runs would overlap unnoticed", 2)
    created = api.request("POST", api.pipelineruns(), None, template, "application/yaml")
    name = created.get("metadata", {}).get("name", "?")
    print(f"created PipelineRun {name} in namespace {api.namespace}")
    return name


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Create a PipelineRun from a template unless one of the same deployment "
                    "has not finished.")
    parser.add_argument("--template", required=True, help="the PipelineRun template (YAML)")
    parser.add_argument("--selector", required=True,
                        help="labels that identify the deployment's runs, KEY=VALUE[,KEY=VALUE]")
    parser.add_argument("--namespace", help="default: the pod's own namespace")
    parser.add_argument("--api-url", help="default: the in-cluster API server")
    args = parser.parse_args(argv)
    try:
        labels = parse_selector(args.selector)
        try:
            with open(args.template, "rb") as f:
                template = f.read()
        except OSError as e:
            raise Failure(f"cannot read the template {args.template}: {e.strerror}", 2) from None
        url = args.api_url
        if not url:
            host = os.environ.get("KUBERNETES_SERVICE_HOST")
            port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
            if not host:
                raise Failure("not in a pod (no KUBERNETES_SERVICE_HOST): pass --api-url", 2)
            url = f"https://{'[' + host + ']' if ':' in host else host}:{port}"
        sa_dir = os.environ.get("LLMSWEEP_SERVICEACCOUNT_DIR") or SERVICEACCOUNT_DIR
        start(Api(url, sa_dir, args.namespace), template, labels)
        return 0
    except Failure as e:
        print(f"start-pipelinerun: error: {e}", file=sys.stderr)
        return e.code


if __name__ == "__main__":
    sys.exit(main())
