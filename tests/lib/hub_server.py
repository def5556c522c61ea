"""A local imitation of the Hugging Face Hub's file resolver, for fetch-tokenizer tests (stdlib).

    python3 hub_server.py CONFIG.json LOG.jsonl

Prints "listening on http://127.0.0.1:PORT cdn http://127.0.0.1:PORT2" when ready. CONFIG:
    {"token": "hf_...",                       # the one token that has access to gated repos
     "repos": {"org/name": {"commit": "40 hex", "revisions": ["main", "v1"],
                            "files": {"tokenizer.json": "/path/on/disk"},
                            "lfs": ["tokenizer.json"],  # served through a redirect to the CDN port
                            "gated": false},
               "old/name": {"moved_to": "org/name"}}}

Like the Hub: GET /ORG/NAME/resolve/REV/FILE answers 200 with X-Repo-Commit; large (LFS)
files 302 to another origin (the CDN port), where no Authorization header belongs; a renamed
repo answers 307 with a relative Location; missing things answer 404 with X-Error-Code
RepoNotFound / RevisionNotFound / EntryNotFound (401 for an unknown repo when anonymous);
gated repos answer 401 (no token) or 403 (a token without access) with X-Error-Code GatedRepo.
Every request is appended to LOG.jsonl: {"port", "path", "authorization"} where authorization
is "none", "valid" or "invalid" (the token itself is never logged).
"""
import hashlib
import http.server
import json
import sys
import threading
import urllib.parse

CONFIG = json.load(open(sys.argv[1]))
LOG = sys.argv[2]
LOCK = threading.Lock()
BLOBS = {}


def log(port, path, auth):
    with LOCK, open(LOG, "a") as f:
        f.write(json.dumps({"port": port, "path": path, "authorization": auth}) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def auth(self):
        h = self.headers.get("Authorization")
        if not h:
            return "none"
        return "valid" if h == "Bearer " + CONFIG.get("token", "") else "invalid"

    def do_GET(self):
        port = self.server.server_address[1]
        auth = self.auth()
        log(port, self.path, auth)
        if self.server is CDN:
            blob = BLOBS.get(self.path)
            return self.reply(200, blob) if blob is not None else self.reply(404, b"no blob")
        parts = self.path.split("/")
        # ['', org, name, 'resolve', rev, file]
        if len(parts) != 6 or parts[3] != "resolve":
            return self.reply(404, b"not a resolve URL")
        repo_name = parts[1] + "/" + parts[2]
        rev = urllib.parse.unquote(parts[4])
        fname = parts[5]
        repo = CONFIG["repos"].get(repo_name)
        if repo is None:
            status = 404 if auth == "valid" else 401
            return self.reply(status, b'{"error":"Repository not found"}',
                              {"X-Error-Code": "RepoNotFound", "Content-Type": "application/json"})
        if "moved_to" in repo:
            return self.reply(307, b"", {"Location": f"/{repo['moved_to']}/resolve/{parts[4]}/{fname}"})
        if repo.get("gated") and auth != "valid":
            status = 401 if auth == "none" else 403
            return self.reply(status, b'{"error":"Access to this model is restricted"}',
                              {"X-Error-Code": "GatedRepo", "Content-Type": "application/json"})
        if rev not in repo.get("revisions", ["main"]) and rev != repo["commit"]:
            return self.reply(404, b'{"error":"Invalid rev id"}', {"X-Error-Code": "RevisionNotFound"})
        path = repo.get("files", {}).get(fname)
        if path is None:
            return self.reply(404, b'{"error":"Entry not found"}', {"X-Error-Code": "EntryNotFound"})
        with open(path, "rb") as f:
            data = f.read()
        headers = {"X-Repo-Commit": repo["commit"], "ETag": '"%s"' % hashlib.sha1(data).hexdigest()}
        if fname in repo.get("lfs", []):
            key = "/blob/" + hashlib.sha256(data).hexdigest()
            BLOBS[key] = data
            headers["Location"] = f"http://127.0.0.1:{CDN.server_address[1]}{key}"
            return self.reply(302, b"", headers)
        return self.reply(200, data, headers)


HUB = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
CDN = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=CDN.serve_forever, daemon=True).start()
print(f"listening on http://127.0.0.1:{HUB.server_address[1]} cdn http://127.0.0.1:{CDN.server_address[1]}",
      flush=True)
HUB.serve_forever()
