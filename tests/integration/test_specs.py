"""Issue 3: `llmsweep specs`, `specs show`, `validate`, their exit codes and
messages, the documented example, and a short run of the spec fuzzer."""
import os
import re
import subprocess

import testlib

SPECS = os.path.join(os.path.dirname(__file__), "..", "..", "specs")
EMBEDDED = ["demo", "mistral-24b", "mistral-24b-quantized"]
CLUSTER = {"CLUSTER_DOMAIN": "apps.example.com"}


def no_cluster_env():
    """The environment without CLUSTER_DOMAIN, whatever the caller has."""
    env = dict(os.environ)
    env.pop("CLUSTER_DOMAIN", None)
    return env


def write(ctx, name, text):
    path = ctx.path(name)
    with open(path, "w") as f:
        f.write(text)
    return path


def one_line_error(r):
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{r.stderr}"
    assert lines[0].startswith("llmsweep: error: "), lines[0]
    return lines[0][len("llmsweep: error: "):]


def test_specs_lists_embedded_with_descriptions(ctx):
    r = ctx.llmsweep("specs")
    assert r.returncode == 0, r.stderr
    names = {}
    for line in r.stdout.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            names[parts[0]] = parts[1]
    for name in EMBEDDED:
        assert name in names, f"`specs` does not list {name}:\n{r.stdout}"
        assert len(names[name]) > 20, f"{name} has no real description: {names[name]!r}"
    assert "instance-prices" in names, r.stdout
    for f in os.listdir(SPECS):
        if f.endswith(".yaml"):
            assert f[:-5] in names, f"specs/{f} is not listed by `specs`:\n{r.stdout}"


def test_specs_show_prints_the_file_verbatim(ctx):
    for name in EMBEDDED + ["instance-prices"]:
        r = ctx.llmsweep("specs", "show", name)
        assert r.returncode == 0, r.stderr
        with open(os.path.join(SPECS, name + ".yaml")) as f:
            assert r.stdout == f.read(), f"`specs show {name}` differs from specs/{name}.yaml"


def test_specs_show_unknown_name_exits_2(ctx):
    r = ctx.llmsweep("specs", "show", "dmeo")
    assert r.returncode == 2, r
    assert "no embedded spec named 'dmeo'" in r.stderr and "did you mean 'demo'" in r.stderr, \
        r.stderr
    r = ctx.llmsweep("specs", "list")
    assert r.returncode == 2 and "unknown subcommand 'list'" in r.stderr, r.stderr
    r = ctx.llmsweep("specs", "show")
    assert r.returncode == 2, r.stderr


def test_validate_demo_prints_the_plan(ctx):
    r = ctx.llmsweep("validate", "demo")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "spec: demo (embedded:demo)" in out, out
    assert "built-in mock server" in out, out
    levels = re.findall(r"^  level (\d+)\s+concurrency (\d+)\s+(\S+)$", out, re.M)
    assert [(l, c) for l, c, _ in levels] == [("1", "1"), ("2", "4"), ("3", "16")], out
    assert all(d == "5s" for _, _, d in levels), levels
    total = re.search(r"^  total\s+(\d+)s at most$", out, re.M)
    assert total and int(total.group(1)) < 60, f"demo must finish in well under a minute:\n{out}"
    assert re.search(r"^instance: g6\.xlarge, 1 x NVIDIA L4, \$0\.8048 per hour \(table", out,
                     re.M), out
    assert re.search(r"^  load\.duration\s+5s  \(spec embedded:demo:\d+\)$", out, re.M), out
    assert re.search(r"^  load\.workers\s+1  \(default\)$", out, re.M), out


def test_validate_mistral_needs_cluster_domain(ctx):
    r = ctx.llmsweep("validate", "mistral-24b-quantized", env=no_cluster_env())
    assert r.returncode == 2, r
    msg = one_line_error(r)
    assert re.match(r"embedded:mistral-24b-quantized:\d+:\d+: endpoint: environment variable "
                    r"CLUSTER_DOMAIN is not set", msg), msg

    r = ctx.llmsweep("validate", "mistral-24b-quantized", env=CLUSTER)
    assert r.returncode == 0, r.stderr
    assert "https://mistral-24b-quantized-private-ai-demo.apps.example.com/v1" in r.stdout
    assert "4 levels of 2m each" in r.stdout, r.stdout
    assert "total        8m at most" in r.stdout, r.stdout
    assert "g6.4xlarge, 1 x NVIDIA L4, $1.3232 per hour" in r.stdout, r.stdout

    r = ctx.llmsweep("validate", "mistral-24b", env=CLUSTER)
    assert r.returncode == 0, r.stderr
    assert "g6.12xlarge, 4 x NVIDIA L4, $4.6016 per hour" in r.stdout, r.stdout


def test_validate_applies_overrides(ctx):
    r = ctx.llmsweep("validate", "demo", "--duration", "3s", "--levels", "2,8",
                     "--set", "load.warmup=1s", "--set", "instance.hourly_usd=9.5",
                     "--set", "load.levels=[2, 8, 32]")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "3 levels of 3s each (first 1s warm-up not measured)" in out, out
    assert re.search(r"^  level 3\s+concurrency 32\s+3s$", out, re.M), out
    assert "total        9s at most" in out, out
    assert "$9.5 per hour (override --set)" in out, out
    assert re.search(r"^  load\.duration\s+3s  \(override --duration\)$", out, re.M), out


def test_validate_bad_inputs_exit_2_with_one_located_line(ctx):
    base = "model: m\nendpoint: builtin\n"
    cases = {
        "syntax.yaml": (base + "load:\n  levels: [1, 5\n", r":5:1: YAML syntax error: "),
        "unknown.yaml": (base + "load:\n  duraton: 5s\n",
                         r":4:3: unknown field 'duraton' in load \(did you mean 'duration'\?\)"),
        "type.yaml": (base + "load:\n  duration: [5]\n",
                      r":4:13: load\.duration: expected a single value, found a list"),
        "number.yaml": (base + "workload:\n  prompt_tokens: lots\n",
                        r":4:18: workload\.prompt_tokens: 'lots' is not a number"),
        "missing.yaml": ("endpoint: builtin\n", r":1:1: missing required field 'model'"),
        "empty-levels.yaml": (base + "load:\n  levels: []\n",
                              r":4:11: load\.levels: empty list"),
        "zero-level.yaml": (base + "load:\n  levels: [1, 0]\n",
                            r":4:15: load\.levels: '0' must be more than zero"),
        "zero-duration.yaml": (base + "load:\n  duration: 0s\n",
                               r":4:13: load\.duration: '0s' must be more than zero"),
        "negative-duration.yaml": (base + "load:\n  duration: -2m\n",
                                   r":4:13: load\.duration: '-2m' is negative"),
        "instance.yaml": (base + "instance:\n  type: g6.3xlarge\n",
                          r":4:9: instance\.type: 'g6\.3xlarge' is not in the price table"),
        "var.yaml": ("model: m\nendpoint: https://${LLMSWEEP_IT_UNSET}/v1\n",
                     r":2:11: endpoint: environment variable LLMSWEEP_IT_UNSET is not set"),
    }
    env = dict(os.environ)
    env.pop("LLMSWEEP_IT_UNSET", None)
    for name, (text, pattern) in cases.items():
        path = write(ctx, name, text)
        r = ctx.llmsweep("validate", path, env=env)
        assert r.returncode == 2, f"{name}: exit {r.returncode}\n{r.stdout}{r.stderr}"
        msg = one_line_error(r)
        assert re.match(re.escape(path) + pattern, msg), f"{name}: {msg!r} !~ {pattern!r}"
        assert r.stdout == "", f"{name}: printed a plan for a bad spec"


def test_validate_unreadable_and_unknown(ctx):
    missing = ctx.path("nope.yaml")
    r = ctx.llmsweep("validate", missing)
    assert r.returncode == 2, r
    assert one_line_error(r) == f"{missing}: cannot read the spec: No such file or directory"
    r = ctx.llmsweep("validate", "mistral-24b-quantised")
    assert r.returncode == 2, r
    assert "did you mean 'mistral-24b-quantized'" in one_line_error(r)
    r = ctx.llmsweep("validate", "demo", "--set", "load.duraton=1s")
    assert r.returncode == 2, r
    assert one_line_error(r) == ("--set load.duraton: unknown spec field "
                                 "(did you mean 'load.duration'?)")
    r = ctx.llmsweep("validate", "demo", "--set", "nonsense")
    assert r.returncode == 2 and "expected key.path=value" in r.stderr, r.stderr
    r = ctx.llmsweep("validate", "demo", "--duration", "0")
    assert r.returncode == 2, r
    assert one_line_error(r) == "--duration (load.duration): '0' must be more than zero " \
                                "(expected 120s, 2m or 90)"
    r = ctx.llmsweep("validate")
    assert r.returncode == 2, r


def test_validate_reads_a_file_in_the_working_directory(ctx):
    write(ctx, "mine.yaml", "model: m\nendpoint: builtin\nload: {duration: 7s}\n")
    r = ctx.llmsweep("validate", "mine.yaml")
    assert r.returncode == 0, r.stderr
    assert "spec: mine (mine.yaml)" in r.stdout and "levels of 7s each" in r.stdout, r.stdout


def readme_example():
    with open(os.path.join(SPECS, "README.md")) as f:
        text = f.read()
    section = text.split("## A full annotated example", 1)[1]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1), text


def test_readme_example_is_a_valid_spec(ctx):
    example, _ = readme_example()
    path = write(ctx, "example.yaml", example)
    env = dict(CLUSTER, OPENAI_API_KEY="not-a-real-key")
    r = ctx.llmsweep("validate", path, env=env)
    assert r.returncode == 0, f"the README example does not validate:\n{r.stderr}"
    assert "not-a-real-key" not in r.stdout, "validate printed the API key"
    # Every field the example sets shows up as coming from the spec.
    spec_lines = re.findall(r"^  (\S+)\s+.*\(spec [^)]*example\.yaml:\d+\)$", r.stdout, re.M)
    for path in ("load.warmup", "registry.mode", "slo.ttft_ms", "extra_body", "headers"):
        assert path in spec_lines, f"{path} not taken from the example:\n{r.stdout}"


def test_readme_lists_every_set_path(ctx):
    _, text = readme_example()
    block = text.split("The paths:", 1)[1].split("```")[1]
    documented = set(block.split()) - {"(the", "--tokenizer", "shortcut)"}
    r = ctx.llmsweep("validate", "demo")
    fields = re.findall(r"^  (\S+)\s", r.stdout.split("fields (", 1)[1], re.M)
    settable = set(fields) - {"headers"} | {"tokenizer"}
    assert documented == settable, (f"README paths differ from the binary's fields: "
                                    f"missing {sorted(settable - documented)}, "
                                    f"extra {sorted(documented - settable)}")


def test_help_for_both_commands(ctx):
    for cmd in ("specs", "validate"):
        r = ctx.llmsweep(cmd, "--help")
        assert r.returncode == 0 and "usage: llmsweep " + cmd in r.stdout, r.stdout + r.stderr
    r = ctx.llmsweep("--help")
    assert "  specs " in r.stdout and "  validate " in r.stdout, r.stdout


@testlib.not_under_sanitizers("runs the spec fuzzer, itself built with ASan and UBSan")
def test_spec_fuzzer_short_run_finds_no_crash(ctx):
    """tools/fuzz builds a libFuzzer target around spec_load_text with
    ASan+UBSan; a short run over the committed corpus must not crash."""
    fuzzer = os.path.join(ctx.root, "zig-out", "fuzz", "spec_fuzz")
    testlib.require_file(fuzzer, "the spec fuzzer (tools/fuzz build; tools/test runs it)")
    corpus = os.path.join(ctx.root, "tests", "fuzz", "corpus", "spec")
    seeds = os.listdir(corpus)
    assert len(seeds) >= 10, f"only {len(seeds)} seeds in {corpus}"
    work = ctx.path("corpus")
    os.makedirs(work)
    r = ctx.run([fuzzer, "-max_total_time=20", "-max_len=4096", "-timeout=10",
                 "-rss_limit_mb=1024", f"-artifact_prefix={ctx.path('crash-')}",
                 "-print_final_stats=1", work, corpus],
                env={"ASAN_OPTIONS": "detect_leaks=1", "CLUSTER_DOMAIN": "apps.example.com"},
                timeout=300)
    crashes = [f for f in os.listdir(ctx.tmp) if f.startswith("crash-")]
    assert r.returncode == 0 and not crashes, \
        f"the spec fuzzer failed (exit {r.returncode}, artifacts {crashes}):\n{r.stderr[-3000:]}"
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", r.stderr)
    assert runs and int(runs.group(1)) > 1000, f"the fuzzer barely ran:\n{r.stderr[-2000:]}"


def test_run_loads_specs_the_same_way(ctx):
    """`run` resolves its spec with the same loader: bad specs and overrides
    stop it with exit 2 before anything is sent."""
    bad = write(ctx, "bad.yaml", "model: m\nendpoint: builtin\nload:\n  duration: 0s\n")
    r = ctx.llmsweep("run", "--spec", bad)
    assert r.returncode == 2, r
    assert one_line_error(r).startswith(f"{bad}:4:13: load.duration: '0s' must be more than zero")
    r = ctx.llmsweep("run", "dmeo")
    assert r.returncode == 2 and "did you mean 'demo'" in r.stderr, r.stderr
    r = ctx.llmsweep("run", "demo", "--spec", bad)
    assert r.returncode == 2 and "not both" in r.stderr, r.stderr
    r = ctx.llmsweep("run", "--endpoint", "http://127.0.0.1:9/v1", "--model", "m",
                     "--set", "load.duraton=1s")
    assert r.returncode == 2, r
    assert "did you mean 'load.duration'" in one_line_error(r)
    r = ctx.llmsweep("run", "mistral-24b", env=no_cluster_env())
    assert r.returncode == 2 and "CLUSTER_DOMAIN is not set" in r.stderr, r.stderr
