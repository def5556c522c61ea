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

const Libs = struct {
    mbedtls: *std.Build.Step.Compile,
    curl: *std.Build.Step.Compile,
    cjson: *std.Build.Step.Compile,
    yaml: *std.Build.Step.Compile,
    cyaml: *std.Build.Step.Compile,
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
    installGeneratedForFuzz(b, embedded, unicode_tables);

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

/// `zig build generated`: the generated sources in zig-out/generated, for
/// tools/fuzz, which compiles them with Debian's clang (it has libFuzzer).
fn installGeneratedForFuzz(b: *std.Build, embedded: std.Build.LazyPath, unicode_tables: std.Build.LazyPath) void {
    const step = b.step("generated", "Install the generated C sources into zig-out/generated (tools/fuzz uses them)");
    step.dependOn(&b.addInstallFileWithDir(embedded, .{ .custom = "generated" }, "embedded_specs.c").step);
    step.dependOn(&b.addInstallFileWithDir(unicode_tables, .{ .custom = "generated" }, "unicode_tables.c").step);
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
    libs: Libs,
) *std.Build.Module {
    const mod = b.createModule(.{
        .target = target,
        .optimize = optimize,
        .link_libc = true,
        .strip = strip,
    });
    mod.addIncludePath(b.path("src"));
    addDepIncludes(b, mod, deps);
    mod.addCMacro("LLMSWEEP_VERSION", b.fmt("\"{s}\"", .{llmsweep_version}));
    mod.addCMacro("CURL_STATICLIB", "1");
    mod.addCMacro("MBEDTLS_USER_CONFIG_FILE", "\"mbedtls_user_config.h\"");
    mod.linkLibrary(libs.curl);
    mod.linkLibrary(libs.mbedtls);
    mod.linkLibrary(libs.cjson);
    mod.linkLibrary(libs.cyaml);
    mod.linkLibrary(libs.yaml);
    return mod;
}

fn addDepIncludes(b: *std.Build, mod: *std.Build.Module, deps: Deps) void {
    mod.addIncludePath(b.path("src/deps"));
    mod.addIncludePath(deps.path(b, "curl/include"));
    mod.addIncludePath(deps.path(b, "mbedtls/include"));
    mod.addIncludePath(deps.path(b, "cjson"));
    mod.addIncludePath(deps.path(b, "libyaml/include"));
    mod.addIncludePath(deps.path(b, "libcyaml/include"));
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
    mod.addCMacro("MBEDTLS_USER_CONFIG_FILE", "\"mbedtls_user_config.h\"");
    return mod;
}

fn buildLibraries(
    b: *std.Build,
    deps: Deps,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.Optimize,
    strip: bool,
) Libs {
    const mbedtls_mod = thirdPartyModule(b, deps, target, optimize, strip);
    mbedtls_mod.addIncludePath(deps.path(b, "mbedtls/library"));
    addEveryCFile(b, mbedtls_mod, deps, "mbedtls/library");
    const mbedtls = b.addLibrary(.{ .name = "mbedtls", .root_module = mbedtls_mod });

    const curl_mod = thirdPartyModule(b, deps, target, optimize, strip);
    curl_mod.addIncludePath(deps.path(b, "curl/lib"));
    curl_mod.addCMacro("HAVE_CONFIG_H", "1");
    curl_mod.addCMacro("_GNU_SOURCE", "1"); // memrchr, accept4, pipe2 in musl
    curl_mod.addCMacro("BUILDING_LIBCURL", "1");
    curl_mod.addCMacro("CURL_STATICLIB", "1");
    curl_mod.addCSourceFiles(.{
        .root = deps.path(b, "curl/lib"),
        .files = curlSources(b, deps),
        .flags = &third_party_cflags,
    });
    const curl = b.addLibrary(.{ .name = "curl", .root_module = curl_mod });

    const cjson_mod = thirdPartyModule(b, deps, target, optimize, strip);
    cjson_mod.addCSourceFiles(.{ .root = deps.path(b, "cjson"), .files = &.{"cJSON.c"}, .flags = &third_party_cflags });
    const cjson = b.addLibrary(.{ .name = "cjson", .root_module = cjson_mod });

    const yaml_mod = thirdPartyModule(b, deps, target, optimize, strip);
    const yaml_version = versionFromLock(b, "libyaml");
    addVersionMacros(b, yaml_mod, "YAML_VERSION", yaml_version);
    yaml_mod.addCMacro("YAML_VERSION_STRING", b.fmt("\"{s}\"", .{yaml_version}));
    yaml_mod.addCMacro("YAML_DECLARE_STATIC", "1");
    addEveryCFile(b, yaml_mod, deps, "libyaml/src");
    const yaml = b.addLibrary(.{ .name = "yaml", .root_module = yaml_mod });

    const cyaml_mod = thirdPartyModule(b, deps, target, optimize, strip);
    addVersionMacros(b, cyaml_mod, "VERSION", versionFromLock(b, "libcyaml"));
    cyaml_mod.addCMacro("VERSION_DEVEL", "0");
    cyaml_mod.addCMacro("YAML_DECLARE_STATIC", "1");
    addEveryCFile(b, cyaml_mod, deps, "libcyaml/src");
    const cyaml = b.addLibrary(.{ .name = "cyaml", .root_module = cyaml_mod });

    return .{ .mbedtls = mbedtls, .curl = curl, .cjson = cjson, .yaml = yaml, .cyaml = cyaml };
}

/// Every C file directly in the third-party folder `sub` (e.g. "libyaml/src").
fn addEveryCFile(b: *std.Build, mod: *std.Build.Module, deps: Deps, sub: []const u8) void {
    mod.addCSourceFiles(.{
        .root = deps.path(b, sub),
        .files = listCFiles(b, b.pathJoin(&.{ deps.root, sub })),
        .flags = &third_party_cflags,
    });
}

/// PREFIX_MAJOR, PREFIX_MINOR and PREFIX_PATCH from "X.Y.Z" (a missing part
/// is 0), as libyaml's and libcyaml's own builds define them.
fn addVersionMacros(b: *std.Build, mod: *std.Build.Module, prefix: []const u8, version: []const u8) void {
    var parts = std.mem.splitScalar(u8, version, '.');
    for ([_][]const u8{ "MAJOR", "MINOR", "PATCH" }) |part| {
        mod.addCMacro(b.fmt("{s}_{s}", .{ prefix, part }), parts.next() orelse "0");
    }
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
