# Debian's clang with a sanitizer or libFuzzer runtime, for tools/fuzz and
# tools/sanitize (sourced after common.sh). Zig's clang ships neither.
#
#   use_clang RUNTIME    sets CC to a clang that has libclang_rt.RUNTIME
#                        (asan, fuzzer), installing clang and libclang-rt-N-dev
#                        with apt-get when missing (CI runs as root)

find_clang_with() {
  arch=$(uname -m)
  for c in clang clang-19 clang-18 clang-16 clang-15 clang-14; do
    command -v "$c" >/dev/null 2>&1 || continue
    lib=$("$c" -print-file-name="libclang_rt.$1-$arch.a" 2>/dev/null || true)
    [ -f "$lib" ] || lib=$("$c" --print-runtime-dir 2>/dev/null)/libclang_rt.$1.a
    if [ -f "$lib" ]; then
      CC=$c
      return 0
    fi
  done
  return 1
}

install_clang() {
  [ "$(id -u)" = 0 ] || die "clang with the $1 runtime is missing: install the Debian packages clang and libclang-rt-N-dev (N = clang's major version)"
  command -v apt-get >/dev/null 2>&1 || die "clang with the $1 runtime is missing and apt-get is not available"
  say "installing clang and its runtimes from Debian"
  mkdir -p "$CACHE"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq clang >"$CACHE/apt-clang.log" 2>&1; then
    apt-get update -qq >>"$CACHE/apt-clang.log" 2>&1 || die "apt-get update failed; see $CACHE/apt-clang.log"
    apt-get install -y -qq clang >>"$CACHE/apt-clang.log" 2>&1 || die "apt-get install clang failed; see $CACHE/apt-clang.log"
  fi
  major=$(clang -dumpversion | cut -d. -f1)
  # bookworm's clang 14 keeps its runtimes in libclang-common-14-dev (a
  # dependency of clang); newer releases split them into libclang-rt-N-dev.
  find_clang_with "$1" && return 0
  apt-get install -y -qq "libclang-rt-$major-dev" >>"$CACHE/apt-clang.log" 2>&1 ||
    die "apt-get install libclang-rt-$major-dev failed; see $CACHE/apt-clang.log"
}

use_clang() {
  find_clang_with "$1" || { install_clang "$1"; find_clang_with "$1"; } ||
    die "no clang here has the $1 runtime (Debian: libclang-rt-N-dev)"
}
