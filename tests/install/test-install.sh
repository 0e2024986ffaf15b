#!/usr/bin/env bash
# install layout: 'meson install --destdir' of this build directory installs exactly
# the binary, the man page and the bash, zsh and fish completions, each where the
# build's prefix, bindir, mandir and datadir say; the installed binary runs and the
# installed man page renders. A second, configure-only build directory with
# --prefix=/opt/portwrap-test shows that every path follows --prefix.
#
# usage: test-install.sh BUILD_ROOT SOURCE_ROOT
set -uo pipefail
export LC_ALL=C.UTF-8

build=${1:?usage: test-install.sh BUILD_ROOT SOURCE_ROOT}
source_root=${2:?usage: test-install.sh BUILD_ROOT SOURCE_ROOT}
PY=/usr/bin/python3
failures=0
fail() { echo "install: FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "install: ok: $*"; }

tmp=$(mktemp -d /tmp/portwrap-install.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

# option NAME BUILDDIR: the value of a meson built-in option of that build directory.
option() {
    meson introspect --buildoptions "$2" |
        "$PY" -c 'import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
# expected_files PREFIX BINDIR MANDIR DATADIR: the installed files, one absolute path a line.
expected_files() {
    local prefix=$1 bindir=$2 mandir=$3 datadir=$4
    abs() { if [[ $1 == /* ]]; then echo "$1"; else echo "$prefix/$1"; fi; }
    printf '%s\n' \
        "$(abs "$bindir")/portwrap" \
        "$(abs "$mandir")/man1/portwrap.1" \
        "$(abs "$datadir")/bash-completion/completions/portwrap" \
        "$(abs "$datadir")/zsh/site-functions/_portwrap" \
        "$(abs "$datadir")/fish/vendor_completions.d/portwrap.fish" | sort
}

# ---- 1. install this build directory into a DESTDIR
prefix=$(option prefix "$build") bindir=$(option bindir "$build")
mandir=$(option mandir "$build") datadir=$(option datadir "$build")
echo "install: $build: prefix=$prefix bindir=$bindir mandir=$mandir datadir=$datadir"
if timeout 120 meson install -C "$build" --destdir "$dest" --no-rebuild >"$tmp/install.log" 2>&1 </dev/null; then
    pass "meson install -C $build --destdir $dest"
else
    fail "meson install failed:"
    sed 's/^/    | /' "$tmp/install.log" | tail -n 30
fi

expected_files "$prefix" "$bindir" "$mandir" "$datadir" >"$tmp/expected"
(cd "$dest" && find . \( -type f -o -type l \) | sed 's/^\.//' | sort) >"$tmp/installed"
if diff -u "$tmp/expected" "$tmp/installed" >"$tmp/tree.diff"; then
    pass "installed exactly: $(tr '\n' ' ' <"$tmp/installed")"
else
    fail "installed tree differs from the expected one (- expected, + installed):"
    sed 's/^/    | /' "$tmp/tree.diff"
fi

# under DIR: DIR (an option's value) as an absolute path inside the DESTDIR.
under() { if [[ $1 == /* ]]; then echo "$dest$1"; else echo "$dest$prefix/$1"; fi; }

bin=$(under "$bindir")/portwrap
if [[ -f $bin && -x $bin ]]; then
    mode=$(stat -c %a "$bin")
    [[ $mode == 755 ]] && pass "binary mode $mode" || fail "binary mode is $mode, expected 755"
    [[ -u $bin || -g $bin ]] && fail "the installed binary is setuid or setgid"
    [[ -z $(getcap "$bin" 2>/dev/null) ]] || fail "the installed binary has file capabilities"
    if [[ $("$bin" --version) == "$("$build/src/portwrap" --version)" ]]; then
        pass "installed binary runs: $("$bin" --version)"
    else
        fail "installed binary's --version differs from the build's"
    fi
else
    fail "no executable $bin"
fi

man_page=$(under "$mandir")/man1/portwrap.1
if [[ -f $man_page ]]; then
    if MANWIDTH=80 timeout 60 man -l "$man_page" 2>"$tmp/man.err" </dev/null | grep -q '^NAME$' && [[ ! -s $tmp/man.err ]]; then
        pass "installed man page renders"
    else
        fail "installed man page does not render cleanly: $(head -n 3 "$tmp/man.err")"
    fi
    [[ $(stat -c %a "$man_page") == 644 ]] || fail "man page mode is $(stat -c %a "$man_page"), expected 644"
fi

data=$(under "$datadir")
for pair in bash-completion/completions/portwrap:portwrap.bash zsh/site-functions/_portwrap:_portwrap \
    fish/vendor_completions.d/portwrap.fish:portwrap.fish; do
    installed=$data/${pair%%:*} source=$source_root/completions/${pair#*:}
    if cmp -s "$installed" "$source"; then
        pass "${pair%%:*} is completions/${pair#*:}"
    else
        fail "${pair%%:*} is missing or differs from completions/${pair#*:}"
    fi
done

# ---- 2. every path follows --prefix (configure only: the install plan meson writes)
if timeout 120 meson setup "$tmp/prefixed" "$source_root" --prefix=/opt/portwrap-test -Dtests=false \
    --wrap-mode=nodownload >"$tmp/setup.log" 2>&1 </dev/null; then
    meson introspect --installed "$tmp/prefixed" |
        "$PY" -c 'import json, sys
for path in sorted(json.load(sys.stdin).values()):
    print(path)' >"$tmp/planned"
    expected_files /opt/portwrap-test bin share/man share >"$tmp/expected-prefixed"
    if diff -u "$tmp/expected-prefixed" "$tmp/planned" >"$tmp/plan.diff"; then
        pass "with --prefix=/opt/portwrap-test: $(tr '\n' ' ' <"$tmp/planned")"
    else
        fail "with --prefix=/opt/portwrap-test the install plan differs (- expected, + planned):"
        sed 's/^/    | /' "$tmp/plan.diff"
    fi
else
    fail "meson setup --prefix=/opt/portwrap-test failed:"
    sed 's/^/    | /' "$tmp/setup.log" | tail -n 20
fi

if ((failures)); then
    echo "install: $failures failure(s)"
    exit 1
fi
echo "install: all checks passed"
