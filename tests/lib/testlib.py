"""Helpers for llmsweep's integration tests (stdlib only).

A Context is handed to every test: a private temporary folder, the built
binary, helpers to run it, to start background servers (stopped when the test
ends, their logs shown when it fails), free ports and throwaway certificates.
"""
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time


_SHARED = {}  # key -> (resource, stop): what the tests of one pass share


def shared(key, start, stop):
    """A resource the tests of one pass share (a registry server): start()
    makes it on first use; end_pass() (tests/run.py, after each pass, and at
    exit) stops it with stop(resource)."""
    if key not in _SHARED:
        _SHARED[key] = (start(), stop)
    return _SHARED[key][0]


def end_pass():
    while _SHARED:
        _, (resource, stop) = _SHARED.popitem()
        stop(resource)


atexit.register(end_pass)


def not_under_sanitizers(reason):
    """Marks a test that checks a build artifact or a tool rather than what
    the program does, so tests/run.py's sanitizer pass does not repeat it.
    A module says the same with a NOT_UNDER_SANITIZERS = "reason" line."""
    def mark(fn):
        fn.not_under_sanitizers = reason
        return fn
    return mark


class Skipped(Exception):
    """Raised by Context.skip(): the test reports 'skip' with the reason."""


class Context:
    def __init__(self, root, name, keep=False, binary=None, unit=None):
        self.root = root
        self.name = name
        self.keep = keep
        self.tmp = tempfile.mkdtemp(prefix="llmsweep-it-")
        # tests/run.py's sanitizer pass gives the ASan builds here.
        self.bin = binary or os.path.join(root, "zig-out", "bin", "llmsweep")
        self.sanitized = binary is not None  # ASan's shadow and redzones take memory too
        self.unit = unit or os.path.join(root, "zig-out", "bin", "llmsweep-unit")
        self.cache = os.environ.get("LLMSWEEP_CACHE") or os.path.join(
            os.path.expanduser("~/.cache"), "llmsweep")
        self._procs = []

    # --- running things -------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def run(self, argv, env=None, input=None, timeout=120, cwd=None):
        """Runs argv to completion; returns CompletedProcess with text output."""
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        return subprocess.run(argv, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=full_env, timeout=timeout, cwd=cwd or self.tmp)

    def llmsweep(self, *args, **kw):
        require_file(self.bin, "the llmsweep binary (run tools/zig build)")
        return self.run([self.bin] + [str(a) for a in args], **kw)

    def start(self, argv, name=None, env=None, cwd=None):
        """Starts a background process; stdout+stderr go to a log file."""
        name = name or os.path.basename(argv[0])
        log_path = self.path(f"{name}-{len(self._procs)}.log")
        log = open(log_path, "w")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=full_env,
                                cwd=cwd or self.tmp, start_new_session=True)
        proc.log_path = log_path
        proc.log_file = log
        proc.name = name
        self._procs.append(proc)
        return proc

    def mock_server(self, *args, name="mock"):
        """Starts `llmsweep mock-server --port 0 ARGS...`; returns its base URL
        (http://127.0.0.1:PORT, https:// with TLS) once it listens."""
        require_file(self.bin, "the llmsweep binary (run tools/zig build)")
        proc = self.start([self.bin, "mock-server", "--port", "0"] + [str(a) for a in args],
                          name=name)
        return self.wait_for_log(proc, r"listening on (https?://\S+)").group(1)

    def wait_for_log(self, proc, pattern, timeout=30):
        """Waits until proc's log matches pattern; returns the match."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            with open(proc.log_path, errors="replace") as f:
                m = regex.search(f.read())
            if m:
                return m
            if proc.poll() is not None:
                raise AssertionError(f"{proc.name} exited with {proc.returncode} before printing "
                                     f"/{pattern}/:\n{tail(proc.log_path)}")
            time.sleep(0.02)
        raise AssertionError(f"{proc.name} did not print /{pattern}/ within {timeout}s:\n"
                             f"{tail(proc.log_path)}")

    def wait_for_port(self, port, host="127.0.0.1", timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((host, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"nothing listens on {host}:{port} after {timeout}s")

    def stop(self, proc, sig=signal.SIGTERM, timeout=10):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        proc.log_file.close()
        return proc.returncode

    def skip(self, reason):
        raise Skipped(reason)

    def describe_logs(self):
        out = []
        for p in self._procs:
            out.append(f"    --- {p.name} log (last lines) ---\n")
            out.extend("    | " + line + "\n" for line in tail(p.log_path).splitlines())
        return "".join(out)

    def stop_all(self):
        """Stops every background process the test started (they write
        their exit-time reports, e.g. LeakSanitizer's, as they go)."""
        for p in self._procs:
            if p.poll() is None:
                self.stop(p, timeout=5)
            elif not p.log_file.closed:
                p.log_file.close()

    def close(self):
        self.stop_all()
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- certificates ---------------------------------------------------
    def openssl(self, *args):
        require_tool("openssl", "Debian package openssl")
        r = self.run(["openssl"] + list(args))
        assert r.returncode == 0, f"openssl {' '.join(args)} failed:\n{r.stderr}"
        return r

    def make_ca(self, name="ca"):
        key, pem = self.path(f"{name}.key"), self.path(f"{name}.pem")
        self.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", pem,
                     "-days", "2", "-subj", f"/CN=llmsweep test {name}")
        return {"key": key, "pem": pem, "name": name}

    def make_cert(self, ca, host, name=None, expired=False):
        """A server certificate for host (DNS SAN), signed by ca."""
        name = name or f"cert-{host}"
        key, csr, pem = (self.path(f"{name}.{ext}") for ext in ("key", "csr", "pem"))
        self.openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj",
                     f"/CN={host}")
        ext = self.path(f"{name}.ext")
        with open(ext, "w") as f:
            f.write(f"subjectAltName=DNS:{host}\n")
        if not expired:
            self.openssl("x509", "-req", "-in", csr, "-CA", ca["pem"], "-CAkey", ca["key"],
                         "-CAcreateserial", "-out", pem, "-days", "1", "-extfile", ext)
        else:
            # `openssl ca` is the one tool in OpenSSL 3.0 that sets explicit dates.
            db = self.path(f"{name}-ca")
            os.makedirs(db)
            open(os.path.join(db, "index.txt"), "w").close()
            with open(os.path.join(db, "serial"), "w") as f:
                f.write("1000\n")
            conf = self.path(f"{name}-ca.cnf")
            with open(conf, "w") as f:
                f.write(f"""[ca]
default_ca = test
[test]
dir = {db}
database = {db}/index.txt
serial = {db}/serial
new_certs_dir = {db}
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
[ext]
subjectAltName = DNS:{host}
""")
            self.openssl("ca", "-batch", "-config", conf, "-cert", ca["pem"], "-keyfile", ca["key"],
                         "-in", csr, "-out", pem, "-startdate", "20200101000000Z", "-enddate",
                         "20200102000000Z", "-extensions", "ext", "-notext")
        return {"key": key, "pem": pem}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def require_tool(name, how):
    if not shutil.which(name):
        raise AssertionError(f"this test needs `{name}` ({how}); tools/test installs it")


def require_file(path, what):
    if not os.path.exists(path):
        raise AssertionError(f"this test needs {what}: {path} is missing")
