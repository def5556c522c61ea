"""A test proxy in front of the real Model Registry (stdlib only).

It forwards every request to the real server and can add, one at a time or
together, what the real v0.2.22 server here does not do but others do:

  like=True      the documented lookup of other server versions (DESIGN.md
                 section 8): `GET /registered_model?name=P` and
                 `GET /model_version?name=P&parentResourceId=ID` match P with
                 SQL LIKE, case-insensitively (`_` one character, `%` any run),
                 answer the row when one matches and 404 when none or several
                 match. The real server matches with `=`, so two rows can never
                 match one name there (tests/registry/NOTES.md).
  token=T        an authentication proxy (kube-rbac-proxy style): no or another
                 bearer token -> 401, a token in `forbidden` -> 403 naming the
                 user, like kube-rbac-proxy's SubjectAccessReview denial;
                 html_login=True answers 401 with an HTML login page instead
                 (an OAuth proxy).
  tls=(cert,key) serve https.
  before_forward(method, path) a hook, e.g. to restart the server mid-publish;
                 it may also sleep (a slow registry) or return a Reply, which is
                 sent instead of forwarding (a fault).
  after_forward(method, path, status, ctype, data) a hook that sees the
                 upstream's answer; it may return a Reply sent in its place
                 (e.g. the PATCH applied but its answer lost).

A Reply(status, body, ctype, cut=N) with cut set declares the whole body's
Content-Length but sends only its first N bytes, then closes the connection
(an answer cut off in transit).

An upstream that cannot be reached gives 502 with an HTML page, as a router
does. Every request is recorded in `requests` (method, path, Authorization).

    proxy = RegistryProxy(reg.url, like=True).start()
    ... llmsweep publish --registry-url proxy.url ...
    proxy.stop()
"""
import http.client
import http.server
import json
import re
import ssl
import threading
import urllib.parse

from registry_lib import API

ROUTER_502 = (b"<html><head><title>Application is not available</title></head><body>"
              b"<h1>Application is not available</h1><p>The application is currently not "
              b"serving requests at this endpoint.</p></body></html>")
LOGIN_401 = (b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             b"<title>Log In</title></head><body><form>Log in with OpenShift</form>"
             b"</body></html>")


class Reply:
    """A canned answer a hook returns instead of the upstream's."""

    def __init__(self, status, body=b"", ctype="application/json", cut=None):
        self.status, self.body, self.ctype, self.cut = status, body, ctype, cut


def like_match(pattern, name):
    """SQL LIKE as MySQL does it with a _ci collation (no escape character)."""
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name, flags=re.IGNORECASE | re.DOTALL) is not None


class RegistryProxy:
    def __init__(self, upstream, like=False, token=None, forbidden=(), html_login=False,
                 tls=None, before_forward=None, after_forward=None):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.like = like
        self.token = token
        self.forbidden = {t: user for t, user in (forbidden.items() if isinstance(forbidden, dict)
                                                  else ((t, "unknown") for t in forbidden))}
        self.html_login = html_login
        self.tls = tls
        self.before_forward = before_forward
        self.after_forward = after_forward
        self.requests = []
        self.lock = threading.Lock()
        self.server = None
        self.url = None

    # --- plumbing -----------------------------------------------------------
    def start(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                try:
                    proxy.handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (a timeout under test)

            do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        port = self.server.server_address[1]
        self.url = f"{scheme}://{'localhost' if self.tls else '127.0.0.1'}:{port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def send(self, h, status, body, ctype="application/json", cut=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        if cut is not None:
            h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(body if cut is None else body[:cut])
        if cut is not None:
            h.wfile.flush()
            h.close_connection = True

    def send_reply(self, h, reply):
        self.send(h, reply.status, reply.body, reply.ctype, reply.cut)

    def upstream_call(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type") or "", resp.read()
        finally:
            conn.close()

    # --- the behaviours -----------------------------------------------------
    def handle(self, h):
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else None
        auth = h.headers.get("Authorization")
        with self.lock:
            self.requests.append({"method": h.command, "path": h.path, "authorization": auth})
        if self.token is not None and not self.authorized(h, auth):
            return
        if self.before_forward:
            reply = self.before_forward(h.command, h.path)
            if isinstance(reply, Reply):
                return self.send_reply(h, reply)
        url = urllib.parse.urlsplit(h.path)
        if self.like and h.command == "GET" and url.path in (API + "/registered_model",
                                                             API + "/model_version"):
            return self.like_lookup(h, url)
        headers = {k: v for k, v in h.headers.items()
                   if k.lower() in ("content-type", "accept", "authorization")}
        try:
            status, ctype, data = self.upstream_call(h.command, h.path, body, headers)
        except OSError:
            return self.send(h, 502, ROUTER_502, "text/html; charset=utf-8")
        if self.after_forward:
            reply = self.after_forward(h.command, h.path, status, ctype, data)
            if isinstance(reply, Reply):
                return self.send_reply(h, reply)
        self.send(h, status, data, ctype or "application/octet-stream")

    def authorized(self, h, auth):
        given = auth[len("Bearer "):] if auth and auth.startswith("Bearer ") else None
        if given is not None and given in self.forbidden:
            user = self.forbidden[given]
            self.send(h, 403, f"Forbidden (user={user}, verb=get, resource=services, "
                              f"subresource=)\n", "text/plain; charset=utf-8")
            return False
        if given != self.token:
            if self.html_login:
                self.send(h, 401, LOGIN_401, "text/html; charset=utf-8")
            else:
                self.send(h, 401, "Unauthorized\n", "text/plain; charset=utf-8")
            return False
        return True

    def like_lookup(self, h, url):
        q = urllib.parse.parse_qs(url.query)
        name = (q.get("name") or [""])[0]
        if url.path.endswith("/registered_model"):
            what, list_path = "registered models", API + "/registered_models"
        else:
            parent = (q.get("parentResourceId") or [""])[0]
            what = "model versions"
            list_path = API + f"/registered_models/{urllib.parse.quote(parent)}/versions"
        try:
            status, _, data = self.upstream_call("GET", list_path)
        except OSError:
            return self.send(h, 502, ROUTER_502, "text/html; charset=utf-8")
        if status != 200:
            return self.send(h, status, data)
        items = [i for i in json.loads(data).get("items", []) if like_match(name, i["name"])]
        if len(items) == 1:
            return self.send(h, 200, items[0])
        if not items:
            return self.send(h, 404, {"code": "Not Found",
                                      "message": f"no {what} found for name={name}: not found"})
        return self.send(h, 404, {"code": "Not Found",
                                  "message": f"multiple {what} found for name={name}: not found"})
