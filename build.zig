//! The whole llmsweep build: five C libraries from pinned sources, the
//! static `llmsweep` binary, and the unit tests.
//!
//!   tools/bootstrap              toolchain + sources into .deps/ (once)
//!   tools/zig build              zig-out/bin/llmsweep (x86_64-linux-musl)
//!   tools/zig build test         C unit tests
//!   -Dtarget=aarch64-linux-musl  cross build
//!   -Doptimize=ReleaseSmall      stripped release binary
//!
//! The sources of curl, mbedTLS, cJSON, libyaml and libcyaml come from
//! tools/deps.lock via tools/bootstrap; file lists are read from the pinned
//! tarballs (curl's lib/Makefile.inc, mbedTLS' library/ folder), never typed
//! here, so a lock bump needs no edit of this file.

const std = @import("std");

const llmsweep_version = "0.1.0";

/// Warnings for our own C. Third-party code is compiled quietly (-w): its
/// warnings are upstream's business and would fail -Werror builds.
const project_cflags = [_][]const u8{
    "-std=c17",
    "-D_GNU_SOURCE",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wpedantic",
    "-Wshadow",
    "-Wstrict-prototypes",
    "-Wmissing-prototypes",
    "-Wformat=2",
    "-Wundef",
    "-Wvla",
    "-Wimplicit-fallthrough",
    "-Wno-gnu-zero-variadic-macro-arguments",
};

/// Generated sources hold whole files as string literals, longer than the
/// 4095 bytes ISO C promises every compiler supports (clang has no limit).
const generated_cflags = project_cflags ++ [_][]const u8{"-Wno-overlength-strings"};

/// Third-party C, in the dialect upstream builds with, without warnings.
const third_party_cflags = [_][]const u8{ "-std=gnu11", "-w" };

const Deps = struct {
    root: []const u8, // e.g. ".deps/src"

    fn path(d: Deps, b: *std.Build, sub: []const u8) std.Build.LazyPath {
        return b.path(b.pathJoin(&.{ d.root, sub }));
    }
};

/// One third-party library: where its C files are, which ones, and the
/// macros and extra include folders it compiles with. The same table feeds
/// the Zig build and sources.mk (see installGenerated), so tools/sanitize
/// compiles exactly what ships.
const Library = struct {
    name: []const u8,
    dir: []const u8, // under deps.root
    files: []const []const u8,
    macros: []const [2][]const u8,
    includes: []const []const u8 = &.{}, // under deps.root
};

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{
        .default_target = .{ .cpu_arch = .x86_64, .os_tag = .linux, .abi = .musl },
    });
    const optimize = b.standardOptimizeOption(.{});
    const deps: Deps = .{
        .root = b.option([]const u8, "deps", "Folder with the unpacked third-party sources (default .deps/src)") orelse ".deps/src",
    };
    requireBootstrap(b, deps);

    const strip = optimize != .debug;
    // musl: static, the product. glibc (-Dtarget=x86_64-linux-gnu): dynamic,
    // only so that valgrind can see malloc and check the heap, which it
    // cannot do inside a static musl binary.
    const linkage: std.builtin.LinkMode = if (target.result.abi.isMusl()) .static else .dynamic;
    const libs = buildLibraries(b, deps, target, optimize, strip);

    // The program: every src/*.c. The unit tests link the same files minus
    // main.c plus tests/unit/*.c, so a test exercises exactly what ships.
    const sources = listCFiles(b, "src");
    const embedded = generateEmbeddedSpecs(b);
    const unicode_tables = generateUnicodeTables(b, deps);
    const generated = [_]std.Build.Module.CSourceFile{
        .{ .file = generateBuildInfo(b), .flags = &project_cflags },
        .{ .file = embedded, .flags = &generated_cflags },
        .{ .file = unicode_tables, .flags = &generated_cflags },
    };
    installGenerated(b, deps, sources, &.{
        .{ .name = "build_info.c", .file = generated[0].file },
        .{ .name = "embedded_specs.c", .file = embedded },
        .{ .name = "unicode_tables.c", .file = unicode_tables },
    });

    const exe_mod = projectModule(b, deps, target, optimize, strip, libs);
    exe_mod.addCSourceFiles(.{ .root = b.path("src"), .files = sources, .flags = &project_cflags });
    for (generated) |file| exe_mod.addCSourceFile(file);
    const exe = b.addExecutable(.{ .name = "llmsweep", .root_module = exe_mod, .linkage = linkage });
    b.installArtifact(exe);

    const run_step = b.step("run", "Run llmsweep (pass arguments after --)");
    const run_exe = b.addRunArtifact(exe);
    run_exe.addPassthruArgs();
    run_step.dependOn(&run_exe.step);

    const test_mod = projectModule(b, deps, target, optimize, false, libs);
    test_mod.addCSourceFiles(.{ .root = b.path("src"), .files = withoutMain(b, sources), .flags = &project_cflags });
    for (generated) |file| test_mod.addCSourceFile(file);
    test_mod.addCSourceFiles(.{ .root = b.path("tests/unit"), .files = listCFiles(b, "tests/unit"), .flags = &project_cflags });
    test_mod.addIncludePath(b.path("tests/unit"));
    const unit = b.addExecutable(.{ .name = "llmsweep-unit", .root_module = test_mod, .linkage = linkage });
    const install_unit = b.addInstallArtifact(unit, .{});

    const unit_step = b.step("unit", "Build the C unit test runner (zig-out/bin/llmsweep-unit)");
    unit_step.dependOn(&install_unit.step);

    const test_step = b.step("test", "Build and run the C unit tests");
    const run_unit = b.addRunArtifact(unit);
    run_unit.addPassthruArgs();
    run_unit.has_side_effects = true; // always run, never "cached pass"
    run_unit.setCwd(b.path("."));
    test_step.dependOn(&run_unit.step);
    test_step.dependOn(&install_unit.step);
}

const NamedFile = struct { name: []const u8, file: std.Build.LazyPath };

/// `zig build generated`: the generated C sources and sources.mk in
/// zig-out/generated. sources.mk says in make syntax what this build
/// compiles, with which macros and include folders, so that tools/fuzz and
/// tools/sanitize build the same sources with Debian's clang, whose
/// sanitizer and libFuzzer runtimes Zig does not ship.
fn installGenerated(b: *std.Build, deps: Deps, sources: []const []const u8, files: []const NamedFile) void {
    const step = b.step("generated", "Install the generated C sources and sources.mk into zig-out/generated (tools/fuzz, tools/sanitize)");
    for (files) |f| step.dependOn(&b.addInstallFileWithDir(f.file, .{ .custom = "generated" }, f.name).step);

    var mk: std.ArrayList(u8) = .empty;
    appendStr(b, &mk, "# Generated by build.zig (zig build generated); paths are relative to the build root.\n");
    var dep_includes: std.ArrayList(u8) = .empty;
    appendStr(b, &dep_includes, "-Isrc/deps");
    for (dep_include_dirs) |dir| appendStr(b, &dep_includes, b.fmt(" -I{s}/{s}", .{ deps.root, dir }));

    appendStr(b, &mk, "LIBRARIES :=");
    const libs = libraries(b, deps);
    for (libs) |lib| appendStr(b, &mk, b.fmt(" {s}", .{lib.name}));
    appendStr(b, &mk, b.fmt("\nTHIRD_PARTY_CFLAGS := {s}\n", .{joinWords(b, &third_party_cflags)}));
    for (libs) |lib| {
        appendStr(b, &mk, b.fmt("{s}_SRCS :=", .{lib.name}));
        for (lib.files) |f| appendStr(b, &mk, b.fmt(" {s}/{s}/{s}", .{ deps.root, lib.dir, f }));
        appendStr(b, &mk, b.fmt("\n{s}_CPPFLAGS := {s}", .{ lib.name, dep_includes.items }));
        for (lib.includes) |inc| appendStr(b, &mk, b.fmt(" -I{s}/{s}", .{ deps.root, inc }));
        appendStr(b, &mk, macroFlags(b, lib.macros));
        appendStr(b, &mk, "\n");
    }
    appendStr(b, &mk, b.fmt("PROJECT_CFLAGS := {s}\n", .{joinWords(b, &project_cflags)}));
    appendStr(b, &mk, b.fmt("PROJECT_CPPFLAGS := -Isrc {s}{s}\n", .{ dep_includes.items, macroFlags(b, projectMacros(b)) }));
    appendStr(b, &mk, "PROJECT_SRCS :=");
    for (sources) |f| appendStr(b, &mk, b.fmt(" src/{s}", .{f}));
    appendStr(b, &mk, "\nUNIT_SRCS :=");
    for (listCFiles(b, "tests/unit")) |f| appendStr(b, &mk, b.fmt(" tests/unit/{s}", .{f}));
    appendStr(b, &mk, "\nGENERATED_SRCS :=");
    for (files) |f| appendStr(b, &mk, b.fmt(" {s}", .{f.name}));
    appendStr(b, &mk, "\n");
    const wf = b.addWriteFiles();
    step.dependOn(&b.addInstallFileWithDir(wf.add("sources.mk", mk.items), .{ .custom = "generated" }, "sources.mk").step);
}

fn joinWords(b: *std.Build, words: []const []const u8) []const u8 {
    return std.mem.join(b.allocator, " ", words) catch @panic("OOM");
}

/// " -DNAME=VALUE" for each macro, single-quoted for the shell make runs
/// when the value holds double quotes (a string macro).
fn macroFlags(b: *std.Build, macros: []const [2][]const u8) []const u8 {
    var out: std.ArrayList(u8) = .empty;
    for (macros) |m| {
        const q: []const u8 = if (std.mem.indexOfScalar(u8, m[1], '"') != null) "'" else "";
        appendStr(b, &out, b.fmt(" {s}-D{s}={s}{s}", .{ q, m[0], m[1], q }));
    }
    return out.items;
}

/// The build root as an open directory (configure-time file access).
fn rootDir(b: *std.Build) std.Io.Dir {
    std.debug.assert(b.root.sub_path.len == 0);
    return b.root.root_dir.handle;
}

fn requireBootstrap(b: *std.Build, deps: Deps) void {
    const io = b.graph.io;
    const probe = b.pathJoin(&.{ deps.root, "curl", ".llmsweep-sha256" });
    rootDir(b).access(io, probe, .{}) catch {
        std.process.fatal(
            "third-party sources are missing ({s}); run tools/bootstrap first",
            .{probe},
        );
    };
}

fn projectModule(
    b: *std.Build,
    deps: Deps,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.Optimize,
    strip: bool,
    libs: []const *std.Build.Step.Compile,
) *std.Build.Module {
    const mod = b.createModule(.{
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .strip = strip,
    });
    mod.addIncludePath(b.path("src"));
    addDepIncludes(b, mod, deps);
    for (projectMacros(b)) |m| mod.addCMacro(m[0], m[1]);
    for (libs) |lib| mod.linkLibrary(lib);
    return mod;
}

fn projectMacros(b: *std.Build) []const [2][]const u8 {
    return b.allocator.dupe([2][]const u8, &.{
        .{ "LLMSWEEP_VERSION", b.fmt("\"{s}\"", .{llmsweep_version}) },
        .{ "CURL_STATICLIB", "1" },
        .{ "MBEDTLS_USER_CONFIG_FILE", "\"mbedtls_user_config.h\"" },
    }) catch @panic("OOM");
}

/// Include folders of every module, our own and third-party, under deps.root
/// (src/deps holds curl's and mbedTLS' configuration headers).
const dep_include_dirs = [_][]const u8{ "curl/include", "mbedtls/include", "cjson", "libyaml/include", "libcyaml/include" };

fn addDepIncludes(b: *std.Build, mod: *std.Build.Module, deps: Deps) void {
    mod.addIncludePath(b.path("src/deps"));
    for (dep_include_dirs) |dir| mod.addIncludePath(deps.path(b, dir));
}

fn thirdPartyModule(
    b: *std.Build,
    deps: Deps,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.Optimize,
    strip: bool,
) *std.Build.Module {
    const mod = b.createModule(.{
        .target = target,
        // Debug would add UBSan traps to upstream code; we test our code, not theirs.
        .optimize = if (optimize == .debug) .safe else optimize,
        .link_libc = true,
        .strip = strip,
        .sanitize_c = .off,
    });
    addDepIncludes(b, mod, deps);
    return mod;
}
/// The five libraries, in link order (curl before mbedTLS, libcyaml before
/// libyaml). File lists come from the pinned sources, never typed here.
fn libraries(b: *std.Build, deps: Deps) []const Library {
    const yaml_version = versionFromLock(b, "libyaml");
    const mbedtls_config = [2][]const u8{ "MBEDTLS_USER_CONFIG_FILE", "\"mbedtls_user_config.h\"" };
    const list = [_]Library{
        .{
            .name = "curl",
            .dir = "curl/lib",
            .files = curlSources(b, deps),
            .includes = &.{"curl/lib"},
            .macros = b.allocator.dupe([2][]const u8, &.{
                mbedtls_config,
                .{ "HAVE_CONFIG_H", "1" },
                .{ "_GNU_SOURCE", "1" }, // memrchr, accept4, pipe2 in musl
                .{ "BUILDING_LIBCURL", "1" },
                .{ "CURL_STATICLIB", "1" },
            }) catch @panic("OOM"),
        },
        .{
            .name = "mbedtls",
            .dir = "mbedtls/library",
            .files = listCFiles(b, b.pathJoin(&.{ deps.root, "mbedtls/library" })),
            .includes = &.{"mbedtls/library"},
            .macros = b.allocator.dupe([2][]const u8, &.{mbedtls_config}) catch @panic("OOM"),
        },
        .{ .name = "cjson", .dir = "cjson", .files = &.{"cJSON.c"}, .macros = &.{} },
        .{
            .name = "cyaml",
            .dir = "libcyaml/src",
            .files = listCFiles(b, b.pathJoin(&.{ deps.root, "libcyaml/src" })),
            .macros = versionMacros(b, "VERSION", versionFromLock(b, "libcyaml"), &.{
                .{ "VERSION_DEVEL", "0" },
                .{ "YAML_DECLARE_STATIC", "1" },
            }),
        },
        .{
            .name = "yaml",
            .dir = "libyaml/src",
            .files = listCFiles(b, b.pathJoin(&.{ deps.root, "libyaml/src" })),
            .macros = versionMacros(b, "YAML_VERSION", yaml_version, &.{
                .{ "YAML_VERSION_STRING", b.fmt("\"{s}\"", .{yaml_version}) },
                .{ "YAML_DECLARE_STATIC", "1" },
            }),
        },
    };
    return b.allocator.dupe(Library, &list) catch @panic("OOM");
}

fn buildLibraries(
    b: *std.Build,
    deps: Deps,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.Optimize,
    strip: bool,
) []const *std.Build.Step.Compile {
    var out: std.ArrayList(*std.Build.Step.Compile) = .empty;
    for (libraries(b, deps)) |lib| {
        const mod = thirdPartyModule(b, deps, target, optimize, strip);
        for (lib.includes) |inc| mod.addIncludePath(deps.path(b, inc));
        for (lib.macros) |m| mod.addCMacro(m[0], m[1]);
        mod.addCSourceFiles(.{ .root = deps.path(b, lib.dir), .files = lib.files, .flags = &third_party_cflags });
        out.append(b.allocator, b.addLibrary(.{ .name = lib.name, .root_module = mod })) catch @panic("OOM");
    }
    return out.items;
}

/// PREFIX_MAJOR, PREFIX_MINOR and PREFIX_PATCH from "X.Y.Z" (a missing part
/// is 0), as libyaml's and libcyaml's own builds define them, then `extra`.
fn versionMacros(b: *std.Build, prefix: []const u8, version: []const u8, extra: []const [2][]const u8) []const [2][]const u8 {
    var out: std.ArrayList([2][]const u8) = .empty;
    var parts = std.mem.splitScalar(u8, version, '.');
    for ([_][]const u8{ "MAJOR", "MINOR", "PATCH" }) |part| {
        out.append(b.allocator, .{ b.fmt("{s}_{s}", .{ prefix, part }), parts.next() orelse "0" }) catch @panic("OOM");
    }
    out.appendSlice(b.allocator, extra) catch @panic("OOM");
    return out.items;
}

/// The `*.c` files directly in `dir` (relative to the build root), sorted.
fn listCFiles(b: *std.Build, dir_path: []const u8) []const []const u8 {
    return listFiles(b, dir_path, ".c");
}

/// The files directly in `dir_path` whose names end in `suffix`, sorted.
fn listFiles(b: *std.Build, dir_path: []const u8, suffix: []const u8) []const []const u8 {
    const io = b.graph.io;
    b.dependOnDirectoryContents(b.path(dir_path));
    var dir = rootDir(b).openDir(io, dir_path, .{ .iterate = true }) catch |err|
        std.process.fatal("cannot open {s}: {t}", .{ dir_path, err });
    defer dir.close(io);
    var files: std.ArrayList([]const u8) = .empty;
    var it = dir.iterate();
    while (it.next(io) catch |err| std.process.fatal("cannot list {s}: {t}", .{ dir_path, err })) |entry| {
        if (entry.kind == .file and std.mem.endsWith(u8, entry.name, suffix))
            files.append(b.allocator, b.dupe(entry.name)) catch @panic("OOM");
    }
    std.mem.sort([]const u8, files.items, {}, lessThan);
    return files.items;
}

fn lessThan(_: void, a: []const u8, c: []const u8) bool {
    return std.mem.lessThan(u8, a, c);
}

fn withoutMain(b: *std.Build, files: []const []const u8) []const []const u8 {
    var out: std.ArrayList([]const u8) = .empty;
    for (files) |f| {
        if (!std.mem.eql(u8, f, "main.c")) out.append(b.allocator, f) catch @panic("OOM");
    }
    return out.items;
}

fn readBuildFile(b: *std.Build, sub_path: []const u8) []u8 {
    b.dependOnFileContents(b.path(sub_path));
    return rootDir(b).readFileAlloc(b.graph.io, sub_path, b.allocator, .limited(1 << 20)) catch |err|
        std.process.fatal("cannot read {s}: {t}", .{ sub_path, err });
}

/// libcurl's C files: the `*_CFILES` variables that make up CSOURCES in the
/// pinned tarball's lib/Makefile.inc (backslash-continued lists).
fn curlSources(b: *std.Build, deps: Deps) []const []const u8 {
    const text = readBuildFile(b, b.pathJoin(&.{ deps.root, "curl/lib/Makefile.inc" }));
    var files: std.ArrayList([]const u8) = .empty;
    var in_cfiles = false;
    var lines = std.mem.splitScalar(u8, text, '\n');
    while (lines.next()) |raw| {
        const line = std.mem.trim(u8, raw, " \t\r");
        if (!in_cfiles) {
            const eq = std.mem.indexOf(u8, line, "=") orelse continue;
            const name = std.mem.trim(u8, line[0..eq], " \t");
            if (!std.mem.endsWith(u8, name, "_CFILES")) continue;
            in_cfiles = true;
            addWords(b, &files, line[eq + 1 ..]);
        } else {
            addWords(b, &files, line);
        }
        if (!std.mem.endsWith(u8, line, "\\")) in_cfiles = false;
    }
    if (files.items.len < 50) std.process.fatal("found only {d} C files in curl's lib/Makefile.inc", .{files.items.len});
    return files.items;
}

fn addWords(b: *std.Build, files: *std.ArrayList([]const u8), text: []const u8) void {
    var words = std.mem.tokenizeAny(u8, text, " \t\\");
    while (words.next()) |w| {
        if (std.mem.endsWith(u8, w, ".c")) files.append(b.allocator, b.dupe(w)) catch @panic("OOM");
    }
}

/// The version column of NAME's line in tools/deps.lock.
fn versionFromLock(b: *std.Build, name: []const u8) []const u8 {
    const text = readBuildFile(b, "tools/deps.lock");
    var lines = std.mem.splitScalar(u8, text, '\n');
    while (lines.next()) |line| {
        var cols = std.mem.tokenizeAny(u8, line, " \t");
        const first = cols.next() orelse continue;
        if (first[0] == '#' or !std.mem.eql(u8, first, name)) continue;
        _ = cols.next(); // Debian source package
        return cols.next() orelse break;
    }
    std.process.fatal("tools/deps.lock has no version for {s}", .{name});
}

/// build_info.c: the version and the git revision of this checkout. The
/// revision is read at configure time, so a new commit re-runs configure.
fn generateBuildInfo(b: *std.Build) std.Build.LazyPath {
    const io = b.graph.io;
    var revision: []const u8 = "unknown";
    if (std.process.run(b.allocator, io, .{
        .argv = &.{ "git", "describe", "--always", "--dirty", "--abbrev=12", "--exclude=*" },
        .cwd = .{ .dir = rootDir(b) },
    })) |result| {
        const out = std.mem.trim(u8, result.stdout, " \n\r\t");
        if (result.term == .exited and result.term.exited == 0 and out.len > 0) revision = out;
    } else |_| {}
    b.graph.poisonCache();
    const wf = b.addWriteFiles();
    return wf.add("build_info.c", b.fmt(
        \\/* Generated by build.zig. */
        \\#include "version.h"
        \\const char llmsweep_git_revision[] = "{s}";
        \\
    , .{revision}));
}

/// embedded_specs.c: every specs/*.yaml compiled in as bytes (see
/// src/embedded.h). specs/instance-prices.yaml is the price table; every
/// other file is a run spec named after the file.
fn generateEmbeddedSpecs(b: *std.Build) std.Build.LazyPath {
    const price_table = "instance-prices.yaml";
    var code: std.ArrayList(u8) = .empty;
    const w = &code;
    appendStr(b, w, "/* Generated by build.zig from the YAML files in specs/. */\n#include \"embedded.h\"\n\n");
    var have_prices = false;
    appendStr(b, w, "const struct embedded_file embedded_specs[] = {\n");
    const files = listFiles(b, "specs", ".yaml");
    for (files) |name| {
        if (std.mem.eql(u8, name, price_table)) {
            have_prices = true;
            continue;
        }
        const text = readBuildFile(b, b.pathJoin(&.{ "specs", name }));
        appendStr(b, w, b.fmt("    {{\"{s}\", ", .{name[0 .. name.len - ".yaml".len]}));
        appendCString(b, w, text);
        appendStr(b, w, b.fmt(", {d}}},\n", .{text.len}));
    }
    appendStr(b, w, "    {0, 0, 0},\n};\n\n");
    appendStr(b, w, "const struct embedded_file embedded_price_table = {\"" ++ price_table ++ "\", ");
    if (have_prices) {
        const text = readBuildFile(b, "specs/" ++ price_table);
        appendCString(b, w, text);
        appendStr(b, w, b.fmt(", {d}}};\n", .{text.len}));
    } else {
        appendStr(b, w, "\"\", 0};\n");
    }
    const wf = b.addWriteFiles();
    return wf.add("embedded_specs.c", code.items);
}

fn appendStr(b: *std.Build, list: *std.ArrayList(u8), text: []const u8) void {
    list.appendSlice(b.allocator, text) catch @panic("OOM");
}

/// Appends `text` as a C string literal, one source line per text line.
fn appendCString(b: *std.Build, list: *std.ArrayList(u8), text: []const u8) void {
    appendStr(b, list, "\n        \"");
    for (text, 0..) |c, i| {
        switch (c) {
            '\\' => appendStr(b, list, "\\\\"),
            '"' => appendStr(b, list, "\\\""),
            '\n' => appendStr(b, list, if (i + 1 < text.len) "\\n\"\n        \"" else "\\n"),
            '\t' => appendStr(b, list, "\\t"),
            '?' => appendStr(b, list, "\\?"), // no trigraphs
            else => if (c < 0x20 or c >= 0x7f)
                appendStr(b, list, b.fmt("\\{o:0>3}", .{c}))
            else
                list.append(b.allocator, c) catch @panic("OOM"),
        }
    }
    appendStr(b, list, "\"");
}

/// unicode_tables.c: the tables behind src/unicode.h, generated from the
/// Unicode Character Database (.deps/src/unicode-data/UCD.zip, pinned in
/// tools/deps.lock) by tools/gen/unicode_tables.c, a program built for and
/// run on the build host. The UCD text files are taken out of the zip here,
/// at configure time; the generator runs only when they or it change.
fn generateUnicodeTables(b: *std.Build, deps: Deps) std.Build.LazyPath {
    const io = b.graph.io;
    const inputs = [_][]const u8{
        "UnicodeData.txt",
        "PropList.txt",
        "DerivedCoreProperties.txt",
        "CompositionExclusions.txt",
        "CaseFolding.txt",
    };
    const zip_path = b.pathJoin(&.{ deps.root, "unicode-data", "UCD.zip" });
    b.dependOnFileContents(b.path(zip_path));
    var file = rootDir(b).openFile(io, zip_path, .{}) catch |err|
        std.process.fatal("cannot open {s}: {t} (run tools/bootstrap)", .{ zip_path, err });
    defer file.close(io);
    var read_buf: [4096]u8 = undefined;
    var reader = file.reader(io, &read_buf);
    var entries = std.zip.Iterator.init(&reader) catch |err|
        std.process.fatal("{s} is not a zip file: {t}", .{ zip_path, err });
    const ucd = b.addWriteFiles();
    var found: [inputs.len]?std.Build.LazyPath = @splat(null);
    var name_buf: [256]u8 = undefined;
    while (entries.next() catch |err| std.process.fatal("cannot read {s}: {t}", .{ zip_path, err })) |entry| {
        const name = entry.getFilename(&reader, &name_buf, .{}) catch continue;
        for (inputs, 0..) |want, i| {
            if (!std.mem.eql(u8, name, want)) continue;
            var text: std.Io.Writer.Allocating = .init(b.allocator);
            entry.extractTo(&reader, &text.writer) catch |err|
                std.process.fatal("cannot extract {s} from {s}: {t}", .{ want, zip_path, err });
            found[i] = ucd.add(want, text.written());
        }
    }

    const gen_mod = b.createModule(.{ .target = b.graph.host, .optimize = .ReleaseFast, .link_libc = true });
    gen_mod.addCSourceFiles(.{ .root = b.path("tools/gen"), .files = &.{"unicode_tables.c"}, .flags = &project_cflags });
    const gen = b.addExecutable(.{ .name = "unicode_tables", .root_module = gen_mod });
    const run = b.addRunArtifact(gen);
    for (inputs, found) |want, path| {
        run.addFileArg(path orelse std.process.fatal("{s} has no {s}", .{ zip_path, want }));
    }
    return run.addOutputFileArg("unicode_tables.c");
}
