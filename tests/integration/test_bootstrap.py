"""tools/bootstrap: pinned, verified, cached, offline the second time."""
import os
import shutil

import testlib

NOT_UNDER_SANITIZERS = "checks tools/bootstrap, not the program"


def bootstrap(ctx, cache, offline=False):
    argv = [os.path.join(ctx.root, "tools", "bootstrap")]
    if offline:
        testlib.require_tool("unshare", "util-linux; tests run as root in CI")
        argv = ["unshare", "--net"] + argv
    return ctx.run(argv, env={"LLMSWEEP_CACHE": cache}, cwd=ctx.root)


def lock_entries(ctx):
    with open(os.path.join(ctx.root, "tools", "deps.lock")) as f:
        return [l.split() for l in f if l.strip() and not l.startswith("#")]


def copy_of_the_cache(ctx):
    """A private cache holding the tarballs tools/test's bootstrap fetched."""
    src = os.path.join(ctx.cache, "sources")
    dst = ctx.path("cache", "sources")
    os.makedirs(dst)
    for _, _, _, file, _ in lock_entries(ctx):
        testlib.require_file(os.path.join(src, file), "the cached tarballs (tools/bootstrap)")
        shutil.copy(os.path.join(src, file), dst)
    return ctx.path("cache")


def test_second_run_is_silent_and_offline(ctx):
    r = bootstrap(ctx, copy_of_the_cache(ctx), offline=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "" and r.stdout == "", f"a second bootstrap must do nothing:\n{r.stderr}"


def test_changed_tarball_is_refused_with_the_fix(ctx):
    cache = copy_of_the_cache(ctx)
    name, package, _, file, sha = lock_entries(ctx)[2]
    with open(os.path.join(cache, "sources", file), "ab") as f:
        f.write(b"tampered")
    r = bootstrap(ctx, cache, offline=True)
    assert r.returncode == 1, r
    assert file in r.stderr and sha in r.stderr, r.stderr
    assert f"tools/update-lock {package}" in r.stderr, r.stderr


def test_missing_tarball_offline_names_the_file(ctx):
    cache = copy_of_the_cache(ctx)
    _, _, _, file, _ = lock_entries(ctx)[3]
    os.remove(os.path.join(cache, "sources", file))
    r = bootstrap(ctx, cache, offline=True)
    assert r.returncode == 1, r
    assert f"cannot download {file}" in r.stderr, r.stderr
