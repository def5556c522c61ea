"""Issue 10: `llmsweep publish` when the Model Registry misbehaves.

Each fault comes from tests/lib/registry_proxy.py in front of the real
Model Registry server (one per module, shared with test_publish.py through
tests/lib/publish_lib.py): the proxy delays, answers instead of the server
(5xx, HTML pages, cut-off JSON, 401/403, 404 for a vanished version) or
replaces the server's answer after forwarding (a PATCH applied whose answer
is lost). Every test checks what the user sees, the exit code, and that the
version in the registry ends consistent: one block per run, other text and
customProperties intact, never half of a publish.
"""
import os
import socket
import subprocess
import threading
import time

import results_fixture as rf
from publish_lib import (OTHER_PROPS, ROOT, blocks, check_double, check_string, fails, ok,
                         publish, registry, setup_version, sweep_file)
from registry_lib import API
from registry_proxy import ROUTER_502, Reply, RegistryProxy

# Short pauses so a test that retries stays quick; the policy is the real one.
FAST = ("--retries", "3", "--retry-delay", "50ms", "--retry-max-delay", "200ms")
ENVOY_503 = ("upstream connect error or disconnect/reset before headers. reset reason: "
             "connection failure")
LOGIN_200 = (b"<!DOCTYPE html><html><head><title>Log in to your account</title></head>"
             b"<body><form>OpenShift</form></body></html>")


def proxy(reg, before=None, after=None):
    return RegistryProxy(reg.url, before_forward=before, after_forward=after).start()


def is_version_lookup(method, path):
    return method == "GET" and path.startswith(API + "/model_version?")


def is_patch(method, path):
    return method == "PATCH" and path.startswith(API + "/model_versions/")


class First:
    """True for the first `n` requests `match` accepts, then False (thread-safe);
    `count` is how many it said True to."""

    def __init__(self, n, match=lambda method, path: True):
        self.n, self.match = n, match
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, method, path):
        if not self.match(method, path):
            return False
        with self.lock:
            if self.count >= self.n:
                return False
            self.count += 1
            return True


def answer(first, reply):
    """A before_forward hook: `reply` instead of the first requests `first` takes."""
    return lambda method, path: reply if first(method, path) else None


def assert_untouched(reg, v, description):
    got = reg.version(v["id"])
    assert got["description"] == description, got["description"]
    assert got["customProperties"] == OTHER_PROPS, got["customProperties"]


def assert_published_once(reg, v, run_id, description, throughput=1250.5):
    """The version holds exactly one block of run_id after the human text,
    our properties and everybody else's."""
    got = reg.version(v["id"])
    assert blocks(got["description"], run_id) == [run_id], got["description"]
    assert got["description"].startswith(description + "\n\n[llmsweep benchmark "), \
        got["description"]
    check_string(got, "benchmark_run_id", run_id)
    check_double(got, "benchmark_throughput", throughput)
    for key, value in OTHER_PROPS.items():
        assert got["customProperties"][key] == value, (key, got["customProperties"])
    return got


# --- the registry is down or slow ---------------------------------------------------

def test_registry_that_accepts_but_never_answers_times_out(ctx):
    reg = registry(ctx)
    m, v = setup_version(reg, "hang_model", "v1", "before", OTHER_PROPS)
    # a listening socket nobody accepts from: connect succeeds, no answer ever comes
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)
    try:
        url = f"http://127.0.0.1:{hole.getsockname()[1]}"
        r = fails(publish(ctx, url, sweep_file(ctx, "run-hang"), "hang_model", "v1",
                          "--request-timeout", "1s", "--retries", "1", "--retry-delay", "50ms"))
    finally:
        hole.close()
    assert "sent no response within 1.0 s; retrying" in r.stderr, r.stderr
    assert "(gave up after 2 attempts)" in r.stderr, r.stderr
    assert_untouched(reg, v, "before")


def test_slow_registry_is_waited_for_and_timeouts_are_retried(ctx):
    reg = registry(ctx)
    m, v = setup_version(reg, "slow_model", "v1", "before", OTHER_PROPS)

    def slow(method, path):
        time.sleep(0.7)  # every answer is late, within the request timeout

    p = proxy(reg, before=slow)
    try:
        r = ok(publish(ctx, p.url, sweep_file(ctx, "run-slow"), "slow_model", "v1",
                       "--request-timeout", "5s", *FAST))
    finally:
        p.stop()
    assert "retrying" not in r.stderr, r.stderr
    assert_published_once(reg, v, "run-slow", "before")

    # later than the timeout, twice (a lookup and the PATCH): both retried
    late_lookup, late_patch = First(1, is_version_lookup), First(1, is_patch)

    def sometimes_late(method, path):
        if late_lookup(method, path) or late_patch(method, path):
            time.sleep(2.5)  # then forwarded: a late PATCH lands after we gave up on it

    p = proxy(reg, before=sometimes_late)
    try:
        r = ok(publish(ctx, p.url, sweep_file(ctx, "run-late"), "slow_model", "v1",
                       "--request-timeout", "1s", *FAST))
    finally:
        p.stop()
    assert "GET /model_version?name=v1&parentResourceId=" in r.stderr, r.stderr
    assert r.stderr.count("sent no response within 1.0 s; retrying") == 1, r.stderr
    assert r.stderr.count("sent no response within 1.0 s; reading the version again and "
                          "retrying") == 1, r.stderr
    time.sleep(2)  # the late PATCH has landed too
    got = assert_published_once(reg, v, "run-late", "before")
    assert blocks(got["description"]) == ["run-slow", "run-late"], got["description"]


# --- 5xx, then the registry recovers ---------------------------------------------------

def test_5xx_then_recovering_is_retried_to_one_clean_publish(ctx):
    reg = registry(ctx)
    m, v = setup_version(reg, "flaky_model", "v1", "before", OTHER_PROPS)
    answers = [Reply(503, ENVOY_503, "text/plain"),
               Reply(502, ROUTER_502, "text/html; charset=utf-8"),
               Reply(500, {"code": "Internal Server Error", "message": "sql: database is closed"})]
    served = []

    def flaky(method, path):
        if len(served) < len(answers):
            served.append((method, path))
            return answers[len(served) - 1]
        if is_patch(method, path) and len([s for s in served if is_patch(*s)]) < 2:
            served.append((method, path))
            return Reply(503, "service unavailable\n", "text/plain")
        return None

    p = proxy(reg, before=flaky)
    try:
        r = ok(publish(ctx, p.url, sweep_file(ctx, "run-flaky"), "flaky_model", "v1", "--retries",
                       "5", "--retry-delay", "50ms", "--retry-max-delay", "200ms"))
    finally:
        p.stop()
    for text in (f"HTTP 503 Service Unavailable: {ENVOY_503}; retrying",
                 'HTTP 502 Bad Gateway: an HTML page titled "Application is not available" (from '
                 'a router or an authentication proxy, not the registry API); retrying',
                 "HTTP 500 Internal Server Error: sql: database is closed; retrying",
                 f"PATCH /model_versions/{v['id']}: HTTP 503 Service Unavailable: service "
                 "unavailable; reading the version again and retrying"):
        assert text in r.stderr, f"{text!r} not in:\n{r.stderr}"
    assert "published run run-flaky" in r.stderr, r.stderr
    assert_published_once(reg, v, "run-flaky", "before")


def test_patch_applied_but_its_answer_lost_is_not_applied_twice(ctx):
    reg = registry(ctx)
    m, v = setup_version(reg, "lost_answer", "v1", "before", OTHER_PROPS)
    lost = First(1, is_patch)
    lose = Reply(502, ROUTER_502, "text/html; charset=utf-8")
    p = proxy(reg, after=lambda method, path, *_: lose if lost(method, path) else None)  # the server applied the PATCH; the client sees a 502
    try:
        r = ok(publish(ctx, p.url, sweep_file(ctx, "run-lost"), "lost_answer", "v1", *FAST))
    finally:
        p.stop()
    assert lost.count == 1 and "HTTP 502 Bad Gateway" in r.stderr, r.stderr
    assert "the PATCH whose answer was lost had been applied" in r.stderr, r.stderr
    assert_published_once(reg, v, "run-lost", "before")


def test_5xx_that_never_ends_gives_up_and_changes_nothing(ctx):
    reg = registry(ctx)
    m, v = setup_version(reg, "down_model", "v1", "before", OTHER_PROPS)
    always = First(10**6, is_patch)
    p = proxy(reg, before=answer(always, Reply(503, "no healthy upstream", "text/plain")))
    try:
        r = fails(publish(ctx, p.url, sweep_file(ctx, "run-down"), "down_model", "v1", *FAST))
    finally:
        p.stop()
    assert "HTTP 503 Service Unavailable: no healthy upstream" in r.stderr, r.stderr
    assert "gave up after 4 attempts" in r.stderr, r.stderr
    assert always.count == 4, always.count
    assert_untouched(reg, v, "before")


# --- answers that are not the registry's JSON ---------------------------------------------

def test_html_pages_instead_of_the_api(ctx):
    reg = registry(ctx)
    m, v = setup_version(reg, "html_model", "v1", "before", OTHER_PROPS)
    results = sweep_file(ctx, "run-html")
    # a 200 login page (an OAuth proxy that does not say 401): not the API, not retried
    login = First(10**6)
    p = proxy(reg, before=answer(login, Reply(200, LOGIN_200, "text/html")))
    try:
        r = fails(publish(ctx, p.url, results, "html_model", "v1", *FAST))
    finally:
        p.stop()
    assert ('the answer is not JSON (HTTP 200 OK: an HTML page titled "Log in to your account"'
            in r.stderr), r.stderr
    assert "the registry's REST API" in r.stderr and "retrying" not in r.stderr, r.stderr
    assert login.count == 1

    # a router's 503 page while the registry pod restarts: retried until it is back
    page = (b"<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
            b"<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>")
    p = proxy(reg, before=answer(First(2), Reply(503, page, "text/html")))
    try:
        r = ok(publish(ctx, p.url, results, "html_model", "v1", *FAST))
    finally:
        p.stop()
    assert ('HTTP 503 Service Unavailable: an HTML page titled "503 Service Temporarily '
            'Unavailable"') in r.stderr, r.stderr
    assert_published_once(reg, v, "run-html", "before")


def test_truncated_json_answers(ctx):
    reg = registry(ctx)
    m, v = setup_version(reg, "cut_model", "v1", "before", OTHER_PROPS)

    def cut(keep, declared):
        """The upstream's answer cut to `keep` bytes; `declared` True keeps the
        full Content-Length (the connection drops mid-body), else the cut body
        is a complete HTTP answer (a proxy that lost the end of the JSON)."""
        def reply(method, path, status, ctype, data):
            if declared:
                return Reply(status, data, ctype, cut=keep)
            return Reply(status, data[:keep], ctype)
        return reply

    # the version lookup's 200 is cut in both ways, once each; then the PATCH's
    cut_lookup, cut_patch = First(2, is_version_lookup), First(1, is_patch)

    def after(method, path, status, ctype, data):
        if cut_lookup(method, path):
            return cut(40, cut_lookup.count == 1)(method, path, status, ctype, data)
        if cut_patch(method, path):
            return cut(25, False)(method, path, status, ctype, data)
        return None

    p = proxy(reg, after=after)
    try:
        r = ok(publish(ctx, p.url, sweep_file(ctx, "run-cut"), "cut_model", "v1", *FAST))
    finally:
        p.stop()
    assert "closed the connection before the response was complete: end of response with" \
        in r.stderr, r.stderr
    assert ": the answer (HTTP 200, 40 bytes) is cut-off JSON: it ends inside a value; retrying " \
        "in" in r.stderr, r.stderr
    assert (f"PATCH /model_versions/{v['id']}: the answer (HTTP 200, 25 bytes) is cut-off JSON: "
            "it ends inside a value; reading the version again and retrying in") in r.stderr, \
        r.stderr
    assert "the PATCH whose answer was lost had been applied" in r.stderr, r.stderr
    assert_published_once(reg, v, "run-cut", "before")


# --- authentication that fails half-way ----------------------------------------------------

def test_401_and_403_on_the_patch_only(ctx):
    reg = registry(ctx)
    m, v = setup_version(reg, "rbac_model", "v1", "before", OTHER_PROPS)
    results = sweep_file(ctx, "run-rbac")
    forbidden = First(10**6, is_patch)
    denied = Reply(403, "Forbidden (user=system:serviceaccount:bench:publisher, verb=patch, "
                        "resource=services, subresource=)\n", "text/plain")
    token = ctx.path("token")
    with open(token, "w") as f:
        f.write("reader-token\n")
    p = proxy(reg, before=answer(forbidden, denied))
    try:
        r = fails(publish(ctx, p.url, results, "rbac_model", "v1", "--token-file", token, *FAST))
    finally:
        p.stop()
    assert (f"refused PATCH /model_versions/{v['id']} for the token from {token} (403 Forbidden) "
            "after answering its lookups: the token may read but not change model versions"
            ) in r.stderr, r.stderr
    assert "verb=patch" in r.stderr and "retrying" not in r.stderr, r.stderr
    assert forbidden.count == 1
    assert "reader-token" not in r.stderr + r.stdout
    assert_untouched(reg, v, "before")

    p = proxy(reg, before=answer(First(10**6, is_patch), Reply(401, "Unauthorized\n",
                                                                "text/plain")))
    try:
        r = fails(publish(ctx, p.url, results, "rbac_model", "v1", "--token-file", token, *FAST))
    finally:
        p.stop()
    assert f"rejected the token from {token}" in r.stderr and "retrying" not in r.stderr, \
        r.stderr
    assert_untouched(reg, v, "before")


# --- the version changes under us ------------------------------------------------------

def test_version_deleted_between_lookup_and_patch(ctx):
    reg = registry(ctx)
    m, v = setup_version(reg, "vanish_model", "v1", "before", OTHER_PROPS)
    vid = v["id"]
    gone = threading.Event()

    def vanish(method, path):
        if not gone.is_set():
            return None
        # what the real server answers for an id it does not have
        if path.startswith(f"{API}/model_versions/{vid}"):
            return Reply(404, {"code": "Not Found",
                               "message": f"no model version found for id {vid}: not found"})
        if is_version_lookup(method, path):
            return Reply(404, {"code": "Not Found",
                               "message": "no model version found for name=v1: not found"})
        if method == "GET" and "/versions?" in path:
            return Reply(200, {"items": [], "nextPageToken": "", "pageSize": 100, "size": 0})
        return None

    def after(method, path, status, ctype, data):
        if is_version_lookup(method, path):
            gone.set()  # deleted right after we found it
        return None

    p = proxy(reg, before=vanish, after=after)
    try:
        r = fails(publish(ctx, p.url, sweep_file(ctx, "run-vanish"), "vanish_model", "v1",
                          *FAST))
    finally:
        p.stop()
    assert (f"model 'vanish_model' version 'v1' (id {vid}) is gone (PATCH /model_versions/{vid}: "
            f"HTTP 404 Not Found: no model version found for id {vid}: not found): deleted "
            "while publishing? looking it up again") in r.stderr, r.stderr
    assert "error: model version 'v1' not found under registered model 'vanish_model'" \
        in r.stderr, r.stderr
    assert "retrying" not in r.stderr, r.stderr
    assert_untouched(reg, v, "before")

    # deleted and created again under the same name (a new id): found again, published
    gone.clear()
    p = proxy(reg, before=answer(First(1, is_patch), Reply(404, {
        "code": "Not Found", "message": f"no model version found for id {vid}: not found"})))
    try:
        r = ok(publish(ctx, p.url, sweep_file(ctx, "run-again"), "vanish_model", "v1", *FAST))
    finally:
        p.stop()
    assert_published_once(reg, v, "run-again", "before")


# --- two publishers at once ---------------------------------------------------------------

def start_publish(ctx, url, results, model, version, name, *extra):
    no_sa = ctx.path("no-serviceaccount")
    os.makedirs(no_sa, exist_ok=True)
    return ctx.start([ctx.bin, "publish", results, "--registry-url", url, "--model", model,
                      "--version", version, "--token-env", "PUBLISHER", *FAST, *extra],
                     name=name, env={"LLMSWEEP_SERVICEACCOUNT_DIR": no_sa, "PUBLISHER": name})


def publish_together(ctx, proxy_, model, runs):
    """Starts one publisher per (name, results) at once through proxy_; returns
    their exit codes and their logs, then stops the proxy."""
    try:
        procs = [start_publish(ctx, proxy_.url, path, model, "v1", name) for name, path in runs]
        codes = [pr.wait(timeout=120) for pr in procs]
    finally:
        proxy_.stop()
    return codes, "".join(open(pr.log_path).read() for pr in procs)


def test_two_publishers_of_one_run_at_once(ctx):
    reg = registry(ctx)
    m, v = setup_version(reg, "twins_same", "v1", "before", OTHER_PROPS)
    results = sweep_file(ctx, "run-same")
    both_read = Barrier(2)
    codes, logs = publish_together(ctx, proxy(reg, before=both_read, after=both_read.forwarded),
                                   "twins_same", [("A", results), ("B", results)])
    assert codes == [0, 0], (codes, logs)
    assert_published_once(reg, v, "run-same", "before")


class Barrier:
    """Holds every PATCH until `n` version lookups went through, so each of
    `n` publishers merges into the same old state: the lost update a registry
    without ETags allows. With `hold_reads`, also holds every read of the
    version by id (the read-back after a PATCH) until `n` PATCHes went
    through, so each publisher sees what the other wrote."""

    def __init__(self, n, hold_reads=False):
        self.n, self.hold_reads = n, hold_reads
        self.lookups = self.patches = 0
        self.cond = threading.Condition()

    def __call__(self, method, path):
        with self.cond:
            if is_version_lookup(method, path):
                self.lookups += 1
                self.cond.notify_all()
            elif is_patch(method, path):
                self.cond.wait_for(lambda: self.lookups >= self.n, timeout=60)
            elif self.hold_reads and method == "GET" and path.startswith(API + "/model_versions/"):
                self.cond.wait_for(lambda: self.patches >= self.n, timeout=60)
        return None

    def forwarded(self, method, path, status, ctype, data):
        if is_patch(method, path):
            with self.cond:
                self.patches += 1
                self.cond.notify_all()
        return None


def test_two_publishers_of_different_runs_lose_no_block(ctx):
    reg = registry(ctx)
    m, v = setup_version(reg, "twins_diff", "v1", "before", OTHER_PROPS)
    run_a = sweep_file(ctx, "run-a")
    levels = rf.sweep()
    levels[1]["metrics"]["tokens_per_second"]["successful"]["mean"] = 999.0
    run_b = sweep_file(ctx, "run-b", levels=levels)
    # both read the old version, both PATCH, then both read back: each finds the
    # other's PATCH in place of its own
    barrier = Barrier(2, hold_reads=True)
    codes, logs = publish_together(ctx, proxy(reg, before=barrier, after=barrier.forwarded),
                                   "twins_diff", [("A", run_a), ("B", run_b)])
    assert codes == [0, 0], (codes, logs)
    # the one whose block the other's PATCH replaced saw it and merged again
    assert logs.count("does not hold our block after publishing to model 'twins_diff' version "
                      "'v1'") == 1, logs
    assert logs.count("(another writer?); merging and publishing again in ") == 1, logs
    got = reg.version(v["id"])
    assert sorted(blocks(got["description"])) == ["run-a", "run-b"], got["description"]
    assert got["description"].startswith("before\n\n[llmsweep benchmark "), got["description"]
    # the properties describe one whole run: the one that wrote last
    run_id = got["customProperties"]["benchmark_run_id"]["string_value"]
    check_double(got, "benchmark_throughput", {"run-a": 1250.5, "run-b": 999.0}[run_id])
    for key, value in OTHER_PROPS.items():
        assert got["customProperties"][key] == value, (key, got["customProperties"])


def test_many_publishers_at_once_leave_one_consistent_version(ctx):
    reg = registry(ctx)
    m, v = setup_version(reg, "crowd", "v1", "before", OTHER_PROPS)
    files = {}
    for i in range(4):
        levels = rf.sweep()
        levels[1]["metrics"]["tokens_per_second"]["successful"]["mean"] = 1000.0 + i
        files[f"run-{i}"] = sweep_file(ctx, f"run-{i}", levels=levels)
    # every answer a little late, so the four read-merge-write cycles overlap
    codes, logs = publish_together(ctx, proxy(reg, before=lambda method, path: time.sleep(0.3)),
                                   "crowd", list(files.items()))
    got = reg.version(v["id"])
    found = blocks(got["description"])
    assert len(found) == len(set(found)), got["description"]
    # whoever exits 0 verified its block; one that lost twice in a row says so and exits 1
    for run_id, code in zip(files, codes):
        assert code == 0 or (code == 1 and "another writer changed it at the same time, 4 times in "
                             "a row" in logs), (run_id, code, logs)
    # every publisher that said it published finds its block there
    for run_id, code in zip(files, codes):
        assert code != 0 or run_id in found, (run_id, found, logs)
    run_id = got["customProperties"]["benchmark_run_id"]["string_value"]
    check_double(got, "benchmark_throughput", 1000.0 + int(run_id[-1]))
    for key, value in OTHER_PROPS.items():
        assert got["customProperties"][key] == value, (key, got["customProperties"])
