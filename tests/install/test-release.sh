#!/usr/bin/env bash
# release script: scripts/release.sh --dry-run, in a fresh clone of the source tree,
# passes on a clean tree whose version has a dated CHANGELOG.md section and names the
# files it would write; it refuses uncommitted changes, and a version the changelog
# has no section for. (The real run builds the static binary: docs/install.md.)
#
# usage: test-release.sh SOURCE_ROOT
set -uo pipefail
source_root=${1:?usage: test-release.sh SOURCE_ROOT}
if ! git -C "$source_root" rev-parse --git-dir >/dev/null 2>&1; then
    echo "release: SKIP: $source_root is not a git checkout (an unpacked tarball)"
    exit 77
fi
failures=0
fail() { echo "release: FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "release: ok: $*"; }
tmp=$(mktemp -d /tmp/portwrap-release.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
git clone --quiet "$source_root" "$tmp/src" || exit 1
cd "$tmp/src" || exit 1
commit() { git -c user.name=portwrap-test -c user.email=test@portwrap.invalid commit --quiet -am "$1"; }
version=$(sed -nE "s/^ *version: *'([0-9.]+)',.*/\1/p" meson.build | head -n 1)

# run_release NAME EXPECTED_STATUS PATTERN
run_release() {
    bash scripts/release.sh --dry-run >"$tmp/out" 2>&1
    local status=$?
    if [[ $status != "$2" ]]; then
        fail "$1: exit status $status, expected $2"; sed 's/^/    | /' "$tmp/out"
    elif ! grep -qF -- "$3" "$tmp/out"; then
        fail "$1: no '$3' in the output"; sed 's/^/    | /' "$tmp/out"
    else
        pass "$1: $(grep -F -- "$3" "$tmp/out" | head -n 1)"
    fi
}

if ! grep -qE "^## \[${version//./\\.}\] - " CHANGELOG.md; then
    # Between releases the version may be ahead of the changelog: give it its section.
    sed -i "s/^## \[Unreleased\]/## [Unreleased]\n\n## [$version] - 2000-01-01/" CHANGELOG.md
    commit "test: a dated section for $version"
fi
run_release "a clean tree at $version" 0 "would write dist/portwrap-$version.tar.xz, dist/portwrap-$version-$(uname -m), dist/SHA256SUMS"
check_clean=$(git status --porcelain)
[[ -z $check_clean ]] && pass "--dry-run wrote nothing" || fail "--dry-run changed the tree: $check_clean"
[[ ! -e dist ]] && pass "--dry-run made no dist/" || fail "--dry-run made dist/"

echo "# changed" >>README.md
run_release "an uncommitted change" 1 "uncommitted changes"
git checkout --quiet README.md

sed -i "s/^\( *version: *'\)[0-9.]*'/\19.9.9'/" meson.build
commit "test: version 9.9.9"
run_release "version 9.9.9 without a CHANGELOG section" 1 "has no section '## [9.9.9] - YYYY-MM-DD'"

if ((failures)); then
    echo "release: $failures failure(s)"
    exit 1
fi
echo "release: all checks passed"
