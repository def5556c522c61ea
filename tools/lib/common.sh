# Shared by the tools/ scripts (POSIX sh; sourced, not run).
#
# Where things live:
#   $LLMSWEEP_CACHE   downloads that survive a fresh clone (tarballs, apt index,
#                     peer venvs); default $HOME/.cache/llmsweep (as tools/peers)
#   $ROOT/.deps       per-checkout state: the Zig venv and extracted sources
#                     (ignored by git)

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${LLMSWEEP_CACHE:-$HOME/.cache/llmsweep}
DEPS="$ROOT/.deps"
LOCK="$ROOT/tools/deps.lock"
ZIG_VERSION=0.17.0
DEBIAN_SOURCE_SUITE=trixie

say() { printf '%s: %s\n' "${PROG:-llmsweep}" "$*" >&2; }
die() { say "error: $*"; exit 1; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Prints the lock entries as "name package version file sha256" lines.
lock_entries() { grep -v '^[[:space:]]*#' "$LOCK" | grep -v '^[[:space:]]*$'; }

# A private apt configuration (own lists, own cache) with one deb-src entry
# for $DEBIAN_SOURCE_SUITE whose URI and key come from the machine's own
# Debian sources file, so no host name is written anywhere in the repo and
# the system's apt state is never touched.
APT_DIR="$CACHE/apt"

debian_archive_uri() {
  codename=$(. /etc/os-release 2>/dev/null && printf '%s' "${VERSION_CODENAME:-}")
  # deb822 files first: the stanza whose Suites list the machine's codename.
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk -v want="$codename" '
      function flush() {
        if (uri != "" && types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " "))
          { print uri; found = 1; exit }
        uri = ""; types = ""; suites = ""
      }
      /^[[:space:]]*$/ { flush(); next }
      /^Types:/  { sub(/^Types:[[:space:]]*/, ""); types = $0 }
      /^URIs:/   { sub(/^URIs:[[:space:]]*/, ""); split($0, u, /[[:space:]]+/); uri = u[1] }
      /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
      END { if (!found) flush() }' "$f" | head -n 1 | grep . && return 0
  done
  # One-line style: "deb [options] URI SUITE COMPONENTS".
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    awk -v want="$codename" '
      $1 == "deb" {
        i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == want) { print $i; exit }
      }' "$f" | head -n 1 | grep . && return 0
  done
  return 1
}

apt_prepare() {
  [ -n "${APT_READY:-}" ] && return 0
  command -v apt-get >/dev/null 2>&1 ||
    die "apt-get is not available; put the tarballs named in tools/deps.lock into $CACHE/sources/ by hand"
  uri=$(debian_archive_uri) ||
    die "cannot find the Debian archive in /etc/apt/sources.list{,.d}; put the tarballs named in tools/deps.lock into $CACHE/sources/ by hand"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -r "$keyring" ] || die "missing $keyring (Debian package debian-archive-keyring)"
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/etc"
  cat >"$APT_DIR/etc/sources.list" <<EOF
deb-src [signed-by=$keyring] $uri $DEBIAN_SOURCE_SUITE main
EOF
  set -- -o "Dir::Etc::SourceList=$APT_DIR/etc/sources.list" \
    -o Dir::Etc::SourceParts=/dev/null \
    -o "Dir::State::Lists=$APT_DIR/lists" \
    -o "Dir::Cache=$APT_DIR/cache" \
    -o Debug::NoLocking=true
  [ "$(id -u)" = 0 ] && set -- "$@" -o APT::Sandbox::User=root
  APT_OPTS=$*
  say "updating the $DEBIAN_SOURCE_SUITE source index (private apt state in $APT_DIR)"
  # shellcheck disable=SC2086 # APT_OPTS holds only our own -o words, no user input
  apt-get $APT_OPTS -qq update >"$APT_DIR/update.log" 2>&1 ||
    die "${APT_WHY:+cannot download $APT_WHY: }apt-get update of the $DEBIAN_SOURCE_SUITE source index failed (no network?); see $APT_DIR/update.log"
  APT_READY=1
}

# apt_source_download PACKAGE DIR: downloads the upstream tarball(s) of the
# source package PACKAGE from $DEBIAN_SOURCE_SUITE into DIR. Failures name
# $APT_WHY (the file wanted) when it is set.
apt_source_download() {
  apt_prepare
  (cd "$2" &&
    # shellcheck disable=SC2086
    apt-get $APT_OPTS -qq source --download-only --tar-only "$1/$DEBIAN_SOURCE_SUITE" \
      >"$APT_DIR/source-$1.log" 2>&1) ||
    die "${APT_WHY:+cannot download $APT_WHY: }apt-get source $1/$DEBIAN_SOURCE_SUITE failed; see $APT_DIR/source-$1.log"
}
