#!/usr/bin/env bash
# Run by 'meson dist' (meson.add_dist_script) on the tree it is about to pack: stops
# the release unless CHANGELOG.md has a dated section for the version being packed,
# "## [X.Y.Z] - YYYY-MM-DD" (Keep a Changelog style, see docs/install.md).
# usage: dist-check-changelog.sh VERSION      (MESON_DIST_ROOT set by meson)
set -euo pipefail
version=${1:?usage: dist-check-changelog.sh VERSION}
root=${MESON_DIST_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
changelog=$root/CHANGELOG.md
if [[ ! -f $changelog ]]; then
    echo "dist-check-changelog: $changelog is missing" >&2
    exit 1
fi
if ! grep -qE "^## \[${version//./\\.}\] - [0-9]{4}-[0-9]{2}-[0-9]{2}\$" "$changelog"; then
    echo "dist-check-changelog: CHANGELOG.md has no section '## [$version] - YYYY-MM-DD'" >&2
    echo "dist-check-changelog: add one before releasing $version (docs/install.md, 'Making a release')" >&2
    exit 1
fi
echo "dist-check-changelog: CHANGELOG.md has a section for $version"
