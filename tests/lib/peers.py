"""The peers tools/ scripts make (stdlib only): their KEY=value environment.

A peer that is not made yet fails the test with what to run; tools/test makes
every peer before the tests, so nothing is ever skipped."""
import os
import subprocess


def peer_env(root, script, what):
    """KEY=value lines of `tools/peers/SCRIPT --check`, as a dict."""
    path = os.path.join(root, "tools", "peers", script)
    r = subprocess.run([path, "--check"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        raise AssertionError(f"{what} is not installed: run tools/peers/{script} "
                             f"(tools/test does)\n{r.stderr}")
    return parse_env(r.stdout)


def parse_env(text):
    """The KEY=value lines a peer script prints (values single-quoted where a
    shell needs it: tools/lib/peers.sh's emit), as a dict."""
    env = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1].replace("'\\''", "'")
        env[key] = value
    return env
