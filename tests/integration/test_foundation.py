"""Issue 2: the static binary, `version`, `fetch` over real TLS, usage errors."""
import os
import struct
import sys

import testlib

HTTPS_SERVER = os.path.join(os.path.dirname(__file__), "..", "lib", "https_server.py")


def elf_facts(path):
    """(machine, has PT_INTERP, has PT_DYNAMIC, has .symtab) from the ELF headers."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\x7fELF", f"{path} is not an ELF file"
    assert data[4] == 2 and data[5] == 1, "expected a 64-bit little-endian ELF"
    e_machine = struct.unpack_from("<H", data, 18)[0]
    e_phoff, e_shoff = struct.unpack_from("<QQ", data, 32)
    e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx = struct.unpack_from("<HHHHH", data, 54)
    types = [struct.unpack_from("<I", data, e_phoff + i * e_phentsize)[0] for i in range(e_phnum)]
    PT_DYNAMIC, PT_INTERP = 2, 3
    sections = []
    for i in range(e_shnum):
        sections.append(struct.unpack_from("<IIQQQQ", data, e_shoff + i * e_shentsize))
    strtab = sections[e_shstrndx]
    names = set()
    for sh in sections:
        off = strtab[4] + sh[0]
        names.add(data[off:data.index(b"\0", off)].decode())
    machine = {62: "x86_64", 183: "aarch64"}.get(e_machine, str(e_machine))
    return machine, PT_INTERP in types, PT_DYNAMIC in types, ".symtab" in names


@testlib.not_under_sanitizers("checks how the product binary is built")
def test_binary_is_static(ctx):
    machine, interp, dynamic, _ = elf_facts(ctx.bin)
    assert machine == "x86_64", machine
    assert not interp, "the binary has a program interpreter (PT_INTERP): not static"
    assert not dynamic, "the binary has a dynamic section (NEEDED entries possible): not static"


@testlib.not_under_sanitizers("checks how the product binary is built")
def test_release_binary_is_stripped_and_small(ctx):
    path = os.path.join(ctx.root, "zig-out", "release", "bin", "llmsweep")
    testlib.require_file(path, "the ReleaseSmall build (tools/test builds it into zig-out/release)")
    machine, interp, dynamic, symtab = elf_facts(path)
    assert not interp and not dynamic, "release binary is not static"
    assert not symtab, "release binary still has a symbol table (not stripped)"
    size = os.path.getsize(path)
    assert size < 4 * 1024 * 1024, f"release binary is {size} bytes, over 4 MiB"


@testlib.not_under_sanitizers("checks how the product binary is built")
def test_aarch64_cross_build_is_static(ctx):
    path = os.path.join(ctx.root, "zig-out", "aarch64", "bin", "llmsweep")
    testlib.require_file(path, "the aarch64 cross build (tools/test builds it into zig-out/aarch64)")
    machine, interp, dynamic, symtab = elf_facts(path)
    assert machine == "aarch64", machine
    assert not interp and not dynamic, "aarch64 binary is not static"


def test_version_names_all_libraries(ctx):
    r = ctx.llmsweep("version")
    assert r.returncode == 0, r.stderr
    expected = {}
    with open(os.path.join(ctx.root, "tools", "deps.lock")) as f:
        for line in f:
            cols = line.split()
            if cols and not cols[0].startswith("#"):
                expected[cols[0]] = cols[2]
    shown = {"curl": "libcurl", "mbedtls": "mbedTLS", "cjson": "cJSON", "libyaml": "libyaml",
             "libcyaml": "libcyaml"}
    for lock_name, label in shown.items():
        assert any(l.split()[:2] == [label, expected[lock_name]] for l in r.stdout.splitlines()), \
            f"`version` does not show {label} {expected[lock_name]}:\n{r.stdout}"
    assert "mbedTLS/" in r.stdout, "the TLS backend is not named"
    first = r.stdout.splitlines()[0]
    assert first.startswith("llmsweep ") and "git " in first, first
    assert "unknown" not in first.split("git ")[1], f"no git revision in: {first}"


def test_usage_errors_exit_2(ctx):
    r = ctx.llmsweep("no-such-command")
    assert r.returncode == 2, r
    assert "unknown command 'no-such-command'" in r.stderr, r.stderr
    r = ctx.llmsweep("fetch", "--no-such-flag", "http://x/")
    assert r.returncode == 2, r
    assert "unknown option '--no-such-flag'" in r.stderr and "--help" in r.stderr, r.stderr
    r = ctx.llmsweep("fetch")
    assert r.returncode == 2 and "missing argument" in r.stderr, r
    r = ctx.llmsweep("fetch", "--timeout", "soon", "http://x/")
    assert r.returncode == 2 and "invalid duration 'soon'" in r.stderr, r
    r = ctx.llmsweep()
    assert r.returncode == 2 and "usage:" in r.stderr, r


def test_every_command_has_help(ctx):
    r = ctx.llmsweep("--help")
    assert r.returncode == 0, r
    commands = [l.split()[0] for l in r.stdout.split("commands:\n")[1].split("\n\n")[0].splitlines()]
    assert "fetch" in commands and "version" in commands, commands
    for name in commands:
        h = ctx.llmsweep(name, "--help")
        assert h.returncode == 0, f"{name} --help exited {h.returncode}: {h.stderr}"
        assert h.stdout.startswith(f"usage: llmsweep {name}"), h.stdout


def start_https(ctx, cert):
    proc = ctx.start([sys.executable, HTTPS_SERVER, cert["pem"], cert["key"]], name="https")
    port = int(ctx.wait_for_log(proc, r"listening on (\d+)").group(1))
    return port


def test_fetch_tls_trusts_ca_file(ctx):
    ca = ctx.make_ca()
    port = start_https(ctx, ctx.make_cert(ca, "localhost"))
    r = ctx.llmsweep("fetch", "--ca-file", ca["pem"], f"https://localhost:{port}/")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "hello over TLS\n", r.stdout


def test_fetch_tls_unknown_ca(ctx):
    ca = ctx.make_ca()
    port = start_https(ctx, ctx.make_cert(ca, "localhost"))
    r = ctx.llmsweep("fetch", f"https://localhost:{port}/")
    assert r.returncode == 1, r
    assert "not signed by a trusted CA" in r.stderr and "--ca-file" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, f"expected one line:\n{r.stderr}"


def test_fetch_tls_hostname_mismatch(ctx):
    ca = ctx.make_ca()
    port = start_https(ctx, ctx.make_cert(ca, "other.example"))
    r = ctx.llmsweep("fetch", "--ca-file", ca["pem"], f"https://localhost:{port}/")
    assert r.returncode == 1, r
    assert "issued for another host name" in r.stderr, r.stderr


def test_fetch_tls_expired_certificate(ctx):
    ca = ctx.make_ca()
    port = start_https(ctx, ctx.make_cert(ca, "localhost", expired=True))
    r = ctx.llmsweep("fetch", "--ca-file", ca["pem"], f"https://localhost:{port}/")
    assert r.returncode == 1, r
    assert "has expired" in r.stderr, r.stderr


def test_fetch_trusts_serviceaccount_ca(ctx):
    """In a pod, the ServiceAccount's service-ca.crt is trusted without flags."""
    ca = ctx.make_ca()
    port = start_https(ctx, ctx.make_cert(ca, "localhost"))
    sa = ctx.path("serviceaccount")
    os.makedirs(sa)
    with open(ca["pem"]) as src, open(os.path.join(sa, "service-ca.crt"), "w") as dst:
        dst.write(src.read())
    r = ctx.llmsweep("fetch", f"https://localhost:{port}/",
                     env={"LLMSWEEP_SERVICEACCOUNT_DIR": sa})
    assert r.returncode == 0, r.stderr


def test_fetch_insecure_warns(ctx):
    ca = ctx.make_ca()
    port = start_https(ctx, ctx.make_cert(ca, "localhost"))
    r = ctx.llmsweep("fetch", "--insecure", f"https://localhost:{port}/")
    assert r.returncode == 0, r.stderr
    assert "warning: --insecure" in r.stderr, r.stderr


def test_fetch_refused_and_dns(ctx):
    port = testlib.free_port()
    r = ctx.llmsweep("fetch", f"http://127.0.0.1:{port}/")
    assert r.returncode == 1 and "refused" in r.stderr, r
    r = ctx.llmsweep("fetch", "--connect-timeout", "5s", "http://no-such-host.invalid/")
    assert r.returncode == 1 and "cannot resolve no-such-host.invalid" in r.stderr, r


def test_fetch_timeout(ctx):
    """A server that accepts and never answers: the total timeout ends it."""
    import socket
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    try:
        r = ctx.llmsweep("fetch", "--timeout", "500ms", f"http://127.0.0.1:{port}/")
    finally:
        srv.close()
    assert r.returncode == 1 and "sent no response within" in r.stderr, r
