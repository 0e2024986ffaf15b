#!/usr/bin/env bash
# Makes a release a site can install, in one step, into dist/ (ignored by git):
#   dist/portwrap-VERSION.tar.xz        the source tarball ('meson dist': what git holds)
#   dist/portwrap-VERSION-ARCH          the static binary (scripts/build-static.sh), stripped
#   dist/SHA256SUMS                     sha256 of both, for 'sha256sum --check'
#   dist/VERSION                        the version, as in meson.build
# It refuses a tree with uncommitted changes (the tarball would not hold them, the
# binary would) and a version without a dated CHANGELOG.md section. Run it as root
# on a Debian 12 machine after scripts/install-deps.sh; see docs/install.md.
#
# usage: scripts/release.sh [--dry-run]
#   --dry-run   only the checks, and the list of files it would write
set -euo pipefail
cd "$(dirname "$0")/.."

dry_run=0
case ${1-} in
'') ;;
--dry-run) dry_run=1 ;;
*) echo "usage: scripts/release.sh [--dry-run]" >&2; exit 2 ;;
esac
say() { echo "release: $*"; }
die() { echo "release: $*" >&2; exit 1; }

version=$(sed -nE "s/^ *version: *'([0-9]+\.[0-9]+\.[0-9]+)',.*/\1/p" meson.build | head -n 1)
[[ -n $version ]] || die "cannot find version: 'X.Y.Z' in meson.build"
arch=$(uname -m)
tarball=portwrap-$version.tar.xz
binary=portwrap-$version-$arch
say "portwrap $version for $arch"

git rev-parse --git-dir >/dev/null 2>&1 || die "not a git checkout: 'meson dist' packs a git tree"
if [[ -n $(git status --porcelain --untracked-files=no) ]]; then
    git status --short --untracked-files=no >&2
    die "uncommitted changes (above): commit or stash them; the tarball holds only what is committed"
fi
bash scripts/dist-check-changelog.sh "$version" || die "no release without a dated CHANGELOG.md section"

if ((dry_run)); then
    say "checks passed; would write dist/$tarball, dist/$binary, dist/SHA256SUMS and dist/VERSION"
    exit 0
fi

# The tarball, from a build directory of its own (meson dist needs a configured one).
if [[ -f build-release/build.ninja ]]; then
    meson setup --reconfigure build-release --wrap-mode=nodownload -Dtests=false >/dev/null
else
    meson setup build-release --wrap-mode=nodownload -Dtests=false >/dev/null
fi
rm -f "build-release/meson-dist/$tarball"
meson dist -C build-release --no-tests --formats xztar
mkdir -p dist
cp "build-release/meson-dist/$tarball" "dist/$tarball"

# The static binary.
bash scripts/build-static.sh
cp dist/portwrap "dist/$binary"
got=$("dist/$binary" --version | head -n 1)
[[ $got == *" $version"* ]] || die "dist/$binary --version says '$got', not $version: rebuild build-static"

(cd dist && sha256sum "$tarball" "$binary" >SHA256SUMS && echo "$version" >VERSION)
say "done:"
(cd dist && ls -l "$tarball" "$binary" SHA256SUMS VERSION && cat SHA256SUMS)
