"""Our C follows the checked-in .clang-format (tools/format fixes it)."""
import os

NOT_UNDER_SANITIZERS = "checks the sources' format and style"


def test_c_sources_are_formatted(ctx):
    r = ctx.run([os.path.join(ctx.root, "tools", "format"), "--check"], cwd=ctx.root)
    assert r.returncode == 0, f"not formatted (run tools/format):\n{r.stdout}{r.stderr}"
